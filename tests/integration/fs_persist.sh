#!/usr/bin/env bash
# fs_persist.sh - durability and the mount commands: data written through
# one mount is in the store after close and after fsync (seen by a second
# mount of the same store while the file is still open), and after
# unmount, an emptied cache and a new mount (as a daemon), every file,
# directory, size, mode and mtime is still there. Also the single-bucket
# form (bucketfs mount NAME MNT) and the mount.fuse3 form
# (bucketfs NAME MNT -o config=FILE).
# Runs on the store named by BFS_TEST_STORE (see tests/lib.sh).
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount the lake on the $BFS_TEST_STORE store"
B=$BFS_B
L=$W/local
mkdir -p "$L"
first_mnt=$BFS_MNT

rand_file "$L/big" 20
cp "$L/big" "$B/big"
mkdir -p "$B/docs/empty-dir" "$B/docs/sub"
echo "readme" >"$B/docs/README"
echo "nested" >"$B/docs/sub/nested.txt"
: >"$B/docs/empty-file"
printf 'one\n' >"$B/log"
printf 'two\n' >>"$B/log"
echo secret >"$B/private"
t_ok "chmod 600" chmod 600 "$B/private"
t_is "the mode is 600" "$(stat -c %a "$B/private")" 600
t_ok "touch -d sets an mtime" touch -m -d "2021-02-03 04:05:06 UTC" "$B/docs/README"
t_is "the mtime is the one set" "$(stat -c %Y "$B/docs/README")" 1612325106

# fsync commits: a second mount of the same store sees the data while
# the writer still holds the file open
BFS_MNT=$W/mnt2
cp "$BFS_CONF" "$W/second.conf"
sed -i "s|^cache_dir = .*|cache_dir = $W/cache2|" "$W/second.conf"
BFS_CONF_SAVE=$BFS_CONF
BFS_CONF=$W/second.conf
bfs_mount || t_abort "a second mount of the same store"
B2=$BFS_B
BFS_CONF=$BFS_CONF_SAVE
BFS_MNT=$first_mnt
cat >"$W/fsync.py" <<'EOF'
import os, subprocess, sys
path, other = sys.argv[1], sys.argv[2]
data = os.urandom(3 * 1048576 + 17)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, data)
os.fsync(fd)
# still open: the other mount must see all of it now
with open(other, "rb") as f:
    seen = f.read()
os.write(fd, b"after fsync")
os.close(fd)
sys.exit(0 if seen == data else 1)
EOF
t_ok "after fsync (file still open) another mount reads the data" \
	python3 "$W/fsync.py" "$B/synced" "$B2/synced"
echo "closed" >"$B/closed"
t_is "after close another mount reads the file" \
	"$(cat "$B2/closed" 2>&1)" closed
t_ok "unmount the second mount" bfs_umount "$W/mnt2"

stat -c '%n %s %a %Y' "$B/big" "$B/docs/README" "$B/log" "$B/private" \
	"$B/docs/empty-file" >"$W/before.stat" 2>&1
(cd "$B" && find . | sort) >"$W/before.find"

t_ok "unmount" bfs_umount
t_fails "nothing is left mounted" is_mounted "$first_mnt"
t_is "no staged file is left after a clean unmount" \
	"$(find "$W/cache" -path '*staging*' -type f 2>/dev/null | wc -l)" 0
# the data must come from the store, not from a cache
rm -rf "$W/cache" "$W/cache2"

# mount again, as a daemon this time
bfs_mount_daemon || t_abort "mount the lake again (daemon)"
B=$BFS_B
t_ok "the 20 MiB file is intact" cmp "$L/big" "$B/big"
t_is "the tree is the same" "$(cd "$B" && find . | sort)" "$(cat "$W/before.find")"
t_is "sizes, modes and mtimes are the same" \
	"$(stat -c '%n %s %a %Y' "$B/big" "$B/docs/README" "$B/log" \
		"$B/private" "$B/docs/empty-file" 2>&1)" "$(cat "$W/before.stat")"
t_is "appended file" "$(cat "$B/log")" "$(printf 'one\ntwo')"
t_ok "empty directory made by mkdir is still there" test -d "$B/docs/empty-dir"
t_is "the fsynced file has its last write too" \
	"$(tail -c 11 "$B/synced")" "after fsync"
t_ok "unmount the daemon" bfs_umount

# one bucket as the root
bfs_mount "$BFS_BUCKET" || t_abort "mount one bucket as the root"
t_ok "bucketfs mount NAME MNT shows the bucket at the root" \
	cmp "$L/big" "$BFS_MNT/big"
t_is "no buckets/ level in a single-bucket mount" \
	"$(ls "$BFS_MNT" | tr '\n' ' ')" "big closed docs log private synced "
t_ok "unmount" bfs_umount

# the form mount.fuse3 uses: bucketfs NAME MOUNTPOINT -o config=FILE,...
_t_mounts+=("$BFS_MNT")
t_ok "bucketfs NAME MNT -o config=FILE (mount.fuse3 form) mounts" \
	"$BFS_BIN" "$BFS_BUCKET" "$BFS_MNT" -o "config=$BFS_CONF,_netdev"
t_ok "it shows the bucket" cmp "$L/big" "$BFS_MNT/big"
_t_pid_of[$BFS_MNT]=$(_t_daemon_pid "$BFS_MNT")
t_ok "fusermount3 -u unmounts it" bfs_umount
t_fails "nothing is left mounted" is_mounted "$BFS_MNT"

t_plan_done
