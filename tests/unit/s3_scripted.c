/*
 * s3_scripted.c - the S3 store against a scripted HTTP server: a thread on
 * a loopback port answers each request with the next canned reply and
 * records what it received, so a case checks the exact request bytes
 * (method, path and query encoding, signed headers, body, Content-MD5,
 * payload hash) and stages what a real server will not: redirects, 416 at
 * the end, an <Error> inside a 200, an empty ETag, Retry-After, a lost
 * answer, Ceph's refused If-Match, garbage XML, a stall.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net/http.h"
#include "s3_scripted.h"
#include "store/s3.h"
#include "store/sigv4.h"
#include "store_conformance.h"

#define ok   bfs_conformance_ok
#define diag bfs_conformance_diag

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA                                                              \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct canned {
	int status;
	char *headers; /* "Name: value\r\n" lines */
	char *body;
	int delay_ms;
	bool drop; /* close without answering */
};

struct seen {
	char *method;
	char *target;
	struct bfs_http_headers h; /* names lower case */
	char *body;
	size_t len;
};

static struct {
	int lfd;
	int port;
	pthread_t th;
	pthread_mutex_t lock;
	struct canned q[32]; /* protected by lock */
	size_t nq, qi;	     /* protected by lock */
	struct seen r[64];   /* protected by lock */
	size_t nr;	     /* protected by lock */
	bool stop;	     /* protected by lock */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool stopping(void)
{
	bool s;

	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	s = S.stop;
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
	return s;
}

static void seen_release(struct seen *r);

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read one request from fd into *out. @return 0 or -1. */
static int read_request(int fd, struct seen *out)
{
	size_t cap = 65536, len = 0, hlen, clen = 0;
	char *buf = bfs_xmalloc(cap + 1), *end, *line, *save;

	for (;;) {
		ssize_t r = recv(fd, buf + len, cap - len, 0);

		if (r <= 0) {
			free(buf);
			return -1;
		}
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (len == cap) {
			free(buf);
			return -1;
		}
	}
	hlen = (size_t)(end - buf) + 4;
	*end = '\0';
	line = strtok_r(buf, "\r\n", &save);
	if (!line) {
		free(buf);
		return -1;
	}
	{
		char *sp1 = strchr(line, ' '), *sp2;

		if (!sp1 || !(sp2 = strchr(sp1 + 1, ' '))) {
			free(buf);
			return -1;
		}
		out->method = bfs_xstrndup(line, (size_t)(sp1 - line));
		out->target = bfs_xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	}
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = '\0';
		for (char *c = line; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		v = colon + 1;
		while (*v == ' ')
			v++;
		bfs_http_headers_add(&out->h, line, v);
		if (strcmp(line, "content-length") == 0)
			clen = strtoul(v, NULL, 10);
	}
	out->body = bfs_xmalloc(clen + 1);
	out->len = BFS_MIN(clen, len - hlen);
	memcpy(out->body, buf + hlen, out->len);
	while (out->len < clen) {
		ssize_t r = recv(fd, out->body + out->len, clen - out->len, 0);

		if (r <= 0)
			break;
		out->len += (size_t)r;
	}
	out->body[out->len] = '\0';
	free(buf);
	return 0;
}

static void serve_one(int fd)
{
	struct seen rq = {0};
	struct canned c = {.status = 500, .body = NULL};
	bool have = false, is_head;
	char *head, *hdrs = NULL, *body = NULL;
	size_t blen;

	if (read_request(fd, &rq) != 0)
		return;
	is_head = strcmp(rq.method, "HEAD") == 0;
	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	if (S.nr < BFS_ARRAY_SIZE(S.r))
		S.r[S.nr++] = rq;
	else
		seen_release(&rq);
	if (S.qi < S.nq) {
		c = S.q[S.qi++];
		/* copies: the test may reset the script while we send */
		c.headers = hdrs = c.headers ? bfs_xstrdup(c.headers) : NULL;
		c.body = body = c.body ? bfs_xstrdup(c.body) : NULL;
		have = true;
	}
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
	if (!have)
		c.body = "<Error><Code>InternalError</Code><Message>no canned "
			 "reply left</Message></Error>";
	if (c.drop)
		goto out;
	if (c.delay_ms) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		/* returns early when the client hangs up */
		poll(&p, 1, c.delay_ms);
	}
	blen = c.body ? strlen(c.body) : 0;
	if (c.headers && strcasestr(c.headers, "content-length:"))
		head = bfs_xasprintf("HTTP/1.1 %d X\r\nConnection: close\r\n"
				     "%s\r\n",
				     c.status, c.headers);
	else
		head = bfs_xasprintf("HTTP/1.1 %d X\r\nConnection: close\r\n"
				     "Content-Length: %zu\r\n%s\r\n",
				     c.status, blen,
				     c.headers ? c.headers : "");
	send_all(fd, head, strlen(head));
	if (blen && !is_head)
		send_all(fd, c.body, blen);
	free(head);
out:
	free(hdrs);
	free(body);
}

static void *server(void *arg)
{
	(void)arg;
	while (!stopping()) {
		struct pollfd p = {.fd = S.lfd, .events = POLLIN};
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(S.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

static int server_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(S.lfd, 16) != 0 ||
	    getsockname(S.lfd, (struct sockaddr *)&a, &al) != 0)
		return errno;
	S.port = ntohs(a.sin_port);
	BFS_PCHECK(pthread_create(&S.th, NULL, server, NULL));
	return 0;
}

static void seen_release(struct seen *r)
{
	free(r->method);
	free(r->target);
	free(r->body);
	bfs_http_headers_release(&r->h);
	memset(r, 0, sizeof(*r));
}

/* Forget recorded requests and unused replies. */
static void script_reset(void)
{
	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	for (size_t i = 0; i < S.nr; i++)
		seen_release(&S.r[i]);
	for (size_t i = 0; i < S.nq; i++) {
		free(S.q[i].headers);
		free(S.q[i].body);
	}
	S.nr = S.nq = S.qi = 0;
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
}

static void server_stop(void)
{
	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	S.stop = true;
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
	BFS_PCHECK(pthread_join(S.th, NULL));
	close(S.lfd);
	script_reset();
}

/* Queue a reply; headers and body may be NULL. */
static void reply(int status, const char *headers, const char *body)
{
	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	if (S.nq < BFS_ARRAY_SIZE(S.q)) {
		S.q[S.nq++] = (struct canned){
			.status = status,
			.headers = headers ? bfs_xstrdup(headers) : NULL,
			.body = body ? bfs_xstrdup(body) : NULL,
		};
	}
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
}

static void reply_special(bool drop, int delay_ms)
{
	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	if (S.nq < BFS_ARRAY_SIZE(S.q))
		S.q[S.nq++] = (struct canned){
			.status = 200, .drop = drop, .delay_ms = delay_ms};
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
}

static size_t nreq(void)
{
	size_t n;

	BFS_PCHECK(pthread_mutex_lock(&S.lock));
	n = S.nr;
	BFS_PCHECK(pthread_mutex_unlock(&S.lock));
	return n;
}

/* Request i (the server thread is done with it once the reply is read). */
static struct seen *req(size_t i)
{
	static struct seen none = {.method = "", .target = "", .body = ""};

	return i < nreq() ? &S.r[i] : &none;
}

/* A server's "Date: <t in HTTP form>" header line, into buf. */
static void date_header(char *buf, size_t len, time_t t)
{
	char date[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(buf, len, "Date: %s\r\n", date);
}

/* Whether an x-amz-date (YYYYMMDDTHHMMSSZ) is within a minute of t. */
static bool near(const char *amz, time_t t)
{
	struct tm tm = {0};
	time_t v;

	if (sscanf(amz, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	v = timegm(&tm);
	return v - t < 60 && t - v < 60;
}

static const char *hdr(size_t i, const char *name)
{
	const char *v = bfs_http_headers_get(&req(i)->h, name);

	return v ? v : "";
}

static struct bfs_store *open_scripted(const struct bfs_s3_conf *over)
{
	struct bfs_s3_conf c = {
		.name = "scripted",
		.bucket = "bkt",
		.path_style = true,
		.access_key_id = AKID,
		.secret_access_key = SECRET,
		.connections = 2,
		.connect_timeout = 2,
		.request_timeout = 5,
		.retries = 2,
		.backoff_base = 0.01,
		.backoff_max = 0.05,
	};
	char url[64], err[256];
	struct bfs_store *s;

	if (over)
		c = *over;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", S.port);
	c.base_url = url;
	s = bfs_s3_create(&c, err, sizeof(err));
	if (!s)
		diag("bfs_s3_create: %s", err);
	else if (s->start(s) != 0) {
		s->destroy(s);
		s = NULL;
	}
	return s;
}

static int body_fd(const char *data)
{
	char path[] = "/tmp/bfs-s3-scripted-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		abort();
	unlink(path);
	if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		abort();
	return fd;
}

static void md5_b64(const void *d, size_t n, char out[32])
{
	unsigned char m[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	EVP_Digest(d, n, m, &ml, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, m, 16);
}

static void md5_hex(const void *d, size_t n, char out[33])
{
	unsigned char m[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	EVP_Digest(d, n, m, &ml, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", m[i]);
}

/*
 * The Authorization header of request i is SigV4 for AKID, today, region,
 * s3, and signs every header sent but the transport's own.
 */
static bool signed_well(size_t i, const char *region)
{
	const char *auth = hdr(i, "authorization");
	char want[160], day[16], *sh, *end;
	struct tm tm;
	time_t now = time(NULL);
	bool good = true;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(want, sizeof(want),
		 "AWS4-HMAC-SHA256 Credential=" AKID "/%s/%s/s3/aws4_request, "
		 "SignedHeaders=",
		 day, region);
	if (strncmp(auth, want, strlen(want)) != 0) {
		diag("authorization '%.120s' does not start with '%s'", auth,
		     want);
		return false;
	}
	sh = bfs_xstrdup(auth + strlen(want));
	end = strstr(sh, ", Signature=");
	if (!end || strspn(end + 12, "0123456789abcdef") != 64) {
		free(sh);
		return false;
	}
	*end = '\0';
	for (size_t k = 0; k < req(i)->h.n; k++) {
		const char *n = req(i)->h.v[k].name;
		char *needle;

		if (!strcmp(n, "authorization") ||
		    !strcmp(n, "content-length") || !strcmp(n, "accept") ||
		    !strcmp(n, "user-agent"))
			continue;
		needle = bfs_xasprintf(";%s;", n);
		{
			char *list = bfs_xasprintf(";%s;", sh);

			if (!strstr(list, needle)) {
				diag("header '%s' is sent but not signed (%s)",
				     n, sh);
				good = false;
			}
			free(list);
		}
		free(needle);
	}
	free(sh);
	return good;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- cases ---- */

static void c_head(struct bfs_store *s)
{
	struct bfs_obj_info info = {0};
	int rc;

	script_reset();
	reply(200,
	      "Content-Length: 42\r\nETag: \"abc\"\r\nLast-Modified: Wed, 21 "
	      "Oct 2015 07:28:00 GMT\r\nx-amz-meta-Mode: 33188\r\n"
	      "X-Amz-Meta-uid: 7\r\n",
	      NULL);
	rc = s->head(s, "dir a/b+c%d~e", &info);
	ok(rc == 0 && !strcmp(req(0)->method, "HEAD") &&
		   !strcmp(req(0)->target, "/bkt/dir%20a/b%2Bc%25d~e"),
	   "scripted: HEAD path is the key encoded the S3 way ('%s')",
	   req(0)->target);
	ok(rc == 0 && info.size == 42 && !strcmp(info.etag, "abc") &&
		   info.mtime.tv_sec == 1445412480,
	   "scripted: HEAD size, unquoted ETag, Last-Modified");
	ok(rc == 0 && bfs_meta_get(&info.meta, "mode") &&
		   !strcmp(bfs_meta_get(&info.meta, "mode"), "33188") &&
		   info.meta.items && bfs_meta_get(&info.meta, "uid") &&
		   !strcmp(info.meta.items[0].name, "mode"),
	   "scripted: x-amz-meta-* become lower-case metadata names");
	ok(!strcmp(hdr(0, "x-amz-content-sha256"), EMPTY_SHA) &&
		   signed_well(0, "us-east-1") && hdr(0, "x-amz-date")[0],
	   "scripted: HEAD is SigV4-signed, empty payload hash");
	bfs_obj_info_release(&info);
}

static void c_put(struct bfs_store *s)
{
	const char *file = "xxxhello worldyyy", *body = "hello world";
	struct bfs_meta_list m = {0};
	char etag[BFS_ETAG_MAX] = "", b64[32], sha[BFS_SIGV4_HEX_LEN];
	int fd = body_fd(file);
	struct bfs_put_req r = {.key = "a/k",
				.fd = fd,
				.offset = 3,
				.size = 11,
				.meta = &m,
				.if_none_match = true};
	int rc;

	script_reset();
	bfs_meta_set(&m, "mode", "33188");
	reply(200, "ETag: \"e1\"\r\n", NULL);
	rc = s->put(s, &r, etag);
	md5_b64(body, strlen(body), b64);
	bfs_sigv4_sha256_hex(body, strlen(body), sha);
	ok(rc == 0 && !strcmp(etag, "e1") && !strcmp(req(0)->method, "PUT") &&
		   !strcmp(req(0)->target, "/bkt/a/k") &&
		   req(0)->len == strlen(body) &&
		   !memcmp(req(0)->body, body, req(0)->len),
	   "scripted: PUT sends exactly the file region, ETag returned");
	ok(!strcmp(hdr(0, "content-md5"), b64) &&
		   !strcmp(hdr(0, "x-amz-content-sha256"), sha),
	   "scripted: PUT carries Content-MD5 and the payload's SHA-256");
	ok(!strcmp(hdr(0, "if-none-match"), "*") &&
		   !strcmp(hdr(0, "x-amz-meta-mode"), "33188") &&
		   !strcmp(hdr(0, "content-type"),
			   "application/octet-stream") &&
		   !hdr(0, "expect")[0],
	   "scripted: PUT headers: If-None-Match, metadata, type, no Expect");
	ok(signed_well(0, "us-east-1"),
	   "scripted: every header of the PUT is signed");
	close(fd);
	bfs_meta_list_release(&m);
}

static void c_list(struct bfs_store *s)
{
	struct bfs_list_req lr = {.prefix = "p/q r",
				  .delimiter = "/",
				  .token = "t/1+=",
				  .start_after = "p/a",
				  .max_keys = 7};
	struct bfs_list_result res = {0};
	int rc;

	script_reset();
	reply(200, NULL,
	      "<ListBucketResult><EncodingType>url</EncodingType>"
	      "<IsTruncated>true</IsTruncated><Contents><Key>p%2Fq%20r%2Bx"
	      "</Key><Size>3</Size></Contents><CommonPrefixes><Prefix>p%2Fq"
	      "%20r%2Fd%2F</Prefix></CommonPrefixes><NextContinuationToken>"
	      "n2</NextContinuationToken></ListBucketResult>");
	rc = s->list(s, &lr, &res);
	ok(!strcmp(req(0)->target,
		   "/bkt?continuation-token=t%2F1%2B%3D&delimiter=%2F&"
		   "encoding-type=url&list-type=2&max-keys=7&prefix=p%2Fq%20r"
		   "&start-after=p%2Fa"),
	   "scripted: LIST query, sorted and encoded ('%s')", req(0)->target);
	ok(rc == 0 && res.nobjs == 1 && !strcmp(res.objs[0].key, "p/q r+x") &&
		   res.nprefixes == 1 && !strcmp(res.prefixes[0], "p/q r/d/") &&
		   res.next_token && !strcmp(res.next_token, "n2"),
	   "scripted: LIST decodes url-encoded keys and prefixes");
	ok(signed_well(0, "us-east-1"), "scripted: LIST is signed");
	bfs_list_result_release(&res);

	script_reset();
	reply(200, NULL, "<ListBucketResult><Contents><Key>trunc");
	rc = s->list(s, &lr, &res);
	{
		struct bfs_s3_error e;

		ok(rc == EIO && bfs_s3_last_error(s, &e) == 0 &&
			   strstr(e.message, "malformed XML"),
		   "scripted: truncated listing XML is EIO, said so");
	}
}

/* What a get_range_sink's sink was told: the calls, the last n. */
struct told {
	unsigned calls;
	size_t last;
	bool shrank;
};

static void told_landed(void *arg, size_t n)
{
	struct told *t = arg;

	t->shrank |= t->calls > 0 && n <= t->last;
	t->calls++;
	t->last = n;
}

/* The next answer, alone: a 206 of all len bytes of body, with the
 * ETag "abc" or none. */
static void reply_whole(const char *body, size_t len, bool etag)
{
	char hdrs[128];

	snprintf(hdrs, sizeof(hdrs), "Content-Range: bytes 0-%zu/%zu\r\n%s",
		 len - 1, len, etag ? "ETag: \"abc\"\r\n" : "");
	script_reset();
	reply(206, hdrs, body);
}

/* A sink with a step is told only when the bytes pass a multiple of
 * it: curl hands 256 KiB over in pieces of at most 16 KiB, and each
 * telling checks the answer's headers again. */
static void c_ranges_sink_step(struct bfs_store *s)
{
	enum { LEN = 256 * 1024, STEP = 64 * 1024 };
	struct told t = {0};
	struct bfs_range_sink sink = {
		.landed = told_landed, .arg = &t, .step = STEP};
	char *body = bfs_xmalloc(LEN + 1), *buf = bfs_xmalloc(LEN);
	size_t got = 0;
	int rc;

	memset(body, 'x', LEN);
	body[LEN] = '\0';
	reply_whole(body, LEN, true);
	rc = s->get_range_sink(s, "k", 0, LEN, buf, &got, "abc", &sink);
	ok(rc == 0 && got == LEN && t.calls >= 1 && t.calls <= LEN / STEP &&
		   t.last == LEN && !t.shrank,
	   "scripted: a sink with a step of 64 KiB is told 256 KiB in at most "
	   "4 calls (%u)",
	   t.calls);
	free(body);
	free(buf);
}

/* A sink's consumer of a ring: copies each whole step out of it. */
struct ring_reader {
	const char *ring;
	size_t size, step, done;
	char *out;
	unsigned calls;
};

static void ring_landed(void *arg, size_t n)
{
	struct ring_reader *r = arg;
	size_t to = n / r->step * r->step;

	r->calls++;
	for (; r->done < to; r->done++)
		r->out[r->done] = r->ring[r->done % r->size];
}

/* A ring smaller than the answer: each byte passes through it and is
 * read out before its room is written again; an answer that cannot be
 * told as it comes (no ETag) and is longer than the ring is ENOBUFS. */
static void c_ranges_sink_ring(struct bfs_store *s)
{
	enum { LEN = 256 * 1024 + 100, RING = 64 * 1024, STEP = 32 * 1024 };
	char *body = bfs_xmalloc(LEN + 1), *ring = bfs_xmalloc(RING);
	char *out = bfs_xcalloc(1, LEN);
	struct ring_reader rr = {
		.ring = ring, .size = RING, .step = STEP, .out = out};
	struct bfs_range_sink sink = {
		.landed = ring_landed, .arg = &rr, .step = STEP, .ring = RING};
	size_t got = 0;
	int rc;

	for (size_t i = 0; i < LEN; i++)
		body[i] = (char)('a' + i % 23);
	body[LEN] = '\0';
	reply_whole(body, LEN, true);
	rc = s->get_range_sink(s, "k", 0, LEN, ring, &got, "abc", &sink);
	/* the short tail stays in the ring for the caller */
	for (size_t i = rr.done; rc == 0 && i < got; i++)
		out[i] = ring[i % RING];
	ok(rc == 0 && got == LEN && rr.done == LEN / STEP * STEP &&
		   memcmp(out, body, LEN) == 0,
	   "scripted: a 256 KiB answer through a 64 KiB ring comes out whole "
	   "(%u calls, %zu bytes read out before the tail)",
	   rr.calls, rr.done);
	rr.done = 0;
	rr.calls = 0;
	reply_whole(body, LEN, false);
	rc = s->get_range_sink(s, "k", 0, LEN, ring, &got, "abc", &sink);
	ok(rc == ENOBUFS && rr.calls == 0,
	   "scripted: ... one with no ETag, longer than the ring, is ENOBUFS "
	   "(rc %d)",
	   rc);
	script_reset();
	reply(206, "Content-Range: bytes 2-5/10\r\n", "2345");
	rc = s->get_range_sink(s, "k", 2, 4, ring, &got, "abc", &sink);
	ok(rc == 0 && got == 4 && !memcmp(ring, "2345", 4),
	   "scripted: ... and one that fits the ring is read as before");
	free(body);
	free(ring);
	free(out);
}

/* get_range_sink passes bytes on only from a 206 that starts where
 * asked and names the pinned ETag; the rest waits for the checks at
 * the end. */
static void c_ranges_sink(struct bfs_store *s)
{
	struct told t = {0};
	struct bfs_range_sink sink = {.landed = told_landed, .arg = &t};
	char buf[16];
	size_t got = 0;
	int rc;

	script_reset();
	reply(206, "Content-Range: bytes 2-5/10\r\nETag: \"abc\"\r\n", "2345");
	rc = s->get_range_sink(s, "k", 2, 4, buf, &got, "abc", &sink);
	ok(rc == 0 && got == 4 && !memcmp(buf, "2345", 4) && t.calls >= 1 &&
		   t.last == 4 && !t.shrank,
	   "scripted: a sink is told the bytes of a pinned 206 as they come "
	   "(%u calls, last %zu)",
	   t.calls, t.last);
	t = (struct told){0};
	script_reset();
	reply(206, "Content-Range: bytes 2-5/10\r\nETag: \"other\"\r\n",
	      "2345");
	rc = s->get_range_sink(s, "k", 2, 4, buf, &got, "abc", &sink);
	ok(rc == ESTALE && t.calls == 0,
	   "scripted: ... never those of an answer with another ETag");
	script_reset();
	reply(206, "Content-Range: bytes 0-3/10\r\nETag: \"abc\"\r\n", "0123");
	rc = s->get_range_sink(s, "k", 2, 4, buf, &got, "abc", &sink);
	ok(rc == EIO && t.calls == 0,
	   "scripted: ... nor of a 206 that starts elsewhere (rc %d)", rc);
	script_reset();
	reply(206, "Content-Range: bytes 2-5/10\r\n", "2345");
	rc = s->get_range_sink(s, "k", 2, 4, buf, &got, "abc", &sink);
	ok(rc == 0 && got == 4 && t.calls == 0,
	   "scripted: ... nor of one that names no ETag (checked at the end)");
	script_reset();
	reply(200, "ETag: \"abc\"\r\n", "0123456789");
	rc = s->get_range_sink(s, "k", 4, 3, buf, &got, "abc", &sink);
	ok(rc == 0 && got == 3 && !memcmp(buf, "456", 3) && t.calls == 0,
	   "scripted: ... nor of a 200 to a ranged GET");
	c_ranges_sink_step(s);
	c_ranges_sink_ring(s);
}

static void c_ranges(struct bfs_store *s)
{
	char buf[16];
	size_t got = 99;
	int rc;

	script_reset();
	reply(416, "Content-Range: bytes */10\r\n",
	      "<Error><Code>InvalidRange</Code></Error>");
	rc = s->get_range(s, "k", 10, 5, buf, &got, NULL);
	ok(rc == 0 && got == 0 && !strcmp(hdr(0, "range"), "bytes=10-14"),
	   "scripted: 416 at off == size is 0 bytes (rc %d)", rc);
	reply(416, "Content-Range: bytes */10\r\n",
	      "<Error><Code>InvalidRange</Code></Error>");
	rc = s->get_range(s, "k", 11, 5, buf, &got, NULL);
	ok(rc == ERANGE, "scripted: 416 past the end is ERANGE");

	script_reset();
	reply(412, NULL, "<Error><Code>PreconditionFailed</Code></Error>");
	rc = s->get_range(s, "k", 0, 5, buf, &got, "abc");
	ok(rc == ESTALE && !strcmp(hdr(0, "if-match"), "\"abc\""),
	   "scripted: pinned read sends If-Match, 412 is ESTALE");

	script_reset();
	reply(206, "Content-Range: bytes 0-3/4\r\nETag: \"other\"\r\n", "data");
	rc = s->get_range(s, "k", 0, 4, buf, &got, "abc");
	ok(rc == ESTALE, "scripted: an answer with another ETag is ESTALE "
			 "even if the server ignored If-Match");

	script_reset();
	reply(200, NULL, "0123456789");
	rc = s->get_range(s, "k", 4, 3, buf, &got, NULL);
	ok(rc == 0 && got == 3 && !memcmp(buf, "456", 3),
	   "scripted: a 200 to a ranged GET is skipped to the offset");
	c_ranges_sink(s);
}

/* head_read: one ranged GET with no If-Match answers the head (size
 * from Content-Range) and the first bytes; an empty object (416) is
 * asked again with HEAD; no buffer is a plain HEAD. */
static void c_head_read(struct bfs_store *s)
{
	struct bfs_obj_info info = {0};
	char buf[16];
	size_t got = 99;
	int rc;

	script_reset();
	reply(206,
	      "Content-Range: bytes 0-7/300\r\nETag: \"e1\"\r\n"
	      "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
	      "x-amz-meta-mode: 33188\r\n",
	      "01234567");
	rc = s->head_read(s, "k", NULL, &info, buf, 8, &got);
	ok(rc == 0 && nreq() == 1 && !strcmp(req(0)->method, "GET") &&
		   !strcmp(hdr(0, "range"), "bytes=0-7") &&
		   !hdr(0, "if-match")[0],
	   "scripted: head_read is one GET of bytes=0-7, no If-Match (rc "
	   "%d)",
	   rc);
	ok(rc == 0 && info.size == 300 && !strcmp(info.etag, "e1") &&
		   info.mtime.tv_sec == 1445412480 && got == 8 &&
		   !memcmp(buf, "01234567", 8) &&
		   bfs_meta_get(&info.meta, "mode") &&
		   !strcmp(bfs_meta_get(&info.meta, "mode"), "33188"),
	   "scripted: head_read's size is Content-Range's, ETag, "
	   "Last-Modified, metadata, the bytes (size %llu, got %zu)",
	   (unsigned long long)info.size, got);
	bfs_obj_info_release(&info);

	script_reset();
	reply(416, NULL, "<Error><Code>InvalidRange</Code></Error>");
	reply(200, "Content-Length: 0\r\nETag: \"e0\"\r\n", NULL);
	rc = s->head_read(s, "k", NULL, &info, buf, 8, &got);
	ok(rc == 0 && nreq() == 2 && !strcmp(req(1)->method, "HEAD") &&
		   info.size == 0 && !strcmp(info.etag, "e0") && got == 0,
	   "scripted: head_read of an empty object (416) asks HEAD (rc %d)",
	   rc);
	bfs_obj_info_release(&info);

	script_reset();
	reply(404, NULL, "<Error><Code>NoSuchKey</Code></Error>");
	rc = s->head_read(s, "k", NULL, &info, buf, 8, &got);
	ok(rc == ENOENT && nreq() == 1, "scripted: head_read of no key is "
					"ENOENT");

	script_reset();
	reply(200, "Content-Length: 42\r\nETag: \"e2\"\r\n", NULL);
	rc = s->head_read(s, "k", NULL, &info, NULL, 0, NULL);
	ok(rc == 0 && !strcmp(req(0)->method, "HEAD") && info.size == 42,
	   "scripted: head_read with no buffer is a HEAD");
	bfs_obj_info_release(&info);
}

/* tail_read: one GET of a suffix range answers the head (size from
 * Content-Range) and the last bytes; a whole small object is its last
 * bytes, a whole larger one gives none; a range that does not reach the
 * end is refused; a server that reads the suffix as a prefix (s3rver)
 * gives no bytes, and a HEAD is sent from then on (last: the store
 * keeps that). */
static void c_tail_read(struct bfs_store *s)
{
	static const struct {
		const char *what;
		int status;
		const char *hdrs, *body;
		int rc;
		uint64_t size;
		const char *bytes; /* the bytes got */
	} cases[] = {
		{"a 206 of the last 8 of 300: size, ETag, the bytes", 206,
		 "Content-Range: bytes 292-299/300\r\nETag: \"e1\"\r\n",
		 "abcdefgh", 0, 300, "abcdefgh"},
		{"a 200 of an object shorter than asked: all of it", 200,
		 "ETag: \"e2\"\r\n", "xyz", 0, 3, "xyz"},
		{"a 200 with the whole of a longer object: its size, no bytes",
		 200, "ETag: \"e3\"\r\n", "0123456789abcdef", 0, 16, ""},
		{"a 206 that does not reach the end: EIO", 206,
		 "Content-Range: bytes 100-107/300\r\nETag: \"e4\"\r\n",
		 "abcdefgh", EIO, 0, ""},
	};
	struct bfs_obj_info info = {0};
	char buf[16];
	size_t got;
	int rc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script_reset();
		reply(cases[i].status, cases[i].hdrs, cases[i].body);
		got = 99;
		rc = s->tail_read(s, "k", &info, buf, 8, &got);
		ok(rc == cases[i].rc && nreq() == 1 &&
			   !strcmp(req(0)->method, "GET") &&
			   !strcmp(hdr(0, "range"), "bytes=-8") &&
			   !hdr(0, "if-match")[0] &&
			   (rc || info.size == cases[i].size) &&
			   got == strlen(cases[i].bytes) &&
			   !memcmp(buf, cases[i].bytes, got),
		   "scripted: tail_read is one GET of bytes=-8: %s (rc %d, "
		   "size %llu, got %zu)",
		   cases[i].what, rc, (unsigned long long)info.size, got);
		if (rc == 0)
			bfs_obj_info_release(&info);
		memset(&info, 0, sizeof(info));
	}

	script_reset();
	reply(206, "Content-Range: bytes 0-8/300\r\nETag: \"e5\"\r\n",
	      "012345678");
	reply(200, "Content-Length: 300\r\nETag: \"e5\"\r\n", NULL);
	rc = s->tail_read(s, "k", &info, buf, 8, &got);
	ok(rc == 0 && info.size == 300 && got == 0,
	   "scripted: a suffix read as a prefix (s3rver): the head, no bytes "
	   "(rc %d, got %zu)",
	   rc, got);
	bfs_obj_info_release(&info);
	rc = s->tail_read(s, "k", &info, buf, 8, &got);
	ok(rc == 0 && nreq() == 2 && !strcmp(req(1)->method, "HEAD") &&
		   info.size == 300 && got == 0,
	   "scripted: ... and a HEAD from then on (rc %d, %zu requests)", rc,
	   nreq());
	bfs_obj_info_release(&info);
}

static void c_multipart(struct bfs_store *s)
{
	struct bfs_part parts[2] = {{1, "p1"}, {2, "p2"}};
	struct bfs_put_req r = {.key = "mp"};
	char etag[BFS_ETAG_MAX] = "";
	int rc;

	script_reset();
	reply(200, NULL,
	      "<InitiateMultipartUploadResult><UploadId>u/1+2</UploadId>"
	      "</InitiateMultipartUploadResult>");
	{
		char *id = NULL;

		rc = s->mpu_begin(s, &r, &id);
		ok(rc == 0 && id && !strcmp(id, "u/1+2") &&
			   !strcmp(req(0)->method, "POST") &&
			   !strcmp(req(0)->target, "/bkt/mp?uploads="),
		   "scripted: CreateMultipartUpload (%s)", req(0)->target);
		free(id);
	}

	script_reset();
	reply(200, NULL,
	      "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code>"
	      "<Message>try again</Message></Error>");
	reply(200, NULL,
	      "<CompleteMultipartUploadResult><ETag>\"m-2\"</ETag>"
	      "</CompleteMultipartUploadResult>");
	rc = s->mpu_complete(s, &r, "u/1+2", parts, 2, etag);
	ok(rc == 0 && !strcmp(etag, "m-2") && nreq() == 2 &&
		   !strcmp(req(0)->target, "/bkt/mp?uploadId=u%2F1%2B2") &&
		   strstr(req(0)->body, "<Part><PartNumber>2</PartNumber>"
					"<ETag>\"p2\"</ETag></Part>"),
	   "scripted: an <Error> inside a 200 to Complete is retried");

	script_reset();
	reply(200, NULL,
	      "<CompleteMultipartUploadResult><ETag></ETag>"
	      "</CompleteMultipartUploadResult>");
	reply(200, "Content-Length: 10\r\nETag: \"h-2\"\r\n", NULL);
	rc = s->mpu_complete(s, &r, "u", parts, 2, etag);
	ok(rc == 0 && !strcmp(etag, "h-2") && !strcmp(req(1)->method, "HEAD"),
	   "scripted: an empty ETag after Complete (RGW) is fetched by HEAD");

	script_reset();
	reply(200, "Content-Length: 10\r\nETag: \"x\"\r\n", NULL);
	r.if_none_match = true;
	rc = s->mpu_complete(s, &r, "u", parts, 2, etag);
	ok(rc == EEXIST && nreq() == 1,
	   "scripted: Complete with If-None-Match checks first: EEXIST");
}

static void c_errors(struct bfs_store *s)
{
	struct bfs_list_req lr = {0};
	struct bfs_list_result res = {0};
	struct bfs_obj_info info = {0};
	struct bfs_s3_error e;
	struct bfs_store_stats st0, st1;
	double t0;
	int rc;

	script_reset();
	reply(301, "x-amz-bucket-region: eu-west-1\r\n",
	      "<Error><Code>PermanentRedirect</Code><Message>The bucket you "
	      "are attempting to access must be addressed using the "
	      "specified endpoint.</Message><Endpoint>bkt.s3.eu-west-1."
	      "amazonaws.com</Endpoint></Error>");
	rc = s->list(s, &lr, &res);
	ok(rc == EREMOTE && nreq() == 1 && bfs_s3_last_error(s, &e) == 0 &&
		   !strcmp(e.code, "PermanentRedirect") &&
		   !strcmp(e.region, "eu-west-1") &&
		   !strcmp(e.endpoint, "bkt.s3.eu-west-1.amazonaws.com") &&
		   e.hint[0] && !strcmp(e.op, "LIST"),
	   "scripted: PermanentRedirect is EREMOTE with region and endpoint");

	script_reset();
	reply(400, NULL,
	      "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the "
	      "region 'us-east-1' is wrong; expecting 'ap-south-1'</Message>"
	      "<Region>ap-south-1</Region></Error>");
	rc = s->list(s, &lr, &res);
	ok(rc == EREMOTE && bfs_s3_last_error(s, &e) == 0 &&
		   !strcmp(e.region, "ap-south-1"),
	   "scripted: AuthorizationHeaderMalformed names the right region");

	script_reset();
	reply(301, "x-amz-bucket-region: sa-east-1\r\n", NULL);
	rc = s->head(s, "k", &info);
	ok(rc == EREMOTE && bfs_s3_last_error(s, &e) == 0 &&
		   !strcmp(e.region, "sa-east-1"),
	   "scripted: a HEAD redirect (no body) takes x-amz-bucket-region");

	{
		/* the server's clock is an hour ahead of ours */
		char hdrs[96], want[BFS_SIGV4_DATE_LEN];
		time_t ahead = time(NULL) + 3600;

		date_header(hdrs, sizeof(hdrs), ahead);
		script_reset();
		reply(403, hdrs,
		      "<Error><Code>RequestTimeTooSkewed</Code><Message>The "
		      "difference between the request time and the current "
		      "time is too large.</Message></Error>");
		reply(200, NULL, "<ListBucketResult></ListBucketResult>");
		rc = s->list(s, &lr, &res);
		bfs_sigv4_amz_date(ahead, want);
		ok(rc == 0 && nreq() == 2 && near(hdr(1, "x-amz-date"), ahead),
		   "scripted: RequestTimeTooSkewed is retried signed with the "
		   "server's Date (%s, wanted about %s)",
		   hdr(1, "x-amz-date"), want);
		bfs_list_result_release(&res);

		/* the next request is signed with the server's time at once */
		script_reset();
		reply(200, NULL, "<ListBucketResult></ListBucketResult>");
		rc = s->list(s, &lr, &res);
		ok(rc == 0 && nreq() == 1 &&
			   near(hdr(0, "x-amz-date"), time(NULL) + 3600),
		   "scripted: later requests keep the corrected clock");
		bfs_list_result_release(&res);

		/* a Date that agrees with how we signed does not help */
		script_reset();
		reply(403, hdrs,
		      "<Error><Code>RequestTimeTooSkewed</Code><Message>The "
		      "difference between the request time and the current "
		      "time is too large.</Message></Error>");
		rc = s->list(s, &lr, &res);
		ok(rc == EACCES && nreq() == 1 &&
			   bfs_s3_last_error(s, &e) == 0 &&
			   strstr(e.hint, "clock"),
		   "scripted: RequestTimeTooSkewed that the Date does not "
		   "explain is EACCES, not retried, hints at the clock");

		/* the server's clock back in line: signed with ours again */
		ahead = time(NULL);
		date_header(hdrs, sizeof(hdrs), ahead);
		script_reset();
		reply(403, hdrs,
		      "<Error><Code>RequestTimeTooSkewed</Code></Error>");
		reply(200, NULL, "<ListBucketResult></ListBucketResult>");
		rc = s->list(s, &lr, &res);
		ok(rc == 0 && nreq() == 2 && near(hdr(1, "x-amz-date"), ahead),
		   "scripted: a server clock that moves back is followed");
		bfs_list_result_release(&res);

		/* a HEAD's 403 has no body: its Date tells the skew */
		ahead = time(NULL) + 3600;
		date_header(hdrs, sizeof(hdrs), ahead);
		script_reset();
		reply(403, hdrs, NULL);
		reply(200, "Content-Length: 1\r\nETag: \"a\"\r\n", NULL);
		rc = s->head(s, "k", &info);
		ok(rc == 0 && nreq() == 2 && near(hdr(1, "x-amz-date"), ahead),
		   "scripted: a HEAD's bodiless 403 with a skewed Date is "
		   "retried signed with the server's Date (rc %d, %zu "
		   "requests)",
		   rc, nreq());
		bfs_obj_info_release(&info);

		/* one from a server in step with how we signed is a denial */
		script_reset();
		reply(403, hdrs, NULL);
		rc = s->head(s, "k", &info);
		ok(rc == EACCES && nreq() == 1,
		   "scripted: a HEAD's bodiless 403 with a Date in step is "
		   "EACCES, not retried (rc %d, %zu requests)",
		   rc, nreq());

		/* back to our own clock for the cases after these */
		ahead = time(NULL);
		date_header(hdrs, sizeof(hdrs), ahead);
		script_reset();
		reply(403, hdrs, NULL);
		reply(200, "Content-Length: 1\r\nETag: \"a\"\r\n", NULL);
		rc = s->head(s, "k", &info);
		ok(rc == 0 && nreq() == 2 && near(hdr(1, "x-amz-date"), ahead),
		   "scripted: and a HEAD follows the clock back");
		bfs_obj_info_release(&info);
	}

	script_reset();
	reply(400, NULL,
	      "<Error><Code>RequestTimeout</Code><Message>Your socket "
	      "connection to the server was not read from or written to "
	      "within the timeout period.</Message></Error>");
	reply(200, NULL, "<ListBucketResult></ListBucketResult>");
	rc = s->list(s, &lr, &res);
	ok(rc == 0 && nreq() == 2, "scripted: 400 RequestTimeout is retried");
	bfs_list_result_release(&res);

	script_reset();
	s->get_stats(s, &st0);
	reply(503, "Retry-After: 1\r\n",
	      "<Error><Code>SlowDown</Code></Error>");
	reply(200, "Content-Length: 1\r\nETag: \"a\"\r\n", NULL);
	t0 = now_s();
	rc = s->head(s, "k", &info);
	s->get_stats(s, &st1);
	ok(rc == 0 && now_s() - t0 >= 0.95 && st1.retries == st0.retries + 1,
	   "scripted: Retry-After: 1 is obeyed (%.2f s), the retry counted",
	   now_s() - t0);
	bfs_obj_info_release(&info);

	script_reset();
	for (int i = 0; i < 3; i++)
		reply(503, NULL, "<Error><Code>SlowDown</Code></Error>");
	rc = s->list(s, &lr, &res);
	ok(rc == EIO && nreq() == 3 && bfs_s3_last_error(s, &e) == 0 &&
		   !strcmp(e.code, "SlowDown") && e.status == 503,
	   "scripted: SlowDown past 2 retries is EIO after 3 attempts");

	script_reset();
	reply(501, NULL, "<Error><Code>NotImplemented</Code></Error>");
	rc = s->list(s, &lr, &res);
	ok(rc == ENOTSUP && nreq() == 1,
	   "scripted: 501 NotImplemented is ENOTSUP, not retried");

	script_reset();
	reply(404, NULL, "<Error><Code>NoSuchBucket</Code></Error>");
	rc = s->list(s, &lr, &res);
	ok(rc == ENXIO, "scripted: NoSuchBucket is ENXIO");

	script_reset();
	reply(404, NULL, "<Error><Code>NoSuchKey</Code></Error>");
	ok(s->del(s, "gone") == 0, "scripted: deleting a missing key is 0");
}

static void c_conditional(struct bfs_store *s)
{
	const char *body = "payload";
	char etag[BFS_ETAG_MAX] = "", md5[33];
	int fd = body_fd(body);
	struct bfs_put_req r = {
		.key = "c", .fd = fd, .size = 7, .if_match = "old"};
	int rc;

	/* Ceph 16: 412 although the ETag matches */
	script_reset();
	reply(412, NULL, "<Error><Code>PreconditionFailed</Code></Error>");
	reply(200, "Content-Length: 7\r\nETag: \"old\"\r\n", NULL);
	reply(200, "ETag: \"new\"\r\n", NULL);
	rc = s->put(s, &r, etag);
	ok(rc == 0 && !strcmp(etag, "new") && nreq() == 3 &&
		   !strcmp(hdr(0, "if-match"), "\"old\"") &&
		   !strcmp(req(1)->method, "HEAD") &&
		   !strcmp(req(2)->method, "PUT") && !hdr(2, "if-match")[0],
	   "scripted: a 412 to a matching If-Match (Ceph 16) is detected");
	script_reset();
	reply(200, "Content-Length: 7\r\nETag: \"new\"\r\n", NULL);
	reply(200, "ETag: \"newer\"\r\n", NULL);
	r.if_match = "new";
	rc = s->put(s, &r, etag);
	ok(rc == 0 && !strcmp(etag, "newer") && nreq() == 2 &&
		   !strcmp(req(0)->method, "HEAD") && !hdr(1, "if-match")[0],
	   "scripted: then If-Match is checked by HEAD before the PUT");
	script_reset();
	reply(200, "Content-Length: 7\r\nETag: \"newer\"\r\n", NULL);
	r.if_match = "stale";
	rc = s->put(s, &r, etag);
	ok(rc == ESTALE && nreq() == 1,
	   "scripted: ... and a stale If-Match is ESTALE with no PUT");

	/* the answer to an If-None-Match PUT is lost; the retry meets it */
	script_reset();
	md5_hex(body, 7, md5);
	reply_special(true, 0);
	reply(412, NULL, "<Error><Code>PreconditionFailed</Code></Error>");
	{
		char h[128];

		snprintf(h, sizeof(h), "Content-Length: 7\r\nETag: \"%s\"\r\n",
			 md5);
		reply(200, h, NULL);
	}
	r.if_match = NULL;
	r.if_none_match = true;
	rc = s->put(s, &r, etag);
	ok(rc == 0 && !strcmp(etag, md5) && nreq() == 3,
	   "scripted: If-None-Match PUT whose answer was lost: our own "
	   "object is recognised by its MD5 (rc %d)",
	   rc);
	script_reset();
	reply(412, NULL, "<Error><Code>PreconditionFailed</Code></Error>");
	reply(200, "Content-Length: 9\r\nETag: \"someone-else\"\r\n", NULL);
	rc = s->put(s, &r, etag);
	ok(rc == EEXIST, "scripted: If-None-Match on another object is EEXIST");
	close(fd);
}

static void c_copy_delete(struct bfs_store *s)
{
	struct bfs_meta_list m = {0};
	const char *keys[] = {"a&b", "c<d>'\""};
	int errs[2] = {-1, -1};
	char etag[BFS_ETAG_MAX] = "", b64[32];
	int rc;

	script_reset();
	bfs_meta_set(&m, "mode", "2");
	reply(200,
	      "Content-Length: 5\r\nETag: \"s1\"\r\nContent-Type: "
	      "text/plain\r\n",
	      NULL);
	reply(200, NULL,
	      "<CopyObjectResult><ETag>\"c1\"</ETag></CopyObjectResult>");
	rc = s->copy(s, "src key", "dst", &m, "s1", etag);
	ok(rc == 0 && !strcmp(etag, "c1") && !strcmp(req(0)->method, "HEAD") &&
		   !strcmp(req(1)->target, "/bkt/dst") &&
		   !strcmp(hdr(1, "x-amz-copy-source"), "/bkt/src%20key") &&
		   !strcmp(hdr(1, "x-amz-copy-source-if-match"), "\"s1\"") &&
		   !strcmp(hdr(1, "x-amz-metadata-directive"), "REPLACE") &&
		   !strcmp(hdr(1, "content-type"), "text/plain") &&
		   !strcmp(hdr(1, "x-amz-meta-mode"), "2") &&
		   signed_well(1, "us-east-1"),
	   "scripted: CopyObject headers (source encoded, pinned, REPLACE "
	   "keeps the type)");
	bfs_meta_list_release(&m);

	script_reset();
	reply(200, NULL,
	      "<DeleteResult><Deleted><Key>a&amp;b</Key></Deleted>"
	      "</DeleteResult>");
	rc = bfs_s3_delete_objects(s, keys, 2, errs);
	md5_b64(req(0)->body, req(0)->len, b64);
	ok(rc == 0 && !errs[0] && !errs[1] &&
		   !strcmp(req(0)->target, "/bkt?delete=") &&
		   strstr(req(0)->body, "<Key>a&amp;b</Key>") &&
		   strstr(req(0)->body, "<Key>c&lt;d&gt;&apos;&quot;</Key>") &&
		   !strcmp(hdr(0, "content-md5"), b64),
	   "scripted: DeleteObjects escapes keys and sends Content-MD5");
}

static void c_credentials(void)
{
	struct bfs_s3_conf c = {
		.name = "anon",
		.bucket = "bkt",
		.path_style = true,
		.retries = 0,
		.connect_timeout = 2,
		.request_timeout = 5,
	};
	struct bfs_obj_info info = {0};
	struct bfs_store *s;
	char path[] = "/tmp/bfs-s3-log-XXXXXX";
	int fd, saved;
	char logbuf[8192] = "";
	ssize_t n;

	script_reset();
	s = open_scripted(&c);
	reply(200, "Content-Length: 1\r\n", NULL);
	if (s)
		s->head(s, "k", &info);
	ok(s && !hdr(0, "authorization")[0] && !hdr(0, "x-amz-date")[0],
	   "scripted: without keys requests go unsigned");
	if (s)
		s->destroy(s);
	bfs_obj_info_release(&info);

	c.access_key_id = AKID;
	c.secret_access_key = SECRET;
	c.session_token = "TOKEN/with+chars=";
	c.region = "eu-central-1";
	script_reset();
	s = open_scripted(&c);
	reply(200, "Content-Length: 1\r\n", NULL);

	/* debug logging on, stderr into a file: no secret may reach it */
	fd = mkstemp(path);
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	bfs_log_set_level(LOG_DEBUG);
	bfs_log_set_debug("http");
	if (s)
		s->head(s, "k", &info);
	bfs_log_set_debug("");
	bfs_log_set_level(LOG_INFO);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, logbuf, sizeof(logbuf) - 1, 0);
	logbuf[n > 0 ? n : 0] = '\0';
	close(fd);
	ok(!strcmp(hdr(0, "x-amz-security-token"), "TOKEN/with+chars=") &&
		   signed_well(0, "eu-central-1"),
	   "scripted: the session token is sent and signed, region used");
	ok(strstr(logbuf, "authorization: [redacted]") &&
		   strstr(logbuf, "x-amz-security-token: [redacted]") &&
		   !strstr(logbuf, SECRET) && !strstr(logbuf, "Signature=") &&
		   !strstr(logbuf, "TOKEN/with"),
	   "scripted: debug log lines redact Authorization and the token");
	if (s)
		s->destroy(s);
	bfs_obj_info_release(&info);
}

static void c_transport(void)
{
	struct bfs_s3_conf c = {
		.name = "t",
		.bucket = "bkt",
		.path_style = true,
		.access_key_id = AKID,
		.secret_access_key = SECRET,
		.retries = 0,
		.connect_timeout = 2,
		.request_timeout = 1,
	};
	struct bfs_obj_info info = {0};
	struct bfs_s3_error e;
	struct bfs_store *s;
	double t0;
	int rc;

	script_reset();
	s = open_scripted(&c);
	reply_special(false, 4000);
	t0 = now_s();
	rc = s ? s->head(s, "k", &info) : EIO;
	ok(rc == ETIMEDOUT && now_s() - t0 < 3.5 &&
		   bfs_s3_last_error(s, &e) == 0 &&
		   e.transport == BFS_HTTP_TIMEOUT,
	   "scripted: no answer within request_timeout is ETIMEDOUT "
	   "(%.1f s)",
	   now_s() - t0);
	if (s)
		s->destroy(s);
	{
		char err[128];

		c.base_url = "http://127.0.0.1:1/x";
		c.access_key_id = AKID;
		c.secret_access_key = NULL;
		ok(bfs_s3_create(&c, err, sizeof(err)) == NULL &&
			   errno == EINVAL && strstr(err, "secret"),
		   "scripted: an access key without its secret is refused");
	}
	{
		struct bfs_store *m;
		int fake = 0;
		struct bfs_store other = {.priv = &fake};

		ok(bfs_s3_last_error(&other, &e) == EINVAL,
		   "scripted: last_error of a store that is not S3 is EINVAL");
		m = open_scripted(NULL);
		ok(m && bfs_s3_last_error(m, &e) == ENOENT,
		   "scripted: a fresh store has no last error");
		if (m)
			m->destroy(m);
	}
}

static void c_local_checks(struct bfs_store *s)
{
	char key[BFS_KEY_MAX + 2], pe[BFS_ETAG_MAX];
	struct bfs_meta_list m = {0};
	struct bfs_obj_info info = {0};
	size_t before = nreq();
	int fd = body_fd("x");
	struct bfs_put_req r = {.key = "k", .fd = fd, .size = 1, .meta = &m};
	bool all;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	bfs_meta_set(&m, "bad name", "v");
	all = s->head(s, key, &info) == ENAMETOOLONG &&
	      s->head(s, "", &info) == EINVAL &&
	      s->mpu_part(s, "k", "u", 0, fd, 0, 1, pe) == EINVAL &&
	      s->put(s, &r, NULL) == EINVAL;
	bfs_meta_list_release(&m);
	bfs_meta_set(&m, "ok", "line\nbreak");
	all = all && s->put(s, &r, NULL) == EINVAL;
	ok(all && nreq() == before,
	   "scripted: bad keys, part numbers, metadata fail locally");
	bfs_meta_list_release(&m);
	close(fd);
}

void s3_scripted_suite(void)
{
	struct bfs_store *s;

	if (server_start() != 0) {
		ok(0, "scripted: loopback server starts");
		return;
	}
	s = open_scripted(NULL);
	if (ok(s != NULL, "scripted: store on 127.0.0.1:%d", S.port)) {
		c_head(s);
		c_put(s);
		c_list(s);
		c_ranges(s);
		c_head_read(s);
		c_tail_read(s);
		c_multipart(s);
		c_errors(s);
		c_conditional(s);
		c_copy_delete(s);
		c_local_checks(s);
		s->destroy(s);
	}
	c_credentials();
	c_transport();
	server_stop();
}
