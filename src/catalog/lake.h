/*
 * lake.h - the whole namespace of one mount, built from the
 * configuration: the lake root (`buckets/<name>/`, `catalogs/<name>/`) or
 * a single bucket or catalog as the root.
 *
 * The lake owns every store and namespace it builds; nodes handed out
 * point into it and stay valid until bfs_lake_destroy(), also those of a
 * bucket or catalog that left the configuration meanwhile.
 *
 * The lake borrows the configurations it is given (bfs_lake_open(),
 * bfs_lake_reload()): each must outlive it.
 */
#ifndef BFS_CATALOG_LAKE_H
#define BFS_CATALOG_LAKE_H

#include <stddef.h>

#include "catalog/ns.h"
#include "conf.h"

struct bfs_lake;

/*
 * Build the namespace. Creates stores but does no I/O and starts no
 * thread (safe before the daemon forks).
 * @param root_name a bucket or catalog to mount as the root, or NULL for
 *        the whole lake.
 * @param err "unknown bucket or catalog 'x'" etc. on failure.
 * @return 0, ENOENT (unknown name), EINVAL (bad configuration), or an
 *         errno from a store constructor.
 */
int bfs_lake_open(const struct bfs_config *cfg, const char *root_name,
		  struct bfs_lake **out, char *err, size_t errlen);

/*
 * Start every store (threads, pools) and check that each answers.
 * Called in the daemon after the fork.
 * @return 0 or the first store's errno, with err naming the bucket.
 */
int bfs_lake_start(struct bfs_lake *lake, char *err, size_t errlen);

/*
 * Called by bfs_lake_reload() for each entry whose node changed: the
 * child NAME of directory DIR ("buckets", "catalogs", or NULL for the
 * root) appeared, went away or is now another node. The filesystem drops
 * what it and the kernel cached of it.
 */
typedef void (*bfs_lake_changed_fn)(void *arg, const char *dir,
				    const char *name);

/*
 * Follow a new configuration while mounted (the whole lake): buckets and
 * catalogs that are new appear, removed ones disappear (files open in
 * them work on until closed), a bucket's new keys, credentials= or
 * profile are used by its running store from the next request on, a new
 * prefix or catalog definition shows anew. What needs another store (a
 * new provider, endpoint, region or bucket) is logged and waits for a
 * remount. A mount of one bucket or catalog follows its keys only.
 * The [bucketfs] options of newcfg are not used: the mount keeps its own.
 * Not thread-safe against itself: one caller (the config watcher). Does
 * network I/O (starting and checking new buckets) with no lock held.
 * @param newcfg borrowed until bfs_lake_destroy().
 */
void bfs_lake_reload(struct bfs_lake *lake, const struct bfs_config *newcfg,
		     bfs_lake_changed_fn changed, void *arg);

/* The root node of the mount. */
void bfs_lake_root(struct bfs_lake *lake, struct bfs_node *out);

/* The store whose name (s->name) is name, or NULL. */
struct bfs_store *bfs_lake_store(struct bfs_lake *lake, const char *name);

/* Flush and stop every store. */
void bfs_lake_shutdown(struct bfs_lake *lake);

/* Free everything (after shutdown). */
void bfs_lake_destroy(struct bfs_lake *lake);

#endif
