/*
 * parquet.c - the column chunks of a Parquet footer (see parquet.h): a
 * bounds-checked reader of the Thrift compact protocol that keeps the
 * row groups' column chunk offsets and sizes and skips everything else.
 */
#include "compat.h"

#include "cache/parquet.h"

#define DEPTH_MAX 32

/* Thrift compact types */
enum {
	T_STOP = 0,
	T_TRUE = 1,
	T_FALSE = 2,
	T_BYTE = 3,
	T_I16 = 4,
	T_I32 = 5,
	T_I64 = 6,
	T_DOUBLE = 7,
	T_BINARY = 8,
	T_LIST = 9,
	T_SET = 10,
	T_MAP = 11,
	T_STRUCT = 12,
};

struct rd {
	const uint8_t *p, *end;
	bool bad;
	uint64_t file_size;
	struct bfs_parquet_chunk *c;
	size_t n, cap;
};

static uint8_t byte(struct rd *r)
{
	if (r->bad || r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static uint64_t varint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && !r->bad; shift += 7) {
		uint8_t b = byte(r);

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static int64_t zigzag(struct rd *r)
{
	uint64_t v = varint(r);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void skip_bytes(struct rd *r, uint64_t n)
{
	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return;
	}
	r->p += n;
}

static void skip(struct rd *r, int type, int depth);

/* A list or set header: its element type and size. */
static uint64_t list_head(struct rd *r, int *etype)
{
	uint8_t b = byte(r);
	uint64_t n = b >> 4;

	*etype = b & 0x0f;
	if (n == 15)
		n = varint(r);
	/* each element takes a byte at least */
	if (n > (uint64_t)(r->end - r->p))
		r->bad = true;
	return r->bad ? 0 : n;
}

/* The next field of a struct: its type (T_STOP at the end) and id. */
static int field(struct rd *r, int *id)
{
	uint8_t b = byte(r);
	int type = b & 0x0f;

	if (r->bad || type == T_STOP)
		return T_STOP;
	if (b >> 4)
		*id += b >> 4;
	else
		*id = (int)zigzag(r);
	return type;
}

static void skip(struct rd *r, int type, int depth)
{
	uint64_t n;
	int et, kt, vt, id = 0, t;

	if (depth > DEPTH_MAX) {
		r->bad = true;
		return;
	}
	switch (type) {
	case T_TRUE:
	case T_FALSE:
		break;
	case T_BYTE:
		byte(r);
		break;
	case T_I16:
	case T_I32:
	case T_I64:
		varint(r);
		break;
	case T_DOUBLE:
		skip_bytes(r, 8);
		break;
	case T_BINARY:
		skip_bytes(r, varint(r));
		break;
	case T_LIST:
	case T_SET:
		n = list_head(r, &et);
		for (uint64_t i = 0; i < n && !r->bad; i++) {
			if (et == T_TRUE || et == T_FALSE)
				byte(r); /* a bool element is a byte */
			else
				skip(r, et, depth + 1);
		}
		break;
	case T_MAP:
		n = varint(r);
		if (n == 0)
			break;
		kt = byte(r);
		vt = kt & 0x0f;
		kt >>= 4;
		for (uint64_t i = 0; i < n && !r->bad; i++) {
			skip(r, kt, depth + 1);
			skip(r, vt, depth + 1);
		}
		break;
	case T_STRUCT:
		while ((t = field(r, &id)) != T_STOP && !r->bad)
			skip(r, t, depth + 1);
		break;
	default:
		r->bad = true;
	}
}

/* ColumnMetaData: total_compressed_size (7), data_page_offset (9),
 * dictionary_page_offset (11). */
static void column_meta(struct rd *r, int64_t *size, int64_t *data,
			int64_t *dict)
{
	int id = 0, t;

	while ((t = field(r, &id)) != T_STOP && !r->bad) {
		if (t == T_I64 && id == 7)
			*size = zigzag(r);
		else if (t == T_I64 && id == 9)
			*data = zigzag(r);
		else if (t == T_I64 && id == 11)
			*dict = zigzag(r);
		else
			skip(r, t, 3);
	}
}

/* ColumnChunk: its meta_data (3). */
static void column_chunk(struct rd *r, uint32_t rg, uint32_t col)
{
	int64_t size = -1, data = -1, dict = -1;
	int id = 0, t;
	bool meta = false;

	while ((t = field(r, &id)) != T_STOP && !r->bad) {
		if (t == T_STRUCT && id == 3) {
			column_meta(r, &size, &data, &dict);
			meta = true;
		} else {
			skip(r, t, 2);
		}
	}
	if (r->bad)
		return;
	if (!meta || size <= 0 || data < 4) {
		r->bad = true;
		return;
	}
	if (dict >= 4 && dict < data)
		data = dict;
	if ((uint64_t)data > r->file_size ||
	    (uint64_t)size > r->file_size - (uint64_t)data) {
		r->bad = true;
		return;
	}
	if (r->n >= BFS_PARQUET_CHUNKS_MAX) {
		r->bad = true;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->c = bfs_xrealloc(r->c, r->cap * sizeof(*r->c));
	}
	r->c[r->n++] = (struct bfs_parquet_chunk){
		.start = (uint64_t)data,
		.end = (uint64_t)data + (uint64_t)size,
		.row_group = rg,
		.column = col,
	};
}

/* RowGroup: its columns (1). */
static void row_group(struct rd *r, uint32_t rg)
{
	int id = 0, t, et;

	while ((t = field(r, &id)) != T_STOP && !r->bad) {
		if (t == T_LIST && id == 1) {
			uint64_t n = list_head(r, &et);

			if (n && et != T_STRUCT)
				r->bad = true;
			for (uint64_t i = 0; i < n && !r->bad; i++)
				column_chunk(r, rg, (uint32_t)i);
		} else {
			skip(r, t, 1);
		}
	}
}

static int by_start(const void *a, const void *b)
{
	const struct bfs_parquet_chunk *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int bfs_parquet_footer_len(const uint8_t tail[BFS_PARQUET_TAIL], uint32_t *len)
{
	if (memcmp(tail + 4, "PAR1", 4) != 0)
		return EINVAL;
	*len = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 |
	       (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
	return 0;
}

int bfs_parquet_chunks(const uint8_t *footer, size_t len, uint64_t file_size,
		       struct bfs_parquet_chunk **out, size_t *n)
{
	struct rd r = {
		.p = footer, .end = footer + len, .file_size = file_size};
	int id = 0, t, et;

	*out = NULL;
	*n = 0;
	/* FileMetaData: its row groups (4) */
	while ((t = field(&r, &id)) != T_STOP && !r.bad) {
		if (t == T_LIST && id == 4) {
			uint64_t rgs = list_head(&r, &et);

			if (rgs && et != T_STRUCT)
				r.bad = true;
			for (uint64_t i = 0; i < rgs && !r.bad; i++)
				row_group(&r, (uint32_t)i);
		} else {
			skip(&r, t, 0);
		}
	}
	if (!r.bad && r.n == 0)
		r.bad = true;
	if (!r.bad) {
		qsort(r.c, r.n, sizeof(*r.c), by_start);
		for (size_t i = 1; i < r.n && !r.bad; i++)
			if (r.c[i].start < r.c[i - 1].end)
				r.bad = true;
	}
	if (r.bad) {
		free(r.c);
		return EINVAL;
	}
	*out = r.c;
	*n = r.n;
	return 0;
}

long bfs_parquet_find(const struct bfs_parquet_chunk *c, size_t n, uint64_t off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (off < c[mid].start)
			hi = mid;
		else if (off >= c[mid].end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

long bfs_parquet_starting(const struct bfs_parquet_chunk *c, size_t n,
			  uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (c[mid].start < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < n && c[a].start < hi ? (long)a : -1;
}
