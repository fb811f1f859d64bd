#!/usr/bin/env bash
# fs_dirs.sh - directories through a real mount: mkdir (a directory
# marker), mkdir -p, rmdir of an empty and of a non-empty directory
# (ENOTEMPTY), rm -r of a tree, EEXIST/ENOTDIR/ENOENT cases, a listing
# longer than one page (max_keys=100, 250 entries), directory attributes.
# Runs on the store named by BFS_TEST_STORE (see tests/lib.sh).
. "$(dirname "$0")/../lib.sh"

# small listing pages, so that 250 entries take three list requests
bfs_mount -o max_keys=100 || t_abort "mount the lake on the $BFS_TEST_STORE store"
B=$BFS_B

t_ok "mkdir" mkdir "$B/d"
t_is "stat says directory" "$(stat -c %F "$B/d")" directory
t_ok "ls lists the new empty directory" grep -qx d <(ls "$B")
t_is "the new directory is empty" "$(ls -A "$B/d" | wc -l)" 0
t_fails_with "mkdir of an existing directory fails EEXIST" "File exists" \
	mkdir "$B/d"
echo x >"$B/file"
t_fails_with "mkdir over a file fails EEXIST" "File exists" mkdir "$B/file"
t_fails_with "mkdir under a file fails ENOTDIR" "Not a directory" \
	mkdir "$B/file/sub"
t_fails_with "mkdir in a missing directory fails ENOENT" \
	"No such file or directory" mkdir "$B/missing/sub"
t_ok "mkdir -p of a deep path" mkdir -p "$B/p/q/r/s"
t_is "find shows every level" "$(cd "$B/p" && find . | sort | tr '\n' ' ')" \
	". ./q ./q/r ./q/r/s "
t_ok "a file in a deep directory" sh -c "echo deep > '$B/p/q/r/s/f'"
t_is "and its content" "$(cat "$B/p/q/r/s/f")" deep

# rmdir
t_ok "rmdir of an empty directory" rmdir "$B/d"
t_fails_with "it is gone" "No such file or directory" stat "$B/d"
t_fails_with "rmdir of a non-empty directory fails ENOTEMPTY" \
	"Directory not empty" rmdir "$B/p/q/r/s"
t_is "the non-empty directory keeps its file" "$(cat "$B/p/q/r/s/f")" deep
t_fails_with "rmdir of a directory holding only a subdirectory fails ENOTEMPTY" \
	"Directory not empty" rmdir "$B/p/q"
t_fails_with "rmdir of a file fails ENOTDIR" "Not a directory" rmdir "$B/file"
t_fails_with "rmdir of a missing directory fails ENOENT" \
	"No such file or directory" rmdir "$B/nothing"
t_fails_with "rm (no -r) of a directory fails EISDIR" "Is a directory" \
	rm "$B/p"
t_ok "rm -r of a tree" rm -r "$B/p"
t_fails "the tree is gone" stat "$B/p"
t_is "the bucket holds only the file now" "$(ls "$B" | tr '\n' ' ')" "file "

# a directory that becomes empty by rm of its last file is still there
# (it had a marker from mkdir)
mkdir "$B/keep"
echo x >"$B/keep/only"
rm "$B/keep/only"
t_ok "a directory made by mkdir stays after its last file goes" \
	test -d "$B/keep"
t_ok "and can then be removed with rmdir" rmdir "$B/keep"

# a directory with more entries than one listing page
mkdir "$B/many"
for i in $(seq -w 1 250); do
	: >"$B/many/f$i"
done
mkdir "$B/many/sub"
t_is "ls of 250 files and a subdirectory (3 listing pages)" \
	"$(ls "$B/many" | wc -l)" 251
t_is "ls -l shows them too" "$(ls -l "$B/many" | grep -c '^-')" 250
t_is "the listing is sorted and complete" "$(ls "$B/many" | head -1),$(ls "$B/many" | tail -2 | head -1)" \
	"f001,f250"
t_is "find counts them" "$(find "$B/many" -type f | wc -l)" 250
t_ok "rm -r of the 250 files" rm -r "$B/many"
t_fails "and the directory is gone" stat "$B/many"

# attributes of directories
mkdir "$B/attrs"
t_ok "a directory has the execute bits" test -x "$B/attrs"
t_ok "a directory link count is at least 1" \
	test "$(stat -c %h "$B/attrs")" -ge 1
t_ok "cd into a directory and create a file by relative path" \
	sh -c "cd '$B/attrs' && echo rel > rel.txt && cat rel.txt"
t_is "the file is where it should be" "$(cat "$B/attrs/rel.txt")" rel

t_plan_done
