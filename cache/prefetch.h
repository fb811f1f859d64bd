/*
 * prefetch.h - a store that wraps the top of a bucket's cache stack and
 * reads ahead of sequential readers: it watches the ranged reads of each
 * object version, and when they follow one another it has a pool of
 * threads fetch the next blocks into the block cache in parallel (each
 * thread calls the block cache, which calls the driver: the HTTP layer
 * is thread-safe), so a reader finds them there (mountpoint-s3's
 * prefetcher; s3backer's read-ahead).
 *
 * Invariants:
 * - Reads are sequential when one starts where an earlier one of the
 *   same (key, ETag) ended, give or take one block (the kernel issues
 *   readahead out of order); a few streams per object are followed, so
 *   two readers of one file both count as sequential. The window ahead
 *   of a stream starts at one block (8 MiB, FIRST_WINDOW, for a stream
 *   whose first read at offset 0 is a whole block or the mount's whole
 *   read-ahead, bfs_prefetch_set_readahead()) and doubles on each
 *   sequential read up to max_window, and never past the end of the
 *   object. It is
 *   fetched in runs of a quarter of the window (at most 8 MiB and
 *   max_inflight), whole runs only but at the object's end: as the
 *   reader moves on, the next run is queued once the window uncovered
 *   all of it, not a block per read (one request per block costs a
 *   server its per-request work 4 times over).
 * - A read that matches no stream is random. A lone random read fetches
 *   nothing (a small one was served by pieces of its block, a larger
 *   one by its blocks: blockcache.h). Random reads that cluster grow
 *   toward blocks: a read into a block read at random before fetches
 *   that block, one into a group of 4 blocks where another was read
 *   fetches the group, each block with a request of its own; once an
 *   eighth of an object version's random reads (and at least 2) fell
 *   near earlier ones, each of its random reads fetches its group.
 * - A clustered reader whose random reads touched at least a sixteenth
 *   of the blocks of its region (lowest to highest random read, at most
 *   256 MiB) is dense: the region is fetched whole, widened on each side
 *   by its span over the blocks read less one (where the ends of a
 *   range read uniformly are expected), in runs of 4 MiB (or a quarter
 *   of max_inflight), from the read outward, each block queued once, at
 *   most 16 MiB of them in flight at once; the region grows with the
 *   reads.
 * - A read that needs a block still queued in a region's job (not
 *   started) takes that block off the job and fetches it itself, at
 *   once; the rest of the job goes back to the head of the queue.
 * - At most max_inflight bytes are being fetched ahead at once (each
 *   thread holds one block; threads = min(threads, max_inflight / block
 *   size)); jobs that do not fit the queue are dropped, and the reader
 *   fetches those blocks itself.
 * - The first read of an object version that ends within 64 KiB of its
 *   end (and does not start at 0) first fetches the blocks of its last
 *   256 KiB, the reader waiting: a Parquet reader reads the footer's
 *   length there, then the footer, and one GET serves both. A Parquet
 *   footer found in them (parquet.h; a footer reaching further back is
 *   fetched too) becomes the object's plan; anything else, none.
 * - With a plan, a read that starts a column chunk (in the chunk's first
 *   page) queues the chunk's blocks and those the kernel's next read
 *   reaches (1 MiB from the next page: past a smaller chunk), one job
 *   each that a reader may take, at the front of the queue (the page
 *   header, the chunk body and the kernel's read past it cost one round
 *   trip; nothing the reads do not touch is fetched); once the same
 *   column was read in another row group, the next row groups' chunks
 *   of that column are queued too, 4 MiB of them ahead (a projection
 *   reads the column in every row group; a filter reads one or two).
 * - A column is projected once reads covered (7/8 of) its chunks in two
 *   row groups. With two columns projected or more (a scan), each read
 *   queues the projected columns' chunks past it, 8 MiB per column
 *   ahead (at most max_window), in runs of up to 8 MiB (a quarter of
 *   that ahead and of max_inflight), whole runs only but before a gap
 *   and at the last chunk; each block once (a newly projected column
 *   starts it over from the reader). Reads in queued chunks, and a
 *   scan's reads in projected columns, open no stream window. The plan
 *   is only a hint: a read never depends on it.
 * - Only reads pinned to an ETag are followed; everything else passes
 *   through to the block cache unchanged.
 * - Threads start in start() (after fork) and stop in shutdown().
 */
#ifndef BFS_CACHE_PREFETCH_H
#define BFS_CACHE_PREFETCH_H

#include <stdint.h>

#include "store/store.h"

struct bfs_prefetch_conf {
	const char *cache_dir; /* for the stats record; NULL: none */
	const char *bucket;
	uint64_t max_window;   /* bytes; 0: 64 MiB */
	uint64_t max_inflight; /* bytes; 0: 64 MiB */
	unsigned threads;      /* 0: 16 */
};

struct bfs_prefetch_stats {
	uint64_t sequential;	/* reads that continued a stream */
	uint64_t random;	/* reads that matched no stream */
	uint64_t queued;	/* blocks queued to fetch ahead */
	uint64_t fetched;	/* of those, fetched (or found present) */
	uint64_t dropped;	/* not queued: the queue was full */
	uint64_t grouped;	/* random reads that queued more than a block */
	uint64_t promoted;	/* queued blocks a reader fetched itself */
	uint64_t failed;	/* fetches that failed (past the end: not) */
	uint64_t inflight_peak; /* most bytes being fetched at once */
};

/*
 * A prefetcher over inner (which it then owns), filling the block cache
 * inner is or stacks (found by its kind) through inner->warm. inner is the
 * metadata cache over the block cache in a bucket's stack: the prefetcher asks
 * inner->head for an object's size once per object version it follows (a cache
 * hit after open), so the window never reaches past the end of the object.
 * @return the store, or NULL with errno EINVAL (no block cache in
 *         inner's stack, bad conf); inner is untouched on failure.
 */
struct bfs_store *bfs_prefetch_create(const struct bfs_prefetch_conf *conf,
				      struct bfs_store *inner);

/* Copy the counters of a prefetcher. */
void bfs_prefetch_get_stats(struct bfs_store *s,
			    struct bfs_prefetch_stats *out);

/* Wait until no job is queued or running and the block cache fetches
 * nothing in the background (tests). */
void bfs_prefetch_drain(struct bfs_store *s);

/*
 * The kernel's read-ahead of this process's mount, in bytes (0: not
 * known). A first read at offset 0 that covers all of it (or a whole
 * block, if less) is the kernel's full read-ahead of a buffered reader
 * (cp, cat, a CSV loader), and opens FIRST_WINDOW: without root the
 * read-ahead stays at the kernel's 128 KiB, and a stream would open
 * at one block. Process-wide: a daemon serves one mount.
 */
void bfs_prefetch_set_readahead(uint64_t bytes);

#endif
