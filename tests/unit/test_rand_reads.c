/*
 * test_rand_reads.c - what random readers cost through the prefetcher
 * and the block cache (issue 15): bytes fetched and GETs sent over the
 * in-memory store, counted by a wrapper below the block cache. A lone
 * or sparse random reader fetches what it reads (rounded to pieces); a
 * dense one has its region fetched early, a little past the ends it
 * read, a few runs at a time.
 */
#include "compat.h"

#include <pthread.h>
#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/prefetch.h"
#include "store/mem.h"
#include "tests/unit/count_store.h"
#include "tests/unit/tap.h"

#define BS    (64u * 1024) /* small blocks keep the objects small */
#define PIECE (32u * 1024) /* blockcache_priv.h */

/* ---- the stack ----------------------------------------------------------- */

static char *cache_dir;

/* mem → cnt → blockcache → prefetch, on an empty cache dir. */
static int stack_open(struct cache_stack *st, struct bfs_store *mem,
		      uint64_t inflight, unsigned threads)
{
	struct bfs_blockcache_conf bconf = {
		.cache_dir = cache_dir,
		.bucket = "b1",
		.block_size = BS,
	};
	struct bfs_prefetch_conf pconf = {
		.max_window = 16 * BS,
		.max_inflight = inflight,
		.threads = threads,
	};
	char err[256];

	bfs_blockcache_clear(cache_dir, NULL, NULL, NULL, err, sizeof(err));
	return cache_stack_open(st, mem, &bconf, NULL, &pconf);
}

/* A 4 KiB read at 4 KiB into block b, checked against data; then the
 * prefetcher and the block cache are let finish what it started. */
static bool read4k(struct cache_stack *st, const char *key, const char *etag,
		   const char *data, uint64_t b)
{
	uint64_t off = b * BS + 4096;
	char buf[4096];
	size_t got = 0;
	int rc;

	rc = bfs_store_read_full(st->top, key, off, sizeof(buf), buf, &got,
				 etag);
	bfs_prefetch_drain(st->top);
	if (rc != 0 || got != sizeof(buf) ||
	    memcmp(buf, data + off, sizeof(buf)) != 0) {
		tap_diag("read of block %llu: rc %d got %zu",
			 (unsigned long long)b, rc, got);
		return false;
	}
	return true;
}

/* ---- the tests ----------------------------------------------------------- */

/* A lone read, a Parquet footer and a few reads spread over a large
 * object: each costs the pieces it reads, nothing more. */
static void test_sparse(struct bfs_store *mem)
{
	size_t len = 1024 * (size_t)BS; /* 64 MiB */
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	/* in groups of 4 blocks none shares, never within a block of
	 * another (that would continue its stream) */
	static const unsigned blocks[] = {900, 17,  530, 262, 771, 88,
					  410, 999, 140, 655, 333, 50};
	struct cache_stack st;
	unsigned gets;
	uint64_t bytes;
	bool ok = true;

	fill(data, len, 1);
	put_obj(mem, "r/sparse", data, len, etag);
	if (stack_open(&st, mem, 0, 0) != 0) {
		tap_ok(0, "sparse: the stack starts");
		free(data);
		return;
	}
	ok = read4k(&st, "r/sparse", etag, data, 300);
	cnt_take(st.cnt, &gets, &bytes);
	tap_ok(ok && gets == 1 && bytes == PIECE,
	       "a lone 4 KiB read costs one GET of its piece (%u GETs, %llu "
	       "bytes)",
	       gets, (unsigned long long)bytes);

	/* the footer's length, then the footer (a small read: at most a
	 * sixteenth of a block), both in the last piece */
	{
		char buf[4000];
		size_t got = 0;

		ok = bfs_store_read_full(st.top, "r/sparse", len - 8, 8, buf,
					 &got, etag) == 0 &&
		     got == 8;
		ok = ok &&
		     bfs_store_read_full(st.top, "r/sparse",
					 len - 8 - sizeof(buf), sizeof(buf),
					 buf, &got, etag) == 0 &&
		     got == sizeof(buf) &&
		     memcmp(buf, data + len - 8 - sizeof(buf), sizeof(buf)) ==
			     0;
		bfs_prefetch_drain(st.top);
		cnt_take(st.cnt, &gets, &bytes);
		/* the second read is into a block read before: that block
		 * comes behind it (the near rule, prefetch.h), no more */
		tap_ok(ok && gets <= 2 && bytes <= PIECE + BS,
		       "a Parquet footer's two reads cost a piece and at "
		       "most their block (%u GETs, %llu bytes)",
		       gets, (unsigned long long)bytes);
	}

	for (size_t i = 0; i < BFS_ARRAY_SIZE(blocks); i++)
		ok = ok && read4k(&st, "r/sparse", etag, data, blocks[i]);
	cnt_take(st.cnt, &gets, &bytes);
	tap_ok(ok && gets == BFS_ARRAY_SIZE(blocks) &&
		       bytes == BFS_ARRAY_SIZE(blocks) * PIECE,
	       "12 reads spread over 1,024 blocks fetch their pieces only "
	       "(%u GETs, %llu bytes)",
	       gets, (unsigned long long)bytes);
	cache_stack_close(&st);
	free(data);
}

/*
 * A reader dense in its region: 8 lone reads, then 2 into groups read
 * before (a fifth of its reads near earlier ones; 10 of the 143 blocks
 * from the lowest to the highest read). Its region is fetched, and a
 * little past its highest read; not the rest of the object.
 */
static void test_dense(struct bfs_store *mem)
{
	size_t len = 256 * (size_t)BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	static const unsigned blocks[] = {0,   20,  40,	 60,  80,
					  100, 120, 140, 142, 22};
	struct bfs_blockcache_stats b0, b1;
	struct cache_stack st;
	unsigned gets;
	uint64_t bytes;
	bool ok = true;

	fill(data, len, 2);
	put_obj(mem, "r/dense", data, len, etag);
	if (stack_open(&st, mem, 0, 0) != 0) {
		tap_ok(0, "dense: the stack starts");
		free(data);
		return;
	}
	for (size_t i = 0; i < BFS_ARRAY_SIZE(blocks); i++)
		ok = ok && read4k(&st, "r/dense", etag, data, blocks[i]);
	cnt_take(st.cnt, &gets, &bytes);
	/* [0, 143) widened by 143 / 9 = 15 blocks: [0, 158), each block
	 * once, and the pieces of the reads */
	tap_ok(ok && bytes >= 143 * (uint64_t)BS &&
		       bytes <= 158 * (uint64_t)BS +
					BFS_ARRAY_SIZE(blocks) * PIECE,
	       "a reader dense in its region has it fetched, and a little "
	       "past its highest read (%llu bytes, %u GETs)",
	       (unsigned long long)bytes, gets);
	/* past its highest read, where a uniform reader's next reads
	 * fall, the blocks are there (the region then grows with them) */
	bfs_blockcache_get_stats(st.bc, &b0);
	ok = read4k(&st, "r/dense", etag, data, 150) &&
	     read4k(&st, "r/dense", etag, data, 156);
	bfs_blockcache_get_stats(st.bc, &b1);
	tap_ok(ok && b1.ranged == b0.ranged && b1.misses == b0.misses &&
		       b1.hits >= b0.hits + 2,
	       "reads past the highest one find their blocks there (%llu "
	       "ranged GETs, %llu blocks fetched for them)",
	       (unsigned long long)(b1.ranged - b0.ranged),
	       (unsigned long long)(b1.misses - b0.misses));
	cache_stack_close(&st);
	free(data);
}

/*
 * A dense reader's region comes a few runs at a time (16 MiB): the runs
 * land one after another for the reader instead of all at the end, and
 * in buffers the block cache reuses.
 */
/*
 * Put key, len bytes of data made from seed, and open a stack over it
 * (inflight, threads: 0 for the defaults).
 * @return 0, or an errno (a failed case is reported).
 */
static int obj_open(struct cache_stack *st, struct bfs_store *mem,
		    const char *key, char *data, size_t len, char *etag,
		    unsigned seed, uint64_t inflight, unsigned threads)
{
	int rc;

	fill(data, len, seed);
	put_obj(mem, key, data, len, etag);
	rc = stack_open(st, mem, inflight, threads);
	if (rc != 0)
		tap_ok(0, "the stack starts for '%s'", key);
	return rc;
}

/*
 * Put key, 512 blocks of data (runs of 4 MiB are 64 blocks: 8 runs),
 * and open a stack of 64 MiB in flight and 16 threads over GETs of
 * 20 ms each, so that the runs overlap.
 * @return 0 or an errno.
 */
static int slow_open(struct cache_stack *st, struct bfs_store *mem,
		     const char *key, char *data, char *etag, unsigned seed)
{
	int rc = obj_open(st, mem, key, data, 512 * (size_t)BS, etag, seed,
			  64u << 20, 16);

	if (rc == 0)
		st->cnt->delay_us = 20000;
	return rc;
}

/* 32 reads 16 blocks apart (none continues another's stream), then
 * reads near earlier ones at 2, 66, ... below near_end. */
static bool spread_then_near(struct cache_stack *st, const char *key,
			     const char *etag, const char *data,
			     unsigned near_end)
{
	bool ok = true;

	for (unsigned b = 0; b < 512 && ok; b += 16)
		ok = read4k(st, key, etag, data, b);
	for (unsigned b = 2; b < near_end && ok; b += 64)
		ok = read4k(st, key, etag, data, b);
	return ok;
}

static void test_region_inflight(struct bfs_store *mem)
{
	char *data = bfs_xmalloc(512 * (size_t)BS), etag[BFS_ETAG_MAX];
	struct cache_stack st;
	unsigned gets, peak;
	uint64_t bytes;
	bool ok;

	if (slow_open(&st, mem, "r/flight", data, etag, 3) != 0) {
		free(data);
		return;
	}
	/* 5 near reads (an eighth of 37): dense in [0, 497) */
	ok = spread_then_near(&st, "r/flight", etag, data, 320);
	cnt_take(st.cnt, &gets, &bytes);
	pthread_mutex_lock(&st.cnt->lock);
	peak = st.cnt->peak;
	pthread_mutex_unlock(&st.cnt->lock);
	tap_ok(ok && bytes >= 496 * (uint64_t)BS,
	       "a dense reader's region is fetched (%llu bytes)",
	       (unsigned long long)bytes);
	/* 4 runs of the region, and the reader's own GET */
	tap_ok(peak <= 4 + 1,
	       "at most 16 MiB of the region in flight at once (%u GETs at "
	       "once, 16 threads)",
	       peak);
	cache_stack_close(&st);
	free(data);
}

/* A 4 KiB read at 4 KiB into block b, not waited for past its return. */
static bool read4k_now(struct cache_stack *st, const char *key,
		       const char *etag, const char *data, uint64_t b)
{
	uint64_t off = b * BS + 4096;
	char buf[4096];
	size_t got = 0;

	return bfs_store_read_full(st->top, key, off, sizeof(buf), buf, &got,
				   etag) == 0 &&
	       got == sizeof(buf) && memcmp(buf, data + off, got) == 0;
}

/*
 * A read into a run of the region still queued takes its own block
 * (one GET of a block), not the whole run: the rest of the run is
 * fetched by the threads, each block once. (Blocks 0-3 came with the
 * group of the near read at 2: the run's part before block 5 may be a
 * GET of a block too.)
 */
static void test_region_take(struct bfs_store *mem)
{
	size_t len = 512 * (size_t)BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_prefetch_stats ps;
	struct cache_stack st;
	unsigned gets, g0, g1, single = 0, whole = 0;
	uint64_t bytes;
	bool ok;

	if (slow_open(&st, mem, "r/take", data, etag, 4) != 0) {
		free(data);
		return;
	}
	/* as in test_region_inflight: the fifth near read makes it dense
	 * (at block 258: runs [256, 320) and the nearest go first, [0, 64)
	 * is queued last) */
	ok = spread_then_near(&st, "r/take", etag, data, 200) &&
	     read4k_now(&st, "r/take", etag, data, 258);
	g0 = cnt_gets(st.cnt);
	ok = ok && read4k_now(&st, "r/take", etag, data, 5);
	g1 = cnt_gets(st.cnt);
	pthread_mutex_lock(&st.cnt->lock);
	for (unsigned i = g0; i < g1 && i < CNT_LENS; i++) {
		single += st.cnt->lens[i] == BS;
		whole += st.cnt->lens[i] == 64 * BS;
	}
	pthread_mutex_unlock(&st.cnt->lock);
	bfs_prefetch_drain(st.top);
	bfs_prefetch_get_stats(st.top, &ps);
	cnt_take(st.cnt, &gets, &bytes);
	tap_ok(ok && ps.promoted >= 1 && single >= 1,
	       "a read into a queued run of its region fetches its block, "
	       "not the run (%llu taken, %u GETs of a block, %u of a run "
	       "meanwhile)",
	       (unsigned long long)ps.promoted, single, whole);
	tap_ok(ok && bytes >= 496 * (uint64_t)BS && bytes <= len + 40 * PIECE,
	       "the rest of its run is fetched, each block once (%llu bytes)",
	       (unsigned long long)bytes);
	cache_stack_close(&st);
	free(data);
}

/*
 * A region found while the groups of earlier near reads still wait in
 * the queue (one thread, 20 ms GETs): a run of the region that starts
 * at a block of such a group is still fetched whole. (It was taken as
 * queued already: the group's 4 blocks came, the run's other 60 never
 * did, and each read there paid a round trip of its own.)
 */
static void test_region_over_groups(struct bfs_store *mem)
{
	size_t len = 512 * (size_t)BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct cache_stack st;
	unsigned gets;
	uint64_t bytes;
	bool ok = true;

	if (obj_open(&st, mem, "r/groups", data, len, etag, 5, 64u << 20, 1) !=
	    0) {
		free(data);
		return;
	}
	st.cnt->delay_us = 20000;
	for (unsigned b = 0; b < 512 && ok; b += 16)
		ok = read4k(&st, "r/groups", etag, data, b);
	/* near reads whose groups ([64, 68), [128, 132), ...: each the
	 * first block of a 64-block run) queue behind one thread */
	for (unsigned b = 66; b < 400 && ok; b += 64)
		ok = read4k_now(&st, "r/groups", etag, data, b);
	bfs_prefetch_drain(st.top);
	cnt_take(st.cnt, &gets, &bytes);
	tap_ok(ok && bytes >= 496 * (uint64_t)BS,
	       "a region found while groups wait in the queue is fetched "
	       "whole (%llu of %u bytes, %u GETs)",
	       (unsigned long long)bytes, 496 * BS, gets);
	cache_stack_close(&st);
	free(data);
}

/* One of four random readers of an object: reads[] of its own. */
struct reader {
	struct cache_stack *st;
	const char *data;
	const char *etag;
	unsigned seed;
	bool ok;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned x = r->seed;

	r->ok = true;
	for (int i = 0; i < 40 && r->ok; i++) {
		x = x * 1103515245u + 12345u;
		r->ok = read4k_now(r->st, "r/four", r->etag, r->data,
				   (x >> 8) % 128);
	}
	return NULL;
}

/*
 * Four readers reading one object at random at once (fio's 4 jobs)
 * share what the prefetcher learns of the object (it follows object
 * versions, not readers): together they are one dense reader, and its
 * region is fetched once for all of them, however their reads race.
 */
static void test_four_readers(struct bfs_store *mem)
{
	size_t len = 128 * (size_t)BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_blockcache_stats bs;
	struct reader r[4];
	pthread_t t[4];
	struct cache_stack st;
	unsigned gets;
	uint64_t bytes;
	bool ok = true;

	if (obj_open(&st, mem, "r/four", data, len, etag, 5, 0, 0) != 0) {
		free(data);
		return;
	}
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){&st, data, etag, 7u + 31u * i, false};
		if (pthread_create(&t[i], NULL, reader_main, &r[i]) != 0)
			BFS_BUG("pthread_create");
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok = ok && r[i].ok;
	}
	bfs_prefetch_drain(st.top);
	cnt_take(st.cnt, &gets, &bytes);
	bfs_blockcache_get_stats(st.bc, &bs);
	/* what reached the store: the blocks, and the pieces of the
	 * reads served by pieces (a 4 KiB read: one or two) */
	tap_ok(ok && bytes >= 100 * (uint64_t)BS &&
		       bytes <= len + bs.ranged * 2 * (uint64_t)PIECE,
	       "four random readers of one object share its region: each "
	       "block fetched once (%llu bytes of %zu, %u GETs)",
	       (unsigned long long)bytes, len, gets);
	cache_stack_close(&st);
	free(data);
}

int main(void)
{
	struct bfs_store *mem = bfs_mem_create("mem");

	cache_dir = temp_cache_dir("rand");
	if (cache_dir == NULL)
		return tap_done();
	test_sparse(mem);
	test_dense(mem);
	test_region_inflight(mem);
	test_region_take(mem);
	test_region_over_groups(mem);
	test_four_readers(mem);
	mem->destroy(mem);
	rm_rf(cache_dir);
	free(cache_dir);
	return tap_done();
}
