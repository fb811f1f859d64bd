/*
 * test_s3rver_runs.c - the requests a sequential reader's read-ahead
 * sends (issue 15, s3rver: a server's cost per request dominates): the
 * sizes of the GETs the prefetcher makes for a file read from start to
 * end, over the in-memory store behind a wrapper that records each
 * get_range.
 */
#include "compat.h"

#include <pthread.h>
#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/prefetch.h"
#include "store/mem.h"
#include "tests/unit/count_store.h"
#include "tests/unit/tap.h"

#define BS	 (64u * 1024) /* small blocks keep the test fast */
#define NBLOCKS	 96
#define WINDOW	 (16ull * BS) /* runs of a quarter: 4 blocks */
#define RUN	 4
#define INFLIGHT (16ull * BS)

/*
 * Read an object of nblocks blocks of bs from start to end, a block per
 * read, as cat does; the read-ahead is let finish after each read
 * (drain), so that the requests depend on what the prefetcher decides,
 * never on how fast its threads ran: the reader never waits for a block
 * in flight. window and inflight 0 are the prefetcher's defaults; runs
 * of run blocks are expected once the window is full.
 */
static void test_sequential_runs(struct bfs_store *mem, const char *dir,
				 const char *what, size_t bs, unsigned nblocks,
				 uint64_t window, unsigned run)
{
	struct bfs_blockcache_conf bconf = {
		.cache_dir = dir,
		.bucket = "b1",
		.block_size = bs,
	};
	struct bfs_prefetch_conf pconf = {
		.cache_dir = dir,
		.bucket = "b1",
		.max_window = window,
	};
	size_t len = (size_t)nblocks * bs, got;
	char *data = bfs_xmalloc(len), *buf = bfs_xmalloc(bs);
	char etag[BFS_ETAG_MAX];
	struct bfs_store *bc, *top;
	struct cnt *r;
	unsigned single = 0, whole = 0, later_small = 0;
	uint64_t first_whole = UINT64_MAX;
	bool ok = true;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)((i * 131 + (i >> 12)) & 0xff);
	if (put_obj(mem, "seq", data, len, etag) != 0) {
		tap_ok(0, "runs, %s: put the object", what);
		goto out;
	}
	r = cnt_new(mem, false);
	bc = bfs_blockcache_create(&bconf, &r->s);
	top = bc ? bfs_prefetch_create(&pconf, bc) : NULL;
	if (top == NULL || top->start(top) != 0) {
		tap_ok(0, "runs, %s: open the stack", what);
		goto out;
	}
	for (size_t off = 0; off < len && ok; off += bs) {
		got = 0;
		ok = top->get_range(top, "seq", off, bs, buf, &got, etag) ==
			     0 &&
		     got == bs && memcmp(buf, data + off, bs) == 0;
		bfs_prefetch_drain(top);
	}
	tap_ok(ok, "runs, %s: a sequential read returns the right bytes", what);
	tap_ok(r->bytes == len,
	       "runs, %s: each block is fetched once (%llu bytes "
	       "of %zu)",
	       what, (unsigned long long)r->bytes, len);
	for (unsigned i = 0; i < r->gets && i < CNT_LENS; i++) {
		single += r->lens[i] == bs;
		whole += r->lens[i] == run * bs;
		if (r->lens[i] == run * bs)
			first_whole = BFS_MIN(first_whole, r->offs[i]);
	}
	/* once the window has grown to its full runs, every GET past
	 * the first whole run but the one that reaches the end is a whole
	 * run (judged by offset: two jobs queued by one read start on two
	 * threads, and either may reach the store first) */
	for (unsigned i = 0; i < r->gets && i < CNT_LENS; i++)
		later_small += r->offs[i] > first_whole &&
			       r->offs[i] + r->lens[i] < len &&
			       r->lens[i] < run * bs;
	tap_diag("%u GETs: %u of 1 block, %u of %u blocks", r->gets, single,
		 whole, run);
	tap_ok(whole > 0 && later_small == 0,
	       "runs, %s: once the window is full every GET ahead of the "
	       "reader is a whole run of %u blocks, not what each read "
	       "uncovered (%u smaller)",
	       what, run, later_small);
	tap_ok(r->gets <= 12 + nblocks / run,
	       "runs, %s: %u GETs for %u blocks (at most %u)", what, r->gets,
	       nblocks, 12 + nblocks / run);
	top->shutdown(top);
	top->destroy(top);
out:
	free(buf);
	free(data);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct bfs_store *mem = bfs_mem_create("mem");
	char *dir = bfs_xasprintf("%s/bfs-test-runs.XXXXXX",
				  tmp && tmp[0] ? tmp : "/tmp");

	if (mkdtemp(dir) == NULL) {
		tap_ok(0, "make a temporary cache dir");
		return tap_done();
	}
	/* small blocks, a window of 16: runs of a quarter of it */
	test_sequential_runs(mem, dir, "a small window", 64 * 1024, 96,
			     16 * 64 * 1024, 4);
	/* a bucket's defaults (1 MiB blocks, a 64 MiB window): runs of
	 * 8 MiB, a request per 8 blocks */
	test_sequential_runs(mem, dir, "the defaults", 1 << 20, 96, 0, 8);
	mem->destroy(mem);
	rm_rf(dir);
	free(dir);
	return tap_done();
}
