#!/usr/bin/env bash
# ops_install.sh - `make install` into a DESTDIR: the binary, the
# mount.bucketfs helper mount(8) runs, both man pages, the systemd unit
# (checked by systemd-analyze verify), the sample config and the state
# and cache directories; `make uninstall` removes them again. And the
# helper's command line as mount(8) gives it.
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=builtin
bfs_store_setup || t_abort "write a configuration"
BUILD=$BFS_BUILD
D=$W/destdir

if ! make -C "$BUILD" -s install DESTDIR="$D" >"$W/install.log" 2>&1; then
	t_diag_file "$W/install.log"
	t_abort "make install DESTDIR=$D"
fi
# configured with the default bindir, ${prefix}/bin
prefix=$(sed -n 's/^prefix = //p' "$BUILD/Makefile")
bindir=$prefix/bin
t_ok "the binary is installed" test -x "$D$bindir/bucketfs"
t_is "mount.bucketfs in /sbin points at it" \
	"$(readlink "$D/sbin/mount.bucketfs")" "$bindir/bucketfs"
t_ok "bucketfs(8) is installed" test -s "$D$prefix/share/man/man8/bucketfs.8"
t_ok "bucketfs.conf(5) is installed" \
	test -s "$D$prefix/share/man/man5/bucketfs.conf.5"
unit=$D$prefix/lib/systemd/system/bucketfs@.service
t_ok "the unit is installed" test -s "$unit"
t_ok "the unit runs the installed binary" \
	grep -qx "ExecStart=$bindir/bucketfs mount -f .*" "$unit"
t_ok "the sample config is installed" \
	cmp -s "$D/etc/bucketfs/bucketfs.conf.sample" \
	"$(dirname "$0")/../../doc/bucketfs.conf.sample"
t_is "the state dir is created 0700" "$(stat -c %a "$D/var/lib/bucketfs")" 700
t_is "the cache dir is created 0700" "$(stat -c %a "$D/var/cache/bucketfs")" 700

if command -v systemd-analyze >/dev/null; then
	# verify looks up ExecStart= and the man pages of Documentation=
	# on this system: give it the installed ones
	mkdir -p "$W/sa/bin" "$W/sa/man/man8" "$W/sa/man/man5"
	ln -sf "$BFS_BIN" "$W/sa/bin/bucketfs"
	cp "$D$prefix/share/man/man8/bucketfs.8" "$W/sa/man/man8/"
	cp "$D$prefix/share/man/man5/bucketfs.conf.5" "$W/sa/man/man5/"
	sed "s|^ExecStart=$bindir/|ExecStart=$W/sa/bin/|" "$unit" \
		>"$W/sa/bucketfs@.service"
	MANPATH=$W/sa/man systemd-analyze verify \
		"$W/sa/bucketfs@lake.service" >"$W/verify" 2>&1 ||
		true
	# from this container's point of view some warnings are about
	# the host (no systemd as PID 1); none may name the unit's lines
	if grep -q "bucketfs@" "$W/verify"; then
		_t_result 1 "systemd-analyze verify accepts bucketfs@.service"
		t_diag_file "$W/verify"
	else
		_t_result 0 "systemd-analyze verify accepts bucketfs@.service"
	fi
fi

if ! make -C "$BUILD" -s uninstall DESTDIR="$D" >"$W/uninstall.log" 2>&1; then
	t_diag_file "$W/uninstall.log"
fi
t_is "make uninstall leaves no file behind" \
	"$(find "$D" -type f -o -type l | head -5)" ""

# mount(8) runs: mount.bucketfs SPEC DIR [-sfnv] -o OPTS [-t TYPE]
ln -sf "$BFS_BIN" "$W/mount.bucketfs"
mkdir -p "$W/m"
"$W/mount.bucketfs" builtin "$W/m" -n -o "rw,_netdev,config=$BFS_CONF,log_file=$W/helper.log" \
	-t bucketfs >"$W/out" 2>&1
t_is "mount.bucketfs takes mount(8)'s command line" "$?" 0
t_ok "and mounts" is_mounted "$W/m"
echo x >"$W/m/f" 2>/dev/null
t_is "the mount serves the bucket" "$(cat "$W/m/f" 2>&1)" x
pid=$(_t_daemon_pid "$W/m")
t_ok "unmount" fusermount3 -u "$W/m"
t_ok "the daemon exits" wait_for 30 sh -c "! kill -0 '$pid'"

t_plan_done
