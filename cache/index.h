/*
 * index.h - the LMDB environment of a cache dir, shared by the cache
 * layers (metadata cache, block cache) and `bucketfs cache`.
 *
 * cache/index.c is the only file that includes <lmdb.h>: callers see
 * named tables, byte-string keys and values, positive errnos, and copies
 * of values, never a pointer into the map that outlives a transaction.
 *
 * Invariants:
 * - One environment per cache dir per process: bfs_metadb_open() of a
 *   dir that is already open in this process returns the same handle
 *   with a reference taken (LMDB forbids opening one environment twice
 *   in a process). Several processes share a dir through LMDB's own
 *   locking; each process opens its own handle after it forks.
 * - Commits are not synced one by one (MDB_NOSYNC): a background thread
 *   syncs once per tick (1 s). A process crash loses nothing; a power
 *   loss may lose the last second or damage the index, which the next
 *   open detects and resets when no other process uses it (it is a
 *   cache: the block files carry their own checksums).
 * - Keys are at most BFS_METADB_KEY_MAX bytes: callers hash long names.
 * - A write transaction is exclusive across every process sharing the
 *   dir: keep them short, never do network I/O inside one.
 *
 * Errors (MDB_* → errno, only here): MDB_NOTFOUND → ENOENT; MDB_KEYEXIST
 * → EEXIST; MDB_MAP_FULL, MDB_TXN_FULL, MDB_DBS_FULL, MDB_PAGE_FULL,
 * MDB_CURSOR_FULL → ENOSPC; MDB_READERS_FULL, MDB_TLS_FULL,
 * MDB_MAP_RESIZED → EAGAIN; MDB_CORRUPTED, MDB_PAGE_NOTFOUND,
 * MDB_INVALID, MDB_VERSION_MISMATCH, MDB_PANIC, MDB_BAD_TXN → EIO;
 * MDB_BAD_VALSIZE, MDB_BAD_DBI, MDB_BAD_RSLOT, MDB_INCOMPATIBLE →
 * EINVAL; system errnos pass through.
 */
#ifndef BFS_CACHE_INDEX_H
#define BFS_CACHE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key a table accepts (LMDB's default MDB_MAXKEYSIZE). */
#define BFS_METADB_KEY_MAX 511

/* The named tables of the environment. */
enum bfs_metadb_table {
	BFS_METADB_HEAD,   /* metacache: attributes of objects */
	BFS_METADB_LIST,   /* metacache: listing pages */
	BFS_METADB_BLOCKS, /* blockcache: index of block files */
	BFS_METADB_LRU,	   /* blockcache: (access time, id) → index key */
	BFS_METADB_STATE,  /* blockcache: shared counters (bytes on disk) */
	BFS_METADB_STATS,  /* stats records of running daemons */
	BFS_METADB_NTABLES
};

struct bfs_metadb;
struct bfs_metadb_txn;

/*
 * Open (or create) the environment in dir, made with mode 0700 if
 * missing, or take a reference on the one this process already has.
 * @param err "cannot open cache index 'DIR': why" on failure.
 * @return the handle, or NULL with errno set: EACCES, ENOSPC, EIO (a
 *         damaged index that another process still uses), ENOMEM.
 * @note Call after fork(). Thread-safe.
 */
struct bfs_metadb *bfs_metadb_open(const char *dir, char *err, size_t errlen);

/* Drop a reference; the last one syncs, stops the tick thread, closes. */
void bfs_metadb_close(struct bfs_metadb *db);

/* The directory of the environment (owned by db). */
const char *bfs_metadb_dir(const struct bfs_metadb *db);

/*
 * Begin a transaction.
 * @param rdonly true for a read transaction (many at once, never
 *        blocked), false for a write transaction (one at a time across
 *        all processes).
 * @return 0, EAGAIN (reader table full), EIO, ENOMEM.
 * @note A thread holds at most one transaction at a time. A transaction
 *       may move between threads but is used by one thread at a time.
 */
int bfs_metadb_begin(struct bfs_metadb *db, bool rdonly,
		     struct bfs_metadb_txn **txn);
/* Commit and free txn (a read transaction is just ended). @return 0,
 * ENOSPC, EIO; txn is freed in every case. */
int bfs_metadb_commit(struct bfs_metadb_txn *txn);
/* Throw txn away and free it; NULL is fine. */
void bfs_metadb_abort(struct bfs_metadb_txn *txn);

/*
 * The value of key, copied out.
 * @param val receives a malloc'd copy (caller frees), NULL-terminated
 *        beyond *vlen for convenience.
 * @return 0, ENOENT, EINVAL (key too long), EIO.
 */
int bfs_metadb_get(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		   const void *key, size_t klen, void **val, size_t *vlen);
/* A counter of the state table by name: 0 when absent (or not 8 bytes).
 * @return 0, EIO. */
int bfs_metadb_get_u64(struct bfs_metadb_txn *txn, const char *name,
		       uint64_t *out);
/* Set a counter of the state table. @return as bfs_metadb_put. */
int bfs_metadb_put_u64(struct bfs_metadb_txn *txn, const char *name,
		       uint64_t v);
/* Store key → val, replacing. @return 0, ENOSPC, EINVAL, EIO. */
int bfs_metadb_put(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		   const void *key, size_t klen, const void *val, size_t vlen);
/* Delete key. @return 0, ENOENT, EIO. */
int bfs_metadb_del(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		   const void *key, size_t klen);

/*
 * Called for each entry of a scan; key and val point into the map and
 * are valid only until the callback returns. Return 0 to go on; any
 * other value stops the scan and is returned by it.
 */
typedef int (*bfs_metadb_fn)(void *arg, const void *key, size_t klen,
			     const void *val, size_t vlen);

/*
 * Visit the entries whose key starts with prefix (plen 0: all), in key
 * order.
 * @return 0, fn's non-zero return, EIO.
 */
int bfs_metadb_scan(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		    const void *prefix, size_t plen, bfs_metadb_fn fn,
		    void *arg);

/*
 * Delete the entries whose key starts with prefix (plen 0: all), calling
 * fn (may be NULL) on each just before it goes; fn's return is ignored.
 * @param n receives the number deleted; may be NULL.
 * @return 0, EIO. Needs a write transaction.
 */
int bfs_metadb_del_prefix(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
			  const void *prefix, size_t plen, bfs_metadb_fn fn,
			  void *arg, size_t *n);

/*
 * The first entry in key order, copied out.
 * @param key receives the key (at most BFS_METADB_KEY_MAX bytes).
 * @param val receives a malloc'd copy of the value; may be NULL.
 * @return 0, ENOENT (empty table), EIO.
 */
int bfs_metadb_first(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		     void *key, size_t *klen, void **val, size_t *vlen);

/* Number of entries of a table. @return 0, EIO. */
int bfs_metadb_count(struct bfs_metadb_txn *txn, enum bfs_metadb_table t,
		     uint64_t *n);

/*
 * Register fn(arg) to run on the tick thread about once a second (and
 * once more at bfs_metadb_tick_remove()). Ticks run one at a time with
 * no transaction open; a tick opens its own.
 * @return 0, or an errno from pthread_create (the thread starts with
 *         the first registration).
 */
int bfs_metadb_tick_add(struct bfs_metadb *db, void (*fn)(void *arg),
			void *arg);
/* Unregister; when it returns fn is not running and will not run again,
 * after one final call made by this function. */
void bfs_metadb_tick_remove(struct bfs_metadb *db, void (*fn)(void *arg),
			    void *arg);
/*
 * A cache layer's start: open the environment in dir and register
 * fn(arg) as its tick; a failure to open is logged. *out is the handle,
 * or NULL when this fails.
 * @return 0, or an errno of bfs_metadb_open() or bfs_metadb_tick_add().
 */
int bfs_metadb_attach(const char *dir, void (*fn)(void *arg), void *arg,
		      struct bfs_metadb **out);
/* Undo bfs_metadb_attach(): unregister the tick, close, set *db NULL.
 * Does nothing when *db is NULL (a layer never started, or stopped). */
void bfs_metadb_detach(struct bfs_metadb **db, void (*fn)(void *arg),
		       void *arg);

/*
 * Open the environment of cache_dir (CACHE_DIR/meta) only if it exists,
 * for `bucketfs cache`, which reads and clears a cache and never makes
 * one.
 * @param err "no cache in 'CACHE_DIR'" (ENOENT) or bfs_metadb_open()'s.
 * @return the handle, or NULL with errno set: ENOENT or bfs_metadb_open()'s.
 */
struct bfs_metadb *bfs_metadb_open_existing(const char *cache_dir, char *err,
					    size_t errlen);

/* Run every registered tick now, then sync (tests; shutdown). */
void bfs_metadb_tick_now(struct bfs_metadb *db);
/* Run fn(arg) now, one at a time with the ticks (a layer's first stats
 * record, written as it starts). */
void bfs_metadb_tick_run(struct bfs_metadb *db, void (*fn)(void *arg),
			 void *arg);

/* Flush committed transactions to disk. @return 0, EIO. */
int bfs_metadb_sync(struct bfs_metadb *db);

#endif
