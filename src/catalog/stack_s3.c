/*
 * stack_s3.c - a bucket's S3 store configuration (see stack_s3.h).
 */
#include "compat.h"

#include "catalog/stack_s3.h"
#include "secret.h"

void bfs_stack_s3_conf(const struct bfs_config *cfg,
		       const struct bfs_bucket_conf *b,
		       const struct bfs_endpoint *ep, const char *access_key_id,
		       const char *secret_access_key, struct bfs_s3_conf *conf)
{
	const struct bfs_options *o = &cfg->opts;

	memset(conf, 0, sizeof(*conf));
	conf->name = b->name;
	conf->base_url = ep->base_url;
	conf->host = ep->host;
	conf->bucket = b->bucket;
	conf->region = ep->region;
	conf->path_style = ep->path_style;
	conf->access_key_id = access_key_id;
	conf->secret_access_key = secret_access_key;
	conf->connections = o->connections;
	conf->connect_timeout = o->connect_timeout;
	conf->request_timeout = o->request_timeout;
	conf->op_timeout = o->op_timeout;
	conf->retries = o->retries;
	conf->max_keys = o->max_keys;
	conf->ca_file = b->ca_bundle;
	conf->proxy = b->proxy;
	conf->sse = b->sse == BFS_SSE_S3    ? "AES256"
		    : b->sse == BFS_SSE_KMS ? "aws:kms"
					    : NULL;
	conf->sse_kms_key_id = b->sse == BFS_SSE_KMS ? b->sse_kms_key_id : NULL;
	conf->storage_class = b->storage_class;
	conf->requester_pays = b->requester_pays;
}

void bfs_stack_s3_sse_key(const struct bfs_config *cfg,
			  const struct bfs_bucket_conf *b,
			  struct bfs_s3_conf *conf, struct bfs_secret **key,
			  char *why, size_t whylen)
{
	char err[512] = "";

	*key = NULL;
	if (b->sse != BFS_SSE_C)
		return;
	if (bfs_bucket_sse_key(cfg, b, key, err, sizeof(err)) == 0) {
		conf->sse_customer_key = (*key)->data;
		return;
	}
	snprintf(why, whylen, "%s", err);
	conf->sse_key_error = why;
}
