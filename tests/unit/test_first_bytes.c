/*
 * test_first_bytes.c - the head of an open or a lookup brings the
 * object's first bytes (issue 15, "first bytes fast"): through the
 * stack a bucket gets (prefetch → metadata cache → block cache) over
 * the in-memory store, counted by a wrapper below the block cache. The
 * head is one ranged GET, no HEAD; the small read at offset 0 that
 * follows costs no request; an open not read costs that GET alone; a
 * fresh head entry costs nothing; a stale one whose version's first
 * bytes are cached costs a HEAD; a new version is read afresh.
 */
#include "compat.h"

#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/metacache.h"
#include "cache/prefetch.h"
#include "store/mem.h"
#include "tests/unit/count_store.h"
#include "tests/unit/tap.h"

#define FIRST (64u * 1024) /* a 1 MiB block's sixteenth: blockcache.c */

static char *cache_dir;
static uint64_t clock_ns = 1000000000ull;

static uint64_t test_clock(void)
{
	return clock_ns;
}

/* mem → cnt → blockcache → metacache → prefetch, on an empty cache dir. */
static int stack_open(struct cache_stack *st, struct bfs_store *mem)
{
	struct bfs_blockcache_conf bconf = {.cache_dir = cache_dir,
					    .bucket = "b1"};
	struct bfs_metacache_conf mconf = {.cache_dir = cache_dir,
					   .bucket = "b1",
					   .attr_ttl = 10,
					   .dir_ttl = 10,
					   .neg_ttl = 10,
					   .clock = test_clock};
	struct bfs_prefetch_conf pconf = {0};
	char err[256];

	bfs_blockcache_clear(cache_dir, NULL, NULL, NULL, err, sizeof(err));
	return cache_stack_open(st, mem, &bconf, &mconf, &pconf);
}

/*
 * An object of len bytes (fill's seed) at key in mem, its ETag in etag,
 * and the stack over mem. @return the object's bytes (the caller frees
 * them), or NULL: the stack did not start (reported).
 */
static char *object_and_stack(struct cache_stack *st, struct bfs_store *mem,
			      const char *key, size_t len, unsigned seed,
			      char *etag)
{
	char *data = bfs_xmalloc(len);

	fill(data, len, seed);
	put_obj(mem, key, data, len, etag);
	if (stack_open(st, mem) == 0)
		return data;
	tap_ok(0, "%s: the stack starts", key);
	free(data);
	return NULL;
}

/* What reached the store since the last call: GETs, HEADs, bytes. */
static void take(struct cache_stack *st, unsigned *gets, unsigned *heads,
		 uint64_t *bytes)
{
	bfs_prefetch_drain(st->top);
	cnt_take(st->cnt, gets, bytes);
	*heads = __atomic_exchange_n(&st->cnt->heads, 0, __ATOMIC_SEQ_CST);
}

/* A read of len at off pinned to etag, checked against data. */
static bool read_ok(struct cache_stack *st, const char *key, const char *etag,
		    const char *data, uint64_t off, size_t len)
{
	char *buf = bfs_xmalloc(len);
	size_t got = 0;
	int rc = bfs_store_read_full(st->top, key, off, len, buf, &got, etag);
	bool ok = rc == 0 && got == len && memcmp(buf, data + off, len) == 0;

	if (!ok)
		tap_diag("read at %llu: rc %d got %zu", (unsigned long long)off,
			 rc, got);
	free(buf);
	return ok;
}

/* Opened, not read (stat, ls -l, open for write): the GET of the first
 * bytes and nothing else; a missing key: one request, ENOENT. */
static void test_open_only(struct cache_stack *st, struct bfs_store *mem)
{
	size_t len = 5u << 20;
	char *data = bfs_xmalloc(len);
	struct bfs_obj_info info = {0};
	unsigned gets, heads;
	uint64_t bytes;
	int rc;

	fill(data, len, 2);
	put_obj(mem, "f/unread", data, len, NULL);
	take(st, &gets, &heads, &bytes);
	rc = bfs_store_head_read(st->top, "f/unread", NULL, &info, NULL, 0,
				 NULL);
	bfs_obj_info_release(&info);
	take(st, &gets, &heads, &bytes);
	tap_ok(rc == 0 && gets == 1 && heads == 0 && bytes == FIRST,
	       "an open not read costs its one GET of %u KiB, nothing more "
	       "(%u GETs, %u HEADs, %llu bytes)",
	       FIRST / 1024, gets, heads, (unsigned long long)bytes);
	rc = bfs_store_head_read(st->top, "f/none", NULL, &info, NULL, 0, NULL);
	take(st, &gets, &heads, &bytes);
	tap_ok(rc == ENOENT && gets + heads == 1,
	       "a missing key: ENOENT, one request (rc %d, %u GETs, %u "
	       "HEADs)",
	       rc, gets, heads);
	free(data);
}

/* open + a 4 KiB read (what the kernel sends for a 1-byte read): one
 * GET, and the read finds its bytes; the head entry is then fresh. */
static void test_open_read(struct bfs_store *mem)
{
	size_t len = 3u << 20;
	char etag[BFS_ETAG_MAX], *data;
	struct bfs_obj_info info = {0};
	struct cache_stack st;
	unsigned gets, heads;
	uint64_t bytes;
	int rc;

	data = object_and_stack(&st, mem, "f/big", len, 1, etag);
	if (data == NULL)
		return;
	rc = bfs_store_head_read(st.top, "f/big", NULL, &info, NULL, 0, NULL);
	take(&st, &gets, &heads, &bytes);
	tap_ok(rc == 0 && info.size == len && strcmp(info.etag, etag) == 0,
	       "head_read answers as head (rc %d, size %llu)", rc,
	       (unsigned long long)info.size);
	tap_ok(gets == 1 && heads == 0 && st.cnt->head_reads == 1 &&
		       bytes == FIRST,
	       "the head is one ranged GET of the first %u KiB, no HEAD (%u "
	       "GETs, %u HEADs, %llu bytes)",
	       FIRST / 1024, gets, heads, (unsigned long long)bytes);
	bfs_obj_info_release(&info);

	/* the first bytes are there: the read sends nothing of its own
	 * (its stream then reads ahead from its block, as before) */
	{
		struct bfs_blockcache_stats bst;
		bool ok = read_ok(&st, "f/big", etag, data, 0, 4096);

		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && bst.piece_hits == 1 && bst.misses == 0 &&
			       bst.ranged == 0,
		       "the read of the first 4 KiB is served by the pieces "
		       "the head brought (%llu piece hits, %llu misses, %llu "
		       "ranged)",
		       (unsigned long long)bst.piece_hits,
		       (unsigned long long)bst.misses,
		       (unsigned long long)bst.ranged);
	}
	take(&st, &gets, &heads, &bytes);

	/* a second open within attr_ttl: the cache answers, no request */
	rc = bfs_store_head_read(st.top, "f/big", NULL, &info, NULL, 0, NULL);
	take(&st, &gets, &heads, &bytes);
	tap_ok(rc == 0 && gets == 0 && heads == 0,
	       "a fresh head entry answers head_read without a request (%u "
	       "GETs, %u HEADs)",
	       gets, heads);
	bfs_obj_info_release(&info);

	/* a re-open once the entry is stale, the same version's first
	 * bytes in the cache: a plain HEAD, no bytes fetched twice */
	clock_ns += 60 * 1000000000ull;
	rc = bfs_store_head_read(st.top, "f/big", NULL, &info, NULL, 0, NULL);
	take(&st, &gets, &heads, &bytes);
	tap_ok(rc == 0 && strcmp(info.etag, etag) == 0 && gets == 0 &&
		       heads == 1,
	       "a stale entry whose version's first bytes are cached: one "
	       "HEAD, no GET (%u GETs, %u HEADs)",
	       gets, heads);
	bfs_obj_info_release(&info);
	test_open_only(&st, mem);
	cache_stack_close(&st);
	free(data);
}

/* A small object comes whole with its head; an empty one is answered
 * too; a new version's first bytes are the new ones. */
static void test_small_and_new(struct bfs_store *mem)
{
	char small[1000], v2[1000], etag[BFS_ETAG_MAX], etag2[BFS_ETAG_MAX];
	struct bfs_obj_info info = {0};
	struct cache_stack st;
	unsigned gets, heads;
	uint64_t bytes;
	int rc;

	fill(small, sizeof(small), 3);
	fill(v2, sizeof(v2), 4);
	put_obj(mem, "f/small", small, sizeof(small), etag);
	put_obj(mem, "f/empty", "", 0, NULL);
	if (stack_open(&st, mem) != 0) {
		tap_ok(0, "small: the stack starts");
		return;
	}
	rc = bfs_store_head_read(st.top, "f/small", NULL, &info, NULL, 0, NULL);
	bfs_obj_info_release(&info);
	tap_ok(rc == 0 &&
		       read_ok(&st, "f/small", etag, small, 0, sizeof(small)),
	       "a small object read after its head_read");
	take(&st, &gets, &heads, &bytes);
	tap_ok(gets == 1 && heads == 0 && bytes == sizeof(small),
	       "a small object: its head and its bytes in one GET (%u GETs, "
	       "%u HEADs, %llu bytes)",
	       gets, heads, (unsigned long long)bytes);
	rc = bfs_store_head_read(st.top, "f/empty", NULL, &info, NULL, 0, NULL);
	tap_ok(rc == 0 && info.size == 0 && info.etag[0],
	       "an empty object: its head (rc %d, size %llu)", rc,
	       (unsigned long long)info.size);
	bfs_obj_info_release(&info);

	/* another client replaces it; once the entry is stale, the next
	 * open gets the new version's bytes, never the old ones */
	put_obj(mem, "f/small", v2, sizeof(v2), etag2);
	clock_ns += 60 * 1000000000ull;
	take(&st, &gets, &heads, &bytes);
	rc = bfs_store_head_read(st.top, "f/small", NULL, &info, NULL, 0, NULL);
	tap_ok(rc == 0 && strcmp(info.etag, etag2) == 0 &&
		       read_ok(&st, "f/small", etag2, v2, 0, sizeof(v2)),
	       "a new version: its ETag and its own first bytes");
	bfs_obj_info_release(&info);
	take(&st, &gets, &heads, &bytes);
	/* the old version's first bytes were cached: the HEAD went
	 * alone (re-opens of unchanged files are the common case), and
	 * the read of the new bytes sent its GET */
	tap_ok(gets == 1 && heads == 1,
	       "the new version cost a HEAD and the read's GET, as before "
	       "head_read (%u GETs, %u HEADs)",
	       gets, heads);
	cache_stack_close(&st);
}

int main(void)
{
	struct bfs_store *mem = bfs_mem_create("mem");

	cache_dir = temp_cache_dir("first");
	if (cache_dir == NULL)
		return tap_done();
	test_open_read(mem);
	test_small_and_new(mem);
	mem->destroy(mem);
	rm_rf(cache_dir);
	free(cache_dir);
	return tap_done();
}
