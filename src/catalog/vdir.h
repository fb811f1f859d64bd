/*
 * vdir.h - virtual directories: fixed lists of named children that exist
 * only in the mount (the lake root, `buckets/`, `catalogs/`).
 *
 * A vdir is a namespace of its own; its children are node templates
 * copied on every lookup. Children are added at mount time and, when the
 * configuration changes under a running mount, added and removed while
 * the filesystem serves them: a read-write lock keeps lookups and
 * readdir consistent with that.
 */
#ifndef BFS_CATALOG_VDIR_H
#define BFS_CATALOG_VDIR_H

#include "catalog/ns.h"

struct bfs_vdir;

/* A new empty virtual directory; never fails. */
struct bfs_vdir *bfs_vdir_create(const char *name);
/* Add child NAME (the node is deep-copied), replacing one of that name. */
void bfs_vdir_add(struct bfs_vdir *d, const char *name,
		  const struct bfs_node *child);
/* Remove child NAME. @return 0 or ENOENT. */
int bfs_vdir_remove(struct bfs_vdir *d, const char *name);
/* The number of children. */
size_t bfs_vdir_count(struct bfs_vdir *d);
/* The node of the directory itself. */
void bfs_vdir_node(struct bfs_vdir *d, struct bfs_node *out);
/* The vdir as a namespace, destroyed with ns->ops->destroy. */
struct bfs_ns *bfs_vdir_ns(struct bfs_vdir *d);

#endif
