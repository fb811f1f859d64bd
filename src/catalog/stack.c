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
#include "log.h"
#include "secret.h"
#include "store/local.h"
#include "store/creds_chain.h"
#include "store/providers.h"
#include "store/s3.h"
#include "store/trace.h"

/*
 * The stored keys of b (credentials = keys), else AWS_* from the
 * environment, as a fixed source. @return 0, or an errno with err.
 */
static int keys_creds(const struct bfs_config *cfg,
		      const struct bfs_bucket_conf *b, const char *name,
		      struct bfs_creds **out, char *err, size_t errlen)
{
	struct bfs_secret *akid = NULL, *secret = NULL;
	struct bfs_cred_set *env = NULL;
	char why[400] = "";
	int rc;

	*out = NULL;
	if (b->access_key_id) {
		rc = bfs_bucket_credentials(cfg, b, &akid, &secret, err,
					    errlen);
		if (rc == 0)
			*out = bfs_creds_fixed(name, akid->data, secret->data,
					       NULL);
	} else {
		rc = bfs_creds_env_keys(&env, why, sizeof(why));
		if (rc == 0)
			*out = bfs_creds_fixed(name, env->access_key_id,
					       env->secret_access_key,
					       env->session_token);
		else
			snprintf(err, errlen, "no keys stored and %s", why);
	}
	if (rc == 0 && !*out) {
		rc = errno ? errno : ENOMEM;
		snprintf(err, errlen, "%s", strerror(rc));
	}
	bfs_secret_free(akid);
	bfs_secret_free(secret);
	bfs_cred_set_put(env);
	return rc;
}

/*
 * The credential source of bucket b. Never fails: a bucket whose keys
 * are missing or do not decrypt gets a source that fails each request
 * with the cause (logged once), so its directory returns EACCES and the
 * rest of the lake works.
 */
static struct bfs_creds *bucket_creds(const struct bfs_config *cfg,
				      const struct bfs_bucket_conf *b,
				      const struct bfs_endpoint *ep)
{
	struct bfs_chain_conf cc = {0};
	struct bfs_creds *c = NULL;
	char name[300], err[512] = "", msg[700];

	snprintf(name, sizeof(name), "bucket '%s'", b->name);
	switch (bfs_bucket_credentials_mode(b)) {
	case BFS_CREDENTIALS_ANONYMOUS:
		return NULL;
	case BFS_CREDENTIALS_CHAIN:
		cc.name = name;
		cc.profile = b->profile;
		cc.region = ep->region;
		cc.connect_timeout = cfg->opts.connect_timeout;
		cc.request_timeout = cfg->opts.request_timeout;
		return bfs_creds_chain(&cc);
	default:
		break;
	}
	if (keys_creds(cfg, b, name, &c, err, sizeof(err)) == 0)
		return c;
	snprintf(msg, sizeof(msg),
		 "%s; its directory fails with EACCES until it has keys: run "
		 "'bucketfs bucket connect %s', or set credentials = chain",
		 err, b->name);
	return bfs_creds_failing(name, EACCES, msg);
}

int bfs_stack_check_credentials(const struct bfs_config *cfg,
				const struct bfs_bucket_conf *b, char *err,
				size_t errlen)
{
	struct bfs_creds *c = NULL;
	char name[300], why[512] = "";
	int rc;

	if (b->provider == BFS_PROVIDER_LOCAL ||
	    bfs_bucket_credentials_mode(b) != BFS_CREDENTIALS_KEYS)
		return 0;
	snprintf(name, sizeof(name), "bucket '%s'", b->name);
	rc = keys_creds(cfg, b, name, &c, why, sizeof(why));
	bfs_creds_free(c);
	if (rc != 0)
		snprintf(err, errlen, "%s%s%s", b->access_key_id ? "" : name,
			 b->access_key_id ? "" : ": ", why);
	return rc;
}

struct bfs_creds *bfs_stack_creds(const struct bfs_config *cfg,
				  const struct bfs_bucket_conf *b)
{
	struct bfs_endpoint ep = {0};
	struct bfs_creds *c;
	char err[256];

	if (b->provider == BFS_PROVIDER_LOCAL ||
	    bfs_provider_resolve(b, &ep, err, sizeof(err)) != 0)
		return NULL;
	c = bucket_creds(cfg, b, &ep);
	bfs_endpoint_release(&ep);
	return c;
}

static struct bfs_store *open_s3(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b,
				 struct bfs_creds **creds, char *err,
				 size_t errlen)
{
	struct bfs_endpoint ep = {0};
	struct bfs_s3_conf conf = {0};
	struct bfs_store *s = NULL;
	struct bfs_secret *ssec = NULL;
	char why[512] = "";
	int rc;

	rc = bfs_provider_resolve(b, &ep, err, errlen);
	if (rc != 0)
		goto out;
	bfs_stack_s3_conf(cfg, b, &ep, NULL, NULL, &conf);
	bfs_stack_s3_sse_key(cfg, b, &conf, &ssec, why, sizeof(why));
	conf.creds = bucket_creds(cfg, b, &ep);
	if (creds)
		*creds = conf.creds;
	conf.probe_conditional_put = true;
	s = bfs_s3_create(&conf, err, errlen);
	if (s == NULL)
		rc = errno ? errno : EIO;
	bfs_secret_free(ssec);
out:
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

/*
 * Under -o debug=store, a trace layer over the driver logs every call
 * that reaches it (what the caches did not answer); otherwise s as is.
 */
static struct bfs_store *traced(struct bfs_store *s)
{
	return (bfs_log_debug_mask & BFS_DBG_STORE) ? bfs_trace_create(s) : s;
}

struct bfs_store *bfs_stack_open(const struct bfs_config *cfg,
				 const struct bfs_bucket_conf *b,
				 struct bfs_creds **creds, char *err,
				 size_t errlen)
{
	struct bfs_store *s;

	if (creds)
		*creds = NULL;
	if (b->provider == BFS_PROVIDER_LOCAL) {
		s = bfs_local_create(b->name, b->dir, err, errlen);
		return s ? traced(s) : NULL;
	}
	s = open_s3(cfg, b, creds, err, errlen);
	if (s == NULL) {
		if (creds)
			*creds = NULL;
		return NULL;
	}
	return add_caches(cfg, b, traced(s), err, errlen);
}
