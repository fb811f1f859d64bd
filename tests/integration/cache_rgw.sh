#!/usr/bin/env bash
# cache_rgw.sh - the cache layers on a real mount over Ceph RGW: a second
# read makes no GET, the block cache serves reads after the kernel's
# pages are gone (bytes of blocks on disk spliced or mapped from their
# files, not read into the daemon), a first read of the whole 128 KiB
# read-ahead opens the first window, a restart keeps both caches, an
# object changed by another client (the aws CLI) is seen after
# attr_ttl, a damaged block
# file is detected and fetched again, the block cache stays under
# cache_size while reading more than that, two mounts share one cache
# dir, and `bucketfs cache clear` empties it. Counts come from `bucketfs
# cache stats`, read once the daemons have published what they counted
# (bfs_cache_settle).
. "$(dirname "$0")/../lib.sh"

# always over RGW, whatever store tests/run asks for
BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket for the test"
RGW_BUCKET=$(awk '/^bucket = / { print $3 }' "$BFS_CONF")
CACHE=$W/cache
TTL=2

# put FILE KEY: another client writes the object
put()
{
	aws_store s3 cp --quiet "$1" "s3://$RGW_BUCKET/$2"
}

# drop the kernel's pages of FILE, so the next read reaches the daemon
drop_pages()
{
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)' "$1"
}

# blocks the daemons fetched, for reads and ahead of them (a run of
# adjacent blocks is one GET)
fetched()
{
	echo $(($(bfs_cache_stat blocks misses) + $(bfs_cache_stat blocks prefetched)))
}

blk_bytes()
{
	find "$CACHE/blocks" -name '*.blk' -printf '%s\n' 2>/dev/null |
		awk '{ s += $1 } END { print s + 0 }'
}

md5()
{
	md5sum <"$1" | cut -d' ' -f1
}

rand_file "$W/big" 5
head -c 1234567 /dev/urandom >"$W/mid"
echo "version one" >"$W/v1"
echo "version two, longer" >"$W/v2"
seed()
{
	put "$W/big" d/big && put "$W/mid" d/mid && put "$W/v1" d/v
}
t_ok "another client writes the objects" seed

# ---- one mount: hits, page cache, TTL --------------------------------
OPTS="attr_ttl=$TTL,dir_ttl=$TTL,neg_ttl=$TTL"
bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount over RGW"

t_is "first read returns the object" "$(md5 "$BFS_B/d/big")" "$(md5 "$W/big")"
bfs_cache_settle
f1=$(fetched)
t_ok "first read fetched the object's 5 blocks ($f1)" test "$f1" -eq 5
t_is "second read returns the object" "$(md5 "$BFS_B/d/big")" "$(md5 "$W/big")"
bfs_cache_settle
t_is "second read makes no GET" "$(fetched)" "$f1"
h0=$(bfs_cache_stat blocks hits)
drop_pages "$BFS_B/d/big"
t_is "read after the kernel's pages are dropped" "$(md5 "$BFS_B/d/big")" "$(md5 "$W/big")"
bfs_cache_settle
t_is "... comes from the block cache: no GET" "$(fetched)" "$f1"
h1=$(bfs_cache_stat blocks hits)
t_ok "... and counts block hits ($h0 -> $h1)" test "$h1" -gt "$h0"

t_is "a small object reads" "$(cat "$BFS_B/d/v")" "version one"
put "$W/v2" d/v
# read until the change shows (once attr_ttl has passed), bounded by
# ten TTLs
v2_seen() { [ "$(cat "$BFS_B/d/v")" = "version two, longer" ]; }
t_ok "a change by another client is seen after attr_ttl" wait_for $((10 * TTL)) v2_seen
ls -l "$BFS_B/d" >/dev/null
ls -l "$BFS_B/d" >/dev/null
bfs_cache_settle
t_ok "metadata answers come from the cache ($(bfs_cache_stat metadata head_hits) head hits)" \
	test "$(bfs_cache_stat metadata head_hits)" -gt 0
t_ok "unmount" bfs_umount

# ---- restart: both caches kept ------------------------------------------
bfs_mount "$BFS_BUCKET" -o attr_ttl=60,dir_ttl=60,neg_ttl=60 ||
	t_abort "mount again"
cat "$BFS_B/d/mid" >/dev/null # cached from here on, with a long TTL
t_ok "unmount" bfs_umount
bfs_mount "$BFS_BUCKET" -o attr_ttl=60,dir_ttl=60,neg_ttl=60 ||
	t_abort "mount a third time"
t_is "after a restart the object reads" "$(md5 "$BFS_B/d/big")" "$(md5 "$W/big")"
t_is "... and another" "$(md5 "$BFS_B/d/mid")" "$(md5 "$W/mid")"
bfs_cache_settle
t_is "a restart keeps the block cache: no GET" "$(fetched)" 0
t_is "a restart keeps the metadata cache: no HEAD" \
	"$(bfs_cache_stat metadata head_misses)" 0
t_ok "unmount" bfs_umount

# ---- reads answered from the block files --------------------------------
# 12 blocks: more than the 8 the daemon keeps in memory, so that a read
# after the kernel's pages are dropped finds most of them on disk only
rand_file "$W/wide" 12
put "$W/wide" d/wide || t_abort "seed d/wide"
# metric NAME: its value in the mount's metrics
metric()
{
	getfattr --only-values -n user.bucketfs.metrics "$BFS_MNT" 2>/dev/null |
		awk -v n="$1" '$1 == n { print $2 }'
}
from_files()
{
	echo $(($(metric bucketfs_read_spliced_bytes_total) + \
		$(metric bucketfs_read_mapped_bytes_total)))
}
bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount for reads from files"
t_is "a 12 MiB object reads" "$(md5 "$BFS_B/d/wide")" "$(md5 "$W/wide")"
drop_pages "$BFS_B/d/wide"
f0=$(from_files)
t_is "read again from the block cache (1 MiB reads)" \
	"$(md5 "$BFS_B/d/wide")" "$(md5 "$W/wide")"
f1=$(from_files)
# spliced when the pipe holds a 1 MiB reply (CAP_SYS_RESOURCE), else
# mapped: either way not read into the daemon
t_ok "... its blocks on disk went to the kernel from their files ($((f1 - f0)) bytes)" \
	test $((f1 - f0)) -ge $((4 * 1048576))
drop_pages "$BFS_B/d/wide"
s0=$(metric bucketfs_read_spliced_bytes_total)
t_is "read again with 128 KiB direct reads" \
	"$(dd if="$BFS_B/d/wide" bs=128k iflag=direct status=none | md5sum | cut -d' ' -f1)" \
	"$(md5 "$W/wide")"
s1=$(metric bucketfs_read_spliced_bytes_total)
t_ok "... spliced from the block files ($((s1 - s0)) bytes)" \
	test $((s1 - s0)) -ge $((4 * 1048576))
t_ok "unmount" bfs_umount

# ---- the first window under the kernel's default read-ahead --------------
# 128 KiB: what a mount without root keeps. cat's first read is all of
# it, and opens the same 8 MiB window a whole block does as root.
rand_file "$W/eight" 8
# a directory no mount listed yet (a listing of d/ is cached for a TTL)
put "$W/eight" ra/eight || t_abort "seed ra/eight"
bfs_mount "$BFS_BUCKET" -o "$OPTS,readahead=128K" ||
	t_abort "mount with readahead=128K"
ra_128()
{
	[ "$(cat "/sys/class/bdi/$(mountpoint -d "$BFS_MNT")/read_ahead_kb")" = 128 ]
}
t_ok "the kernel reads the mount with 128 KiB of read-ahead" wait_for 50 ra_128
t_ok "a first read of 128 KiB at the top" \
	dd if="$BFS_B/ra/eight" of=/dev/null bs=128k count=1 status=none
bfs_cache_settle
t_is "... fetches the first window at once: all 8 blocks" "$(fetched)" 8
t_is "and the file reads whole" "$(md5 "$BFS_B/ra/eight")" "$(md5 "$W/eight")"
t_ok "unmount" bfs_umount

# ---- a damaged block file -------------------------------------------------
n=$(python3 - "$CACHE/blocks" <<'EOF'
import os, sys
n = 0
for d, _, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith(".blk"):
            p = os.path.join(d, f)
            off = min(300, os.path.getsize(p) - 1)  # in the data
            with open(p, "r+b") as fh:
                fh.seek(off)
                b = fh.read(1)
                fh.seek(off)
                fh.write(bytes([b[0] ^ 0x20]))
            n += 1
print(n)
EOF
)
t_ok "every block file is damaged ($n)" test "$n" -ge 6
bfs_log_expect 'is damaged .*; dropped and fetched again'
bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount after the damage"
t_is "damaged blocks are never served" "$(md5 "$BFS_B/d/big")" "$(md5 "$W/big")"
bfs_cache_settle
# two kernel reads of one block may both find it damaged: at least 5
c=$(bfs_cache_stat blocks corrupt)
f=$(fetched)
t_ok "damaged blocks are detected ($c)" test "$c" -ge 5
t_ok "... and fetched again ($f)" test "$f" -ge 5 -a "$f" -le $((2 * c))
t_ok "... and logged" grep -q 'is damaged' "$BFS_LOG"
t_ok "unmount" bfs_umount

# ---- the size limit ---------------------------------------------------------
LIMIT=$((3 * 1048576))
bfs_mount "$BFS_BUCKET" -o "$OPTS,cache_size=3M" || t_abort "mount with cache_size=3M"
peak=0
ok=0
for f in big mid big; do
	[ "$(md5 "$BFS_B/d/$f")" = "$(md5 "$W/$f")" ] || ok=1
	drop_pages "$BFS_B/d/$f"
	b=$(blk_bytes)
	[ "$b" -gt "$peak" ] && peak=$b
done
t_ok "reading 11 MiB through a 3 MiB cache returns the right bytes" test "$ok" -eq 0
t_ok "the block files never exceed cache_size (peak $peak of $LIMIT)" \
	test "$peak" -le "$LIMIT"
bfs_cache_settle
t_ok "least recently used blocks were evicted ($(bfs_cache_stat blocks evictions))" \
	test "$(bfs_cache_stat blocks evictions)" -gt 0
t_ok "unmount" bfs_umount

# ---- two mounts on one cache dir -----------------------------------------
bfs_mount "$BFS_BUCKET" -o "$OPTS,cache_size=4M" || t_abort "first of two mounts"
M1=$BFS_B
BFS_MNT=$W/mnt2 bfs_mount "$BFS_BUCKET" -o "$OPTS,cache_size=4M" ||
	t_abort "second of two mounts"
M2=$BFS_B
ok=0
for i in 1 2 3; do
	md5 "$M1/d/big" >"$W/r1.$i" &
	p1=$!
	md5 "$M2/d/mid" >"$W/r2.$i" &
	p2=$!
	md5 "$M2/d/big" >"$W/r3.$i" &
	p3=$!
	# not a bare wait: the daemons are children of this shell too
	wait "$p1" "$p2" "$p3"
	[ "$(cat "$W/r1.$i")" = "$(md5 "$W/big")" ] || ok=1
	[ "$(cat "$W/r2.$i")" = "$(md5 "$W/mid")" ] || ok=1
	[ "$(cat "$W/r3.$i")" = "$(md5 "$W/big")" ] || ok=1
	drop_pages "$M1/d/big"
	drop_pages "$M2/d/big"
	drop_pages "$M2/d/mid"
done
t_ok "two mounts on one cache dir read the right bytes" test "$ok" -eq 0
bfs_cache_settle
t_is "both daemons report to the cache dir" "$(bfs_cache_stat blocks daemons)" 2
t_ok "unmount the second" bfs_umount "$W/mnt2"
t_ok "unmount the first" bfs_umount "$W/mnt"
idx=$("$BFS_BIN" cache stats --config "$BFS_CONF" "$BFS_BUCKET" |
	awk '$2 == "blocks" && $3 == "bytes_on_disk" { print $4 }')
t_is "index and block files agree after both" "$idx" "$(blk_bytes)"
t_ok "and stay under cache_size ($idx)" test "$idx" -le $((4 * 1048576))

# ---- clear ----------------------------------------------------------------
t_ok "cache clear" "$BFS_BIN" cache clear --config "$BFS_CONF" "$BFS_BUCKET"
t_is "cache clear removes every block file" "$(blk_bytes)" 0
t_is "cache clear empties the metadata cache" \
	"$("$BFS_BIN" cache stats --config "$BFS_CONF" "$BFS_BUCKET" |
		awk '$2 == "metadata" && $3 == "entries" { print $4 }')" 0

t_plan_done
