#!/usr/bin/env bash
# requests_rgw.sh - the round trips a new small file costs (Ceph RGW
# behind tests/tools/faultproxy.py, which writes down every request it
# forwards): create + write + close of a new file in a directory just
# listed sends at most a LIST for the name and one PUT, whether the file
# is made by one descriptor (O_CREAT|O_EXCL) or by bash's `>` (which
# closes a duplicate of the descriptor before writing); nothing HEADs an
# object it has just PUT; O_EXCL still fails on a name that exists, ours
# or another client's. Only the requests that name the new files are
# counted, so revalidations of the directory itself (which depend on how
# long the loop takes) cannot move the counts.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

N=10
store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-requests-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
bfs_faultproxy_start r "$bucket" --requests "$W/requests" || t_abort "the fault proxy starts"

# timeouts far longer than the test: a request slowed by the machine's
# load is waited for, never abandoned and sent again (which would count
# twice)
bfs_mount -o request_timeout=3600,op_timeout=3600 r ||
	t_abort "mount through the proxy"
B=$BFS_B
# another client: a mount of the same bucket straight to RGW, with its
# own cache and no negative caching
mkdir -p "$W/cache2" "$W/mnt2"
cat >"$W/direct.conf" <<CONF
[bucketfs]
builtin_dir = $W/builtin
cache_dir = $W/cache2

[bucket direct]
provider = custom
endpoint = $STORE_URL
bucket = $bucket
CONF
BFS_CONF=$W/direct.conf BFS_MNT=$W/mnt2 bfs_mount -o neg_ttl=0 direct ||
	t_abort "mount of the other client"
C=$BFS_B
mkdir "$B/d" || t_abort "mkdir"
ls "$B/d" >/dev/null || t_abort "ls"

# count PATTERN: requests whose line matches PATTERN (an ERE)
count()
{
	grep -cE "$1" "$W/requests"
}

python3 - "$B/d" "$N" <<'PY' || t_abort "O_EXCL creates"
import os, sys
for i in range(int(sys.argv[2])):
    fd = os.open("%s/p%d" % (sys.argv[1], i),
                 os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"xy")
    os.close(fd)
PY
p_all=$(count "^[A-Z]+ /$bucket(/d/p[0-9]|\?.*prefix=d%2Fp[0-9])")
t_diag "O_CREAT|O_EXCL + write + close: $p_all requests for $N files"
t_is "O_EXCL files: one PUT each" "$(count "^PUT /$bucket/d/p[0-9]")" "$N"
t_is "O_EXCL files: no HEAD of what was just PUT" \
	"$(count "^HEAD /$bucket/d/p[0-9]")" 0
t_ok "O_EXCL files: at most 2 requests each" test "$p_all" -le $((2 * N))

for i in $(seq 0 $((N - 1))); do
	printf xy >"$B/d/b$i" || t_abort "bash > b$i"
done
b_all=$(count "^[A-Z]+ /$bucket(/d/b[0-9]|\?.*prefix=d%2Fb[0-9])")
t_diag "bash > (create, write, close): $b_all requests for $N files"
t_is "bash > files: one PUT each (no empty PUT at the first close)" \
	"$(count "^PUT /$bucket/d/b[0-9]")" "$N"
t_is "bash > files: no HEAD of what was just PUT" \
	"$(count "^HEAD /$bucket/d/b[0-9]")" 0
t_ok "bash > files: at most 2 requests each" test "$b_all" -le $((2 * N))
t_is "another client reads what bash wrote" "$(cat "$C/d/b3")" xy

# an empty new file is uploaded at the release that follows its close
touch "$B/d/empty" || t_abort "touch"
t_is "the empty file is there at once in the mount" \
	"$(stat -c %s "$B/d/empty")" 0
t_ok "the empty file reaches the bucket" wait_for 120 test -e "$C/d/empty"
t_is "the empty file was one PUT" "$(count "^PUT /$bucket/d/empty")" 1

t_fails_with "O_EXCL on a name this mount made fails EEXIST" "File exists" \
	python3 -c 'import os, sys; os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)' "$B/d/p3"
printf other >"$C/d/theirs" || t_abort "another client writes d/theirs"
t_fails_with "O_EXCL on a name another client made fails EEXIST" "File exists" \
	python3 -c 'import os, sys; os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)' "$B/d/theirs"
t_is "their file is untouched" "$(cat "$C/d/theirs")" other

t_ok "unmount" bfs_umount "$W/mnt"
t_ok "unmount the other client" bfs_umount "$W/mnt2"
t_plan_done
