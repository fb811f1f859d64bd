/*
 * blockcache_priv.h - what the files of the block cache share (see
 * blockcache.h for its interface). The block cache is split by job:
 *   blockcache.c        shared small helpers and the store operations
 *   blockcache_index.c  its LMDB tables: index, LRU, byte total, eviction
 *   blockcache_mem.c    memory: hot blocks, fetches in flight, access notes
 *   blockcache_block.c  one block: from memory, disk or the store
 *   blockcache_life.c   housekeeping (tick, orphan sweep), start,
 *                       shutdown, destroy and create
 *   blockcache_dir.c    the cache dir, for `bucketfs cache`
 *
 * The block cache store keeps blocks of
 * object versions in files under <cache_dir>/blocks/, an index in LMDB,
 * LRU eviction under a byte limit shared by every process on the dir,
 * a few checked blocks in memory, and one fetch per block at a time.
 *
 * The LMDB tables (cache/index.h) it owns:
 *   blocks: index key (40 bytes) → struct ival
 *           index key = bucket hash (8) | version hash (24) | N (8, BE)
 *           bucket hash  = SHA-256(bucket)[0..8]
 *           version hash = SHA-256(bucket NUL key NUL etag)[0..24]
 *   lru:    access time (8, BE, ns) | file id (8, BE) → index key
 *   state:  "bytes" → uint64 sum of file_len of every indexed block;
 *           "sweep" → uint64 time of the last orphan sweep (s)
 * A file's name is its random 64-bit id: blocks/XX/ID.blk, XX = id's
 * low byte. Two processes that fetch one block at once each write their
 * own file; the second to commit finds the index entry and drops its
 * file, so no file is ever replaced under a reader.
 *
 * Access times are written lazily: a hit notes (block, now) in memory
 * at most once a second per block, and the tick (about 1 s) writes the
 * notes in one transaction; LRU order is therefore exact to a second.
 */
#ifndef BFS_CACHE_BLOCKCACHE_PRIV_H
#define BFS_CACHE_BLOCKCACHE_PRIV_H

#include <dirent.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/blockfile.h"
#include "cache/index.h"
#include "cache/stats.h"
#include "log.h"

#define IKEY_LEN       40
#define LKEY_LEN       16
#define HOT_DEFAULT    8
#define VERIFIED_SLOTS 8192 /* files remembered as verified */
#define POOL_BLOCKS    8    /* idle block buffers kept */
/* Idle run buffers kept: as many as the prefetcher has in flight at
 * once (64 MiB of 8 MiB runs), for a scan frees and takes them all the
 * time (with 4 kept, refaulting the others was a tenth of the daemon's
 * CPU in a DuckDB scan); given back after POOL_IDLE_TICKS idle ticks. */
#define POOL_RUNS 8
/* A run longer than this many blocks goes through a ring of them. */
#define RING_BLOCKS 2
/* Below this size limit a block just admitted may be evicted by the
 * blocks in flight before a reader waiting for it reads its file: such
 * a reader gets it from memory (BFS_BLOCKCACHE_RUN_MAX per run, 64 MiB
 * in flight). */
#define SMALL_CACHE_BYTES (256ull << 20)
#define POOL_IDLE_TICKS	  10
#define BG_MAX		  8  /* blocks fetched behind ranged reads at once */
#define SMALL_DIV	  16 /* a read of at most bs/16 bytes is small */
/* Pieces: a small read whose block is nowhere is served by one ranged
 * GET of the PIECE-aligned pieces of its block it touches, and each of
 * them is kept as an entry of its own (a partial block), numbered with
 * PIECE_TAG set so that it never meets a block's number. */
#define PIECE		(32u << 10)
#define PIECE_TAG	(1ull << 63)
#define TOUCH_MAX	1024
#define TOUCH_NS	1000000000ull /* one note per block per second */
#define SWEEP_EVERY	3600	      /* seconds between orphan sweeps */
#define ORPHAN_AGE	600 /* a file younger than this may be in flight */
#define ERROR_LOG_EVERY 1000

struct ival {
	uint64_t id;
	uint64_t atime; /* ns since the epoch */
	uint32_t file_len;
	uint32_t data_len;
};
_Static_assert(sizeof(struct ival) == 24, "ival has no padding");

/*
 * Buffers of one size kept for reuse. A fresh malloc of a megabyte or
 * more is mapped anew and each of its pages faulted in and zeroed on
 * first touch: without reuse that was a quarter of the CPU of a cold
 * sequential read.
 */
struct bufpool {
	pthread_mutex_t lock;
	size_t size;
	unsigned max, n;
	void **free;
	uint64_t gets;	    /* pool_get calls, ever */
	uint64_t gets_seen; /* gets at the last pool_trim that saw use */
	unsigned idle;	    /* pool_trim calls since then */
};

/* A block's data in memory; refs changed atomically. */
struct blk {
	unsigned refs;
	size_t len;
	struct bufpool *pool; /* it goes back there */
	uint8_t data[];
};

struct hot {
	bool used;
	uint8_t ikey[IKEY_LEN];
	struct blk *b;
	uint64_t id;	/* 0: not indexed (could not be stored) */
	uint64_t atime; /* as last written to the index */
	uint64_t last;	/* for LRU among the hot blocks */
};

/*
 * A block file whose data checksum this instance verified (or that it
 * wrote itself, from the data it checksummed), by file id and the
 * file's identity on disk (device, inode, size, modification
 * and change times): while all of them are unchanged, later reads of
 * the file read only the bytes they want and check only its header.
 * Direct-mapped by id: a collision forgets the older file, which is
 * then verified again on its next read.
 */
struct verified {
	uint64_t id; /* 0: empty slot */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint64_t noted; /* access time last noted for the LRU order */
};

/* One block being fetched; waiters share its result. */
struct flight {
	struct flight *next;
	uint8_t ikey[IKEY_LEN];
	bool done;
	int rc;
	struct blk *b; /* on success; one reference held by the flight */
	unsigned waiters;
};

struct touch {
	uint8_t ikey[IKEY_LEN];
	uint64_t id;
	uint64_t atime;
};

struct bc_priv {
	struct bfs_store store;
	struct bfs_store *inner;
	char *cache_dir;
	char *bucket;
	char *blocks_dir;
	char *meta_dir;
	uint64_t bs;
	uint64_t conf_size;
	uint8_t bucket_hash[8];
	time_t started;

	struct bfs_metadb *db; /* set by start, cleared by stop */
	uint64_t limit;	       /* fixed at start */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* protected by lock */
	struct hot *hot;
	size_t hot_max;
	uint64_t hot_clock;
	struct verified *verified; /* VERIFIED_SLOTS entries */
	struct bufpool blkpool;	   /* struct blk of bs data bytes */
	struct bufpool runpool;	   /* BFS_BLOCKCACHE_RUN_MAX bytes */
	struct bufpool ringpool;   /* RING_BLOCKS blocks */
	/* the inner store's answers could not be told as they came: runs
	 * are fetched into whole buffers (blockcache.c, fetch_run) */
	atomic_bool ring_off;
	struct flight *flights;
	uint64_t landed; /* fetches finished, ever */
	unsigned nbg;	 /* background fetches running (struct bg) */
	bool stopping;	 /* no new background fetch */
	struct touch *touches;
	size_t ntouches;
	struct bfs_blockcache_stats st;
	/* the tick's (under the index's tick lock): what the record says */
	struct bfs_blockcache_stats published;
	struct bfs_stats_state published_state;
	bool announced; /* a record was written */
	bool housekept;
};

/* What one call knows about its object version. */
struct obj {
	const char *key;
	const char *etag;
	uint8_t key_hash[32];
	uint8_t ver_hash[32];
};

#define HUGE_PAGE (2u << 20)

/* ---- one block ------------------------------------------------------------
 */

/* What a reader wants of one block (NULL: a prefetch wants none). */
struct want {
	size_t boff; /* from this offset in the block */
	size_t len;  /* at most this many bytes */
	char *dst;
	size_t got;  /* bytes copied */
	size_t blen; /* the block's length */
	bool small;  /* the whole read is small (a ranged GET may serve it) */
	/* where bytes read from a block file may be left instead of
	 * copied (store.h, get_range_parts), dst being at in the read;
	 * NULL: copy */
	struct bfs_file_parts *parts;
	size_t at;
};

/* blockcache.c */
struct bc_priv *bc_priv_of(const struct bfs_store *s);
uint64_t now_ns(void);
uint64_t get_be64(const uint8_t *p);
void bucket_hash(const char *bucket, uint8_t out[8]);
void make_ikey(const struct bc_priv *p, const struct obj *o, uint64_t block,
	       uint8_t *ikey);
void make_lkey(uint64_t atime, uint64_t id, uint8_t *lkey);
char *block_path(const char *blocks_dir, uint64_t id);
void pool_init(struct bufpool *bp, size_t size, unsigned max);
void pool_destroy(struct bufpool *bp);
unsigned pool_trim(struct bufpool *bp);
struct blk *blk_new(struct bufpool *bp);
struct blk *blk_ref(struct blk *b);
void blk_put(struct blk *b);
void cache_error(struct bc_priv *p, const char *what, int rc);
int bc_get_range(struct bfs_store *s, const char *key, uint64_t off, size_t len,
		 void *buf, size_t *got, const char *if_match);
int bc_get_range_parts(struct bfs_store *s, const char *key, uint64_t off,
		       size_t len, void *buf, size_t *got, const char *if_match,
		       struct bfs_file_parts *parts);
int bc_warm(struct bfs_store *s, const char *key, const char *etag,
	    uint64_t off, uint64_t len);
int bc_head_read(struct bfs_store *s, const char *key, const char *known,
		 struct bfs_obj_info *out, void *buf, size_t len, size_t *got);

/* blockcache_index.c */
int get_ival(struct bfs_metadb_txn *txn, const uint8_t *ikey, struct ival *iv);
void drop_block(struct bc_priv *p, const uint8_t *ikey, uint64_t id);
int trim(struct bc_priv *p);
uint64_t admit(struct bc_priv *p, const struct obj *o, uint64_t block,
	       const uint8_t *ikey, const uint8_t *data, size_t len);

/* blockcache_mem.c */
struct hot *hot_find(struct bc_priv *p, const uint8_t *ikey);
void hot_insert(struct bc_priv *p, const uint8_t *ikey, struct blk *b,
		uint64_t id, uint64_t atime);
struct verified *verified_find(struct bc_priv *p, uint64_t id,
			       const struct bfs_blockfile *bf);
void verified_add(struct bc_priv *p, uint64_t id,
		  const struct bfs_blockfile *bf, uint64_t atime, bool own);
void verified_forget(struct bc_priv *p, uint64_t id);
bool touch_note(struct bc_priv *p, const uint8_t *ikey, uint64_t id,
		uint64_t *atime);
void flush_touches(struct bc_priv *p);

/* blockcache_block.c */
int from_disk(struct bc_priv *p, const struct obj *o, uint64_t block,
	      const uint8_t *ikey, struct want *w, struct blk **out,
	      struct ival *iv, bool *flush);
struct flight *flight_find(struct bc_priv *p, const uint8_t *ikey);
void flight_land(struct bc_priv *p, struct flight *f, int rc, struct blk *b);
int get_block(struct bc_priv *p, const struct obj *o, uint64_t block,
	      struct want *w);
/* Whether small reads are served by pieces (the block holds several). */
bool pieces_on(const struct bc_priv *p);
/* The number piece i of block is indexed under. */
uint64_t piece_no(const struct bc_priv *p, uint64_t block, uint64_t i);
/* Admit the len bytes at data, bytes [off, off + len) of o up to its
 * end, as the pieces of their blocks, from the first piece that starts
 * in them (a piece is whole but at the object's end); the caller
 * waits. */
void admit_span(struct bc_priv *p, const struct obj *o, uint64_t off,
		const uint8_t *data, size_t len);
/* Keep the got bytes of b (a reference is taken), the pieces of block
 * from first on: in the hot set at once, admitted behind the caller. */
void keep_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
		 uint64_t first, struct blk *b, size_t got);

#endif
