/*
 * test_duck_prefetch.c - what a Parquet reader (DuckDB) costs the
 * prefetcher (issue 15): the footer parser of cache/parquet.c on a
 * footer written here in the Thrift compact encoding (every truncation
 * and every flipped byte refused or parsed, never a crash), the tail
 * fetch (the trailer's length and the footer with one GET; none when
 * the head of the .parquet file brought its tail, short or long), and the
 * plan (a column chunk's page header and body with its blocks alone,
 * nothing past the chunk; a column read in a second row group fetches
 * the next row groups' chunks of that column ahead), the kernel's read
 * past a chunk (its blocks come with the chunk's; a filter and a
 * projection fetch the blocks their reads touch, no more) and a scan
 * (several columns read in two row groups: the next row groups come
 * ahead, further than one column's 4 MiB, within max_inflight).
 * Requests are counted at a slow layer under the block cache, over the
 * mem store.
 */
#include "compat.h"

#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/parquet.h"
#include "cache/prefetch.h"
#include "store/mem.h"
#include "store/slow.h"
#include "count_store.h"
#include "tap.h"

#define BS   (1u << 20)
#define RGS  6
#define COLS 3
#define KEY  "lake/t.parquet"
#define NOTE (40u << 10) /* a long created_by: the footer spans pieces */
/* a footer longer than a small read (blockcache.c: a sixteenth of BS) */
#define BIG_NOTE (100u << 10)
#define PAGEB	 4096u
/* One column's look-ahead (prefetch_plan.c's PLAN_AHEAD) */
#define PLAN_AHEAD_TEST (4ull << 20)

static char *cache_dir;

/* ---- a Thrift compact writer ---------------------------------------- */

struct w {
	uint8_t *b;
	size_t n, cap;
};

static void put(struct w *w, uint8_t c)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->b = bfs_xrealloc(w->b, w->cap);
	}
	w->b[w->n++] = c;
}

static void varint(struct w *w, uint64_t v)
{
	while (v >= 0x80) {
		put(w, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put(w, (uint8_t)v);
}

static void zz(struct w *w, int64_t v)
{
	varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* a field header after field *last of its struct */
static void fld(struct w *w, int *last, int id, int type)
{
	if (id > *last && id - *last <= 15) {
		put(w, (uint8_t)((id - *last) << 4 | type));
	} else {
		put(w, (uint8_t)type);
		zz(w, id);
	}
	*last = id;
}

static void list_head(struct w *w, int type, size_t n)
{
	if (n < 15) {
		put(w, (uint8_t)(n << 4 | type));
	} else {
		put(w, (uint8_t)(0xf0 | type));
		varint(w, n);
	}
}

struct chunk {
	uint64_t start, len;
};

/* The file: "PAR1", RGS row groups of COLS chunks, the footer, its
 * length and "PAR1". Chunk sizes differ by column (300 KiB, 700 KiB,
 * 1.3 MiB, give or take) so chunks straddle blocks. */
static char *make_file(size_t *size, struct chunk ch[RGS][COLS],
		       size_t *footer_len, unsigned note)
{
	static const uint64_t clen[COLS] = {307201, 716803, 1363207};
	struct w f = {0};
	uint64_t at = 4;
	int last = 0;
	char *data;

	for (int r = 0; r < RGS; r++)
		for (int c = 0; c < COLS; c++) {
			ch[r][c].start = at;
			ch[r][c].len = clen[c] + (uint64_t)r * 17;
			at += ch[r][c].len;
		}
	/* FileMetaData */
	fld(&f, &last, 1, 5); /* version */
	zz(&f, 1);
	fld(&f, &last, 2, 9); /* schema: one element, skipped */
	list_head(&f, 12, 1);
	{
		int l = 0;

		fld(&f, &l, 4, 8); /* name */
		varint(&f, 6);
		for (const char *s = "schema"; *s; s++)
			put(&f, (uint8_t)*s);
		put(&f, 0);
	}
	fld(&f, &last, 3, 6); /* num_rows */
	zz(&f, 1000);
	fld(&f, &last, 4, 9); /* row_groups */
	list_head(&f, 12, RGS);
	for (int r = 0; r < RGS; r++) {
		int lr = 0;

		fld(&f, &lr, 1, 9); /* columns */
		list_head(&f, 12, COLS);
		for (int c = 0; c < COLS; c++) {
			int lc = 0, lm = 0;

			fld(&f, &lc, 2, 6); /* file_offset */
			zz(&f, (int64_t)ch[r][c].start);
			fld(&f, &lc, 3, 12); /* meta_data */
			fld(&f, &lm, 1, 5);  /* type */
			zz(&f, 2);
			fld(&f, &lm, 2, 9); /* encodings */
			list_head(&f, 5, 2);
			zz(&f, 0);
			zz(&f, 3);
			fld(&f, &lm, 7, 6); /* total_compressed_size */
			zz(&f, (int64_t)ch[r][c].len);
			fld(&f, &lm, 9, 6); /* data_page_offset */
			zz(&f, (int64_t)ch[r][c].start);
			fld(&f, &lm, 12, 12); /* statistics, skipped */
			{
				int ls = 0;

				fld(&f, &ls, 5, 8);
				varint(&f, 8);
				for (int i = 0; i < 8; i++)
					put(&f, (uint8_t)i);
				fld(&f, &ls, 7, 1); /* a bool */
				put(&f, 0);
			}
			put(&f, 0); /* end of meta_data */
			put(&f, 0); /* end of the column chunk */
		}
		fld(&f, &lr, 3, 6); /* num_rows */
		zz(&f, 1000 / RGS);
		put(&f, 0);
	}
	fld(&f, &last, 6, 8); /* created_by: long, skipped */
	varint(&f, note);
	for (unsigned i = 0; i < note; i++)
		put(&f, 'x');
	put(&f, 0);

	*footer_len = f.n;
	*size = at + f.n + 8;
	data = bfs_xmalloc(*size);
	for (size_t i = 0; i < at; i++)
		data[i] = (char)((i * 131 + (i >> 12)) & 0xff);
	memcpy(data, "PAR1", 4);
	memcpy(data + at, f.b, f.n);
	data[at + f.n] = (char)(f.n & 0xff);
	data[at + f.n + 1] = (char)((f.n >> 8) & 0xff);
	data[at + f.n + 2] = (char)((f.n >> 16) & 0xff);
	data[at + f.n + 3] = (char)((f.n >> 24) & 0xff);
	memcpy(data + at + f.n + 4, "PAR1", 4);
	free(f.b);
	return data;
}

static void test_parser(void)
{
	struct chunk ch[RGS][COLS];
	struct bfs_parquet_chunk *c = NULL;
	size_t size, flen, n = 0;
	const uint8_t *foot;
	unsigned bad = 0, crashed = 0;
	uint32_t len = 0;
	bool ok = true;
	char *data = make_file(&size, ch, &flen, NOTE);
	uint8_t *copy;

	foot = (const uint8_t *)data + size - 8 - flen;
	ok = bfs_parquet_footer_len((const uint8_t *)data + size - 8, &len) ==
	     0;
	tap_ok(ok && len == flen,
	       "parquet: the footer's length from the tail "
	       "(%u)",
	       len);
	tap_ok(bfs_parquet_footer_len((const uint8_t *)data + 8, &len) ==
		       EINVAL,
	       "parquet: no magic, no length");
	ok = bfs_parquet_chunks(foot, flen, size, &c, &n) == 0;
	tap_ok(ok && n == RGS * COLS,
	       "parquet: every column chunk of every row group (%zu)", n);
	for (size_t i = 0; c && i < n; i++) {
		const struct chunk *w = &ch[i / COLS][i % COLS];

		ok = ok && c[i].start == w->start &&
		     c[i].end == w->start + w->len &&
		     c[i].row_group == i / COLS && c[i].column == i % COLS;
	}
	tap_ok(ok, "parquet: each chunk's offset, end, row group and column");
	tap_ok(c &&
		       bfs_parquet_find(c, n, ch[2][1].start + 5) ==
			       2 * COLS + 1 &&
		       bfs_parquet_find(c, n, 2) == -1 &&
		       bfs_parquet_starting(c, n, ch[3][0].start - 100,
					    ch[3][0].start + 1) == 3 * COLS &&
		       bfs_parquet_starting(c, n, ch[3][0].start + 1,
					    ch[3][0].start + 100) == -1,
	       "parquet: the chunk holding an offset, the one starting in a "
	       "range");
	free(c);
	c = NULL;
	tap_ok(bfs_parquet_chunks(foot, flen, ch[RGS - 1][COLS - 1].start, &c,
				  &n) == EINVAL &&
		       c == NULL,
	       "parquet: a chunk past the end of the file is refused");
	for (size_t l = 0; l < flen; l++) {
		if (bfs_parquet_chunks(foot, l, size, &c, &n) != EINVAL ||
		    c != NULL)
			bad++;
		free(c);
		c = NULL;
	}
	tap_ok(bad == 0,
	       "parquet: every truncation of the footer is refused "
	       "(%u parsed)",
	       bad);
	copy = bfs_xmalloc(flen);
	for (size_t i = 0; i < flen - NOTE; i++) {
		memcpy(copy, foot, flen);
		copy[i < 200 ? i : flen - NOTE - 1 - (i - 200) % 200] ^=
			(uint8_t)(0x5a + i);
		if (bfs_parquet_chunks(copy, flen, size, &c, &n) == 0 &&
		    (c == NULL || n == 0))
			crashed++;
		free(c);
		c = NULL;
	}
	tap_ok(crashed == 0, "parquet: a flipped byte parses or is refused");
	free(copy);
	free(data);
}

/* ---- the prefetcher over a counting store ----------------------------- */

struct stack {
	struct bfs_store *slow, *bc, *top;
};

/* A stack over mem whose blocks are the bucket's (each test its own:
 * the cache dir is shared); max_inflight 0: the default. */
static int stack_open_as(struct stack *st, struct bfs_store *mem,
			 const char *bucket, uint64_t max_inflight)
{
	struct bfs_blockcache_conf bconf = {
		.cache_dir = cache_dir,
		.bucket = bucket,
		.block_size = BS,
	};
	struct bfs_prefetch_conf pconf = {.bucket = bucket,
					  .max_inflight = max_inflight};

	memset(st, 0, sizeof(*st));
	st->slow = bfs_slow_create(mem);
	st->bc = bfs_blockcache_create(&bconf, st->slow);
	st->top = st->bc ? bfs_prefetch_create(&pconf, st->bc) : NULL;
	if (st->top == NULL)
		return errno;
	return st->top->start(st->top);
}

static int stack_open(struct stack *st, struct bfs_store *mem)
{
	return stack_open_as(st, mem, "duck", 0);
}

static void stack_close(struct stack *st)
{
	st->top->shutdown(st->top);
	st->top->destroy(st->top); /* and the layers below, mem too */
}

/* A read as the kernel sends it (whole pages), checked against data. */
static bool rd(struct stack *st, const char *etag, const char *data,
	       size_t size, uint64_t off, size_t len)
{
	uint64_t a = off - off % PAGEB, e = BFS_MIN(off + len, size);
	char *buf = bfs_xmalloc(e - a);
	size_t got = 0;
	int rc = bfs_store_read_full(st->top, KEY, a, e - a, buf, &got, etag);
	bool ok = rc == 0 && got == e - a && memcmp(buf, data + a, got) == 0;

	if (!ok)
		tap_diag("read [%llu, %llu): rc %d got %zu",
			 (unsigned long long)a, (unsigned long long)e, rc, got);
	free(buf);
	return ok;
}

/* A reader of chunk (r, c) as DuckDB reads it: its page header, then
 * the chunk from just after the header. */
static bool read_chunk(struct stack *st, const char *etag, const char *data,
		       size_t size, const struct chunk *ch)
{
	return rd(st, etag, data, size, ch->start, 256) &&
	       rd(st, etag, data, size, ch->start + 23, ch->len - 23);
}

static uint64_t fetched(struct stack *st)
{
	struct bfs_blockcache_stats s;

	bfs_blockcache_get_stats(st->bc, &s);
	return s.bytes_fetched;
}

/* Bytes of the blocks holding [a, e) of a file of size bytes. */
static uint64_t blocks_bytes(uint64_t a, uint64_t e, uint64_t size)
{
	uint64_t first = a / BS * BS,
		 last = BFS_MIN((e + BS - 1) / BS * BS, size);

	return last - first;
}

static void test_reads(void)
{
	struct bfs_store *mem = bfs_mem_create("mem");
	struct chunk ch[RGS][COLS];
	char etag[BFS_ETAG_MAX] = "";
	struct bfs_blockcache_stats bs;
	size_t size, flen;
	char *data = make_file(&size, ch, &flen, NOTE);
	uint64_t tail_at = (size - (256u << 10)) / BS * BS, want;
	struct stack st;
	unsigned g;
	bool ok;

	if (put_obj(mem, KEY, data, size, etag) != 0 ||
	    stack_open(&st, mem) != 0) {
		tap_ok(0, "prefetch stack starts");
		return;
	}

	/* the trailer's length, then the footer: one GET */
	ok = rd(&st, etag, data, size, size - 8, 8) &&
	     rd(&st, etag, data, size, size - 8 - flen, flen);
	bfs_prefetch_drain(st.top);
	g = bfs_slow_count(st.slow, "get_range", "");
	tap_ok(ok && g == 1,
	       "tail: the trailer and the footer cost one GET (%u)", g);
	tap_ok(fetched(&st) == size - tail_at,
	       "tail: the GET is of the last blocks (%llu bytes of %llu)",
	       (unsigned long long)fetched(&st),
	       (unsigned long long)(size - tail_at));

	/* a filter: one chunk, its blocks alone (no piece for its page
	 * header, no window past its end) */
	bfs_slow_forget(st.slow);
	ok = read_chunk(&st, etag, data, size, &ch[1][1]);
	bfs_prefetch_drain(st.top);
	bfs_blockcache_get_stats(st.bc, &bs);
	want = size - tail_at +
	       blocks_bytes(ch[1][1].start, ch[1][1].start + ch[1][1].len,
			    size);
	tap_ok(ok && bs.ranged == 0,
	       "plan: a chunk's page header is read with the chunk's blocks "
	       "(%llu ranged GETs)",
	       (unsigned long long)bs.ranged);
	tap_ok(bs.bytes_fetched == want,
	       "plan: a lone chunk fetches its blocks and nothing past them "
	       "(%llu bytes, %llu expected)",
	       (unsigned long long)bs.bytes_fetched, (unsigned long long)want);

	/* a projection: the column in a second row group; the next row
	 * groups' chunks of it come ahead */
	ok = read_chunk(&st, etag, data, size, &ch[2][1]);
	bfs_prefetch_drain(st.top);
	bfs_slow_forget(st.slow);
	ok = ok && read_chunk(&st, etag, data, size, &ch[3][1]) &&
	     read_chunk(&st, etag, data, size, &ch[4][1]);
	g = bfs_slow_count(st.slow, "get_range", "");
	tap_ok(ok && g == 0,
	       "plan: a column read in two row groups is fetched ahead in the "
	       "next ones (%u GETs when they are read)",
	       g);
	bfs_prefetch_drain(st.top);
	stack_close(&st);
	free(data);
}

/*
 * The head of a Parquet file (the lookup of its open) brings its tail
 * with one GET of a suffix: the trailer and the footer read next send
 * no request, short or longer than a small read (note: the footer's
 * padding), and the plan is made from them: a filter's chunk is
 * fetched as its blocks, with no piece GET for its page header.
 */
static void test_open_tail(unsigned note, const char *bucket)
{
	struct bfs_store *mem = bfs_mem_create("mem");
	struct bfs_obj_info info = {0};
	struct chunk ch[RGS][COLS];
	char etag[BFS_ETAG_MAX] = "";
	struct bfs_blockcache_stats bs;
	size_t size, flen;
	char *data = make_file(&size, ch, &flen, note);
	unsigned t, g, h;
	uint64_t before, want;
	struct stack st;
	bool ok;
	int rc;

	if (put_obj(mem, KEY, data, size, etag) != 0 ||
	    stack_open_as(&st, mem, bucket, 0) != 0) {
		tap_ok(0, "open tail: the prefetch stack starts");
		free(data);
		return;
	}
	rc = bfs_store_head_read(st.top, KEY, NULL, &info, NULL, 0, NULL);
	t = bfs_slow_count(st.slow, "tail_read", "");
	g = bfs_slow_count(st.slow, "get_range", "");
	h = bfs_slow_count(st.slow, "head", "");
	tap_ok(rc == 0 && info.size == size && strcmp(info.etag, etag) == 0 &&
		       t == 1 && g == 0 && h == 0,
	       "open tail (%zu KiB footer): the head of a .parquet file is "
	       "one GET of its tail (rc %d, %u suffix GETs, %u GETs, %u "
	       "HEADs)",
	       flen >> 10, rc, t, g, h);
	bfs_obj_info_release(&info);

	bfs_slow_forget(st.slow);
	ok = rd(&st, etag, data, size, size - 8, 8) &&
	     rd(&st, etag, data, size, size - 8 - flen, flen);
	bfs_prefetch_drain(st.top);
	g = bfs_slow_count(st.slow, "get_range", "");
	tap_ok(ok && g == 0,
	       "open tail (%zu KiB footer): the trailer and the footer are "
	       "read with no GET (%u)",
	       flen >> 10, g);

	bfs_blockcache_get_stats(st.bc, &bs);
	before = bs.bytes_fetched;
	want = bs.ranged;
	ok = read_chunk(&st, etag, data, size, &ch[1][1]);
	bfs_prefetch_drain(st.top);
	bfs_blockcache_get_stats(st.bc, &bs);
	tap_ok(ok && bs.ranged == want &&
		       bs.bytes_fetched - before ==
			       blocks_bytes(ch[1][1].start,
					    ch[1][1].start + ch[1][1].len,
					    size),
	       "open tail (%zu KiB footer): the plan came from the kept "
	       "footer: a lone chunk fetches its blocks alone (%llu bytes, "
	       "%llu ranged GETs)",
	       flen >> 10, (unsigned long long)(bs.bytes_fetched - before),
	       (unsigned long long)(bs.ranged - want));
	stack_close(&st);
	free(data);
}

/* ---- what the kernel sends a reader's reads as ------------------------ */

#define KREAD (1u << 20) /* the kernel's largest FUSE read */

/* A reader of chunk ch through the kernel: its page header (one page),
 * then the chunk in reads of KREAD from the next page on, the last one
 * reaching past the chunk as the kernel's does. Each block the reads
 * touch is marked in touched. */
static bool kread_chunk(struct stack *st, const char *etag, const char *data,
			size_t size, const struct chunk *ch, bool *touched)
{
	uint64_t pg = ch->start - ch->start % PAGEB;
	bool ok = rd(st, etag, data, size, ch->start, 256);

	touched[pg / BS] = true;
	for (uint64_t x = pg + PAGEB; ok && x < ch->start + ch->len;
	     x += KREAD) {
		uint64_t e = BFS_MIN(x + KREAD, size);

		ok = rd(st, etag, data, size, x, e - x);
		for (uint64_t b = x / BS; b <= (e - 1) / BS; b++)
			touched[b] = true;
	}
	return ok;
}

/* Bytes of the blocks marked in touched (the file is size bytes). */
static uint64_t touched_bytes(const bool *touched, uint64_t size)
{
	uint64_t n = 0;

	for (uint64_t b = 0; b * BS < size; b++)
		if (touched[b])
			n += BFS_MIN((b + 1) * BS, size) - b * BS;
	return n;
}

/* The tail's blocks, which the trailer's read fetches. */
static void touch_tail(bool *touched, uint64_t size)
{
	for (uint64_t b = (size - (256u << 10)) / BS; b * BS < size; b++)
		touched[b] = true;
}

/*
 * A projection and a filter read through the kernel: the blocks its
 * reads past a chunk reach come with the chunk's, and nothing more is
 * fetched than the blocks the reads touch (the one-column and filter
 * queries of the benchmark: 0.204 and 0.012 of the file).
 */
static void test_kernel_reads(void)
{
	struct bfs_store *mem = bfs_mem_create("mem");
	struct chunk ch[RGS][COLS];
	char etag[BFS_ETAG_MAX] = "";
	size_t size, flen;
	char *data = make_file(&size, ch, &flen, NOTE);
	bool touched[64] = {false};
	struct stack st;
	uint64_t want;
	unsigned g;
	bool ok;

	if (put_obj(mem, KEY, data, size, etag) != 0 ||
	    stack_open_as(&st, mem, "kernel", 0) != 0) {
		tap_ok(0, "prefetch stack starts");
		return;
	}
	ok = rd(&st, etag, data, size, size - 8, 8) &&
	     rd(&st, etag, data, size, size - 8 - flen, flen);
	touch_tail(touched, size);
	/* a filter's chunk: its header's read queues the block the
	 * kernel's next read reaches past the chunk, with the chunk's */
	ok = ok && rd(&st, etag, data, size, ch[2][0].start, 256);
	bfs_prefetch_drain(st.top);
	bfs_slow_forget(st.slow);
	ok = ok && kread_chunk(&st, etag, data, size, &ch[2][0], touched);
	g = bfs_slow_count(st.slow, "get_range", "");
	tap_ok(ok && g == 0 &&
		       (ch[2][0].start + ch[2][0].len - 1) / BS <
			       (ch[2][0].start - ch[2][0].start % PAGEB +
				PAGEB + KREAD - 1) /
				       BS,
	       "plan: the kernel's read past a chunk finds its blocks "
	       "fetched with the chunk's (%u GETs)",
	       g);
	bfs_prefetch_drain(st.top);
	want = touched_bytes(touched, size);
	tap_ok(fetched(&st) == want,
	       "plan: a filter fetches the blocks its reads touch, no more "
	       "(%llu bytes, %llu expected)",
	       (unsigned long long)fetched(&st), (unsigned long long)want);

	/* a projection: one column in every row group */
	for (int r = 0; ok && r < RGS; r++)
		ok = kread_chunk(&st, etag, data, size, &ch[r][1], touched);
	bfs_prefetch_drain(st.top);
	want = touched_bytes(touched, size);
	tap_ok(ok && fetched(&st) == want,
	       "plan: a column read in every row group fetches the blocks "
	       "its reads touch, no more (%llu bytes, %llu expected)",
	       (unsigned long long)fetched(&st), (unsigned long long)want);
	stack_close(&st);
	free(data);
}

/*
 * A scan (every column, row group by row group, as DuckDB's full scan
 * through the kernel): once its columns were read in two row groups,
 * the next row groups come ahead, further than one column's 4 MiB, in
 * runs, within max_inflight.
 */
static void test_scan(void)
{
	struct bfs_store *mem = bfs_mem_create("mem");
	struct chunk ch[RGS][COLS];
	char etag[BFS_ETAG_MAX] = "";
	struct bfs_prefetch_stats ps;
	const uint64_t budget = 4ull << 20;
	size_t size, flen;
	char *data = make_file(&size, ch, &flen, NOTE);
	bool touched[64] = {false};
	uint64_t end1 = ch[1][COLS - 1].start + ch[1][COLS - 1].len, ahead;
	struct stack st;
	unsigned g;
	bool ok;

	if (put_obj(mem, KEY, data, size, etag) != 0 ||
	    stack_open_as(&st, mem, "scan", budget) != 0) {
		tap_ok(0, "prefetch stack starts");
		return;
	}
	ok = rd(&st, etag, data, size, size - 8, 8) &&
	     rd(&st, etag, data, size, size - 8 - flen, flen);
	touch_tail(touched, size);
	/* row groups 0 and 1: the page of the first chunk, then reads of
	 * KREAD on to the row group's end */
	for (int r = 0; ok && r < 2; r++) {
		struct chunk all = {ch[r][0].start,
				    ch[r][COLS - 1].start +
					    ch[r][COLS - 1].len -
					    ch[r][0].start};

		ok = kread_chunk(&st, etag, data, size, &all, touched);
	}
	bfs_prefetch_drain(st.top);
	ahead = fetched(&st) - touched_bytes(touched, size);
	bfs_prefetch_get_stats(st.top, &ps);
	tap_ok(ok && ahead > PLAN_AHEAD_TEST,
	       "scan: the columns read in two row groups are fetched ahead "
	       "further than one column's 4 MiB (%llu bytes past the reads)",
	       (unsigned long long)ahead);
	tap_ok(ps.inflight_peak <= budget && ps.inflight_peak > BS,
	       "scan: in runs, within max_inflight (peak %llu bytes in "
	       "flight, %llu allowed)",
	       (unsigned long long)ps.inflight_peak,
	       (unsigned long long)budget);
	/* the rest of the scan finds its blocks */
	bfs_slow_forget(st.slow);
	for (int r = 2; ok && r < RGS; r++) {
		struct chunk all = {ch[r][0].start,
				    ch[r][COLS - 1].start +
					    ch[r][COLS - 1].len -
					    ch[r][0].start};

		ok = kread_chunk(&st, etag, data, size, &all, touched);
	}
	g = bfs_slow_count(st.slow, "get_range", "");
	tap_ok(ok && g == 0 && end1 < size,
	       "scan: the next row groups' reads find their blocks fetched "
	       "(%u GETs)",
	       g);
	bfs_prefetch_drain(st.top);
	stack_close(&st);
	free(data);
}

int main(void)
{
	cache_dir = temp_cache_dir("duck");
	if (cache_dir == NULL)
		return tap_done();
	test_parser();
	test_reads();
	test_open_tail(NOTE, "tail");
	test_open_tail(BIG_NOTE, "tail-big");
	test_kernel_reads();
	test_scan();
	rm_rf(cache_dir);
	free(cache_dir);
	return tap_done();
}
