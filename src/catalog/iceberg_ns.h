/*
 * iceberg_ns.h - an Iceberg catalog as directories: tables found under
 * the catalog's prefix (any folder holding metadata/), shown as
 * `<namespace…>/<table>/` with
 *   current/             the live data files of the current snapshot,
 *                        under their partition sub-paths
 *   current/.deletes/    its live delete files
 *   snapshots/<id>/      the same for every snapshot (time travel)
 *   metadata/, data/     the raw table folder
 * Per-file facts are xattrs user.iceberg.* (record_count, partition,
 * sequence numbers, the deletes that apply, …). Read-only. A data file
 * in another bucket is read through that bucket's store when the mount
 * has it; a file that cannot be served is one entry failing with EIO.
 *
 * The table list and each table's metadata are re-read after dir_ttl
 * seconds; a snapshot's file list is resolved once (snapshots never
 * change) and kept until unmount, so listing current/ of a table with
 * thousands of files costs one resolution. A table whose metadata is
 * corrupt still lists; its current/ and snapshots/ give EIO and the log
 * names the file and the problem.
 */
#ifndef BFS_CATALOG_ICEBERG_NS_H
#define BFS_CATALOG_ICEBERG_NS_H

#include "catalog/ns.h"
#include "conf.h"

/*
 * The namespace of catalog conf over store (not owned), with raw, a
 * read-only bucket view of the same store, for metadata/ and data/.
 */
struct bfs_ns *bfs_iceberg_ns_create(const struct bfs_catalog_conf *conf,
				     struct bfs_store *store,
				     struct bfs_ns *raw, double ttl);

/*
 * Connect another bucket of the mount: a data file whose URI's authority
 * is name is read from store (not owned). Names added first win (the
 * lake adds provider bucket names, then [bucket] section names). Call
 * before the namespace serves.
 */
void bfs_iceberg_ns_add_bucket(struct bfs_ns *ns, const char *name,
			       struct bfs_store *store);

/* The catalog's root directory node. */
void bfs_iceberg_ns_root(struct bfs_ns *ns, struct bfs_node *out);

/*
 * The key prefixes of every table below prefix (for `catalog show`).
 * @param tables receives *n malloc'd strings in a malloc'd array.
 * @return 0 or the store's errno.
 */
int bfs_iceberg_find_tables(struct bfs_store *store, const char *prefix,
			    char ***tables, size_t *n);

#endif
