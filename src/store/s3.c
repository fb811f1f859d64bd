/*
 * s3.c - the S3 store driver (see s3.h, s3_priv.h): its state,
 * creation from a bucket's configuration, start, stats, shutdown and
 * destruction, and the last error a caller can show.
 */
#include "compat.h"

#include "store/s3_priv.h"

/* ---- lifecycle ---- */

static int s3_start(struct bfs_store *s)
{
	int rc = 0;

	if (!s3_http(s->priv, &rc))
		return rc ? rc : ENOMEM;
	return 0;
}

static void s3_get_stats(struct bfs_store *s, struct bfs_store_stats *out)
{
	struct s3_priv *p = s->priv;
	struct bfs_http_stats hs = {0};
	struct bfs_http *h;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	h = p->http;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (h)
		bfs_http_get_stats(h, &hs);
	out->requests = hs.requests;
	out->retries = hs.retries;
	out->errors = atomic_load(&p->errors);
	out->bytes_in = hs.bytes_in;
	out->bytes_out = hs.bytes_out;
}

static void s3_shutdown(struct bfs_store *s)
{
	(void)s; /* nothing buffered: every operation completes in its call */
}

static void s3_destroy(struct bfs_store *s)
{
	struct s3_priv *p;

	if (!s)
		return;
	p = s->priv;
	bfs_http_destroy(p->http);
	bfs_creds_free(p->creds);
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p->name);
	free(p->base_url);
	free(p->base_path);
	free(p->host);
	free(p->bucket);
	free(p->region);
	free(p->path_prefix);
	free(p->copy_prefix);
	free(p->ca_file);
	free(p->proxy);
	free(p->sse);
	free(p->sse_kms_key_id);
	free(p->storage_class);
	free(p->sse_key_error);
	bfs_cred_set_put(p->ssec);
	free(p);
}

struct s3_priv *s3_priv_of(struct bfs_store *s)
{
	return bfs_store_is(s, BFS_STORE_KIND_S3) ? s->priv : NULL;
}

int bfs_s3_last_error(struct bfs_store *s, struct bfs_s3_error *out)
{
	struct s3_priv *p = s3_priv_of(bfs_store_layer(s, BFS_STORE_KIND_S3));
	int rc = ENOENT;

	if (!p)
		return EINVAL;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (p->have_last) {
		*out = p->last;
		rc = 0;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return rc;
}

void bfs_s3_clear_error(struct bfs_store *s)
{
	struct s3_priv *p = s3_priv_of(bfs_store_layer(s, BFS_STORE_KIND_S3));

	if (!p)
		return;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->have_last = false;
	memset(&p->last, 0, sizeof(p->last));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

/* Fixed keys of conf into a source of their own, unless one is given. */
static int store_secrets(struct s3_priv *p, const struct bfs_s3_conf *c,
			 char *err, size_t errlen)
{
	if (p->creds || !c->access_key_id)
		return 0;
	p->creds = bfs_creds_fixed(p->name, c->access_key_id,
				   c->secret_access_key, c->session_token);
	if (!p->creds) {
		snprintf(err, errlen, "cannot keep the credentials: %s",
			 strerror(errno));
		return errno ? errno : ENOMEM;
	}
	return 0;
}

/*
 * The SSE-C key (base64 of 32 bytes) and the base64 of its MD5, as S3
 * wants them in every request, into locked memory.
 */
static int store_sse_key(struct s3_priv *p, const char *key_b64, char *err,
			 size_t errlen)
{
	unsigned char raw[64], md5[EVP_MAX_MD_SIZE];
	char md5_b64[32];
	unsigned mlen = 0;
	size_t n;
	int r, rc = 0;

	if (!key_b64)
		return 0;
	n = strlen(key_b64);
	r = n == 44 ? EVP_DecodeBlock(raw, (const unsigned char *)key_b64, 44)
		    : -1;
	/* 44 characters with one '=' of padding decode to 33 bytes */
	if (r != 33 || key_b64[43] != '=' || key_b64[42] == '=' ||
	    !EVP_Digest(raw, 32, md5, &mlen, EVP_md5(), NULL) || mlen != 16) {
		snprintf(err, errlen,
			 "the SSE-C customer key is not 32 bytes in base64");
		rc = EINVAL;
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)md5_b64, md5, 16);
	p->ssec = bfs_cred_set_new(key_b64, md5_b64, NULL, 0);
	if (!p->ssec) {
		rc = errno ? errno : ENOMEM;
		snprintf(err, errlen, "cannot keep the SSE-C key: %s",
			 strerror(rc));
	}
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(md5, sizeof(md5));
	return rc;
}

struct bfs_store *bfs_s3_create(const struct bfs_s3_conf *conf, char *err,
				size_t errlen)
{
	struct s3_priv *p;
	const char *auth, *slash;
	size_t blen;
	int rc;

	if (!conf->base_url || !conf->bucket || !conf->bucket[0]) {
		snprintf(err, errlen,
			 "S3 store needs an endpoint and a bucket");
		bfs_creds_free(conf->creds);
		errno = EINVAL;
		return NULL;
	}
	if (strncmp(conf->base_url, "http://", 7) != 0 &&
	    strncmp(conf->base_url, "https://", 8) != 0) {
		snprintf(err, errlen,
			 "endpoint '%.200s' must start with http:// or "
			 "https://",
			 conf->base_url);
		bfs_creds_free(conf->creds);
		errno = EINVAL;
		return NULL;
	}
	if (conf->access_key_id &&
	    (!conf->secret_access_key || !conf->access_key_id[0])) {
		snprintf(err, errlen, "an access key id needs its secret");
		bfs_creds_free(conf->creds);
		errno = EINVAL;
		return NULL;
	}
	if (!conf->access_key_id && conf->secret_access_key) {
		snprintf(err, errlen, "a secret access key needs its id");
		bfs_creds_free(conf->creds);
		errno = EINVAL;
		return NULL;
	}
	p = bfs_xcalloc(1, sizeof(*p));
	p->creds = conf->creds; /* ours now, whatever happens */
	p->conf = *conf;
	p->conf.creds = NULL;
	p->conf.name = p->conf.base_url = p->conf.host = NULL;
	p->conf.bucket = p->conf.region = NULL;
	p->conf.access_key_id = p->conf.secret_access_key = NULL;
	p->conf.session_token = NULL;
	p->conf.ca_file = p->conf.proxy = NULL;
	p->conf.sse = p->conf.sse_kms_key_id = p->conf.sse_customer_key = NULL;
	p->conf.sse_key_error = p->conf.storage_class = NULL;
	p->ca_file = conf->ca_file ? bfs_xstrdup(conf->ca_file) : NULL;
	p->proxy = conf->proxy ? bfs_xstrdup(conf->proxy) : NULL;
	p->sse = conf->sse ? bfs_xstrdup(conf->sse) : NULL;
	p->sse_kms_key_id =
		conf->sse_kms_key_id ? bfs_xstrdup(conf->sse_kms_key_id) : NULL;
	p->storage_class =
		conf->storage_class ? bfs_xstrdup(conf->storage_class) : NULL;
	p->sse_key_error =
		conf->sse_key_error ? bfs_xstrdup(conf->sse_key_error) : NULL;
	p->store.priv = p;
	p->name =
		bfs_xasprintf("s3:%s", conf->name ? conf->name : conf->bucket);
	p->metrics =
		bfs_metrics_bucket_get(conf->name ? conf->name : conf->bucket);
	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));

	auth = strstr(conf->base_url, "://") + 3;
	slash = strchr(auth, '/');
	blen = slash ? (size_t)(slash - conf->base_url)
		     : strlen(conf->base_url);
	p->base_url = bfs_xstrndup(conf->base_url, blen);
	p->base_path = bfs_xstrdup(slash ? slash : "");
	while (p->base_path[0] && p->base_path[strlen(p->base_path) - 1] == '/')
		p->base_path[strlen(p->base_path) - 1] = '\0';
	p->host = conf->host ? bfs_xstrdup(conf->host)
			     : bfs_xstrndup(auth, slash ? (size_t)(slash - auth)
							: strlen(auth));
	if (!p->host[0]) {
		snprintf(err, errlen, "endpoint '%.200s' has no host",
			 conf->base_url);
		rc = EINVAL;
		goto fail;
	}
	p->bucket = bfs_xstrdup(conf->bucket);
	p->region = bfs_xstrdup(conf->region && conf->region[0] ? conf->region
								: "us-east-1");
	if (conf->path_style) {
		char *b = bfs_sigv4_uri_encode(conf->bucket, false);

		p->path_prefix = bfs_xasprintf("%s/%s", p->base_path, b);
		free(b);
	} else {
		p->path_prefix = bfs_xstrdup(p->base_path);
	}
	p->copy_prefix = bfs_xasprintf("/%s/", conf->bucket);
	rc = store_secrets(p, conf, err, errlen);
	if (rc)
		goto fail;
	rc = store_sse_key(p, conf->sse_customer_key, err, errlen);
	if (rc)
		goto fail;
	if (p->sse_key_error)
		bfs_log(LOG_ERR,
			"%s: %s; every request fails with EACCES until this "
			"is fixed",
			p->name, p->sse_key_error);

	p->store.priv = p;
	p->store.name = p->name;
	p->store.kind = BFS_STORE_KIND_S3;
	p->store.caps = BFS_CAP_MULTIPART;
	if (!conf->no_conditional_put)
		p->store.caps |= BFS_CAP_IF_MATCH | BFS_CAP_IF_NONE_MATCH;
	p->store.start = s3_start;
	p->store.head = s3_head;
	p->store.head_read = s3_head_read;
	p->store.tail_read = s3_tail_read;
	p->store.get_range = s3_get_range;
	p->store.get_range_sink = s3_get_range_sink;
	p->store.put = s3_put;
	p->store.del = s3_del;
	p->store.copy = s3_copy;
	p->store.list = s3_list;
	p->store.mpu_begin = s3_mpu_begin;
	p->store.mpu_part = s3_mpu_part;
	p->store.mpu_complete = s3_mpu_complete;
	p->store.mpu_abort = s3_mpu_abort;
	p->store.get_stats = s3_get_stats;
	p->store.shutdown = s3_shutdown;
	p->store.destroy = s3_destroy;
	return &p->store;
fail:
	s3_destroy(&p->store);
	errno = rc;
	return NULL;
}
