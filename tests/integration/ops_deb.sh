#!/usr/bin/env bash
# ops_deb.sh - the Debian package: `make deb` runs dpkg-buildpackage -us
# -uc -b on debian/ (in a copy of the tree); lintian finds no error in
# it; apt resolves its dependencies on this Debian (a simulated install:
# the machine is not changed); it holds what make install puts in place,
# under /usr (the binary, /sbin/mount.bucketfs, both man pages gzipped,
# the unit running /usr/bin/bucketfs, the sample config as a conffile,
# the 0700 state and cache dirs, a copyright file), every file owned by
# root; and the binary it holds runs. The build is bounded by a timeout
# (a package build compiles the whole tree once more).
. "$(dirname "$0")/../lib.sh"

BUILD=$BFS_BUILD
version=$(dpkg-parsechangelog -l "$BFS_SRCDIR/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb=$W/bucketfs_${version}_${arch}.deb

start=$(date +%s)
if ! timeout -k 10 900 make -C "$BUILD" -s deb DEBDIR="$W" >"$W/deb.log" 2>&1; then
	t_diag_file "$W/deb.log"
	t_abort "make deb (dpkg-buildpackage)"
fi
t_diag "dpkg-buildpackage took $(($(date +%s) - start)) s"
t_ok "make deb writes bucketfs_${version}_$arch.deb" test -s "$deb"

timeout -k 10 300 lintian --fail-on error \
	"$W/bucketfs_${version}_${arch}.changes" >"$W/lintian.out" 2>&1
rc=$?
t_diag_file "$W/lintian.out"
t_is "lintian: no error" "$rc $(grep -c '^E: ' "$W/lintian.out")" "0 0"

field()
{
	dpkg-deb -f "$deb" "$1"
}
t_is "Package" "$(field Package)" bucketfs
t_is "Version" "$(field Version)" "$version"
t_is "Architecture" "$(field Architecture)" "$arch"
deps=$(field Depends)
for d in fuse3 libfuse3-3 libcurl4 libssl3 liblmdb0 libexpat1 libjansson4 \
	libinih1 libmicrohttpd12 libc6; do
	t_ok "Depends names $d" sh -c "echo '$deps' | tr ',' '\n' |
		grep -Eq '^ *$d( |\$)'"
done
# apt-get -s resolves and orders without changing anything
apt-get -s -o Debug::NoLocking=1 install "$deb" >"$W/apt.out" 2>&1
rc=$?
t_ok "apt resolves its dependencies" \
	sh -c "[ $rc -eq 0 ] && grep -q '^Inst bucketfs ' '$W/apt.out'"
[ $rc -eq 0 ] || t_diag_file "$W/apt.out"
t_is "the sample config is a conffile" \
	"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" \
	/etc/bucketfs/bucketfs.conf.sample

dpkg-deb -c "$deb" >"$W/list"
# has PERMS PATH: the listing holds PATH with permissions PERMS
has()
{
	awk -v m="$1" -v p="$2" '$1 == m && $6 == p { f = 1 } END { exit !f }' \
		"$W/list"
}
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
t_ok "/usr/bin/bucketfs" has -rwxr-xr-x ./usr/bin/bucketfs
t_ok "/sbin/mount.bucketfs links to it" \
	grep -q ' \./sbin/mount\.bucketfs -> /usr/bin/bucketfs$' "$W/list"
t_ok "bucketfs(8), gzipped" has -rw-r--r-- ./usr/share/man/man8/bucketfs.8.gz
t_ok "mount.bucketfs(8) is bucketfs(8)" grep -q \
	' \./usr/share/man/man8/mount\.bucketfs\.8\.gz -> bucketfs\.8\.gz$' "$W/list"
t_ok "bucketfs.conf(5), gzipped" \
	has -rw-r--r-- ./usr/share/man/man5/bucketfs.conf.5.gz
t_ok "the unit, in $unitdir" has -rw-r--r-- ".$unitdir/bucketfs@.service"
t_ok "the sample config" has -rw-r--r-- ./etc/bucketfs/bucketfs.conf.sample
t_ok "the state dir, 0700" has drwx------ ./var/lib/bucketfs/
t_ok "the cache dir, 0700" has drwx------ ./var/cache/bucketfs/
t_ok "a copyright file" has -rw-r--r-- ./usr/share/doc/bucketfs/copyright
t_ok "operations.md" has -rw-r--r-- ./usr/share/doc/bucketfs/operations.md.gz
t_is "every entry is owned by root" \
	"$(awk '$2 != "root/root"' "$W/list")" ""
t_is "nothing under /usr/local" "$(grep -c '\./usr/local' "$W/list")" 0

mkdir -p "$W/x"
dpkg-deb -x "$deb" "$W/x"
t_is "the packaged bucketfs runs" "$("$W/x/usr/bin/bucketfs" --version)" \
	"bucketfs $version"
t_is "it is a release build (no sanitizer linked)" \
	"$(ldd "$W/x/usr/bin/bucketfs" | grep -c -E 'libasan|libubsan')" 0
t_ok "the packaged man page is doc/bucketfs.8" \
	sh -c "zcat '$W/x/usr/share/man/man8/bucketfs.8.gz' |
		cmp -s - '$BFS_SRCDIR/doc/bucketfs.8'"
unit=$W/x$unitdir/bucketfs@.service
t_ok "the unit runs /usr/bin/bucketfs" \
	grep -qx 'ExecStart=/usr/bin/bucketfs mount -f .*' "$unit"
# verify needs no systemd as PID 1; its ExecStart= must exist here
sed "s|/usr/bin/bucketfs |$W/x/usr/bin/bucketfs |" \
	"$unit" >"$W/bucketfs@.service"
t_ok "systemd-analyze verify accepts the packaged unit" \
	systemd-analyze verify --man=no "$W/bucketfs@lake.service"

t_plan_done
