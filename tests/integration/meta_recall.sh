#!/usr/bin/env bash
# meta_recall.sh - metadata=objects over Ceph RGW: `ls -l` shows each
# object's mode from its user metadata; once a HEAD has told the metadata
# of a version, listings that show the same version (ETag, size,
# Last-Modified) recall it from the metadata cache instead of sending a
# HEAD again: after attr_ttl, after dir_ttl, after a restart. A version
# changed by another client (metadata replaced in place) is seen after
# the listing's TTL. HEADs are counted with
# `bucketfs cache stats` (metadata head_misses: each one a HEAD sent).
. "$(dirname "$0")/../lib.sh"

BFS_TEST_STORE=rgw
bfs_store_setup || t_abort "RGW and a bucket for the test"
RGW_BUCKET=$(awk '/^bucket = / { print $3 }' "$BFS_CONF")
N=30
TTL=3
OPTS="metadata=objects,attr_ttl=$TTL,dir_ttl=$TTL,neg_ttl=$TTL"

# modes: the distinct modes ls -l shows in r/, with their counts
modes()
{
	ls -l "$BFS_B/r" | awk 'NR > 1 { n[$1]++ } END { for (m in n) print n[m], m }' |
		sort | tr '\n' ' '
}

# timed_modes: modes into $got, and in $marker_heads how many HEADs of
# the directory itself it may have sent: of its own marker r/ (r/
# carries a directory's mode and owner; there is none here, and its 404
# is cached for neg_ttl) and of r (a lookup not answered from a listing
# sends its HEAD along with its LIST): two, and two more per TTL the
# ls -l lasted, however slow the machine
timed_modes()
{
	local t0
	t0=$(now_ms)
	got=$(modes)
	marker_heads=$((2 * (1 + ($(now_ms) - t0) / (TTL * 1000))))
}

echo "recalled" >"$W/body"
seed()
{
	# mode 0100600 as s3fs writes it: decimal st_mode
	for i in $(seq -w 1 $N); do
		aws_store s3api put-object --bucket "$RGW_BUCKET" --key "r/f$i" \
			--body "$W/body" --metadata mode=33152 >/dev/null || return 1
	done
}
t_ok "another client writes $N objects with mode 0600 in their metadata" seed
# let the objects' Last-Modified second end before the first HEAD: a
# HEAD answered within that second cannot vouch for later listings
after_second() { [ "$(date +%s)" -gt "$1" ]; }
wait_for 10 after_second "$(date +%s)"

bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount with metadata=objects"
t_is "ls -l shows the metadata's mode" "$(modes)" "$N -rw------- "
bfs_cache_settle
h1=$(bfs_cache_stat metadata head_misses)
l1=$(bfs_cache_stat metadata list_misses)
t_ok "the first ls -l sent a HEAD per object ($h1)" test "$h1" -ge $N
# past attr_ttl and dir_ttl, counted from after the answers were cached
# (a wait on the clock, not a poll: each ls -l in a poll could send
# HEADs of its own)
cached=$(now_ms)
wait_for 60 past_ms "$cached" $((2 * TTL * 1000))
timed_modes
t_is "ls -l after the TTLs shows the same modes" "$got" "$N -rw------- "
bfs_cache_settle
# (the HEADs allowed are of r and its marker r/, looked up again after
# attr_ttl)
h=$(bfs_cache_stat metadata head_misses)
l=$(bfs_cache_stat metadata list_misses)
t_ok "... the listing was fetched again ($l1 -> $l)" test "$l" -gt "$l1"
t_ok "... and sends no HEAD: the listing shows the same versions ($h1 -> $h, r/ $marker_heads)" \
	test "$h" -le $((h1 + marker_heads))

# another client replaces one object's metadata in place: same ETag and
# size, a later Last-Modified
replace()
{
	aws_store s3api copy-object --bucket "$RGW_BUCKET" --key r/f01 \
		--copy-source "$RGW_BUCKET/r/f01" --metadata-directive REPLACE \
		--metadata mode=33188 >/dev/null
}
t_ok "another client replaces one object's metadata (mode 0644)" replace
wait_for 10 after_second "$(date +%s)"
# ls -l until the change shows (after the listing's TTL), bounded by 30
# TTLs: a listing of cached versions sends no HEAD, so polling adds none
new_mode() { [ "$(modes)" = "1 -rw-r--r-- $((N - 1)) -rw------- " ]; }
t0=$(now_ms)
t_ok "ls -l after the TTLs shows the new mode" wait_for 60 new_mode
marker_heads=$((2 * (1 + ($(now_ms) - t0) / (TTL * 1000))))
bfs_cache_settle
h2=$(bfs_cache_stat metadata head_misses)
t_ok "... with one HEAD for the changed object ($h -> $h2, r/ $marker_heads)" \
	test "$h2" -ge $((h + 1)) -a "$h2" -le $((h + 1 + marker_heads))
t_ok "unmount" bfs_umount

bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount again, cache dir kept"
timed_modes
t_is "after a restart ls -l shows the modes" "$got" \
	"1 -rw-r--r-- $((N - 1)) -rw------- "
bfs_cache_settle
h=$(bfs_cache_stat metadata head_misses)
t_ok "... without a HEAD: the metadata cache kept them ($h: r/ alone, $marker_heads)" \
	test "$h" -le "$marker_heads"
t_is "stat agrees with ls -l" "$(stat -c %a "$BFS_B/r/f01") $(stat -c %a "$BFS_B/r/f02")" \
	"644 600"
t_ok "unmount" bfs_umount
t_plan_done
