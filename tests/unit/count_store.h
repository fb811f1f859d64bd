/*
 * count_store.h - for the cache tests: a pass-through store that counts
 * what reaches it (GETs, HEADs, LISTs, bytes, GETs at once, the length
 * of each GET) and can fail or slow its GETs; and the small helpers the
 * cache tests share (the layers of a bucket over it, put an object,
 * fill a buffer, a temporary cache directory, remove a tree).
 */
#ifndef BFS_TESTS_COUNT_STORE_H
#define BFS_TESTS_COUNT_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/blockcache.h"
#include "cache/metacache.h"
#include "cache/prefetch.h"
#include "store/store.h"

#define CNT_LENS 1024 /* GET lengths remembered, the first ones */

struct cnt {
	struct bfs_store s;
	struct bfs_store *inner;
	bool own; /* destroy inner with us */
	unsigned gets, heads, lists;
	unsigned head_reads;	 /* of the gets: head_read's ranged GETs */
	uint64_t bytes;		 /* returned by get_range */
	unsigned active, peak;	 /* get_range calls running at once */
	unsigned fail_gets;	 /* the next N get_range fail with EIO */
	unsigned delay_us;	 /* each get_range takes this long */
	size_t lens[CNT_LENS];	 /* asked of each get_range, in order */
	uint64_t offs[CNT_LENS]; /* ... and where it started */
	/* get_range_sink tells its sink land_step bytes at a time (0: all
	 * at the end); while hold is set it stops after the first step
	 * until the test clears it (cnt_release), counting stops in held */
	size_t land_step;
	bool hold;
	unsigned held;
	/* with the sink's ring: bytes go to buf[i % ring], told a step at
	 * a time (land_step, else the sink's step); untold: the answers
	 * cannot be told as they come (a server that sends no ETag), so a
	 * range longer than the ring fails with ENOBUFS */
	bool untold;
	size_t ring_seen; /* the last sink's ring */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* A counting store over inner; own: destroy inner with it. */
struct cnt *cnt_new(struct bfs_store *inner, bool own);

/* Clear hold: a get_range_sink stopped by it goes on. */
void cnt_release(struct cnt *c);

/* Wait until n get_range_sink calls stopped at hold (at most 10 s).
 * @return whether they did. */
bool cnt_wait_held(struct cnt *c, unsigned n);

/* GETs so far. */
unsigned cnt_gets(struct cnt *c);

/* GETs and bytes since the last call, which zeroes them. */
void cnt_take(struct cnt *c, unsigned *gets, uint64_t *bytes);

/* The cache layers of a bucket over a store, counted below them. */
struct cache_stack {
	struct cnt *cnt;
	struct bfs_store *bc; /* block cache */
	struct bfs_store *pf; /* prefetcher, or NULL */
	struct bfs_store *top;
};

/*
 * inner → cnt → blockcache (→ metacache) (→ prefetch), started; a NULL
 * mconf or pconf leaves that layer out. The cache dir is used as it is.
 * @return 0 or an errno.
 */
int cache_stack_open(struct cache_stack *st, struct bfs_store *inner,
		     const struct bfs_blockcache_conf *bconf,
		     const struct bfs_metacache_conf *mconf,
		     const struct bfs_prefetch_conf *pconf);

/* Shut the stack down and destroy it; idempotent. */
void cache_stack_close(struct cache_stack *st);

/* Put an object straight into store s; its ETag into etag. */
int put_obj(struct bfs_store *s, const char *key, const char *data, size_t len,
	    char *etag);

/* Bytes that differ by position and seed. */
void fill(char *buf, size_t len, unsigned seed);

/* rm -rf path. */
void rm_rf(const char *path);

/*
 * A new empty directory for a test's cache, under $TMPDIR (else /tmp),
 * named bfs-test-TAG.XXXXXX; a failure is reported as a failed case.
 * @return the path (the caller frees it, after rm_rf), or NULL.
 */
char *temp_cache_dir(const char *tag);

#endif
