/*
 * blockcache_block.c - one block of the block cache: served from
 * memory or its file, or fetched from the inner store (one fetch per
 * block at a time, small reads in pieces, background admission).
 */
#include "compat.h"

#include "cache/blockcache_priv.h"
#include "cancel.h"

static void admit_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
			 uint64_t first, const uint8_t *data, size_t got);

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
 * verified or wrote before, unchanged since (struct verified), has its header
 * checked and only the wanted bytes read; any other file is read whole
 * and its data checksum checked, and *out receives the block (for the
 * hot set). With w NULL (prefetch) only the index is asked. *flush is
 * set when the access notes must be written now.
 * @return 0, or ENOENT (not indexed, or damaged and dropped: fetch it).
 */
int from_disk(struct bc_priv *p, const struct obj *o, uint64_t block,
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

			if (n > 0 && w->parts &&
			    w->parts->n < BFS_FILE_PARTS_MAX) {
				/* left in the file for the caller to splice:
				 * the file is never changed in place, and
				 * its identity is the one verified */
				w->parts->v[w->parts->n++] =
					(struct bfs_file_part){
						.fd = bf.fd,
						.off = bf.hdr_size + w->boff,
						.at = w->at,
						.len = n,
					};
				bf.fd = -1;
			} else {
				rc = bfs_blockfile_pread(&bf, w->dst, n,
							 w->boff, why,
							 sizeof(why));
			}
			if (rc == 0)
				w->got = n;
		}
	} else {
		b = blk_new(&p->blkpool);
		rc = bfs_blockfile_verify(&bf, b->data, why, sizeof(why));
		if (rc == 0) {
			b->len = bf.len;
			BFS_PCHECK(pthread_mutex_lock(&p->lock));
			p->st.checked++;
			verified_add(p, iv->id, &bf, iv->atime, false);
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
struct flight *flight_find(struct bc_priv *p, const uint8_t *ikey)
{
	struct flight *f;

	for (f = p->flights; f; f = f->next)
		if (memcmp(f->ikey, ikey, IKEY_LEN) == 0)
			break;
	return f;
}

/*
 * Wait (p->lock held) until flight f lands, a slice at a time so that a
 * reader whose call was interrupted (cancel.h) stops waiting for a fetch
 * someone else leads. @return 0, or EINTR with f not landed (its leader
 * frees it if no waiter is left).
 */
static int flight_wait(struct bc_priv *p, struct flight *f)
{
	while (!f->done) {
		struct timespec until;
		int rc;

		if (bfs_cancel_requested())
			return EINTR;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		rc = pthread_cond_timedwait(&p->cond, &p->lock, &until);
		if (rc != 0 && rc != ETIMEDOUT)
			BFS_PCHECK(rc);
	}
	return 0;
}

/* Finish a flight with rc and b (not consumed); lock held. */
void flight_land(struct bc_priv *p, struct flight *f, int rc, struct blk *b)
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

bool pieces_on(const struct bc_priv *p)
{
	return p->bs % PIECE == 0 && p->bs >= 2 * PIECE;
}

uint64_t piece_no(const struct bc_priv *p, uint64_t block, uint64_t i)
{
	return PIECE_TAG | (block * (p->bs / PIECE) + i);
}

/*
 * Put the got bytes at data, the pieces of block from first on, in the
 * hot set: the next read of them, often at once, finds them there while
 * they are being admitted (no flight guards a piece: it would otherwise
 * be fetched again).
 */
static void hot_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
		       uint64_t first, const uint8_t *data, size_t got)
{
	uint8_t ikey[IKEY_LEN];
	uint64_t atime = now_ns();

	for (uint64_t i = first; (i - first) * PIECE < got; i++) {
		size_t at = (size_t)(i - first) * PIECE;
		struct blk *pb = blk_new(&p->blkpool);

		pb->len = BFS_MIN((size_t)PIECE, got - at);
		memcpy(pb->data, data + at, pb->len);
		make_ikey(p, o, piece_no(p, block, i), ikey);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		hot_insert(p, ikey, pb, 0, atime);
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		blk_put(pb);
	}
}

/*
 * Serve w from the pieces of block that are here (in memory or indexed):
 * true when they hold all of it (or up to the object's end); false when
 * one is missing or unreadable, w's buffer maybe holding some of them.
 */
static bool pieces_hit(struct bc_priv *p, const struct obj *o, uint64_t block,
		       struct want *w)
{
	size_t n = BFS_MIN(w->len, p->bs - w->boff), done = 0;
	uint64_t first = w->boff / PIECE, last = (w->boff + n - 1) / PIECE;
	uint8_t ikey[IKEY_LEN];
	struct blk *b = NULL;
	struct hot *h;
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
		/* just fetched, maybe not admitted yet (a Parquet reader
		 * reads the footer's length, then the footer: one piece) */
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		h = hot_find(p, ikey);
		if (h) {
			b = blk_ref(h->b);
			h->last = ++p->hot_clock;
		}
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		rc = b ? 0
		       : from_disk(p, o, piece_no(p, block, i), ikey, &pw, &b,
				   &iv, &flush);
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
			return true;
		}
	}
	return false;
}

void admit_span(struct bc_priv *p, const struct obj *o, uint64_t off,
		const uint8_t *data, size_t len)
{
	uint64_t pos = (off + PIECE - 1) / PIECE * PIECE;

	while (pos < off + len) {
		uint64_t block = pos / p->bs;
		size_t n =
			(size_t)(BFS_MIN((block + 1) * p->bs, off + len) - pos);

		admit_pieces(p, o, block, pos % p->bs / PIECE,
			     data + (pos - off), n);
		pos += n;
	}
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
	size_t n = BFS_MIN(w->len, p->bs - w->boff), got = 0, glen;
	uint64_t first = w->boff / PIECE, last = (w->boff + n - 1) / PIECE;
	struct blk *b = NULL;
	size_t skip;
	int rc;

	if (pieces_hit(p, o, block, w))
		return 0;
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
	keep_pieces(p, o, block, first, b, got);
out:
	blk_put(b);
	return rc;
}

void keep_pieces(struct bc_priv *p, const struct obj *o, uint64_t block,
		 uint64_t first, struct blk *b, size_t got)
{
	struct bg *g;

	hot_pieces(p, o, block, first, b->data, got);
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
int get_block(struct bc_priv *p, const struct obj *o, uint64_t block,
	      struct want *w)
{
	uint8_t ikey[IKEY_LEN];
	struct flight *f;
	struct blk *b = NULL;
	struct ival iv;
	struct hot *h;
	bool flush = false, joined_failed = false, pieces_tried = false;
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
			if (flight_wait(p, f) == EINTR) {
				f->waiters--;
				BFS_PCHECK(pthread_mutex_unlock(&p->lock));
				return EINTR;
			}
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
			 * not this read's answer, so it tries once itself;
			 * nor is the interrupt of another reader's call.
			 */
			if ((rc == ETIMEDOUT || rc == EIO || rc == EINTR) &&
			    !joined_failed) {
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
		if (rc != 0 && w && !w->small && !pieces_tried &&
		    pieces_on(p)) {
			/* a larger read of pieces a head kept (a Parquet
			 * footer of more than a small read: bc_head_read's
			 * tail); a small one is served by them below */
			pieces_tried = true;
			if (pieces_hit(p, o, block, w))
				return 0;
		}
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
