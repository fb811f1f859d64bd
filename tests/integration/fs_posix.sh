#!/usr/bin/env bash
# fs_posix.sh - POSIX behaviour on a bucket, modelled on what pjdfstest
# and s3fs's integration tests check: O_EXCL, O_TRUNC, random and sparse
# writes, two handles on one file, truncate, append, chmod/chown/utimens,
# symlinks, xattrs, hard links, many files; and that ls -l and stat agree
# in both metadata modes. Runs on the store named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount on the $BFS_TEST_STORE store"
B=$BFS_B
L=$W/local
mkdir -p "$L"

py() { python3 -c "$@"; }

# open flags
echo first >"$B/excl"
t_fails_with "O_CREAT|O_EXCL on an existing file fails EEXIST" "FileExistsError" \
	py "import os; os.open('$B/excl', os.O_CREAT|os.O_EXCL|os.O_WRONLY)"
t_ok "O_CREAT|O_EXCL on a new file works" \
	py "import os; fd=os.open('$B/excl-new', os.O_CREAT|os.O_EXCL|os.O_WRONLY); os.write(fd,b'x'); os.close(fd)"
t_is "the new file holds what was written" "$(cat "$B/excl-new")" x
echo "a much longer first version" >"$B/trunc"
t_ok "O_TRUNC rewrites a file" py "import os; fd=os.open('$B/trunc', os.O_WRONLY|os.O_TRUNC); os.write(fd,b'short'); os.close(fd)"
t_is "O_TRUNC left only the new bytes" "$(cat "$B/trunc")" short

# random writes against a local model
py "
import os, random
random.seed(7)
data = bytearray(os.urandom(3 << 20))
for path in ('$L/rand', '$B/rand'):
    with open(path, 'wb') as f: f.write(data)
rng = random.Random(11)
ops = [(rng.randrange(0, 4 << 20), os.urandom(rng.randrange(1, 70000))) for _ in range(200)]
for path in ('$L/rand', '$B/rand'):
    fd = os.open(path, os.O_RDWR)
    for off, buf in ops: os.pwrite(fd, buf, off)
    os.close(fd)
"
t_ok "200 random writes give the same bytes as on local disk" cmp "$L/rand" "$B/rand"

# sparse file
t_ok "a write at 10 MiB into a new file" \
	py "import os; fd=os.open('$B/sparse', os.O_CREAT|os.O_WRONLY); os.pwrite(fd, b'end', 10<<20); os.close(fd)"
t_is "its size counts the hole" "$(stat -c %s "$B/sparse")" $(((10 << 20) + 3))
t_is "the hole reads as zeros" "$(head -c 4096 "$B/sparse" | tr -d '\0' | wc -c)" 0
t_is "the data after the hole" "$(tail -c 3 "$B/sparse")" end

# two handles on one file
t_ok "two handles write different regions" py "
import os
a = os.open('$B/two', os.O_CREAT|os.O_WRONLY)
b = os.open('$B/two', os.O_WRONLY)
os.pwrite(a, b'AAAA', 0)
os.pwrite(b, b'BBBB', 4)
os.close(a)
os.pwrite(b, b'CC', 8)
os.close(b)
"
t_is "both handles' writes are in the file" "$(cat "$B/two")" AAAABBBBCC

# truncate and append
printf '0123456789' >"$B/cut"
t_ok "truncate shrinks" truncate -s 4 "$B/cut"
t_is "shrunk content" "$(cat "$B/cut")" 0123
t_ok "truncate grows" truncate -s 8 "$B/cut"
t_fails_with "truncate past 5 TiB fails EFBIG" "File too large" \
	truncate -s 6T "$B/cut"
t_is "it left nothing in staging" \
	"$(find "$W/cache" -path '*staging*' -name '*.data' 2>/dev/null | wc -l)" 0
t_is "the file is unchanged" "$(stat -c %s "$B/cut")" 8
t_is "grown size" "$(stat -c %s "$B/cut")" 8
t_is "grown tail reads as zeros" "$(tail -c 4 "$B/cut" | od -An -tx1 | tr -d ' ')" 00000000
printf 'one\n' >"$B/app"
printf 'two\n' >>"$B/app"
printf 'three\n' >>"$B/app"
t_is "append keeps what was there" "$(cat "$B/app" | tr '\n' ' ')" "one two three "

# owner, mode, times
echo m >"$B/meta"
t_ok "chmod 640" chmod 640 "$B/meta"
t_ok "chown 1234:5678" chown 1234:5678 "$B/meta"
t_ok "touch -d" touch -m -d "2019-05-06 07:08:09 UTC" "$B/meta"
t_is "stat shows mode, owner, mtime" "$(stat -c '%a %u %g %Y' "$B/meta")" "640 1234 5678 1557126489"
t_is "ls -l agrees with stat" "$(ls -ln "$B/meta" | awk '{print $1, $3, $4}')" "-rw-r----- 1234 5678"
t_is "the content is unchanged by chmod/chown/touch" "$(cat "$B/meta")" m

# symlinks
t_ok "ln -s" ln -s excl "$B/link"
t_is "readlink" "$(readlink "$B/link")" excl
t_is "reading through the link" "$(cat "$B/link")" first
t_is "ls -l shows a link" "$(ls -l "$B/link" | cut -c1)" l

# xattrs
t_ok "setfattr user.color" setfattr -n user.color -v blue "$B/excl"
t_ok "setfattr user.empty" setfattr -n user.empty -v "" "$B/excl"
t_is "getfattr user.color" "$(getfattr --only-values -n user.color "$B/excl")" blue
t_ok "getfattr lists both" sh -c "getfattr -d '$B/excl' | grep -q user.empty"
t_ok "setfattr -x removes" setfattr -x user.empty "$B/excl"
t_fails_with "a removed attribute is gone" "No such attribute" \
	getfattr -n user.empty "$B/excl"
t_fails_with "trusted.* is not supported" "Operation not supported" \
	setfattr -n trusted.x -v 1 "$B/excl"
t_is "xattrs do not change the content" "$(cat "$B/excl")" first

# hard links
t_fails_with "ln (hard link) is EPERM" "Operation not permitted" ln "$B/excl" "$B/hard"

# many files
mkdir "$B/many"
for i in $(seq 1 300); do echo "$i" >"$B/many/f$i"; done
t_is "300 files listed" "$(ls "$B/many" | wc -l)" 300
t_is "a file among many" "$(cat "$B/many/f257")" 257
t_ok "rm -r of the directory" rm -r "$B/many"
t_fails "it is gone" test -e "$B/many"

# remount: everything above survives
t_ok "unmount" bfs_umount
bfs_mount || t_abort "mount again"
B=$BFS_B
t_ok "random writes survive a remount" cmp "$L/rand" "$B/rand"
t_is "mode, owner, mtime survive" "$(stat -c '%a %u %g %Y' "$B/meta")" "640 1234 5678 1557126489"
t_is "the link survives" "$(readlink "$B/link")" excl
t_is "the xattr survives" "$(getfattr --only-values -n user.color "$B/excl")" blue
t_is "ls -l and stat agree after remount (objects mode)" \
	"$(ls -ln "$B/meta" | awk '{print $1, $3, $4}')" "-rw-r----- 1234 5678"
t_ok "unmount" bfs_umount

# metadata=listing: owner and mode from the mount options, the same in
# ls -l and stat
bfs_mount -o metadata=listing,uid=4321,gid=8765,file_mode=0604 || t_abort "mount with metadata=listing"
B=$BFS_B
t_is "listing mode: stat shows the mount's owner and mode" \
	"$(stat -c '%a %u %g' "$B/meta")" "604 4321 8765"
t_is "listing mode: ls -l agrees" \
	"$(ls -ln "$B" | awk '$NF=="meta"{print $1, $3, $4}')" "-rw----r-- 4321 8765"
t_ok "unmount" bfs_umount

# (FIFOs and device nodes: fs_special.sh)
bfs_mount || t_abort "mount for the ro case"
B=$BFS_B
echo "open to all" >"$B/pub"
chmod 644 "$B/pub"
t_ok "unmount" bfs_umount

# -o ro: reads work, every change fails with EROFS (the kernel refuses
# them before they reach the daemon)
bfs_mount -o ro || t_abort "mount with -o ro"
B=$BFS_B
t_is "ro: a file reads" "$(cat "$B/pub")" "open to all"
t_fails_with "ro: a new file fails" "Read-only file system" sh -c "echo x > '$B/ro-new'"
t_fails_with "ro: overwriting fails" "Read-only file system" sh -c "echo x > '$B/pub'"
t_fails_with "ro: rm fails" "Read-only file system" rm "$B/pub"
t_fails_with "ro: mkdir fails" "Read-only file system" mkdir "$B/ro-dir"
t_fails_with "ro: chmod fails" "Read-only file system" chmod 600 "$B/pub"
t_ok "unmount" bfs_umount
bfs_mount || t_abort "mount after -o ro"
B=$BFS_B
t_is "ro changed nothing" "$(cat "$B/pub"; stat -c %a "$B/pub")" "open to all
644"
t_ok "unmount" bfs_umount

# other users: without allow_other the kernel keeps them out of the
# mount; with allow_other,default_permissions it checks the mode bits
bfs_open_to_others
bfs_mount || t_abort "mount without allow_other"
B=$BFS_B
t_fails_with "without allow_other another user cannot enter" "Permission denied" \
	as_nobody ls "$B"
t_ok "unmount" bfs_umount
bfs_mount -o allow_other,default_permissions || t_abort "mount with default_permissions"
B=$BFS_B
t_is "default_permissions: another user reads a 644 file" \
	"$(as_nobody cat "$B/pub" 2>&1)" "open to all"
t_fails_with "default_permissions: a 640 file of another owner is refused" "Permission denied" \
	as_nobody cat "$B/meta"
t_fails_with "default_permissions: no write to a file of another owner" \
	"Permission denied" as_nobody sh -c "echo x >> '$B/pub'"
t_is "... the file is unchanged" "$(cat "$B/pub")" "open to all"
t_ok "unmount" bfs_umount
t_plan_done
