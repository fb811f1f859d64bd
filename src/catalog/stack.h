/*
 * stack.h - builds the store stack of one bucket from its configuration:
 * the driver (local or s3) at the bottom, cache layers above it.
 */
#ifndef BFS_CATALOG_STACK_H
#define BFS_CATALOG_STACK_H

#include <stddef.h>

#include "conf.h"
#include "store/creds.h"
#include "store/store.h"

/*
 * The store stack for bucket b, built bottom-up; on failure everything
 * built so far is destroyed.
 * @param creds when not NULL, receives the credential source the driver
 *        signs with (NULL: local or anonymous), owned by the store and
 *        valid until it is destroyed: bfs_creds_replace() on it changes
 *        the keys of the running store.
 * @return the top store, or NULL with errno set and err filled.
 */
struct bfs_store *bfs_stack_open(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b,
				 struct bfs_creds **creds, char *err,
				 size_t errlen);

/*
 * A new credential source for remote bucket b, as bfs_stack_open() makes
 * it (never failing: missing keys give a source that fails each request
 * with the cause). No I/O.
 * @return the source, or NULL for a local or anonymous bucket.
 */
struct bfs_creds *bfs_stack_creds(const struct bfs_config *cfg,
				  const struct bfs_bucket_conf *b);

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
