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
OPTS="metadata=objects,attr_ttl=1,dir_ttl=1,neg_ttl=1"

# modes: the distinct modes ls -l shows in r/, with their counts
modes()
{
	ls -l "$BFS_B/r" | awk 'NR > 1 { n[$1]++ } END { for (m in n) print n[m], m }' |
		sort | tr '\n' ' '
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
# let the objects' Last-Modified second end before the first HEAD
sleep 1.2

bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount with metadata=objects"
t_is "ls -l shows the metadata's mode" "$(modes)" "$N -rw------- "
bfs_cache_settle
h1=$(bfs_cache_stat metadata head_misses)
t_ok "the first ls -l sent a HEAD per object ($h1)" test "$h1" -ge $N
sleep 2.2 # past attr_ttl and dir_ttl: a fresh listing
t_is "ls -l after the TTLs shows the same modes" "$(modes)" "$N -rw------- "
# (the one HEAD allowed is of the directory's own marker, r/, which
# carries a directory's mode and owner: looked up again after attr_ttl)
h=$(bfs_cache_stat metadata head_misses)
t_ok "... and sends no HEAD: the listing shows the same versions ($h1 -> $h)" \
	test "$h" -le $((h1 + 1))
t_ok "... the listing was fetched again" test "$(bfs_cache_stat metadata list_misses)" -ge 2

# another client replaces one object's metadata in place: same ETag and
# size, a later Last-Modified
replace()
{
	aws_store s3api copy-object --bucket "$RGW_BUCKET" --key r/f01 \
		--copy-source "$RGW_BUCKET/r/f01" --metadata-directive REPLACE \
		--metadata mode=33188 >/dev/null
}
t_ok "another client replaces one object's metadata (mode 0644)" replace
sleep 2.2
t_is "ls -l after the TTLs shows the new mode" "$(modes)" \
	"1 -rw-r--r-- $((N - 1)) -rw------- "
bfs_cache_settle
h2=$(bfs_cache_stat metadata head_misses)
t_ok "... with one HEAD for the changed object ($h1 -> $h2)" \
	test "$h2" -ge $((h1 + 1)) -a "$h2" -le $((h1 + 3))
t_ok "unmount" bfs_umount

bfs_mount "$BFS_BUCKET" -o "$OPTS" || t_abort "mount again, cache dir kept"
t_is "after a restart ls -l shows the modes" "$(modes)" \
	"1 -rw-r--r-- $((N - 1)) -rw------- "
bfs_cache_settle
h=$(bfs_cache_stat metadata head_misses)
t_ok "... without a HEAD: the metadata cache kept them ($h: r/ alone)" \
	test "$h" -le 1
t_is "stat agrees with ls -l" "$(stat -c %a "$BFS_B/r/f01") $(stat -c %a "$BFS_B/r/f02")" \
	"644 600"
t_ok "unmount" bfs_umount
t_plan_done
