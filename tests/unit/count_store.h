/*
 * count_store.h - for the cache tests: a pass-through store that counts
 * what reaches it (GETs, HEADs, LISTs, bytes, GETs at once, the length
 * of each GET) and can fail or slow its GETs; and the small helpers the
 * cache tests share (put an object, fill a buffer, a temporary cache
 * directory, remove a tree).
 */
#ifndef BFS_TESTS_COUNT_STORE_H
#define BFS_TESTS_COUNT_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define CNT_LENS 1024 /* GET lengths remembered, the first ones */

struct cnt {
	struct bfs_store s;
	struct bfs_store *inner;
	bool own; /* destroy inner with us */
	unsigned gets, heads, lists;
	unsigned head_reads;   /* of the gets: head_read's ranged GETs */
	uint64_t bytes;	       /* returned by get_range */
	unsigned active, peak; /* get_range calls running at once */
	unsigned fail_gets;    /* the next N get_range fail with EIO */
	unsigned delay_us;     /* each get_range takes this long */
	size_t lens[CNT_LENS]; /* asked of each get_range, in order */
	pthread_mutex_t lock;
};

/* A counting store over inner; own: destroy inner with it. */
struct cnt *cnt_new(struct bfs_store *inner, bool own);

/* GETs so far. */
unsigned cnt_gets(struct cnt *c);

/* GETs and bytes since the last call, which zeroes them. */
void cnt_take(struct cnt *c, unsigned *gets, uint64_t *bytes);

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
