#!/usr/bin/env bash
# hostile_mount.sh - a mount through tests/tools/faultproxy.py in front
# of Ceph RGW, with a server that misbehaves in the ways that used to hang
# a syscall or grow the daemon without bound: a listing that never ends,
# a server that stops answering, a body that stalls half way, a trickle,
# junk and HTML answers. Each syscall must fail within a generous bound
# (op_timeout=8; 60 s allowed), the daemon's peak RSS (VmHWM) must stay
# under 128 MiB, and when the server behaves again the next call works.
# The four stalls run at once, each on its own object, so the script
# waits out op_timeout once rather than four times.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-hostile-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
bfs_faultproxy_start hostile "$bucket" || t_abort "the fault proxy starts"
# every stalled request is over (the daemon gave up on it). The proxy
# logs a request's fault under the lock it reads the rules with, so once
# calm is in place no stalled request is left unlogged; one sent during
# the outage (a block fetched behind a read) may still be open
stalls_over()
{
	local started ended
	started=$(grep -cE ': (stall|stall-body|trickle)$' "$W/proxy.log")
	ended=$(grep -c ': end of ' "$W/proxy.log")
	[ "$ended" -ge "$started" ]
}
settle()
{
	# a request the proxy has not read yet would still see calm
	wait_for 60 stalls_over || t_diag "stalled requests still open"
}

# the objects are written by another client, so no read is served from
# the mount's cache
head -c 300000 /dev/urandom >"$W/data"
put_all()
{
	local k
	for k in a b c d e list/x; do
		s3_curl PUT "$bucket/$k" -T "$W/data" >/dev/null || return 1
	done
}
put_all || t_abort "put the objects with curl"

bfs_mount -o op_timeout=8,request_timeout=3,retries=3,attr_ttl=0,dir_ttl=0,neg_ttl=0 \
	hostile || t_abort "mount through the proxy"
B=$BFS_B
bfs_log_expect "listing of .* refused|op_timeout|timed out|cannot|failed|malformed|not XML|HTML|junk|XML"

# bounded NAME CMD...: run CMD with a 60 s ceiling; its output in
# $W/NAME.out, its exit status in $W/NAME.st (124: still running after
# 60 s)
bounded()
{
	local name=$1 t0=$SECONDS st
	shift
	timeout -k 5 60 "$@" >"$W/$name.out" 2>&1
	st=$?
	echo "$st" >"$W/$name.st"
	echo "$* took about $((SECONDS - t0)) s" >"$W/$name.time"
}

# expect NAME TEXT WHAT: the bounded call NAME failed with TEXT within 60 s
expect()
{
	local st
	st=$(cat "$W/$1.st")
	t_diag "$(cat "$W/$1.time")"
	if [ "$st" -ne 0 ] && [ "$st" -ne 124 ] && [ "$st" -ne 137 ] &&
		grep -qF -- "$2" "$W/$1.out"; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		t_diag "exit $st, wanted a failure with '$2' within 60 s"
		t_diag_file "$W/$1.out"
	fi
}


set_rules "endless-list 100000 GET:delimiter="
bounded endless ls "$B/list"
expect endless "Input/output error" "a listing that never ends: ls is EIO"
calm
t_ok "the log names the server's fault" \
	grep -q "listing of 'list/' refused: the server answered page 2 with the continuation token it was sent" "$BFS_LOG"
bfs_rss_ok "a listing that never ends: memory stays bounded"
t_is "the server behaves again: the directory lists" "$(ls "$B/list")" x

# four objects, four ways of not answering, at once
set_rules "stall 100000 GET:$bucket/a" "stall-body 100000 GET:$bucket/b" \
	"trickle 100000 GET:$bucket/c" "stall 100000 GET:$bucket/d"
pids=
bounded stall cat "$B/a" &
pids+=" $!"
bounded body cat "$B/b" &
pids+=" $!"
bounded trickle cat "$B/c" &
pids+=" $!"
bounded head stat "$B/d" &
pids+=" $!"
wait $pids # not the proxy
expect stall "Connection timed out" \
	"a server that stops answering: cat fails with ETIMEDOUT"
expect body "Connection timed out" \
	"a body that stalls half way: cat fails within the bound"
expect trickle "Connection timed out" \
	"a trickle of a byte every 0.2 s: cat fails within the bound"
# (a lookup's head is a GET of the first bytes: store.h, head_read)
expect head "Connection timed out" \
	"the head never answered: stat fails within the bound"
calm
settle
t_ok "the server comes back: the file reads right" cmp "$W/data" "$B/a"
t_ok "after the stalled body: the file reads right" cmp "$W/data" "$B/b"
t_ok "after the trickle: the file reads right" cmp "$W/data" "$B/c"
t_is "after the stalled head: stat works" "$(stat -c %s "$B/d")" 300000

set_rules "junk 100000 GET:delimiter="
bounded junk ls "$B/list"
expect junk "Input/output error" "junk for a listing: ls is EIO"
set_rules "html 100000 GET:delimiter="
bounded html ls "$B/list"
expect html "Input/output error" "an HTML page for a listing: ls is EIO"
calm
t_ok "the log says junk is not XML" \
	grep -q "bytes that are not XML (Content-Type application/octet-stream)" "$BFS_LOG"
t_ok "the log says an HTML page is not S3" \
	grep -q "the server answered an HTML page (Content-Type text/html)" "$BFS_LOG"
t_is "after junk and HTML: the directory lists" "$(ls "$B/list")" x
bfs_rss_ok "after every fault: memory stays bounded"
t_ok "the proxy injected every fault" sh -c "grep -q ': trickle' '$W/proxy.log' &&
	grep -q ': stall-body' '$W/proxy.log' && grep -q 'GET .*/d: stall' '$W/proxy.log'"
t_ok "unmount" bfs_umount

# A dead server: the kernel asks a read that failed again (its readahead
# failed, then it asks the first page alone). The retry fails at once
# from the open file's memory of the failure, so cat fails after one
# op_timeout, not two. One attempt stalls until op_timeout=20
# (request_timeout=30 does not cut it first), so a read takes 21 s and
# two took 42: load cannot make one look like two under the bound of
# 30 s, and the log's count of failed reads (1, was 2) does not depend
# on time at all.
bfs_mount -o op_timeout=20,request_timeout=30,retries=3,attr_ttl=0,dir_ttl=0,neg_ttl=0 \
	hostile || t_abort "mount again with op_timeout=20"
B=$BFS_B
bfs_log_expect "op_timeout|timed out|failed"
# opened while the server answers (the lookup's and the open's GET of
# the first bytes: store.h, head_read), then read from a dead one
exec 3<"$B/e"
set_rules "stall 100000 GET:$bucket/e"
t0=$SECONDS
bounded dead cat /dev/fd/3
took=$((SECONDS - t0))
exec 3<&-
calm
expect dead "Connection timed out" "a dead server: cat fails with ETIMEDOUT"
t_ok "a dead server: cat fails within 1.5 x op_timeout (took $took s of 30)" \
	[ "$took" -lt 30 ]
t_is "a dead server: the daemon waited on the read once" \
	"$(grep -c "read of 'e' at 0 failed" "$BFS_LOG")" 1
settle
t_ok "the server comes back: the file reads right" cmp "$W/data" "$B/e"
t_ok "unmount (op_timeout=20)" bfs_umount
t_plan_done
