#!/usr/bin/python3
"""ice_read.py TABLE_DIR - an independent reading of an Iceberg table on
local disk (not bucketfs's code): what its current snapshot's directory
must hold in a bucketfs mount, one line per live file, sorted:

    <path below current/>\t<content>\t<record_count>\t<partition>\t<file_size_in_bytes>

ice_read.py --mount DIR prints the same lines from what a mount shows in
DIR (a current/ or snapshots/<id>/ directory): every file below it and
its user.iceberg.* xattrs, so a test compares the two.

Data files are at their path below data/, else at <partition>/<name>;
delete files below .deletes/ the same way, a deletion vector as
<puffin path>@<content_offset> (doc/catalogs.md). Partition values are
Iceberg Java's human strings (tests/tools/ice_gen.py), by the partition
spec and schema of the table metadata.

Run with Debian's /usr/bin/python3: python3-avro decodes the records;
the container blocks are decompressed here (null, deflate, snappy,
zstandard, bzip2, xz), so every codec a writer uses is read the same way.
"""
import bz2
import gzip
import io
import json
import lzma
import os
import re
import sys
import zlib

import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ice_gen import avro_header, java_path, read_bytes, read_long  # noqa: E402


def physical(t):
    if isinstance(t, dict):
        return {k: physical(v) for k, v in t.items() if k != "logicalType"}
    if isinstance(t, list):
        return [physical(x) for x in t]
    return t


def avro_records(path):
    """(metadata, records) of an Avro container file."""
    data = open(path, "rb").read()
    if data[:4] != b"Obj\x01":
        raise ValueError("%s: not Avro" % path)
    meta, _, i = avro_header(data)
    # physical values (days, micros, unscaled bytes), as Iceberg's human
    # strings are defined on them
    schema = avro.schema.parse(json.dumps(physical(json.loads(meta["avro.schema"]))))
    codec = meta.get("avro.codec", b"null").decode()
    reader = avro.io.DatumReader(schema)
    recs = []
    while i < len(data):
        cnt, i = read_long(data, i)
        block, i = read_bytes(data, i)
        i += 16
        if codec == "deflate":
            block = zlib.decompress(block, -15)
        elif codec == "snappy":
            import snappy
            block = snappy.decompress(block[:-4])
        elif codec == "zstandard":
            import zstandard
            block = zstandard.ZstdDecompressor().decompressobj().decompress(block)
        elif codec == "bzip2":
            block = bz2.decompress(block)
        elif codec == "xz":
            block = lzma.decompress(block)
        elif codec != "null":
            raise ValueError("%s: unknown Avro codec '%s'" % (path, codec))
        dec = avro.io.BinaryDecoder(io.BytesIO(block))
        for _ in range(cnt):
            recs.append(reader.read(dec))
    return {k: v.decode(errors="replace") for k, v in meta.items()}, recs


def current_metadata(table):
    md = os.path.join(table, "metadata")
    names = os.listdir(md)
    hint = os.path.join(md, "version-hint.text")
    if os.path.exists(hint):
        v = open(hint).read().strip()
        for n in ("v%s.metadata.json" % v, "v%s.gz.metadata.json" % v,
                  "v%s.metadata.json.gz" % v):
            if n in names:
                return os.path.join(md, n)

    def version(n):
        m = re.match(r"v(\d+)\.", n) or re.match(r"(\d+)-", n)
        return int(m.group(1)) if m and "metadata.json" in n else -1
    return os.path.join(md, max(names, key=version))


def load_json(path):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data)


def strip_scheme(p):
    m = re.match(r"^[a-z][a-z0-9+.-]*://[^/]*", p)
    return p[m.end():] if m else p


def norm(p):
    while p.startswith("./"):
        p = p[2:]
    return p.rstrip("/")


def relative(path, location):
    """path below the table location, or None (outside it)."""
    for a, b in ((path, location), (strip_scheme(path), strip_scheme(location))):
        a, b = norm(a), norm(b)
        if a.startswith(b + "/"):
            return a[len(b) + 1:]
    return None


def mount_facts(top):
    out = []
    for dp, dn, fn in os.walk(top):
        for n in fn:
            p = os.path.join(dp, n)
            x = lambda a: os.getxattr(p, "user.iceberg." + a).decode()
            out.append("%s\t%s\t%s\t%s\t%s" % (
                os.path.relpath(p, top), x("content"), x("record_count"),
                x("partition"), x("file_size_in_bytes")))
    for line in sorted(out):
        print(line)


def main():
    if sys.argv[1] == "--mount":
        mount_facts(sys.argv[2])
        return
    table = sys.argv[1]
    meta = load_json(current_metadata(table))
    loc = meta["location"]
    snap_id = meta.get("current-snapshot-id")
    snaps = {s["snapshot-id"]: s for s in meta.get("snapshots", [])}
    if snap_id is None or snap_id == -1 or snap_id not in snaps:
        return
    snap = snaps[snap_id]
    types = {}
    for sch in meta.get("schemas", [meta.get("schema")]):
        for f in (sch or {}).get("fields", []):
            types[f["id"]] = f["type"] if isinstance(f["type"], str) else "struct"
    specs = {s["spec-id"]: s["fields"] for s in meta.get("partition-specs", [])}
    if not specs and "partition-spec" in meta:
        specs = {0: meta["partition-spec"]}
    if "manifest-list" in snap:
        _, mlist = avro_records(os.path.join(table, relative(snap["manifest-list"], loc)))
        manifests = [(m["manifest_path"], m.get("partition_spec_id", 0)) for m in mlist]
    else:
        manifests = [(p, None) for p in snap["manifests"]]
    out = []
    for mpath, spec_id in manifests:
        mmeta, entries = avro_records(os.path.join(table, relative(mpath, loc)))
        if spec_id is None:
            spec_id = int(mmeta.get("partition-spec-id", "0"))
        fields = [{"name": f["name"], "transform": f["transform"],
                   "src_type": types.get(f["source-id"], "string")}
                  for f in specs.get(spec_id, [])]
        for e in entries:
            if e["status"] == 2:
                continue
            df = e["data_file"]
            content = df.get("content", 0)
            part = df.get("partition") or {}
            hp = java_path(fields, [part.get(f["name"]) for f in fields]) if fields else ""
            path = df["file_path"]
            rel = relative(path, loc)
            if rel is not None and rel.startswith("data/") and len(rel) > 5:
                sub = rel[5:]
            else:
                base = path.rsplit("/", 1)[-1]
                sub = hp + "/" + base if hp else base
            if content == 1 and df.get("content_offset") is not None:
                sub += "@%d" % df["content_offset"]
            if content != 0:
                sub = ".deletes/" + sub
            kind = ["data", "position-deletes", "equality-deletes"][content]
            out.append("%s\t%s\t%d\t%s\t%d" % (sub, kind, df["record_count"], hp,
                                               df["file_size_in_bytes"]))
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    try:
        main()
    except ValueError as e:
        sys.exit("ice_read.py: %s" % e)
