#!/usr/bin/env bash
# requests.sh - the round-trip budget of issue 13, on Ceph RGW and on
# s3rver, each behind tests/tools/faultproxy.py, which writes down every
# request it forwards. Each operation works on names of its own, and the
# requests are counted per name (a LIST names it by its prefix), so how
# often the kernel revalidates the directory itself cannot move a count.
# In a directory listed within dir_ttl (a name absent from that listing
# is answered "no such file" without a request):
#   create + write + close of a new small file   1 (its PUT)
#   (O_CREAT|O_EXCL, and bash's `>`, which closes a duplicate of the
#   descriptor before it writes; also 50 files in a row)
#   lookup of a name the listing does not show   0
#   nothing HEADs an object it has just PUT (ls -l after our writes)
#   stat of a name readdir just returned         0
#   open + first read of a known small file      at most 1 (its GET)
#   mkdir                                        1 (the marker's PUT)
#   create in a directory just made, unlisted    1 (its PUT)
#   unlink of a file                             1
#   rename of a small file                       2 (the copy and the
#                                                delete)
# (on s3rver, which ignores conditions, a conditional PUT adds the HEAD
# that emulates it: create and mkdir are 2 there)
# and O_EXCL still fails on a name that exists, ours or another
# client's, also one made after our listing. The TTLs are far longer than the test, so the counts do not
# depend on how fast the machine runs it; requests that may come after
# the command returned (a release's upload, read-ahead) are counted
# after the unmount, when nothing is left in flight.
. "$(dirname "$0")/../lib.sh"

N=10
# files created in a row in a listed directory (more by hand:
# BFS_REQUESTS_MANY=1000)
M=${BFS_REQUESTS_MANY:-50}
# the O_EXCL create of a name another client made after our listing is
# refused at its upload, which logs it and keeps the data
bfs_log_expect "cannot upload 'd/theirs' .*File exists|unsaved data kept in"

# count FILE PATTERN: requests in FILE whose line matches PATTERN (ERE)
count()
{
	grep -cE "$2" "$1"
}

# since FILE MARK PATTERN: like count, for the lines after line MARK
since()
{
	tail -n +"$(($2 + 1))" "$1" | grep -cE "$3"
}

# after_put FILE RE [METHODS]: requests with a method matching METHODS
# (an awk ERE, default HEAD) of a path matching RE sent after a PUT of
# that path (a HEAD before the PUT is how a server that ignores
# If-None-Match, s3rver, has the condition emulated)
after_put()
{
	awk -v re="$2" -v m="^(${3:-HEAD})\$" '
		$2 ~ re && $1 ~ m && put[$2] { n++ }
		$2 ~ re && $1 == "PUT" { put[$2] = 1 }
		END { print n + 0 }' "$1"
}

# between FILE A B PATTERN: like count, for lines A+1 .. B
between()
{
	sed -n "$(($2 + 1)),$3p" "$1" | grep -cE "$4"
}

# names BUCKET KEY: the ERE of requests that name KEY (its own path, or
# a listing whose prefix is KEY); KEY in URL form (d%2F for d/ in a
# prefix is handled here)
names()
{
	local k=$2 p=${2//\//%2F}
	echo "^[A-Z]+ /$1(/$k([?/ ]|\$)|\?(.*&)?prefix=$p(&| |\$))"
}

# budget STORE: the whole budget on one store
budget()
{
	local st=$1 bucket=bfs-requests-$$-$1 req mark n c_all emul=0
	# s3rver ignores If-None-Match: bucketfs emulates it with a HEAD
	# before each conditional PUT (doc/internals/s3.md)
	[ "$st" = s3rver ] && emul=1
	local control=$W/$st.ctl
	req=$W/$st.requests
	if [ "$st" = rgw ]; then
		store_start_rgw || t_abort "Ceph RGW starts"
		s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
	else
		store_start_s3rver "$bucket" || t_abort "s3rver starts"
	fi
	echo "0 none 0 *" >"$control"
	: >"$req"
	python3 "$BFS_SRCDIR/tests/tools/faultproxy.py" \
		--upstream "$STORE_URL" --control "$control" \
		--port-file "$W/$st.port" --requests "$req" \
		>"$W/$st.proxy.out" 2>"$W/$st.proxy.log" &
	local proxy_pid=$!
	_t_stop+=("kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null")
	wait_for 50 test -s "$W/$st.port" || t_abort "the fault proxy starts"

	BFS_CONF=$W/$st.conf
	mkdir -p "$W/builtin" "$W/$st.cache" "$W/$st.mnt" "$W/$st.cache2" \
		"$W/$st.mnt2"
	cat >"$BFS_CONF" <<CONF
[bucketfs]
builtin_dir = $W/builtin
cache_dir = $W/$st.cache

[bucket r]
provider = custom
endpoint = http://127.0.0.1:$(cat "$W/$st.port")
bucket = $bucket
CONF
	export AWS_ACCESS_KEY_ID=$STORE_ACCESS AWS_SECRET_ACCESS_KEY=$STORE_SECRET
	# timeouts far longer than the test: a request slowed by the
	# machine's load is waited for, never abandoned and sent again
	# (which would count twice)
	BFS_MNT=$W/$st.mnt bfs_mount -o request_timeout=3600,op_timeout=3600 \
		-o attr_ttl=300,dir_ttl=300,neg_ttl=300 r ||
		t_abort "$st: mount through the proxy"
	local B=$BFS_B
	# another client: a mount of the same bucket straight to the
	# server, with its own cache and no negative caching
	cat >"$W/$st.direct.conf" <<CONF
[bucketfs]
builtin_dir = $W/builtin
cache_dir = $W/$st.cache2

[bucket direct]
provider = custom
endpoint = $STORE_URL
bucket = $bucket
CONF
	BFS_CONF=$W/$st.direct.conf BFS_MNT=$W/$st.mnt2 \
		bfs_mount -o neg_ttl=0,attr_ttl=0,dir_ttl=0 direct ||
		t_abort "$st: mount of the other client"
	local C=$BFS_B
	mkdir "$B/d" || t_abort "$st: mkdir"
	ls "$B/d" >/dev/null || t_abort "$st: ls"

	mark=$(wc -l <"$req")
	t_fails "$st: a name d's listing does not show is not there" \
		stat "$B/d/nothere"
	t_is "$st: lookup of a name absent from a fresh listing: 0 requests" \
		"$(since "$req" "$mark" "$(names "$bucket" d/nothere)|$(names "$bucket" d/nothere/)")" 0

	# the kernel may forget a name whenever it likes (memory pressure,
	# drop_caches by anyone on the machine) and look it up again: each
	# step counts only its own window, and names are stat'ed (looked up
	# if forgotten) just before the step that counts them
	local m_create0 m_create1
	m_create0=$(wc -l <"$req")
	python3 - "$B/d" "$N" <<'PY' || t_abort "$st: O_EXCL creates"
import os, sys
for i in range(int(sys.argv[2])):
    fd = os.open("%s/p%d" % (sys.argv[1], i),
                 os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"xy")
    os.close(fd)
PY
	for i in $(seq 0 $((N - 1))); do
		printf xy >"$B/d/b$i" || t_abort "$st: bash > b$i"
	done
	# the PUT of bash's file comes with the release, after close()
	# returned: wait for them all before the next step
	wait_for 120 test "$(count "$req" "^PUT /$bucket/d/b[0-9] ")" -ge "$N"
	m_create1=$(wc -l <"$req")
	touch "$B/d/empty" || t_abort "$st: touch"
	t_is "$st: the empty file is there at once in the mount" \
		"$(stat -c %s "$B/d/empty")" 0
	t_ok "$st: the empty file reaches the bucket" \
		wait_for 120 test -e "$C/d/empty"

	# ls -l of what this mount wrote, then stat of names it showed
	t_ok "$st: ls -l d" ls -l "$B/d"
	ls "$B/d" >/dev/null
	mark=$(wc -l <"$req")
	t_ok "$st: stat of names ls just showed" stat "$B/d/p7" "$B/d/b7"
	n=$(since "$req" "$mark" "$(names "$bucket" d/p7)|$(names "$bucket" d/b7)")
	t_is "$st: stat of a name readdir just returned: 0 requests" "$n" 0
	D_stat=$n

	# a known small file: open and read it
	t_is "$st: cat of a known small file" "$(cat "$B/d/p3")" xy

	mark=$(wc -l <"$req")
	t_ok "$st: mkdir d/sub" mkdir "$B/d/sub"
	n=$(since "$req" "$mark" "$(names "$bucket" d/sub)|$(names "$bucket" d/sub/)")
	t_diag "$st: mkdir: $n requests"
	t_ok "$st: mkdir: 1 request (+1 where conditions are emulated)" \
		test "$n" -le $((1 + emul))
	D_mkdir=$n

	stat "$B/d/b3" >/dev/null
	mark=$(wc -l <"$req")
	t_ok "$st: rm d/b3" rm "$B/d/b3"
	n=$(since "$req" "$mark" "$(names "$bucket" d/b3)")
	t_is "$st: unlink of a file: 1 request" "$n" 1
	D_rm=$n

	stat "$B/d/p5" >/dev/null
	mark=$(wc -l <"$req")
	t_ok "$st: mv d/p5 d/g5" mv "$B/d/p5" "$B/d/g5"
	n=$(since "$req" "$mark" "$(names "$bucket" d/p5)|$(names "$bucket" d/g5)")
	t_diag "$st: rename of a small file: $n requests"
	t_ok "$st: rename of a small file: the copy and the delete" \
		test "$n" -le 2
	t_is "$st: rename of a small file: no HEAD, no LIST of its source" \
		"$(since "$req" "$mark" "^(HEAD /$bucket/d/p5 |GET /$bucket\?(.*&)?prefix=d%2Fp5(&| |\$))")" 0
	D_mv=$n
	t_is "$st: another client reads the renamed file" "$(cat "$C/d/g5")" xy
	t_fails "$st: and not under its old name" test -e "$C/d/p5"
	t_is "$st: another client reads what bash wrote" "$(cat "$C/d/b4")" xy

	# many new files in a row in a directory listed once: each create
	# answers its lookup from the listing our own PUTs keep true
	mkdir "$B/many" || t_abort "$st: mkdir many"
	ls "$B/many" >/dev/null || t_abort "$st: ls many"
	python3 - "$B/many" "$M" <<'PY' || t_abort "$st: $M creates"
import os, sys
for i in range(int(sys.argv[2])):
    fd = os.open("%s/f%d" % (sys.argv[1], i),
                 os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"xy")
    os.close(fd)
PY
	t_is "$st: ls shows the $M new files" \
		"$(find "$B/many" -name 'f*' | wc -l)" "$M"

	# new files in a directory this mount just made and never listed:
	# the mkdir left the new directory's listing (its marker alone), so
	# each create's lookup is answered without a request
	mkdir "$B/fresh" || t_abort "$st: mkdir fresh"
	python3 - "$B/fresh" "$N" <<'PY' || t_abort "$st: creates in fresh"
import os, sys
for i in range(int(sys.argv[2])):
    fd = os.open("%s/f%d" % (sys.argv[1], i),
                 os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"xy")
    os.close(fd)
PY
	t_is "$st: ls shows the $N files of the new directory" \
		"$(ls "$B/fresh" | wc -l)" "$N"

	t_fails_with "$st: O_EXCL on a name this mount made fails EEXIST" \
		"File exists" python3 -c 'import os, sys; os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)' "$B/d/empty"
	t_fails_with "$st: O_EXCL on a name another client made fails EEXIST" \
		"File exists" python3 -c 'import os, sys; os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)' "$C/d/p8"
	# made by another client after this mount's listing, which still
	# says the name is free: refused at close, by the PUT's
	# If-None-Match (RGW) or the HEAD that emulates it (s3rver)
	printf other >"$C/d/theirs" || t_abort "$st: another client writes d/theirs"
	t_fails "$st: O_EXCL create of a name another client just made fails" \
		python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
os.write(fd, b"mine")
os.close(fd)' "$B/d/theirs"
	t_is "$st: their file is untouched" "$(cat "$C/d/theirs")" other

	t_ok "$st: unmount" bfs_umount "$W/$st.mnt"
	t_ok "$st: unmount the other client" bfs_umount "$W/$st.mnt2"

	# counted now that nothing is in flight
	# creation: the lookups' LISTs and the PUTs, in the window of the
	# creates
	n=$(between "$req" "$m_create0" "$m_create1" "^((PUT|HEAD) /$bucket/d/p[0-9] |GET /$bucket\?(.*&)?prefix=d%2Fp[0-9](&| |\$))")
	t_diag "$st: O_CREAT|O_EXCL + write + close: $n requests for $N files"
	t_is "$st: O_EXCL files: one PUT each" \
		"$(count "$req" "^PUT /$bucket/d/p[0-9] ")" "$N"
	t_is "$st: O_EXCL files: no HEAD of what was just PUT" \
		"$(after_put "$req" "^/$bucket/d/p[0-9]\$")" 0
	c_all=$(between "$req" "$m_create0" "$m_create1" "^((PUT|HEAD) /$bucket/d/b[0-9] |GET /$bucket\?(.*&)?prefix=d%2Fb[0-9](&| |\$))")
	t_diag "$st: bash > (create, write, close): $c_all requests for $N files"
	t_is "$st: bash > files: one PUT each (no empty PUT at the first close)" \
		"$(count "$req" "^PUT /$bucket/d/b[0-9] ")" "$N"
	t_is "$st: bash > files: no HEAD of what was just PUT" \
		"$(after_put "$req" "^/$bucket/d/b[0-9]\$")" 0
	t_ok "$st: O_EXCL files: 1 request each (+1 where conditions are emulated)" \
		test "$n" -le $(((1 + emul) * N))
	t_ok "$st: bash > files: 1 request each (+1 where conditions are emulated)" \
		test "$c_all" -le $(((1 + emul) * N))
	n=$(count "$req" "^((PUT|HEAD) /$bucket/many/f[0-9]+ |GET /$bucket\?(.*&)?prefix=many%2Ff[0-9]+(&| |\$))")
	t_diag "$st: $M new files in a listed directory: $n requests ($(awk -v n="$n" -v m="$M" 'BEGIN { printf "%.2f", n / m }') a file)"
	t_ok "$st: $M new files: 1 request each (+1 where conditions are emulated)" \
		test "$n" -le $(((1 + emul) * M))
	n=$(count "$req" "^((PUT|HEAD) /$bucket/fresh/f[0-9]+ |GET /$bucket\?(.*&)?prefix=fresh%2Ff[0-9]+(&| |\$))")
	t_diag "$st: $N new files in a directory just made: $n requests"
	t_ok "$st: new files in a directory just made: 1 request each (+1 where conditions are emulated)" \
		test "$n" -le $(((1 + emul) * N))
	t_is "$st: the empty file was one PUT" \
		"$(count "$req" "^PUT /$bucket/d/empty ")" 1
	n=$(after_put "$req" "^/$bucket/d/p3\$" "GET|HEAD")
	t_diag "$st: open + read of a known small file: $n requests"
	t_is "$st: open + first read of a known small file: one request" \
		"$n" 1
	t_diag "$st: ls -l d: $(count "$req" "^GET /$bucket\?(.*&)?prefix=d%2F(&| |\$)") LISTs of d/ in the whole run"
	t_diag "$st: budget: stat $D_stat, mkdir $D_mkdir, rm $D_rm, mv $D_mv"
}

for store in ${BFS_REQUESTS_STORES:-rgw s3rver}; do
	budget "$store"
done
t_plan_done
