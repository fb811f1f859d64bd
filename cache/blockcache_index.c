/*
 * blockcache_index.c - the block cache's LMDB tables (described in
 * blockcache_priv.h): index entries, the byte total, eviction in LRU
 * order and admission of new blocks.
 */
#include "compat.h"

#include "cache/blockcache_priv.h"

/* ---- the index ----------------------------------------------------------- */

int get_ival(struct bfs_metadb_txn *txn, const uint8_t *ikey, struct ival *iv)
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
void drop_block(struct bc_priv *p, const uint8_t *ikey, uint64_t id)
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
		rc = bfs_metadb_get_u64(txn, "bytes", &total);
		if (rc == 0)
			rc = unindex(txn, ikey, &iv, &total);
		if (rc == 0)
			rc = bfs_metadb_put_u64(txn, "bytes", total);
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
int trim(struct bc_priv *p)
{
	struct bfs_metadb_txn *txn;
	struct victims v = {0};
	uint64_t total;
	int rc;

	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		return rc;
	rc = bfs_metadb_get_u64(txn, "bytes", &total);
	if (rc == 0)
		rc = evict(p, txn, 0, &total, &v);
	if (rc == 0)
		rc = bfs_metadb_put_u64(txn, "bytes", total);
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
 * least recently used blocks until it fits and index it; the file is
 * remembered as verified (struct verified).
 * @return the file id, or 0 if the block is not cached.
 */
uint64_t admit(struct bc_priv *p, const struct obj *o, uint64_t block,
	       const uint8_t *ikey, const uint8_t *data, size_t len)
{
	struct bfs_blockfile_id bid;
	struct bfs_blockfile made;
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
	rc = bfs_blockfile_write(path, &bid, data, len, &made);
	if (rc == ENOENT) {
		char *dir = bfs_xasprintf("%s/%02x", p->blocks_dir,
					  (unsigned)(id & 0xff));

		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			rc = bfs_blockfile_write(path, &bid, data, len, &made);
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
	rc = bfs_metadb_get_u64(txn, "bytes", &total);
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
		rc = bfs_metadb_put_u64(txn, "bytes", total + file_len);
	if (rc != 0)
		goto fail_index;
	rc = bfs_metadb_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail_index;
	bury(p, &v);
	/* its data was checksummed from data: its first read need not
	 * read it whole and check it again */
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	verified_add(p, id, &made, iv.atime, true);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
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
