/*
 * s3.c - the S3 store driver (see s3.h): request building and signing,
 * the one table that maps S3 errors to errnos, and every store operation.
 */
#include "compat.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "net/http.h"
#include "store/creds.h"
#include "store/s3.h"
#include "store/s3_xml.h"
#include "store/sigv4.h"

#define EMPTY_SHA256                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_PARTS	     10000
#define MAX_COPY_SIZE	     (5ULL << 30)
#define LIST_BODY_MAX	     (8u << 20)
#define DELETE_BATCH	     1000
#define DEFAULT_CONTENT_TYPE "application/octet-stream"

struct s3_priv {
	struct bfs_store store;
	char *name;	 /* "s3:NAME" */
	char *base_url;	 /* scheme://authority, no trailing '/' */
	char *base_path; /* path under the authority, "" or "/x" */
	char *host;	 /* Host header */
	char *bucket;
	char *region;
	char *path_prefix; /* base_path + "/bucket" (path style) */
	char *copy_prefix; /* "/bucket/" for x-amz-copy-source */
	char *ca_file;
	struct bfs_s3_conf conf; /* numbers and flags; strings not kept */
	struct bfs_metrics_bucket *metrics; /* this bucket's counters */

	/* where the keys come from (creds.h); NULL: anonymous requests */
	struct bfs_creds *creds;

	pthread_mutex_t lock;
	struct bfs_http *http;	     /* protected by lock until set */
	struct bfs_s3_error last;    /* protected by lock */
	bool have_last;		     /* protected by lock */
	atomic_bool if_match_broken; /* server 412s a matching If-Match */
	/* conditional PUT probed once: 0 not yet, 1 honoured, 2 ignored
	 * (s3rver) */
	atomic_int cond_put;
	/* the server fails truncated ListObjectsV2 pages (s3rver): page
	 * with ListObjects v1 and markers instead */
	atomic_bool list_v1;
	/* a truncated v2 page has been answered: a 500 is a fault here */
	atomic_bool list_v2_pages;
	/* seconds to add to the local clock when signing, learnt from the
	 * Date of a RequestTimeTooSkewed answer */
	_Atomic int64_t clock_offset;
	_Atomic uint64_t errors;
};

/* ---- the S3 error table: the one place codes become errnos ---- */

struct s3_code {
	const char *code;
	int err;
	int level; /* syslog level of the log line */
	bool retry;
	const char *hint;
};

static const struct s3_code s3_codes[] = {
	{"AccessDenied", EACCES, LOG_ERR, false,
	 "the credentials lack permission for this request"},
	{"AllAccessDisabled", EACCES, LOG_ERR, false,
	 "all access to this bucket has been disabled"},
	{"AccountProblem", EACCES, LOG_ERR, false,
	 "the provider account has a problem; see its console"},
	{"InvalidAccessKeyId", EACCES, LOG_ERR, false,
	 "unknown access key id: check access_key_id"},
	{"SignatureDoesNotMatch", EACCES, LOG_ERR, false,
	 "wrong secret access key for this access key id"},
	{"RequestTimeTooSkewed", EACCES, LOG_ERR, false,
	 "the local clock is off by more than 15 minutes and the server's "
	 "Date did not help: fix NTP"},
	{"ExpiredToken", EACCES, LOG_ERR, false,
	 "the session token has expired"},
	{"InvalidToken", EACCES, LOG_ERR, false,
	 "the session token is malformed or invalid"},
	{"TokenRefreshRequired", EACCES, LOG_ERR, false,
	 "the session token must be refreshed"},
	{"MissingSecurityHeader", EACCES, LOG_ERR, false,
	 "a required header is missing (x-amz-content-sha256?)"},
	{"AuthorizationHeaderMalformed", EREMOTE, LOG_ERR, false,
	 "wrong region for this bucket: set region to the one named"},
	{"PermanentRedirect", EREMOTE, LOG_ERR, false,
	 "the bucket lives at another endpoint or region: set region"},
	{"TemporaryRedirect", EREMOTE, LOG_ERR, false,
	 "the bucket is being moved; use the endpoint named"},
	{"IllegalLocationConstraintException", EREMOTE, LOG_ERR, false,
	 "the bucket is in another region: set region"},
	{"InvalidLocationConstraint", EINVAL, LOG_ERR, false,
	 "the server does not know this region: check region"},
	{"NoSuchBucket", ENXIO, LOG_ERR, false,
	 "the bucket does not exist: check the bucket name"},
	{"NoSuchKey", ENOENT, LOG_DEBUG, false, ""},
	{"NoSuchUpload", ENOENT, LOG_WARNING, false,
	 "the multipart upload was aborted or completed already"},
	{"NoSuchVersion", ENOENT, LOG_DEBUG, false, ""},
	{"PreconditionFailed", ESTALE, LOG_DEBUG, false, ""},
	{"ConditionalRequestConflict", ESTALE, LOG_INFO, false,
	 "another writer raced this conditional request"},
	{"InvalidRange", ERANGE, LOG_DEBUG, false, ""},
	{"SlowDown", EIO, LOG_WARNING, true,
	 "the server throttles requests: lower connections"},
	{"ServiceUnavailable", EIO, LOG_WARNING, true,
	 "the server is overloaded or down"},
	{"InternalError", EIO, LOG_WARNING, true, "the server failed"},
	{"RequestTimeout", EIO, LOG_WARNING, true,
	 "the body did not arrive in time"},
	{"BadDigest", EIO, LOG_WARNING, true,
	 "Content-MD5 mismatch: data changed in transit"},
	{"XAmzContentSHA256Mismatch", EIO, LOG_WARNING, true,
	 "payload hash mismatch: data changed in transit"},
	{"InvalidDigest", EIO, LOG_ERR, false, "the Content-MD5 is malformed"},
	{"IncompleteBody", EIO, LOG_WARNING, true,
	 "the body was shorter than Content-Length"},
	{"OperationAborted", EIO, LOG_WARNING, true,
	 "a conflicting operation is in progress"},
	{"InvalidObjectState", EIO, LOG_ERR, false,
	 "the object is archived: restore it first"},
	{"KeyTooLongError", ENAMETOOLONG, LOG_INFO, false,
	 "keys are limited to 1024 bytes"},
	{"EntityTooLarge", EFBIG, LOG_ERR, false,
	 "the object or part is larger than the server accepts"},
	{"EntityTooSmall", EINVAL, LOG_ERR, false,
	 "a multipart part is below the 5 MiB minimum"},
	{"InvalidPart", EINVAL, LOG_ERR, false,
	 "a part of the multipart upload is missing or its ETag is wrong"},
	{"InvalidPartOrder", EINVAL, LOG_ERR, false,
	 "multipart parts are not in ascending order"},
	{"InvalidBucketName", EINVAL, LOG_ERR, false,
	 "the bucket name is not valid"},
	{"InvalidArgument", EINVAL, LOG_ERR, false, ""},
	{"InvalidRequest", EINVAL, LOG_ERR, false, ""},
	{"MalformedXML", EINVAL, LOG_ERR, false, ""},
	{"MissingContentLength", EINVAL, LOG_ERR, false, ""},
	{"InvalidURI", EINVAL, LOG_ERR, false, ""},
	{"MethodNotAllowed", ENOTSUP, LOG_ERR, false,
	 "the server does not allow this request here"},
	{"NotImplemented", ENOTSUP, LOG_ERR, false,
	 "the server does not implement this request"},
	{"QuotaExceeded", EDQUOT, LOG_ERR, false, "the user's quota is full"},
	{"TooManyBuckets", EDQUOT, LOG_ERR, false,
	 "the account has too many buckets"},
	{"BucketAlreadyExists", EEXIST, LOG_ERR, false,
	 "the bucket name belongs to another account"},
	{"BucketAlreadyOwnedByYou", EEXIST, LOG_INFO, false, ""},
	{"BucketNotEmpty", ENOTEMPTY, LOG_ERR, false, ""},
};

/* A response without a known code: the status decides. */
static const struct {
	long status;
	int err;
	int level;
	const char *name;
} s3_statuses[] = {
	{301, EREMOTE, LOG_ERR, "PermanentRedirect"},
	{307, EREMOTE, LOG_ERR, "TemporaryRedirect"},
	{400, EINVAL, LOG_ERR, "BadRequest"},
	{401, EACCES, LOG_ERR, "Unauthorized"},
	{403, EACCES, LOG_ERR, "Forbidden"},
	{404, ENOENT, LOG_DEBUG, "NotFound"},
	{405, ENOTSUP, LOG_ERR, "MethodNotAllowed"},
	{409, EBUSY, LOG_WARNING, "Conflict"},
	{411, EINVAL, LOG_ERR, "LengthRequired"},
	{412, ESTALE, LOG_DEBUG, "PreconditionFailed"},
	{416, ERANGE, LOG_DEBUG, "InvalidRange"},
	{429, EIO, LOG_WARNING, "TooManyRequests"},
	{500, EIO, LOG_WARNING, "InternalError"},
	{501, ENOTSUP, LOG_ERR, "NotImplemented"},
	{503, EIO, LOG_WARNING, "ServiceUnavailable"},
};

static const struct s3_code *find_code(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(s3_codes); i++)
		if (strcmp(s3_codes[i].code, code) == 0)
			return &s3_codes[i];
	return NULL;
}

/* ---- one request ---- */

struct s3_op {
	/* set by s3_prepare: no keys to sign with (the credential source
	 * logged why, once); the cause, for bfs_s3_last_error() */
	bool no_creds;
	char creds_err[256];
	const char *opname; /* for log lines: "HEAD", "LIST", ... */
	const char *method;
	const char *key;	      /* NULL: the bucket itself */
	const char *query;	      /* raw, encoded, sorted; or NULL */
	struct bfs_http_headers hdrs; /* extra headers, all signed */
	const char *payload_hash;     /* NULL: hash of the empty body */
	struct bfs_http_body body;
	void *buf;
	size_t buf_size;
	size_t max_body;
	bool truncate;	      /* see bfs_http_req */
	uint64_t skip_if_200; /* see bfs_http_req */
	bool idempotent;      /* a POST that may be sent twice */
	bool embeds_error;    /* a 200 may carry <Error> (copy, complete) */
	int quiet_err;	      /* an errno that is an answer here (debug) */
	int err_412;	      /* errno for 412 (ESTALE or EEXIST) */
	bool answer_500;      /* no retries on 500: the caller falls back */
	char *path;	      /* encoded path, built by s3_do */
	uint64_t t0_usec;     /* when the first attempt started (metrics) */
	uint64_t bytes_in, bytes_out; /* over every s3_do of the op */
};

struct s3_ctx {
	struct s3_priv *p;
	struct s3_op *op;
	/* the keys the last attempt was signed with, compared by address
	 * only (to drop them when the server calls them expired) */
	const struct bfs_cred_set *signed_with;
	int64_t signed_offset; /* clock_offset the last attempt used */
};

static void op_release(struct s3_op *op)
{
	bfs_http_headers_release(&op->hdrs);
	free(op->path);
	op->path = NULL;
}

static struct bfs_http *s3_http(struct s3_priv *p, int *rc)
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
	bfs_http_headers_add(out, "host", p->host);
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
					    sizeof(err)) != 0)
		return false;
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

/* Send op once (with the HTTP layer's retries); resp filled. */
static int s3_do(struct s3_priv *p, struct s3_op *op,
		 struct bfs_http_resp *resp)
{
	struct s3_ctx ctx = {p, op, NULL, 0};
	struct bfs_http_req req = {0};
	struct bfs_http *h;
	char *url;
	int rc = 0;

	h = s3_http(p, &rc);
	if (!h)
		return rc;
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
	if (op->t0_usec == 0)
		op->t0_usec = mono_usec();
	rc = bfs_http_do(h, &req, resp);
	op->bytes_in += resp->bytes_in;
	op->bytes_out += resp->bytes_out;
	free(url);
	return rc;
}

/* Log-safe copy of s: at most max bytes, control bytes as '?'. */
static void clean(char *dst, size_t dstlen, const char *s, size_t max)
{
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; s && s[i] && i < max && i + 1 < dstlen; i++)
		dst[i] =
			(unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	dst[i] = '\0';
}

/*
 * Record and log a failure of op. code/message/region/endpoint may be
 * NULL. @return err.
 */
static int s3_fail(struct s3_priv *p, const struct s3_op *op, int err,
		   int level, long status, enum bfs_http_fail transport,
		   const char *code, const char *message, const char *hint,
		   const char *region, const char *endpoint, unsigned retries)
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
	clean(key, sizeof(key), op->key ? op->key : "", 200);
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
		return s3_fail(p, op, rc, rc == EFBIG ? LOG_ERR : LOG_WARNING,
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
		for (size_t i = 0; !embedded && i < BFS_ARRAY_SIZE(s3_statuses);
		     i++) {
			if (s3_statuses[i].status == resp->status) {
				err = s3_statuses[i].err;
				level = s3_statuses[i].level;
				name = s3_statuses[i].name;
			}
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
static int s3_check(struct s3_priv *p, struct s3_op *op,
		    struct bfs_http_resp *resp, int rc)
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

static void sleep_backoff(const struct s3_priv *p, unsigned n)
{
	double base = p->conf.backoff_base > 0 ? p->conf.backoff_base : 0.1;
	double cap = p->conf.backoff_max > 0 ? p->conf.backoff_max : 20;
	double d = base * (double)(1u << BFS_MIN(n, 20u));
	struct timespec ts;

	if (d > cap)
		d = cap;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/*
 * s3_do + s3_check, and for requests whose 200 may carry an <Error>
 * (CopyObject, UploadPartCopy, CompleteMultipartUpload), the retries the
 * HTTP layer cannot see.
 */
static int s3_run(struct s3_priv *p, struct s3_op *op,
		  struct bfs_http_resp *resp)
{
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
					     atomic_load(&p->clock_offset)};

			again = s3_retryable(&ctx, resp);
		}
		if (!again)
			break;
		bfs_log(LOG_INFO,
			"%s: %s: error inside a 200 response, "
			"retry %u/%u",
			p->name, op->opname, n + 1, p->conf.retries);
		sleep_backoff(p, n++);
		bfs_http_resp_release(resp);
		memset(resp, 0, sizeof(*resp));
	}
	return s3_check(p, op, resp, rc);
}

/* ---- helpers ---- */

static int check_key(const char *key)
{
	if (!key || !key[0])
		return EINVAL;
	if (strlen(key) > BFS_KEY_MAX)
		return ENAMETOOLONG;
	return 0;
}

/* Append "&name=value" (value encoded) to a query being built. */
static void qadd(char **q, const char *name, const char *value)
{
	char *enc = bfs_sigv4_uri_encode(value ? value : "", false);
	char *n = bfs_xasprintf("%s%s%s=%s", *q ? *q : "", *q ? "&" : "", name,
				enc);

	free(enc);
	free(*q);
	*q = n;
}

static bool meta_name_ok(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

static bool header_value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

static int add_meta(struct bfs_http_headers *h, const struct bfs_meta_list *m)
{
	for (size_t i = 0; m && i < m->n; i++) {
		char *name;

		if (!meta_name_ok(m->items[i].name) ||
		    !header_value_ok(m->items[i].value))
			return EINVAL;
		name = bfs_xasprintf("x-amz-meta-%s", m->items[i].name);
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		bfs_http_headers_add(h, name, m->items[i].value);
		free(name);
	}
	return 0;
}

static void etag_from_headers(const struct bfs_http_resp *resp, char *etag)
{
	const char *v = bfs_http_headers_get(&resp->headers, "etag");

	etag[0] = '\0';
	if (v && bfs_s3_etag_unquote(v, etag) != 0)
		etag[0] = '\0';
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

struct digests {
	char sha256[BFS_SIGV4_HEX_LEN]; /* hex, or "UNSIGNED-PAYLOAD" */
	char md5_hex[33];
	char md5_b64[25];
};

static void md5_finish(EVP_MD_CTX *md5, struct digests *d)
{
	unsigned char m[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	EVP_DigestFinal_ex(md5, m, &ml);
	hex(m, 16, d->md5_hex);
	EVP_EncodeBlock((unsigned char *)d->md5_b64, m, 16);
}

/* Digests of a memory body. */
static void digest_mem(const void *data, size_t len, struct digests *d)
{
	EVP_MD_CTX *md5 = EVP_MD_CTX_new();

	if (!md5)
		BFS_BUG("EVP_MD_CTX_new: out of memory");
	bfs_sigv4_sha256_hex(data, len, d->sha256);
	EVP_DigestInit_ex(md5, EVP_md5(), NULL);
	EVP_DigestUpdate(md5, data, len);
	md5_finish(md5, d);
	EVP_MD_CTX_free(md5);
}

/*
 * Digests of a file region, read once: SHA-256 for the signature (unless
 * the payload goes unsigned) and MD5 for Content-MD5 and for recognising
 * our own object after an ambiguous retry.
 */
static int digest_fd(struct s3_priv *p, int fd, off_t off, uint64_t len,
		     struct digests *d)
{
	size_t bufsz = 1 << 20;
	unsigned char *buf = bfs_xmalloc(bufsz);
	EVP_MD_CTX *sha = EVP_MD_CTX_new(), *md5 = EVP_MD_CTX_new();
	bool do_sha = !p->conf.unsigned_payload;
	uint64_t done = 0;
	int rc = 0;

	if (!sha || !md5)
		BFS_BUG("EVP_MD_CTX_new: out of memory");
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(md5, EVP_md5(), NULL);
	while (done < len) {
		size_t want = (size_t)BFS_MIN((uint64_t)bufsz, len - done);
		ssize_t r = pread(fd, buf, want, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno;
			break;
		}
		if (r == 0) {
			rc = EIO; /* the region is shorter than its size */
			break;
		}
		if (do_sha)
			EVP_DigestUpdate(sha, buf, (size_t)r);
		EVP_DigestUpdate(md5, buf, (size_t)r);
		done += (uint64_t)r;
	}
	if (rc == 0) {
		if (do_sha) {
			unsigned char s[EVP_MAX_MD_SIZE];
			unsigned sl = 0;

			EVP_DigestFinal_ex(sha, s, &sl);
			hex(s, 32, d->sha256);
		} else {
			snprintf(d->sha256, sizeof(d->sha256),
				 "UNSIGNED-PAYLOAD");
		}
		md5_finish(md5, d);
	}
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(md5);
	free(buf);
	return rc;
}

/*
 * A digest the caller gave must be the body's: where the server's ETag is
 * the body's MD5 (plain, not multipart or KMS), say so loudly if it is
 * not ours (the server took the body; the caller's hashing is wrong).
 */
static void check_given_md5(struct s3_priv *p, const struct bfs_put_req *req,
			    const struct digests *d, const char *etag)
{
	if (!req->md5 || strlen(etag) != 32 ||
	    strspn(etag, "0123456789abcdef") != 32)
		return;
	if (strcmp(etag, d->md5_hex) != 0)
		bfs_log(LOG_ERR,
			"%s: PUT '%.200s': the server's MD5 %s is not the "
			"one computed while the file was written (%s)",
			p->name, req->key, etag, d->md5_hex);
}

/* Digests the caller computed (while the file was written). */
static void digest_given(struct s3_priv *p, const unsigned char *md5,
			 const unsigned char *sha256, struct digests *d)
{
	if (p->conf.unsigned_payload)
		snprintf(d->sha256, sizeof(d->sha256), "UNSIGNED-PAYLOAD");
	else
		hex(sha256, 32, d->sha256);
	hex(md5, 16, d->md5_hex);
	EVP_EncodeBlock((unsigned char *)d->md5_b64, md5, 16);
}

static void xml_escape_append(char **buf, size_t *len, size_t *cap,
			      const char *s)
{
	for (; *s; s++) {
		const char *rep = NULL;
		char one[2] = {*s, 0};
		size_t n;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		default:
			rep = one;
		}
		n = strlen(rep);
		if (*len + n + 1 > *cap) {
			*cap = (*len + n + 1) * 2;
			*buf = bfs_xrealloc(*buf, *cap);
		}
		memcpy(*buf + *len, rep, n + 1);
		*len += n;
	}
}

static void str_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = bfs_xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* ---- head ---- */

static int s3_head_op(struct s3_priv *p, const char *key,
		      struct bfs_obj_info *out, char **content_type)
{
	struct s3_op op = {.opname = "HEAD",
			   .method = "HEAD",
			   .key = key,
			   .quiet_err = ENOENT};
	struct bfs_http_resp resp = {0};
	struct bfs_obj_info info = {0};
	const char *v;
	char *end;
	time_t t;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	v = bfs_http_headers_get(&resp.headers, "content-length");
	errno = 0;
	if (!v || (info.size = strtoull(v, &end, 10), errno || *end)) {
		op.quiet_err = 0;
		rc = s3_fail(p, &op, EIO, LOG_WARNING, resp.status, BFS_HTTP_OK,
			     NULL,
			     "HEAD response without a valid Content-Length",
			     NULL, NULL, NULL, 0);
		goto out;
	}
	etag_from_headers(&resp, info.etag);
	v = bfs_http_headers_get(&resp.headers, "last-modified");
	if (v && bfs_http_parse_date(v, &t) == 0)
		info.mtime.tv_sec = t;
	v = bfs_http_headers_get(&resp.headers, "date");
	if (v && bfs_http_parse_date(v, &t) == 0)
		info.answered = t;
	for (size_t i = 0; i < resp.headers.n; i++) {
		const char *n = resp.headers.v[i].name;

		if (strncmp(n, "x-amz-meta-", 11) == 0 && n[11])
			bfs_meta_set(&info.meta, n + 11,
				     resp.headers.v[i].value);
	}
	if (content_type) {
		v = bfs_http_headers_get(&resp.headers, "content-type");
		*content_type = v ? bfs_xstrdup(v) : NULL;
	}
	*out = info;
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

static int s3_head(struct bfs_store *s, const char *key,
		   struct bfs_obj_info *out)
{
	return s3_head_op(s->priv, key, out, NULL);
}

/* ---- get_range ---- */

/* "bytes a-b/n" or "bytes * /n" (no space): the parts present. */
static bool parse_content_range(const char *v, uint64_t *start, uint64_t *total)
{
	unsigned long long a, b, n;

	if (!v)
		return false;
	if (sscanf(v, "bytes %llu-%llu/%llu", &a, &b, &n) == 3) {
		*start = a;
		*total = n;
		return true;
	}
	if (sscanf(v, "bytes */%llu", &n) == 1) {
		*start = UINT64_MAX;
		*total = n;
		return true;
	}
	return false;
}

static int s3_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {.opname = "GET",
			   .method = "GET",
			   .key = key,
			   .buf = buf,
			   .buf_size = len,
			   .quiet_err = ENOENT};
	struct bfs_http_resp resp = {0};
	char range[64], etag[BFS_ETAG_MAX];
	uint64_t start, total;
	int rc;

	*got = 0;
	rc = check_key(key);
	if (rc)
		return rc;
	if (len == 0) {
		struct bfs_obj_info info = {0};

		rc = s3_head_op(p, key, &info, NULL);
		if (rc == 0 && if_match && strcmp(info.etag, if_match) != 0)
			rc = ESTALE;
		else if (rc == 0 && off > info.size)
			rc = ERANGE;
		bfs_obj_info_release(&info);
		return rc;
	}
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
		 (unsigned long long)off, (unsigned long long)(off + len - 1));
	bfs_http_headers_add(&op.hdrs, "range", range);
	if (if_match) {
		char *q = bfs_xasprintf("\"%s\"", if_match);

		bfs_http_headers_add(&op.hdrs, "if-match", q);
		free(q);
	}
	/* a server that ignores part of the Range (s3rver reads "bytes=0-0"
	 * as "bytes=0-") sends more: cut it; one that ignores all of it
	 * sends 200: skip to off */
	op.truncate = true;
	op.skip_if_200 = off;
	rc = s3_do(p, &op, &resp);
	if (rc == 0 && resp.status == 416) {
		/* a read at the end is 0 bytes, not an error */
		const char *cr =
			bfs_http_headers_get(&resp.headers, "content-range");

		if (parse_content_range(cr, &start, &total)) {
			rc = off == total ? 0 : ERANGE;
		} else {
			struct bfs_obj_info info = {0};

			rc = s3_head_op(p, key, &info, NULL);
			if (rc == 0)
				rc = off == info.size ? 0 : ERANGE;
			bfs_obj_info_release(&info);
		}
		goto out;
	}
	rc = s3_check(p, &op, &resp, rc);
	if (rc)
		goto out;
	if (if_match) {
		etag_from_headers(&resp, etag);
		if (etag[0] && strcmp(etag, if_match) != 0) {
			rc = ESTALE; /* a server that ignores If-Match */
			goto out;
		}
	}
	if (resp.status == 206) {
		if (!parse_content_range(bfs_http_headers_get(&resp.headers,
							      "content-range"),
					 &start, &total) ||
		    (start != off && !(total == 0 && off == 0))) {
			rc = s3_fail(p, &op, EIO, LOG_ERR, resp.status,
				     BFS_HTTP_OK, NULL,
				     "206 response with a wrong Content-Range",
				     NULL, NULL, NULL, 0);
			goto out;
		}
	} else if (off > 0) {
		/* the whole object came: its length tells where off was */
		const char *cl =
			bfs_http_headers_get(&resp.headers, "content-length");
		unsigned long long size = cl ? strtoull(cl, NULL, 10) : 0;

		if (off > size)
			rc = ERANGE;
	}
	*got = resp.got;
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* ---- put ---- */

static void cond_headers(struct s3_op *op, const char *if_match,
			 bool if_none_match)
{
	if (if_match) {
		char *q = bfs_xasprintf("\"%s\"", if_match);

		bfs_http_headers_add(&op->hdrs, "if-match", q);
		free(q);
	}
	if (if_none_match) {
		bfs_http_headers_add(&op->hdrs, "if-none-match", "*");
		op->err_412 = EEXIST;
	}
}

/* The current ETag of key into etag ("" if absent). @return 0 or errno. */
static int current_etag(struct s3_priv *p, const char *key, char *etag)
{
	struct bfs_obj_info info = {0};
	int rc = s3_head_op(p, key, &info, NULL);

	etag[0] = '\0';
	if (rc == 0)
		memcpy(etag, info.etag, BFS_ETAG_MAX);
	bfs_obj_info_release(&info);
	return rc;
}

static int put_once(struct s3_priv *p, const struct bfs_put_req *req,
		    const struct digests *d, bool send_if_match, char *etag)
{
	struct s3_op op = {.opname = "PUT", .method = "PUT", .key = req->key};
	struct bfs_http_resp resp = {0};
	int rc;

	op.payload_hash = d->sha256;
	op.body = (struct bfs_http_body){.kind = BFS_HTTP_BODY_FD,
					 .fd = req->fd,
					 .off = req->offset,
					 .len = req->size};
	bfs_http_headers_add(&op.hdrs, "content-type",
			     req->content_type ? req->content_type
					       : DEFAULT_CONTENT_TYPE);
	bfs_http_headers_add(&op.hdrs, "content-md5", d->md5_b64);
	rc = add_meta(&op.hdrs, req->meta);
	if (rc)
		goto out;
	cond_headers(&op, send_if_match ? req->if_match : NULL,
		     req->if_none_match);
	rc = s3_run(p, &op, &resp);
	if (rc == 0)
		etag_from_headers(&resp, etag);
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

static int s3_del(struct bfs_store *s, const char *key);

/*
 * Does the server honour If-None-Match on PUT? Some (s3rver) ignore every
 * condition and overwrite; learn it once, with a probe object written
 * twice, so conditional writes can be emulated there.
 */
static bool cond_put_ignored(struct bfs_store *s)
{
	struct s3_priv *p = s->priv;
	struct bfs_put_req req = {0};
	struct digests d;
	char key[96], etag[BFS_ETAG_MAX];
	int state = atomic_load(&p->cond_put);
	int fd, rc;

	if (state != 0)
		return state == 2;
	if (!p->conf.probe_conditional_put)
		return false;
	fd = memfd_create("bucketfs-probe", MFD_CLOEXEC);
	if (fd < 0 || write(fd, "p", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	snprintf(key, sizeof(key), ".bucketfs-condprobe-%ld-%lx",
		 (long)getpid(), (unsigned long)random());
	req.key = key;
	req.fd = fd;
	req.size = 1;
	rc = digest_fd(p, fd, 0, 1, &d);
	if (rc == 0)
		rc = put_once(p, &req, &d, false, etag);
	if (rc == 0) {
		req.if_none_match = true;
		rc = put_once(p, &req, &d, false, etag);
		state = rc == 0 ? 2 : (rc == EEXIST || rc == ESTALE) ? 1 : 0;
		s3_del(s, key);
	}
	close(fd);
	if (state == 2)
		bfs_log(LOG_NOTICE,
			"%s: the server ignores conditional PUTs: comparing "
			"ETags with a HEAD before each conditional write "
			"instead (a small race remains)",
			p->name);
	if (state != 0)
		atomic_store(&p->cond_put, state);
	return state == 2;
}

static int s3_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	struct s3_priv *p = s->priv;
	char etag[BFS_ETAG_MAX] = "", cur[BFS_ETAG_MAX];
	bool send_if_match = req->if_match != NULL;
	struct digests d;
	int rc;

	rc = check_key(req->key);
	if (rc)
		return rc;
	if (req->md5 && req->sha256)
		digest_given(p, req->md5, req->sha256, &d);
	else
		rc = digest_fd(p, req->fd, req->offset, req->size, &d);
	if (rc) {
		bfs_log(LOG_ERR,
			"%s: PUT '%.200s': cannot read the data to "
			"upload: %s",
			p->name, req->key, strerror(rc));
		return rc;
	}
	if ((req->if_match || req->if_none_match) && cond_put_ignored(s)) {
		/* emulated: check, then write (a small race, documented) */
		rc = current_etag(p, req->key, cur);
		if (rc == 0 && req->if_none_match)
			return EEXIST;
		if (req->if_match &&
		    (rc == ENOENT || (rc == 0 && strcmp(cur, req->if_match))))
			return ESTALE;
		if (rc && rc != ENOENT)
			return rc;
		struct bfs_put_req plain = *req;

		plain.if_match = NULL;
		plain.if_none_match = false;
		rc = put_once(p, &plain, &d, false, etag);
		if (rc == 0 && !etag[0])
			rc = current_etag(p, req->key, etag);
		if (rc == 0)
			check_given_md5(p, req, &d, etag);
		if (rc == 0 && etag_out)
			memcpy(etag_out, etag, BFS_ETAG_MAX);
		return rc;
	}
	if (req->if_match && atomic_load(&p->if_match_broken)) {
		/* emulated: check, then write (a small race, documented) */
		rc = current_etag(p, req->key, cur);
		if (rc == ENOENT || (rc == 0 && strcmp(cur, req->if_match)))
			return ESTALE;
		if (rc)
			return rc;
		send_if_match = false;
	}
	rc = put_once(p, req, &d, send_if_match, etag);
	if ((rc == ESTALE || rc == EEXIST) &&
	    current_etag(p, req->key, cur) == 0) {
		if (strcmp(cur, d.md5_hex) == 0) {
			/*
			 * The key holds exactly our bytes: an earlier attempt
			 * landed and its answer was lost (libcurl also replays
			 * a request on a kept-alive connection that died, so
			 * the retry may not be ours to count).
			 */
			memcpy(etag, cur, sizeof(cur));
			rc = 0;
		} else if (rc == ESTALE && req->if_match &&
			   strcmp(cur, req->if_match) == 0) {
			if (!atomic_exchange(&p->if_match_broken, true))
				bfs_log(LOG_NOTICE,
					"%s: the server refuses a matching "
					"If-Match on PUT (Ceph before 17): "
					"checking the ETag before each "
					"conditional write instead",
					p->name);
			rc = put_once(p, req, &d, false, etag);
		}
	}
	if (rc == 0 && !etag[0])
		rc = current_etag(p, req->key, etag);
	if (rc == 0)
		check_given_md5(p, req, &d, etag);
	if (rc == 0 && etag_out)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
	return rc;
}

/* ---- delete ---- */

static int s3_del(struct bfs_store *s, const char *key)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {.opname = "DELETE",
			   .method = "DELETE",
			   .key = key,
			   .quiet_err = ENOENT};
	struct bfs_http_resp resp = {0};
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	rc = s3_run(p, &op, &resp);
	if (rc == ENOENT)
		rc = 0;
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* ---- multipart ---- */

static int mpu_begin_op(struct s3_priv *p, const char *key,
			const struct bfs_meta_list *meta,
			const char *content_type, char **upload_id)
{
	struct s3_op op = {.opname = "MPU-BEGIN",
			   .method = "POST",
			   .key = key,
			   .query = "uploads=",
			   .idempotent = true};
	struct bfs_http_resp resp = {0};
	char err[200];
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	bfs_http_headers_add(&op.hdrs, "content-type",
			     content_type ? content_type
					  : DEFAULT_CONTENT_TYPE);
	rc = add_meta(&op.hdrs, meta);
	if (rc)
		goto out;
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	rc = bfs_s3_xml_upload_id(resp.body, resp.body_len, upload_id, err,
				  sizeof(err));
	if (rc)
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

static int s3_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			char **upload_id)
{
	return mpu_begin_op(s->priv, req->key, req->meta, req->content_type,
			    upload_id);
}

static char *part_query(int number, const char *upload_id)
{
	char num[16], *q = NULL;

	snprintf(num, sizeof(num), "%d", number);
	qadd(&q, "partNumber", num);
	qadd(&q, "uploadId", upload_id);
	return q;
}

static int s3_mpu_part(struct bfs_store *s, const char *key,
		       const char *upload_id, int number, int fd, off_t off,
		       size_t len, char *etag_out)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {.opname = "MPU-PART", .method = "PUT", .key = key};
	struct bfs_http_resp resp = {0};
	struct digests d;
	char *q;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	if (number < 1 || number > MAX_PARTS || !upload_id)
		return EINVAL;
	rc = digest_fd(p, fd, off, len, &d);
	if (rc) {
		bfs_log(LOG_ERR,
			"%s: MPU-PART '%.200s' #%d: cannot read the "
			"data to upload: %s",
			p->name, key, number, strerror(rc));
		return rc;
	}
	q = part_query(number, upload_id);
	op.query = q;
	op.payload_hash = d.sha256;
	op.body = (struct bfs_http_body){
		.kind = BFS_HTTP_BODY_FD, .fd = fd, .off = off, .len = len};
	bfs_http_headers_add(&op.hdrs, "content-md5", d.md5_b64);
	rc = s3_run(p, &op, &resp);
	if (rc == 0) {
		etag_from_headers(&resp, etag_out);
		if (!etag_out[0])
			rc = s3_fail(p, &op, EIO, LOG_ERR, resp.status,
				     BFS_HTTP_OK, NULL,
				     "UploadPart answer without an ETag", NULL,
				     NULL, NULL, 0);
	}
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The ETag S3 gives a completed multipart upload: MD5 of the parts' binary
 * MD5s, "-", the part count. @return false if a part ETag is not an MD5.
 */
static bool multipart_etag(const struct bfs_part *parts, size_t n, char *out)
{
	EVP_MD_CTX *md5 = EVP_MD_CTX_new();
	unsigned char bin[16], m[EVP_MAX_MD_SIZE];
	unsigned ml = 0;
	bool ok = true;

	if (!md5)
		BFS_BUG("EVP_MD_CTX_new: out of memory");
	EVP_DigestInit_ex(md5, EVP_md5(), NULL);
	for (size_t i = 0; i < n && ok; i++) {
		if (strlen(parts[i].etag) != 32) {
			ok = false;
			break;
		}
		for (int j = 0; j < 16 && ok; j++) {
			int hi = hexval(parts[i].etag[2 * j]);
			int lo = hexval(parts[i].etag[2 * j + 1]);

			ok = hi >= 0 && lo >= 0;
			bin[j] = (unsigned char)(hi << 4 | lo);
		}
		EVP_DigestUpdate(md5, bin, sizeof(bin));
	}
	if (ok) {
		EVP_DigestFinal_ex(md5, m, &ml);
		hex(m, 16, out);
		snprintf(out + 32, BFS_ETAG_MAX - 32, "-%zu", n);
	}
	EVP_MD_CTX_free(md5);
	return ok;
}

/* Whether an upload still exists (ListParts). @return 0, ENOENT, errno. */
static int upload_exists(struct s3_priv *p, const char *key,
			 const char *upload_id)
{
	struct s3_op op = {.opname = "MPU-LIST",
			   .method = "GET",
			   .key = key,
			   .quiet_err = ENOENT};
	struct bfs_http_resp resp = {0};
	char *q = NULL;
	int rc;

	qadd(&q, "max-parts", "1");
	qadd(&q, "uploadId", upload_id);
	op.query = q;
	rc = s3_run(p, &op, &resp);
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

static int mpu_complete_op(struct s3_priv *p, const char *key,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, const char *if_match,
			   bool if_none_match, char *etag_out)
{
	struct s3_op op = {.opname = "MPU-COMPLETE",
			   .method = "POST",
			   .key = key,
			   .idempotent = true,
			   .embeds_error = true};
	struct bfs_http_resp resp = {0};
	char etag[BFS_ETAG_MAX] = "", want[BFS_ETAG_MAX], err[200];
	char *body = NULL, *q = NULL;
	size_t blen = 0, bcap = 0;
	struct digests d;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	if (nparts == 0 || nparts > MAX_PARTS || !upload_id)
		return EINVAL;
	str_append(&body, &blen, &bcap, "<CompleteMultipartUpload>");
	for (size_t i = 0; i < nparts; i++) {
		char num[64];

		if (parts[i].number < 1 || parts[i].number > MAX_PARTS ||
		    (i > 0 && parts[i].number <= parts[i - 1].number)) {
			rc = EINVAL;
			goto out;
		}
		snprintf(num, sizeof(num),
			 "<Part><PartNumber>%d</PartNumber><ETag>\"",
			 parts[i].number);
		str_append(&body, &blen, &bcap, num);
		xml_escape_append(&body, &blen, &bcap, parts[i].etag);
		str_append(&body, &blen, &bcap, "\"</ETag></Part>");
	}
	str_append(&body, &blen, &bcap, "</CompleteMultipartUpload>");
	digest_mem(body, blen, &d);
	qadd(&q, "uploadId", upload_id);
	op.query = q;
	op.payload_hash = d.sha256;
	op.body = (struct bfs_http_body){
		.kind = BFS_HTTP_BODY_MEM, .mem = body, .len = blen};
	bfs_http_headers_add(&op.hdrs, "content-type", "application/xml");
	cond_headers(&op, if_match, if_none_match);
	rc = s3_run(p, &op, &resp);
	if ((rc == ENOENT || (rc == EIO && resp.status >= 500)) &&
	    multipart_etag(parts, nparts, want) &&
	    current_etag(p, key, etag) == 0 && strcmp(etag, want) == 0) {
		/* an earlier attempt completed it and its answer was lost: the
		 * object's ETag is the one these very parts make */
		bfs_log(LOG_NOTICE,
			"%s: MPU-COMPLETE '%.200s': completed by "
			"an earlier attempt",
			p->name, key);
		rc = 0;
		goto done;
	}
	if (rc == EIO && resp.status >= 500 &&
	    upload_exists(p, key, upload_id) == ENOENT) {
		/* RGW answers 500 "completion already in progress" for an
		 * aborted upload: the upload is gone, say so */
		rc = ENOENT;
	}
	if (rc)
		goto out;
	rc = bfs_s3_xml_etag(resp.body, resp.body_len,
			     "CompleteMultipartUploadResult", etag, err,
			     sizeof(err));
	if (rc) {
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
		goto out;
	}
	/* RGW answers an empty ETag: ask for it */
	if (!etag[0])
		rc = current_etag(p, key, etag);
done:
	if (rc == 0 && etag_out)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
out:
	free(body);
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

static int s3_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, char *etag_out)
{
	struct s3_priv *p = s->priv;
	const char *if_match = req->if_match;
	char cur[BFS_ETAG_MAX];
	int rc;

	/*
	 * Check the condition first: not every server honours conditions on
	 * CompleteMultipartUpload (Ceph 16 ignores If-None-Match there), and
	 * one HEAD is little next to a multipart upload. The headers still
	 * go along, so servers that honour them close the race.
	 */
	if (if_match || req->if_none_match) {
		rc = current_etag(p, req->key, cur);
		if (rc != 0 && rc != ENOENT)
			return rc;
		if (req->if_none_match && rc == 0)
			return EEXIST;
		if (if_match && (rc == ENOENT || strcmp(cur, if_match) != 0))
			return ESTALE;
	}
	if (if_match && atomic_load(&p->if_match_broken))
		if_match = NULL;
	rc = mpu_complete_op(p, req->key, upload_id, parts, nparts, if_match,
			     req->if_none_match, etag_out);
	if (rc == ESTALE && if_match && current_etag(p, req->key, cur) == 0 &&
	    strcmp(cur, if_match) == 0) {
		if (!atomic_exchange(&p->if_match_broken, true))
			bfs_log(LOG_NOTICE,
				"%s: the server refuses a matching If-Match "
				"(Ceph before 17): checking the ETag before "
				"each conditional write instead",
				p->name);
		rc = mpu_complete_op(p, req->key, upload_id, parts, nparts,
				     NULL, req->if_none_match, etag_out);
	}
	return rc;
}

static int s3_mpu_abort(struct bfs_store *s, const char *key,
			const char *upload_id)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {
		.opname = "MPU-ABORT", .method = "DELETE", .key = key};
	struct bfs_http_resp resp = {0};
	char *q = NULL;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	if (!upload_id)
		return EINVAL;
	qadd(&q, "uploadId", upload_id);
	op.query = q;
	rc = s3_run(p, &op, &resp);
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* ---- copy ---- */

static void copy_source(struct s3_priv *p, struct s3_op *op, const char *src)
{
	char *enc = bfs_sigv4_uri_encode(src, true);
	char *v = bfs_xasprintf("%s%s", p->copy_prefix, enc);

	bfs_http_headers_add(&op->hdrs, "x-amz-copy-source", v);
	free(v);
	free(enc);
}

static int copy_multipart(struct s3_priv *p, const char *src, const char *dst,
			  const struct bfs_obj_info *si,
			  const struct bfs_meta_list *meta,
			  const char *content_type, char *etag_out)
{
	uint64_t part = p->conf.copy_part_size ? p->conf.copy_part_size
					       : (512ULL << 20);
	struct bfs_part *parts = NULL;
	char *upload_id = NULL;
	size_t nparts;
	int rc;

	while ((si->size + part - 1) / part > MAX_PARTS)
		part *= 2;
	nparts = (size_t)((si->size + part - 1) / part);
	rc = mpu_begin_op(p, dst, meta, content_type, &upload_id);
	if (rc)
		return rc;
	parts = bfs_xcalloc(nparts, sizeof(*parts));
	for (size_t i = 0; i < nparts && rc == 0; i++) {
		struct s3_op op = {.opname = "COPY-PART",
				   .method = "PUT",
				   .key = dst,
				   .embeds_error = true};
		struct bfs_http_resp resp = {0};
		uint64_t a = i * part, b = BFS_MIN(a + part, si->size) - 1;
		char range[64], err[200], *q, *etq;

		q = part_query((int)i + 1, upload_id);
		op.query = q;
		copy_source(p, &op, src);
		snprintf(range, sizeof(range), "bytes=%llu-%llu",
			 (unsigned long long)a, (unsigned long long)b);
		bfs_http_headers_add(&op.hdrs, "x-amz-copy-source-range",
				     range);
		/* every part from the same version of the source */
		etq = bfs_xasprintf("\"%s\"", si->etag);
		bfs_http_headers_add(&op.hdrs, "x-amz-copy-source-if-match",
				     etq);
		free(etq);
		rc = s3_run(p, &op, &resp);
		if (rc == 0) {
			parts[i].number = (int)i + 1;
			rc = bfs_s3_xml_etag(resp.body, resp.body_len,
					     "CopyPartResult", parts[i].etag,
					     err, sizeof(err));
			if (rc)
				s3_fail(p, &op, rc, LOG_ERR, resp.status,
					BFS_HTTP_OK, NULL, err, NULL, NULL,
					NULL, 0);
		}
		free(q);
		op_release(&op);
		bfs_http_resp_release(&resp);
	}
	if (rc == 0)
		rc = mpu_complete_op(p, dst, upload_id, parts, nparts, NULL,
				     false, etag_out);
	if (rc != 0) {
		struct bfs_store *s = &p->store;

		if (s3_mpu_abort(s, dst, upload_id) != 0)
			bfs_log(LOG_WARNING,
				"%s: cannot abort the multipart copy to "
				"'%.200s': the upload is left for a lifecycle "
				"rule",
				p->name, dst);
	}
	free(parts);
	free(upload_id);
	return rc;
}

static int s3_copy(struct bfs_store *s, const char *src, const char *dst,
		   const struct bfs_meta_list *meta, const char *if_match,
		   char *etag_out)
{
	struct s3_priv *p = s->priv;
	uint64_t threshold = p->conf.multipart_copy_threshold
				     ? p->conf.multipart_copy_threshold
				     : MAX_COPY_SIZE;
	struct s3_op op = {.opname = "COPY",
			   .method = "PUT",
			   .key = dst,
			   .embeds_error = true};
	struct bfs_http_resp resp = {0};
	struct bfs_obj_info si = {0};
	char *ctype = NULL, etag[BFS_ETAG_MAX], err[200];
	int rc;

	if ((rc = check_key(src)) || (rc = check_key(dst)))
		return rc;
	/* size (CopyObject stops at 5 GiB), content type and ETag */
	rc = s3_head_op(p, src, &si, &ctype);
	if (rc)
		goto out;
	if (if_match && strcmp(si.etag, if_match) != 0) {
		rc = ESTALE;
		goto out;
	}
	if (si.size > threshold) {
		rc = copy_multipart(p, src, dst, &si, meta ? meta : &si.meta,
				    ctype, etag_out);
		goto out;
	}
	copy_source(p, &op, src);
	if (if_match) {
		char *q = bfs_xasprintf("\"%s\"", if_match);

		bfs_http_headers_add(&op.hdrs, "x-amz-copy-source-if-match", q);
		free(q);
	}
	if (meta) {
		bfs_http_headers_add(&op.hdrs, "x-amz-metadata-directive",
				     "REPLACE");
		bfs_http_headers_add(&op.hdrs, "content-type",
				     ctype ? ctype : DEFAULT_CONTENT_TYPE);
		rc = add_meta(&op.hdrs, meta);
		if (rc)
			goto out;
	}
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	rc = bfs_s3_xml_etag(resp.body, resp.body_len, "CopyObjectResult", etag,
			     err, sizeof(err));
	if (rc) {
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
		goto out;
	}
	if (!etag[0])
		rc = current_etag(p, dst, etag);
	if (rc == 0 && etag_out)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
out:
	free(ctype);
	bfs_obj_info_release(&si);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* ---- list ---- */

/*
 * A 200 that is not S3's XML says more about the server than the XML
 * parser's message does: name an HTML page or junk for what it is.
 */
static void explain_not_xml(const struct bfs_http_resp *resp, char *err,
			    size_t errlen)
{
	const char *b = resp->body ? resp->body : "";
	const char *ct = bfs_http_headers_get(&resp->headers, "content-type");
	char ctype[64];

	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	clean(ctype, sizeof(ctype), ct ? ct : "none", 60);
	if (strncasecmp(b, "<!doctype html", 14) == 0 ||
	    strncasecmp(b, "<html", 5) == 0)
		snprintf(err, errlen,
			 "the server answered an HTML page (Content-Type %s), "
			 "not S3 XML: is a web server or a portal in front of "
			 "the endpoint?",
			 ctype);
	else if (*b != '<')
		snprintf(err, errlen,
			 "the server answered %zu bytes that are not XML "
			 "(Content-Type %s): not an S3 server?",
			 resp->body_len, ctype);
}

static int s3_list(struct bfs_store *s, const struct bfs_list_req *req,
		   struct bfs_list_result *out)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {.opname = "LIST",
			   .method = "GET",
			   .key = NULL,
			   .max_body = LIST_BODY_MAX};
	struct bfs_http_resp resp = {0};
	unsigned max = req->max_keys	  ? req->max_keys
		       : p->conf.max_keys ? p->conf.max_keys
					  : 1000;
	char num[16], err[200], *q = NULL;
	bool v1;
	int rc;

again:
	/* parameters in byte order, as SigV4 wants them */
	v1 = atomic_load(&p->list_v1);
	if (req->token && !v1)
		qadd(&q, "continuation-token", req->token);
	if (req->delimiter && req->delimiter[0])
		qadd(&q, "delimiter", req->delimiter);
	qadd(&q, "encoding-type", "url");
	if (!v1)
		qadd(&q, "list-type", "2");
	if (v1 && (req->token || req->start_after))
		qadd(&q, "marker", req->token ? req->token : req->start_after);
	snprintf(num, sizeof(num), "%u", max);
	qadd(&q, "max-keys", num);
	if (req->prefix && req->prefix[0])
		qadd(&q, "prefix", req->prefix);
	if (!v1 && req->start_after && req->start_after[0])
		qadd(&q, "start-after", req->start_after);
	op.query = q;
	/* until a truncated v2 page has worked, a 500 is tried with v1 at
	 * once rather than after the retries' back-off */
	op.answer_500 = !v1 && !req->token && !atomic_load(&p->list_v2_pages);
	rc = s3_run(p, &op, &resp);
	if (rc && !v1 && !req->token && resp.status == 500) {
		/* s3rver answers 500 to every truncated v2 page; v1 works */
		bfs_log(LOG_NOTICE,
			"%s: ListObjectsV2 fails here (HTTP 500): listing with "
			"ListObjects v1 from now on",
			p->name);
		atomic_store(&p->list_v1, true);
		free(q);
		q = NULL;
		bfs_http_resp_release(&resp);
		memset(&resp, 0, sizeof(resp));
		op_release(&op);
		op = (struct s3_op){.opname = "LIST",
				    .method = "GET",
				    .max_body = LIST_BODY_MAX};
		goto again;
	}
	if (rc)
		goto out;
	rc = bfs_s3_xml_list(resp.body, resp.body_len, out, err, sizeof(err));
	if (rc)
		explain_not_xml(&resp, err, sizeof(err));
	if (rc == 0 && !v1 && out->next_token)
		atomic_store(&p->list_v2_pages, true);
	if (rc)
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
out:
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* ---- bucket-level extras ---- */

static struct s3_priv *s3_priv_of(struct bfs_store *s);

int bfs_s3_create_bucket(struct bfs_store *s)
{
	struct s3_priv *p = s3_priv_of(s);
	struct s3_op op = {.opname = "CREATE-BUCKET",
			   .method = "PUT",
			   .quiet_err = EEXIST};
	struct bfs_http_resp resp = {0};
	struct digests d;
	char *body = NULL;
	int rc;

	if (!p)
		return EINVAL;
	if (strcmp(p->region, "us-east-1") != 0) {
		body = bfs_xasprintf(
			"<CreateBucketConfiguration xmlns=\"http://s3."
			"amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
			"%s</LocationConstraint></CreateBucketConfiguration>",
			p->region);
		digest_mem(body, strlen(body), &d);
		op.payload_hash = d.sha256;
		op.body = (struct bfs_http_body){.kind = BFS_HTTP_BODY_MEM,
						 .mem = body,
						 .len = strlen(body)};
	}
	rc = s3_run(p, &op, &resp);
	if (rc == EEXIST) {
		/* ours if we may list it: some servers (s3rver) answer
		 * BucketAlreadyExists to its owner too */
		struct bfs_list_req lr = {.max_keys = 1};
		struct bfs_list_result res = {0};

		if (s3_list(s, &lr, &res) == 0) {
			bfs_s3_clear_error(s);
			rc = 0;
		}
		bfs_list_result_release(&res);
	}
	free(body);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* Whether key can travel inside XML 1.0 unchanged. */
static bool xml_safe_key(const char *k)
{
	for (; *k; k++)
		if ((unsigned char)*k < 0x20)
			return false;
	return true;
}

static int delete_batch(struct s3_priv *p, const char *const *keys, size_t n,
			int *errs)
{
	struct s3_op op = {.opname = "DELETE-MULTI",
			   .method = "POST",
			   .query = "delete=",
			   .idempotent = true};
	struct bfs_http_resp resp = {0};
	struct bfs_s3_delete_result dr = {0};
	char *body = NULL, err[200];
	size_t blen = 0, bcap = 0;
	struct digests d;
	int rc;

	str_append(&body, &blen, &bcap,
		   "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		   "<Quiet>true</Quiet>");
	for (size_t i = 0; i < n; i++) {
		str_append(&body, &blen, &bcap, "<Object><Key>");
		xml_escape_append(&body, &blen, &bcap, keys[i]);
		str_append(&body, &blen, &bcap, "</Key></Object>");
		errs[i] = 0;
	}
	str_append(&body, &blen, &bcap, "</Delete>");
	digest_mem(body, blen, &d);
	op.payload_hash = d.sha256;
	op.body = (struct bfs_http_body){
		.kind = BFS_HTTP_BODY_MEM, .mem = body, .len = blen};
	bfs_http_headers_add(&op.hdrs, "content-md5", d.md5_b64);
	bfs_http_headers_add(&op.hdrs, "content-type", "application/xml");
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	rc = bfs_s3_xml_delete_result(resp.body, resp.body_len, &dr, err,
				      sizeof(err));
	if (rc) {
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
		goto out;
	}
	for (size_t i = 0; i < dr.nerrors; i++) {
		const struct s3_code *c = find_code(dr.errors[i].code);
		int e = c ? c->err : EIO;

		if (e == ENOENT)
			continue;
		for (size_t j = 0; j < n; j++)
			if (strcmp(keys[j], dr.errors[i].key) == 0)
				errs[j] = e;
		op.key = dr.errors[i].key;
		s3_fail(p, &op, e, LOG_WARNING, resp.status, BFS_HTTP_OK,
			dr.errors[i].code, dr.errors[i].message,
			c ? c->hint : NULL, NULL, NULL, 0);
		op.key = NULL;
		if (rc == 0)
			rc = e;
	}
out:
	if (rc && dr.nerrors == 0)
		for (size_t i = 0; i < n; i++)
			errs[i] = rc;
	bfs_s3_delete_result_release(&dr);
	free(body);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int bfs_s3_delete_objects(struct bfs_store *s, const char *const *keys,
			  size_t n, int *errs)
{
	struct s3_priv *p = s3_priv_of(s);
	const char **batch;
	size_t *where, nb = 0;
	int *berrs, first = 0;

	if (!p)
		return EINVAL;
	batch = bfs_xcalloc(DELETE_BATCH, sizeof(*batch));
	where = bfs_xcalloc(DELETE_BATCH, sizeof(*where));
	berrs = bfs_xcalloc(DELETE_BATCH, sizeof(*berrs));
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			int e = check_key(keys[i]);

			if (e == 0 && !xml_safe_key(keys[i]))
				e = s3_del(s, keys[i]);
			else if (e == 0) {
				batch[nb] = keys[i];
				where[nb++] = i;
				continue;
			}
			if (errs)
				errs[i] = e;
			if (e && !first)
				first = e;
		}
		if (nb == DELETE_BATCH || (i == n && nb > 0)) {
			int e = delete_batch(p, batch, nb, berrs);

			if (e && !first)
				first = e;
			for (size_t j = 0; errs && j < nb; j++)
				errs[where[j]] = berrs[j];
			nb = 0;
		}
	}
	free(batch);
	free(where);
	free(berrs);
	return first;
}

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
	free(p);
}

static struct s3_priv *s3_priv_of(struct bfs_store *s)
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
	p->conf.ca_file = NULL;
	p->ca_file = conf->ca_file ? bfs_xstrdup(conf->ca_file) : NULL;
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

	p->store.priv = p;
	p->store.name = p->name;
	p->store.kind = BFS_STORE_KIND_S3;
	p->store.caps = BFS_CAP_MULTIPART;
	if (!conf->no_conditional_put)
		p->store.caps |= BFS_CAP_IF_MATCH | BFS_CAP_IF_NONE_MATCH;
	p->store.start = s3_start;
	p->store.head = s3_head;
	p->store.get_range = s3_get_range;
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
