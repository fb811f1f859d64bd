/*
 * s3_helpers.c - helpers of the S3 driver: key checks, query
 * strings, user metadata headers, ETags, MD5 and SHA-256 digests of
 * bodies, and XML escaping.
 */
#include "compat.h"

#include "store/s3_priv.h"

/* ---- helpers ---- */

int check_key(const char *key)
{
	if (!key || !key[0])
		return EINVAL;
	if (strlen(key) > BFS_KEY_MAX)
		return ENAMETOOLONG;
	return 0;
}

/* Append "&name=value" (value encoded) to a query being built. */
void qadd(char **q, const char *name, const char *value)
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

int add_meta(struct bfs_http_headers *h, const struct bfs_meta_list *m)
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

void etag_from_headers(const struct bfs_http_resp *resp, char *etag)
{
	const char *v = bfs_http_headers_get(&resp->headers, "etag");

	etag[0] = '\0';
	if (v && bfs_s3_etag_unquote(v, etag) != 0)
		etag[0] = '\0';
}

void date_from_headers(const struct bfs_http_resp *resp, time_t *out)
{
	const char *v = bfs_http_headers_get(&resp->headers, "date");
	time_t t;

	if (out == NULL)
		return;
	*out = v && bfs_http_parse_date(v, &t) == 0 ? t : 0;
}

static void md5_finish(EVP_MD_CTX *md5, struct digests *d)
{
	unsigned char m[EVP_MAX_MD_SIZE];
	unsigned ml = 0;

	EVP_DigestFinal_ex(md5, m, &ml);
	bfs_hex_encode(m, 16, d->md5_hex);
	EVP_EncodeBlock((unsigned char *)d->md5_b64, m, 16);
}

/* Digests of a memory body. */
void digest_mem(const void *data, size_t len, struct digests *d)
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
int digest_fd(struct s3_priv *p, int fd, off_t off, uint64_t len,
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
			bfs_hex_encode(s, 32, d->sha256);
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
void check_given_md5(struct s3_priv *p, const struct bfs_put_req *req,
		     const struct digests *d, const char *etag)
{
	if (!req->md5 || !etag_is_md5(p) || strlen(etag) != 32 ||
	    strspn(etag, "0123456789abcdef") != 32)
		return;
	if (strcmp(etag, d->md5_hex) != 0)
		bfs_log(LOG_ERR,
			"%s: PUT '%.200s': the server's MD5 %s is not the "
			"one computed while the file was written (%s)",
			p->name, req->key, etag, d->md5_hex);
}

/* Digests the caller computed (while the file was written). */
void digest_given(struct s3_priv *p, const unsigned char *md5,
		  const unsigned char *sha256, struct digests *d)
{
	if (p->conf.unsigned_payload)
		snprintf(d->sha256, sizeof(d->sha256), "UNSIGNED-PAYLOAD");
	else
		bfs_hex_encode(sha256, 32, d->sha256);
	bfs_hex_encode(md5, 16, d->md5_hex);
	EVP_EncodeBlock((unsigned char *)d->md5_b64, md5, 16);
}

void xml_escape_append(char **buf, size_t *len, size_t *cap, const char *s)
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

void str_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = bfs_xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}
