#!/usr/bin/env bash
# ice_rewrite_table.sh SRC DST NEW_LOCATION - copy the Iceberg table SRC
# to DST with every path inside its metadata (JSON and Avro) moved from
# the table's location to NEW_LOCATION (e.g. s3://some-bucket/wh/t), the
# way a table copied between buckets looks. Needs ICE_REWRITE (the built
# tests/tools/ice_rewrite).
set -eu
src=$1 dst=$2 new=$3
cp -r "$src" "$dst"
meta=$(ls "$dst"/metadata/*.metadata.json | head -1)
old=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["location"])' "$meta")
old=${old#./} # "./t" and "t/..." name the same place
for f in "$dst"/metadata/*.metadata.json; do
	python3 - "$f" "$old" "$new" <<'PY'
import json, sys
path, old, new = sys.argv[1:]
d = json.load(open(path))
def fix(p):
    if not isinstance(p, str):
        return p
    q = p[2:] if p.startswith("./") else p
    return new + q[len(old):] if q.startswith(old) else p
d["location"] = fix(d["location"])
for s in d.get("snapshots", []):
    if "manifest-list" in s:
        s["manifest-list"] = fix(s["manifest-list"])
    if "manifests" in s:
        s["manifests"] = [fix(m) for m in s["manifests"]]
for m in d.get("metadata-log", []):
    m["metadata-file"] = fix(m.get("metadata-file"))
json.dump(d, open(path, "w"))
PY
done
for f in "$dst"/metadata/*.avro; do
	"$ICE_REWRITE" "$f" "$f.new" "$old" "$new"
	mv "$f.new" "$f"
done
