#!/usr/bin/env bash
# read_small_ranged.sh - what a lone small random read asks the server for
# (issue 15), counted at the server's door: Ceph RGW behind
# tests/tools/faultproxy.py, which logs every request with its Range. A
# 4 KiB read in the middle of a cold 4 MiB file reads the right bytes, is
# served by a ranged GET of at most 64 KiB around it, and no GET of the
# file asks for more than one block (1 MiB): never the whole object, never
# a group of blocks for one read. A lone read fetches nothing else either
# (no block behind it: cache/prefetch.h), and a second mount on the same
# cache dir reads the same bytes again from the piece it kept, without a
# GET. The lookup's head is a GET of the first 64 KiB in place of a
# HEAD (store.h, head_read): counted apart. A Parquet file's head is a
# GET of its end, and DuckDB's count(*) of it sends nothing else. The mounts trust attributes
# for a minute (attr_ttl=60): with the default second, an open that comes
# more than a second after its lookup (a loaded machine, a sanitizer
# build) revalidates the version with a HEAD, as it should, and the
# lookup's GET could not be told from that.
BFS_TEST_STORE=rgw
. "$(dirname "$0")/../lib.sh"

store_start_rgw || t_abort "Ceph RGW starts"
bucket=bfs-read-ranged-$$
s3_mkbucket "$STORE_URL" "$bucket" || t_abort "create the bucket"
export AWS_ACCESS_KEY_ID=$STORE_ACCESS AWS_SECRET_ACCESS_KEY=$STORE_SECRET
rand_file "$W/data" 4
aws_store s3 cp --quiet "$W/data" "s3://$bucket/big" || t_abort "put the object"
pq=$BFS_FIXTURES/iceberg/lineitem_iceberg/data/00000-1-66fee7c2-c97c-4af9-963d-930afd99ace4-00001.parquet
aws_store s3 cp --quiet "$pq" "s3://$bucket/li.parquet" ||
	t_abort "put the Parquet file"
Q="node $BFS_SRCDIR/tests/tools/duckdb_query.mjs"
rows=$($Q "select count(*) from read_parquet('$pq')") ||
	t_abort "DuckDB counts the rows of the local file"

bfs_faultproxy_start counted "$bucket" --requests "$W/requests" ||
	t_abort "the proxy starts"

bfs_mount -o attr_ttl=60 counted || t_abort "mount through the proxy"
off=$((2 * 1048576 + 131 * 4096 + 123))
t_ok "a 4 KiB read in the middle of a cold file reads the right bytes" \
	python3 - "$BFS_B/big" "$W/data" "$off" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
got = os.pread(fd, 4096, int(sys.argv[3]))
os.close(fd)
with open(sys.argv[2], "rb") as f:
    f.seek(int(sys.argv[3]))
    sys.exit(len(got) != 4096 or got != f.read(4096))
PY
t_ok "unmounts" bfs_umount

# The lookup's head is a GET of the first 64 KiB (store.h, head_read):
# its answer is a HEAD's, and its bytes are kept for a read at 0.
t_ok "the lookup's head is a GET of the first 64 KiB, no HEAD" \
	sh -c "grep -qE '^GET /$bucket/big bytes=0-65535\$' '$W/requests' &&
		! grep -qE '^HEAD /$bucket/big ' '$W/requests'"
# GET lines of the object: "GET /bucket/big bytes=LO-HI" (or "-"),
# the head's left out
grep -E "^GET /$bucket/big(\?[^ ]*)? " "$W/requests" |
	grep -v " bytes=0-65535\$" >"$W/gets" || true
t_diag "GETs of the file: $(tr '\n' ';' <"$W/gets")"
t_ok "the read was served by a ranged GET of at most 64 KiB around it" \
	awk -v o="$off" '{ split(substr($3, 7), r, "-")
		if ($3 ~ /^bytes=/ && r[1] <= o && r[2] >= o + 4095 &&
		    r[2] - r[1] + 1 <= 65536) f = 1 } END { exit !f }' "$W/gets"
t_ok "no GET of the file without a range (not the whole object)" \
	awk '$3 == "-" { bad = 1 } END { exit bad }' "$W/gets"
t_ok "no GET of the file asks for more than one block (1 MiB)" \
	awk '{ split(substr($3, 7), r, "-"); if (r[2] - r[1] + 1 > 1048576) bad = 1 }
		END { exit bad }' "$W/gets"
t_ok "a lone read sends one GET of the file, no block behind it" \
	test "$(wc -l <"$W/gets")" -eq 1

bfs_mount -o attr_ttl=60 counted ||
	t_abort "mount again on the same cache dir"
t_ok "the same read after a remount reads the right bytes" \
	python3 - "$BFS_B/big" "$W/data" "$off" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
got = os.pread(fd, 4096, int(sys.argv[3]))
os.close(fd)
with open(sys.argv[2], "rb") as f:
    f.seek(int(sys.argv[3]))
    sys.exit(len(got) != 4096 or got != f.read(4096))
PY
t_ok "unmounts again" bfs_umount
grep -E "^GET /$bucket/big(\?[^ ]*)? " "$W/requests" |
	grep -v " bytes=0-65535\$" >"$W/gets2" || true
t_ok "the kept piece served it: no GET of the file after the remount" \
	test "$(wc -l <"$W/gets2")" -eq 1

# A Parquet file: the lookup's head is one GET of its last 288 KiB (a
# suffix range: store.h, tail_read; blockcache.h), which holds the
# trailer and the footer DuckDB reads first, so its count(*) (footer
# only) costs that GET alone.
: >"$W/requests"
bfs_mount -o attr_ttl=60 counted || t_abort "mount for the Parquet file"
t_is "DuckDB counts the rows of a Parquet file in the bucket" \
	"$($Q "select count(*) from read_parquet('$BFS_B/li.parquet')")" "$rows"
t_ok "unmounts after DuckDB" bfs_umount
grep -E "^(GET|HEAD) /$bucket/li\.parquet " "$W/requests" >"$W/pq" || true
t_diag "requests of the Parquet file: $(tr '\n' ';' <"$W/pq")"
t_ok "the lookup of a .parquet file is a GET of its last 288 KiB, no HEAD" \
	sh -c "grep -qE '^GET /$bucket/li\.parquet bytes=-294912\$' '$W/pq' &&
		! grep -q '^HEAD ' '$W/pq'"
t_is "DuckDB's count(*) sent that one GET of the file" \
	"$(wc -l <"$W/pq")" 1
t_plan_done
