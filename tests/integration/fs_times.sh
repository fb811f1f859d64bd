#!/usr/bin/env bash
# fs_times.sh - atime, mtime and ctime behave as on a local disk, on an
# allow_other,default_permissions mount, as root and as an unprivileged
# user: utimensat sets each time on its own (UTIME_OMIT, UTIME_NOW),
# chmod and chown move ctime, a read moves atime as relatime does without
# writing anything, a directory's mtime and ctime move when an entry is
# created, removed or renamed in it, and what was stored survives a
# remount (doc/SEMANTICS.md "Times"). Runs on the store named by
# BFS_TEST_STORE. Times are compared with fixed past dates or with the
# clock read before the change, never with a duration.
. "$(dirname "$0")/../lib.sh"

# "atime mtime ctime" of a path, in nanoseconds
times_ns()
{
	stat -c '%.9X %.9Y %.9Z' "$1" | tr -d .
}
field() { echo "$1" | cut -d' ' -f"$2"; }
secs() { echo $(($1 / 1000000000)); }
# seconds since the epoch of a date in UTC
epoch() { date -u -d "$1" +%s; }

export TZ=UTC
bfs_mount_shared || t_abort "mount with allow_other,default_permissions"
B=$BFS_B
mkdir "$B/t"
chmod 777 "$B/t"
T=$B/t
y2001=$(epoch '2001-02-03 04:05:06')
y2002=$(epoch '2002-01-01 00:00:00')
y2003=$(epoch '2003-01-01 00:00:00')

# ---- utimensat: each time on its own
start=$(date +%s)
echo data >"$T/f"
t_ok "touch -d sets atime and mtime with nanoseconds" \
	touch -d '2001-02-03 04:05:06.123456789' "$T/f"
tm=$(times_ns "$T/f")
t_is "both are the time given" "$(field "$tm" 1) $(field "$tm" 2)" \
	"${y2001}123456789 ${y2001}123456789"
t_ok "touch -d moved ctime to now" test "$(secs "$(field "$tm" 3)")" -ge "$start"
t_ok "touch -a -d sets atime alone (mtime UTIME_OMIT)" \
	touch -a -d '2002-01-01 00:00:00' "$T/f"
tm=$(times_ns "$T/f")
t_is "atime is the new one, mtime unchanged" "$(field "$tm" 1) $(field "$tm" 2)" \
	"${y2002}000000000 ${y2001}123456789"
t_ok "touch -m -d sets mtime alone (atime UTIME_OMIT)" \
	touch -m -d '2003-01-01 00:00:00' "$T/f"
tm=$(times_ns "$T/f")
t_is "mtime is the new one, atime unchanged" "$(field "$tm" 1) $(field "$tm" 2)" \
	"${y2002}000000000 ${y2003}000000000"
now=$(date +%s)
t_ok "touch -a sets atime to now (UTIME_NOW, mtime UTIME_OMIT)" touch -a "$T/f"
tm=$(times_ns "$T/f")
t_ok "atime is now" test "$(secs "$(field "$tm" 1)")" -ge "$now"
t_is "mtime unchanged by touch -a" "$(field "$tm" 2)" "${y2003}000000000"
a_now=$(field "$tm" 1)
now=$(date +%s)
t_ok "touch -m sets mtime to now (UTIME_NOW, atime UTIME_OMIT)" touch -m "$T/f"
tm=$(times_ns "$T/f")
t_ok "mtime is now" test "$(secs "$(field "$tm" 2)")" -ge "$now"
t_is "atime unchanged by touch -m" "$(field "$tm" 1)" "$a_now"
f_times=$(times_ns "$T/f")

# ---- chmod and chown move ctime
echo data >"$T/c"
touch -d '2001-02-03 04:05:06' "$T/c"
c0=$(field "$(times_ns "$T/c")" 3)
t_ok "chmod 600" chmod 600 "$T/c"
tm=$(times_ns "$T/c")
t_ok "chmod moved ctime" test "$(field "$tm" 3)" -gt "$c0"
t_is "chmod left mtime" "$(field "$tm" 2)" "${y2001}000000000"
c1=$(field "$tm" 3)
t_ok "chown 65534" chown 65534 "$T/c"
tm=$(times_ns "$T/c")
t_ok "chown moved ctime" test "$(field "$tm" 3)" -gt "$c1"
t_is "chown left mtime" "$(field "$tm" 2)" "${y2001}000000000"
c_times=$(times_ns "$T/c")

# ---- a write moves mtime and ctime
echo data >"$T/w"
touch -d '2001-02-03 04:05:06' "$T/w"
now=$(date +%s)
t_ok "append to a file" sh -c "echo more >> '$T/w'"
tm=$(times_ns "$T/w")
t_ok "the write moved mtime" test "$(secs "$(field "$tm" 2)")" -ge "$now"
t_ok "the write moved ctime" test "$(secs "$(field "$tm" 3)")" -ge "$now"

# ---- unprivileged: its own file's times, not another's
as_nobody sh -c "echo n > '$T/nf'"
t_ok "nobody sets the times of its own file" \
	as_nobody touch -d '2001-02-03 04:05:06' "$T/nf"
t_is "nobody's file has the time set" "$(stat -c %Y "$T/nf")" "$y2001"
now=$(date +%s)
t_ok "nobody sets atime of its own file to now" as_nobody touch -a "$T/nf"
t_ok "its atime is now" test "$(stat -c %X "$T/nf")" -ge "$now"
echo r >"$T/rootf"
chmod 644 "$T/rootf"
t_fails_with "nobody cannot set a time of root's file" "Operation not permitted" \
	as_nobody /usr/bin/python3 -c 'import os, sys; os.utime(sys.argv[1], (1, 1))' "$T/rootf"
t_fails_with "nobody cannot touch root's read-only file" "Permission denied" \
	as_nobody touch "$T/rootf"

# ---- relatime: a read moves atime in memory only
echo data >"$T/r"
touch -a -d '2002-01-01 00:00:00' "$T/r"
now=$(date +%s)
t_is "a read by nobody" "$(as_nobody cat "$T/r")" data
r1=$(field "$(times_ns "$T/r")" 1)
t_ok "the read moved an atime older than mtime to now" \
	test "$(secs "$r1")" -ge "$now"
t_is "a second read" "$(cat "$T/r")" data
t_is "a second read leaves a recent atime (relatime)" \
	"$(field "$(times_ns "$T/r")" 1)" "$r1"

# ---- directory times move with its entries
D=$T/dir
mkdir "$D"
chmod 777 "$D"
mkdir "$T/dir2"
# old DIR...: set each DIR's times to 2001; then $now is the clock and
# ${ctime[DIR]} the ctime that touch gave it
declare -A ctime
old()
{
	local p
	for p in "$@"; do
		touch -d '2001-02-03 04:05:06' "$p"
		ctime[$p]=$(field "$(times_ns "$p")" 3)
	done
	now=$(date +%s)
}
# dir_moved NAME DIR: DIR's mtime is at least $now, its ctime is later
# than the one old gave it
dir_moved()
{
	local tm
	tm=$(times_ns "$2")
	t_ok "$1: mtime moved" test "$(secs "$(field "$tm" 2)")" -ge "$now"
	t_ok "$1: ctime moved" test "$(field "$tm" 3)" -gt "${ctime[$2]}"
}
old "$D"
t_is "a directory's mtime is set" "$(stat -c %Y "$D")" "$y2001"
now=$(date +%s)
echo x >"$D/a"
dir_moved "create" "$D"
old "$D"
mkdir "$D/sub"
dir_moved "mkdir" "$D"
old "$D"
rmdir "$D/sub"
dir_moved "rmdir" "$D"
old "$D"
ln -s a "$D/l"
dir_moved "symlink" "$D"
old "$D"
mv "$D/a" "$D/b"
dir_moved "rename within" "$D"
old "$D" "$T/dir2"
mv "$D/b" "$T/dir2/b"
dir_moved "rename out: the old parent" "$D"
dir_moved "rename out: the new parent" "$T/dir2"
old "$D"
rm "$D/l"
dir_moved "unlink" "$D"
old "$D"
t_ok "nobody creates in a 777 directory" as_nobody sh -c "echo n > '$D/n'"
dir_moved "create by nobody" "$D"
old "$D"
t_ok "nobody removes its file" as_nobody rm "$D/n"
dir_moved "unlink by nobody" "$D"
old "$D"
t_is "the directory's mtime set again" "$(stat -c %Y "$D")" "$y2001"

# ---- remount: what was stored is read back
t_ok "unmount" bfs_umount
bfs_mount_shared || t_abort "mount again"
B=$BFS_B
T=$B/t
t_is "after remount: atime, mtime and ctime of the touched file" \
	"$(times_ns "$T/f")" "$f_times"
t_is "after remount: ctime after chmod and chown" "$(times_ns "$T/c")" "$c_times"
t_is "after remount: the read stored no atime" \
	"$(field "$(times_ns "$T/r")" 1)" "${y2002}000000000"
t_is "after remount: the directory's mtime" "$(stat -c %Y "$T/dir")" "$y2001"
t_ok "unmount" bfs_umount
t_plan_done
