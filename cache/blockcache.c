/*
 * blockcache.c - the block cache store (see blockcache.h): blocks of
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
#include "compat.h"

#include <dirent.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <pthread.h>
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
#define POOL_RUNS      4    /* idle run buffers kept */
#define BG_MAX	       8    /* blocks fetched behind ranged reads at once */
#define SMALL_DIV      16   /* a read of at most bs/16 bytes is small */
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
 * A block file whose data checksum this instance verified, by file id
 * and the file's identity on disk (device, inode, size, modification
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
	struct flight *flights;
	uint64_t landed; /* fetches finished, ever */
	unsigned nbg;	 /* background fetches running (struct bg) */
	bool stopping;	 /* no new background fetch */
	struct touch *touches;
	size_t ntouches;
	struct bfs_blockcache_stats st;
	struct bfs_blockcache_stats published;
	bool housekept;
};

/* What one call knows about its object version. */
struct obj {
	const char *key;
	const char *etag;
	uint8_t key_hash[32];
	uint8_t ver_hash[32];
};

static int bc_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match);
static void verified_forget(struct bc_priv *p, uint64_t id);

static struct bc_priv *priv_of(const struct bfs_store *s)
{
	return s->priv;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void bucket_hash(const char *bucket, uint8_t out[8])
{
	uint8_t h[32];

	SHA256((const unsigned char *)bucket, strlen(bucket), h);
	memcpy(out, h, 8);
}

static void obj_init(struct obj *o, const char *bucket, const char *key,
		     const char *etag)
{
	size_t bl = strlen(bucket), kl = strlen(key), el = strlen(etag);
	char *buf = bfs_xmalloc(bl + kl + el + 2);

	memcpy(buf, bucket, bl + 1);
	memcpy(buf + bl + 1, key, kl + 1);
	SHA256((unsigned char *)buf, bl + 1 + kl, o->key_hash);
	memcpy(buf + bl + 1 + kl + 1, etag, el);
	SHA256((unsigned char *)buf, bl + kl + el + 2, o->ver_hash);
	free(buf);
	o->key = key;
	o->etag = etag;
}

static void make_ikey(const struct bc_priv *p, const struct obj *o,
		      uint64_t block, uint8_t *ikey)
{
	memcpy(ikey, p->bucket_hash, 8);
	memcpy(ikey + 8, o->ver_hash, 24);
	put_be64(ikey + 32, block);
}

static void make_lkey(uint64_t atime, uint64_t id, uint8_t *lkey)
{
	put_be64(lkey, atime);
	put_be64(lkey + 8, id);
}

static char *block_path(const char *blocks_dir, uint64_t id)
{
	return bfs_xasprintf("%s/%02x/%016" PRIx64 ".blk", blocks_dir,
			     (unsigned)(id & 0xff), id);
}

static void pool_init(struct bufpool *bp, size_t size, unsigned max)
{
	BFS_PCHECK(pthread_mutex_init(&bp->lock, NULL));
	bp->size = size;
	bp->max = max;
	bp->n = 0;
	bp->free = bfs_xcalloc(max, sizeof(*bp->free));
}

static void pool_destroy(struct bufpool *bp)
{
	for (unsigned i = 0; i < bp->n; i++)
		free(bp->free[i]);
	free(bp->free);
	BFS_PCHECK(pthread_mutex_destroy(&bp->lock));
}

#define HUGE_PAGE (2u << 20)

/*
 * A buffer of size bytes. One of whole huge pages is aligned to them
 * and asks for them (transparent huge pages in "madvise" mode): a cold
 * read fills tens of MiB of new buffers, and faulting them in 4 KiB
 * at a time cost more than the copies into them.
 */
static void *buf_alloc(size_t size)
{
	void *buf = NULL;

	if (size < HUGE_PAGE || size % HUGE_PAGE != 0)
		return bfs_xmalloc(size);
	if (posix_memalign(&buf, HUGE_PAGE, size) != 0)
		return bfs_xmalloc(size);
	(void)madvise(buf, size, MADV_HUGEPAGE); /* a hint; fine if not */
	return buf;
}

/* A buffer of bp->size bytes (contents undefined). */
static void *pool_get(struct bufpool *bp)
{
	void *buf = NULL;

	BFS_PCHECK(pthread_mutex_lock(&bp->lock));
	if (bp->n > 0)
		buf = bp->free[--bp->n];
	BFS_PCHECK(pthread_mutex_unlock(&bp->lock));
	return buf ? buf : buf_alloc(bp->size);
}

static void pool_put(struct bufpool *bp, void *buf)
{
	BFS_PCHECK(pthread_mutex_lock(&bp->lock));
	if (bp->n < bp->max) {
		bp->free[bp->n++] = buf;
		buf = NULL;
	}
	BFS_PCHECK(pthread_mutex_unlock(&bp->lock));
	free(buf);
}

/* A block buffer of bp->size - sizeof(struct blk) data bytes. */
static struct blk *blk_new(struct bufpool *bp)
{
	struct blk *b = pool_get(bp);

	b->refs = 1;
	b->len = 0;
	b->pool = bp;
	return b;
}

static struct blk *blk_ref(struct blk *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

static void blk_put(struct blk *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		pool_put(b->pool, b);
}

/* A cache I/O failure: counted, logged now and then; never fatal. */
static void cache_error(struct bc_priv *p, const char *what, int rc)
{
	uint64_t n;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	n = p->st.errors++;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (n % ERROR_LOG_EVERY == 0)
		bfs_log(LOG_ERR,
			"%s: block cache in '%s': %s: %s (reads go to the "
			"bucket)",
			p->bucket, p->blocks_dir, what, strerror(rc));
}

/* ---- the index ----------------------------------------------------------- */

static int get_ival(struct bfs_metadb_txn *txn, const uint8_t *ikey,
		    struct ival *iv)
{
	void *v;
	size_t vlen;
	int rc = bfs_metadb_get(txn, BFS_METADB_BLOCKS, ikey, IKEY_LEN, &v,
				&vlen);

	if (rc != 0)
		return rc;
	if (vlen != sizeof(*iv))
		rc = EIO;
	else
		memcpy(iv, v, sizeof(*iv));
	free(v);
	return rc;
}

static int get_u64(struct bfs_metadb_txn *txn, const char *name, uint64_t *out)
{
	void *v;
	size_t vlen;
	int rc = bfs_metadb_get(txn, BFS_METADB_STATE, name, strlen(name), &v,
				&vlen);

	*out = 0;
	if (rc == ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (vlen == sizeof(*out))
		memcpy(out, v, sizeof(*out));
	free(v);
	return 0;
}

static int put_u64(struct bfs_metadb_txn *txn, const char *name, uint64_t v)
{
	return bfs_metadb_put(txn, BFS_METADB_STATE, name, strlen(name), &v,
			      sizeof(v));
}

/* Remove one index entry (and its LRU entry) in txn; adjusts *total. */
static int unindex(struct bfs_metadb_txn *txn, const uint8_t *ikey,
		   const struct ival *iv, uint64_t *total)
{
	uint8_t lkey[LKEY_LEN];
	int rc;

	make_lkey(iv->atime, iv->id, lkey);
	rc = bfs_metadb_del(txn, BFS_METADB_BLOCKS, ikey, IKEY_LEN);
	if (rc == 0) {
		rc = bfs_metadb_del(txn, BFS_METADB_LRU, lkey, LKEY_LEN);
		if (rc == ENOENT)
			rc = 0;
	}
	*total = *total > iv->file_len ? *total - iv->file_len : 0;
	return rc;
}

/* Drop the entry ikey if it still names file id; then the file. */
static void drop_block(struct bc_priv *p, const uint8_t *ikey, uint64_t id)
{
	struct bfs_metadb_txn *txn;
	struct ival iv;
	uint64_t total;
	char *path;
	int rc;

	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		goto out;
	rc = get_ival(txn, ikey, &iv);
	if (rc == 0 && iv.id == id) {
		rc = get_u64(txn, "bytes", &total);
		if (rc == 0)
			rc = unindex(txn, ikey, &iv, &total);
		if (rc == 0)
			rc = put_u64(txn, "bytes", total);
		if (rc == 0) {
			rc = bfs_metadb_commit(txn);
			txn = NULL;
		}
	}
	bfs_metadb_abort(txn);
out:
	path = block_path(p->blocks_dir, id);
	unlink(path);
	free(path);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	verified_forget(p, id);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (rc != 0 && rc != ENOENT)
		cache_error(p, "cannot drop a block from the index", rc);
}

/* Files evicted in a transaction, unlinked once it is committed. */
struct victims {
	uint64_t *ids;
	size_t n;
	uint64_t bytes;
};

/*
 * Evict least recently used blocks in txn until *total + room fits the
 * limit; *total is adjusted.
 */
static int evict(struct bc_priv *p, struct bfs_metadb_txn *txn, uint64_t room,
		 uint64_t *total, struct victims *v)
{
	int rc = 0;

	while (rc == 0 && *total + room > p->limit) {
		uint8_t lkey[BFS_METADB_KEY_MAX];
		uint8_t *victim;
		size_t lklen, vlen;
		struct ival viv;

		rc = bfs_metadb_first(txn, BFS_METADB_LRU, lkey, &lklen,
				      (void **)&victim, &vlen);
		if (rc == ENOENT) {
			/* nothing left to evict: the count was off */
			*total = 0;
			return 0;
		}
		if (rc != 0)
			break;
		rc = bfs_metadb_del(txn, BFS_METADB_LRU, lkey, lklen);
		if (rc == 0 && vlen == IKEY_LEN &&
		    get_ival(txn, victim, &viv) == 0 &&
		    viv.id == get_be64(lkey + 8)) {
			rc = bfs_metadb_del(txn, BFS_METADB_BLOCKS, victim,
					    IKEY_LEN);
			*total = *total > viv.file_len ? *total - viv.file_len
						       : 0;
			v->ids = bfs_xrealloc(v->ids,
					      (v->n + 1) * sizeof(*v->ids));
			v->ids[v->n++] = viv.id;
			v->bytes += viv.file_len;
		}
		free(victim);
	}
	return rc;
}

/* After the commit: nobody opens them from now on. */
static void bury(struct bc_priv *p, struct victims *v)
{
	for (size_t i = 0; i < v->n; i++) {
		char *path = block_path(p->blocks_dir, v->ids[i]);

		unlink(path);
		free(path);
	}
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->st.evictions += v->n;
	p->st.evicted_bytes += v->bytes;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	free(v->ids);
	memset(v, 0, sizeof(*v));
}

/* Evict down to the limit (it may be lower than the last mount's). */
static int trim(struct bc_priv *p)
{
	struct bfs_metadb_txn *txn;
	struct victims v = {0};
	uint64_t total;
	int rc;

	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		return rc;
	rc = get_u64(txn, "bytes", &total);
	if (rc == 0)
		rc = evict(p, txn, 0, &total, &v);
	if (rc == 0)
		rc = put_u64(txn, "bytes", total);
	if (rc == 0) {
		rc = bfs_metadb_commit(txn);
	} else {
		bfs_metadb_abort(txn);
	}
	if (rc == 0)
		bury(p, &v);
	free(v.ids);
	return rc;
}

/*
 * Admit a fetched block: write its file, then in one transaction evict
 * least recently used blocks until it fits and index it.
 * @return the file id, or 0 if the block is not cached.
 */
static uint64_t admit(struct bc_priv *p, const struct obj *o, uint64_t block,
		      const uint8_t *ikey, const uint8_t *data, size_t len)
{
	struct bfs_blockfile_id bid;
	struct bfs_metadb_txn *txn = NULL;
	uint64_t file_len = BFS_BLOCKFILE_HDR_SIZE + len;
	struct victims v = {0};
	uint64_t id = 0, total;
	uint8_t lkey[LKEY_LEN];
	struct ival iv;
	char *path = NULL;
	int rc;

	if (file_len > p->limit)
		return 0;
	memcpy(bid.key_hash, o->key_hash, 32);
	snprintf(bid.etag, sizeof(bid.etag), "%s", o->etag);
	bid.block = block;
	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			return 0;
	} while (id == 0);
	path = block_path(p->blocks_dir, id);
	rc = bfs_blockfile_write(path, &bid, data, len);
	if (rc == ENOENT) {
		char *dir = bfs_xasprintf("%s/%02x", p->blocks_dir,
					  (unsigned)(id & 0xff));

		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			rc = bfs_blockfile_write(path, &bid, data, len);
		free(dir);
	}
	if (rc != 0) {
		cache_error(p, "cannot write a block file", rc);
		goto fail;
	}
	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		goto fail_index;
	rc = get_ival(txn, ikey, &iv);
	if (rc == 0) {
		/* another thread or process admitted it first */
		rc = 0;
		goto fail;
	}
	if (rc != ENOENT)
		goto fail_index;
	rc = get_u64(txn, "bytes", &total);
	if (rc == 0)
		rc = evict(p, txn, file_len, &total, &v);
	if (rc != 0)
		goto fail_index;
	iv.id = id;
	iv.atime = now_ns();
	iv.file_len = (uint32_t)file_len;
	iv.data_len = (uint32_t)len;
	make_lkey(iv.atime, id, lkey);
	rc = bfs_metadb_put(txn, BFS_METADB_BLOCKS, ikey, IKEY_LEN, &iv,
			    sizeof(iv));
	if (rc == 0)
		rc = bfs_metadb_put(txn, BFS_METADB_LRU, lkey, LKEY_LEN, ikey,
				    IKEY_LEN);
	if (rc == 0)
		rc = put_u64(txn, "bytes", total + file_len);
	if (rc != 0)
		goto fail_index;
	rc = bfs_metadb_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail_index;
	bury(p, &v);
	free(path);
	return id;
fail_index:
	cache_error(p, "cannot index a block", rc);
fail:
	bfs_metadb_abort(txn);
	if (path)
		unlink(path);
	free(path);
	free(v.ids);
	return 0;
}

/* ---- memory: hot blocks, fetches in flight, access notes ------------------
 */

/* The hot entry for ikey, or NULL; lock held. */
static struct hot *hot_find(struct bc_priv *p, const uint8_t *ikey)
{
	for (size_t i = 0; i < p->hot_max; i++)
		if (p->hot[i].used &&
		    memcmp(p->hot[i].ikey, ikey, IKEY_LEN) == 0)
			return &p->hot[i];
	return NULL;
}

/* Keep b (a reference is taken) as hot; lock held. */
static void hot_insert(struct bc_priv *p, const uint8_t *ikey, struct blk *b,
		       uint64_t id, uint64_t atime)
{
	struct hot *h = hot_find(p, ikey);

	if (h == NULL) {
		h = &p->hot[0];
		for (size_t i = 0; i < p->hot_max; i++) {
			if (!p->hot[i].used) {
				h = &p->hot[i];
				break;
			}
			if (p->hot[i].last < h->last)
				h = &p->hot[i];
		}
	}
	if (h->used)
		blk_put(h->b);
	h->used = true;
	memcpy(h->ikey, ikey, IKEY_LEN);
	h->b = blk_ref(b);
	h->id = id;
	h->atime = atime;
	h->last = ++p->hot_clock;
}

static int64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct verified *verified_slot(struct bc_priv *p, uint64_t id)
{
	/* ids are random; the low byte also names the directory */
	return &p->verified[(id >> 8) % VERIFIED_SLOTS];
}

/* The entry of file id if its data was verified and the file on disk is
 * still the one verified, else NULL; lock held. */
static struct verified *verified_find(struct bc_priv *p, uint64_t id,
				      const struct bfs_blockfile *bf)
{
	struct verified *v = verified_slot(p, id);

	if (v->id != id || v->dev != bf->dev || v->ino != bf->ino ||
	    v->size != bf->size || v->mtime_ns != bf->mtime_ns ||
	    v->ctime_ns != bf->ctime_ns)
		return NULL;
	return v;
}

/*
 * Remember that the data of file id (as bf found it) checked out; lock
 * held. Only once the coarse clock (the one the kernel stamps files
 * with) has moved past the file's change time: a write into the file
 * after this point then gives it a later ctime, so the entry no longer
 * matches. A file changed within the clock tick it was stamped in could
 * keep its times; such a file is not remembered, and is verified on
 * each read until its stamp is in the past.
 */
static void verified_add(struct bc_priv *p, uint64_t id,
			 const struct bfs_blockfile *bf, uint64_t atime)
{
	struct verified *v = verified_slot(p, id);

	if (coarse_now_ns() <= BFS_MAX(bf->mtime_ns, bf->ctime_ns))
		return;
	v->id = id;
	v->dev = bf->dev;
	v->ino = bf->ino;
	v->size = bf->size;
	v->mtime_ns = bf->mtime_ns;
	v->ctime_ns = bf->ctime_ns;
	v->noted = atime;
}

/* Forget file id (dropped from the index); lock held. */
static void verified_forget(struct bc_priv *p, uint64_t id)
{
	struct verified *v = verified_slot(p, id);

	if (v->id == id)
		memset(v, 0, sizeof(*v));
}

/*
 * Note an access to an indexed block; lock held.
 * @return true when the notes are full and must be written now.
 */
static bool touch_note(struct bc_priv *p, const uint8_t *ikey, uint64_t id,
		       uint64_t *atime)
{
	uint64_t now = now_ns();

	if (id == 0 || now < *atime + TOUCH_NS)
		return false;
	*atime = now;
	for (size_t i = 0; i < p->ntouches; i++) {
		if (p->touches[i].id == id) {
			p->touches[i].atime = now;
			return false;
		}
	}
	memcpy(p->touches[p->ntouches].ikey, ikey, IKEY_LEN);
	p->touches[p->ntouches].id = id;
	p->touches[p->ntouches].atime = now;
	p->ntouches++;
	return p->ntouches == TOUCH_MAX;
}

/* Write the access notes into the LRU order. */
static void flush_touches(struct bc_priv *p)
{
	struct bfs_metadb_txn *txn;
	struct touch *t;
	size_t n;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	n = p->ntouches;
	t = bfs_xmalloc(BFS_MAX(n, 1) * sizeof(*t));
	memcpy(t, p->touches, n * sizeof(*t));
	p->ntouches = 0;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (n == 0 || p->db == NULL)
		goto out;
	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		goto fail;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t lkey[LKEY_LEN];
		struct ival iv;

		if (get_ival(txn, t[i].ikey, &iv) != 0 || iv.id != t[i].id ||
		    iv.atime >= t[i].atime)
			continue;
		make_lkey(iv.atime, iv.id, lkey);
		rc = bfs_metadb_del(txn, BFS_METADB_LRU, lkey, LKEY_LEN);
		if (rc == ENOENT)
			rc = 0;
		iv.atime = t[i].atime;
		make_lkey(iv.atime, iv.id, lkey);
		if (rc == 0)
			rc = bfs_metadb_put(txn, BFS_METADB_LRU, lkey, LKEY_LEN,
					    t[i].ikey, IKEY_LEN);
		if (rc == 0)
			rc = bfs_metadb_put(txn, BFS_METADB_BLOCKS, t[i].ikey,
					    IKEY_LEN, &iv, sizeof(iv));
	}
	if (rc == 0) {
		rc = bfs_metadb_commit(txn);
	} else {
		bfs_metadb_abort(txn);
	}
fail:
	if (rc != 0)
		cache_error(p, "cannot record block accesses", rc);
out:
	free(t);
}

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
};

/* Copy what w wants of a block of blen bytes; nothing when w starts
 * past its end. */
static void copy_out(struct want *w, const uint8_t *data, size_t blen)
{
	w->blen = blen;
	w->got = 0;
	if (w->boff > blen)
		return;
	w->got = BFS_MIN(w->len, blen - w->boff);
	memcpy(w->dst, data + w->boff, w->got);
}

/*
 * Serve w from the indexed file of a block. A file this instance
 * verified before, unchanged since (struct verified), has its header
 * checked and only the wanted bytes read; any other file is read whole
 * and its data checksum checked, and *out receives the block (for the
 * hot set). With w NULL (prefetch) only the index is asked. *flush is
 * set when the access notes must be written now.
 * @return 0, or ENOENT (not indexed, or damaged and dropped: fetch it).
 */
static int from_disk(struct bc_priv *p, const struct obj *o, uint64_t block,
		     const uint8_t *ikey, struct want *w, struct blk **out,
		     struct ival *iv, bool *flush)
{
	struct bfs_blockfile bf = {.fd = -1};
	struct bfs_metadb_txn *txn;
	struct bfs_blockfile_id bid;
	struct verified *v;
	struct blk *b = NULL;
	char why[128] = "";
	bool known = false;
	char *path;
	int rc;

	*out = NULL;
	rc = bfs_metadb_begin(p->db, true, &txn);
	if (rc != 0) {
		cache_error(p, "cannot read the index", rc);
		return ENOENT;
	}
	rc = get_ival(txn, ikey, iv);
	bfs_metadb_abort(txn);
	if (rc != 0) {
		if (rc != ENOENT)
			cache_error(p, "cannot read the index", rc);
		return ENOENT;
	}
	if (w == NULL)
		return 0;
	if (iv->data_len > p->bs) {
		snprintf(why, sizeof(why), "index says %u bytes", iv->data_len);
		rc = EBADMSG;
		goto fail;
	}
	memcpy(bid.key_hash, o->key_hash, 32);
	snprintf(bid.etag, sizeof(bid.etag), "%s", o->etag);
	bid.block = block;
	path = block_path(p->blocks_dir, iv->id);
	rc = bfs_blockfile_open(path, &bid, iv->data_len, &bf, why,
				sizeof(why));
	free(path);
	if (rc != 0)
		goto fail;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	v = verified_find(p, iv->id, &bf);
	if (v) {
		known = true;
		/* the index may hold a later access by another process */
		v->noted = BFS_MAX(v->noted, iv->atime);
		*flush = touch_note(p, ikey, iv->id, &v->noted);
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (known) {
		w->blen = bf.len;
		w->got = 0;
		if (w->boff <= bf.len) {
			size_t n = BFS_MIN(w->len, bf.len - w->boff);

			rc = bfs_blockfile_pread(&bf, w->dst, n, w->boff, why,
						 sizeof(why));
			if (rc == 0)
				w->got = n;
		}
	} else {
		b = blk_new(&p->blkpool);
		rc = bfs_blockfile_verify(&bf, b->data, why, sizeof(why));
		if (rc == 0) {
			b->len = bf.len;
			BFS_PCHECK(pthread_mutex_lock(&p->lock));
			verified_add(p, iv->id, &bf, iv->atime);
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		}
	}
	bfs_blockfile_close(&bf);
	if (rc == 0) {
		*out = b;
		return 0;
	}
fail:
	blk_put(b);
	if (rc == EBADMSG) {
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->st.corrupt++;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		bfs_log(LOG_WARNING,
			"%s: cached block %llu of '%s' is damaged (%s); "
			"dropped and fetched again",
			p->bucket, (unsigned long long)block, o->key, why);
		drop_block(p, ikey, iv->id);
	} else if (rc == ENOENT) {
		/* evicted or cleared by another process meanwhile */
		drop_block(p, ikey, iv->id);
	} else {
		cache_error(p, "cannot read a block file", rc);
	}
	return ENOENT;
}

/* Fetch a whole block from the inner store into a new blk. */
static int fetch(struct bc_priv *p, const struct obj *o, uint64_t block,
		 struct blk **out)
{
	struct blk *b = blk_new(&p->blkpool);
	size_t got = 0;
	int rc;

	/* one request: a store returns less than asked only at the end of
	 * the object (store.h), and asking again there costs a round trip */
	rc = p->inner->get_range(p->inner, o->key, block * p->bs, p->bs,
				 b->data, &got, o->etag);
	if (rc != 0) {
		blk_put(b);
		*out = NULL;
		return rc;
	}
	b->len = got;
	*out = b;
	return 0;
}

/* The fetch in flight for ikey, or NULL; lock held. */
static struct flight *flight_find(struct bc_priv *p, const uint8_t *ikey)
{
	struct flight *f;

	for (f = p->flights; f; f = f->next)
		if (memcmp(f->ikey, ikey, IKEY_LEN) == 0)
			break;
	return f;
}

/* Finish a flight with rc and b (not consumed); lock held. */
static void flight_land(struct bc_priv *p, struct flight *f, int rc,
			struct blk *b)
{
	for (struct flight **pp = &p->flights; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	p->landed++;
	f->done = true;
	f->rc = rc;
	f->b = rc == 0 && b ? blk_ref(b) : NULL;
	BFS_PCHECK(pthread_cond_broadcast(&p->cond));
	if (f->waiters == 0) {
		blk_put(f->b);
		free(f);
	}
}

/*
 * Work done behind a reader, in a thread of its own, so that the reader
 * need not wait for it: fetching a block while a small read got its few
 * bytes with a ranged GET (s3rver: ~1.5 ms for 4 KiB rather than ~5 ms
 * for 1 MiB), or admitting a block a reader fetched (~0.5 ms: a file
 * written, an index transaction). The block's flight stays up until
 * then.
 */
struct bg {
	struct bc_priv *p;
	struct obj o; /* key and etag point to the copies below */
	char *key;
	char etag[BFS_ETAG_MAX];
	uint64_t block;
	uint8_t ikey[IKEY_LEN];
	struct flight *f;
	struct blk *b; /* fetched already (a reference): admit it only */
	/* pieces: admit the got bytes of b as pieces from first on (no
	 * flight: a reader meanwhile fetches them again, or finds them) */
	bool pieces;
	uint64_t first;
	size_t got;
};

static void admit_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
			 uint64_t first, const uint8_t *data, size_t got);

/* Free g and count its thread out; last: stop() waits for the count,
 * and then p may go. */
static void bg_free(struct bg *g)
{
	struct bc_priv *p = g->p;

	blk_put(g->b);
	free(g->key);
	free(g);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->nbg--;
	BFS_PCHECK(pthread_cond_broadcast(&p->cond));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

static void *bg_main(void *arg)
{
	struct bg *g = arg;
	struct bc_priv *p = g->p;
	struct blk *b = NULL;
	uint64_t id = 0, atime;
	int rc;

	if (g->pieces) {
		admit_pieces(p, &g->o, g->block, g->first, g->b->data, g->got);
		bg_free(g);
		return NULL;
	}
	b = g->b;
	rc = b ? 0 : fetch(p, &g->o, g->block, &b);
	if (rc == 0 && b->len > 0)
		id = admit(p, &g->o, g->block, g->ikey, b->data, b->len);
	atime = now_ns();
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (rc == 0 && g->b == NULL) {
		p->st.misses++;
		p->st.bytes_fetched += b->len;
		/* the reader may well come back for more of it */
		hot_insert(p, g->ikey, b, id, atime);
	} else if (rc == 0) {
		/* the reader put it in the hot set, not indexed yet */
		struct hot *h = hot_find(p, g->ikey);

		if (h && h->b == b) {
			h->id = id;
			h->atime = atime;
		}
	}
	flight_land(p, g->f, rc, b);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	g->b = b; /* the reference bg_free puts: given, or fetched */
	bg_free(g);
	return NULL;
}

/* A job for a thread behind the reader (a reference to b is taken), or
 * NULL: BG_MAX running, or stopping. */
static struct bg *bg_new(struct bc_priv *p, const struct obj *o, uint64_t block,
			 struct blk *b)
{
	struct bg *g;
	bool ok;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	ok = p->nbg < BG_MAX && !p->stopping;
	if (ok)
		p->nbg++;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (!ok)
		return NULL;
	g = bfs_xcalloc(1, sizeof(*g));
	g->p = p;
	g->o = *o;
	g->key = bfs_xstrdup(o->key);
	snprintf(g->etag, sizeof(g->etag), "%s", o->etag);
	g->o.key = g->key;
	g->o.etag = g->etag;
	g->block = block;
	g->b = b ? blk_ref(b) : NULL;
	return g;
}

/* Run g in a detached thread. @return 0, or EAGAIN (g is freed). */
static int bg_run(struct bg *g)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	BFS_PCHECK(pthread_attr_init(&attr));
	BFS_PCHECK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
	rc = pthread_create(&t, &attr, bg_main, g);
	BFS_PCHECK(pthread_attr_destroy(&attr));
	if (rc == 0)
		return 0;
	bg_free(g);
	return EAGAIN;
}

/*
 * Fetch block of o (b NULL) or admit b (a reference is taken) in a
 * thread of its own; its flight f is registered.
 * @return 0, or EAGAIN (BG_MAX running, stopping, no thread): the
 *         caller does it.
 */
static int bg_start(struct bc_priv *p, const struct obj *o, uint64_t block,
		    const uint8_t *ikey, struct flight *f, struct blk *b)
{
	struct bg *g = bg_new(p, o, block, b);

	if (g == NULL)
		return EAGAIN;
	memcpy(g->ikey, ikey, IKEY_LEN);
	g->f = f;
	return bg_run(g);
}

/*
 * Serve w with a ranged GET of just its bytes of block (not cached: the
 * block itself is being fetched in the background).
 */
static int read_through(struct bc_priv *p, const struct obj *o, uint64_t block,
			struct want *w)
{
	size_t n = BFS_MIN(w->len, p->bs - w->boff), got = 0;
	int rc;

	rc = p->inner->get_range(p->inner, o->key, block * p->bs + w->boff, n,
				 w->dst, &got, o->etag);
	if (rc != 0)
		return rc;
	w->got = got;
	/* short: the object ends in this block; else as far as we know
	 * the block is whole (the caller stops when its read is done) */
	w->blen = got < n ? w->boff + got : p->bs;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->st.ranged++;
	p->st.bytes_fetched += got; /* all that came from the store */
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return 0;
}

/* Copy w out of b, then let go of b (either may be NULL). */
static void serve(struct want *w, struct blk *b)
{
	if (w && b)
		copy_out(w, b->data, b->len);
	blk_put(b);
}

/* Whether small reads are served by pieces (the block holds several). */
static bool pieces_on(const struct bc_priv *p)
{
	return p->bs % PIECE == 0 && p->bs >= 2 * PIECE;
}

/* The number piece i of block is indexed under. */
static uint64_t piece_no(const struct bc_priv *p, uint64_t block, uint64_t i)
{
	return PIECE_TAG | (block * (p->bs / PIECE) + i);
}

/*
 * Serve a small read w of block (which is nowhere) from its pieces: from
 * their files when every piece it touches is indexed, else with one
 * ranged GET of those pieces, each then admitted (one small file and one
 * transaction each). The block itself is not fetched: a lone read costs
 * its pieces only; the prefetcher fetches blocks where random reads
 * cluster (prefetch.h).
 */
static int serve_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
			struct want *w)
{
	size_t n = BFS_MIN(w->len, p->bs - w->boff), done = 0, got = 0, glen;
	uint64_t first = w->boff / PIECE, last = (w->boff + n - 1) / PIECE;
	uint8_t ikey[IKEY_LEN];
	struct blk *b = NULL;
	struct bg *g;
	size_t skip;
	int rc;

	for (uint64_t i = first; i <= last; i++) {
		struct want pw = {
			.boff = w->boff + done - i * PIECE,
			.dst = w->dst + done,
		};
		bool flush = false;
		struct ival iv;

		pw.len = BFS_MIN(n - done, PIECE - pw.boff);
		make_ikey(p, o, piece_no(p, block, i), ikey);
		rc = from_disk(p, o, piece_no(p, block, i), ikey, &pw, &b, &iv,
			       &flush);
		if (rc != 0)
			break;
		if (b)
			copy_out(&pw, b->data, b->len);
		blk_put(b);
		b = NULL;
		if (flush)
			flush_touches(p);
		done += pw.got;
		if (i == last || pw.blen < PIECE) {
			/* all there, or the object ends in this piece */
			w->got = done;
			w->blen = pw.blen < PIECE ? i * PIECE + pw.blen : p->bs;
			BFS_PCHECK(pthread_mutex_lock(&p->lock));
			p->st.piece_hits++;
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			return 0;
		}
	}

	glen = (size_t)(last - first + 1) * PIECE;
	b = blk_new(&p->blkpool);
	rc = p->inner->get_range(p->inner, o->key,
				 block * p->bs + first * PIECE, glen, b->data,
				 &got, o->etag);
	if (rc != 0)
		goto out;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->st.ranged++;
	p->st.bytes_fetched += got;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	skip = w->boff - first * PIECE;
	w->got = got > skip ? BFS_MIN(n, got - skip) : 0;
	memcpy(w->dst, b->data + skip, w->got);
	/* short: the object ends here; else the block is whole as far as
	 * we know (the caller stops when its read is done) */
	w->blen = got < glen ? first * PIECE + got : p->bs;
	/* kept behind the reader (files and an index transaction, which
	 * waits for the other admissions): it has its bytes already */
	g = got > 0 ? bg_new(p, o, block, b) : NULL;
	if (g) {
		g->pieces = true;
		g->first = first;
		g->got = got;
		bg_run(g);
	} else {
		admit_pieces(p, o, block, first, b->data, got);
	}
out:
	blk_put(b);
	return rc;
}

/* Admit the got bytes at data as the pieces of block from first on. */
static void admit_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
			 uint64_t first, const uint8_t *data, size_t got)
{
	uint8_t ikey[IKEY_LEN];

	for (uint64_t i = first; (i - first) * PIECE < got; i++) {
		size_t at = (size_t)(i - first) * PIECE;
		size_t plen = BFS_MIN((size_t)PIECE, got - at);

		make_ikey(p, o, piece_no(p, block, i), ikey);
		if (admit(p, o, piece_no(p, block, i), ikey, data + at, plen) !=
		    0) {
			BFS_PCHECK(pthread_mutex_lock(&p->lock));
			p->st.pieces++;
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		}
	}
}

/*
 * Block `block` of o for w: from memory (the hot set), from disk, or
 * fetched (once, however many threads ask). With w NULL
 * (prefetch) the block is only made present, and a block in memory,
 * being fetched or indexed counts as present.
 */
static int get_block(struct bc_priv *p, const struct obj *o, uint64_t block,
		     struct want *w)
{
	uint8_t ikey[IKEY_LEN];
	struct flight *f;
	struct blk *b = NULL;
	struct ival iv;
	struct hot *h;
	bool flush = false, joined_failed = false;
	int rc;

	make_ikey(p, o, block, ikey);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (;;) {
		uint64_t landed;

		h = hot_find(p, ikey);
		if (h) {
			if (w) {
				b = blk_ref(h->b);
				h->last = ++p->hot_clock;
				p->st.hits++;
				flush = touch_note(p, ikey, h->id, &h->atime);
			}
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			serve(w, b);
			if (flush)
				flush_touches(p);
			return 0;
		}
		f = flight_find(p, ikey);
		if (f) {
			if (w == NULL) {
				BFS_PCHECK(pthread_mutex_unlock(&p->lock));
				return 0;
			}
			f->waiters++;
			while (!f->done)
				BFS_PCHECK(
					pthread_cond_wait(&p->cond, &p->lock));
			rc = f->rc;
			if (rc == 0 && f->b)
				b = blk_ref(f->b);
			if (--f->waiters == 0) {
				blk_put(f->b);
				free(f);
			}
			if (rc == 0 && b == NULL)
				continue; /* admitted, not kept in memory */
			/*
			 * The fetch we waited for may have been sent while
			 * the server was down and failed after it came back:
			 * a network failure of someone else's request is
			 * not this read's answer, so it tries once itself.
			 */
			if ((rc == ETIMEDOUT || rc == EIO) && !joined_failed) {
				joined_failed = true;
				continue;
			}
			if (rc == 0)
				p->st.hits++;
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			serve(w, b);
			return rc;
		}
		landed = p->landed;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		rc = from_disk(p, o, block, ikey, w, &b, &iv, &flush);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		if (rc == 0) {
			if (b) {
				hot_insert(p, ikey, b, iv.id, iv.atime);
				h = hot_find(p, ikey);
				flush = touch_note(p, ikey, iv.id, &h->atime);
			}
			if (w)
				p->st.hits++;
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			serve(w, b);
			if (flush)
				flush_touches(p);
			return 0;
		}
		/* a fetch that landed while we looked may have indexed it;
		 * one may have started meanwhile */
		if (landed == p->landed && flight_find(p, ikey) == NULL)
			break;
	}
	if (w && w->small && pieces_on(p)) {
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		return serve_pieces(p, o, block, w);
	}
	f = bfs_xcalloc(1, sizeof(*f));
	memcpy(f->ikey, ikey, IKEY_LEN);
	f->next = p->flights;
	p->flights = f;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));

	if (w && w->small && bg_start(p, o, block, ikey, f, NULL) == 0)
		return read_through(p, o, block, w);
	rc = fetch(p, o, block, &b);
	if (rc == 0 && w && b->len > 0) {
		/* the reader goes on with it from the hot set; it is
		 * admitted behind the reader */
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		hot_insert(p, ikey, b, 0, now_ns());
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		if (bg_start(p, o, block, ikey, f, b) == 0) {
			BFS_PCHECK(pthread_mutex_lock(&p->lock));
			p->st.misses++;
			p->st.bytes_fetched += b->len;
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			serve(w, b);
			return 0;
		}
	}
	iv.id = 0;
	if (rc == 0 && b->len > 0)
		iv.id = admit(p, o, block, ikey, b->data, b->len);
	iv.atime = now_ns();

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (rc == 0) {
		if (w)
			p->st.misses++;
		else
			p->st.prefetched++;
		p->st.bytes_fetched += b->len;
		if (w)
			hot_insert(p, ikey, b, iv.id, iv.atime);
	}
	flight_land(p, f, rc, b);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	serve(w, b);
	return rc;
}

/* ---- store operations -----------------------------------------------------
 */

static int bc_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	struct bc_priv *p = priv_of(s);
	struct obj o;
	size_t done = 0;
	int rc = 0;

	*got = 0;
	if (p->db == NULL || if_match == NULL || if_match[0] == '\0') {
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->st.bypassed++;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		return p->inner->get_range(p->inner, key, off, len, buf, got,
					   if_match);
	}
	obj_init(&o, p->bucket, key, if_match);
	while (done < len) {
		uint64_t pos = off + done;
		struct want w = {
			.boff = (size_t)(pos % p->bs),
			.len = len - done,
			.dst = (char *)buf + done,
			.small = len <= p->bs / SMALL_DIV,
		};

		rc = get_block(p, &o, pos / p->bs, &w);
		if (rc == ERANGE && done > 0) {
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
		if (w.boff > w.blen) {
			rc = done > 0 ? 0 : ERANGE;
			break;
		}
		done += w.got;
		if (w.blen < p->bs) /* the object's last block */
			break;
	}
	*got = done;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->st.bytes_served += done;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return rc;
}

/*
 * For a prefetch: a flight registered for block, unless the block is
 * present (in memory, being fetched or indexed): then NULL.
 */
static struct flight *claim(struct bc_priv *p, const struct obj *o,
			    uint64_t block, const uint8_t *ikey)
{
	struct flight *f;
	struct blk *b;
	struct ival iv;
	bool flush = false;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (;;) {
		uint64_t landed;

		if (hot_find(p, ikey))
			goto present;
		if (flight_find(p, ikey))
			goto present;
		landed = p->landed;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		rc = from_disk(p, o, block, ikey, NULL, &b, &iv, &flush);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		if (rc == 0)
			goto present;
		/* a fetch that landed while we looked may have indexed it;
		 * one may have started meanwhile */
		if (landed == p->landed && flight_find(p, ikey) == NULL)
			break;
	}
	f = bfs_xcalloc(1, sizeof(*f));
	memcpy(f->ikey, ikey, IKEY_LEN);
	f->next = p->flights;
	p->flights = f;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return f;
present:
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return NULL;
}

/*
 * Fetch blocks [first, first+n), claimed by the flights fl, with one
 * get_range; admit each, keep what fits in memory for the reader, land
 * the flights. A block that starts past the data fetched lands with
 * ERANGE (one that starts exactly at the end: empty).
 * @return the result for the first block.
 */
static int fetch_run(struct bc_priv *p, const struct obj *o, uint64_t first,
		     uint64_t n, struct flight **fl)
{
	size_t want = (size_t)(n * p->bs), got = 0;
	bool pooled = want <= p->runpool.size;
	uint8_t *buf = pooled ? pool_get(&p->runpool) : bfs_xmalloc(want);
	int rc, rc0 = 0;

	rc = p->inner->get_range(p->inner, o->key, first * p->bs, want, buf,
				 &got, o->etag);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t boff = i * p->bs, id = 0;
		uint8_t ikey[IKEY_LEN];
		struct blk *b = NULL;
		size_t len = 0;
		bool keep;
		int brc = rc;

		if (brc == 0 && boff > got)
			brc = ERANGE;
		if (brc == 0)
			len = BFS_MIN(p->bs, got - boff);
		make_ikey(p, o, first + i, ikey);
		if (brc == 0 && len > 0)
			id = admit(p, o, first + i, ikey, buf + boff, len);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		/* a reader waiting for it gets the data at once (else it
		 * reads the file back); so does one if it could not be
		 * stored, or if it is empty (past the end: nothing to store) */
		keep = fl[i]->waiters > 0 || id == 0;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		if (brc == 0 && keep) {
			b = blk_new(&p->blkpool);
			memcpy(b->data, buf + boff, len);
			b->len = len;
		}
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		if (brc == 0) {
			p->st.prefetched++;
			p->st.bytes_fetched += len;
		}
		flight_land(p, fl[i], brc, b);
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		blk_put(b);
		if (i == 0)
			rc0 = brc;
	}
	if (pooled)
		pool_put(&p->runpool, buf);
	else
		free(buf);
	return rc0;
}

int bfs_blockcache_prefetch(struct bfs_store *s, const char *key,
			    const char *etag, uint64_t first, uint64_t n)
{
	struct bc_priv *p = priv_of(s);
	struct flight **fl;
	uint64_t b, run = 0;
	struct obj o;
	int rc = 0, rrc;

	if (!bfs_blockcache_is(s) || p->db == NULL || etag == NULL ||
	    etag[0] == '\0' || n == 0)
		return EINVAL;
	obj_init(&o, p->bucket, key, etag);
	if (n == 1)
		return get_block(p, &o, first, NULL);
	fl = bfs_xcalloc(n, sizeof(*fl));
	/* one request per run of blocks that are not present */
	for (b = first; b <= first + n; b++) {
		uint8_t ikey[IKEY_LEN];
		struct flight *f = NULL;

		if (b < first + n) {
			make_ikey(p, &o, b, ikey);
			f = claim(p, &o, b, ikey);
		}
		if (f) {
			fl[run++] = f;
			continue;
		}
		if (run == 0)
			continue;
		rrc = fetch_run(p, &o, b - run, run, fl);
		if (rc == 0 && b - run == first)
			rc = rrc;
		else if (rc == 0 && rrc != 0 && rrc != ERANGE)
			rc = rrc;
		run = 0;
	}
	free(fl);
	return rc;
}

static int bc_head(struct bfs_store *s, const char *key,
		   struct bfs_obj_info *out)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->head(in, key, out);
}

static int bc_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->put(in, req, etag_out);
}

static int bc_del(struct bfs_store *s, const char *key)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->del(in, key);
}

static int bc_copy(struct bfs_store *s, const char *src, const char *dst,
		   const struct bfs_meta_list *meta, const char *if_match,
		   char *etag_out)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->copy(in, src, dst, meta, if_match, etag_out);
}

static int bc_list(struct bfs_store *s, const struct bfs_list_req *req,
		   struct bfs_list_result *out)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->list(in, req, out);
}

static int bc_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			char **upload_id)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->mpu_begin(in, req, upload_id);
}

static int bc_mpu_part(struct bfs_store *s, const char *key,
		       const char *upload_id, int number, int fd, off_t off,
		       size_t len, char *etag_out)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->mpu_part(in, key, upload_id, number, fd, off, len, etag_out);
}

static int bc_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, char *etag_out)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->mpu_complete(in, req, upload_id, parts, nparts, etag_out);
}

static int bc_mpu_abort(struct bfs_store *s, const char *key,
			const char *upload_id)
{
	struct bfs_store *in = priv_of(s)->inner;

	return in->mpu_abort(in, key, upload_id);
}

static void bc_get_stats(struct bfs_store *s, struct bfs_store_stats *out)
{
	struct bfs_store *in = priv_of(s)->inner;

	if (in->get_stats)
		in->get_stats(in, out);
	else
		memset(out, 0, sizeof(*out));
}

void bfs_blockcache_get_stats(struct bfs_store *s,
			      struct bfs_blockcache_stats *out)
{
	struct bc_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	*out = p->st;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

void bfs_blockcache_drain(struct bfs_store *s)
{
	struct bc_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	while (p->nbg > 0)
		BFS_PCHECK(pthread_cond_wait(&p->cond, &p->lock));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

uint64_t bfs_blockcache_block_size(const struct bfs_store *s)
{
	return priv_of(s)->bs;
}

/* ---- housekeeping ----------------------------------------------------------
 */

struct idset {
	uint64_t *ids;
	size_t n;
};

static int collect_id(void *arg, const void *key, size_t klen, const void *val,
		      size_t vlen)
{
	struct idset *s = arg;
	struct ival iv;

	(void)key;
	(void)klen;
	if (vlen != sizeof(iv))
		return 0;
	memcpy(&iv, val, sizeof(iv));
	s->ids = bfs_xrealloc(s->ids, (s->n + 1) * sizeof(*s->ids));
	s->ids[s->n++] = iv.id;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Remove files the index does not name and that are old enough not to
 * be a fetch in flight: leftovers of a crash or of a lost race.
 */
static void sweep_orphans(struct bc_priv *p)
{
	struct bfs_metadb_txn *txn;
	struct idset set = {0};
	time_t now = time(NULL);
	uint64_t last = 0;
	size_t removed = 0;
	int rc;

	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		return;
	rc = get_u64(txn, "sweep", &last);
	if (rc != 0 || (uint64_t)now < last + SWEEP_EVERY) {
		bfs_metadb_abort(txn);
		return;
	}
	rc = put_u64(txn, "sweep", (uint64_t)now);
	if (rc == 0)
		rc = bfs_metadb_scan(txn, BFS_METADB_BLOCKS, NULL, 0,
				     collect_id, &set);
	if (rc == 0)
		rc = bfs_metadb_commit(txn);
	else
		bfs_metadb_abort(txn);
	if (rc != 0)
		goto out;
	if (set.n > 1)
		qsort(set.ids, set.n, sizeof(*set.ids), cmp_u64);
	for (unsigned d = 0; d < 256; d++) {
		char *dir = bfs_xasprintf("%s/%02x", p->blocks_dir, d);
		DIR *dh = opendir(dir);
		struct dirent *e;

		while (dh && (e = readdir(dh)) != NULL) {
			char *path, *end;
			uint64_t id;
			struct stat st;

			if (e->d_name[0] == '.')
				continue;
			id = strtoull(e->d_name, &end, 16);
			if (strcmp(end, ".blk") == 0 && set.n > 0 &&
			    bsearch(&id, set.ids, set.n, sizeof(id), cmp_u64))
				continue;
			path = bfs_xasprintf("%s/%s", dir, e->d_name);
			if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    st.st_mtime + ORPHAN_AGE < now && unlink(path) == 0)
				removed++;
			free(path);
		}
		if (dh)
			closedir(dh);
		free(dir);
	}
	if (removed)
		bfs_log(LOG_INFO,
			"%s: removed %zu block files the cache index did not "
			"name",
			p->bucket, removed);
out:
	free(set.ids);
}

static void publish(struct bc_priv *p)
{
	struct bfs_blockcache_stats st;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	st = p->st;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (memcmp(&st, &p->published, sizeof(st)) == 0)
		return;
	{
		const struct bfs_stats_counter c[] = {
			{"hits", st.hits},
			{"misses", st.misses},
			{"prefetched", st.prefetched},
			{"bytes_served", st.bytes_served},
			{"bytes_fetched", st.bytes_fetched},
			{"evictions", st.evictions},
			{"evicted_bytes", st.evicted_bytes},
			{"corrupt", st.corrupt},
			{"errors", st.errors},
			{"bypassed", st.bypassed},
			{"ranged", st.ranged},
			{"pieces", st.pieces},
			{"piece_hits", st.piece_hits},
			{"limit", st.limit},
		};

		if (bfs_stats_publish(p->db, p->bucket, BFS_STATS_LAYER_BLOCKS,
				      p->started, c, BFS_ARRAY_SIZE(c)) == 0)
			p->published = st;
	}
}

/* About once a second on the index's tick thread. */
static void bc_tick(void *arg)
{
	struct bc_priv *p = arg;

	flush_touches(p);
	if (!p->housekept) {
		p->housekept = true;
		bfs_stats_prune(p->db);
		sweep_orphans(p);
	}
	publish(p);
}

static int bc_start(struct bfs_store *s)
{
	struct bc_priv *p = priv_of(s);
	struct bfs_metadb_txn *txn;
	char err[512];
	uint64_t total = 0;
	int rc;

	if (p->inner->start) {
		rc = p->inner->start(p->inner);
		if (rc != 0)
			return rc;
	}
	if (mkdir(p->cache_dir, 0700) != 0 && errno != EEXIST) {
		rc = errno;
		bfs_log(LOG_ERR, "cannot create cache dir '%s': %s",
			p->cache_dir, strerror(rc));
		return rc;
	}
	if (mkdir(p->blocks_dir, 0700) != 0 && errno != EEXIST) {
		rc = errno;
		bfs_log(LOG_ERR, "cannot create cache dir '%s': %s",
			p->blocks_dir, strerror(rc));
		return rc;
	}
	/* the 256 subdirectories now rather than on the first block each
	 * receives: a mkdir costs about as much as writing a block file */
	for (unsigned d = 0; d < 256; d++) {
		char *dir = bfs_xasprintf("%s/%02x", p->blocks_dir, d);
		bool made = mkdir(dir, 0700) == 0 || errno == EEXIST;

		free(dir);
		if (!made)
			break; /* admit() makes them as it goes */
	}
	p->db = bfs_metadb_open(p->meta_dir, err, sizeof(err));
	if (p->db == NULL) {
		rc = errno;
		bfs_log(LOG_ERR, "%s", err);
		return rc;
	}
	rc = bfs_metadb_begin(p->db, true, &txn);
	if (rc == 0) {
		rc = get_u64(txn, "bytes", &total);
		bfs_metadb_abort(txn);
	}
	p->limit = p->conf_size;
	if (rc == 0 && p->limit == 0) {
		struct statvfs vfs;

		if (statvfs(p->blocks_dir, &vfs) != 0) {
			rc = errno;
		} else {
			uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;

			p->limit = BFS_MIN((avail + total) / 10,
					   BFS_BLOCKCACHE_AUTO_MAX);
		}
	}
	if (rc == 0)
		rc = trim(p);
	if (rc == 0)
		rc = bfs_metadb_tick_add(p->db, bc_tick, p);
	if (rc != 0) {
		bfs_log(LOG_ERR, "cannot start the block cache in '%s': %s",
			p->blocks_dir, strerror(rc));
		bfs_metadb_close(p->db);
		p->db = NULL;
		return rc;
	}
	p->started = time(NULL);
	p->st.limit = p->limit;
	bfs_dbg(BFS_DBG_STORE,
		"%s: block cache in '%s', %llu-byte blocks, limit %llu bytes",
		p->bucket, p->blocks_dir, (unsigned long long)p->bs,
		(unsigned long long)p->limit);
	return 0;
}

/* Write what is pending and let go of the index; idempotent. */
static void stop(struct bc_priv *p)
{
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stopping = true;
	while (p->nbg > 0)
		BFS_PCHECK(pthread_cond_wait(&p->cond, &p->lock));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (p->db == NULL)
		return;
	bfs_metadb_tick_remove(p->db, bc_tick, p);
	bfs_metadb_close(p->db);
	p->db = NULL;
}

static void bc_shutdown(struct bfs_store *s)
{
	struct bc_priv *p = priv_of(s);

	stop(p);
	if (p->inner->shutdown)
		p->inner->shutdown(p->inner);
}

static void bc_destroy(struct bfs_store *s)
{
	struct bc_priv *p = priv_of(s);

	stop(p);
	p->inner->destroy(p->inner);
	for (size_t i = 0; i < p->hot_max; i++)
		if (p->hot[i].used)
			blk_put(p->hot[i].b);
	if (p->flights)
		BFS_BUG("block cache destroyed with fetches in flight");
	BFS_PCHECK(pthread_cond_destroy(&p->cond));
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p->hot);
	free(p->verified);
	pool_destroy(&p->blkpool);
	pool_destroy(&p->runpool);
	free(p->touches);
	free(p->cache_dir);
	free(p->bucket);
	free(p->blocks_dir);
	free(p->meta_dir);
	free((char *)p->store.name);
	free(p);
}

bool bfs_blockcache_is(const struct bfs_store *s)
{
	return bfs_store_is(s, BFS_STORE_KIND_BLOCKCACHE);
}

struct bfs_store *bfs_blockcache_create(const struct bfs_blockcache_conf *conf,
					struct bfs_store *inner)
{
	struct bc_priv *p;
	struct bfs_store *s;
	uint64_t bs =
		conf->block_size ? conf->block_size : BFS_BLOCKCACHE_BLOCK_SIZE;

	if (conf->cache_dir == NULL || conf->cache_dir[0] == '\0' ||
	    conf->bucket == NULL || conf->bucket[0] == '\0' || bs < 4096 ||
	    bs > (1u << 30) || inner == NULL) {
		errno = EINVAL;
		return NULL;
	}
	p = bfs_xcalloc(1, sizeof(*p));
	p->inner = inner;
	p->cache_dir = bfs_xstrdup(conf->cache_dir);
	p->bucket = bfs_xstrdup(conf->bucket);
	p->blocks_dir = bfs_xasprintf("%s/blocks", conf->cache_dir);
	p->meta_dir = bfs_xasprintf("%s/meta", conf->cache_dir);
	p->bs = bs;
	p->conf_size = conf->size;
	bucket_hash(conf->bucket, p->bucket_hash);
	p->hot_max = conf->hot_blocks ? conf->hot_blocks : HOT_DEFAULT;
	p->hot = bfs_xcalloc(p->hot_max, sizeof(*p->hot));
	p->verified = bfs_xcalloc(VERIFIED_SLOTS, sizeof(*p->verified));
	/* as many as the hot set holds at once, and a few runs */
	pool_init(&p->blkpool, sizeof(struct blk) + bs, POOL_BLOCKS);
	pool_init(&p->runpool, BFS_MAX(BFS_BLOCKCACHE_RUN_MAX, bs), POOL_RUNS);
	p->touches = bfs_xcalloc(TOUCH_MAX, sizeof(*p->touches));
	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&p->cond, NULL));

	s = &p->store;
	s->priv = p;
	s->name = bfs_xasprintf("%s+blocks", inner->name);
	s->kind = BFS_STORE_KIND_BLOCKCACHE;
	s->inner = inner;
	s->caps = inner->caps;
	s->start = bc_start;
	s->head = bc_head;
	s->get_range = bc_get_range;
	s->put = bc_put;
	s->del = bc_del;
	s->copy = bc_copy;
	s->list = bc_list;
	if (inner->mpu_begin) {
		s->mpu_begin = bc_mpu_begin;
		s->mpu_part = bc_mpu_part;
		s->mpu_complete = bc_mpu_complete;
		s->mpu_abort = bc_mpu_abort;
	}
	s->get_stats = bc_get_stats;
	s->shutdown = bc_shutdown;
	s->destroy = bc_destroy;
	return s;
}

/* ---- the cache dir, for `bucketfs cache` ------------------------------- */

/* Open the index of cache_dir only if it exists. */
static struct bfs_metadb *open_existing(const char *cache_dir, char *err,
					size_t errlen)
{
	char *meta = bfs_xasprintf("%s/meta/data.mdb", cache_dir);
	char *dir = bfs_xasprintf("%s/meta", cache_dir);
	struct bfs_metadb *db = NULL;
	struct stat st;

	if (stat(meta, &st) != 0) {
		snprintf(err, errlen, "no cache in '%s'", cache_dir);
		errno = ENOENT;
	} else {
		db = bfs_metadb_open(dir, err, errlen);
	}
	free(meta);
	free(dir);
	return db;
}

struct usage {
	uint64_t blocks, bytes;
};

static int add_usage(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	struct usage *u = arg;
	struct ival iv;

	(void)key;
	(void)klen;
	if (vlen != sizeof(iv))
		return 0;
	memcpy(&iv, val, sizeof(iv));
	u->blocks++;
	u->bytes += iv.file_len;
	return 0;
}

int bfs_blockcache_usage(const char *cache_dir, const char *bucket,
			 uint64_t *blocks, uint64_t *bytes,
			 uint64_t *total_bytes)
{
	struct bfs_metadb *db;
	struct bfs_metadb_txn *txn;
	struct usage u = {0};
	uint8_t bh[8];
	char err[512];
	int rc;

	*blocks = *bytes = *total_bytes = 0;
	db = open_existing(cache_dir, err, sizeof(err));
	if (db == NULL)
		return errno;
	if (bucket)
		bucket_hash(bucket, bh);
	rc = bfs_metadb_begin(db, true, &txn);
	if (rc == 0) {
		rc = bfs_metadb_scan(txn, BFS_METADB_BLOCKS, bh,
				     bucket ? sizeof(bh) : 0, add_usage, &u);
		if (rc == 0)
			rc = get_u64(txn, "bytes", total_bytes);
		bfs_metadb_abort(txn);
	}
	bfs_metadb_close(db);
	*blocks = u.blocks;
	*bytes = u.bytes;
	return rc;
}

struct dropped {
	struct ival *ivs;
	size_t n;
};

static int collect_drop(void *arg, const void *key, size_t klen,
			const void *val, size_t vlen)
{
	struct dropped *d = arg;

	(void)key;
	(void)klen;
	if (vlen != sizeof(struct ival))
		return 0;
	d->ivs = bfs_xrealloc(d->ivs, (d->n + 1) * sizeof(*d->ivs));
	memcpy(&d->ivs[d->n++], val, sizeof(struct ival));
	return 0;
}

/* Remove every file under blocks/ (clearing the whole cache). */
static void remove_all_files(const char *blocks_dir)
{
	for (unsigned d = 0; d < 256; d++) {
		char *dir = bfs_xasprintf("%s/%02x", blocks_dir, d);
		DIR *dh = opendir(dir);
		struct dirent *e;

		while (dh && (e = readdir(dh)) != NULL) {
			char *path;

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			path = bfs_xasprintf("%s/%s", dir, e->d_name);
			unlink(path);
			free(path);
		}
		if (dh)
			closedir(dh);
		free(dir);
	}
}

int bfs_blockcache_clear(const char *cache_dir, const char *bucket,
			 uint64_t *blocks, uint64_t *bytes, char *err,
			 size_t errlen)
{
	char *blocks_dir = bfs_xasprintf("%s/blocks", cache_dir);
	struct bfs_metadb_txn *txn = NULL;
	struct bfs_metadb *db;
	struct dropped d = {0};
	uint64_t total = 0, freed = 0;
	uint8_t bh[8];
	int rc;

	if (blocks)
		*blocks = 0;
	if (bytes)
		*bytes = 0;
	db = open_existing(cache_dir, err, errlen);
	if (db == NULL) {
		rc = errno;
		goto out;
	}
	if (bucket)
		bucket_hash(bucket, bh);
	rc = bfs_metadb_begin(db, false, &txn);
	if (rc == 0)
		rc = bfs_metadb_del_prefix(txn, BFS_METADB_BLOCKS, bh,
					   bucket ? sizeof(bh) : 0,
					   collect_drop, &d, NULL);
	if (rc == 0)
		rc = get_u64(txn, "bytes", &total);
	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		uint8_t lkey[LKEY_LEN];

		make_lkey(d.ivs[i].atime, d.ivs[i].id, lkey);
		rc = bfs_metadb_del(txn, BFS_METADB_LRU, lkey, LKEY_LEN);
		if (rc == ENOENT)
			rc = 0;
		freed += d.ivs[i].file_len;
	}
	if (rc == 0 && bucket == NULL)
		rc = bfs_metadb_del_prefix(txn, BFS_METADB_LRU, NULL, 0, NULL,
					   NULL, NULL);
	if (rc == 0)
		rc = put_u64(txn, "bytes",
			     bucket && total > freed ? total - freed : 0);
	if (rc == 0) {
		rc = bfs_metadb_commit(txn);
		txn = NULL;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot clear the cache in '%s': %s",
			 cache_dir, strerror(rc));
		goto out;
	}
	if (bucket == NULL) {
		remove_all_files(blocks_dir);
	} else {
		for (size_t i = 0; i < d.n; i++) {
			char *path = block_path(blocks_dir, d.ivs[i].id);

			unlink(path);
			free(path);
		}
	}
	if (blocks)
		*blocks = d.n;
	if (bytes)
		*bytes = freed;
out:
	bfs_metadb_abort(txn);
	bfs_metadb_close(db);
	free(d.ivs);
	free(blocks_dir);
	return rc;
}
