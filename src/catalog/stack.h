/*
 * stack.h - builds the store stack of one bucket from its configuration:
 * the driver (local or s3) at the bottom, cache layers above it.
 */
#ifndef BFS_CATALOG_STACK_H
#define BFS_CATALOG_STACK_H

#include <stddef.h>

#include "config.h"
#include "store/store.h"

/*
 * The store stack for bucket b, built bottom-up; on failure everything
 * built so far is destroyed.
 * @return the top store, or NULL with errno set and err filled.
 */
struct bfs_store *bfs_stack_open(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b, char *err,
				 size_t errlen);

/*
 * For a mount of one bucket, which should fail at start rather than in
 * every call: whether bucket b (credentials = keys) has keys that
 * decrypt, without any network I/O. Chain and anonymous buckets pass.
 * @return 0, or EACCES with the cause and the fix in err.
 */
int bfs_stack_check_credentials(const struct bfs_config *cfg,
				const struct bfs_bucket_conf *b, char *err,
				size_t errlen);

#endif
