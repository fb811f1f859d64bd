/*
 * stack_s3.h - the S3 store configuration of a [bucket NAME] section:
 * the one place that turns a bucket, its resolved endpoint, the options
 * and a pair of keys into a struct bfs_s3_conf. The mount's store stack
 * (stack.c) and the connection test (cli/conntest.c) both need it; the
 * test gets its keys from the user rather than from the file.
 */
#ifndef BFS_CATALOG_STACK_S3_H
#define BFS_CATALOG_STACK_S3_H

#include "conf.h"
#include "store/providers.h"
#include "store/s3.h"

/*
 * Fill conf for the S3 store of remote bucket b.
 * @param ep b's endpoint, from bfs_provider_resolve().
 * @param access_key_id, secret_access_key the keys, or both NULL for
 *        anonymous requests.
 * @note conf borrows every string: it is valid while cfg, b, ep and the
 *       keys are. bfs_s3_create() copies what it keeps.
 */
void bfs_stack_s3_conf(const struct bfs_config *cfg,
		       const struct bfs_bucket_conf *b,
		       const struct bfs_endpoint *ep, const char *access_key_id,
		       const char *secret_access_key, struct bfs_s3_conf *conf);

struct bfs_secret;

/*
 * The SSE-C customer key of b (sse = c) into conf: decrypted into *key,
 * which the caller frees (bfs_secret_free()) once bfs_s3_create() has
 * copied it; when it does not decrypt, the cause is written to why and
 * set as conf->sse_key_error, so that the bucket fails alone. Nothing
 * for another sse.
 */
void bfs_stack_s3_sse_key(const struct bfs_config *cfg,
			  const struct bfs_bucket_conf *b,
			  struct bfs_s3_conf *conf, struct bfs_secret **key,
			  char *why, size_t whylen);

#endif
