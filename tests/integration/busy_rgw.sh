#!/usr/bin/env bash
# busy_rgw.sh - no request waits behind another file's network I/O (Ceph
# RGW behind tests/tools/faultproxy.py): while one process's close is
# stuck in its upload (the proxy holds the PUT until this script lets it
# go), another process lists the same directory, stats the other files
# and the one being uploaded, and reads another file. Each of them must
# finish while the upload is still held: a condition the proxy makes,
# not a timing margin (the timeouts only bound a failure).
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-busy-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
bfs_faultproxy_start slow "$bucket" || t_abort "the fault proxy starts"

# no caching of attributes or listings: every ls and stat below asks the
# daemon, and the daemon asks the server; a request_timeout and an
# op_timeout longer than the test, so the held PUT is never abandoned
# and retried around the hold
bfs_mount -o attr_ttl=0,dir_ttl=0,neg_ttl=0,request_timeout=3600,op_timeout=3600 slow || t_abort "mount through the proxy"
B=$BFS_B
mkdir "$B/d" || t_abort "mkdir"
for f in a b c; do echo "$f" >"$B/d/$f" || t_abort "write $f"; done
rand_file "$W/data" 3

# the next PUT is held at the proxy until $control.release exists
echo "1 hold 1 PUT" >"$control"
(
	cp "$W/data" "$B/d/big"
	echo "rc=$?" >"$W/writer.rc"
) &
writer=$!
t_ok "the upload of the closing file reaches the server and is held" \
	wait_for 300 test -e "$control.held"
t_ok "the closing writer is still waiting for its upload" \
	test ! -e "$W/writer.rc"

t_ok "ls -l of the same directory completes" \
	sh -c "timeout -k 5 180 ls -l '$B/d' >'$W/ls.out'"
t_ok "the listing has the other files and the one being uploaded" \
	sh -c "grep -q ' a\$' '$W/ls.out' && grep -q ' c\$' '$W/ls.out' && grep -q ' big\$' '$W/ls.out'"
t_is "stat of the other files completes" \
	"$(timeout -k 5 180 stat -c %s "$B/d/a" "$B/d/b" | tr '\n' ' ')" "2 2 "
t_is "stat of the file being uploaded gives its size" \
	"$(timeout -k 5 180 stat -c %s "$B/d/big")" 3145728
t_is "another file of the directory reads" "$(timeout -k 5 180 cat "$B/d/c")" c
t_ok "all that while the upload was still held" \
	sh -c "test ! -e '$W/writer.rc' && grep -q '^PUT ' '$control.held'"

touch "$control.release"
t_ok "the held close returns once released" \
	wait_for 300 test -s "$W/writer.rc" || t_plan_done
wait "$writer"
t_is "the held close then succeeds" "$(cat "$W/writer.rc")" rc=0
t_ok "the uploaded file has its bytes" cmp "$W/data" "$B/d/big"
t_ok "the proxy held and released the PUT" grep -q ": released" "$W/proxy.log"
t_ok "unmount" bfs_umount
t_plan_done
