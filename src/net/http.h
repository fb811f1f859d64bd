/*
 * http.h - blocking HTTP requests over libcurl, with a pool of keep-alive
 * connections, timeouts, and retries with capped exponential backoff and
 * jitter.
 *
 * Invariants:
 * - One struct bfs_http owns a curl share handle (DNS cache and TLS
 *   sessions) and a pool of `connections` easy handles. Each easy handle
 *   keeps its own connection alive between requests, so the pool size is
 *   the number of connections kept open and the number of requests in
 *   flight at once; a caller beyond that waits for a free handle.
 * - bfs_http_do() may be called from any number of threads at once.
 * - A request is retried only when it may be sent twice: its method is
 *   GET, HEAD, PUT or DELETE, or the caller marked it idempotent. Bodies
 *   are always replayable (memory, or a file region read with pread), so
 *   every retry sends the same bytes. Before each attempt the prepare
 *   callback rebuilds the headers that change (date, signature).
 * - Nothing here logs a secret: debug lines (`-o debug=http`) print the
 *   method, the URL without presigning parameters, and the headers with
 *   Authorization, X-Amz-Security-Token, X-aws-ec2-metadata-token and
 *   the SSE-C customer keys (x-amz-[copy-source-]server-side-encryption-
 *   customer-key) replaced by "[redacted]".
 */
#ifndef BFS_NET_HTTP_H
#define BFS_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct bfs_http;

struct bfs_http_conf {
	/* pool size: connections kept alive and requests in flight; 0: 16 */
	unsigned connections;
	/* seconds to establish TCP (and TLS); 0: 10 */
	double connect_timeout;
	/* seconds without a single byte moving before a request is abandoned
	 * (a low-speed limit, so a large transfer may take longer); 0: 30 */
	double request_timeout;
	/*
	 * Deadline of one request, retries and waits for a pooled
	 * connection included; 0: 30. Past it no retry starts, a wait for
	 * a connection or a backoff ends, and an attempt that is not
	 * moving at least 16 KiB/s is abandoned: the request fails with
	 * ETIMEDOUT. A transfer still moving data faster is never cut.
	 */
	double op_timeout;
	/* attempts after the first one; 0: no retries */
	unsigned retries;
	/* first backoff delay and its cap, seconds; 0: 0.1 and 20. A
	 * Retry-After from the server is obeyed up to the larger of 20 s and
	 * backoff_max. */
	double backoff_base;
	double backoff_max;
	/* CA bundle to verify TLS peers with, or NULL for the system's */
	const char *ca_file;
	/*
	 * Forward proxy every request goes through ("http://host:port",
	 * https:// URLs through a CONNECT tunnel), NO_PROXY not consulted;
	 * NULL: libcurl's environment variables (http_proxy, HTTPS_PROXY,
	 * NO_PROXY) decide, as for any curl program.
	 */
	const char *proxy;
	/* name used in log lines ("s3:lake"); may be NULL */
	const char *name;
};

/* One header; both strings owned by the list holding it. */
struct bfs_http_header {
	char *name;
	char *value;
};

/* A list of headers; {NULL, 0} is empty. */
struct bfs_http_headers {
	struct bfs_http_header *v;
	size_t n;
};

/* Append name: value (both copied). Duplicates are kept. */
void bfs_http_headers_add(struct bfs_http_headers *h, const char *name,
			  const char *value);
/* Value of the first header called name (case-insensitive), or NULL. */
const char *bfs_http_headers_get(const struct bfs_http_headers *h,
				 const char *name);
/* Free the contents of h; safe on a zeroed list. */
void bfs_http_headers_release(struct bfs_http_headers *h);

enum bfs_http_body_kind {
	BFS_HTTP_BODY_NONE,
	BFS_HTTP_BODY_MEM, /* mem[0..len) */
	BFS_HTTP_BODY_FD,  /* fd region [off, off+len), read with pread */
};

struct bfs_http_body {
	enum bfs_http_body_kind kind;
	const void *mem;
	int fd;
	off_t off;
	uint64_t len;
};

/* Why a request got no HTTP response (bfs_http_resp.fail). */
enum bfs_http_fail {
	BFS_HTTP_OK,	     /* a response arrived (any status) */
	BFS_HTTP_DNS,	     /* the host name did not resolve */
	BFS_HTTP_CONNECT,    /* TCP connect failed (refused, unreachable) */
	BFS_HTTP_TLS,	     /* TLS handshake failed */
	BFS_HTTP_TLS_VERIFY, /* the peer's certificate did not verify */
	BFS_HTTP_TIMEOUT,    /* connect or low-speed timeout */
	BFS_HTTP_RESET,	     /* connection reset or closed mid-transfer */
	BFS_HTTP_TOO_BIG,    /* the body exceeded the caller's bound */
	BFS_HTTP_LOCAL,	     /* reading the request body failed */
	BFS_HTTP_OTHER,
};

struct bfs_http_resp;
struct bfs_http_req;

/*
 * Called before every attempt with an empty list: append the headers
 * that must be computed per attempt (x-amz-date, Authorization).
 * @return 0, or an errno that ends the request with that errno.
 */
typedef int (*bfs_http_prepare_fn)(void *arg, const struct bfs_http_req *req,
				   struct bfs_http_headers *out);
/*
 * Called for a response with status >= 300: whether to retry it. With no
 * callback 429 and 5xx are retried.
 */
typedef bool (*bfs_http_retryable_fn)(void *arg,
				      const struct bfs_http_resp *resp);

struct bfs_http_req {
	const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	/* full URL, path and query already percent-encoded */
	const char *url;
	/* headers sent on every attempt, or NULL */
	const struct bfs_http_headers *headers;
	struct bfs_http_body body;
	/* POST only: safe to send twice (other methods are by definition) */
	bool idempotent;
	bfs_http_prepare_fn prepare;	 /* may be NULL */
	bfs_http_retryable_fn retryable; /* may be NULL */
	void *arg;			 /* passed to both callbacks */
	/*
	 * Where a 2xx body goes: buf[0..buf_size) when buf is set (a longer
	 * body fails with EFBIG), else resp.body, growing up to max_body
	 * (0: 1 MiB). Bodies of other statuses always go to resp.body,
	 * truncated at 64 KiB.
	 */
	void *buf;
	size_t buf_size;
	size_t max_body;
	/*
	 * Ranged reads into buf: a body longer than buf_size is cut there
	 * and the transfer stopped (success, not EFBIG), and a 200 answer
	 * (a server that ignored the Range header) has its first
	 * skip_if_200 bytes dropped. A 206 whose Content-Range says the
	 * resource is empty ("bytes 0-0/0") is taken as an empty body
	 * without waiting for bytes that never come.
	 */
	bool truncate;
	uint64_t skip_if_200;
	/*
	 * Called in the transfer each time 2xx body bytes were stored into
	 * buf, with the answer as far as it came (status, headers, got);
	 * may be NULL. Each attempt starts again at got 0.
	 */
	void (*on_body)(void *arg, const struct bfs_http_resp *resp);
	void *on_body_arg;
	/*
	 * With ring set, buf is a ring of ring bytes (buf_size is the
	 * range's length): body byte i goes to buf[i % ring], written only
	 * while i < *ring_done + ring (on_body moves ring_done on as it
	 * consumes). A body that finds no room even after on_body fails
	 * with ENOBUFS.
	 */
	size_t ring;
	const size_t *ring_done;
};

struct bfs_http_resp {
	long status; /* 0 when no response arrived */
	/* response headers of the final attempt, names in lower case */
	struct bfs_http_headers headers;
	char *body; /* NUL-terminated; see bfs_http_req.buf */
	size_t body_len;
	size_t got;	  /* bytes stored into bfs_http_req.buf */
	unsigned retries; /* retries this request took */
	/* body bytes received and sent over all attempts (for metrics) */
	uint64_t bytes_in, bytes_out;
	enum bfs_http_fail fail;
	/* why no response arrived; "" otherwise. Never holds a secret. */
	char error[256];
};

/* Free the contents of resp (not resp); safe on a zeroed struct. */
void bfs_http_resp_release(struct bfs_http_resp *resp);

struct bfs_http_stats {
	uint64_t requests; /* attempts sent, retries included */
	uint64_t retries;
	uint64_t failures;  /* requests that ended without a usable response */
	uint64_t bytes_in;  /* body bytes received */
	uint64_t bytes_out; /* body bytes sent */
};

/*
 * Create a client: initialises libcurl once per process and builds the
 * share handle and the pool. Call it after the daemon forks.
 * @param err receives a message on failure.
 * @return the client, or NULL with errno set (ENOMEM, EINVAL).
 */
struct bfs_http *bfs_http_create(const struct bfs_http_conf *conf, char *err,
				 size_t errlen);

/*
 * Close every connection and free h. No request may be in flight.
 */
void bfs_http_destroy(struct bfs_http *h);

/*
 * Perform req, retrying as described at the top of this file, and fill
 * resp (which the caller zeroes first and releases after).
 * A response with any status counts as success here: the caller maps
 * statuses. After the last retry the last response is returned.
 * @return 0 (a response arrived: see resp->status),
 *         ETIMEDOUT (connect or low-speed timeout on the last attempt, or
 *         conf.op_timeout passed: see resp->error),
 *         EFBIG (the body exceeded its bound),
 *         EIO (no response: DNS, connect, TLS, reset, a 206 shorter
 *         than its Content-Range (retried as a reset), response headers
 *         over 64 KiB (not retried); see resp->fail and resp->error),
 *         EINVAL (bad URL or method), or an errno returned
 *         by req->prepare or by reading the body file.
 * @note thread-safe; blocks until a pooled handle is free.
 */
int bfs_http_do(struct bfs_http *h, const struct bfs_http_req *req,
		struct bfs_http_resp *resp);

/* Copy the counters out. */
void bfs_http_get_stats(struct bfs_http *h, struct bfs_http_stats *out);

/*
 * Parse an HTTP date (RFC 1123, RFC 850 or asctime form).
 * @return 0 or EINVAL.
 */
int bfs_http_parse_date(const char *s, time_t *out);

/*
 * Copy url into out with the values of presigning query parameters
 * (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token) replaced by
 * "[redacted]", for log lines. Truncates to outlen.
 */
void bfs_http_redact_url(const char *url, char *out, size_t outlen);

#endif
