#!/usr/bin/env bash
# kill9_recovery.sh - kill -9 of the daemon during a write: what close
# acknowledged is in the bucket, what no close or fsync acknowledged is
# neither uploaded nor lost — the next start moves it to lost+found and
# logs bucket and key — and nothing half-written appears as the object.
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount"
B=$BFS_B
echo "committed" >"$B/done.txt"
echo "old version" >"$B/partial.txt"
pid=$BFS_PID
python3 - "$B/partial.txt" "$pid" >"$W/crash.out" 2>&1 <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"unsaved new version\n")
os.kill(int(sys.argv[2]), 9)
# close once the daemon is dead: gone, or a zombie of the test's shell
# whose threads have all exited (the last one closes /dev/fuse, which
# ends the connection; the first to exit makes the leader a zombie)
def dead(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        tasks = os.listdir("/proc/%s/task" % pid)
    except OSError:
        return True
    return state == "Z" and tasks == [pid]
end = time.monotonic() + 30
while not dead(sys.argv[2]) and time.monotonic() < end:
    time.sleep(0.02)
try:
    os.close(fd)
    print("close: ok")
except OSError as e:
    print("close:", e.strerror)
PY
t_ok "the writer's close after the crash fails" grep -q "close: Transport endpoint" "$W/crash.out"
fusermount3 -u -z "$BFS_MNT" 2>/dev/null
unset "_t_pid_of[$BFS_MNT]"
t_ok "the dead daemon left its staging dir" \
	sh -c "ls '$W/cache/staging/$pid/' | grep -q '.data$'"
bfs_mount || t_abort "mount again"
B=$BFS_B
bfs_log_expect "unsaved writes"
t_is "acknowledged data is in the bucket" "$(cat "$B/done.txt")" committed
t_is "the object is the old version, not half of the new" "$(cat "$B/partial.txt")" "old version"
t_ok "the unacknowledged write is in lost+found" \
	sh -c "grep -l 'unsaved new version' '$W'/cache/lost+found/*.data"
t_ok "its sidecar names the key" sh -c "grep -l 'partial.txt' '$W'/cache/lost+found/*.key"
t_ok "the start logged it with bucket and key" \
	grep -q "unsaved writes of bucket 'builtin' key 'partial.txt'" "$BFS_LOG"
t_fails "the dead daemon's staging dir is gone" test -d "$W/cache/staging/$pid"
t_ok "unmount" bfs_umount

# a streamed multipart upload open when the daemon dies is aborted by the
# next start
bfs_mount -o multipart_threshold=5M,part_size=5M || t_abort "mount"
pid=$BFS_PID
python3 - "$BFS_B/big" "$pid" "$W/cache/staging/$pid" "$W/builtin/.bucketfs/uploads" \
	>"$W/crash2.out" 2>&1 <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
for _ in range(12):
    os.write(fd, os.urandom(1 << 20))
# kill once the streamed upload is open: its note in the staging dir and
# the upload in the store (bounded)
def started():
    try:
        return any(n.endswith(".mpu") for n in os.listdir(sys.argv[3])) \
            and len(os.listdir(sys.argv[4])) > 0
    except OSError:
        return False
end = time.monotonic() + 30
while not started() and time.monotonic() < end:
    time.sleep(0.05)
os.kill(int(sys.argv[2]), 9)
PY
fusermount3 -u -z "$BFS_MNT" 2>/dev/null
unset "_t_pid_of[$BFS_MNT]"
t_ok "the dead daemon left a note of its open upload" \
	sh -c "ls '$W/cache/staging/$pid/' | grep -q '.mpu$'"
t_ok "the local store holds the open upload" \
	sh -c "[ -n \"\$(ls -A '$W/builtin/.bucketfs/uploads')\" ]"
bfs_mount || t_abort "mount again"
bfs_log_expect "left open by a daemon that stopped: aborted"
t_ok "the next start aborts it" \
	grep -q "multipart upload of 'big' left open by a daemon that stopped: aborted" "$BFS_LOG"
t_is "nothing of it is left in the store" "$(ls -A "$W/builtin/.bucketfs/uploads" | wc -l)" 0
t_fails "no half-written object" test -e "$BFS_B/big"
t_ok "unmount" bfs_umount
t_plan_done
