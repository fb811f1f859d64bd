/*
 * blockcache_mem.c - what the block cache keeps in memory: hot
 * blocks, recently verified files, fetches in flight and access notes
 * written by the tick.
 */
#include "compat.h"

#include "cache/blockcache_priv.h"

/* ---- memory: hot blocks, fetches in flight, access notes ------------------
 */

/* The hot entry for ikey, or NULL; lock held. */
struct hot *hot_find(struct bc_priv *p, const uint8_t *ikey)
{
	for (size_t i = 0; i < p->hot_max; i++)
		if (p->hot[i].used &&
		    memcmp(p->hot[i].ikey, ikey, IKEY_LEN) == 0)
			return &p->hot[i];
	return NULL;
}

/* Keep b (a reference is taken) as hot; lock held. */
void hot_insert(struct bc_priv *p, const uint8_t *ikey, struct blk *b,
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
struct verified *verified_find(struct bc_priv *p, uint64_t id,
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
 * held. A file read back (own false) only once the coarse clock (the
 * one the kernel stamps files with) has moved past the file's change
 * time: a write into the file after this point then gives it a later
 * ctime, so the entry no longer matches. A file changed within the
 * clock tick it was stamped in could keep its times; such a file is not
 * remembered, and is verified on each read until its stamp is in the
 * past. A file this instance wrote (own: bf from bfs_blockfile_write())
 * at once: its mtime is one no later write can leave.
 */
void verified_add(struct bc_priv *p, uint64_t id,
		  const struct bfs_blockfile *bf, uint64_t atime, bool own)
{
	struct verified *v = verified_slot(p, id);

	if (!own && coarse_now_ns() <= BFS_MAX(bf->mtime_ns, bf->ctime_ns))
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
void verified_forget(struct bc_priv *p, uint64_t id)
{
	struct verified *v = verified_slot(p, id);

	if (v->id == id)
		memset(v, 0, sizeof(*v));
}

/*
 * Note an access to an indexed block; lock held.
 * @return true when the notes are full and must be written now.
 */
bool touch_note(struct bc_priv *p, const uint8_t *ikey, uint64_t id,
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
void flush_touches(struct bc_priv *p)
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
