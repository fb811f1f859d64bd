/*
 * stack.c - the store stack of a bucket (see stack.h): the local driver,
 * or the S3 driver with its endpoint from the provider table and its keys
 * from the encrypted configuration (or the AWS_* fallback), under the
 * cache layers of cache/ (block cache, metadata cache, prefetcher).
 */
#include "compat.h"

#include "cache/blockcache.h"
#include "cache/metacache.h"
#include "cache/prefetch.h"
#include "catalog/stack.h"
#include "catalog/stack_s3.h"
#include "secret.h"
#include "store/local.h"
#include "store/providers.h"
#include "store/s3.h"

static struct bfs_store *open_s3(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b, char *err,
				 size_t errlen)
{
	struct bfs_endpoint ep = {0};
	struct bfs_secret *akid = NULL, *secret = NULL;
	struct bfs_s3_conf conf = {0};
	struct bfs_store *s = NULL;
	int rc;

	rc = bfs_provider_resolve(b, &ep, err, errlen);
	if (rc != 0)
		goto out;
	rc = bfs_bucket_credentials(cfg, b, &akid, &secret, err, errlen);
	if (rc == ENOENT) {
		snprintf(err, errlen,
			 "bucket '%s' has no credentials: run 'bucketfs bucket "
			 "connect %s' or set AWS_ACCESS_KEY_ID and "
			 "AWS_SECRET_ACCESS_KEY",
			 b->name, b->name);
		goto out;
	}
	if (rc != 0)
		goto out;
	bfs_stack_s3_conf(cfg, b, &ep, akid->data, secret->data, &conf);
	conf.probe_conditional_put = true;
	s = bfs_s3_create(&conf, err, errlen);
	if (s == NULL)
		rc = errno ? errno : EIO;
out:
	bfs_secret_free(akid);
	bfs_secret_free(secret);
	bfs_endpoint_release(&ep);
	if (s == NULL)
		errno = rc ? rc : EIO;
	return s;
}

/*
 * The cache layers over a remote driver: driver → block cache →
 * metadata cache → prefetcher (on top so that it learns object sizes
 * from the cached heads; it fills the block cache below). On failure
 * everything, driver included, is destroyed.
 */
static struct bfs_store *add_caches(const struct bfs_config *cfg,
				    const struct bfs_bucket_conf *b,
				    struct bfs_store *driver, char *err,
				    size_t errlen)
{
	const struct bfs_options *o = &cfg->opts;
	struct bfs_blockcache_conf bconf = {
		.cache_dir = o->cache_dir,
		.bucket = b->name,
		.block_size = o->block_size,
		.size = o->cache_size,
	};
	struct bfs_metacache_conf mconf = {
		.cache_dir = o->cache_dir,
		.bucket = b->name,
		.attr_ttl = o->attr_ttl,
		.dir_ttl = o->dir_ttl,
		.neg_ttl = o->neg_ttl,
	};
	struct bfs_prefetch_conf pconf = {
		.cache_dir = o->cache_dir,
		.bucket = b->name,
		.max_inflight = o->max_inflight,
		.threads = o->connections,
	};
	struct bfs_store *bc, *mc, *pf;

	bc = bfs_blockcache_create(&bconf, driver);
	if (bc == NULL) {
		driver->destroy(driver);
		goto fail;
	}
	mc = bfs_metacache_create(&mconf, bc);
	if (mc == NULL) {
		bc->destroy(bc);
		goto fail;
	}
	pconf.blockcache = bc;
	pf = bfs_prefetch_create(&pconf, mc);
	if (pf == NULL) {
		mc->destroy(mc);
		goto fail;
	}
	return pf;
fail:
	snprintf(err, errlen, "bucket '%s': cannot set up its caches in '%s'",
		 b->name, o->cache_dir);
	errno = EINVAL;
	return NULL;
}

struct bfs_store *bfs_stack_open(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b, char *err,
				 size_t errlen)
{
	struct bfs_store *s;

	if (b->provider == BFS_PROVIDER_LOCAL)
		return bfs_local_create(b->name, b->dir, err, errlen);
	s = open_s3(cfg, b, err, errlen);
	if (s == NULL)
		return NULL;
	return add_caches(cfg, b, s, err, errlen);
}
