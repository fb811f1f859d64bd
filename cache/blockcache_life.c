/*
 * blockcache_life.c - housekeeping and life cycle of the block
 * cache: the tick (access notes, orphan sweep, stats), start, shutdown,
 * destroy and create.
 */
#include "compat.h"

#include "cache/blockcache_priv.h"

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
	rc = bfs_metadb_get_u64(txn, "sweep", &last);
	if (rc != 0 || (uint64_t)now < last + SWEEP_EVERY) {
		bfs_metadb_abort(txn);
		return;
	}
	rc = bfs_metadb_put_u64(txn, "sweep", (uint64_t)now);
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

/* The stats record, when it would say something new (stats.h). */
static void publish(struct bc_priv *p)
{
	struct bfs_blockcache_stats st;
	struct bfs_stats_state ss;

	/* the ask first: the counters that answer it are taken after it */
	ss.answered = bfs_stats_asked(p->db);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	st = p->st;
	ss.pending = p->nbg;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (p->announced && memcmp(&st, &p->published, sizeof(st)) == 0 &&
	    memcmp(&ss, &p->published_state, sizeof(ss)) == 0)
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
			{"checked", st.checked},
			{"limit", st.limit},
		};

		if (bfs_stats_publish(p->db, p->bucket, BFS_STATS_LAYER_BLOCKS,
				      p->started, &ss, c,
				      BFS_ARRAY_SIZE(c)) == 0) {
			p->published = st;
			p->published_state = ss;
			p->announced = true;
		}
	}
}

static void announce(void *arg)
{
	publish(arg);
}

/* About once a second on the index's tick thread. */
static void bc_tick(void *arg)
{
	struct bc_priv *p = arg;

	flush_touches(p);
	pool_trim(&p->runpool);
	pool_trim(&p->ringpool);
	pool_trim(&p->blkpool);
	if (!p->housekept) {
		p->housekept = true;
		bfs_stats_prune(p->db);
		sweep_orphans(p);
	}
	publish(p);
}

static int bc_start(struct bfs_store *s)
{
	struct bc_priv *p = bc_priv_of(s);
	struct bfs_metadb_txn *txn;
	char err[512];
	uint64_t total = 0;
	int rc;

	rc = bfs_store_start_inner(s);
	if (rc != 0)
		return rc;
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
		rc = bfs_metadb_get_u64(txn, "bytes", &total);
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
	/* a record from the start, so a reader that asks knows this daemon */
	bfs_metadb_tick_run(p->db, announce, p);
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
	bfs_metadb_detach(&p->db, bc_tick, p);
}

static void bc_shutdown(struct bfs_store *s)
{
	struct bc_priv *p = bc_priv_of(s);

	stop(p);
	bfs_store_shutdown_inner(s);
}

static void bc_destroy(struct bfs_store *s)
{
	struct bc_priv *p = bc_priv_of(s);

	stop(p);
	bfs_store_undecorate(s);
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
	pool_destroy(&p->ringpool);
	free(p->touches);
	free(p->cache_dir);
	free(p->bucket);
	free(p->blocks_dir);
	free(p->meta_dir);
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
	pool_init(&p->ringpool, RING_BLOCKS * bs, POOL_RUNS);
	p->touches = bfs_xcalloc(TOUCH_MAX, sizeof(*p->touches));
	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&p->cond, NULL));

	s = &p->store;
	s->start = bc_start;
	s->get_range = bc_get_range;
	s->get_range_parts = bc_get_range_parts;
	s->warm = bc_warm;
	s->head_read = bc_head_read;
	s->shutdown = bc_shutdown;
	s->destroy = bc_destroy;
	bfs_store_decorate(s, p, inner, BFS_STORE_KIND_BLOCKCACHE, "blocks");
	return s;
}
