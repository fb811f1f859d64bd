/*
 * stack.c - the store stack of a bucket (see stack.h).
 */
#include "compat.h"

#include "catalog/stack.h"
#include "store/local.h"

struct bfs_store *bfs_stack_open(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b, char *err,
				 size_t errlen)
{
	switch (b->provider) {
	case BFS_PROVIDER_LOCAL:
		return bfs_local_create(b->name, b->dir, err, errlen);
	default:
		snprintf(err, errlen,
			 "bucket '%s': provider not supported by this build",
			 b->name);
		errno = ENOTSUP;
		return NULL;
	}
}
