/*
 * blockcache.h - a store that wraps a store and keeps the data of
 * ranged reads in fixed-size blocks on local disk (s3backer's
 * block_cache; mountpoint-s3's disk data cache).
 *
 * Invariants:
 * - A block is bytes [N*bs, N*bs+bs) of one version of one object: it is
 *   indexed in the cache dir's LMDB environment by (bucket, key, ETag,
 *   N) and stored in its own file under <cache_dir>/blocks/ with a
 *   checksummed header (cache/blockfile.c). So only reads pinned to an
 *   ETag (get_range's if_match) use the cache; a read with no ETag goes
 *   straight to the inner store. A new ETag never meets old blocks.
 * - Every read from disk checks the file's header (object, ETag, block,
 *   length, header checksum). The data checksum is checked over the
 *   whole block the first time an instance reads the file, unless the
 *   instance wrote the file itself (from the data it checksummed); later
 *   reads read only the bytes wanted, while the file's identity (device,
 *   inode, size, mtime, ctime) is the one verified or written. A damaged block
 * is dropped, logged and fetched again, never served.
 * - The files indexed never add up to more than the size limit (index
 *   bytes on disk, headers included): a block is admitted only after
 *   least recently used blocks have been evicted to make room. Blocks
 *   being fetched (at most max_inflight bytes, prefetch.h) or admitted
 *   behind a reader (at most 8) are not yet indexed.
 * - Safe with several processes on one cache dir: the index, the LRU
 *   order and the byte count live in LMDB and change in one transaction.
 * - Survives restarts; a file with no index entry (a crash between
 *   write and index) is removed by a sweep after start.
 * - A block is fetched with one get_range of the whole block (or of a
 *   run of blocks): a store returns less than asked only at the end of
 *   an object (store.h), so a short block is the object's last.
 * - A small read (at most block_size/16) whose block is nowhere is
 *   served by one ranged GET of the 32 KiB-aligned pieces of the block
 *   it touches; each piece is then kept like a block (a partial block:
 *   its own file and index entry, a number of its own), so a later
 *   small read of those bytes, in this process or after a restart,
 *   sends no request. The block itself is not fetched for it: the
 *   prefetcher fetches blocks where random reads cluster (prefetch.h).
 *   (A block_size that is not a multiple of 64 KiB has no pieces: the
 *   read is served by a ranged GET of its own bytes, not kept, while
 *   its block is fetched in a thread of its own.)
 * - head_read (store.h: the head of a lookup or an open) fetches the
 *   object's first block_size/16 bytes with the head's one request and
 *   keeps them as the pieces of block 0 of the version it answers, for
 *   the small first read that follows; when the caller's known ETag
 *   has block 0 or its first piece here, a plain HEAD instead. For a
 *   `.parquet` key it fetches the last BFS_BLOCKCACHE_TAIL bytes and a
 *   piece (tail_read) and keeps the whole pieces among them, for the
 *   footer its reader reads first; a known ETag gets a plain HEAD.
 * - A read larger than a small one whose block is nowhere is served by
 *   the pieces of that block when they hold all of it (a footer longer
 *   than a small read), else by the block.
 * - Writes, deletes and listings pass through untouched.
 */
#ifndef BFS_CACHE_BLOCKCACHE_H
#define BFS_CACHE_BLOCKCACHE_H

#include <stdint.h>

#include "store/store.h"

/* The bytes at the end of a Parquet file its readers read first (the
 * trailer and, mostly, the footer): a lookup's head keeps them
 * (head_read), and the prefetcher's tail fetch asks for them. */
#define BFS_BLOCKCACHE_TAIL (256u << 10)
/* Default block size, and the default limit when sizing automatically. */
#define BFS_BLOCKCACHE_BLOCK_SIZE (1u << 20)
#define BFS_BLOCKCACHE_AUTO_MAX	  (20ull << 30)
/* Largest run of blocks bfs_blockcache_prefetch() fetches with one
 * request without allocating a buffer for it: the prefetcher's largest
 * job (prefetch.c), 8 of the 64 MiB in flight at once. */
#define BFS_BLOCKCACHE_RUN_MAX (8ull << 20)

struct bfs_blockcache_conf {
	const char *cache_dir; /* blocks/ and meta/ go under it */
	const char *bucket;    /* names the bucket's blocks in the cache */
	uint64_t block_size;   /* 0: BFS_BLOCKCACHE_BLOCK_SIZE */
	/* bytes on disk; 0: min(10% of (free space + this cache), 20 GiB)
	 * measured at start */
	uint64_t size;
	/* checked blocks kept in memory for reads that hit one block
	 * several times (128 KiB kernel reads of a 1 MiB block); 0: 8 */
	unsigned hot_blocks;
};

struct bfs_blockcache_stats {
	uint64_t hits;		/* blocks served from memory or disk */
	uint64_t misses;	/* blocks fetched for a read */
	uint64_t prefetched;	/* blocks fetched ahead (prefetch.h) */
	uint64_t bytes_served;	/* bytes returned to callers */
	uint64_t bytes_fetched; /* bytes read from the inner store */
	uint64_t evictions;	/* blocks evicted to stay under the limit */
	uint64_t evicted_bytes;
	uint64_t corrupt;  /* damaged block files dropped */
	uint64_t errors;   /* cache I/O failures (data came from the store) */
	uint64_t bypassed; /* reads with no ETag, not cached */
	/* small reads whose block was nowhere, served by a ranged GET of
	 * the pieces they touch (or of their bytes, while their block was
	 * fetched behind them, when the block holds no whole pieces) */
	uint64_t ranged;
	uint64_t pieces;     /* pieces (partial blocks) fetched and kept */
	uint64_t piece_hits; /* small reads served from kept pieces */
	/* block files read whole to check their data (the first read by
	 * this instance of a file it did not write) */
	uint64_t checked;
	uint64_t limit; /* size limit in force, bytes */
};

/*
 * A block cache over inner.
 * @return the store (owning inner from now on), or NULL with errno
 *         EINVAL (bad conf); inner is untouched on failure.
 * @note No I/O until start(), which opens the index (after fork).
 */
struct bfs_store *bfs_blockcache_create(const struct bfs_blockcache_conf *conf,
					struct bfs_store *inner);

/* Whether s is a block cache made by bfs_blockcache_create(). */
bool bfs_blockcache_is(const struct bfs_store *s);

/* Copy the counters of a block cache. */
void bfs_blockcache_get_stats(struct bfs_store *s,
			      struct bfs_blockcache_stats *out);

/*
 * Make sure blocks [first, first+n) of (key, etag) are in the cache,
 * fetching those that are not from the inner store, one get_range per
 * run of missing blocks (fewer, larger requests: a server's cost per
 * request dominates at 1 MiB); no data is returned. A block in memory,
 * being fetched by another thread or indexed counts as there. A reader
 * waiting for a block gets it from memory; others read it from disk.
 * Used by the prefetcher from its threads.
 * @return 0, ERANGE (block first starts past the end of the object),
 *         ENOENT, ESTALE (the object has another ETag now), EIO,
 *         ETIMEDOUT, EINVAL (not started, no ETag, n 0).
 */
int bfs_blockcache_prefetch(struct bfs_store *s, const char *key,
			    const char *etag, uint64_t first, uint64_t n);

/* Whether bytes [off, off + len) of (key, etag) are here, as blocks or
 * pieces (in memory or indexed): a read of them sends no request. */
bool bfs_blockcache_holds(struct bfs_store *s, const char *key,
			  const char *etag, uint64_t off, uint64_t len);

/* Wait until no block is being fetched in the background (tests). */
void bfs_blockcache_drain(struct bfs_store *s);

/* Block size of a block cache. */
uint64_t bfs_blockcache_block_size(const struct bfs_store *s);

/*
 * Usage of the cache dir by bucket (NULL: every bucket): blocks indexed
 * and their bytes on disk; total_bytes: the whole cache's byte count.
 * @return 0, ENOENT (no cache index in cache_dir), EIO.
 */
int bfs_blockcache_usage(const char *cache_dir, const char *bucket,
			 uint64_t *blocks, uint64_t *bytes,
			 uint64_t *total_bytes);

/*
 * Drop every block of bucket (NULL: every block, and every file under
 * blocks/) from a cache dir, whether or not daemons use it (they see
 * misses afterwards).
 * @param blocks, bytes receive what was dropped; may be NULL.
 * @return 0, ENOENT (no cache index in cache_dir), EIO.
 */
int bfs_blockcache_clear(const char *cache_dir, const char *bucket,
			 uint64_t *blocks, uint64_t *bytes, char *err,
			 size_t errlen);

#endif
