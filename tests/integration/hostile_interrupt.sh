#!/usr/bin/env bash
# hostile_interrupt.sh - FUSE INTERRUPT (issue 14): a process blocked in
# a system call on a server that stopped answering (Ceph RGW behind
# tests/tools/faultproxy.py, stalling the request) is signalled, and the
# call returns at once, long before op_timeout (600 s here, so nothing
# but the interrupt can end it): a caught signal makes the call fail with
# EINTR, Ctrl-C ends the process, and in both cases the daemon drops the
# stalled transfer (the proxy sees the connection close) and logs one
# line naming the server, the request and the cause. Nothing is left
# half done: when the server answers again the same calls succeed and
# the file reads right. The bounds (30 s) only bound a failure.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-interrupt-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
bfs_faultproxy_start intr "$bucket" || t_abort "the fault proxy starts"

head -c 300000 /dev/urandom >"$W/data"
for k in a b c d/x; do
	s3_curl PUT "$bucket/$k" -T "$W/data" >/dev/null || t_abort "put $k"
done

BFS_MEMCAP_MB=384
bfs_mount_daemon -o op_timeout=600,request_timeout=600,retries=3,attr_ttl=0,dir_ttl=0,neg_ttl=0 \
	intr || t_abort "mount through the proxy"
B=$BFS_B
LOG=$BFS_LOG.file
bfs_log_expect "interrupted|Interrupted"
t_ok "the daemon runs under a memory cap" bfs_memcap_check "$BFS_PID"

# stalled N: the proxy has stalled N requests so far
stalled() { [ "$(grep -cE ': stall$' "$W/proxy.log")" -ge "$1" ]; }
# ended N: N stalls ended (the client closed the connection)
ended() { [ "$(grep -c ': end of stall' "$W/proxy.log")" -ge "$1" ]; }

# gone PID: the child PID has exited (a zombie until waited for)
gone()
{
	[ ! -e "/proc/$1" ] ||
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# caller.py CALL PATH [OFFSET]: makes one call (a read: at OFFSET) and
# says how it ended. A caught signal: the handler raises, so Python does
# not retry the call after EINTR (PEP 475); the caller reports
# "interrupted" only if the call itself was cut short (no data came back).
cat >"$W/caller.py" <<'PY'
import os, signal, sys
class Interrupted(Exception):
    pass
def on_usr1(sig, frm):
    raise Interrupted()
signal.signal(signal.SIGUSR1, on_usr1)
print("ready", flush=True)  # the handler is in place
what, path = sys.argv[1], sys.argv[2]
try:
    if what == "read":
        fd = os.open(path, os.O_RDONLY)
        print("opened", flush=True)
        n = len(os.pread(fd, 65536, int(sys.argv[3]) if len(sys.argv) > 3 else 0))
        print("read %d bytes" % n, flush=True)
    elif what == "stat":
        os.stat(path)
        print("stat returned", flush=True)
    elif what == "list":
        print(len(os.listdir(path)), "entries", flush=True)
except Interrupted:
    print("interrupted", flush=True)
except OSError as e:
    print("error", e.strerror, flush=True)
PY

# the interpreter itself, not a shim that may run it as a child
PY=$(python3 -c 'import sys; print(sys.executable)')
n=0
# interrupted NAME SIG RULE CMD...: arms RULE, starts CMD, waits until
# the proxy stalls its request, sends SIG, and checks that CMD ends
# within 30 s (it would wait 600 s for op_timeout otherwise) and that the
# daemon dropped the stalled transfer. $W/NAME.out holds what CMD said,
# $W/NAME.st its exit status.
interrupted()
{
	local name=$1 sig=$2 rule=$3 pid
	shift 3
	set_rules "$rule"
	"$@" >"$W/$name.out" 2>&1 &
	pid=$!
	n=$((n + 1))
	# the caller is ready for the signal (its handler in place) and its
	# own request is the one stalled
	if ! wait_for 60 grep -qx ready "$W/$name.out" ||
		! wait_for 60 stalled $n; then
		_t_result 1 "$name: the proxy stalled its request"
		kill -9 "$pid" 2>/dev/null
		calm
		return 1
	fi
	kill "-$sig" "$pid"
	if wait_for 30 gone "$pid"; then
		_t_result 0 "$name: SIG$sig ends the blocked call within 30 s"
		wait "$pid"
		echo $? >"$W/$name.st"
	else
		_t_result 1 "$name: SIG$sig ends the blocked call within 30 s"
		kill -9 "$pid" 2>/dev/null
		echo 137 >"$W/$name.st"
	fi
	calm
	t_ok "$name: the daemon dropped the stalled transfer" wait_for 30 ended $n
}

# a read past the first 64 KiB, which a lookup's head brings (store.h,
# head_read): looked up first, the file's open sends a plain HEAD, and
# the stalled GET is the read's own
stat "$B/a" >/dev/null
interrupted read USR1 "stall 100000 GET:$bucket/a" "$PY" "$W/caller.py" read "$B/a" 131072
t_ok "read: the call was cut short (EINTR), no data came back" \
	grep -qx interrupted "$W/read.out"
interrupted stat USR1 "stall 100000 GET:prefix=b" "$PY" "$W/caller.py" stat "$B/b"
t_ok "stat: the call was cut short (EINTR)" grep -qx interrupted "$W/stat.out"
interrupted ls INT "stall 100000 GET:delimiter=" "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
print("ready", flush=True)
os.execvp("ls", ["ls", sys.argv[1]])' "$B/d"
t_is "ls: Ctrl-C killed it (SIGINT)" "$(cat "$W/ls.st")" 130
# a cold file: the stalled GET is the head its lookup sends along with
# the LIST (on a thread of the head pool, src/catalog/head_pool.c)
interrupted cat INT "stall 100000 GET:$bucket/c" "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
print("ready", flush=True)
os.execvp("cat", ["cat", sys.argv[1]])' "$B/c"
t_is "cat: Ctrl-C killed it (SIGINT)" "$(cat "$W/cat.st")" 130

t_ok "the log names the server, the request and the interrupt" \
	grep -qE "s3:intr: GET 'a': interrupted \(FUSE INTERRUPT\)" "$LOG"
# nothing half done: the same calls work once the server answers
t_ok "after the interrupts: the file reads right" cmp "$W/data" "$B/a"
t_is "after the interrupts: stat works" "$(stat -c %s "$B/b")" 300000
t_is "after the interrupts: the directory lists" "$(ls "$B/d")" x
t_ok "unmount" bfs_umount
t_plan_done
