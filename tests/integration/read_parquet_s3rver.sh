#!/usr/bin/env bash
# read_parquet_s3rver.sh - the head of a Parquet file (store.h, tail_read:
# a GET of its last bytes) on a server that reads a suffix range as a
# prefix: s3rver answers "bytes=-N" with the object's first N+1 bytes.
# The first such head finds that out and logs it once, each file still
# reads right through DuckDB, and the heads after it are plain HEADs
# (internals/s3.md).
BFS_TEST_STORE=s3rver
. "$(dirname "$0")/../lib.sh"

data=$BFS_FIXTURES/iceberg/lineitem_iceberg/data
pq1=$data/00000-1-66fee7c2-c97c-4af9-963d-930afd99ace4-00001.parquet
pq2=$data/00000-5-dad9988f-2a3b-464c-adb6-6034de93da19-00001.parquet
Q="node $BFS_SRCDIR/tests/tools/duckdb_query.mjs"
sum="count(*), sum(l_quantity), max(l_comment)"
want1=$($Q "select $sum from read_parquet('$pq1')") ||
	t_abort "DuckDB reads the first local file"
want2=$($Q "select $sum from read_parquet('$pq2')") ||
	t_abort "DuckDB reads the second local file"

bfs_mount || t_abort "mount the s3rver bucket"
t_ok "two Parquet files copied in" \
	sh -c "cp '$pq1' '$BFS_B/a.parquet' && cp '$pq2' '$BFS_B/b.parquet'"
t_ok "unmounts" bfs_umount
# a fresh cache dir: the next lookups ask the server
rm -rf "$W/cache" && mkdir "$W/cache"

bfs_mount || t_abort "mount again with an empty cache"
t_is "DuckDB reads the first file right" \
	"$($Q "select $sum from read_parquet('$BFS_B/a.parquet')")" "$want1"
t_is "... and the second, after the server was found out" \
	"$($Q "select $sum from read_parquet('$BFS_B/b.parquet')")" "$want2"
t_ok "unmounts again" bfs_umount
t_is "the prefix answer to a suffix range is logged once" \
	"$(cat "$W"/daemon.*.log | grep -c 'answers a suffix range')" 1
t_plan_done
