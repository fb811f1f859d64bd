#!/usr/bin/env bash
# fs_rename.sh - rename through a real mount: mv of a file (same directory,
# another directory, over an existing file), mv of a directory tree (every
# object moves, contents intact), mv onto a non-empty directory
# (ENOTEMPTY), a file onto a directory (EISDIR) and back (ENOTDIR),
# rename of a missing source (ENOENT); a file keeps its inode number
# across renames and when the kernel forgets it (as root and as nobody).
# Runs on the store named by BFS_TEST_STORE (see tests/lib.sh).
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount the lake on the $BFS_TEST_STORE store"
B=$BFS_B
L=$W/local
mkdir -p "$L"

rand_file "$L/a" 5
cp "$L/a" "$B/a"
t_ok "mv of a file in the same directory" mv "$B/a" "$B/b"
t_fails "the old name is gone" stat "$B/a"
t_ok "the new name has the content" cmp "$L/a" "$B/b"
mkdir "$B/dir"
t_ok "mv of a file into another directory" mv "$B/b" "$B/dir/c"
t_ok "it has the content there" cmp "$L/a" "$B/dir/c"
t_fails "and is not in the old directory" stat "$B/b"

echo old >"$B/target"
echo new >"$B/source"
t_ok "mv over an existing file replaces it" mv -f "$B/source" "$B/target"
t_is "the target has the new content" "$(cat "$B/target")" new
t_fails "the source is gone" stat "$B/source"

t_fails_with "mv of a missing file fails ENOENT" "No such file or directory" \
	mv "$B/nothing" "$B/x"

# a tree with files at several depths
mkdir -p "$B/tree/x/y" "$B/tree/empty"
rand_file "$L/t1" 1
cp "$L/t1" "$B/tree/t1"
cp "$L/a" "$B/tree/x/t2"
echo three >"$B/tree/x/y/t3"
t_ok "mv of a directory tree" mv "$B/tree" "$B/moved"
t_fails "the old tree is gone" stat "$B/tree"
t_is "every entry moved" "$(cd "$B/moved" && find . | sort | tr '\n' ' ')" \
	". ./empty ./t1 ./x ./x/t2 ./x/y ./x/y/t3 "
t_ok "contents intact after the move (1)" cmp "$L/t1" "$B/moved/t1"
t_ok "contents intact after the move (2)" cmp "$L/a" "$B/moved/x/t2"
t_is "contents intact after the move (3)" "$(cat "$B/moved/x/y/t3")" three
t_ok "the empty directory moved too" test -d "$B/moved/empty"
t_ok "mv of a directory into another directory" mv "$B/moved" "$B/dir/"
t_ok "it is there with its files" cmp "$L/t1" "$B/dir/moved/t1"

mkdir -p "$B/full" "$B/src2"
echo f >"$B/full/f"
echo s >"$B/src2/s"
t_fails_with "mv of a directory onto a non-empty directory fails ENOTEMPTY" \
	"empty" mv -T "$B/src2" "$B/full"
t_is "the source directory is untouched" "$(cat "$B/src2/s")" s
t_is "the target directory is untouched" "$(cat "$B/full/f")" f
mkdir "$B/hollow"
t_ok "mv of a directory onto an empty directory replaces it" \
	mv -T "$B/src2" "$B/hollow"
t_is "the moved file is there" "$(cat "$B/hollow/s")" s
t_fails_with "mv of a file onto a directory fails EISDIR" "directory" \
	mv -T "$B/target" "$B/full"
t_fails_with "mv of a directory onto a file fails ENOTDIR" "directory" \
	mv -T "$B/full" "$B/target"
t_fails "mv of a directory into itself fails" mv "$B/full" "$B/full/sub"

# rename of an open file: the open descriptor keeps working
cp "$L/t1" "$B/opened"
exec 7<"$B/opened"
t_ok "mv of a file that is open" mv "$B/opened" "$B/renamed"
t_ok "the open descriptor still reads it" cmp "$L/t1" - <&7
exec 7<&-
t_ok "the new name reads it" cmp "$L/t1" "$B/renamed"

# Inode numbers (pjdfstest rename/09 and rename/10): a file keeps its
# number across renames, by root and by an unprivileged user out of a
# sticky directory, and when the kernel forgets it between two steps:
# drop_caches makes the kernel forget every unused inode, as memory
# pressure on a busy machine does, and the next lookup of the name must
# give the same number back (it used to hand out a new one).
t_ok "unmount" bfs_umount
bfs_mount_shared || t_abort "mount with allow_other,default_permissions"
B=$BFS_B
forget() { echo 2 >/proc/sys/vm/drop_caches; }
ino() { stat -c %i "$1"; }
mkdir "$B/sticky" "$B/other"
chmod 1777 "$B/sticky"
chown 65534:65534 "$B/other"
for type in file symlink fifo dir; do
	case $type in
	file) as_nobody sh -c "echo x >'$B/sticky/a'" ;;
	symlink) as_nobody ln -s target "$B/sticky/a" ;;
	fifo) as_nobody mkfifo "$B/sticky/a" ;;
	dir) as_nobody mkdir "$B/sticky/a" ;;
	esac
	i0=$(ino "$B/sticky/a")
	forget
	t_is "$type: forgotten by the kernel, looked up again: the same number" \
		"$(ino "$B/sticky/a")" "$i0"
	as_nobody mv -T "$B/sticky/a" "$B/other/b"
	forget
	t_is "$type: renamed by nobody out of a sticky directory: the same number" \
		"$(ino "$B/other/b")" "$i0"
	as_nobody mv -T "$B/other/b" "$B/sticky/a"
	forget
	t_is "$type: renamed back: the same number" "$(ino "$B/sticky/a")" "$i0"
	# over a file, or over an empty directory for a directory
	if [ "$type" = dir ]; then
		as_nobody mkdir "$B/other/c"
	else
		as_nobody sh -c "echo y >'$B/other/c'"
	fi
	t_ok "$type: root renames it over another of its kind" \
		mv -T "$B/sticky/a" "$B/other/c"
	forget
	t_is "$type: renamed by root over another: the same number" \
		"$(ino "$B/other/c")" "$i0"
	t_fails "$type: the old name is gone" stat "$B/sticky/a"
	rm -rf "$B/other/c"
done
echo z >"$B/sticky/new"
t_ok "a new file gets a number of its own" \
	[ "$(ino "$B/sticky/new")" != "$i0" ]

t_plan_done
