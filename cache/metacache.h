/*
 * metacache.h - a store that wraps a store and remembers what head and
 * list answered, in the cache dir's LMDB environment, so that `ls -l`,
 * `stat` and open do not ask the bucket again within a TTL, and a
 * restarted mount starts warm.
 *
 * Invariants:
 * - A head answer is kept attr_ttl seconds, a "no such key" (ENOENT)
 *   answer neg_ttl seconds; a listing page dir_ttl seconds, or neg_ttl
 *   if it was empty. A TTL of 0 disables that kind of entry. Entries
 *   carry the wall-clock time they were fetched, so they survive a
 *   restart and are shared by every mount on the cache dir; an entry
 *   stamped in the future (the clock went back) is stale.
 * - Our own put, del, copy (its destination) and mpu_complete drop at
 *   once, whatever their outcome, the head entry of the key and every
 *   cached listing page whose prefix the key starts with (the listings
 *   of its parent directories and of any prefix of it), except that a
 *   write whose outcome is known amends the complete, fresh listings
 *   of the directories above the key (keeping their stamps) instead of
 *   dropping them, and the expired ones a lookup may fetch again whole
 *   (bfs_mc_chain_small: still expired, they answer nothing, but keep
 *   the hint that the directory is small). An answer fetched while such
 *   a write ran is not stored.
 * - A list with cached_only and refresh_small of a directory's first
 *   page whose cached page has expired and was small is fetched again,
 *   once for all who ask at once.
 * - A list of a prefix "dir/name" (no '/' after dir/; no delimiter or
 *   "/") is answered empty without a request when the listing of dir/
 *   (every page, as readdir asks it) is cached, fresh, and shows no
 *   name starting with it: a lookup of a name a directory listed within
 *   dir_ttl does not hold. neg_ttl 0 turns that off.
 * - A listing page fetched from the bucket confirms the head entries of
 *   the objects it shows: same ETag and size → the entry is stamped
 *   fresh again (so with metadata=objects each object version is
 *   HEADed once, across restarts); another ETag → the entry is dropped.
 * - Objects changed by other clients are seen once the TTL runs out.
 * - get_range and multipart parts pass through untouched.
 */
#ifndef BFS_CACHE_METACACHE_H
#define BFS_CACHE_METACACHE_H

#include <stdint.h>

#include "store/store.h"

struct bfs_metacache_conf {
	const char *cache_dir; /* the index goes in <cache_dir>/meta */
	const char *bucket;    /* names the bucket's entries in the cache */
	double attr_ttl;       /* seconds */
	double dir_ttl;
	double neg_ttl;
	/* nanoseconds since the epoch entries are stamped and their TTLs
	 * judged by; NULL: the real clock. Tests inject theirs, so that a
	 * TTL check never depends on how fast the machine is. */
	uint64_t (*clock)(void);
};

struct bfs_metacache_stats {
	uint64_t head_hits;
	uint64_t head_misses;
	uint64_t neg_hits; /* ENOENT answered from the cache */
	uint64_t list_hits;
	uint64_t list_misses;
	uint64_t invalidations; /* writes that dropped entries */
	uint64_t revalidated;	/* head entries confirmed by a listing */
	uint64_t relists;	/* small expired listings fetched again */
	uint64_t relist_shared; /* callers that waited for another's */
	uint64_t errors;	/* cache I/O failures (answered by the store) */
};

/*
 * A metadata cache over inner.
 * @return the store (owning inner from now on), or NULL with errno
 *         EINVAL; inner is untouched on failure.
 * @note No I/O until start(), which opens the index (after fork).
 */
struct bfs_store *bfs_metacache_create(const struct bfs_metacache_conf *conf,
				       struct bfs_store *inner);

/* Copy the counters of a metadata cache. */
void bfs_metacache_get_stats(struct bfs_store *s,
			     struct bfs_metacache_stats *out);

/*
 * Entries of bucket (NULL: all) in a cache dir.
 * @return 0, ENOENT (no cache index there), EIO.
 */
int bfs_metacache_usage(const char *cache_dir, const char *bucket,
			uint64_t *heads, uint64_t *lists);

/*
 * Drop every entry of bucket (NULL: all) from a cache dir.
 * @param n receives the number dropped; may be NULL.
 * @return 0, ENOENT (no cache index there), EIO.
 */
int bfs_metacache_clear(const char *cache_dir, const char *bucket, uint64_t *n,
			char *err, size_t errlen);

#endif
