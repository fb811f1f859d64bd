#!/usr/bin/python3
"""ice_gen.py FIXTURES OUT - write the generated Iceberg test tables of
tests/fixtures/iceberg_gen (see its SOURCES.md) into OUT.

Run with Debian's /usr/bin/python3 (python3-avro, python3-zstandard,
python3-snappy). Tables are built the way engines write them: manifests
and manifest lists in Avro with Iceberg's key/value metadata, partition
paths by Iceberg Java's rules (PartitionSpec.partitionToPath: the
transform's human string, URLEncoder-escaped). Each table gets an
EXPECTED file: the facts a reader must find, computed here, independently
of bucketfs's C code.

Tables:
  codec_<c>      partition_integer with every Avro file rewritten with
                 codec c (null, deflate, snappy, zstandard, bzip2, xz)
  codec_lz4      the same with a codec the Avro spec does not know
  parts_engine   one file per partition tuple below data/<partition path>
  parts_migrated the same files outside data/ (a migrated table): bucketfs
                 must synthesise the same paths
  dv_table       v3: two deletion vectors in one Puffin file, a position
                 delete file, an equality delete (global) and sequence
                 numbers that decide which deletes apply
  outside        data files under write.data.path, under a hashed
                 object-store prefix, and one that does not exist
  applies        v2, partition evolution: which position and equality
                 deletes apply to which data file (sequence numbers,
                 partition, referenced_data_file, file_path bounds,
                 global equality deletes)
"""
import base64
import datetime
import decimal
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import urllib.parse
import uuid

import avro.datafile
import avro.io
import avro.schema

# FIX, OUT: set from argv when run (ice_read.py imports the human strings)
CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]


def write_avro(path, schema, records, meta, codec="deflate"):
    sch = avro.schema.parse(json.dumps(schema))
    buf = io.BytesIO()
    w = avro.datafile.DataFileWriter(buf, avro.io.DatumWriter(), sch, codec=codec)
    for k, v in meta.items():
        w.set_meta(k, v.encode() if isinstance(v, str) else v)
    for r in records:
        w.append(r)
    w.flush()
    data = buf.getvalue()
    w.close()
    with open(path, "wb") as f:
        f.write(data)


def read_long(b, i):
    z = shift = 0
    while True:
        c = b[i]
        i += 1
        z |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return (z >> 1) ^ -(z & 1), i


def read_bytes(b, i):
    n, i = read_long(b, i)
    return b[i:i + n], i + n


def avro_header(data):
    """(metadata, sync marker, offset of the first block) of an Avro
    container file's bytes."""
    i, meta = 4, {}
    while True:
        n, i = read_long(data, i)
        if n == 0:
            break
        if n < 0:  # a block count followed by its size in bytes
            n = -n
            _, i = read_long(data, i)
        for _ in range(n):
            k, i = read_bytes(data, i)
            v, i = read_bytes(data, i)
            meta[k.decode()] = v
    return meta, data[i:i + 16], i + 16


def write_long(v):
    z = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        c = z & 0x7F
        z >>= 7
        out.append(c | (0x80 if z else 0))
        if not z:
            return bytes(out)


def reframe_xz(data):
    """python3-avro has no xz codec: re-frame a null container's blocks
    with lzma's xz format, as Java's XZCodec writes them."""
    import lzma
    meta, sync, i = avro_header(data)
    meta["avro.codec"] = b"xz"
    out = bytearray(b"Obj\x01") + write_long(len(meta))
    for k, v in meta.items():
        out += write_long(len(k)) + k.encode() + write_long(len(v)) + v
    out += write_long(0) + sync
    while i < len(data):
        cnt, i = read_long(data, i)
        sz, i = read_long(data, i)
        block = lzma.compress(data[i:i + sz], format=lzma.FORMAT_XZ)
        i += sz + 16
        out += write_long(cnt) + write_long(len(block)) + block + sync
    return bytes(out)


def recode(src, dst, codec):
    if codec == "xz":
        recode(src, dst, "null")
        data = open(dst, "rb").read()
        open(dst, "wb").write(reframe_xz(data))
        return
    with open(src, "rb") as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        schema = r.datum_reader.writers_schema
        meta = {k: v for k, v in r.meta.items() if not k.startswith("avro.")}
        rows = list(r)
    buf = io.BytesIO()
    w = avro.datafile.DataFileWriter(buf, avro.io.DatumWriter(), schema, codec=codec)
    for k, v in meta.items():
        w.set_meta(k, v)
    for row in rows:
        w.append(row)
    w.flush()
    with open(dst, "wb") as f:
        f.write(buf.getvalue())
    w.close()


def codec_tables():
    base = os.path.join(FIX, "partition_integer")
    for c in CODECS + ["lz4"]:
        dst = os.path.join(OUT, "codec_" + c)
        shutil.copytree(base, dst)
        for name in os.listdir(os.path.join(dst, "metadata")):
            p = os.path.join(dst, "metadata", name)
            if not name.endswith(".avro"):
                continue
            os.chmod(p, 0o644)
            recode(p, p, "null" if c == "lz4" else c)
            if c == "lz4":
                # same length as "null": the header stays well formed
                data = open(p, "rb").read()
                i = data.index(b"avro.codec")
                j = data.index(b"null", i)
                open(p, "wb").write(data[:j] + b"lz4x" + data[j + 4:])
        for dp, dn, fn in os.walk(dst):
            for n in fn:
                os.chmod(os.path.join(dp, n), 0o644)
        exp = "codec %s\nfiles 2\nrecords 2\n" % c
        if c == "lz4":
            exp = "error unknown Avro codec 'lz4x'\n"
        open(os.path.join(dst, "EXPECTED"), "w").write(exp)


# ---- Iceberg Java's human strings (TransformUtil, Identity, Transform) ----

EPOCH = datetime.datetime(1970, 1, 1)


def java_time(micros_of_day, nanos=False):
    n = micros_of_day if nanos else micros_of_day * 1000
    h, rem = divmod(n, 3600 * 10**9)
    m, rem = divmod(rem, 60 * 10**9)
    s, ns = divmod(rem, 10**9)
    out = "%02d:%02d" % (h, m)
    if s or ns:
        out += ":%02d" % s
        if ns:
            if ns % 10**6 == 0:
                out += ".%03d" % (ns // 10**6)
            elif ns % 1000 == 0:
                out += ".%06d" % (ns // 1000)
            else:
                out += ".%09d" % ns
    return out


def java_datetime(micros):
    d = EPOCH + datetime.timedelta(microseconds=micros)
    day_micros = (d.hour * 3600 + d.minute * 60 + d.second) * 10**6 + d.microsecond
    return d.date().isoformat() + "T" + java_time(day_micros)


def java_date(days):
    return (EPOCH + datetime.timedelta(days=days)).date().isoformat()


def java_decimal(unscaled, scale):
    # BigDecimal.toString
    digits = str(abs(unscaled))
    adjusted = -scale + len(digits) - 1
    sign = "-" if unscaled < 0 else ""
    if scale >= 0 and adjusted >= -6:
        if scale == 0:
            return sign + digits
        if len(digits) > scale:
            return sign + digits[:-scale] + "." + digits[-scale:]
        return sign + "0." + "0" * (scale - len(digits)) + digits
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return sign + mant + "E" + ("+" if adjusted > 0 else "") + str(adjusted)


def java_double(x):
    # Double.toString: shortest repr; plain in [1e-3, 1e7), else d.dddEn
    if x == 0:
        return "0.0" if str(x)[0] != "-" else "-0.0"
    r = repr(x)
    mant, _, exp = r.partition("e")
    d = decimal.Decimal(r)
    if 1e-3 <= abs(x) < 1e7:
        s = format(d, "f")
        if "." not in s:
            s += ".0"
        return s
    sign = "-" if x < 0 else ""
    t = d.as_tuple()
    digits = "".join(map(str, t.digits)).rstrip("0") or "0"
    e = t.exponent + len(t.digits) - 1
    return sign + digits[0] + "." + (digits[1:] or "0") + "E" + str(e)


def human(src_type, transform, v):
    if v is None or transform == "void":
        return "null"
    if transform == "year":
        return "%04d" % (1970 + v)
    if transform == "month":
        return "%04d-%02d" % (1970 + v // 12, 1 + v % 12)
    if transform == "day":
        return java_date(v)
    if transform == "hour":
        t = EPOCH + datetime.timedelta(hours=v)
        return "%04d-%02d-%02d-%02d" % (t.year, t.month, t.day, t.hour)
    if transform.startswith("bucket"):
        return str(v)
    t = src_type
    if t == "date":
        return java_date(v)
    if t == "time":
        return java_time(v)
    if t == "timestamp":
        return java_datetime(v)
    if t == "timestamptz":
        return java_datetime(v) + "Z"
    if t.startswith("decimal"):
        scale = int(t[t.index(",") + 1:-1])
        return java_decimal(int.from_bytes(v, "big", signed=True), scale)
    if t == "boolean":
        return "true" if v else "false"
    if t in ("float", "double"):
        return java_double(v)
    if t == "uuid":
        return str(uuid.UUID(bytes=v))
    if t == "binary" or t.startswith("fixed"):
        return base64.b64encode(v).decode()
    return str(v)


def esc(s):
    # java.net.URLEncoder.encode(s, UTF-8)
    return urllib.parse.quote_plus(s, safe="*")


def java_path(fields, values):
    return "/".join(esc(f["name"]) + "=" + esc(human(f["src_type"], f["transform"], v))
                    for f, v in zip(fields, values))


# ---- writing tables from scratch ----

def avro_type(t):
    # physical types only: python3-avro would want Python objects for
    # logical types; readers take the types from the metadata's schema
    if t in ("boolean", "int", "long", "float", "double", "string"):
        return t
    if t in ("date",):
        return "int"
    if t in ("time", "timestamp", "timestamptz"):
        return "long"
    if t == "binary":
        return "bytes"
    if t.startswith("decimal"):
        p, s = t[8:-1].split(",")
        return {"type": "fixed", "name": "dec_%s_%s" % (p, s.strip()), "size": 8}
    if t == "uuid":
        return {"type": "fixed", "name": "uuid_fixed", "size": 16}
    if t.startswith("fixed"):
        return {"type": "fixed", "name": "fixed_%s" % t[6:-1], "size": int(t[6:-1])}
    raise ValueError(t)


def result_type(f):
    tr = f["transform"]
    if tr in ("year", "month", "hour") or tr.startswith("bucket"):
        return "int"
    if tr == "day":
        return "date"
    return f["src_type"]


def BOUNDS(k, v):
    # map<int, binary> as Iceberg writes it in Avro: an array of records
    return {"type": "array", "logicalType": "map", "items": {
        "type": "record", "name": "k%d_v%d" % (k, v), "fields": [
            {"name": "key", "type": "int", "field-id": k},
            {"name": "value", "type": "bytes", "field-id": v}]}}


# the reserved field id of a position delete file's file_path column
FILE_PATH_ID = 2147483546


def manifest_schema(fields):
    part = {"type": "record", "name": "r102", "fields": [
        {"name": f["name"], "type": ["null", avro_type(result_type(f))], "default": None,
         "field-id": f["field_id"]} for f in fields]}
    opt = lambda n, t, i: {"name": n, "type": ["null", t], "default": None, "field-id": i}
    return {"type": "record", "name": "manifest_entry", "fields": [
        {"name": "status", "type": "int", "field-id": 0},
        opt("snapshot_id", "long", 1),
        opt("sequence_number", "long", 3),
        opt("file_sequence_number", "long", 4),
        {"name": "data_file", "field-id": 2, "type": {"type": "record", "name": "r2", "fields": [
            {"name": "content", "type": "int", "field-id": 134},
            {"name": "file_path", "type": "string", "field-id": 100},
            {"name": "file_format", "type": "string", "field-id": 101},
            {"name": "partition", "type": part, "field-id": 102},
            {"name": "record_count", "type": "long", "field-id": 103},
            {"name": "file_size_in_bytes", "type": "long", "field-id": 104},
            opt("equality_ids", {"type": "array", "items": "int", "element-id": 136}, 135),
            opt("referenced_data_file", "string", 143),
            opt("content_offset", "long", 144),
            opt("content_size_in_bytes", "long", 145),
            opt("lower_bounds", BOUNDS(126, 127), 125),
            opt("upper_bounds", BOUNDS(129, 130), 128),
        ]}},
    ]}


LIST_SCHEMA = {"type": "record", "name": "manifest_file", "fields": [
    {"name": "manifest_path", "type": "string", "field-id": 500},
    {"name": "manifest_length", "type": "long", "field-id": 501},
    {"name": "partition_spec_id", "type": "int", "field-id": 502},
    {"name": "content", "type": "int", "field-id": 517},
    {"name": "sequence_number", "type": "long", "field-id": 515},
    {"name": "min_sequence_number", "type": "long", "field-id": 516},
    {"name": "added_snapshot_id", "type": "long", "field-id": 503},
    {"name": "added_files_count", "type": "int", "field-id": 504},
    {"name": "existing_files_count", "type": "int", "field-id": 505},
    {"name": "deleted_files_count", "type": "int", "field-id": 506},
    {"name": "added_rows_count", "type": "long", "field-id": 512},
    {"name": "existing_rows_count", "type": "long", "field-id": 513},
    {"name": "deleted_rows_count", "type": "long", "field-id": 514},
]}


class Table:
    def __init__(self, name, location, columns, fields, version=2, props=None, specs=None):
        self.dir = os.path.join(OUT, name)
        self.location = location
        self.columns = columns  # [(id, name, type)]
        self.fields = fields    # [{name, transform, source_id, field_id, src_type}]
        self.specs = specs or {0: fields}  # spec id -> fields
        self.version = version
        self.props = props or {}
        self.snapshots = []
        self.manifests = []     # (path, content, seq, snap, entries)
        os.makedirs(os.path.join(self.dir, "metadata"), exist_ok=True)

    def schema_json(self):
        return {"type": "struct", "schema-id": 0, "fields": [
            {"id": i, "name": n, "required": False, "type": t} for i, n, t in self.columns]}

    def spec_json(self, spec_id=0):
        return [{"name": f["name"], "transform": f["transform"],
                 "source-id": f["source_id"], "field-id": f["field_id"]}
                for f in self.specs[spec_id]]

    def put(self, rel, data):
        p = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(data)
        return len(data)

    def manifest(self, name, content, seq, snap, entries, codec="zstandard", spec_id=0):
        """entries: dicts with status, path, content, partition (values),
        records, size, [seq], [ref], [offset], [length], [eq], [lower,
        upper] (file_path bounds of a position delete file)"""
        fields = self.specs[spec_id]
        recs = []
        for e in entries:
            bounds = lambda k: ([{"key": FILE_PATH_ID, "value": e[k].encode()}]
                                if k in e else None)
            recs.append({
                "status": e.get("status", 1),
                "snapshot_id": snap,
                "sequence_number": e.get("seq"),
                "file_sequence_number": e.get("seq"),
                "data_file": {
                    "content": e.get("content", 0),
                    "file_path": e["path"],
                    "file_format": e.get("format", "PARQUET"),
                    "partition": {f["name"]: v for f, v in zip(fields, e.get("partition", []))},
                    "record_count": e.get("records", 1),
                    "file_size_in_bytes": e["size"],
                    "equality_ids": e.get("eq"),
                    "referenced_data_file": e.get("ref"),
                    "content_offset": e.get("offset"),
                    "content_size_in_bytes": e.get("length"),
                    "lower_bounds": bounds("lower"),
                    "upper_bounds": bounds("upper"),
                }})
        rel = "metadata/" + name
        write_avro(os.path.join(self.dir, rel), manifest_schema(fields), recs, {
            "schema": json.dumps(self.schema_json()),
            "schema-id": "0",
            "partition-spec": json.dumps(self.spec_json(spec_id)),
            "partition-spec-id": str(spec_id),
            "format-version": str(self.version),
            "content": "deletes" if content else "data",
        }, codec=codec)
        self.manifests.append((self.location + "/" + rel, content, seq, snap, len(recs),
                               os.path.getsize(os.path.join(self.dir, rel)), spec_id))

    def commit(self, snap, seq):
        rel = "metadata/snap-%d-1-list.avro" % snap
        recs = [{"manifest_path": p, "manifest_length": ln, "partition_spec_id": sid,
                 "content": c, "sequence_number": s, "min_sequence_number": s,
                 "added_snapshot_id": sn, "added_files_count": n, "existing_files_count": 0,
                 "deleted_files_count": 0, "added_rows_count": n, "existing_rows_count": 0,
                 "deleted_rows_count": 0} for p, c, s, sn, n, ln, sid in self.manifests]
        write_avro(os.path.join(self.dir, rel), LIST_SCHEMA, recs,
                   {"snapshot-id": str(snap), "sequence-number": str(seq),
                    "format-version": str(self.version)}, codec="zstandard")
        self.snapshots.append({"snapshot-id": snap, "sequence-number": seq,
                               "timestamp-ms": 1700000000000 + seq,
                               "summary": {"operation": "append"},
                               "manifest-list": self.location + "/" + rel, "schema-id": 0})
        meta = {"format-version": self.version, "table-uuid": str(uuid.UUID(int=snap)),
                "location": self.location, "last-sequence-number": seq,
                "last-updated-ms": 1700000000000 + seq, "last-column-id": len(self.columns),
                "current-schema-id": 0, "schemas": [self.schema_json()],
                "default-spec-id": max(self.specs),
                "partition-specs": [{"spec-id": i, "fields": self.spec_json(i)}
                                    for i in sorted(self.specs)],
                "last-partition-id": 999 + max(len(f) for f in self.specs.values()),
                "default-sort-order-id": 0,
                "sort-orders": [{"order-id": 0, "fields": []}], "properties": self.props,
                "current-snapshot-id": snap, "snapshots": self.snapshots}
        if self.version >= 3:
            meta["next-row-id"] = 0
        n = len(self.snapshots)
        open(os.path.join(self.dir, "metadata/v%d.metadata.json" % n), "w").write(json.dumps(meta, indent=1))
        open(os.path.join(self.dir, "metadata/version-hint.text"), "w").write(str(n))


def parquet_bytes():
    p = os.path.join(FIX, "partition_integer/data/partition_col=42")
    return open(os.path.join(p, os.listdir(p)[0]), "rb").read()


def dec(unscaled):
    return unscaled.to_bytes(8, "big", signed=True)


def ts(y, mo, d, h=0, mi=0, s=0, us=0):
    return int((datetime.datetime(y, mo, d, h, mi, s, us) - EPOCH).total_seconds()) * 10**6 + us


PART_COLUMNS = [(1, "id", "long"), (2, "d", "date"), (3, "t", "time"), (4, "ts", "timestamp"),
                (5, "tstz", "timestamptz"), (6, "amount", "decimal(18,3)"), (7, "flag", "boolean"),
                (8, "s", "string"), (9, "u", "uuid"), (10, "b", "binary"), (11, "fx", "fixed[3]"),
                (12, "f", "float"), (13, "x", "double"), (14, "tiny", "decimal(9,7)")]


def part_fields():
    types = {i: t for i, _, t in PART_COLUMNS}
    spec = [("p_date", "identity", 2), ("p_time", "identity", 3), ("p_ts", "identity", 4),
            ("p_tstz", "identity", 5), ("p_decimal", "identity", 6), ("p_bool", "identity", 7),
            ("p_str", "identity", 8), ("p_uuid", "identity", 9), ("p_bin", "identity", 10),
            ("p_fixed", "identity", 11), ("p_double", "identity", 13), ("p_tiny", "identity", 14),
            ("ts_year", "year", 4), ("ts_month", "month", 4), ("tstz_day", "day", 5),
            ("ts_hour", "hour", 4), ("id_bucket", "bucket[16]", 1), ("s_trunc", "truncate[3]", 8),
            ("id_void", "void", 1)]
    return [{"name": n, "transform": tr, "source_id": sid, "field_id": 1000 + k,
             "src_type": types[sid]} for k, (n, tr, sid) in enumerate(spec)]


def part_rows():
    t1 = ts(2023, 5, 15, 14, 30, 45)
    t2 = ts(1969, 12, 31, 23, 0, 0, 500000)
    return [
        [19045, 37845 * 10**6, t1, t1, dec(123321), True, "plain", uuid.UUID(int=0x0123456789abcdef0123456789abcdef).bytes,
         b"\x00\xff?>", b"abc", 1.5, dec(1), 53, 640, 19492, 467270, 7, "pla", None],
        [-1, 1, t2, t2 + 1, dec(-5), False, "a/b=c d+é%", uuid.UUID(int=1).bytes,
         b"", b"\xfb\xef\xff", 1e21, dec(12345678), -1, -1, -1, -1, 0, "a/b", None],
        [None] * 19,
    ]


def parts_tables():
    fields = part_fields()
    data = parquet_bytes()
    rows = part_rows()
    exp = []
    for name, migrated in (("parts_engine", False), ("parts_migrated", True)):
        loc = "s3://warehouse/wh/" + name
        t = Table(name, loc, PART_COLUMNS, fields)
        entries = []
        for k, row in enumerate(rows):
            hp = java_path(fields, row)
            fn = "0000%d-0-part.parquet" % k
            rel = ("import/%s" % fn) if migrated else "data/%s/%s" % (hp, fn)
            size = t.put(rel, data)
            entries.append({"path": loc + "/" + rel, "partition": row, "size": size, "seq": 1})
            if migrated:
                exp.append("file %s/%s" % (hp, fn))
                exp.append("partition %s %s" % (fn, hp))
        t.manifest("m-data.avro", 0, 1, 101, entries)
        t.commit(101, 1)
    open(os.path.join(OUT, "parts_migrated", "EXPECTED"), "w").write("\n".join(exp) + "\n")


def puffin(blobs):
    """A Puffin file holding deletion-vector blobs; returns (bytes, [(off, len)])."""
    out = bytearray(b"PFA1")
    spans = []
    for b in blobs:
        spans.append((len(out), len(b)))
        out += b
    footer = json.dumps({"blobs": [{"type": "deletion-vector-v1", "fields": [2147483645],
                                    "snapshot-id": -1, "sequence-number": -1,
                                    "offset": o, "length": ln} for o, ln in spans]}).encode()
    out += b"PFA1" + footer + struct.pack("<i", len(footer)) + b"\0\0\0\0" + b"PFA1"
    return bytes(out), spans


def dv_table():
    """v3, unpartitioned. Sequence numbers decide which deletes apply:
    seq 1: data a, b, c   seq 2: data d; DVs for a and b in one Puffin;
    a position delete file for c (file_path bounds c..c, so not d); an
    equality delete (global, seq 2) applies to a, b, c (seq 1 < 2) but
    not to d (same seq)."""
    loc = "s3://warehouse/wh/dv_table"
    t = Table("dv_table", loc, [(1, "id", "long")], [], version=3)
    data = parquet_bytes()
    for n in "abcd":
        t.put("data/%s.parquet" % n, data)
    size = len(data)
    t.manifest("m1.avro", 0, 1, 201, [
        {"path": loc + "/data/%s.parquet" % n, "size": size, "seq": 1} for n in "abc"])
    t.manifest("m2.avro", 0, 2, 202, [{"path": loc + "/data/d.parquet", "size": size, "seq": 2}])
    blob, spans = puffin([b"\x01" * 40, b"\x02" * 24])
    psize = t.put("data/dvs.puffin", blob)
    pos = parquet_bytes()
    t.put("data/pos-c.parquet", pos)
    t.put("data/eq.parquet", pos)
    t.manifest("m3.avro", 1, 2, 202, [
        {"path": loc + "/data/dvs.puffin", "content": 1, "format": "PUFFIN", "size": psize,
         "seq": 2, "ref": loc + "/data/a.parquet", "offset": spans[0][0], "length": spans[0][1]},
        {"path": loc + "/data/dvs.puffin", "content": 1, "format": "PUFFIN", "size": psize,
         "seq": 2, "ref": loc + "/data/b.parquet", "offset": spans[1][0], "length": spans[1][1]},
        {"path": loc + "/data/pos-c.parquet", "content": 1, "size": len(pos), "seq": 2,
         "lower": loc + "/data/c.parquet", "upper": loc + "/data/c.parquet"},
        {"path": loc + "/data/eq.parquet", "content": 2, "size": len(pos), "seq": 2, "eq": [1]},
    ])
    # a's old position deletes at seq 0 < 1 would not apply: none written
    t.commit(202, 2)
    e = ["dv dvs.puffin@%d a.parquet %d %d" % (spans[0][0], spans[0][0], spans[0][1]),
         "dv dvs.puffin@%d b.parquet %d %d" % (spans[1][0], spans[1][0], spans[1][1]),
         "applies a.parquet .deletes/dvs.puffin@%d .deletes/eq.parquet" % spans[0][0],
         "applies b.parquet .deletes/dvs.puffin@%d .deletes/eq.parquet" % spans[1][0],
         "applies c.parquet .deletes/eq.parquet .deletes/pos-c.parquet",
         "applies d.parquet"]
    open(os.path.join(t.dir, "EXPECTED"), "w").write("\n".join(e) + "\n")


def outside_table():
    """Data under write.data.path (a sibling folder), under a hashed
    object-store prefix beside the table, one missing, one in another
    bucket (its object in OUT/otherbucket/), one in a bucket no test
    connects, and one whose object is shorter than its manifest says. OUT
    stands for the bucket's wh/ folder."""
    loc = "s3://warehouse/wh/outside"
    t = Table("outside", loc, [(1, "id", "long")], [],
              props={"write.data.path": "s3://warehouse/wh/outside_data",
                     "write.object-storage.enabled": "true"})
    data = parquet_bytes()
    root = os.path.dirname(t.dir)  # the folder standing for wh/
    os.makedirs(os.path.join(root, "outside_data"), exist_ok=True)
    open(os.path.join(root, "outside_data", "sib.parquet"), "wb").write(data)
    hp = os.path.join(root, "hashed", "0110", "1011", "outside")
    os.makedirs(hp, exist_ok=True)
    open(os.path.join(hp, "hash.parquet"), "wb").write(data)
    t.put("data/short.parquet", data[: len(data) // 2])
    t.put("data/inside.parquet", data)
    t.manifest("m.avro", 0, 1, 301, [
        {"path": "s3://warehouse/wh/outside_data/sib.parquet", "size": len(data), "seq": 1},
        {"path": "s3://warehouse/wh/hashed/0110/1011/outside/hash.parquet", "size": len(data), "seq": 1},
        {"path": loc + "/data/inside.parquet", "size": len(data), "seq": 1},
        {"path": loc + "/data/short.parquet", "size": len(data), "seq": 1},
        {"path": "s3://warehouse/wh/outside_data/missing.parquet", "size": len(data), "seq": 1},
        {"path": "s3://otherbucket/x/elsewhere.parquet", "size": len(data), "seq": 1},
        {"path": "s3://nobucket/x/unconnected.parquet", "size": len(data), "seq": 1},
    ])
    # the object of otherbucket (a test connects a bucket of that name)
    os.makedirs(os.path.join(root, "otherbucket", "x"), exist_ok=True)
    open(os.path.join(root, "otherbucket", "x", "elsewhere.parquet"), "wb").write(data)
    t.commit(301, 1)
    e = ["file sib.parquet %d" % len(data), "file hash.parquet %d" % len(data),
         "file inside.parquet %d" % len(data), "short short.parquet %d %d" % (len(data) // 2, len(data)),
         "missing missing.parquet", "file elsewhere.parquet %d" % len(data),
         "missing unconnected.parquet"]
    open(os.path.join(t.dir, "EXPECTED"), "w").write("\n".join(e) + "\n")


def applies_table():
    """v2 with partition evolution: spec 0 identity(region), spec 1
    unpartitioned. Which deletes apply, by the spec's scan-planning rules
    (each expectation below says why); the sequence numbers of the
    manifest list are inherited where an entry leaves its own null."""
    loc = "s3://warehouse/wh/applies"
    region = [{"name": "region", "transform": "identity", "source_id": 2,
               "field_id": 1000, "src_type": "string"}]
    t = Table("applies", loc, [(1, "id", "long"), (2, "region", "string")], region,
              specs={0: region, 1: []})
    data = parquet_bytes()
    P = lambda rel: loc + "/data/" + rel
    for rel in ("region=a/f1.parquet", "region=b/f2.parquet", "region=a/f3.parquet",
                "region=a/f5.parquet", "u1.parquet", "region=a/pos-part.parquet",
                "region=a/pos-f1.parquet", "region=a/pos-ref.parquet",
                "region=a/pos-range.parquet", "region=a/pos-refother.parquet",
                "region=a/eq-a.parquet", "region=b/eq-b.parquet", "eq-global.parquet",
                "pos-u.parquet", "eq-dropped.parquet"):
        t.put("data/" + rel, data)
    n = len(data)
    t.manifest("d1.avro", 0, 1, 401, [
        {"path": P("region=a/f1.parquet"), "partition": ["a"], "size": n, "seq": 1},
        {"path": P("region=b/f2.parquet"), "partition": ["b"], "size": n, "seq": 1}])
    t.manifest("d1u.avro", 0, 1, 401, [{"path": P("u1.parquet"), "size": n, "seq": 1}],
               spec_id=1)
    t.manifest("d2.avro", 0, 2, 402, [
        {"path": P("region=a/f3.parquet"), "partition": ["a"], "size": n, "seq": 2}])
    # no sequence number of its own: inherits the manifest's, 3
    t.manifest("d3.avro", 0, 3, 403, [
        {"path": P("region=a/f5.parquet"), "partition": ["a"], "size": n}])
    t.manifest("x1.avro", 1, 1, 401, [
        {"path": P("region=a/pos-f1.parquet"), "content": 1, "partition": ["a"], "size": n,
         "seq": 1, "lower": P("region=a/f1.parquet"), "upper": P("region=a/f1.parquet")},
        {"path": P("region=b/eq-b.parquet"), "content": 2, "partition": ["b"], "size": n,
         "seq": 1, "eq": [1]}])
    t.manifest("x2.avro", 1, 2, 402, [
        {"path": P("region=a/pos-part.parquet"), "content": 1, "partition": ["a"],
         "size": n, "seq": 2},
        {"path": P("region=a/eq-a.parquet"), "content": 2, "partition": ["a"], "size": n,
         "seq": 2, "eq": [1]}])
    t.manifest("x3.avro", 1, 3, 403, [
        {"path": P("region=a/pos-ref.parquet"), "content": 1, "partition": ["a"], "size": n,
         "seq": 3, "ref": P("region=a/f3.parquet")},
        {"path": P("region=a/pos-range.parquet"), "content": 1, "partition": ["a"],
         "size": n, "seq": 3, "lower": P("region=a/f3.parquet"),
         "upper": P("region=a/f5.parquet")},
        {"path": P("region=a/pos-refother.parquet"), "content": 1, "partition": ["a"],
         "size": n, "seq": 3, "ref": P("region=b/f2.parquet")}])
    t.manifest("x3u.avro", 1, 3, 403, [
        {"path": P("eq-global.parquet"), "content": 2, "size": n, "seq": 3, "eq": [1]},
        {"path": P("pos-u.parquet"), "content": 1, "size": n, "seq": 3},
        {"path": P("eq-dropped.parquet"), "content": 2, "size": n, "seq": 3, "eq": [1],
         "status": 2}], spec_id=1)
    t.commit(403, 3)
    D = lambda *names: " ".join(".deletes/" + x for x in names)
    e = [
        # f1 (a, seq 1): eq-a (1 < 2), eq-global (1 < 3, unpartitioned),
        # pos-f1 (bounds f1..f1, 1 <= 1), pos-part (a, 1 <= 2)
        "applies region=a/f1.parquet " + D("eq-global.parquet", "region=a/eq-a.parquet",
                                          "region=a/pos-f1.parquet",
                                          "region=a/pos-part.parquet"),
        # f2 (b, seq 1): eq-global; not eq-b (1 is not < 1), not
        # pos-refother (it names f2 but is in partition a)
        "applies region=b/f2.parquet " + D("eq-global.parquet"),
        # f3 (a, seq 2): not eq-a (2 is not < 2), not pos-f1 (bounds)
        "applies region=a/f3.parquet " + D("eq-global.parquet", "region=a/pos-part.parquet",
                                          "region=a/pos-range.parquet",
                                          "region=a/pos-ref.parquet"),
        # f5 (a, inherited seq 3): only pos-range (f3..f5, 3 <= 3);
        # pos-part and eq-a are older, eq-global is not newer
        "applies region=a/f5.parquet " + D("region=a/pos-range.parquet"),
        # u1 (spec 1, seq 1): eq-global, pos-u (same spec); none of spec 0
        "applies u1.parquet " + D("eq-global.parquet", "pos-u.parquet"),
        "appliesto eq-global.parquet region=a/f1.parquet region=a/f3.parquet "
        "region=b/f2.parquet u1.parquet",
        "appliesto region=b/eq-b.parquet",
        "appliesto region=a/pos-refother.parquet",
        "seq region=a/f5.parquet 3 3",
        "seq region=a/f1.parquet 1 1",
        "spec u1.parquet 1",
        "spec region=a/f1.parquet 0",
    ]
    open(os.path.join(t.dir, "EXPECTED"), "w").write("\n".join(e) + "\n")


def duckdb_parquet(path, select, ids):
    """Write the rows of a SELECT as Parquet with Iceberg's field ids, with
    DuckDB (the tests' node module); returns the file's size."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fid = ", ".join("%s: %d" % kv for kv in ids.items())
    subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "duckdb_query.mjs"),
                    "copy (%s) to '%s' (format parquet, field_ids {%s})" % (select, path, fid)],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.getsize(path)


def eq_rows_table():
    """v2, identity(region), then unpartitioned (spec 1); real rows, so a
    reader that applies the deletes the mount names gets exactly these:
      seq 1: a1 (region a: ids 1..4) and b1 (region b: ids 1..4)
      seq 2: eq-a (region a, equality on id: 2 and 3) applies to a1 (1 < 2),
             not to b1 (another partition); a2 (region a: ids 2, 3, 5) is
             added at seq 2, so eq-a does not apply to it (2 is not < 2)
      seq 3: eq-global (spec 1, unpartitioned: id 4) applies to a1, b1, a2;
             pos-b1 (region b: b1's row at position 0, id 1)
    Left: a1 {1}, a2 {2, 3, 5}, b1 {2, 3}."""
    loc = "s3://warehouse/wh/eq_rows"
    region = [{"name": "region", "transform": "identity", "source_id": 2,
               "field_id": 1000, "src_type": "string"}]
    t = Table("eq_rows", loc, [(1, "id", "long"), (2, "region", "string")], region,
              specs={0: region, 1: []})
    ids = {"id": 1, "region": 2}
    rows = lambda r, v: ("select * from (values %s) t(id, region)" %
                         ", ".join("(%d::bigint, '%s')" % (i, r) for i in v))
    P = lambda rel: loc + "/data/" + rel
    D = lambda rel: os.path.join(t.dir, "data", rel)
    sz = {}
    sz["a1"] = duckdb_parquet(D("region=a/a1.parquet"), rows("a", [1, 2, 3, 4]), ids)
    sz["b1"] = duckdb_parquet(D("region=b/b1.parquet"), rows("b", [1, 2, 3, 4]), ids)
    sz["a2"] = duckdb_parquet(D("region=a/a2.parquet"), rows("a", [2, 3, 5]), ids)
    sz["eqa"] = duckdb_parquet(D("region=a/eq-a.parquet"),
                               "select * from (values (2::bigint), (3)) t(id)", {"id": 1})
    sz["eqg"] = duckdb_parquet(D("eq-global.parquet"),
                               "select 4::bigint as id", {"id": 1})
    sz["pos"] = duckdb_parquet(D("region=b/pos-b1.parquet"),
                               "select '%s' as file_path, 0::bigint as pos" % P("region=b/b1.parquet"),
                               {"file_path": FILE_PATH_ID, "pos": FILE_PATH_ID - 1})
    t.manifest("d1.avro", 0, 1, 501, [
        {"path": P("region=a/a1.parquet"), "partition": ["a"], "size": sz["a1"], "seq": 1,
         "records": 4},
        {"path": P("region=b/b1.parquet"), "partition": ["b"], "size": sz["b1"], "seq": 1,
         "records": 4}])
    t.manifest("d2.avro", 0, 2, 502, [
        {"path": P("region=a/a2.parquet"), "partition": ["a"], "size": sz["a2"], "seq": 2,
         "records": 3}])
    t.manifest("x2.avro", 1, 2, 502, [
        {"path": P("region=a/eq-a.parquet"), "content": 2, "partition": ["a"],
         "size": sz["eqa"], "seq": 2, "eq": [1], "records": 2}])
    t.manifest("x3.avro", 1, 3, 503, [
        {"path": P("region=b/pos-b1.parquet"), "content": 1, "partition": ["b"],
         "size": sz["pos"], "seq": 3, "ref": P("region=b/b1.parquet")}])
    t.manifest("x3u.avro", 1, 3, 503, [
        {"path": P("eq-global.parquet"), "content": 2, "size": sz["eqg"], "seq": 3,
         "eq": [1]}], spec_id=1)
    t.commit(503, 3)
    e = ["rows a:1 a:2 a:3 a:5 b:2 b:3",
         "applies region=a/a1.parquet .deletes/eq-global.parquet .deletes/region=a/eq-a.parquet",
         "applies region=a/a2.parquet .deletes/eq-global.parquet",
         "applies region=b/b1.parquet .deletes/eq-global.parquet .deletes/region=b/pos-b1.parquet",
         "appliesto region=a/eq-a.parquet region=a/a1.parquet",
         "appliesto eq-global.parquet region=a/a1.parquet region=a/a2.parquet region=b/b1.parquet"]
    open(os.path.join(t.dir, "EXPECTED"), "w").write("\n".join(e) + "\n")


TABLES = {"codec": codec_tables, "parts": parts_tables, "dv_table": dv_table,
          "eq_rows": eq_rows_table,
          "outside": outside_table, "applies": applies_table}
if __name__ == "__main__":
    FIX, OUT = sys.argv[1], sys.argv[2]  # then optional names of TABLES
    os.makedirs(OUT, exist_ok=True)
    # naming tables rewrites only those (Avro sync markers are random: the
    # others' files stay as committed)
    for name in sys.argv[3:] or list(TABLES):
        if name in ("dv_table", "applies", "outside", "eq_rows"):
            shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
        TABLES[name]()
