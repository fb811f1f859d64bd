/*
 * index.c - the LMDB environment of a cache dir (see index.h): the only
 * file that includes <lmdb.h>. Owns the per-process registry of open
 * environments, the MDB_* → errno table, the reset of a damaged index,
 * and the tick thread that runs the layers' periodic work and syncs.
 */
#include "compat.h"

#include <fcntl.h>
#include <lmdb.h>
#include <limits.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/index.h"
#include "util.h"
#include "log.h"

/*
 * Virtual size of the map; the file grows only as pages are used. Under
 * an address-space limit (ulimit -v, LimitAS=) that cannot hold it, the
 * map is halved until it fits, down to MIN_MAP_SIZE: a smaller index
 * still works, it only fills sooner (its writes then fail with ENOSPC:
 * the block cache stores no more blocks until eviction frees room).
 */
#define MAP_SIZE     (4ull << 30)
#define MIN_MAP_SIZE (64ull << 20)
#define MAX_READERS  1024
#define TICK_SECONDS 1

static const char *const table_names[BFS_METADB_NTABLES] = {
	[BFS_METADB_HEAD] = "head",	[BFS_METADB_LIST] = "list",
	[BFS_METADB_BLOCKS] = "blocks", [BFS_METADB_LRU] = "lru",
	[BFS_METADB_STATE] = "state",	[BFS_METADB_STATS] = "stats",
};

struct tick {
	void (*fn)(void *arg);
	void *arg;
};

struct bfs_metadb {
	/* protected by registry_lock */
	struct bfs_metadb *next;
	unsigned refs;

	char *dir;
	pid_t pid; /* the process that opened it: a forked child must not
		    * use its parent's environment */
	MDB_env *env;
	MDB_dbi dbi[BFS_METADB_NTABLES];
	int lock_fd; /* flock LOCK_SH on reset.lock while open */

	pthread_mutex_t tick_lock;
	pthread_cond_t tick_cond;
	/* protected by tick_lock */
	struct tick *ticks;
	size_t nticks;
	bool thread_running;
	bool stop;
	pthread_t thread;
};

struct bfs_metadb_txn {
	struct bfs_metadb *db;
	MDB_txn *txn;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bfs_metadb *registry;

/* The one translation of LMDB's codes. */
static int map_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return ENOENT;
	case MDB_KEYEXIST:
		return EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_DBS_FULL:
	case MDB_PAGE_FULL:
	case MDB_CURSOR_FULL:
		return ENOSPC;
	case MDB_READERS_FULL:
	case MDB_TLS_FULL:
	case MDB_MAP_RESIZED:
		return EAGAIN;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PANIC:
	case MDB_BAD_TXN:
		return EIO;
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:
	case MDB_BAD_RSLOT:
	case MDB_INCOMPATIBLE:
		return EINVAL;
	default:
		return rc > 0 ? rc : EIO;
	}
}

/* Codes that mean the files are not a sound LMDB environment. */
static bool is_damage(int rc)
{
	return rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ||
	       rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
	       rc == MDB_PANIC || rc == MDB_INCOMPATIBLE;
}

/* Open the environment files and the tables with a map of MAPSIZE bytes;
 * an LMDB code. */
static int env_open_sized(struct bfs_metadb *db, size_t mapsize)
{
	MDB_txn *txn = NULL;
	int rc, dead = 0;

	rc = mdb_env_create(&db->env);
	if (rc != 0)
		return rc;
	rc = mdb_env_set_maxdbs(db->env, BFS_METADB_NTABLES);
	if (rc == 0)
		rc = mdb_env_set_mapsize(db->env, mapsize);
	if (rc == 0)
		rc = mdb_env_set_maxreaders(db->env, MAX_READERS);
	if (rc == 0)
		rc = mdb_env_open(db->env, db->dir,
				  MDB_NOTLS | MDB_NOSYNC | MDB_NORDAHEAD, 0600);
	if (rc == 0)
		rc = mdb_reader_check(db->env, &dead);
	if (rc == 0)
		rc = mdb_txn_begin(db->env, NULL, 0, &txn);
	for (int i = 0; rc == 0 && i < BFS_METADB_NTABLES; i++)
		rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &db->dbi[i]);
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (rc != 0) {
		mdb_env_close(db->env);
		db->env = NULL;
	}
	return rc;
}

/* env_open_sized with the largest map the address space allows. */
static int env_open(struct bfs_metadb *db)
{
	size_t mapsize = MAP_SIZE;
	int rc;

	while ((rc = env_open_sized(db, mapsize)) == ENOMEM &&
	       mapsize > MIN_MAP_SIZE)
		mapsize /= 2;
	if (rc == 0 && mapsize < MAP_SIZE)
		bfs_log(LOG_WARNING,
			"cache index '%s': the address space limit leaves "
			"room for a map of %zu MiB only (of %llu)",
			db->dir, mapsize >> 20, MAP_SIZE >> 20);
	return rc;
}

/*
 * A damaged index is thrown away, but only when no other process has it
 * open (they all hold a shared flock on reset.lock).
 */
static int env_reset(struct bfs_metadb *db, int why)
{
	char *data = bfs_xasprintf("%s/data.mdb", db->dir);
	char *lock = bfs_xasprintf("%s/lock.mdb", db->dir);
	int rc = 0;

	if (flock(db->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		rc = EIO;
		goto out;
	}
	bfs_log(LOG_WARNING,
		"cache index '%s' is damaged (%s); starting with an empty "
		"cache",
		db->dir, mdb_strerror(why));
	if (unlink(data) != 0 && errno != ENOENT)
		rc = errno;
	if (unlink(lock) != 0 && errno != ENOENT && rc == 0)
		rc = errno;
	if (flock(db->lock_fd, LOCK_SH) != 0 && rc == 0)
		rc = errno;
out:
	free(data);
	free(lock);
	return rc;
}

struct bfs_metadb *bfs_metadb_open(const char *dir, char *err, size_t errlen)
{
	struct bfs_metadb *db;
	pthread_condattr_t ca;
	char *lockpath = NULL;
	char real[PATH_MAX];
	int rc;

	rc = bfs_mkdir_p(dir, 0700);
	if (rc == 0 && realpath(dir, real) == NULL)
		rc = errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot open cache index '%s': %s", dir,
			 strerror(rc));
		errno = rc;
		return NULL;
	}
	BFS_PCHECK(pthread_mutex_lock(&registry_lock));
	for (db = registry; db; db = db->next) {
		if (db->pid == getpid() && strcmp(db->dir, real) == 0) {
			db->refs++;
			BFS_PCHECK(pthread_mutex_unlock(&registry_lock));
			return db;
		}
	}
	db = bfs_xcalloc(1, sizeof(*db));
	db->dir = bfs_xstrdup(real);
	db->pid = getpid();
	db->refs = 1;
	db->lock_fd = -1;
	BFS_PCHECK(pthread_mutex_init(&db->tick_lock, NULL));
	BFS_PCHECK(pthread_condattr_init(&ca));
	BFS_PCHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
	BFS_PCHECK(pthread_cond_init(&db->tick_cond, &ca));
	BFS_PCHECK(pthread_condattr_destroy(&ca));
	lockpath = bfs_xasprintf("%s/reset.lock", real);
	db->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (db->lock_fd < 0 || flock(db->lock_fd, LOCK_SH) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open cache index '%s': %s", real,
			 strerror(rc));
		goto fail;
	}
	rc = env_open(db);
	if (rc != 0 && is_damage(rc) && env_reset(db, rc) == 0)
		rc = env_open(db);
	if (rc != 0) {
		int e = map_err(rc);

		snprintf(err, errlen, "cannot open cache index '%s': %s%s",
			 real, mdb_strerror(rc),
			 is_damage(rc) ? " (stop the other mounts using it, "
					 "or remove the directory)"
				       : "");
		rc = e;
		goto fail;
	}
	db->next = registry;
	registry = db;
	BFS_PCHECK(pthread_mutex_unlock(&registry_lock));
	free(lockpath);
	return db;
fail:
	BFS_PCHECK(pthread_mutex_unlock(&registry_lock));
	if (db->lock_fd >= 0)
		close(db->lock_fd);
	BFS_PCHECK(pthread_cond_destroy(&db->tick_cond));
	BFS_PCHECK(pthread_mutex_destroy(&db->tick_lock));
	free(db->dir);
	free(db);
	free(lockpath);
	errno = rc;
	return NULL;
}

static void stop_thread(struct bfs_metadb *db)
{
	bool join;

	BFS_PCHECK(pthread_mutex_lock(&db->tick_lock));
	db->stop = true;
	join = db->thread_running;
	db->thread_running = false;
	BFS_PCHECK(pthread_cond_broadcast(&db->tick_cond));
	BFS_PCHECK(pthread_mutex_unlock(&db->tick_lock));
	if (join)
		BFS_PCHECK(pthread_join(db->thread, NULL));
}

void bfs_metadb_close(struct bfs_metadb *db)
{
	struct bfs_metadb **pp;

	if (db == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&registry_lock));
	if (--db->refs > 0) {
		BFS_PCHECK(pthread_mutex_unlock(&registry_lock));
		return;
	}
	for (pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == db) {
			*pp = db->next;
			break;
		}
	}
	BFS_PCHECK(pthread_mutex_unlock(&registry_lock));
	stop_thread(db);
	if (db->nticks)
		BFS_BUG("cache index '%s' closed with %zu ticks registered",
			db->dir, db->nticks);
	mdb_env_sync(db->env, 1);
	mdb_env_close(db->env);
	close(db->lock_fd);
	BFS_PCHECK(pthread_cond_destroy(&db->tick_cond));
	BFS_PCHECK(pthread_mutex_destroy(&db->tick_lock));
	free(db->ticks);
	free(db->dir);
	free(db);
}

const char *bfs_metadb_dir(const struct bfs_metadb *db)
{
	return db->dir;
}

int bfs_metadb_begin(struct bfs_metadb *db, bool rdonly,
		     struct bfs_metadb_txn **txn)
{
	struct bfs_metadb_txn *t = bfs_xcalloc(1, sizeof(*t));
	int rc;

	t->db = db;
	rc = mdb_txn_begin(db->env, NULL, rdonly ? MDB_RDONLY : 0, &t->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size, once */
		mdb_env_set_mapsize(db->env, 0);
		rc = mdb_txn_begin(db->env, NULL, rdonly ? MDB_RDONLY : 0,
				   &t->txn);
	}
	if (rc != 0) {
		free(t);
		*txn = NULL;
		return map_err(rc);
	}
	*txn = t;
	return 0;
}

int bfs_metadb_commit(struct bfs_metadb_txn *txn)
{
	int rc = mdb_txn_commit(txn->txn);

	free(txn);
	return map_err(rc);
}

void bfs_metadb_abort(struct bfs_metadb_txn *txn)
{
	if (txn == NULL)
		return;
	mdb_txn_abort(txn->txn);
	free(txn);
}

static int check_key(size_t klen)
{
	return klen == 0 || klen > BFS_METADB_KEY_MAX ? EINVAL : 0;
}

int bfs_metadb_get(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		   const void *key, size_t klen, void **val, size_t *vlen)
{
	MDB_val k = {klen, (void *)key}, v;
	char *copy;
	int rc = check_key(klen);

	if (rc != 0)
		return rc;
	rc = mdb_get(txn->txn, txn->db->dbi[t], &k, &v);
	if (rc != 0)
		return map_err(rc);
	/* the map is only valid until the transaction ends */
	copy = bfs_xmalloc(v.mv_size + 1);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size] = '\0';
	*val = copy;
	*vlen = v.mv_size;
	return 0;
}

int bfs_metadb_put(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		   const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = check_key(klen);

	if (rc != 0)
		return rc;
	return map_err(mdb_put(txn->txn, txn->db->dbi[t], &k, &v, 0));
}

int bfs_metadb_del(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		   const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc = check_key(klen);

	if (rc != 0)
		return rc;
	return map_err(mdb_del(txn->txn, txn->db->dbi[t], &k, NULL));
}

static bool has_prefix(const MDB_val *k, const void *prefix, size_t plen)
{
	return plen == 0 ||
	       (k->mv_size >= plen && memcmp(k->mv_data, prefix, plen) == 0);
}

/* Position c at the first key >= prefix; an LMDB code. */
static int seek(MDB_cursor *c, const void *prefix, size_t plen, MDB_val *k,
		MDB_val *v)
{
	if (plen == 0)
		return mdb_cursor_get(c, k, v, MDB_FIRST);
	k->mv_size = plen;
	k->mv_data = (void *)prefix;
	return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

int bfs_metadb_scan(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		    const void *prefix, size_t plen, bfs_metadb_fn fn,
		    void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if (plen > BFS_METADB_KEY_MAX)
		return EINVAL;
	rc = mdb_cursor_open(txn->txn, txn->db->dbi[t], &c);
	if (rc != 0)
		return map_err(rc);
	for (rc = seek(c, prefix, plen, &k, &v); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int r;

		if (!has_prefix(&k, prefix, plen))
			break;
		r = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r != 0) {
			mdb_cursor_close(c);
			return r;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

int bfs_metadb_del_prefix(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
			  const void *prefix, size_t plen, bfs_metadb_fn fn,
			  void *arg, size_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t count = 0;
	int rc;

	if (n)
		*n = 0;
	if (plen > BFS_METADB_KEY_MAX)
		return EINVAL;
	rc = mdb_cursor_open(txn->txn, txn->db->dbi[t], &c);
	if (rc != 0)
		return map_err(rc);
	rc = seek(c, prefix, plen, &k, &v);
	while (rc == 0 && has_prefix(&k, prefix, plen)) {
		if (fn)
			fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		rc = mdb_cursor_del(c, 0);
		if (rc != 0)
			break;
		count++;
		/* seek again rather than trust the cursor after a delete */
		rc = seek(c, prefix, plen, &k, &v);
	}
	mdb_cursor_close(c);
	if (n)
		*n = count;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : map_err(rc);
}

int bfs_metadb_first(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		     void *key, size_t *klen, void **val, size_t *vlen)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn->txn, txn->db->dbi[t], &c);
	if (rc != 0)
		return map_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (rc == 0) {
		memcpy(key, k.mv_data, k.mv_size);
		*klen = k.mv_size;
		if (val) {
			char *copy = bfs_xmalloc(v.mv_size + 1);

			memcpy(copy, v.mv_data, v.mv_size);
			copy[v.mv_size] = '\0';
			*val = copy;
			*vlen = v.mv_size;
		}
	}
	mdb_cursor_close(c);
	return map_err(rc);
}

int bfs_metadb_count(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		     uint64_t *n)
{
	MDB_stat st;
	int rc = mdb_stat(txn->txn, txn->db->dbi[t], &st);

	*n = rc == 0 ? st.ms_entries : 0;
	return map_err(rc);
}

int bfs_metadb_sync(struct bfs_metadb *db)
{
	return map_err(mdb_env_sync(db->env, 1));
}

/* Run the ticks; tick_lock held. */
static void run_ticks(struct bfs_metadb *db)
{
	for (size_t i = 0; i < db->nticks; i++)
		db->ticks[i].fn(db->ticks[i].arg);
}

static void *tick_main(void *arg)
{
	struct bfs_metadb *db = arg;
	struct timespec until;

	BFS_PCHECK(pthread_mutex_lock(&db->tick_lock));
	while (!db->stop) {
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += TICK_SECONDS;
		do {
			rc = pthread_cond_timedwait(&db->tick_cond,
						    &db->tick_lock, &until);
		} while (rc == 0 && !db->stop);
		if (rc != 0 && rc != ETIMEDOUT)
			BFS_BUG("pthread_cond_timedwait: %s", strerror(rc));
		if (db->stop)
			break;
		run_ticks(db);
		mdb_env_sync(db->env, 1);
	}
	BFS_PCHECK(pthread_mutex_unlock(&db->tick_lock));
	return NULL;
}

int bfs_metadb_tick_add(struct bfs_metadb *db, void (*fn)(void *arg), void *arg)
{
	int rc = 0;

	BFS_PCHECK(pthread_mutex_lock(&db->tick_lock));
	/* the thread starts with the first tick and stops at close */
	if (!db->thread_running) {
		rc = pthread_create(&db->thread, NULL, tick_main, db);
		if (rc == 0)
			db->thread_running = true;
	}
	if (rc == 0) {
		db->ticks = bfs_xrealloc(db->ticks,
					 (db->nticks + 1) * sizeof(*db->ticks));
		db->ticks[db->nticks].fn = fn;
		db->ticks[db->nticks].arg = arg;
		db->nticks++;
	}
	BFS_PCHECK(pthread_mutex_unlock(&db->tick_lock));
	return rc;
}

void bfs_metadb_tick_remove(struct bfs_metadb *db, void (*fn)(void *arg),
			    void *arg)
{
	BFS_PCHECK(pthread_mutex_lock(&db->tick_lock));
	for (size_t i = 0; i < db->nticks; i++) {
		if (db->ticks[i].fn == fn && db->ticks[i].arg == arg) {
			fn(arg);
			db->ticks[i] = db->ticks[--db->nticks];
			break;
		}
	}
	BFS_PCHECK(pthread_mutex_unlock(&db->tick_lock));
	mdb_env_sync(db->env, 1);
}

int bfs_metadb_attach(const char *dir, void (*fn)(void *arg), void *arg,
		      struct bfs_metadb **out)
{
	char err[512];
	int rc;

	*out = bfs_metadb_open(dir, err, sizeof(err));
	if (*out == NULL) {
		rc = errno;
		bfs_log(LOG_ERR, "%s", err);
		return rc;
	}
	rc = bfs_metadb_tick_add(*out, fn, arg);
	if (rc != 0) {
		bfs_metadb_close(*out);
		*out = NULL;
	}
	return rc;
}

void bfs_metadb_detach(struct bfs_metadb **db, void (*fn)(void *arg), void *arg)
{
	if (*db == NULL)
		return;
	bfs_metadb_tick_remove(*db, fn, arg);
	bfs_metadb_close(*db);
	*db = NULL;
}

struct bfs_metadb *bfs_metadb_open_existing(const char *cache_dir, char *err,
					    size_t errlen)
{
	char *data = bfs_xasprintf("%s/meta/data.mdb", cache_dir);
	char *dir = bfs_xasprintf("%s/meta", cache_dir);
	struct bfs_metadb *db = NULL;
	struct stat st;

	if (stat(data, &st) != 0) {
		snprintf(err, errlen, "no cache in '%s'", cache_dir);
		errno = ENOENT;
	} else {
		db = bfs_metadb_open(dir, err, errlen);
	}
	free(data);
	free(dir);
	return db;
}

void bfs_metadb_tick_run(struct bfs_metadb *db, void (*fn)(void *arg),
			 void *arg)
{
	BFS_PCHECK(pthread_mutex_lock(&db->tick_lock));
	fn(arg);
	BFS_PCHECK(pthread_mutex_unlock(&db->tick_lock));
}

void bfs_metadb_tick_now(struct bfs_metadb *db)
{
	BFS_PCHECK(pthread_mutex_lock(&db->tick_lock));
	run_ticks(db);
	BFS_PCHECK(pthread_mutex_unlock(&db->tick_lock));
	mdb_env_sync(db->env, 1);
}

int bfs_metadb_get_u64(struct bfs_metadb_txn *txn, const char *name,
		       uint64_t *out)
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

int bfs_metadb_put_u64(struct bfs_metadb_txn *txn, const char *name, uint64_t v)
{
	return bfs_metadb_put(txn, BFS_METADB_STATE, name, strlen(name), &v,
			      sizeof(v));
}
