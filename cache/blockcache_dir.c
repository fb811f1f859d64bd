/*
 * blockcache_dir.c - the block cache dir for `bucketfs cache`:
 * usage per bucket and clearing it.
 */
#include "compat.h"

#include "cache/blockcache_priv.h"

/* ---- the cache dir, for `bucketfs cache` ------------------------------- */

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
	db = bfs_metadb_open_existing(cache_dir, err, sizeof(err));
	if (db == NULL)
		return errno;
	if (bucket)
		bucket_hash(bucket, bh);
	rc = bfs_metadb_begin(db, true, &txn);
	if (rc == 0) {
		rc = bfs_metadb_scan(txn, BFS_METADB_BLOCKS, bh,
				     bucket ? sizeof(bh) : 0, add_usage, &u);
		if (rc == 0)
			rc = bfs_metadb_get_u64(txn, "bytes", total_bytes);
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
	db = bfs_metadb_open_existing(cache_dir, err, errlen);
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
		rc = bfs_metadb_get_u64(txn, "bytes", &total);
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
		rc = bfs_metadb_put_u64(txn, "bytes",
					bucket && total > freed ? total - freed
								: 0);
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
