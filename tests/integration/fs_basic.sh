#!/usr/bin/env bash
# fs_basic.sh - file I/O through a real mount, checked with ordinary tools:
# cp of a 100 MiB random file in and out (cmp), dd writes and reads at
# offsets, overwrite, append, truncate (grow and shrink), stat, ls, find,
# rm, unlink while open, hard links (EPERM), statfs, readdir of buckets/.
# Runs on the store named by BFS_TEST_STORE (see tests/lib.sh).
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount the lake on the $BFS_TEST_STORE store"
B=$BFS_B
L=$W/local
mkdir -p "$L"

# readdir of the lake root and of buckets/
t_is "lake root lists buckets/" "$(ls "$BFS_MNT" | grep -x buckets)" buckets
t_ok "buckets/ lists the bucket $BFS_BUCKET" \
	grep -qx "$BFS_BUCKET" <(ls "$BFS_MNT/buckets")
t_is "a fresh bucket is empty" "$(ls -A "$B" | wc -l)" 0

# small files
t_ok "echo > creates a file" sh -c "echo hello > '$B/hello.txt'"
t_is "cat reads it back" "$(cat "$B/hello.txt")" hello
t_is "stat size of a 6-byte file" "$(stat -c %s "$B/hello.txt")" 6
t_is "stat says regular file" "$(stat -c %F "$B/hello.txt")" "regular file"
t_ok "touch creates an empty file" touch "$B/empty"
t_is "empty file has size 0" "$(stat -c %s "$B/empty")" 0
t_is "empty file reads as nothing" "$(wc -c <"$B/empty")" 0

# 100 MiB in and out
rand_file "$L/big" 100
t_ok "cp of a 100 MiB random file into the bucket" cp "$L/big" "$B/big"
t_is "stat size of the 100 MiB file" "$(stat -c %s "$B/big")" 104857600
t_ok "cmp of the 100 MiB file in the bucket" cmp "$L/big" "$B/big"
t_ok "cp of the 100 MiB file out of the bucket" cp "$B/big" "$L/big.out"
t_ok "cmp of the copy out" cmp "$L/big" "$L/big.out"
t_is "ls -l shows the size" "$(ls -l "$B/big" | awk '{print $5}')" 104857600
# reads at offsets of the big file, across block boundaries
t_is "dd read of 1 MiB at offset 37 MiB" \
	"$(dd if="$B/big" bs=1M skip=37 count=1 status=none | md5sum)" \
	"$(dd if="$L/big" bs=1M skip=37 count=1 status=none | md5sum)"
t_is "dd read of 4097 bytes at odd offset 12345677" \
	"$(dd if="$B/big" iflag=skip_bytes,count_bytes skip=12345677 count=4097 status=none | md5sum)" \
	"$(dd if="$L/big" iflag=skip_bytes,count_bytes skip=12345677 count=4097 status=none | md5sum)"
t_is "read of the last 10 bytes" "$(tail -c 10 "$B/big" | md5sum)" \
	"$(tail -c 10 "$L/big" | md5sum)"

# dd writes at offsets into an existing file
rand_file "$L/f" 3
cp "$L/f" "$B/f"
head -c 4096 /dev/urandom >"$L/patch"
dd if="$L/patch" of="$L/f" bs=4096 seek=100 conv=notrunc status=none
t_ok "dd write of 4 KiB at offset 400 KiB (notrunc)" \
	dd if="$L/patch" of="$B/f" bs=4096 seek=100 conv=notrunc status=none
t_ok "the patched file matches" cmp "$L/f" "$B/f"
dd if="$L/patch" of="$L/f" bs=1 seek=3145000 conv=notrunc status=none
t_ok "dd write across the end extends the file" \
	dd if="$L/patch" of="$B/f" bs=1 seek=3145000 conv=notrunc status=none
t_ok "the extended file matches" cmp "$L/f" "$B/f"
t_is "its size is offset + 4096" "$(stat -c %s "$B/f")" $((3145000 + 4096))
t_ok "dd write past the end leaves a hole of zeros" \
	dd if="$L/patch" of="$B/sparse" bs=4096 seek=256 status=none
dd if="$L/patch" of="$L/sparse" bs=4096 seek=256 status=none
t_ok "the file with a hole matches" cmp "$L/sparse" "$B/sparse"

# overwrite
echo "first version, long enough" >"$B/over"
echo "second" >"$B/over"
t_is "overwrite with > replaces the content" "$(cat "$B/over")" second
t_is "overwrite with a shorter content shrinks the file" \
	"$(stat -c %s "$B/over")" 7
cp "$L/patch" "$B/over"
t_ok "cp over an existing file replaces it" cmp "$L/patch" "$B/over"

# append
printf 'one\n' >"$B/app"
printf 'two\n' >>"$B/app"
printf 'three\n' >>"$B/app"
t_is "append with >> keeps the earlier lines" "$(cat "$B/app")" \
	"$(printf 'one\ntwo\nthree')"
cat "$L/patch" >>"$B/big"
cat "$L/patch" >>"$L/big"
t_ok "append 4 KiB to the 100 MiB file" cmp "$L/big" "$B/big"

# truncate
cp "$L/f" "$B/t"
t_ok "truncate -s 1000 shrinks" truncate -s 1000 "$B/t"
t_is "size after shrink" "$(stat -c %s "$B/t")" 1000
t_ok "shrunk content is the prefix" cmp "$B/t" <(head -c 1000 "$L/f")
t_ok "truncate -s 5000 grows" truncate -s 5000 "$B/t"
t_is "size after grow" "$(stat -c %s "$B/t")" 5000
t_ok "grown content is the prefix then zeros" cmp "$B/t" \
	<(head -c 1000 "$L/f"; head -c 4000 /dev/zero)
t_ok "truncate -s 0 empties" truncate -s 0 "$B/t"
t_is "size after truncate to 0" "$(stat -c %s "$B/t")" 0
t_ok "truncate on open: : > file empties it" sh -c ": > '$B/app'"
t_is "emptied file has size 0" "$(stat -c %s "$B/app")" 0

# ls and find
mkdir -p "$B/tree/a/b"
echo 1 >"$B/tree/one"
echo 2 >"$B/tree/a/two"
echo 3 >"$B/tree/a/b/three"
t_is "ls of a directory" "$(ls "$B/tree" | tr '\n' ' ')" "a one "
t_is "find lists the tree" "$(cd "$B/tree" && find . | sort | tr '\n' ' ')" \
	". ./a ./a/b ./a/b/three ./a/two ./one "
t_is "find -type f" "$(cd "$B/tree" && find . -type f | sort | tr '\n' ' ')" \
	"./a/b/three ./a/two ./one "
t_is "find -size finds the big file" \
	"$(find "$B" -maxdepth 1 -size +50M -printf '%f\n')" big

# rm
t_ok "rm of a file" rm "$B/hello.txt"
t_fails_with "the removed file is gone (ENOENT)" "No such file or directory" \
	stat "$B/hello.txt"
t_ok "ls no longer lists it" sh -c "! ls '$B' | grep -qx hello.txt"
t_fails_with "rm of a missing file fails ENOENT" "No such file or directory" \
	rm "$B/hello.txt"
t_ok "rm of the 100 MiB file" rm "$B/big"

# unlink while open: the open descriptor still reads the data
cp "$L/f" "$B/open"
exec 7<"$B/open"
t_ok "rm of a file that is open for reading" rm "$B/open"
t_fails "the unlinked file is gone from the directory" stat "$B/open"
t_ok "the open descriptor still reads all of it" cmp "$L/f" - <&7
exec 7<&-
exec 8>"$B/open-w"
printf 'written after unlink' >&8
t_ok "rm of a file open for writing" rm "$B/open-w"
printf ' and more' >&8
exec 8>&-
t_fails "closing it does not bring it back" stat "$B/open-w"

# hard links are not possible in a bucket
echo x >"$B/link-src"
t_fails_with "ln (hard link) fails with EPERM" "Operation not permitted" \
	ln "$B/link-src" "$B/link-dst"
t_fails "no link was made" stat "$B/link-dst"

# statfs
t_ok "df works on the mount" df "$BFS_MNT"
t_ok "df on the bucket dir reports a size" \
	sh -c "df -P '$B' | awk 'NR==2 && \$2 > 0 { f=1 } END { exit !f }'"
t_ok "stat -f works" stat -f "$BFS_MNT"

t_ok "unmount" bfs_umount
t_fails "nothing is left mounted" is_mounted "$BFS_MNT"
t_plan_done
