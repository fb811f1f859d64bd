/*
 * blockcache.c - the block cache store (see blockcache.h,
 * blockcache_priv.h): its small shared helpers (buffer pool, block
 * references, keys) and the store operations: get_range through the
 * blocks, prefetch, and the operations passed to the inner store.
 */
#include "compat.h"

#include "cache/blockcache_priv.h"

struct bc_priv *bc_priv_of(const struct bfs_store *s)
{
	return s->priv;
}

uint64_t now_ns(void)
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

uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void bucket_hash(const char *bucket, uint8_t out[8])
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

void make_ikey(const struct bc_priv *p, const struct obj *o, uint64_t block,
	       uint8_t *ikey)
{
	memcpy(ikey, p->bucket_hash, 8);
	memcpy(ikey + 8, o->ver_hash, 24);
	put_be64(ikey + 32, block);
}

void make_lkey(uint64_t atime, uint64_t id, uint8_t *lkey)
{
	put_be64(lkey, atime);
	put_be64(lkey + 8, id);
}

char *block_path(const char *blocks_dir, uint64_t id)
{
	return bfs_xasprintf("%s/%02x/%016" PRIx64 ".blk", blocks_dir,
			     (unsigned)(id & 0xff), id);
}

void pool_init(struct bufpool *bp, size_t size, unsigned max)
{
	BFS_PCHECK(pthread_mutex_init(&bp->lock, NULL));
	bp->size = size;
	bp->max = max;
	bp->n = 0;
	bp->free = bfs_xcalloc(max, sizeof(*bp->free));
}

void pool_destroy(struct bufpool *bp)
{
	for (unsigned i = 0; i < bp->n; i++)
		free(bp->free[i]);
	free(bp->free);
	BFS_PCHECK(pthread_mutex_destroy(&bp->lock));
}

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
	bp->gets++;
	if (bp->n > 0)
		buf = bp->free[--bp->n];
	BFS_PCHECK(pthread_mutex_unlock(&bp->lock));
	return buf ? buf : buf_alloc(bp->size);
}

/*
 * Called once a tick: a pool not used for POOL_IDLE_TICKS ticks gives
 * its idle buffers back, so that a burst of reads does not keep its
 * peak memory for the life of the mount. @return how many it freed.
 */
unsigned pool_trim(struct bufpool *bp)
{
	unsigned n = 0;
	bool trim;

	BFS_PCHECK(pthread_mutex_lock(&bp->lock));
	if (bp->gets != bp->gets_seen) {
		bp->gets_seen = bp->gets;
		bp->idle = 0;
	}
	trim = ++bp->idle >= POOL_IDLE_TICKS;
	BFS_PCHECK(pthread_mutex_unlock(&bp->lock));
	/* one at a time: freeing maps nothing back under the lock */
	while (trim) {
		void *buf = NULL;

		BFS_PCHECK(pthread_mutex_lock(&bp->lock));
		if (bp->gets == bp->gets_seen && bp->n > 0)
			buf = bp->free[--bp->n];
		BFS_PCHECK(pthread_mutex_unlock(&bp->lock));
		if (buf == NULL)
			break;
		free(buf);
		n++;
	}
	return n;
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
struct blk *blk_new(struct bufpool *bp)
{
	struct blk *b = pool_get(bp);

	b->refs = 1;
	b->len = 0;
	b->pool = bp;
	return b;
}

struct blk *blk_ref(struct blk *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void blk_put(struct blk *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		pool_put(b->pool, b);
}

/* A cache I/O failure: counted, logged now and then; never fatal. */
void cache_error(struct bc_priv *p, const char *what, int rc)
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

/* ---- store operations -----------------------------------------------------
 */

/* get_range, and get_range_parts with parts. */
static int bc_read(struct bfs_store *s, const char *key, uint64_t off,
		   size_t len, void *buf, size_t *got, const char *if_match,
		   struct bfs_file_parts *parts)
{
	struct bc_priv *p = bc_priv_of(s);
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
			.parts = parts,
			.at = done,
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

int bc_get_range(struct bfs_store *s, const char *key, uint64_t off, size_t len,
		 void *buf, size_t *got, const char *if_match)
{
	return bc_read(s, key, off, len, buf, got, if_match, NULL);
}

int bc_get_range_parts(struct bfs_store *s, const char *key, uint64_t off,
		       size_t len, void *buf, size_t *got, const char *if_match,
		       struct bfs_file_parts *parts)
{
	return bc_read(s, key, off, len, buf, got, if_match, parts);
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

/* A run being fetched: blocks [first, first + n) into buf, claimed by
 * the flights fl; the first `landed` of them are landed already. buf
 * holds block `base` on (a fetch again after a ring failed starts at the
 * first block not landed), or is a ring of `ring` bytes. */
struct run {
	struct bc_priv *p;
	const struct obj *o;
	uint64_t first, n, landed;
	struct flight **fl;
	const uint8_t *buf;
	uint64_t base;
	size_t ring;
};

/* The bytes of block i of run r in its buffer. */
static const uint8_t *run_block(const struct run *r, uint64_t i)
{
	size_t at = (size_t)((i - r->base) * r->p->bs);

	return r->buf + (r->ring ? at % r->ring : at);
}

/* Land block i of run r with result brc and its len bytes: admit it,
 * keep it in memory for a reader waiting, wake the waiters. */
static void land_block(struct run *r, uint64_t i, int brc, size_t len)
{
	struct bc_priv *p = r->p;
	const uint8_t *data = run_block(r, i);
	uint8_t ikey[IKEY_LEN];
	struct blk *b = NULL;
	uint64_t id = 0;
	bool keep;

	make_ikey(p, r->o, r->first + i, ikey);
	if (brc == 0 && len > 0)
		id = admit(p, r->o, r->first + i, ikey, data, len);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	/* a reader waiting for it reads it from its file, whose pages are
	 * in memory now: the FUSE layer sends them on without a copy in
	 * the daemon (src/fs/read_reply.c), where a copy kept here cost
	 * two (into it, out of it). Kept in memory: a block that could not
	 * be stored, or is empty (past the end: nothing to store), and one
	 * with a reader in a cache too small to be sure it is still there
	 * when the reader looks. */
	keep = id == 0 ||
	       (r->fl[i]->waiters > 0 && p->limit < SMALL_CACHE_BYTES);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (brc == 0 && keep) {
		b = blk_new(&p->blkpool);
		memcpy(b->data, data, len);
		b->len = len;
	}
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (brc == 0) {
		p->st.prefetched++;
		p->st.bytes_fetched += len;
	}
	flight_land(p, r->fl[i], brc, b);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	blk_put(b);
}

/* bfs_range_sink.landed: each block of the run whose bytes are all in
 * lands now, while the rest is still on its way. A reader waiting for
 * the first block of an 8 MiB run behind 100 MiB/s waited 80 ms for the
 * run's end; the reader, and the window that slides with it, now
 * follow the bytes. */
static void run_landed(void *arg, size_t n)
{
	struct run *r = arg;

	while (r->landed < r->n && (r->landed + 1 - r->base) * r->p->bs <= n) {
		land_block(r, r->landed, 0, r->p->bs);
		r->landed++;
	}
}

/*
 * One get_range of blocks [r->base, r->n) of run r into buf (a ring of
 * r->ring bytes, or all of them), landing each as the store below tells
 * its bytes when it can (get_range_sink). @return its result and *got.
 */
static int fetch_into(struct run *r, uint8_t *buf, size_t *got)
{
	struct bc_priv *p = r->p;
	struct bfs_store *in = p->inner;
	size_t want = (size_t)((r->n - r->base) * p->bs);
	struct bfs_range_sink sink = {
		.landed = run_landed, .arg = r, .step = p->bs, .ring = r->ring};

	r->buf = buf;
	*got = 0;
	if (in->get_range_sink)
		return in->get_range_sink(in, r->o->key,
					  (r->first + r->base) * p->bs, want,
					  buf, got, r->o->etag, &sink);
	return in->get_range(in, r->o->key, (r->first + r->base) * p->bs, want,
			     buf, got, r->o->etag);
}

/* The pool of a run's buffer of want bytes (NULL: one of its own). */
static struct bufpool *run_pool(struct bc_priv *p, size_t want, bool ring)
{
	if (ring || want <= p->ringpool.size)
		return &p->ringpool;
	return want <= p->runpool.size ? &p->runpool : NULL;
}

/*
 * Fetch the blocks of run r with one get_range; admit each, keep what
 * fits in memory for the reader, land the flights: as their bytes come
 * when the store below can tell (get_range_sink), else at the end. A
 * block that starts past the data fetched lands with ERANGE (one that
 * starts exactly at the end: empty).
 *
 * A run of more than RING_BLOCKS blocks goes through a ring of that
 * many (the sink lands a block before its room is needed again): the
 * memory a cold read touches is 2 MiB a run, not 8. Fresh pages cost
 * the kernel a zeroing each, and on a new mount's first read that was
 * 9-18% of the daemon's CPU. A server whose answers cannot be told as
 * they come (ENOBUFS) gets the rest asked again into a whole buffer,
 * and no ring from then on.
 * @return the result for the first block.
 */
static int fetch_run(struct run *r)
{
	struct bc_priv *p = r->p;
	size_t want = (size_t)(r->n * p->bs), got = 0;
	bool ring = want > p->ringpool.size && p->inner->get_range_sink &&
		    !atomic_load_explicit(&p->ring_off, memory_order_relaxed);
	struct bufpool *pool = run_pool(p, want, ring);
	uint8_t *buf = pool ? pool_get(pool) : bfs_xmalloc(want);
	int rc, rc0 = 0;

	r->ring = ring ? p->ringpool.size : 0;
	rc = fetch_into(r, buf, &got);
	if (rc == ENOBUFS && ring) {
		bfs_log(LOG_INFO,
			"%s: the server's answers to ranged reads cannot be "
			"used as they come: runs are fetched whole from now on",
			p->bucket);
		atomic_store_explicit(&p->ring_off, true, memory_order_relaxed);
		pool_put(pool, buf);
		r->base = r->landed;
		r->ring = 0;
		want = (size_t)((r->n - r->base) * p->bs);
		pool = run_pool(p, want, false);
		buf = pool ? pool_get(pool) : bfs_xmalloc(want);
		rc = fetch_into(r, buf, &got);
	}
	for (uint64_t i = r->landed; i < r->n; i++) {
		uint64_t boff = (i - r->base) * p->bs;
		size_t len = 0;
		int brc = rc;

		if (brc == 0 && boff > got)
			brc = ERANGE;
		if (brc == 0)
			len = BFS_MIN(p->bs, got - boff);
		land_block(r, i, brc, len);
		if (i == 0)
			rc0 = brc;
	}
	if (pool)
		pool_put(pool, buf);
	else
		free(buf);
	return rc0;
}

int bfs_blockcache_prefetch(struct bfs_store *s, const char *key,
			    const char *etag, uint64_t first, uint64_t n)
{
	struct bc_priv *p = bc_priv_of(s);
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
		rrc = fetch_run(&(struct run){
			.p = p, .o = &o, .first = b - run, .n = run, .fl = fl});
		if (rc == 0 && b - run == first)
			rc = rrc;
		else if (rc == 0 && rrc != 0 && rrc != ERANGE)
			rc = rrc;
		run = 0;
	}
	free(fl);
	return rc;
}

/* bfs_store.warm: the blocks that hold [off, off + len). */
int bc_warm(struct bfs_store *s, const char *key, const char *etag,
	    uint64_t off, uint64_t len)
{
	uint64_t bs = bc_priv_of(s)->bs;

	if (len == 0)
		return EINVAL;
	return bfs_blockcache_prefetch(s, key, etag, off / bs,
				       (off + len - 1) / bs - off / bs + 1);
}

/* Whether ikey (a block or a piece) is in memory or indexed. */
static bool held(struct bc_priv *p, const uint8_t *ikey)
{
	struct bfs_metadb_txn *txn;
	struct ival iv;
	bool have;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	have = hot_find(p, ikey) != NULL;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (have || bfs_metadb_begin(p->db, true, &txn) != 0)
		return have;
	have = get_ival(txn, ikey, &iv) == 0;
	bfs_metadb_abort(txn);
	return have;
}

/* Whether block 0 of o, or its first piece, is in memory or indexed. */
static bool have_first(struct bc_priv *p, const struct obj *o)
{
	uint8_t ikey[IKEY_LEN];

	make_ikey(p, o, 0, ikey);
	if (held(p, ikey))
		return true;
	make_ikey(p, o, piece_no(p, 0, 0), ikey);
	return held(p, ikey);
}

bool bfs_blockcache_holds(struct bfs_store *s, const char *key,
			  const char *etag, uint64_t off, uint64_t len)
{
	struct bc_priv *p = bc_priv_of(s);
	uint8_t ikey[IKEY_LEN];
	uint64_t pos = off;
	struct obj o;

	if (p->db == NULL || len == 0)
		return false;
	obj_init(&o, p->bucket, key, etag);
	while (pos < off + len) {
		uint64_t block = pos / p->bs;
		uint64_t end = BFS_MIN((block + 1) * p->bs, off + len);

		make_ikey(p, &o, block, ikey);
		if (!held(p, ikey)) {
			if (!pieces_on(p))
				return false;
			for (uint64_t i = pos % p->bs / PIECE;
			     block * p->bs + i * PIECE < end; i++) {
				make_ikey(p, &o, piece_no(p, block, i), ikey);
				if (!held(p, ikey))
					return false;
			}
		}
		pos = end;
	}
	return true;
}

/* Whether key is a file its readers read from the end first: a Parquet
 * file (its footer). */
static bool read_from_end(const char *key)
{
	size_t n = strlen(key);

	return n > 8 && strcasecmp(key + n - 8, ".parquet") == 0;
}

/*
 * The head of a file read from its end (read_from_end): one GET of its
 * last BFS_BLOCKCACHE_TAIL bytes and a piece answers the head, and they
 * are kept as pieces, so the reader's first reads (a Parquet trailer and
 * footer) cost no request of their own. They are admitted before the
 * head returns (~9 small files, no sync): the read comes at once, and
 * the prefetcher's tail fetch looks for them (bfs_blockcache_holds).
 */
static int head_tail(struct bc_priv *p, const char *key,
		     struct bfs_obj_info *out)
{
	size_t n = BFS_BLOCKCACHE_TAIL + PIECE, k = 0;
	uint8_t *buf = bfs_xmalloc(n);
	struct obj o;
	int rc;

	rc = p->inner->tail_read(p->inner, key, out, buf, n, &k);
	if (rc == 0 && k > 0 && k <= out->size && out->etag[0]) {
		obj_init(&o, p->bucket, key, out->etag);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->st.bytes_fetched += k;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		admit_span(p, &o, out->size - k, buf, k);
	}
	free(buf);
	return rc;
}

/*
 * bfs_store.head_read: the head of an open or a lookup brings the pieces
 * a small first read at offset 0 touches (bs / SMALL_DIV bytes) with the
 * same request; they are kept as the pieces of block 0 of the version
 * the answer describes, so that read costs no request of its own. A
 * file opened and not read costs those bytes, not a request. When the
 * caller knew a version (known) whose first bytes are here, a plain
 * HEAD: a re-open after attr_ttl fetches nothing twice. A file read
 * from its end brings its last bytes instead (head_tail); when the
 * caller knew a version of it, a plain HEAD (the version's size, which
 * says where its tail is, is not known here).
 */
int bc_head_read(struct bfs_store *s, const char *key, const char *known,
		 struct bfs_obj_info *out, void *buf, size_t len, size_t *got)
{
	struct bc_priv *p = bc_priv_of(s);
	size_t n = BFS_MAX((size_t)PIECE, p->bs / SMALL_DIV / PIECE * PIECE);
	size_t k = 0;
	struct blk *b;
	struct obj o;
	int rc;

	if (got)
		*got = 0;
	if (p->db == NULL || !pieces_on(p))
		return bfs_store_head_read(p->inner, key, known, out, buf, len,
					   got);
	if (buf == NULL && p->inner->tail_read && read_from_end(key))
		return known ? p->inner->head(p->inner, key, out)
			     : head_tail(p, key, out);
	if (p->inner->head_read == NULL)
		return p->inner->head(p->inner, key, out);
	if (known) {
		/* the version last seen is likely still current: its
		 * first bytes here need no second fetch, only a HEAD */
		obj_init(&o, p->bucket, key, known);
		if (have_first(p, &o))
			return p->inner->head(p->inner, key, out);
	}
	b = blk_new(&p->blkpool);
	rc = p->inner->head_read(p->inner, key, NULL, out, b->data, n, &k);
	if (rc == 0 && k > 0 && out->etag[0]) {
		obj_init(&o, p->bucket, key, out->etag);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->st.bytes_fetched += k;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		keep_pieces(p, &o, 0, 0, b, k);
	}
	if (rc == 0 && buf && got) {
		*got = BFS_MIN(len, k);
		memcpy(buf, b->data, *got);
	}
	blk_put(b);
	return rc;
}

void bfs_blockcache_get_stats(struct bfs_store *s,
			      struct bfs_blockcache_stats *out)
{
	struct bc_priv *p = bc_priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	*out = p->st;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

void bfs_blockcache_drain(struct bfs_store *s)
{
	struct bc_priv *p = bc_priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	while (p->nbg > 0)
		BFS_PCHECK(pthread_cond_wait(&p->cond, &p->lock));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

uint64_t bfs_blockcache_block_size(const struct bfs_store *s)
{
	return bc_priv_of(s)->bs;
}
