/*
 * sigv4.c - AWS Signature Version 4 (header signing and query-string
 * presigning) over OpenSSL's SHA-256 and HMAC.
 *
 * Owns the canonical forms: path (S3's single encoding, or the generic
 * services' normalised and re-encoded path), query (decoded, re-encoded,
 * sorted), headers (lower-cased, trimmed, folded, duplicates joined) and
 * the derived signing key, which lives only in wiped locals.
 */
#include "compat.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <time.h>

#include "store/sigv4.h"
#include "util.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
/* SigV4 presigned URLs are valid for at most seven days. */
#define PRESIGN_MAX_EXPIRES 604800u

/* A growable string; every append keeps it NUL-terminated. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = bfs_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

/* The buffer's string (an empty one if nothing was added); b gives it up. */
static char *sb_take(struct sbuf *b)
{
	char *p = b->p ? b->p : bfs_xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static void sb_add_pct(struct sbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char t[3] = {'%', hex[c >> 4], hex[c & 15]};

	sb_addn(b, t, 3);
}

static void encode_n(struct sbuf *b, const char *s, size_t n, bool keep_slash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			sb_addc(b, (char)c);
		else
			sb_add_pct(b, c);
	}
}

void bfs_sigv4_amz_date(time_t t, char out[BFS_SIGV4_DATE_LEN])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, BFS_SIGV4_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm) !=
		    BFS_SIGV4_DATE_LEN - 1)
		BFS_BUG("time %lld does not fit an amz date", (long long)t);
}

void bfs_sigv4_sha256_hex(const void *data, size_t len,
			  char out[BFS_SIGV4_HEX_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		BFS_BUG("SHA-256 failed");
	bfs_hex_encode(md, mdlen, out);
}

char *bfs_sigv4_uri_encode(const char *s, bool keep_slash)
{
	struct sbuf b = {0};

	encode_n(&b, s, strlen(s), keep_slash);
	return sb_take(&b);
}

/*
 * S3: the path is signed as sent. A byte a URI cannot carry raw is
 * encoded (so a raw path works too), but an existing %XX escape is kept:
 * the path is encoded exactly once.
 */
static void canonical_path_s3(struct sbuf *b, const char *path)
{
	for (const char *s = path; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '%' && bfs_hex_val((unsigned char)s[1]) >= 0 &&
		    bfs_hex_val((unsigned char)s[2]) >= 0) {
			sb_addn(b, s, 3);
			s += 2;
		} else if (is_unreserved(c) || c == '/') {
			sb_addc(b, (char)c);
		} else {
			sb_add_pct(b, c);
		}
	}
}

/*
 * Generic services: remove "." and ".." segments and empty segments
 * (merging slashes), keep a trailing slash, then encode every byte but
 * unreserved ones and '/' again (so "%20" on the wire signs as "%2520").
 */
static void canonical_path_normalized(struct sbuf *b, const char *path)
{
	size_t n = strlen(path), nseg = 0;
	const char **seg = bfs_xcalloc(n / 2 + 2, sizeof(*seg));
	size_t *seglen = bfs_xcalloc(n / 2 + 2, sizeof(*seglen));
	bool trailing = false;
	const char *s = path;

	while (*s) {
		const char *e;
		size_t len;

		while (*s == '/')
			s++;
		if (!*s) {
			trailing = true;
			break;
		}
		e = strchr(s, '/');
		len = e ? (size_t)(e - s) : strlen(s);
		trailing = false;
		if (len == 1 && s[0] == '.') {
			trailing = true;
		} else if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (nseg)
				nseg--;
			trailing = true;
		} else {
			seg[nseg] = s;
			seglen[nseg++] = len;
		}
		s += len;
	}
	sb_addc(b, '/');
	for (size_t i = 0; i < nseg; i++) {
		if (i)
			sb_addc(b, '/');
		encode_n(b, seg[i], seglen[i], false);
	}
	if (nseg && trailing)
		sb_addc(b, '/');
	free(seg);
	free(seglen);
}

/* Percent-decode s[0..n) into out (n + 1 bytes); EINVAL on a bad escape. */
static int pct_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			return EINVAL;
		hi = bfs_hex_val((unsigned char)s[i + 1]);
		lo = bfs_hex_val((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0)
			return EINVAL;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

struct qparam {
	char *key, *value; /* canonically encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

/*
 * Canonical query: each name and value decoded and encoded again the
 * strict way, sorted by name then value, "name=" for a bare name.
 */
static int canonical_query(struct sbuf *b, const char *query)
{
	struct qparam *p = NULL;
	size_t np = 0, cap = 0;
	char *tmp = NULL;
	int rc = 0;

	if (!query || !*query)
		return 0;
	tmp = bfs_xmalloc(strlen(query) + 1);
	for (const char *s = query; *s;) {
		size_t len = strcspn(s, "&");
		const char *eq = memchr(s, '=', len);
		size_t klen = eq ? (size_t)(eq - s) : len;
		struct sbuf k = {0}, v = {0};
		size_t dlen;

		if (len == 0) {
			s++;
			continue;
		}
		rc = pct_decode(s, klen, tmp, &dlen);
		if (rc)
			goto out;
		encode_n(&k, tmp, dlen, false);
		if (eq) {
			rc = pct_decode(eq + 1, len - klen - 1, tmp, &dlen);
			if (rc) {
				free(k.p);
				goto out;
			}
			encode_n(&v, tmp, dlen, false);
		}
		if (np == cap) {
			cap = cap ? 2 * cap : 8;
			p = bfs_xrealloc(p, cap * sizeof(*p));
		}
		p[np].key = sb_take(&k);
		p[np++].value = sb_take(&v);
		s += len;
		if (*s == '&')
			s++;
	}
	if (np > 1) /* p is NULL for a query of only '&' */
		qsort(p, np, sizeof(*p), qparam_cmp);
	for (size_t i = 0; i < np; i++) {
		if (i)
			sb_addc(b, '&');
		sb_adds(b, p[i].key);
		sb_addc(b, '=');
		sb_adds(b, p[i].value);
	}
out:
	for (size_t i = 0; i < np; i++) {
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
	free(tmp);
	return rc;
}

struct chdr {
	char *name;  /* lower case */
	char *value; /* trimmed, whitespace runs folded to one space */
	size_t idx;  /* position given: duplicates keep their order */
};

static int chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *fold_value(const char *v)
{
	struct sbuf b = {0};
	bool space = false;

	while (is_ws(*v))
		v++;
	for (; *v; v++) {
		if (is_ws(*v)) {
			space = true;
			continue;
		}
		if (space)
			sb_addc(&b, ' ');
		space = false;
		sb_addc(&b, *v);
	}
	return sb_take(&b);
}

static char *lower_name(const char *n)
{
	size_t len;
	char *l;

	while (is_ws(*n))
		n++;
	len = strlen(n);
	while (len && is_ws(n[len - 1]))
		len--;
	l = bfs_xstrndup(n, len);
	for (char *c = l; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return l;
}

/*
 * Canonical headers ("name:v1,v2\n" per name, sorted) into ch and the
 * signed header list into sh. EINVAL: an unnamed header, or no host.
 */
static int canonical_headers(const struct bfs_sigv4_req *req, struct sbuf *ch,
			     struct sbuf *sh)
{
	struct chdr *h;
	bool host = false;
	int rc = 0;

	if (req->nheaders && !req->headers)
		return EINVAL;
	h = bfs_xcalloc(req->nheaders, sizeof(*h));
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct bfs_sigv4_header *in = &req->headers[i];

		if (!in->name || !in->value) {
			rc = EINVAL;
			goto out;
		}
		h[i].name = lower_name(in->name);
		h[i].value = fold_value(in->value);
		h[i].idx = i;
		if (!h[i].name[0] || strpbrk(h[i].name, ":; \t\r\n")) {
			rc = EINVAL;
			goto out;
		}
		if (strcmp(h[i].name, "host") == 0)
			host = true;
	}
	if (!host) {
		rc = EINVAL;
		goto out;
	}
	qsort(h, req->nheaders, sizeof(*h), chdr_cmp);
	for (size_t i = 0; i < req->nheaders; i++) {
		bool first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;

		if (first) {
			if (i) {
				sb_addc(ch, '\n');
				sb_addc(sh, ';');
			}
			sb_adds(ch, h[i].name);
			sb_addc(ch, ':');
			sb_adds(sh, h[i].name);
		} else {
			sb_addc(ch, ',');
		}
		sb_adds(ch, h[i].value);
	}
	sb_addc(ch, '\n');
out:
	for (size_t i = 0; i < req->nheaders; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return rc;
}

int bfs_sigv4_canonical_request(const struct bfs_sigv4_req *req, char **creq,
				char **signed_headers)
{
	struct sbuf b = {0}, ch = {0}, sh = {0};
	int rc;

	*creq = NULL;
	if (signed_headers)
		*signed_headers = NULL;
	if (!req->method || !req->method[0] || !req->path ||
	    !req->payload_hash || !req->payload_hash[0])
		return EINVAL;
	rc = canonical_headers(req, &ch, &sh);
	if (rc)
		goto out;
	sb_adds(&b, req->method);
	sb_addc(&b, '\n');
	if (!req->path[0])
		sb_addc(&b, '/');
	else if (req->normalize_path)
		canonical_path_normalized(&b, req->path);
	else
		canonical_path_s3(&b, req->path);
	sb_addc(&b, '\n');
	rc = canonical_query(&b, req->query);
	if (rc)
		goto out;
	sb_addc(&b, '\n');
	sb_addn(&b, ch.p, ch.len);
	sb_addc(&b, '\n');
	sb_addn(&b, sh.p, sh.len);
	sb_addc(&b, '\n');
	sb_adds(&b, req->payload_hash);
	*creq = sb_take(&b);
	if (signed_headers)
		*signed_headers = sb_take(&sh);
out:
	free(b.p);
	free(ch.p);
	free(sh.p);
	return rc;
}

/* "20150830/us-east-1/service/aws4_request" */
static char *credential_scope(const struct bfs_sigv4_req *req)
{
	char date[BFS_SIGV4_DATE_LEN];

	bfs_sigv4_amz_date(req->now, date);
	return bfs_xasprintf("%.8s/%s/%s/aws4_request", date, req->region,
			     req->service);
}

char *bfs_sigv4_string_to_sign(const struct bfs_sigv4_req *req,
			       const char *creq)
{
	char date[BFS_SIGV4_DATE_LEN], hash[BFS_SIGV4_HEX_LEN];
	char *scope, *sts;

	if (!req->region || !req->service || !creq) {
		errno = EINVAL;
		return NULL;
	}
	bfs_sigv4_amz_date(req->now, date);
	bfs_sigv4_sha256_hex(creq, strlen(creq), hash);
	scope = credential_scope(req);
	sts = bfs_xasprintf(ALGORITHM "\n%s\n%s\n%s", date, scope, hash);
	free(scope);
	return sts;
}

static void hmac(const void *key, size_t keylen, const char *msg,
		 unsigned char out[32])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
		  strlen(msg), out, &len) ||
	    len != 32)
		BFS_BUG("HMAC-SHA256 failed");
}

/* HMAC of sts with the key derived from the secret, date, region, service. */
static void signature_of(const struct bfs_sigv4_req *req, const char *secret,
			 const char *sts, char out[BFS_SIGV4_HEX_LEN])
{
	char date[BFS_SIGV4_DATE_LEN];
	unsigned char k[32], sig[32];
	size_t slen = strlen(secret);
	char *ksecret = bfs_xmalloc(slen + 5);

	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen + 1);
	bfs_sigv4_amz_date(req->now, date);
	date[8] = '\0';
	hmac(ksecret, slen + 4, date, k);
	hmac(k, sizeof(k), req->region, k);
	hmac(k, sizeof(k), req->service, k);
	hmac(k, sizeof(k), "aws4_request", k);
	hmac(k, sizeof(k), sts, sig);
	bfs_hex_encode(sig, sizeof(sig), out);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(ksecret, slen + 4);
	free(ksecret);
}

static bool creds_ok(const struct bfs_sigv4_creds *creds)
{
	return creds && creds->access_key_id && creds->access_key_id[0] &&
	       creds->secret_access_key && creds->secret_access_key[0];
}

int bfs_sigv4_sign(const struct bfs_sigv4_req *req,
		   const struct bfs_sigv4_creds *creds, char *auth,
		   char *signature)
{
	char *creq = NULL, *sh = NULL, *sts = NULL, *scope = NULL;
	char sig[BFS_SIGV4_HEX_LEN];
	int rc, n;

	if (!creds_ok(creds) || !req->region || !req->service)
		return EINVAL;
	rc = bfs_sigv4_canonical_request(req, &creq, &sh);
	if (rc)
		goto out;
	sts = bfs_sigv4_string_to_sign(req, creq);
	signature_of(req, creds->secret_access_key, sts, sig);
	if (signature)
		memcpy(signature, sig, sizeof(sig));
	if (auth) {
		scope = credential_scope(req);
		n = snprintf(auth, BFS_SIGV4_AUTH_MAX,
			     ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
				       "Signature=%s",
			     creds->access_key_id, scope, sh, sig);
		if (n < 0 || n >= BFS_SIGV4_AUTH_MAX) {
			auth[0] = '\0';
			rc = ENAMETOOLONG;
		}
	}
out:
	free(creq);
	free(sh);
	free(sts);
	free(scope);
	return rc;
}

char *bfs_sigv4_presign_query(const struct bfs_sigv4_req *req,
			      const struct bfs_sigv4_creds *creds,
			      unsigned expires)
{
	struct sbuf b = {0}, ch = {0}, sh = {0};
	char date[BFS_SIGV4_DATE_LEN], num[16];
	char *scope, *cred;
	int rc;

	if (!creds_ok(creds) || !req->region || !req->service || expires == 0 ||
	    expires > PRESIGN_MAX_EXPIRES) {
		errno = EINVAL;
		return NULL;
	}
	rc = canonical_headers(req, &ch, &sh);
	free(ch.p);
	if (rc) {
		free(sh.p);
		errno = rc;
		return NULL;
	}
	bfs_sigv4_amz_date(req->now, date);
	scope = credential_scope(req);
	cred = bfs_xasprintf("%s/%s", creds->access_key_id, scope);
	free(scope);
	if (req->query && req->query[0]) {
		sb_adds(&b, req->query);
		sb_addc(&b, '&');
	}
	sb_adds(&b, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=");
	encode_n(&b, cred, strlen(cred), false);
	sb_adds(&b, "&X-Amz-Date=");
	sb_adds(&b, date);
	snprintf(num, sizeof(num), "%u", expires);
	sb_adds(&b, "&X-Amz-Expires=");
	sb_adds(&b, num);
	if (creds->session_token && creds->session_token[0]) {
		sb_adds(&b, "&X-Amz-Security-Token=");
		encode_n(&b, creds->session_token, strlen(creds->session_token),
			 false);
	}
	sb_adds(&b, "&X-Amz-SignedHeaders=");
	encode_n(&b, sh.p, sh.len, false);
	free(sh.p);
	free(cred);
	return sb_take(&b);
}

char *bfs_sigv4_presign(const struct bfs_sigv4_req *req,
			const struct bfs_sigv4_creds *creds, unsigned expires)
{
	struct bfs_sigv4_req r = *req;
	char sig[BFS_SIGV4_HEX_LEN];
	char *q, *out;
	int rc;

	q = bfs_sigv4_presign_query(req, creds, expires);
	if (!q)
		return NULL;
	r.query = q;
	rc = bfs_sigv4_sign(&r, creds, NULL, sig);
	if (rc) {
		free(q);
		errno = rc;
		return NULL;
	}
	out = bfs_xasprintf("%s&X-Amz-Signature=%s", q, sig);
	free(q);
	return out;
}
