#!/usr/bin/env bash
# fs_catalogs.sh - the three catalog types over a bucket: the Iceberg
# fixture tables copied into the bucket and shown by an iceberg catalog
# (live files, deletes, snapshots, xattrs, DuckDB row counts, corrupt
# tables, a new commit seen within the TTL), a bucket-tables catalog with
# hive partitions read by DuckDB, and a managed catalog. Runs on the
# store named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

FIX=$BFS_FIXTURES/iceberg
Q="node $BFS_SRCDIR/tests/tools/duckdb_query.mjs"
bfs_store_setup || t_abort "store setup"
cat >>"$BFS_CONF" <<CONF

[catalog wh]
type = iceberg
bucket = $BFS_BUCKET
prefix = wh/

[catalog sales]
type = bucket-tables
bucket = $BFS_BUCKET
table.orders = raw/orders/**/*.parquet
table.customers = raw/customers/

[catalog scratch]
type = managed
bucket = $BFS_BUCKET
prefix = scratch/
CONF
bfs_mount -o dir_ttl=1 || t_abort "mount the lake with catalogs"
M=$BFS_MNT
B=$BFS_B
C=$M/catalogs/wh/ns

# table  live-data-files  records  delete-files  snapshots  (SOURCES.md)
TABLES="lineitem_iceberg 1 51793 0 2
lineitem_iceberg_gz 1 111968 0 1
legacy_v1 2 3 0 1
merch_v1 2 4 0 3
partition_integer 2 2 0 1
partition_evolution 6 6 0 2
equality_deletes 2 6 4 6
equality_deletes_partitioned 6 6 3 5
iceberg_partitioned 20 20 0 1
iceberg_v2_delete_positional 1 3 1 2
iceberg_v2_partitioned_position_deletes 3 20 3 2
iceberg_v2_delete_both_eq_and_pos 2 4 3 3
iceberg_spark_compaction_with_dangling_delete 1 4 1 4
iceberg_v3_row_lineage 1 3 0 4
biglake_v1 2 6 0 1
pyiceberg_object_store 1 2 0 1"

mkdir -p "$B/wh/ns"
while read -r t _; do
	cp -r "$FIX/$t" "$B/wh/ns/" || t_diag "copy of $t failed"
done <<<"$TABLES"
t_is "the catalog lists the namespace" "$(ls "$M/catalogs/wh")" ns
# every table against an independent reading of its metadata
# (tests/tools/ice_read.py: python3-avro, not our code): each file's path,
# content, records, partition and manifest size
RD="/usr/bin/python3 $BFS_SRCDIR/tests/tools/ice_read.py"
while read -r t _; do
	t_is "$t: current/ is what an independent reading of the metadata says" \
		"$($RD --mount "$C/$t/current" 2>&1)" "$($RD "$FIX/$t" 2>&1)"
done <<<"$TABLES"
t_is "a table has current, data, metadata, snapshots" \
	"$(ls "$C/lineitem_iceberg" | tr '\n' ' ')" "current data metadata snapshots "

sum_records() {
	local f total=0 v
	while IFS= read -r f; do
		v=$(getfattr --absolute-names --only-values -n user.iceberg.record_count "$f" 2>/dev/null) || return 1
		total=$((total + v))
	done
	echo "$total"
}
while read -r t files records dels snaps; do
	cur=$C/$t/current
	t_is "$t: $files live data files in current/" \
		"$(find "$cur" -type f -not -path '*/.deletes/*' | wc -l)" "$files"
	t_is "$t: their record counts add up to $records" \
		"$(find "$cur" -type f -not -path '*/.deletes/*' | sum_records)" "$records"
	t_is "$t: $dels delete files in current/.deletes/" \
		"$(find "$cur" -type f -path '*/.deletes/*' | wc -l)" "$dels"
	t_is "$t: $snaps snapshots" "$(ls "$C/$t/snapshots" | wc -l)" "$snaps"
done <<<"$TABLES"

L=$C/lineitem_iceberg
t_fails "lineitem: the DELETED entry's file is not in current/" \
	sh -c "find '$L/current' | grep -q 00000-1-66fee7c2"
t_ok "lineitem: it is still in data/ (the raw table)" \
	sh -c "ls '$L/data' | grep -q 00000-1-66fee7c2"
t_is "lineitem: the older snapshot shows it" \
	"$(ls "$L/snapshots/7817332053627255703")" \
	"00000-1-66fee7c2-c97c-4af9-963d-930afd99ace4-00001.parquet"
f=$(find "$L/current" -type f | head -1)
t_is "xattr user.iceberg.snapshot_id" \
	"$(getfattr --absolute-names --only-values -n user.iceberg.snapshot_id "$f")" 2354745328521181395
t_is "xattr user.iceberg.content" \
	"$(getfattr --absolute-names --only-values -n user.iceberg.content "$f")" data
d=$(find "$C/iceberg_v2_delete_positional/current/.deletes" -type f | head -1)
t_is "a delete file is flagged in its xattr" \
	"$(getfattr --absolute-names --only-values -n user.iceberg.content "$d")" position-deletes
p=$(find "$C/iceberg_partitioned/current" -type f | head -1)
t_ok "a partitioned file sits under its partition path" \
	sh -c "case '$p' in */current/*=*/*) exit 0;; *) exit 1;; esac"
t_ok "xattr user.iceberg.partition names it" \
	sh -c "getfattr --absolute-names --only-values -n user.iceberg.partition '$p' | grep -q ="
t_fails_with "catalogs are read-only" "Read-only file system" \
	touch "$L/current/new.parquet"
bfs_log_expect "is read-only"

# A reader applies the deletes from the mount alone (bfs_ice_rows_sql in
# lib.sh: the deletes each data file's user.iceberg.deletes names,
# position deletes on file_path and pos, equality deletes on the columns
# whose field ids user.iceberg.equality_ids names); what is left is
# SOURCES.md's "expected rows" (the compacted table's dangling delete
# applies nowhere; an equality delete never applies to a data file of its
# own sequence number or later, nor to another partition's)
x() { getfattr --absolute-names --only-values -n "user.iceberg.$1" "$2"; }
rows_after_deletes() {
	local sql
	sql=$(bfs_ice_rows_sql "$1") || return 1
	$Q "select count(*) from ($sql)"
}
for tr in iceberg_v2_delete_positional:2 iceberg_v2_partitioned_position_deletes:10 \
	iceberg_spark_compaction_with_dangling_delete:4 equality_deletes:2 \
	equality_deletes_partitioned:3 iceberg_v2_delete_both_eq_and_pos:2; do
	t_is "DuckDB applies the deletes the xattrs name: ${tr%%:*} has ${tr##*:} rows" \
		"$(rows_after_deletes "$C/${tr%%:*}/current")" "${tr##*:}"
done
d=$(find "$C/equality_deletes/current/.deletes" -type f | head -1)
t_is "an equality delete names the field ids it matches on" \
	"$(x equality_ids "$d")" "$(node "$BFS_SRCDIR/tests/tools/duckdb_query.mjs" "select string_agg(field_id::varchar, ',' order by field_id) from parquet_schema('$d') where field_id is not null")"

t_is "DuckDB: current/ of lineitem has 51,793 rows" \
	"$($Q "select count(*) from read_parquet('$L/current/**/*.parquet')")" 51793
t_is "DuckDB: data/ (every file ever written) has 111,968 rows" \
	"$($Q "select count(*) from read_parquet('$L/data/*.parquet')")" 111968

# the same tables with every path rewritten to s3://some-bucket/...
export ICE_REWRITE=$BFS_BUILD/tests/tools/ice_rewrite
for t in lineitem_iceberg iceberg_v2_partitioned_position_deletes legacy_v1; do
	"$BFS_SRCDIR/tests/tools/ice_rewrite_table.sh" "$FIX/$t" "$W/rw_$t" \
		"s3://some-bucket/warehouse/$t" 2>"$W/rw.err" || t_diag_file "$W/rw.err"
	chmod -R u+w "$W/rw_$t"
	cp -r "$W/rw_$t" "$B/wh/ns/"
done
# tables_listed NAME...: the catalog lists these tables (it looks for
# new ones once its dir_ttl has passed; waited for with a bound of 30
# TTLs)
tables_listed()
{
	local t
	ls "$C" >"$W/tables" || return 1
	for t in "$@"; do
		grep -qx "$t" "$W/tables" || return 1
	done
}
t_ok "the catalog finds the new tables" \
	wait_for 30 tables_listed rw_lineitem_iceberg rw_iceberg_v2_partitioned_position_deletes rw_legacy_v1
t_ok "rewritten metadata claims s3://some-bucket" \
	grep -q 's3://some-bucket/warehouse/legacy_v1' "$B/wh/ns/rw_legacy_v1/metadata/v2.metadata.json"
for t in lineitem_iceberg iceberg_v2_partitioned_position_deletes legacy_v1; do
	t_is "$t with s3:// paths: the same current/ as the original" \
		"$(cd "$C/rw_$t/current" && find . | sort | tr '\n' ' ')" \
		"$(cd "$C/$t/current" && find . | sort | tr '\n' ' ')"
done
t_is "DuckDB: the rewritten lineitem has 51,793 rows" \
	"$($Q "select count(*) from read_parquet('$C/rw_lineitem_iceberg/current/**/*.parquet')")" 51793

t_ok "catalog show lists the tables" \
	sh -c "'$BFS_BIN' catalog show wh --config '$BFS_CONF' >'$W/show.out' 2>&1"
t_ok "catalog show: lineitem's snapshot, files and records" \
	grep -Eq "ns/lineitem_iceberg/ +snapshot 2354745328521181395 +v2 +1 data files +51793 records +0 delete files +2 snapshots" "$W/show.out"
t_ok "catalog show: delete files counted" \
	grep -Eq "ns/iceberg_v2_partitioned_position_deletes/ .* 3 delete files" "$W/show.out"

# corrupt tables: EIO for that table only, with a log line naming the file
cp -r "$FIX/lineitem_iceberg" "$B/wh/ns/trunc_json"
head -c 100 "$FIX/lineitem_iceberg/metadata/v2.metadata.json" >"$B/wh/ns/trunc_json/metadata/v2.metadata.json"
cp -r "$FIX/lineitem_iceberg" "$B/wh/ns/no_manifest"
rm "$B/wh/ns/no_manifest/metadata/179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m0.avro"
cp -r "$FIX/lineitem_iceberg" "$B/wh/ns/not_avro"
echo "garbage" >"$B/wh/ns/not_avro/metadata/179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m0.avro"
t_ok "the catalog finds the corrupt tables" \
	wait_for 30 tables_listed trunc_json no_manifest not_avro
for t in trunc_json no_manifest not_avro; do
	t_ok "$t: the table directory still lists" ls "$C/$t"
	t_fails_with "$t: current/ is EIO" "Input/output error" ls "$C/$t/current"
done
t_ok "the log names the truncated metadata file" \
	grep -q "trunc_json/metadata/v2.metadata.json" "$BFS_LOG"
t_ok "the log names the missing manifest" \
	grep -q "no_manifest/metadata/179b4fb1-0366-4f7d-ad35-99ee8da0abf5-m0.avro" "$BFS_LOG"
t_ok "the log says what is wrong with the manifest that is not Avro" \
	grep -q "not an Avro file" "$BFS_LOG"
bfs_log_expect "trunc_json"
bfs_log_expect "no_manifest"
bfs_log_expect "not_avro"
bfs_log_expect "cannot list"
t_is "the rest of the catalog keeps working" \
	"$(find "$C/legacy_v1/current" -type f | wc -l)" 2

# a new commit shows up within the metadata TTL
cp -r "$FIX/lineitem_iceberg" "$B/wh/ns/moving"
echo 1 >"$B/wh/ns/moving/metadata/version-hint.text"
rm "$B/wh/ns/moving/metadata/v2.metadata.json"
# current_has NAME: current/ of the moving table lists a file NAME*
current_has() { ls "$C/moving/current" 2>/dev/null | grep -q "^$1"; }
t_ok "before the commit: the old snapshot's file" \
	wait_for 30 current_has 00000-1-66fee7c2
exec 9<"$C/moving/current/00000-1-66fee7c2-c97c-4af9-963d-930afd99ace4-00001.parquet"
cp "$FIX/lineitem_iceberg/metadata/v2.metadata.json" "$B/wh/ns/moving/metadata/"
echo 2 >"$B/wh/ns/moving/metadata/version-hint.text"
t_ok "after the commit and the TTL: the new snapshot's file" \
	wait_for 30 current_has 00000-5-dad9988f
t_ok "... and no longer the old one" sh -c "! ls '$C/moving/current' | grep -q 00000-1-66fee7c2"
t_is "a file opened before the commit still reads" \
	"$(head -c 4 <&9)" PAR1
exec 9<&-

# bucket-tables with hive partitions
node "$BFS_SRCDIR/tests/tools/make_sample.mjs" "$B" >/dev/null 2>"$W/sample.err" ||
	t_diag_file "$W/sample.err"
S=$M/catalogs/sales
t_is "bucket-tables: partitions listed" "$(ls "$S/orders" | tr '\n' ' ')" \
	"dt=2024-01-01 dt=2024-01-02 dt=2024-01-03 "
t_is "DuckDB: hive partition column read through the table" \
	"$($Q "select dt, count(*) from read_parquet('$S/orders/**/*.parquet', hive_partitioning = true) group by dt order by dt" | tr '\t\n' ': ')" \
	"2024-01-01:100 2024-01-02:100 2024-01-03:100 "
t_is "bucket-tables: the prefix table" "$(ls "$S/customers")" customers.parquet
t_fails_with "bucket-tables are read-only" "Read-only file system" \
	sh -c "echo x > '$S/orders/new.parquet'"

# managed: a read-write tree under bucket + prefix
t_ok "managed: write" sh -c "mkdir -p '$M/catalogs/scratch/a' && echo hi > '$M/catalogs/scratch/a/f'"
t_is "managed: the file lands under the prefix" "$(cat "$B/scratch/a/f")" hi
t_ok "managed: rename" mv "$M/catalogs/scratch/a" "$M/catalogs/scratch/b"
t_is "managed: renamed under the prefix" "$(cat "$B/scratch/b/f")" hi
t_ok "unmount" bfs_umount

# one catalog as the root
bfs_mount wh || t_abort "mount the iceberg catalog as the root"
t_is "bucketfs mount CATALOG: the catalog is the root" \
	"$(find "$BFS_MNT/ns/legacy_v1/current" -type f | wc -l)" 2
t_ok "unmount" bfs_umount
t_plan_done
