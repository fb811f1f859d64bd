/*
 * bucket_tables.h - a Bucket Tables catalog: logical table names mapped
 * to the files of a bucket that a pattern matches, shown read-only as
 * `<table>/<sub-path>` where sub-path is the key below the pattern's
 * fixed part (so hive partitions `dt=2024-01-01/part-0.parquet` stay
 * partitions).
 *
 * Each table's matches come from one flat listing of the fixed prefix,
 * kept for dir_ttl seconds; lookups and listings inside the table are
 * answered from it.
 */
#ifndef BFS_CATALOG_BUCKET_TABLES_H
#define BFS_CATALOG_BUCKET_TABLES_H

#include "catalog/ns.h"
#include "catalog/vdir.h"
#include "conf.h"

/*
 * The namespace of catalog conf over store (not owned). Patterns are
 * checked here.
 * @return NULL with errno EINVAL and err "catalog 'c': table 't': ...".
 */
struct bfs_ns *bfs_bucket_tables_create(const struct bfs_catalog_conf *conf,
					struct bfs_store *store, double ttl,
					char *err, size_t errlen);

/* Add one directory per table to root (the catalog's directory). */
void bfs_bucket_tables_add_tables(struct bfs_ns *ns, struct bfs_vdir *root);

#endif
