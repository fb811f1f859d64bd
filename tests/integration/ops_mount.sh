#!/usr/bin/env bash
# ops_mount.sh - the ways an operator mounts bucketfs: mount(8) with
# -t fuse.bucketfs (what an fstab line does) with _netdev and nofail
# passed through, the systemd unit (systemd-analyze verify) and the
# notify protocol a Type=notify unit relies on (READY=1 once the mount
# is live, STOPPING=1 on the way out), and SIGTERM flushing writes.
. "$(dirname "$0")/../lib.sh"

bfs_store_setup || t_abort "store setup"
MNT=$W/fstab-mnt
mkdir -p "$MNT"

# mount(8) runs helpers with a fixed PATH: bucketfs must be where an
# install puts it. Link the build there for this test only.
LINK=/usr/local/bin/bucketfs
made_link=
if [ ! -e "$LINK" ]; then
	ln -s "$BFS_BIN" "$LINK" && made_link=1
fi
cleanup_link() { [ -n "$made_link" ] && rm -f "$LINK"; }
trap 'cleanup_link; _t_on_exit' EXIT

t_ok "mount -t fuse.bucketfs with fstab options" \
	mount -t fuse.bucketfs "$BFS_BUCKET" "$MNT" \
	-o "config=$BFS_CONF,allow_other,_netdev,nofail"
t_ok "mount(8) lists it as fuse.bucketfs" \
	sh -c "grep -q ' $MNT fuse.bucketfs ' /proc/mounts"
t_ok "allow_other reached the kernel" \
	sh -c "grep ' $MNT fuse.bucketfs ' /proc/mounts | grep -q allow_other"
t_ok "write through the fstab mount" sh -c "echo fstab > '$MNT/fstab.txt'"
t_is "read it back" "$(cat "$MNT/fstab.txt" 2>&1)" fstab
t_ok "umount(8)" umount "$MNT"
t_fails "nothing left mounted" sh -c "grep -q ' $MNT ' /proc/mounts"
t_fails "the file did not land in the bare mount point" test -e "$MNT/fstab.txt"

# the fstab line itself, through mount(8) reading a private fstab
FSTAB=$W/fstab
echo "$BFS_BUCKET $MNT fuse.bucketfs _netdev,nofail,config=$BFS_CONF 0 0" >"$FSTAB"
t_ok "mount --fstab FILE MOUNTPOINT (an fstab line)" \
	mount --fstab "$FSTAB" "$MNT"
t_is "the fstab mount shows the same file" "$(cat "$MNT/fstab.txt" 2>&1)" fstab
t_ok "umount" umount "$MNT"

# the unit file
UNIT=$W/bucketfs@lake.service
cp "$BFS_SRCDIR/contrib/systemd/bucketfs@.service" "$UNIT"
t_ok "systemd-analyze verify accepts the unit" \
	systemd-analyze verify --man=no "$UNIT"
for d in Type=notify NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
	LoadCredential= CapabilityBoundingSet=; do
	t_ok "the unit sets $d" grep -q "^$d" "$UNIT"
done

# the notify protocol, heard on a socket of our own
SOCK=$W/notify.sock
python3 - "$SOCK" >"$W/notify.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
end = time.time() + 30
while time.time() < end:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    print(msg, flush=True)
    if "STOPPING=1" in msg:
        break
PY
LISTENER=$!
wait_for 50 test -S "$SOCK"
NOTIFY_SOCKET=$SOCK "$BFS_BIN" mount --config "$BFS_CONF" -f "$BFS_BUCKET" "$MNT" \
	>"$W/notify-daemon.log" 2>&1 &
DAEMON=$!
wait_for 100 grep -q READY=1 "$W/notify.out"
t_ok "READY=1 arrives" grep -q READY=1 "$W/notify.out"
t_ok "the mount is live when READY=1 is sent" \
	sh -c "grep -q ' $MNT fuse.bucketfs ' /proc/mounts"

# SIGTERM: writes still open are flushed, then the mount goes away
exec 8>"$MNT/open-at-term.txt"
echo "flushed by SIGTERM" >&8
kill -TERM "$DAEMON"
wait "$DAEMON"
t_is "the daemon exits 0 on SIGTERM" "$?" 0
exec 8>&-
wait "$LISTENER"
t_ok "STOPPING=1 arrives" grep -q STOPPING=1 "$W/notify.out"
t_fails "SIGTERM unmounted it" sh -c "grep -q ' $MNT ' /proc/mounts"
bfs_mount || t_abort "mount again"
t_is "the write open at SIGTERM is in the bucket" \
	"$(cat "$BFS_B/open-at-term.txt" 2>&1)" "flushed by SIGTERM"

# the kernel's read-ahead, raised once the mount answers (readahead=1M)
ra_kb()
{
	cat "/sys/class/bdi/$(mountpoint -d "$BFS_MNT")/read_ahead_kb"
}
wait_ra()
{
	[ "$(ra_kb)" = "$1" ]
}
t_ok "the kernel reads the mount with 1 MiB of read-ahead" \
	wait_for 50 wait_ra 1024
t_ok "unmount" bfs_umount
bfs_mount -o readahead=256K || t_abort "mount with readahead=256K"
t_ok "-o readahead=256K sets 256 KiB" wait_for 50 wait_ra 256
t_is "... and reads still return the file" \
	"$(cat "$BFS_B/open-at-term.txt" 2>&1)" "flushed by SIGTERM"
t_ok "unmount" bfs_umount
t_plan_done
