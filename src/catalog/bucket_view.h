/*
 * bucket_view.h - a bucket (or a prefix of one) as a directory tree:
 * key `a/b/c` under the view's prefix is file `c` in directory `a/b`.
 *
 * Directories are common prefixes (implicit) or zero-byte `dir/` markers
 * (explicit, made by mkdir). When a name is both a file and a directory
 * (keys `a` and `a/b`) the directory wins and the file is hidden, logged
 * once. Keys that cannot be paths (empty segments, `.`, `..`, segments
 * over 255 bytes) are skipped and logged once. Managed catalogs reuse
 * this view over their bucket + prefix.
 */
#ifndef BFS_CATALOG_BUCKET_VIEW_H
#define BFS_CATALOG_BUCKET_VIEW_H

#include "catalog/ns.h"

/*
 * A view over store at prefix ("" or ending in '/'). The view does not
 * own the store. Destroy with ns->ops->destroy.
 */
struct bfs_ns *bfs_bucket_view_create(const char *name, struct bfs_store *store,
				      const char *prefix, bool writable);

/* The root directory node of the view. */
void bfs_bucket_view_root(struct bfs_ns *ns, struct bfs_node *out);

#endif
