#!/usr/bin/env bash
# ops_systemd.sh - bucketfs@.service's start, played without systemd as
# PID 1 (tests/tools/fake_systemd.py): its ExecStartPre=+ line
# (`bucketfs mount --premount`) mounts in this namespace and stores the
# /dev/fuse descriptor in the "fd store"; its ExecStart= line gets it as
# fd 3 (LISTEN_FDS) and serves it from a sandbox like the unit's: its
# own mount namespace (a slave, as systemd makes it) with / read-only
# but for the state dir, no capability, under the unit's system call filter
# (@system-service minus @privileged, EPERM otherwise, applied with
# python3-seccomp). The mount is seen and used here, by root and (with
# allow_other) by nobody; the daemon clears the store once serving,
# says READY=1, and an unmount here (ExecStop=+) ends it with exit 0,
# the data in the bucket. --premount refuses to run without systemd.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=builtin
bfs_store_setup || t_abort "write a configuration"
unit=$BFS_SRCDIR/contrib/systemd/bucketfs@.service
tools=$BFS_SRCDIR/tests/tools
# A systemd host's mounts are shared (systemd makes them so at boot), and
# a service's namespace is their slave: the unmount of ExecStop=+ then
# reaches the service's copy of the mount and ends the daemon. This
# container's / is private: a shared bind of the test's own directory
# stands in for it.
S=$W/shared
mkdir -p "$S"
mount --bind "$S" "$S" && mount --make-shared "$S" ||
	t_abort "a shared mount for the test"
_t_stop+=("umount -l '$S'")
M=$S/mnt
mkdir -p "$M"
_t_mounts+=("$M")
# the test's own directories above the mount point are 0700: let others
# through them, so that only the mount decides
d=$S
while [ "$d" != / ] && [ -O "$d" ]; do
	chmod o+x "$d"
	d=$(dirname "$d")
done

# the unit's command line KEY (ExecStartPre/ExecStart) for instance
# "builtin", with this build, this config and allow_other
unit_cmd()
{
	sed -n "s/^$1=+\{0,1\}//p" "$unit" | sed \
		-e "s|/usr/local/bin/bucketfs|$BFS_BIN|" \
		-e "s|/etc/bucketfs/bucketfs.conf|$BFS_CONF|" \
		-e "s|\\\$BUCKETFS_OPTIONS|-o allow_other,default_permissions|" \
		-e "s|/mnt/bucketfs/%i|$M|" -e "s|%i|builtin|g"
}
read -ra pre <<<"$(unit_cmd ExecStartPre)"
read -ra serve <<<"$(unit_cmd ExecStart)"
t_is "ExecStartPre= is mount --premount" "${pre[*]:1:2}" "mount --premount"
t_is "ExecStart= is mount -f" "${serve[*]:1:2}" "mount -f"

t_fails_with "--premount outside systemd is refused" "ExecStartPre=+" \
	env -u NOTIFY_SOCKET "${pre[@]}"
t_fails "and leaves nothing mounted" is_mounted "$M"

# the sandbox: a slave mount namespace, / read-only but for $W, then
# the filter; LeakSanitizer needs ptrace, which the filter denies as
# systemd's does, so leaks are checked by the other tests
sandbox=(unshare --mount --propagation slave sh -c
	'mount --rbind "$1" "$1" && mount -o remount,bind,ro / && shift &&
	exec setpriv --bounding-set=-all --inh-caps=-all \
		/usr/bin/python3 "$0" @system-service @privileged -- "$@"'
	"$tools/seccomp_exec.py" "$W")
EV=$W/events
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" timeout -k 10 300 \
	/usr/bin/python3 "$tools/fake_systemd.py" "$EV" "$W/notify.sock" -- \
	"${pre[@]}" -- "${sandbox[@]}" "${serve[@]}" >"$W/fake.log" 2>&1 &
fake=$!
_t_stop+=("kill $fake")

ev()
{
	grep -qx "$1" "$EV" 2>/dev/null
}
t_ok "--premount exits 0" wait_for 120 ev "premount 0"
t_ok "and stores the descriptor as fuse" ev "stored fuse"
if ! wait_for 120 ev ready; then
	t_diag_file "$W/fake.log"
	t_diag_file "$EV"
	t_abort "the sandboxed daemon did not say READY=1"
fi
_t_result 0 "the sandboxed daemon serves it and says READY=1"
t_ok "it cleared the store once serving" ev "removed fuse"
t_ok "the mount is seen in this namespace" is_mounted "$M"
t_is "as fuse.bucketfs of bucketfs:builtin" \
	"$(awk -v d="$M" '$5 == d { for (i = 7; $i != "-"; i++) ;
		print $(i + 1), $(i + 2) }' /proc/self/mountinfo)" \
	"fuse.bucketfs bucketfs:builtin"
dpid=$(pgrep -f -n -- "mount -f --config $BFS_CONF")
[ -n "$dpid" ] && _t_pid_of[$M]=$dpid
t_ok "the daemon runs in a mount namespace of its own" sh -c \
	"[ -n '$dpid' ] && [ \"\$(readlink /proc/$dpid/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ]"
t_is "where / is read-only" \
	"$(awk '$5 == "/" { split($6, o, ","); print o[1] }' "/proc/$dpid/mountinfo")" ro
t_is "under a system call filter" \
	"$(awk '/^Seccomp:/ { print $2 }' "/proc/$dpid/status")" 2
t_is "with no capability (CapabilityBoundingSet= empty)" \
	"$(awk '/^CapEff:/ { print $2 }' "/proc/$dpid/status")" 0000000000000000
t_ok "root writes a file" sh -c "echo sandboxed >'$M/f'"
t_is "and reads it" "$(cat "$M/f")" sandboxed
t_is "nobody reads it too (allow_other)" \
	"$(setpriv --reuid nobody --regid nogroup --clear-groups cat "$M/f" 2>&1)" \
	sandboxed

# ExecStop=+: the unmount, in this namespace
t_ok "fusermount3 -u here unmounts it" fusermount3 -u "$M"
t_ok "and the daemon exits 0" wait_for 120 ev "exit 0"
wait "$fake"
t_ok "the file is in the bucket" bfs_mount builtin
t_is "after a plain mount" "$(cat "$BFS_MNT/f")" sandboxed
t_ok "unmount" bfs_umount

t_plan_done
