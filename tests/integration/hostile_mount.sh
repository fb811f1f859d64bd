#!/usr/bin/env bash
# hostile_mount.sh - a mount through tests/tools/faultproxy.py in front
# of Ceph RGW, with a server that misbehaves in the ways that used to hang
# a syscall or grow the daemon without bound: a listing that never ends,
# a server that stops answering, a body that stalls half way, a trickle,
# junk and HTML answers. Each syscall must fail within a generous bound
# (op_timeout=5; 60 s allowed), the daemon's peak RSS (VmHWM) must stay
# under 128 MiB, and when the server behaves again the next call works.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-hostile-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
control=$W/faults.ctl
echo "0 none 0 *" >"$control"
python3 "$BFS_SRCDIR/tests/tools/faultproxy.py" --upstream "$STORE_URL" \
	--control "$control" --port-file "$W/proxy.port" \
	>"$W/proxy.out" 2>"$W/proxy.log" &
proxy_pid=$!
_t_stop+=("kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null")
wait_for 50 test -s "$W/proxy.port" || t_abort "the fault proxy starts"

BFS_CONF=$W/bucketfs.conf
mkdir -p "$W/builtin" "$W/cache" "$W/mnt"
cat >"$BFS_CONF" <<CONF
[bucketfs]
builtin_dir = $W/builtin
cache_dir = $W/cache

[bucket hostile]
provider = custom
endpoint = http://127.0.0.1:$(cat "$W/proxy.port")
bucket = $bucket
CONF
export AWS_ACCESS_KEY_ID=$STORE_ACCESS AWS_SECRET_ACCESS_KEY=$STORE_SECRET
gen=0
arm() { gen=$((gen + 1)); echo "$gen $1 $2 $3" >"$control"; }
calm() { gen=$((gen + 1)); echo "$gen none 0 *" >"$control"; }
# every stalled request is over (the daemon gave up on it): a request
# started during the outage, such as a block fetched behind a read, may
# still fail after calm; the next one must not
stalls_over()
{
	local started ended
	started=$(grep -cE ': (stall|stall-body|trickle)$' "$W/proxy.log")
	ended=$(grep -c ': end of ' "$W/proxy.log")
	[ "$ended" -ge "$started" ]
}
settle() { wait_for 60 stalls_over || t_diag "stalled requests still open"; }

# the objects are written by another client, so no read is served from
# the mount's cache
head -c 300000 /dev/urandom >"$W/data"
mkdir -p "$W/up/dir"
for k in a b c d dir/x; do cp "$W/data" "$W/up/$k"; done
aws_store s3 cp --quiet --recursive "$W/up" "s3://$bucket/" ||
	t_abort "put the objects with the aws CLI"

bfs_mount -o op_timeout=5,request_timeout=2,retries=3,attr_ttl=0,dir_ttl=0,neg_ttl=0 \
	hostile || t_abort "mount through the proxy"
B=$BFS_B
bfs_log_expect "listing of .* refused|op_timeout|timed out|cannot|failed|malformed|not XML|HTML|junk|XML"

# bounded CMD...: run CMD with a 60 s ceiling; its output in $W/.b_out,
# its exit status in $b_st (124: still running after 60 s)
bounded()
{
	local t0=$SECONDS
	timeout -k 5 60 "$@" >"$W/.b_out" 2>&1
	b_st=$?
	t_diag "$* took about $((SECONDS - t0)) s"
}

# expect NAME TEXT: the last bounded call failed with TEXT within 60 s
expect()
{
	if [ "$b_st" -ne 0 ] && [ "$b_st" -ne 124 ] && [ "$b_st" -ne 137 ] &&
		grep -qF -- "$2" "$W/.b_out"; then
		_t_result 0 "$1"
	else
		_t_result 1 "$1"
		t_diag "exit $b_st, wanted a failure with '$2' within 60 s"
		t_diag_file "$W/.b_out"
	fi
}

rss_ok()
{
	local kb
	kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BFS_PID/status")
	if [ -n "$kb" ] && [ "$kb" -lt 131072 ]; then
		_t_result 0 "$1 (peak RSS $((kb / 1024)) MiB < 128 MiB)"
	else
		_t_result 1 "$1 (peak RSS ${kb:-?} kB, ceiling 128 MiB)"
	fi
}

arm endless-list 100000 GET:delimiter=
bounded ls "$B/dir"
expect "a listing that never ends: ls is EIO" "Input/output error"
calm
t_ok "the log names the server's fault" \
	grep -q "listing of 'dir/' refused: the server answered page 2 with the continuation token it was sent" "$BFS_LOG"
rss_ok "a listing that never ends: memory stays bounded"
t_is "the server behaves again: the directory lists" "$(ls "$B/dir")" x

arm stall 100000 "GET:$bucket/a"
bounded cat "$B/a"
expect "a server that stops answering: cat fails with ETIMEDOUT" \
	"Connection timed out"
calm
settle
t_ok "the server comes back: the file reads right" cmp "$W/data" "$B/a"

arm stall-body 100000 "GET:$bucket/b"
bounded cat "$B/b"
expect "a body that stalls half way: cat fails within the bound" \
	"Connection timed out"
calm
settle
t_ok "after the stalled body: the file reads right" cmp "$W/data" "$B/b"

arm trickle 100000 "GET:$bucket/c"
bounded cat "$B/c"
expect "a trickle of a byte every 0.2 s: cat fails within the bound" \
	"Connection timed out"
calm
settle
t_ok "after the trickle: the file reads right" cmp "$W/data" "$B/c"

arm stall 100000 "HEAD:$bucket/d"
bounded stat "$B/d"
expect "HEAD never answered: stat fails within the bound" \
	"Connection timed out"
calm
settle

arm junk 100000 GET:delimiter=
bounded ls "$B/dir"
expect "junk for a listing: ls is EIO" "Input/output error"
calm
arm html 100000 GET:delimiter=
bounded ls "$B/dir"
expect "an HTML page for a listing: ls is EIO" "Input/output error"
calm
t_ok "the log says junk is not XML" \
	grep -q "bytes that are not XML (Content-Type application/octet-stream)" "$BFS_LOG"
t_ok "the log says an HTML page is not S3" \
	grep -q "the server answered an HTML page (Content-Type text/html)" "$BFS_LOG"
t_is "after junk and HTML: the directory lists" "$(ls "$B/dir")" x
rss_ok "after every fault: memory stays bounded"
t_ok "the proxy injected the faults" grep -q ": trickle" "$W/proxy.log"
t_ok "unmount" bfs_umount
t_plan_done
