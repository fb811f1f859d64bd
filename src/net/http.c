/*
 * http.c - the libcurl client of bucketfs: share handle, pool of
 * keep-alive easy handles, one blocking request with retries (see
 * http.h for the rules).
 *
 * Connections are not put in the share handle: libcurl does not support
 * sharing a connection cache between threads that run transfers at the
 * same time, so each pooled easy handle keeps its own connection; DNS and
 * TLS sessions are shared.
 */
#include "compat.h"

#include "lockorder.h"

#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cancel.h"
#include "log.h"
#include "net/http.h"
#include "util.h"

#define ERR_BODY_MAX	 (64 * 1024)
#define DEFAULT_MAX_BODY (1024 * 1024)
#define RETRY_AFTER_MAX	 20.0	      /* seconds: longest Retry-After obeyed */
#define BIG_TRANSFER	 (512 * 1024) /* bodies at least this large ... */
#define BIG_BUFFER	 (256 * 1024) /* ... move in chunks this large */
/* past its deadline an attempt must move this many bytes a second */
#define LATE_MIN_RATE (16 * 1024)
/* seconds between looks at an interrupt while waiting (cancel.h) */
#define CANCEL_POLL 0.2
/* a response's headers beyond this are a hostile server, not S3 */
#define HEADERS_MAX (64 * 1024)

/* One pooled easy handle and the socket of its kept-alive connection. */
struct slot {
	CURL *c;
	curl_socket_t fd; /* CURL_SOCKET_BAD when closed */
};

struct bfs_http {
	struct bfs_http_conf conf;
	char *name;
	char *ca_file;
	char *proxy;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct slot *handles;
	size_t *free_idx; /* stack of free handle indices; protected by
			     pool_lock */
	size_t nfree;	  /* protected by pool_lock */

	_Atomic uint64_t requests, retries, failures, bytes_in, bytes_out;
};

/* State of one attempt, seen by the curl callbacks. */
struct xfer {
	struct bfs_http *h;
	struct slot *slot;
	const struct bfs_http_req *req;
	struct bfs_http_resp *resp;
	uint64_t body_pos; /* next request body byte to send */
	int body_err;	   /* errno from pread */
	bool too_big;
	bool ring_full;	  /* no room in bfs_http_req.ring */
	bool truncated;	  /* buf filled in truncate mode: stopped on purpose */
	bool empty_range; /* 206 for an empty resource: nothing to read */
	uint64_t skip;	  /* bytes of a 200 body still to drop */
	size_t body_cap;  /* allocated size of resp->body */
	double deadline;  /* monotonic seconds: see conf.op_timeout */
	double sample_t;  /* progress sample: when, and bytes moved then */
	uint64_t sample_n;
	bool late;	     /* abandoned past the deadline */
	bool cancelled;	     /* the caller was interrupted (cancel.h) */
	size_t header_bytes; /* of the current response */
	/* a 206's length by its Content-Range (0: none), and the 2xx body
	 * bytes that arrived: fewer without a cut of our own is a short
	 * answer, however well framed */
	uint64_t range_len;
	uint64_t body_seen;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void bfs_http_headers_add(struct bfs_http_headers *h, const char *name,
			  const char *value)
{
	h->v = bfs_xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
	h->v[h->n].name = bfs_xstrdup(name);
	h->v[h->n].value = bfs_xstrdup(value);
	h->n++;
}

const char *bfs_http_headers_get(const struct bfs_http_headers *h,
				 const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, name) == 0)
			return h->v[i].value;
	return NULL;
}

void bfs_http_headers_release(struct bfs_http_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		/* a value may be a token or an SSE-C key: wiped, not just
		 * freed */
		explicit_bzero(h->v[i].value, strlen(h->v[i].value));
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

void bfs_http_resp_release(struct bfs_http_resp *resp)
{
	bfs_http_headers_release(&resp->headers);
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access,
		       void *arg)
{
	struct bfs_http *h = arg;

	(void)c;
	(void)access;
	BFS_PCHECK(pthread_mutex_lock(&h->share_locks[data]));
}

static void share_unlock(CURL *c, curl_lock_data data, void *arg)
{
	struct bfs_http *h = arg;

	(void)c;
	BFS_PCHECK(pthread_mutex_unlock(&h->share_locks[data]));
}

struct bfs_http *bfs_http_create(const struct bfs_http_conf *conf, char *err,
				 size_t errlen)
{
	struct bfs_http *h;
	size_t n;

	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl: %s",
			 curl_easy_strerror(curl_init_rc));
		errno = ENOMEM;
		return NULL;
	}
	h = bfs_xcalloc(1, sizeof(*h));
	h->conf = *conf;
	if (h->conf.connections == 0)
		h->conf.connections = 16;
	if (h->conf.connect_timeout <= 0)
		h->conf.connect_timeout = 10;
	if (h->conf.request_timeout <= 0)
		h->conf.request_timeout = 30;
	if (h->conf.op_timeout <= 0)
		h->conf.op_timeout = 30;
	if (h->conf.backoff_base <= 0)
		h->conf.backoff_base = 0.1;
	if (h->conf.backoff_max <= 0)
		h->conf.backoff_max = 20;
	h->name = bfs_xstrdup(conf->name ? conf->name : "http");
	h->conf.name = h->name;
	h->ca_file = conf->ca_file ? bfs_xstrdup(conf->ca_file) : NULL;
	h->conf.ca_file = h->ca_file;
	h->proxy = conf->proxy ? bfs_xstrdup(conf->proxy) : NULL;
	h->conf.proxy = h->proxy;

	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		BFS_PCHECK(pthread_mutex_init(&h->share_locks[i], NULL));
	BFS_PCHECK(pthread_mutex_init(&h->pool_lock, NULL));
	BFS_PCHECK(pthread_cond_init(&h->pool_cond, NULL));

	h->share = curl_share_init();
	if (!h->share)
		goto nomem;
	if (curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE,
			      CURL_LOCK_DATA_SSL_SESSION)) {
		snprintf(err, errlen, "cannot set up the curl share handle");
		bfs_http_destroy(h);
		errno = EINVAL;
		return NULL;
	}

	n = h->conf.connections;
	h->handles = bfs_xcalloc(n, sizeof(*h->handles));
	h->free_idx = bfs_xcalloc(n, sizeof(*h->free_idx));
	for (size_t i = 0; i < n; i++) {
		h->handles[i].fd = CURL_SOCKET_BAD;
		h->handles[i].c = curl_easy_init();
		if (!h->handles[i].c)
			goto nomem;
		/* LIFO: the most recently used connection is reused first */
		h->free_idx[h->nfree++] = n - 1 - i;
	}
	return h;

nomem:
	snprintf(err, errlen, "cannot create curl handles: out of memory");
	bfs_http_destroy(h);
	errno = ENOMEM;
	return NULL;
}

void bfs_http_destroy(struct bfs_http *h)
{
	if (!h)
		return;
	if (h->handles) {
		for (size_t i = 0; i < h->conf.connections; i++)
			if (h->handles[i].c)
				curl_easy_cleanup(h->handles[i].c);
	}
	if (h->share)
		curl_share_cleanup(h->share);
	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		BFS_PCHECK(pthread_mutex_destroy(&h->share_locks[i]));
	BFS_PCHECK(pthread_mutex_destroy(&h->pool_lock));
	BFS_PCHECK(pthread_cond_destroy(&h->pool_cond));
	free(h->handles);
	free(h->free_idx);
	free(h->name);
	free(h->ca_file);
	if (h->proxy)
		explicit_bzero(h->proxy, strlen(h->proxy)); /* user:password@ */
	free(h->proxy);
	free(h);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A free handle, waiting at most until deadline (monotonic seconds).
 * @return 0, ETIMEDOUT, or EINTR (the caller was interrupted). */
static int pool_get(struct bfs_http *h, double deadline, size_t *idx)
{
	struct timespec until;
	int rc = 0;

	BFS_PCHECK(pthread_mutex_lock(&h->pool_lock));
	while (h->nfree == 0 && rc == 0) {
		double left = deadline - now_mono();

		if (left <= 0) {
			rc = ETIMEDOUT;
			break;
		}
		if (bfs_cancel_requested()) {
			rc = EINTR;
			break;
		}
		/* a slice at a time, to see an interrupt */
		left = BFS_MIN(left, CANCEL_POLL);
		/* the condvar runs on CLOCK_REALTIME */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)left;
		until.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		rc = pthread_cond_timedwait(&h->pool_cond, &h->pool_lock,
					    &until);
		if (rc == ETIMEDOUT)
			rc = 0; /* the loop looks at the deadline again */
		else if (rc != 0 && rc != ETIMEDOUT)
			BFS_PCHECK(rc);
	}
	if (rc == 0)
		*idx = h->free_idx[--h->nfree];
	BFS_PCHECK(pthread_mutex_unlock(&h->pool_lock));
	return rc;
}

static void pool_put(struct bfs_http *h, size_t idx)
{
	BFS_PCHECK(pthread_mutex_lock(&h->pool_lock));
	h->free_idx[h->nfree++] = idx;
	BFS_PCHECK(pthread_cond_signal(&h->pool_cond));
	BFS_PCHECK(pthread_mutex_unlock(&h->pool_lock));
}

void bfs_http_get_stats(struct bfs_http *h, struct bfs_http_stats *out)
{
	out->requests = atomic_load(&h->requests);
	out->retries = atomic_load(&h->retries);
	out->failures = atomic_load(&h->failures);
	out->bytes_in = atomic_load(&h->bytes_in);
	out->bytes_out = atomic_load(&h->bytes_out);
}

int bfs_http_parse_date(const char *s, time_t *out)
{
	time_t t;

	if (!s)
		return EINVAL;
	t = curl_getdate(s, NULL);
	if (t == -1)
		return EINVAL;
	*out = t;
	return 0;
}

static bool is_secret_param(const char *p, size_t n)
{
	static const char *const names[] = {
		"X-Amz-Signature=",
		"X-Amz-Credential=",
		"X-Amz-Security-Token=",
	};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(names); i++) {
		size_t l = strlen(names[i]);

		if (n >= l && strncasecmp(p, names[i], l) == 0)
			return true;
	}
	return false;
}

void bfs_http_redact_url(const char *url, char *out, size_t outlen)
{
	const char *q = strchr(url, '?');
	size_t used;

	if (outlen == 0)
		return;
	if (!q) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	snprintf(out, outlen, "%.*s", (int)(q - url + 1), url);
	used = strlen(out);
	q++;
	while (*q && used + 1 < outlen) {
		size_t n = strcspn(q, "&");
		int w;

		if (is_secret_param(q, n)) {
			size_t eq = strcspn(q, "=");

			w = snprintf(out + used, outlen - used,
				     "%.*s=[redacted]", (int)eq, q);
		} else {
			w = snprintf(out + used, outlen - used, "%.*s", (int)n,
				     q);
		}
		if (w < 0)
			break;
		used = BFS_MIN(used + (size_t)w, outlen - 1);
		q += n;
		if (*q == '&') {
			if (used + 1 < outlen) {
				out[used++] = '&';
				out[used] = '\0';
			}
			q++;
		}
	}
}

static bool is_secret_header(const char *name)
{
	return strcasecmp(name, "authorization") == 0 ||
	       strcasecmp(name, "x-amz-security-token") == 0 ||
	       strcasecmp(name, "x-aws-ec2-metadata-token") == 0 ||
	       /* SSE-C: the customer's key itself, for the object and for
		* the source of a copy */
	       strcasecmp(name, "x-amz-server-side-encryption-customer-key") ==
		       0 ||
	       strcasecmp(name, "x-amz-copy-source-server-side-encryption-"
				"customer-key") == 0;
}

/* ---- curl callbacks ---- */

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct bfs_http_body *b = &x->req->body;
	size_t want = size * nmemb;
	uint64_t left = b->len - x->body_pos;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (b->kind == BFS_HTTP_BODY_MEM) {
		memcpy(dst, (const char *)b->mem + x->body_pos, want);
	} else {
		ssize_t r;

		do {
			r = pread(b->fd, dst, want,
				  b->off + (off_t)x->body_pos);
		} while (r < 0 && errno == EINTR);
		if (r <= 0) {
			/* a file that shrank under us must not be sent short */
			x->body_err = r < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)r;
	}
	x->body_pos += want;
	x->resp->bytes_out += want;
	atomic_fetch_add(&x->h->bytes_out, want);
	return want;
}

static int seek_cb(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->body.len)
		return CURL_SEEKFUNC_FAIL;
	x->body_pos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/*
 * Acknowledge what has arrived now rather than after the delayed-ACK
 * timer: a server that writes the response header and the body in two
 * sends (Ceph RGW) holds the body under Nagle's rule until the header is
 * acknowledged, which costs every request on a kept-alive connection
 * 40 ms. Linux leaves quick-ACK mode by itself, so this is done for each
 * response, when its status line arrives.
 */
static void quick_ack(curl_socket_t fd)
{
#ifdef TCP_QUICKACK
	int one = 1;

	if (fd != CURL_SOCKET_BAD)
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)fd;
#endif
}

/* Track the socket of a slot's connection (libcurl does not tell it
 * during a transfer). */
static curl_socket_t open_cb(void *arg, curlsocktype purpose,
			     struct curl_sockaddr *a)
{
	struct slot *slot = arg;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd != CURL_SOCKET_BAD)
		slot->fd = fd;
	return fd;
}

static int close_cb(void *arg, curl_socket_t fd)
{
	struct slot *slot = arg;

	if (slot->fd == fd)
		slot->fd = CURL_SOCKET_BAD;
	return close(fd);
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
		      (*s)[*n - 1] == '\r' || (*s)[*n - 1] == '\n'))
		(*n)--;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	const char *colon;

	if ((n == 2 && line[0] == '\r') || (n == 1 && line[0] == '\n')) {
		/* end of the headers */
		const char *cr = bfs_http_headers_get(&x->resp->headers,
						      "content-range");
		unsigned long long a, b, total;

		if (x->resp->status == 206 && cr &&
		    sscanf(cr, "bytes %llu-%llu/%llu", &a, &b, &total) == 3) {
			if (total == 0) {
				x->empty_range = true;
				return 0;
			}
			if (b >= a)
				x->range_len = b - a + 1;
		}
		return n;
	}
	if (n >= 5 && memcmp(line, "HTTP/", 5) == 0)
		x->header_bytes = 0;
	x->header_bytes += n;
	if (x->header_bytes > HEADERS_MAX) {
		x->too_big = true;
		return 0;
	}
	if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* a new status line: a 100 Continue or the final response */
		const char *sp = memchr(line, ' ', n);

		quick_ack(x->slot->fd);

		bfs_http_headers_release(&x->resp->headers);
		x->resp->status = 0;
		if (sp) {
			char code[4] = {0};
			size_t left = n - (size_t)(sp + 1 - line);

			if (left >= 3) {
				memcpy(code, sp + 1, 3);
				x->resp->status = strtol(code, NULL, 10);
			}
		}
		return n;
	}
	colon = memchr(line, ':', n);
	if (colon) {
		const char *name = line, *val = colon + 1;
		size_t nl = (size_t)(colon - line), vl = n - nl - 1;
		char *nm, *vv;

		trim(&name, &nl);
		trim(&val, &vl);
		nm = bfs_xstrndup(name, nl);
		for (char *p = nm; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		vv = bfs_xstrndup(val, vl);
		bfs_http_headers_add(&x->resp->headers, nm, vv);
		free(nm);
		free(vv);
	}
	return n;
}

static int body_append(struct xfer *x, const char *src, size_t n, size_t max,
		       bool truncate)
{
	struct bfs_http_resp *r = x->resp;

	if (r->body_len + n > max) {
		if (!truncate)
			return -1;
		n = max - r->body_len;
	}
	if (r->body_len + n + 1 > x->body_cap) {
		size_t cap = x->body_cap ? x->body_cap : 4096;

		while (cap < r->body_len + n + 1)
			cap *= 2;
		r->body = bfs_xrealloc(r->body, cap);
		x->body_cap = cap;
	}
	memcpy(r->body + r->body_len, src, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

/*
 * Store n body bytes into req->buf, telling on_body after each piece:
 * at got, or in a ring at got % ring, up to where the consumer has made
 * room (on_body moves it on). @return false when a ring has no room
 * left even after on_body.
 */
static bool buf_write(struct xfer *x, const char *src, size_t n)
{
	const struct bfs_http_req *req = x->req;
	struct bfs_http_resp *r = x->resp;

	if (!req->ring) {
		memcpy((char *)req->buf + r->got, src, n);
		r->got += n;
		if (req->on_body)
			req->on_body(req->on_body_arg, r);
		return true;
	}
	while (n > 0) {
		size_t limit = *req->ring_done + req->ring;
		size_t at = r->got % req->ring, k;

		/* byte p's room held byte p - ring: consumed below limit
		 * (on a retry, which starts again at 0, all the more) */
		if (r->got >= limit)
			return false;
		k = BFS_MIN(BFS_MIN(n, limit - r->got), req->ring - at);
		memcpy((char *)req->buf + at, src, k);
		r->got += k;
		src += k;
		n -= k;
		if (req->on_body)
			req->on_body(req->on_body_arg, r);
	}
	return true;
}

static size_t write_cb(char *src, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct bfs_http_req *req = x->req;
	struct bfs_http_resp *r = x->resp;
	size_t n = size * nmemb;

	r->bytes_in += n;
	atomic_fetch_add(&x->h->bytes_in, n);
	if (r->status < 200 || r->status >= 300) {
		body_append(x, src, n, ERR_BODY_MAX, true);
		return n;
	}
	x->body_seen += n;
	if (r->status == 200 && x->skip > 0) {
		size_t drop = (size_t)BFS_MIN((uint64_t)n, x->skip);

		x->skip -= drop;
		src += drop;
		n -= drop;
		if (n == 0)
			return size * nmemb;
	}
	if (req->buf) {
		/* longer than asked: cut there in truncate mode (a server
		 * that ignored part of the Range), else too big */
		bool cut = r->got + n > req->buf_size;

		if (cut && !req->truncate) {
			x->too_big = true;
			return 0;
		}
		if (cut)
			n = req->buf_size - r->got;
		if (!buf_write(x, src, n)) {
			x->ring_full = true;
			return 0;
		}
		if (cut) {
			x->truncated = true;
			return 0;
		}
		return size * nmemb;
	}
	if (body_append(x, src, n,
			req->max_body ? req->max_body : DEFAULT_MAX_BODY,
			false) != 0) {
		x->too_big = true;
		return 0;
	}
	return size * nmemb;
}

/*
 * Past the request's deadline, an attempt that moved fewer than
 * LATE_MIN_RATE bytes a second since the last sample (a stall, a
 * trickle, a server that never answers) is abandoned. libcurl calls
 * this at least once a second, even on an idle connection.
 */
static int progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	uint64_t moved = (uint64_t)dlnow + (uint64_t)ulnow;
	double now = now_mono();

	(void)dltotal;
	(void)ultotal;
	if (bfs_cancel_requested()) {
		x->cancelled = true;
		return 1;
	}
	if (now < x->deadline) {
		x->sample_t = now;
		x->sample_n = moved;
		return 0;
	}
	if (now - x->sample_t < 1.0)
		return 0;
	if ((double)(moved - x->sample_n) / (now - x->sample_t) <
	    LATE_MIN_RATE) {
		x->late = true;
		return 1;
	}
	x->sample_t = now;
	x->sample_n = moved;
	return 0;
}

/* ---- one attempt ---- */

static bool method_idempotent(const struct bfs_http_req *req)
{
	return strcmp(req->method, "GET") == 0 ||
	       strcmp(req->method, "HEAD") == 0 ||
	       strcmp(req->method, "PUT") == 0 ||
	       strcmp(req->method, "DELETE") == 0 || req->idempotent;
}

static void debug_request(struct bfs_http *h, const struct bfs_http_req *req,
			  const struct curl_slist *hl, unsigned attempt)
{
	char url[1024];

	bfs_http_redact_url(req->url, url, sizeof(url));
	bfs_log(LOG_DEBUG, "%s: > %s %s (attempt %u)", h->name, req->method,
		url, attempt + 1);
	for (; hl; hl = hl->next) {
		size_t nl = strcspn(hl->data, ":");
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)nl, hl->data);
		if (is_secret_header(name))
			bfs_log(LOG_DEBUG, "%s: >   %s: [redacted]", h->name,
				name);
		else
			bfs_log(LOG_DEBUG, "%s: >   %s", h->name, hl->data);
	}
}

static enum bfs_http_fail classify_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return BFS_HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return BFS_HTTP_DNS;
	case CURLE_COULDNT_CONNECT:
		return BFS_HTTP_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
		return BFS_HTTP_TLS;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return BFS_HTTP_TLS_VERIFY;
	case CURLE_OPERATION_TIMEDOUT:
		return BFS_HTTP_TIMEOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return BFS_HTTP_RESET;
	default:
		return BFS_HTTP_OTHER;
	}
}

static bool fail_retryable(enum bfs_http_fail f)
{
	return f == BFS_HTTP_DNS || f == BFS_HTTP_CONNECT ||
	       f == BFS_HTTP_TLS || f == BFS_HTTP_TIMEOUT ||
	       f == BFS_HTTP_RESET;
}

static const char *fail_text(enum bfs_http_fail f)
{
	switch (f) {
	case BFS_HTTP_OK:
		return "ok";
	case BFS_HTTP_DNS:
		return "cannot resolve host";
	case BFS_HTTP_CONNECT:
		return "cannot connect";
	case BFS_HTTP_TLS:
		return "TLS handshake failed";
	case BFS_HTTP_TLS_VERIFY:
		return "TLS certificate did not verify";
	case BFS_HTTP_TIMEOUT:
		return "timed out";
	case BFS_HTTP_RESET:
		return "connection reset";
	case BFS_HTTP_TOO_BIG:
		return "response too large";
	case BFS_HTTP_LOCAL:
		return "cannot read request body";
	case BFS_HTTP_OTHER:
		break;
	}
	return "transfer failed";
}

/*
 * One attempt on handle c. Fills resp; returns 0 (a response) or an errno
 * with resp->fail and resp->error set.
 */
static int attempt(struct bfs_http *h, struct slot *slot,
		   const struct bfs_http_req *req, struct bfs_http_resp *resp,
		   unsigned attempt_no, double deadline)
{
	CURL *c = slot->c;
	struct xfer x = {.h = h,
			 .slot = slot,
			 .req = req,
			 .resp = resp,
			 .skip = req->skip_if_200,
			 .deadline = deadline,
			 .sample_t = now_mono()};
	struct bfs_http_headers dyn = {0};
	struct curl_slist *hl = NULL, *tmp;
	char errbuf[CURL_ERROR_SIZE] = "";
	long timeout_s;
	CURLcode cc;
	int rc = 0;

	bfs_http_headers_release(&resp->headers);
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->got = 0;
	resp->status = 0;
	resp->fail = BFS_HTTP_OK;
	resp->error[0] = '\0';

	if (req->prepare) {
		rc = req->prepare(req->arg, req, &dyn);
		if (rc != 0) {
			resp->fail = BFS_HTTP_LOCAL;
			snprintf(resp->error, sizeof(resp->error),
				 "cannot prepare request: %s", strerror(rc));
			goto out;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct bfs_http_headers *src =
			pass == 0 ? req->headers : &dyn;

		for (size_t i = 0; src && i < src->n; i++) {
			char *line = bfs_xasprintf("%s: %s", src->v[i].name,
						   src->v[i].value);

			tmp = curl_slist_append(hl, line);
			explicit_bzero(line, strlen(line));
			free(line);
			if (!tmp)
				BFS_BUG("curl_slist_append: out of memory");
			hl = tmp;
		}
	}
	/* no 100-continue round trip; no transfer encodings */
	tmp = curl_slist_append(hl, "Expect:");
	if (!tmp)
		BFS_BUG("curl_slist_append: out of memory");
	hl = tmp;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* A handle carries one request at a time, so one cached connection
	 * is all it can reuse; a second (left by a followed redirect to
	 * another host) would only hold a socket: sockets stay <= handles. */
	curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(h->conf.connect_timeout * 1000));
	timeout_s = (long)ceil(h->conf.request_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
			 timeout_s < 1 ? 1L : timeout_s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_cb);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, slot);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, slot);
	if (h->conf.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->conf.ca_file);
	if (h->conf.proxy) {
		/* the configured proxy for every host: NO_PROXY is the
		 * environment's default, not the bucket's choice */
		curl_easy_setopt(c, CURLOPT_PROXY, h->conf.proxy);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	/* a large GET in large chunks: libcurl's 16 KiB receive buffer
	 * costs a recv and a write_cb per 16 KiB */
	if (req->buf_size >= BIG_TRANSFER)
		curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)BIG_BUFFER);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);

	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (req->body.kind != BFS_HTTP_BODY_NONE ||
		   strcmp(req->method, "PUT") == 0 ||
		   strcmp(req->method, "POST") == 0) {
		/* UPLOAD sends the body from read_cb with a Content-Length;
		 * CUSTOMREQUEST turns the PUT into POST where needed */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		/* large bodies in large chunks: fewer read_cb calls */
		if (req->body.kind != BFS_HTTP_BODY_NONE &&
		    req->body.len >= BIG_TRANSFER)
			curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE,
					 (long)BIG_BUFFER);
		curl_easy_setopt(
			c, CURLOPT_INFILESIZE_LARGE,
			(curl_off_t)(req->body.kind == BFS_HTTP_BODY_NONE
					     ? 0
					     : req->body.len));
		if (strcmp(req->method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}

	if (bfs_log_debug_mask & BFS_DBG_HTTP)
		debug_request(h, req, hl, attempt_no);
	atomic_fetch_add(&h->requests, 1);
	bfs_lockorder_io(__FILE__, __LINE__);
	cc = curl_easy_perform(c);
	if (cc == CURLE_WRITE_ERROR && (x.truncated || x.empty_range))
		cc = CURLE_OK; /* stopped on purpose: the answer is complete */
	if (cc == CURLE_OK && x.range_len && !x.truncated &&
	    x.body_seen < x.range_len) {
		/* a 206 shorter than its own Content-Range: the rest was
		 * lost on the way, however the answer was framed */
		resp->status = 0;
		resp->fail = BFS_HTTP_RESET;
		snprintf(resp->error, sizeof(resp->error),
			 "answer shorter than its Content-Range (%llu of %llu "
			 "bytes)",
			 (unsigned long long)x.body_seen,
			 (unsigned long long)x.range_len);
		rc = EIO;
		bfs_dbg(BFS_DBG_HTTP, "%s: < failed: %s", h->name, resp->error);
		goto out;
	}
	if (cc == CURLE_OK) {
		long code = 0;

		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		resp->status = code;
		bfs_dbg(BFS_DBG_HTTP, "%s: < %ld (%zu bytes)", h->name, code,
			resp->got + resp->body_len);
		goto out;
	}
	resp->status = 0;
	if (x.cancelled) {
		/* the transfer is dropped with its connection: nothing of
		 * it is used */
		resp->fail = BFS_HTTP_LOCAL;
		snprintf(resp->error, sizeof(resp->error),
			 "interrupted (FUSE INTERRUPT): transfer cancelled");
		rc = EINTR;
	} else if (x.late) {
		resp->fail = BFS_HTTP_TIMEOUT;
		snprintf(resp->error, sizeof(resp->error),
			 "no answer within op_timeout (%g s)",
			 h->conf.op_timeout);
		rc = ETIMEDOUT;
	} else if (x.ring_full) {
		/* the caller asks again without a ring: not a failure of
		 * the server's, nor worth a warning */
		resp->fail = BFS_HTTP_TOO_BIG;
		snprintf(resp->error, sizeof(resp->error),
			 "answer not consumed as it came, longer than the "
			 "%zu-byte ring",
			 req->ring);
		rc = ENOBUFS;
	} else if (x.too_big && x.header_bytes > HEADERS_MAX) {
		/* no S3 answer has such headers: a broken or hostile
		 * server, not a file too large */
		resp->fail = BFS_HTTP_OTHER;
		snprintf(resp->error, sizeof(resp->error),
			 "response headers larger than %d bytes", HEADERS_MAX);
		rc = EIO;
	} else if (x.too_big) {
		resp->fail = BFS_HTTP_TOO_BIG;
		snprintf(resp->error, sizeof(resp->error),
			 "response body larger than %zu bytes",
			 req->buf ? req->buf_size
				  : (req->max_body ? req->max_body
						   : DEFAULT_MAX_BODY));
		rc = EFBIG;
	} else if (x.body_err || cc == CURLE_ABORTED_BY_CALLBACK ||
		   cc == CURLE_READ_ERROR) {
		resp->fail = BFS_HTTP_LOCAL;
		rc = x.body_err ? x.body_err : EIO;
		snprintf(resp->error, sizeof(resp->error),
			 "cannot read request body: %s", strerror(rc));
	} else {
		resp->fail = classify_curl(cc);
		rc = resp->fail == BFS_HTTP_TIMEOUT ? ETIMEDOUT : EIO;
		if (cc == CURLE_URL_MALFORMAT ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL)
			rc = EINVAL;
		/* curl's messages carry host and errno text, never headers */
		snprintf(resp->error, sizeof(resp->error), "%s (%.200s)",
			 fail_text(resp->fail),
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	}
	bfs_dbg(BFS_DBG_HTTP, "%s: < failed: %s", h->name, resp->error);
out:
	curl_slist_free_all(hl);
	bfs_http_headers_release(&dyn);
	return rc;
}

/* 501 Not Implemented and 505 will not change on a retry */
static bool default_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

/* Seconds from a Retry-After header, or -1. */
static double retry_after(const struct bfs_http_resp *resp)
{
	const char *v = bfs_http_headers_get(&resp->headers, "retry-after");
	char *end;
	long secs;
	time_t t;

	if (!v)
		return -1;
	errno = 0;
	secs = strtol(v, &end, 10);
	if (errno == 0 && end != v && *end == '\0' && secs >= 0)
		return (double)secs;
	if (bfs_http_parse_date(v, &t) == 0) {
		time_t now = time(NULL);

		return t > now ? (double)(t - now) : 0;
	}
	return -1;
}

/* Sleep s seconds (util.h's bfs_sleep_seconds), in slices, to see an
 * interrupt.
 * @return 0, or EINTR when the caller was interrupted. */
static int sleep_interruptible(double s)
{
	double end = now_mono() + s;

	for (;;) {
		double left = end - now_mono();
		struct timespec ts;

		if (bfs_cancel_requested())
			return EINTR;
		if (left <= 0)
			return 0;
		left = BFS_MIN(left, CANCEL_POLL);
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

int bfs_http_do(struct bfs_http *h, const struct bfs_http_req *req,
		struct bfs_http_resp *resp)
{
	bool may_retry = method_idempotent(req);
	double deadline = now_mono() + h->conf.op_timeout;
	unsigned n = 0;
	int rc;

	if (!req->method || !req->url)
		return EINVAL;
	for (;;) {
		size_t idx;
		bool again;
		double delay;
		char why[256];

		rc = pool_get(h, deadline, &idx);
		if (rc == EINTR) {
			resp->status = 0;
			resp->fail = BFS_HTTP_LOCAL;
			snprintf(resp->error, sizeof(resp->error),
				 "interrupted (FUSE INTERRUPT) while waiting "
				 "for a connection");
			break;
		}
		if (rc != 0) {
			resp->status = 0;
			resp->fail = BFS_HTTP_TIMEOUT;
			snprintf(resp->error, sizeof(resp->error),
				 "no free connection within op_timeout (%g s)",
				 h->conf.op_timeout);
			break;
		}
		rc = attempt(h, &h->handles[idx], req, resp, n, deadline);
		pool_put(h, idx);
		if (rc == 0 && resp->status >= 300) {
			again = req->retryable
					? req->retryable(req->arg, resp)
					: default_retryable(resp->status);
			snprintf(why, sizeof(why), "HTTP %ld", resp->status);
		} else if (rc != 0) {
			again = fail_retryable(resp->fail);
			/* the cause as libcurl saw it: "connection reset
			 * (transfer closed with 150000 bytes remaining)" */
			snprintf(why, sizeof(why), "%s",
				 resp->error[0] ? resp->error
						: fail_text(resp->fail));
		} else {
			again = false;
		}
		if (!again || !may_retry || n >= h->conf.retries)
			break;
		delay = bfs_backoff(h->conf.backoff_base, h->conf.backoff_max,
				    n);
		if (rc == 0) {
			double ra = retry_after(resp);

			/* the server knows best, within reason */
			if (ra >= 0)
				delay = BFS_MIN(ra, BFS_MAX(h->conf.backoff_max,
							    RETRY_AFTER_MAX));
		}
		if (now_mono() + delay >= deadline) {
			char url[512];

			/* no time left for another attempt: the deadline
			 * wins over the retries that are left */
			bfs_http_redact_url(req->url, url, sizeof(url));
			bfs_log(LOG_INFO,
				"%s: %s %s: %s, no retry: op_timeout (%g s) "
				"is up",
				h->name, req->method, url, why,
				h->conf.op_timeout);
			if (rc == 0) {
				resp->status = 0;
				bfs_http_resp_release(resp);
			}
			resp->fail = BFS_HTTP_TIMEOUT;
			snprintf(resp->error, sizeof(resp->error),
				 "%.200s, then op_timeout (%g s) was up", why,
				 h->conf.op_timeout);
			rc = ETIMEDOUT;
			break;
		}
		n++;
		resp->retries = n;
		atomic_fetch_add(&h->retries, 1);
		{
			char url[512];

			bfs_http_redact_url(req->url, url, sizeof(url));
			bfs_log(LOG_INFO,
				"%s: %s %s: %s, retry %u/%u in %.2f s", h->name,
				req->method, url, why, n, h->conf.retries,
				delay);
		}
		if (sleep_interruptible(delay) == EINTR) {
			if (rc == 0) {
				resp->status = 0;
				bfs_http_resp_release(resp);
			}
			resp->fail = BFS_HTTP_LOCAL;
			snprintf(resp->error, sizeof(resp->error),
				 "%.160s, then interrupted (FUSE INTERRUPT) "
				 "before "
				 "retry %u",
				 why, n);
			rc = EINTR;
			break;
		}
	}
	if (rc != 0 || default_retryable(resp->status))
		atomic_fetch_add(&h->failures, 1);
	return rc;
}
