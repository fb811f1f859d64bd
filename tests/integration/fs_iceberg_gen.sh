#!/usr/bin/env bash
# fs_iceberg_gen.sh - the generated Iceberg tables of
# tests/fixtures/iceberg_gen (written by tests/tools/ice_gen.py) through a
# mount: manifests in every Avro codec, and partition paths synthesised
# for files outside data/ that are the paths Iceberg Java writes, so
# DuckDB's hive partitioning reads the same values and types from both.
# Runs on the store named by BFS_TEST_STORE.
. "$(dirname "$0")/../lib.sh"

GEN=$BFS_SRCDIR/tests/fixtures/iceberg_gen
Q="node $BFS_SRCDIR/tests/tools/duckdb_query.mjs"
bfs_store_setup || t_abort "store setup"
cat >>"$BFS_CONF" <<CONF

[catalog gen]
type = iceberg
bucket = $BFS_BUCKET
prefix = gen/

# the bucket s3://otherbucket/… of the table "outside" names
[bucket otherbucket]
provider = local
dir = $W/otherbucket
CONF
bfs_mount || t_abort "mount the lake"
M=$BFS_MNT
B=$BFS_B
C=$M/catalogs/gen

mkdir -p "$B/gen" "$M/buckets/otherbucket/x"
cp "$GEN/otherbucket/x/elsewhere.parquet" "$M/buckets/otherbucket/x/" ||
	t_diag "copy into otherbucket failed"
for t in codec_null codec_deflate codec_snappy codec_zstandard codec_bzip2 \
	codec_xz codec_lz4 parts_engine parts_migrated dv_table outside \
	outside_data hashed applies eq_rows; do
	cp -r "$GEN/$t" "$B/gen/" || t_diag "copy of $t failed"
done

# every table against an independent reading of its metadata
# (tests/tools/ice_read.py: python3-avro and the Java rules of ice_gen.py,
# none of our C): each file's path, content, records, partition and size
RD="/usr/bin/python3 $BFS_SRCDIR/tests/tools/ice_read.py"
for t in codec_null codec_deflate codec_snappy codec_zstandard codec_bzip2 \
	codec_xz parts_engine parts_migrated dv_table outside applies eq_rows; do
	t_is "$t: current/ is what an independent reading of the metadata says" \
		"$($RD --mount "$C/$t/current" 2>&1)" "$($RD "$GEN/$t" 2>&1)"
done
t_is "the independent reader refuses the unknown codec too" \
	"$($RD "$GEN/codec_lz4" 2>&1 >/dev/null | grep -o "unknown Avro codec 'lz4x'")" \
	"unknown Avro codec 'lz4x'"
for c in null deflate snappy zstandard bzip2 xz; do
	t_is "codec $c: current/ has the 2 live files" \
		"$(find "$C/codec_$c/current" -type f | wc -l)" 2
done
# partition_integer (DuckDB's test data) has manifest sizes that are not
# its objects': stat shows the object's, so a reader gets whole files
f=$(find "$C/codec_zstandard/current" -name '*00001.parquet')
t_is "a file's size is its object's, not the manifest's" \
	"$(stat -c %s "$f") $(getfattr --absolute-names --only-values -n user.iceberg.file_size_in_bytes "$f")" \
	"$(stat -c %s "$GEN/codec_zstandard/data/partition_col=42/"*.parquet) 930"
t_is "DuckDB: zstandard manifests, 2 rows through current/" \
	"$($Q "select count(*) from read_parquet('$C/codec_zstandard/current/**/*.parquet')")" 2
t_fails_with "an unknown codec: current/ is EIO" "Input/output error" \
	ls "$C/codec_lz4/current"
bfs_log_expect "unknown Avro codec 'lz4x'"
"$BFS_BIN" catalog show gen --config "$BFS_CONF" >"$W/show.out" 2>&1
t_ok "catalog show names the unknown codec and its file" \
	grep -Eq "codec_lz4/ .*metadata/[^']*[.]avro': unknown Avro codec 'lz4x'" "$W/show.out"
t_ok "… and shows the other tables" grep -Eq "codec_zstandard/ .* 2 data files" "$W/show.out"
bfs_log_expect "cannot list 'C|'"

t_is "migrated table: 3 files, at the paths Iceberg Java gives them" \
	"$(cd "$C/parts_migrated/current" && find . -type f | sort | tr '\n' ' ')" \
	"$(sed -n 's/^file /.\//p' "$GEN/parts_migrated/EXPECTED" | sort | tr '\n' ' ')"
t_is "migrated and engine-written tables show the same tree" \
	"$(cd "$C/parts_migrated/current" && find . | sort | tr '\n' ' ')" \
	"$(cd "$C/parts_engine/current" && find . | sort | tr '\n' ' ')"
f=$(find "$C/parts_migrated/current" -name 00000-0-part.parquet)
t_is "xattr user.iceberg.partition in the human form" \
	"$(getfattr --absolute-names --only-values -n user.iceberg.partition "$f")" \
	"$(sed -n 's/^partition 00000-0-part.parquet //p' "$GEN/parts_migrated/EXPECTED")"
# every partition column (identity of each type, year, month, day, hour,
# bucket, truncate, void, nulls, escaped / = + % and non-ASCII), its value
# and the type DuckDB infers, for each of the 3 files
R="'^(p|ts|tstz|id|s)_'"
hive() {
	$Q "select columns($R), typeof(columns($R)) from read_parquet('$1/**/*.parquet', hive_partitioning = true) order by all"
}
t_is "DuckDB hive partitioning: a synthesised path gives the values and types of the engine's own, every column" \
	"$(hive "$C/parts_migrated/current")" "$(hive "$GEN/parts_engine/data")"
t_is "… and so does the engine-written table through the mount" \
	"$(hive "$C/parts_engine/current")" "$(hive "$GEN/parts_engine/data")"
t_is "… 3 rows of 38 columns (19 values, 19 types)" \
	"$(hive "$C/parts_migrated/current" | awk -F'\t' '{ print NF }' | tr '\n' ' ')" "38 38 38 "
t_ok "DuckDB hive partitioning: p_date is a DATE 2022-02-22, p_decimal 123.321" \
	sh -c "printf '%s\n' \"\$1\" | grep -q '2022-02-22.123.321.*DATE'" _ "$(hive "$C/parts_migrated/current")"
D=$C/dv_table/current/.deletes
t_is "two deletion vectors in one Puffin file: distinct entries" \
	"$(ls "$D" | tr '\n' ' ')" "dvs.puffin@4 dvs.puffin@44 eq.parquet pos-c.parquet "
t_ok "… with distinct inodes" \
	test "$(stat -c %i "$D/dvs.puffin@4")" != "$(stat -c %i "$D/dvs.puffin@44")"
t_is "each names the data file it applies to, its offset and length" \
	"$(for a in referenced_data_file content_offset content_size_in_bytes; do
		getfattr --absolute-names --only-values -n user.iceberg.$a "$D/dvs.puffin@44"; echo; done | tr '\n' ' ')" \
	"s3://warehouse/wh/dv_table/data/b.parquet 44 24 "
P=$GEN/dv_table/data/dvs.puffin
t_is "each is its blob, not the whole Puffin file: stat" \
	"$(stat -c %s "$D/dvs.puffin@4") $(stat -c %s "$D/dvs.puffin@44")" "40 24"
t_ok "… and read: the bytes at its offset" \
	cmp "$D/dvs.puffin@44" <(tail -c +45 "$P" | head -c 24)
t_ok "… the other one" cmp "$D/dvs.puffin@4" <(tail -c +5 "$P" | head -c 40)
t_is "… read from an offset inside it" \
	"$(dd if="$D/dvs.puffin@4" bs=1 skip=30 status=none | wc -c)" 10
t_ok "tar archives each entry once" \
	sh -c "tar -cf - -C '$D' . | tar -tf - | sort | uniq -d | grep -q . && exit 1 || exit 0"
# which deletes apply: each line of EXPECTED (ice_gen.py's reading of
# the spec's rules) against the xattrs, through the mount
xa() { getfattr --absolute-names --only-values -n "user.iceberg.$1" "$2" | tr '\n' ' ' | sed 's/ $//'; }
for t in dv_table applies eq_rows; do
	n=0
	while read -r kind name want; do
		case $kind in
		applies) got=$(xa deletes "$C/$t/current/$name") ;;
		appliesto) got=$(xa applies_to "$C/$t/current/.deletes/$name") ;;
		seq) got="$(xa sequence_number "$C/$t/current/$name") $(xa file_sequence_number "$C/$t/current/$name")" ;;
		spec) got=$(xa partition_spec_id "$C/$t/current/$name") ;;
		*) continue ;;
		esac
		t_is "$t: $kind $name" "$got" "$want"
		n=$((n + 1))
	done <"$GEN/$t/EXPECTED"
	t_ok "$t: expectations read" test "$n" -ge 4
done
# equality deletes end to end: DuckDB applies what the xattrs name to
# real rows and gets what the generator left (an equality delete spares a
# data file of its own sequence number and other partitions' files)
t_is "eq_rows: DuckDB applies the deletes the xattrs name: the rows the generator left" \
	"$($Q "select string_agg(region || ':' || id, ' ' order by region, id) from ($(bfs_ice_rows_sql "$C/eq_rows/current"))")" \
	"$(sed -n 's/^rows //p' "$GEN/eq_rows/EXPECTED")"
A=$C/applies/current
t_is "a data file lists deletes, a delete the data files: both are paths to open" \
	"$(cd "$A" && xa deletes region=b/f2.parquet | xargs cat | wc -c)" \
	"$(stat -c %s "$A/.deletes/eq-global.parquet")"
t_is "a DELETED entry is not a live delete" "$(ls "$A/.deletes" | tr '\n' ' ')" \
	"eq-global.parquet pos-u.parquet region=a region=b "
O=$C/outside/current
t_is "data outside the location: every file is one entry" \
	"$(ls "$O" | tr '\n' ' ')" \
	"elsewhere.parquet hash.parquet inside.parquet missing.parquet short.parquet sib.parquet unconnected.parquet "
t_is "… under write.data.path and a hashed prefix, read whole" \
	"$(cat "$O/sib.parquet" | wc -c) $(cat "$O/hash.parquet" | wc -c)" "487 487"
t_is "… an object shorter than its manifest: stat is what a read delivers" \
	"$(stat -c %s "$O/short.parquet") $(cat "$O/short.parquet" | wc -c)" "243 243"
t_is "… the disagreement is in an xattr" \
	"$(xa size_mismatch "$O/short.parquet")" "object 243, manifest 487"
t_fails_with "… only where there is one" "No such attribute" \
	getfattr --absolute-names -n user.iceberg.size_mismatch "$O/inside.parquet"
t_is "… and logged once" "$(grep -c "short.parquet' is 243 bytes, its manifest says 487" "$BFS_LOG")" 1
# an object replaced after its snapshot was listed is not the file any
# more: EIO, never a short read of other bytes
t_is "sib.parquet as listed" "$(stat -c %s "$O/sib.parquet")" 487
head -c 100 "$GEN/outside_data/sib.parquet" >"$B/gen/outside_data/sib.parquet"
for i in 1 2; do
	t_fails_with "… replaced by a shorter object: open is EIO (#$i)" \
		"Input/output error" cat "$O/sib.parquet"
	# the kernel forgets the inode when it drops the dentry (any
	# drop_caches on the machine): its next one is as broken
	[ "$i" = 1 ] && sync && echo 2 >/proc/sys/vm/drop_caches
done
t_is "… logged once" "$(grep -c "outside_data/sib.parquet' is 100 bytes now, 487 when it was listed" "$BFS_LOG")" 1
t_is "… a file in another bucket of the mount is read from it" \
	"$(cat "$O/elsewhere.parquet" | wc -c) $(stat -c %s "$O/elsewhere.parquet")" "487 487"
t_is "… the one in a bucket the mount does not connect is listed too" \
	"$(ls "$O" | grep -c unconnected.parquet)" 1
for i in 1 2 3; do
	t_fails_with "… a missing file: stat is EIO (#$i)" "Input/output error" stat "$O/missing.parquet"
	t_fails_with "… a missing file: open is EIO (#$i)" "Input/output error" cat "$O/missing.parquet"
done
t_fails_with "… an unconnected bucket's file: stat is EIO" "Input/output error" stat "$O/unconnected.parquet"
t_fails_with "… and open" "Input/output error" cat "$O/unconnected.parquet"
t_is "… each is logged once, naming it" \
	"$(grep -c 'outside_data/missing.parquet' "$BFS_LOG") $(grep -c 'unconnected.parquet' "$BFS_LOG")" "1 1"
t_ok "… and the rest of the table reads" cmp "$O/inside.parquet" "$GEN/outside/data/inside.parquet"
# the bucket connected while mounted: the catalog follows the live
# configuration, as buckets/ does, and reads the file from it
cat >>"$BFS_CONF" <<CONF

[bucket nobucket]
provider = local
dir = $W/nobucket
CONF
t_ok "a bucket connected while mounted: the catalog is built anew" \
	wait_for 60 grep -q "catalog 'gen' follows the mount's buckets" "$BFS_LOG"
mkdir -p "$M/buckets/nobucket/x"
cp "$GEN/otherbucket/x/elsewhere.parquet" "$M/buckets/nobucket/x/unconnected.parquet" ||
	t_diag "copy into nobucket failed"
t_ok "… and reads the file in it" cmp "$O/unconnected.parquet" "$GEN/otherbucket/x/elsewhere.parquet"
bfs_log_expect "is not in the bucket"
bfs_log_expect "which this mount does not connect"
t_ok "unmount" bfs_umount
t_plan_done
