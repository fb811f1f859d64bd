/*
 * s3_request.c - one S3 request (struct s3_op): building and
 * signing it, sending it over net/http, correcting the clock, retrying
 * with backoff and checking the answer.
 */
#include "compat.h"

#include "store/s3_priv.h"

struct s3_ctx {
	struct s3_priv *p;
	struct s3_op *op;
	/* the keys the last attempt was signed with, compared by address
	 * only (to drop them when the server calls them expired) */
	const struct bfs_cred_set *signed_with;
	int64_t signed_offset; /* clock_offset the last attempt used */
	/* Host to sign for after a 307 (NULL: p->host) */
	const char *host;
};

/* 307s followed for one request before its answer counts as an error */
#define MAX_REDIRECTS 3

void op_release(struct s3_op *op)
{
	bfs_http_headers_release(&op->hdrs);
	free(op->path);
	op->path = NULL;
}

struct bfs_http *s3_http(struct s3_priv *p, int *rc)
{
	struct bfs_http *h;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (!p->http) {
		struct bfs_http_conf hc = {
			.connections = p->conf.connections,
			.connect_timeout = p->conf.connect_timeout,
			.request_timeout = p->conf.request_timeout,
			.op_timeout = p->conf.op_timeout,
			.retries = p->conf.retries,
			.backoff_base = p->conf.backoff_base,
			.backoff_max = p->conf.backoff_max,
			.ca_file = p->ca_file,
			.proxy = p->proxy,
			.name = p->name,
		};
		char err[256];

		p->http = bfs_http_create(&hc, err, sizeof(err));
		if (!p->http) {
			*rc = errno ? errno : ENOMEM;
			bfs_log(LOG_ERR, "%s: %s", p->name, err);
		}
	}
	h = p->http;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return h;
}

static int s3_prepare(void *arg, const struct bfs_http_req *req,
		      struct bfs_http_headers *out)
{
	struct s3_ctx *c = arg;
	struct s3_priv *p = c->p;
	struct s3_op *op = c->op;
	struct bfs_sigv4_header *sh;
	struct bfs_sigv4_req sr;
	struct bfs_sigv4_creds creds;
	struct bfs_cred_set *keys = NULL;
	char date[BFS_SIGV4_DATE_LEN];
	char auth[BFS_SIGV4_AUTH_MAX];
	int64_t offset = atomic_load(&p->clock_offset);
	time_t now = time(NULL) + (time_t)offset;
	size_t n = 0;
	int rc;

	(void)req;
	c->signed_offset = offset;
	bfs_http_headers_add(out, "host", c->host ? c->host : p->host);
	if (!p->creds)
		return 0;
	/* per attempt: a retry after a refresh signs with the new keys */
	rc = bfs_creds_get(p->creds, &keys, op->creds_err,
			   sizeof(op->creds_err));
	if (rc != 0) {
		op->no_creds = true;
		return rc;
	}
	c->signed_with = keys;
	bfs_sigv4_amz_date(now, date);
	bfs_http_headers_add(out, "x-amz-date", date);
	bfs_http_headers_add(out, "x-amz-content-sha256",
			     op->payload_hash ? op->payload_hash
					      : EMPTY_SHA256);
	if (keys->session_token)
		bfs_http_headers_add(out, "x-amz-security-token",
				     keys->session_token);
	sh = bfs_xcalloc(out->n + op->hdrs.n, sizeof(*sh));
	for (size_t i = 0; i < out->n; i++)
		sh[n++] = (struct bfs_sigv4_header){out->v[i].name,
						    out->v[i].value};
	for (size_t i = 0; i < op->hdrs.n; i++)
		sh[n++] = (struct bfs_sigv4_header){op->hdrs.v[i].name,
						    op->hdrs.v[i].value};
	sr = (struct bfs_sigv4_req){
		.method = op->method,
		.path = op->path,
		.query = op->query,
		.headers = sh,
		.nheaders = n,
		.payload_hash =
			op->payload_hash ? op->payload_hash : EMPTY_SHA256,
		.region = p->region,
		.service = "s3",
		.now = now,
		.normalize_path = false,
	};
	creds = (struct bfs_sigv4_creds){keys->access_key_id,
					 keys->secret_access_key,
					 keys->session_token};
	rc = bfs_sigv4_sign(&sr, &creds, auth, NULL);
	bfs_cred_set_put(keys);
	free(sh);
	if (rc == 0)
		bfs_http_headers_add(out, "authorization", auth);
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

/*
 * A RequestTimeTooSkewed answer: sign with the server's clock from now
 * on, as the AWS SDKs do, if its Date says how far off ours is.
 * @return whether the offset changed (so a retry may succeed).
 */
static bool resync_clock(struct s3_priv *p, const struct bfs_http_resp *resp,
			 int64_t signed_offset)
{
	const char *date = bfs_http_headers_get(&resp->headers, "date");
	time_t server;
	int64_t off;

	if (!date || bfs_http_parse_date(date, &server) != 0)
		return false;
	off = (int64_t)server - (int64_t)time(NULL);
	/* signed with this offset already: the Date does not help */
	if (signed_offset - off < 60 && off - signed_offset < 60)
		return false;
	atomic_store(&p->clock_offset, off);
	if (off > -60 && off < 60)
		bfs_log(LOG_NOTICE,
			"%s: the server's clock agrees with the local one "
			"again: signing with the local time",
			p->name);
	else
		bfs_log(LOG_WARNING,
			"%s: the server says the request time is too skewed: "
			"the local clock is %lld s %s the server's; signing "
			"with the server's time (fix NTP)",
			p->name, (long long)(off < 0 ? -off : off),
			off < 0 ? "ahead of" : "behind");
	return true;
}

static bool s3_retryable(void *arg, const struct bfs_http_resp *resp)
{
	struct s3_ctx *ctx = arg;
	struct bfs_s3_xml_error e = {0};
	const struct s3_code *c;
	char err[128];
	bool again;

	if (resp->status == 500 && ctx->op->answer_500)
		return false;
	if (resp->status == 429 || resp->status == 500 || resp->status == 502 ||
	    resp->status == 503 || resp->status == 504)
		return true;
	if (!resp->body || bfs_s3_xml_error(resp->body, resp->body_len, &e, err,
					    sizeof(err)) != 0) {
		/* a HEAD's 403 has no body to say RequestTimeTooSkewed: a
		 * Date far from the time we signed with says it (as the
		 * AWS SDKs take it); a denial from a server in step is
		 * not retried */
		if (resp->status == 403)
			return resync_clock(ctx->p, resp, ctx->signed_offset);
		return false;
	}
	c = find_code(e.code);
	again = c && c->retry;
	if (e.code && strcmp(e.code, "RequestTimeTooSkewed") == 0)
		again = resync_clock(ctx->p, resp, ctx->signed_offset);
	if (e.code && ctx->p->creds && bfs_creds_refreshes(ctx->p->creds) &&
	    (strcmp(e.code, "ExpiredToken") == 0 ||
	     strcmp(e.code, "TokenRefreshRequired") == 0 ||
	     strcmp(e.code, "InvalidToken") == 0)) {
		/* temporary keys revoked or expired early: fetch new ones
		 * and send again */
		bfs_creds_invalidate(ctx->p->creds, ctx->signed_with);
		again = true;
	}
	bfs_s3_xml_error_release(&e);
	return again;
}

/* ---- the bucket's options as headers ---- */

/*
 * The headers S3 documents for the bucket's options, into op (signed
 * with it). x-amz-server-side-encryption is sent only where an object
 * is created: S3 refuses it on GET and HEAD.
 */
void option_headers(struct s3_priv *p, struct s3_op *op, unsigned what)
{
	struct bfs_http_headers *h = &op->hdrs;

	if ((what & OPT_WRITE) && p->sse) {
		bfs_http_headers_add(h, "x-amz-server-side-encryption", p->sse);
		if (p->sse_kms_key_id)
			bfs_http_headers_add(
				h,
				"x-amz-server-side-encryption-aws-kms-key-id",
				p->sse_kms_key_id);
	}
	if ((what & OPT_WRITE) && p->storage_class)
		bfs_http_headers_add(h, "x-amz-storage-class",
				     p->storage_class);
	if ((what & OPT_SSEC) && p->ssec) {
		bfs_http_headers_add(
			h, "x-amz-server-side-encryption-customer-algorithm",
			"AES256");
		bfs_http_headers_add(
			h, "x-amz-server-side-encryption-customer-key",
			p->ssec->access_key_id);
		bfs_http_headers_add(
			h, "x-amz-server-side-encryption-customer-key-md5",
			p->ssec->secret_access_key);
	}
	if ((what & OPT_SSEC_SRC) && p->ssec) {
		bfs_http_headers_add(h,
				     "x-amz-copy-source-server-side-encryption-"
				     "customer-algorithm",
				     "AES256");
		bfs_http_headers_add(h,
				     "x-amz-copy-source-server-side-encryption-"
				     "customer-key",
				     p->ssec->access_key_id);
		bfs_http_headers_add(h,
				     "x-amz-copy-source-server-side-encryption-"
				     "customer-key-md5",
				     p->ssec->secret_access_key);
	}
}

/* The server's ETag is the MD5 of the body only without KMS or SSE-C. */
bool etag_is_md5(const struct s3_priv *p)
{
	return !p->ssec && !(p->sse && strcmp(p->sse, "aws:kms") == 0);
}

static char *build_path(struct s3_priv *p, const char *key)
{
	char *enc, *path;

	if (!key)
		return bfs_xstrdup(p->path_prefix[0] ? p->path_prefix : "/");
	enc = bfs_sigv4_uri_encode(key, true);
	path = bfs_xasprintf("%s/%s", p->path_prefix, enc);
	free(enc);
	return path;
}

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * The authority (host[:port]) a 307 sends the request url to, if its
 * Location names the same request (path and query) at another host of
 * the same scheme, as S3's temporary redirects do; else NULL. A Location
 * that changes the request, or https to http, is not followed.
 * @return a copy of the authority, or NULL.
 */
static char *redirect_host(const struct s3_priv *p, const char *url,
			   const char *loc)
{
	size_t slen = (size_t)(strstr(p->base_url, "://") + 3 - p->base_url);
	const char *rest = url + strlen(p->base_url);
	const char *auth, *slash;

	if (!loc || strncmp(loc, p->base_url, slen) != 0)
		return NULL;
	auth = loc + slen;
	slash = strchr(auth, '/');
	if (!slash || slash == auth || strcmp(slash, rest) != 0)
		return NULL;
	for (const char *c = auth; c < slash; c++)
		if ((unsigned char)*c <= ' ' || *c == '@')
			return NULL;
	return bfs_xstrndup(auth, (size_t)(slash - auth));
}

/* Send op once (with the HTTP layer's retries, and following 307s that
 * name the same request at another host, signed for it); resp filled. */
int s3_do(struct s3_priv *p, struct s3_op *op, struct bfs_http_resp *resp)
{
	struct s3_ctx ctx = {p, op, NULL, 0, NULL};
	char *host = NULL;
	struct bfs_http_req req = {0};
	struct bfs_http *h;
	char *url;
	int rc = 0;

	if (p->sse_key_error) {
		op->no_creds = true;
		snprintf(op->creds_err, sizeof(op->creds_err), "%s",
			 p->sse_key_error);
		return EACCES;
	}
	h = s3_http(p, &rc);
	if (!h)
		return rc;
	if (p->conf.requester_pays &&
	    !bfs_http_headers_get(&op->hdrs, "x-amz-request-payer"))
		bfs_http_headers_add(&op->hdrs, "x-amz-request-payer",
				     "requester");
	free(op->path);
	op->path = build_path(p, op->key);
	url = bfs_xasprintf("%s%s%s%s", p->base_url, op->path,
			    op->query && op->query[0] ? "?" : "",
			    op->query ? op->query : "");
	req.method = op->method;
	req.url = url;
	req.headers = &op->hdrs;
	req.body = op->body;
	req.idempotent = op->idempotent;
	req.prepare = s3_prepare;
	req.retryable = s3_retryable;
	req.arg = &ctx;
	req.buf = op->buf;
	req.buf_size = op->buf_size;
	req.max_body = op->max_body;
	req.truncate = op->truncate;
	req.skip_if_200 = op->skip_if_200;
	req.on_body = op->on_body;
	req.on_body_arg = op->on_body_arg;
	req.ring = op->ring;
	req.ring_done = op->ring_done;
	if (op->t0_usec == 0)
		op->t0_usec = mono_usec();
	rc = bfs_http_do(h, &req, resp);
	for (int hop = 0; rc == 0 && resp->status == 307 && hop < MAX_REDIRECTS;
	     hop++) {
		const char *loc =
			bfs_http_headers_get(&resp->headers, "location");
		char *to = redirect_host(p, url, loc);
		char shown[512];

		if (!to)
			break; /* s3_check names it with the endpoint */
		bfs_http_redact_url(loc, shown, sizeof(shown));
		bfs_log(LOG_INFO,
			"%s: %s %s%s: 307 TemporaryRedirect to %s, following "
			"it signed for '%s'",
			p->name, op->method, p->base_url, op->path, shown, to);
		free(url);
		url = bfs_xstrdup(loc);
		free(host);
		host = to;
		ctx.host = host;
		req.url = url;
		op->bytes_in += resp->bytes_in;
		op->bytes_out += resp->bytes_out;
		bfs_http_resp_release(resp);
		memset(resp, 0, sizeof(*resp));
		rc = bfs_http_do(h, &req, resp);
	}
	op->bytes_in += resp->bytes_in;
	op->bytes_out += resp->bytes_out;
	free(url);
	free(host);
	return rc;
}

/* Log-safe copy of s: at most max bytes, control bytes as '?'. */
void clean(char *dst, size_t dstlen, const char *s, size_t max)
{
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; s && s[i] && i < max && i + 1 < dstlen; i++)
		dst[i] =
			(unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	dst[i] = '\0';
}

/* What log lines name: the key, else what the op says it acts on. */
static const char *op_logkey(const struct s3_op *op)
{
	if (op->key)
		return op->key;
	return op->logkey ? op->logkey : "";
}

/*
 * Record and log a failure of op. code/message/region/endpoint may be
 * NULL. @return err.
 */
int s3_fail(struct s3_priv *p, const struct s3_op *op, int err, int level,
	    long status, enum bfs_http_fail transport, const char *code,
	    const char *message, const char *hint, const char *region,
	    const char *endpoint, unsigned retries)
{
	struct bfs_s3_error e = {
		.err = err, .status = status, .transport = transport};
	char key[208], extra[200] = "";

	snprintf(e.op, sizeof(e.op), "%s", op->opname);
	clean(e.code, sizeof(e.code), code, sizeof(e.code) - 1);
	clean(e.message, sizeof(e.message), message, sizeof(e.message) - 1);
	clean(e.hint, sizeof(e.hint), hint, sizeof(e.hint) - 1);
	clean(e.region, sizeof(e.region), region, sizeof(e.region) - 1);
	clean(e.endpoint, sizeof(e.endpoint), endpoint, sizeof(e.endpoint) - 1);
	clean(key, sizeof(key), op_logkey(op), 200);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->last = e;
	p->have_last = true;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	atomic_fetch_add(&p->errors, 1);

	if (e.region[0] && e.endpoint[0])
		snprintf(extra, sizeof(extra), " [region %s, endpoint %.60s]",
			 e.region, e.endpoint);
	else if (e.region[0])
		snprintf(extra, sizeof(extra), " [region %s]", e.region);
	else if (e.endpoint[0])
		snprintf(extra, sizeof(extra), " [endpoint %.100s]",
			 e.endpoint);
	if (status)
		bfs_log(level, "%s: %s '%s': %s (HTTP %ld)%s%s%s%s%s", p->name,
			op->opname, key, e.code[0] ? e.code : "error", status,
			e.message[0] ? ": " : "", e.message,
			e.hint[0] ? " - " : "", e.hint, extra);
	else
		bfs_log(level, "%s: %s '%s': %s%s", p->name, op->opname, key,
			e.message, retries ? " (after retries)" : "");
	return err;
}

/*
 * Map the outcome of s3_do: 0 for a usable 2xx response, else the errno
 * (logged and recorded once here).
 */
static int s3_check_answer(struct s3_priv *p, struct s3_op *op,
			   struct bfs_http_resp *resp, int rc)
{
	struct bfs_s3_xml_error e = {0};
	const struct s3_code *c = NULL;
	const char *region, *msg;
	char xerr[160];
	int err, level;
	const char *name = NULL;
	bool embedded = false;

	if (rc != 0 && op->no_creds)
		return s3_fail(p, op, rc, LOG_DEBUG, 0, BFS_HTTP_LOCAL,
			       "NoCredentials", op->creds_err,
			       "the bucket has no usable credentials", NULL,
			       NULL, 0);
	if (rc != 0)
		/* an interrupted caller is no fault of the server's */
		return s3_fail(p, op, rc,
			       rc == EFBIG     ? LOG_ERR
			       : rc == EINTR   ? LOG_INFO
			       : rc == ENOBUFS ? LOG_DEBUG
					       : LOG_WARNING,
			       0, resp->fail, NULL, resp->error, NULL, NULL,
			       NULL, resp->retries);
	if (resp->status >= 200 && resp->status < 300) {
		if (!op->embeds_error ||
		    !bfs_s3_xml_is_error(resp->body, resp->body_len))
			return 0;
		embedded = true;
	}
	if (resp->body_len && bfs_s3_xml_error(resp->body, resp->body_len, &e,
					       xerr, sizeof(xerr)) == 0)
		c = find_code(e.code);
	if (c) {
		err = c->err;
		level = c->level;
	} else {
		err = EIO;
		level = LOG_WARNING;
		const struct s3_status *st =
			embedded ? NULL : find_status(resp->status);

		if (st) {
			err = st->err;
			level = st->level;
			name = st->name;
		}
	}
	if (err == ESTALE && op->err_412)
		err = op->err_412;
	if (op->quiet_err && err == op->quiet_err)
		level = LOG_DEBUG;
	region = e.region ? e.region
		 : e.bucket_region
			 ? e.bucket_region
			 : bfs_http_headers_get(&resp->headers,
						"x-amz-bucket-region");
	msg = e.message;
	if (!e.code && !name)
		msg = "unexpected response";
	err = s3_fail(p, op, err, level, resp->status, BFS_HTTP_OK,
		      e.code ? e.code : name, msg, c ? c->hint : NULL, region,
		      e.endpoint, resp->retries);
	bfs_s3_xml_error_release(&e);
	return err;
}

/* s3_check_answer, and the request counted in the bucket's metrics. */
int s3_check(struct s3_priv *p, struct s3_op *op, struct bfs_http_resp *resp,
	     int rc)
{
	int err = s3_check_answer(p, op, resp, rc);
	uint64_t now = mono_usec();

	bfs_metrics_request(p->metrics, op->opname, rc == 0 ? resp->status : 0,
			    err, op->t0_usec ? now - op->t0_usec : 0,
			    resp->retries, op->bytes_in, op->bytes_out);
	/* an op may be sent again (a fallback): count that one afresh */
	op->t0_usec = op->bytes_in = op->bytes_out = 0;
	return err;
}

/*
 * Sleep before retry n of a request begun at t0 (mono_usec): the jittered
 * backoff every retry loop uses, so that clients retrying together spread
 * out. The wait counts against op_timeout like the attempts do.
 * @return 0, or ETIMEDOUT when the wait would end past the deadline (no
 *         sleep then).
 */
static int sleep_backoff(const struct s3_priv *p, unsigned n, uint64_t t0)
{
	double base = p->conf.backoff_base > 0 ? p->conf.backoff_base : 0.1;
	double cap = p->conf.backoff_max > 0 ? p->conf.backoff_max : 20;
	double limit = p->conf.op_timeout > 0 ? p->conf.op_timeout : 30;
	double d = bfs_backoff(base, cap, n);

	if ((double)(mono_usec() - t0) / 1e6 + d >= limit)
		return ETIMEDOUT;
	bfs_sleep_seconds(d);
	return 0;
}

/*
 * s3_do + s3_check, and for requests whose 200 may carry an <Error>
 * (CopyObject, UploadPartCopy, CompleteMultipartUpload), the retries the
 * HTTP layer cannot see.
 */
int s3_run(struct s3_priv *p, struct s3_op *op, struct bfs_http_resp *resp)
{
	uint64_t t0 = mono_usec();
	unsigned n = 0;
	int rc;

	for (;;) {
		bool again = false;

		rc = s3_do(p, op, resp);
		if (rc == 0 && op->embeds_error && resp->status == 200 &&
		    bfs_s3_xml_is_error(resp->body, resp->body_len) &&
		    n < p->conf.retries) {
			/* s3_retryable takes the request's context, not p */
			struct s3_ctx ctx = {p, op, NULL,
					     atomic_load(&p->clock_offset),
					     NULL};

			again = s3_retryable(&ctx, resp);
		}
		if (!again)
			break;
		/* out of time: the error inside the 200 is the answer */
		if (sleep_backoff(p, n, t0) != 0)
			break;
		{
			struct bfs_s3_xml_error e = {0};
			char xerr[64], key[208];

			bfs_s3_xml_error(resp->body, resp->body_len, &e, xerr,
					 sizeof(xerr));
			clean(key, sizeof(key), op_logkey(op), 200);
			bfs_log(LOG_INFO,
				"%s: %s '%s': %s inside a 200 response, "
				"retry %u/%u",
				p->name, op->opname, key,
				e.code ? e.code : "an error", n + 1,
				p->conf.retries);
			bfs_s3_xml_error_release(&e);
		}
		n++;
		bfs_http_resp_release(resp);
		memset(resp, 0, sizeof(*resp));
	}
	return s3_check(p, op, resp, rc);
}
