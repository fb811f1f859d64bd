#!/usr/bin/env bash
# fs_concurrency.sh - several processes on one mount at once, which must
# behave as on a local disk (no corruption, no crash): two writers of
# different files, readers during a write (each read sees a prefix of what
# is being written), four readers of one file, four processes creating
# files in one directory, a writer and a remover in one directory.
# Runs on the store named by BFS_TEST_STORE (see tests/lib.sh).
. "$(dirname "$0")/../lib.sh"

bfs_mount || t_abort "mount the lake on the $BFS_TEST_STORE store"
B=$BFS_B
L=$W/local
mkdir -p "$L"

# two writers of different files at once
rand_file "$L/w1" 40
rand_file "$L/w2" 40
cp "$L/w1" "$B/w1" 2>"$W/cp1.err" &
p1=$!
dd if="$L/w2" of="$B/w2" bs=128k status=none 2>"$W/cp2.err" &
p2=$!
wait "$p1"
s1=$?
wait "$p2"
s2=$?
t_is "two writers at once: both succeed" "$s1,$s2" "0,0"
t_ok "the first file is intact" cmp "$L/w1" "$B/w1"
t_ok "the second file is intact" cmp "$L/w2" "$B/w2"

# a reader during a write: the writer holds the file open and writes
# 1 MiB at a time; every read meanwhile must see a prefix of the final
# content (what a local disk gives), and the final read all of it. Half
# way the writer waits (bounded) until three reads have seen part of the
# file, so that reads during the write are certain, not a matter of
# timing.
rand_file "$L/slow" 16
rm -f "$W/reads-done"
(
	for i in $(seq 0 15); do
		dd if="$L/slow" bs=1M skip="$i" count=1 status=none
		if [ "$i" = 7 ]; then
			for _ in $(seq 1200); do
				[ -e "$W/reads-done" ] && break
				sleep 0.1
			done
		fi
	done
) >"$B/slow" &
writer=$!
# the subshell creates the file: read only once it exists
wait_for 50 test -e "$B/slow"
reads=0
bad=0
partial=0
while kill -0 "$writer" 2>/dev/null; do
	reads=$((reads + 1))
	if cat "$B/slow" >"$L/read" 2>"$W/read.err"; then
		n=$(stat -c %s "$L/read")
		if [ "$n" -gt 0 ] && ! cmp -s -n "$n" "$L/read" "$L/slow"; then
			bad=$((bad + 1))
			cp "$L/read" "$W/bad-read.$reads"
		fi
		[ "$n" -gt 0 ] && [ "$n" -lt $((16 * 1048576)) ] &&
			partial=$((partial + 1))
	else
		# a read may not fail while the file exists
		bad=$((bad + 1))
		t_diag "read $reads failed: $(head -c 200 "$W/read.err")"
	fi
	# also a reader of another, finished file during the write
	cmp -s "$L/w1" "$B/w1" || bad=$((bad + 1))
	[ "$partial" -ge 3 ] && touch "$W/reads-done"
done
wait "$writer"
t_is "the slow writer succeeds" "$?" 0
t_ok "reads happened during the write ($reads)" test "$reads" -ge 3
# the writer waited half way, with 8 MiB written, until three reads
# saw part of the file (neither nothing nor all of it)
t_ok "... and saw the part written so far ($partial of them)" test "$partial" -ge 3
t_is "$reads reads during the write saw only prefixes of it" "$bad" 0
t_ok "after the write the file is complete" cmp "$L/slow" "$B/slow"

# four readers of one file at once
pids=()
for i in 1 2 3 4; do
	cmp "$L/w1" "$B/w1" >"$W/r$i.out" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do
	wait "$p" || fails=$((fails + 1))
done
t_is "four readers of one file at once all read it right" "$fails" 0

# four processes creating 50 files each in one directory
mkdir "$B/crowd"
pids=()
for i in 1 2 3 4; do
	(
		for j in $(seq 1 50); do
			echo "$i-$j" >"$B/crowd/p$i-$j" || exit 1
		done
	) &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do
	wait "$p" || fails=$((fails + 1))
done
t_is "four creators in one directory succeed" "$fails" 0
t_is "the directory holds all 200 files" "$(ls "$B/crowd" | wc -l)" 200
wrong=0
for i in 1 2 3 4; do
	for j in 1 17 50; do
		[ "$(cat "$B/crowd/p$i-$j")" = "$i-$j" ] || wrong=$((wrong + 1))
	done
done
t_is "each file holds what its writer wrote" "$wrong" 0

# a writer and a remover in one directory
(
	for j in $(seq 1 40); do
		echo "$j" >"$B/crowd/new$j"
	done
) &
pw=$!
(
	for j in $(seq 1 50); do
		rm -f "$B/crowd/p1-$j"
	done
) &
pr=$!
wait "$pw"
s1=$?
wait "$pr"
s2=$?
t_is "a writer and a remover in one directory both succeed" "$s1,$s2" "0,0"
t_is "the directory holds what is left" "$(ls "$B/crowd" | wc -l)" 190
t_is "no removed file is listed" "$(ls "$B/crowd" | grep -c '^p1-')" 0

t_plan_done
