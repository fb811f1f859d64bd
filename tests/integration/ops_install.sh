#!/usr/bin/env bash
# ops_install.sh - `make install` into a DESTDIR: the binary, the
# mount.bucketfs helper mount(8) runs, both man pages, the systemd unit
# (checked by systemd-analyze verify, its exposure by systemd-analyze
# security at 3.0 or less; its Documentation= pages installed), the sample config and the state
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

# systemd-analyze verify needs no systemd as PID 1 (CI runs in a
# container): it parses the unit and checks that ExecStart= is
# executable. Point ExecStart= at this build; man pages are checked
# below against the DESTDIR rather than through man(1), which a minimal
# system may lack.
mkdir -p "$W/sa"
sed "s|$bindir/bucketfs |$BFS_BIN |" "$unit" >"$W/sa/bucketfs@.service"
t_ok "systemd-analyze verify accepts the installed unit" \
	systemd-analyze verify --man=no "$W/sa/bucketfs@lake.service"
t_ok "it runs --premount before the daemon, with full privileges" \
	grep -qx "ExecStartPre=+$bindir/bucketfs mount --premount .*" "$unit"
# the sandbox's score, as systemd 252 rates it (doc/operations.md)
score=$(cd "$W/sa" && systemd-analyze security --offline=yes \
	bucketfs@lake.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
t_diag "systemd-analyze security: exposure $score"
t_ok "systemd-analyze security: exposure ${score:-?} is 3.0 or less" \
	awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 3.0) }'
docs=$(sed -n 's/^Documentation=//p' "$unit")
t_is "the unit names both man pages" "$docs" "man:bucketfs(8) man:bucketfs.conf(5)"
for d in $docs; do
	page=${d#man:}
	name=${page%(*}
	sec=${page#*(}
	sec=${sec%)}
	t_ok "$d is installed" test -s "$D$prefix/share/man/man$sec/$name.$sec"
done

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
