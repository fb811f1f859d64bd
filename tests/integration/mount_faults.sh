#!/usr/bin/env bash
# mount_faults.sh - server failures seen through a mount (Ceph RGW behind
# tests/tools/faultproxy.py): a 5xx that outlasts the retries on HEAD,
# GET or LIST is EIO — never an empty file or an empty directory — and a
# failed upload at close is an error that leaves the object as it was;
# a reset mid-body is retried and reads the right bytes.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-mount-faults-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
bfs_faultproxy_start flaky "$bucket" || t_abort "the fault proxy starts"
arm() { set_rules "$1 $2 $3"; }

bfs_mount -o retries=1,attr_ttl=0,dir_ttl=0,neg_ttl=0 flaky || t_abort "mount through the proxy"
B=$BFS_B
bfs_log_expect "InternalError|HTTP 500|cannot|failed|unsaved data kept"
head -c 300000 /dev/urandom >"$W/data"
for f in a b c keep; do cp "$W/data" "$B/$f"; done
mkdir -p "$B/dir" && echo x >"$B/dir/x"

# the head of a lookup or an open is a HEAD, or a GET of the first
# bytes (store.h, head_read)
set_rules "500 50 HEAD" "500 50 GET"
t_fails_with "the head failing: cat is EIO, not an empty file" "Input/output error" cat "$B/a"
calm
t_ok "after the fault: the file reads right" cmp "$W/data" "$B/a"

arm 500 50 GET
t_fails_with "GET failing: reading a file is EIO" "Input/output error" cat "$B/b"
t_fails_with "GET failing: ls is EIO, not an empty directory" "Input/output error" ls "$B/dir"
calm
t_is "after the fault: the directory lists" "$(ls "$B/dir")" x

# the faults are armed between open and read/close, so they hit the
# object's GET and PUT, not the lookups
python3 - "$B/c" "$W/c.copy" "$control" <<'PY' >"$W/reset.out" 2>&1
import sys
f = open(sys.argv[1], "rb")
open(sys.argv[3], "w").write("100 reset 1 GET\n")
open(sys.argv[2], "wb").write(f.read())
PY
calm
t_ok "a reset mid-body is retried: the read is right" cmp "$W/data" "$W/c.copy"
t_ok "the reset was injected" grep -q ": reset" "$W/proxy.log"

python3 - "$B/keep" "$control" <<'PY' >"$W/close.out" 2>&1
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"appended\n")
open(sys.argv[2], "w").write("200 500 50 PUT\n")
try:
    os.close(fd)
    print("close: ok")
except OSError as e:
    print("close:", e.strerror)
PY
# the release that follows close retries the upload: let it fail too
# (it ends by keeping the data, and says so) before the faults stop
kept() { grep -q "unsaved data kept" "$BFS_LOG"; }
t_ok "the release's upload fails too and the data is kept" wait_for 60 kept
calm
t_ok "a failed upload at close is an error, not silence" \
	grep -q "close: Input/output error" "$W/close.out"
t_ok "the log says the upload failed with the key" grep -q "cannot upload 'keep'" "$BFS_LOG"
t_ok "the object is as it was, not truncated" cmp "$W/data" "$B/keep"
t_ok "the appended data was kept on disk, not dropped" \
	sh -c "grep -rl appended '$W/cache' | grep -q ."

# a chmod or touch the store refuses changes nothing: stat shows what
# the object holds, not what was asked
t_ok "chmod 640 is stored" chmod 640 "$B/a"
TZ=UTC touch -d '2001-02-03 04:05:06' "$B/a"
arm 500 50 PUT
t_fails_with "a chmod whose copy fails is EIO" "Input/output error" chmod 600 "$B/a"
t_fails_with "a touch whose copy fails is EIO" "Input/output error" \
	env TZ=UTC touch -d '2002-01-01 00:00:00' "$B/a"
calm
t_is "the mode and mtime are the stored ones, not the refused ones" \
	"$(TZ=UTC stat -c '%a %y' "$B/a")" "640 2001-02-03 04:05:06.000000000 +0000"
t_ok "unmount" bfs_umount
t_plan_done
