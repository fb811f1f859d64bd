/*
 * s3_xml.c - the S3 XML response parsers (see s3_xml.h): a small
 * path-matching layer over expat and one handler per document type.
 */
#include "compat.h"

#include <expat.h>
#include <stdarg.h>
#include <time.h>

#include "store/s3_xml.h"
#include "util.h"

#define PATH_MAX_LEN 256

struct xp;
/* Called at the end of every element with its full path and text. */
typedef void (*xp_end_fn)(struct xp *x, const char *path, const char *text,
			  size_t len);

struct xp {
	XML_Parser p;
	const char *root; /* expected root element, or NULL for any */
	char path[PATH_MAX_LEN];
	size_t plen;
	size_t depth;
	size_t lens[32]; /* plen before each open element */
	char *text;
	size_t tlen, tcap;
	xp_end_fn end;
	void *ud;
	bool failed;
	char *err;
	size_t errlen;
};

static void xp_fail(struct xp *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void xp_fail(struct xp *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failed)
		return;
	x->failed = true;
	if (x->err && x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err, x->errlen, fmt, ap);
		va_end(ap);
	}
	XML_StopParser(x->p, XML_FALSE);
}

/* Local name of an expat name "uri|local" (namespace processing on). */
static const char *local_name(const char *name)
{
	const char *bar = strrchr(name, '|');

	return bar ? bar + 1 : name;
}

static void XMLCALL xp_start(void *ud, const XML_Char *name,
			     const XML_Char **attrs)
{
	struct xp *x = ud;
	const char *ln = local_name(name);
	size_t n = strlen(ln);

	(void)attrs;
	if (x->failed)
		return;
	if (x->depth == 0 && x->root && strcmp(ln, x->root) != 0) {
		xp_fail(x, "unexpected root element '%.64s', expected '%s'", ln,
			x->root);
		return;
	}
	if (x->depth >= BFS_ARRAY_SIZE(x->lens) ||
	    x->plen + 1 + n >= sizeof(x->path)) {
		xp_fail(x, "XML nested too deeply");
		return;
	}
	x->lens[x->depth++] = x->plen;
	x->path[x->plen++] = '/';
	memcpy(x->path + x->plen, ln, n);
	x->plen += n;
	x->path[x->plen] = '\0';
	x->tlen = 0;
}

static void XMLCALL xp_end(void *ud, const XML_Char *name)
{
	struct xp *x = ud;

	(void)name;
	if (x->failed || x->depth == 0)
		return;
	if (!x->text) {
		x->text = bfs_xmalloc(64);
		x->tcap = 64;
	}
	x->text[x->tlen] = '\0';
	x->end(x, x->path, x->text, x->tlen);
	x->plen = x->lens[--x->depth];
	x->path[x->plen] = '\0';
	x->tlen = 0;
}

static void XMLCALL xp_chars(void *ud, const XML_Char *s, int len)
{
	struct xp *x = ud;
	size_t n = (size_t)len;

	if (x->failed)
		return;
	if (x->tlen + n > BFS_S3_XML_TEXT_MAX) {
		xp_fail(x, "XML element '%s' longer than %d bytes", x->path,
			BFS_S3_XML_TEXT_MAX);
		return;
	}
	if (x->tlen + n + 1 > x->tcap) {
		size_t cap = x->tcap ? x->tcap : 64;

		while (cap < x->tlen + n + 1)
			cap *= 2;
		x->text = bfs_xrealloc(x->text, cap);
		x->tcap = cap;
	}
	memcpy(x->text + x->tlen, s, n);
	x->tlen += n;
}

static void XMLCALL xp_doctype(void *ud, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	xp_fail(ud, "XML with a DOCTYPE is not accepted");
}

static void XMLCALL xp_entity(void *ud, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_length,
			      const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_length;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xp_fail(ud, "XML entity declarations are not accepted");
}

/*
 * Run the parser over body. @return 0 or EIO with x->err filled.
 */
static int xp_run(const char *body, size_t len, const char *root, xp_end_fn end,
		  void *ud, char *err, size_t errlen)
{
	struct xp x = {.root = root,
		       .end = end,
		       .ud = ud,
		       .err = err,
		       .errlen = errlen};
	enum XML_Status st;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!body || len == 0) {
		snprintf(err, errlen, "empty XML body%s%s",
			 root ? ", expected " : "", root ? root : "");
		return EIO;
	}
	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "XML body too large (%zu bytes)", len);
		return EIO;
	}
	x.p = XML_ParserCreateNS(NULL, '|');
	if (!x.p)
		BFS_BUG("XML_ParserCreateNS: out of memory");
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, xp_start, xp_end);
	XML_SetCharacterDataHandler(x.p, xp_chars);
	XML_SetStartDoctypeDeclHandler(x.p, xp_doctype);
	XML_SetEntityDeclHandler(x.p, xp_entity);
	st = XML_Parse(x.p, body, (int)len, XML_TRUE);
	if (x.failed) {
		rc = EIO;
	} else if (st != XML_STATUS_OK) {
		snprintf(err, errlen,
			 "malformed XML at line %lu column %lu: %s",
			 (unsigned long)XML_GetCurrentLineNumber(x.p),
			 (unsigned long)XML_GetCurrentColumnNumber(x.p),
			 XML_ErrorString(XML_GetErrorCode(x.p)));
		rc = EIO;
	}
	XML_ParserFree(x.p);
	free(x.text);
	return rc;
}

/* ---- helpers ---- */

char *bfs_s3_url_decode(const char *s, size_t n, bool plus_is_space)
{
	char *out = bfs_xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (n - i < 3)
				goto bad;
			hi = bfs_hex_val(s[i + 1]);
			lo = bfs_hex_val(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			*o++ = ' ';
		} else if (s[i] == '\0') {
			goto bad;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int bfs_s3_parse_iso8601(const char *s, struct timespec *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, n = 0;
	long nsec = 0;
	const char *p;
	time_t t;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
			 &sec, &n) != 6)
		return EINVAL;
	p = s + n;
	if (*p == '.') {
		long scale = 100000000;

		p++;
		if (*p < '0' || *p > '9')
			return EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return EINVAL;
	out->tv_sec = t;
	out->tv_nsec = nsec;
	return 0;
}

int bfs_s3_etag_unquote(const char *s, char *out)
{
	size_t n = strlen(s);

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	/* weak validators "W/..." do not occur on S3 but do on proxies */
	if (n >= 2 && s[0] == 'W' && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n >= BFS_ETAG_MAX)
		return ENAMETOOLONG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static void set_str(char **dst, const char *text, size_t len)
{
	free(*dst);
	*dst = bfs_xstrndup(text, len);
}

/* ---- <Error> ---- */

static void error_end(struct xp *x, const char *path, const char *text,
		      size_t len)
{
	struct bfs_s3_xml_error *e = x->ud;

	if (strcmp(path, "/Error/Code") == 0)
		set_str(&e->code, text, len);
	else if (strcmp(path, "/Error/Message") == 0)
		set_str(&e->message, text, len);
	else if (strcmp(path, "/Error/Region") == 0)
		set_str(&e->region, text, len);
	else if (strcmp(path, "/Error/Endpoint") == 0)
		set_str(&e->endpoint, text, len);
	else if (strcmp(path, "/Error/BucketRegion") == 0)
		set_str(&e->bucket_region, text, len);
	else if (strcmp(path, "/Error/RequestId") == 0)
		set_str(&e->request_id, text, len);
}

void bfs_s3_xml_error_release(struct bfs_s3_xml_error *e)
{
	free(e->code);
	free(e->message);
	free(e->region);
	free(e->endpoint);
	free(e->bucket_region);
	free(e->request_id);
	memset(e, 0, sizeof(*e));
}

int bfs_s3_xml_error(const char *body, size_t len, struct bfs_s3_xml_error *out,
		     char *err, size_t errlen)
{
	struct bfs_s3_xml_error e = {0};
	int rc;

	rc = xp_run(body, len, "Error", error_end, &e, err, errlen);
	if (rc == 0 && !e.code) {
		snprintf(err, errlen, "S3 error body without a <Code>");
		rc = EIO;
	}
	if (rc != 0) {
		bfs_s3_xml_error_release(&e);
		return rc;
	}
	*out = e;
	return 0;
}

/* ---- root sniffing ---- */

bool bfs_s3_xml_is_error(const char *body, size_t len)
{
	const char *q;
	bool is_error = false;

	if (!body || len == 0)
		return false;
	/* the first element after the prolog: skip <?...?> and <!--...--> */
	q = body;
	while ((size_t)(q - body) < len) {
		const char *lt = memchr(q, '<', len - (size_t)(q - body));
		size_t left;

		if (!lt)
			break;
		left = len - (size_t)(lt - body);
		if (left >= 2 && (lt[1] == '?' || lt[1] == '!')) {
			const char *gt = memchr(lt, '>', left);

			if (!gt)
				break;
			q = gt + 1;
			continue;
		}
		if (left >= 7 && memcmp(lt + 1, "Error", 5) == 0 &&
		    (lt[6] == '>' || lt[6] == ' ' || lt[6] == '\t' ||
		     lt[6] == '\r' || lt[6] == '\n' || lt[6] == '/'))
			is_error = true;
		break;
	}
	return is_error;
}

/* ---- <ListBucketResult> ---- */

struct list_state {
	struct bfs_list_result *res;
	size_t cap_objs, cap_prefixes;
	struct bfs_obj_info cur;
	bool have_key;
	bool truncated;
	bool url_encoded;
};

static void list_end(struct xp *x, const char *path, const char *text,
		     size_t len)
{
	struct list_state *st = x->ud;
	struct bfs_list_result *r = st->res;
	static const char c[] = "/ListBucketResult/Contents";
	const size_t cl = sizeof(c) - 1;

	if (strncmp(path, c, cl) == 0) {
		const char *leaf = path + cl;

		if (strcmp(leaf, "/Key") == 0) {
			set_str(&st->cur.key, text, len);
			st->have_key = true;
		} else if (strcmp(leaf, "/Size") == 0) {
			char *end;

			errno = 0;
			st->cur.size = strtoull(text, &end, 10);
			if (errno || end == text || *end || text[0] == '-')
				xp_fail(x, "bad <Size> '%.32s' in listing",
					text);
		} else if (strcmp(leaf, "/ETag") == 0) {
			if (bfs_s3_etag_unquote(text, st->cur.etag) != 0)
				xp_fail(x, "<ETag> too long in listing");
		} else if (strcmp(leaf, "/LastModified") == 0) {
			if (bfs_s3_parse_iso8601(text, &st->cur.mtime) != 0)
				xp_fail(x, "bad <LastModified> '%.40s'", text);
		} else if (leaf[0] == '\0') {
			if (!st->have_key) {
				xp_fail(x, "<Contents> without <Key>");
				return;
			}
			if (r->nobjs == st->cap_objs) {
				st->cap_objs =
					st->cap_objs ? st->cap_objs * 2 : 64;
				r->objs = bfs_xrealloc(
					r->objs,
					st->cap_objs * sizeof(*r->objs));
			}
			r->objs[r->nobjs++] = st->cur;
			memset(&st->cur, 0, sizeof(st->cur));
			st->have_key = false;
		}
	} else if (strcmp(path, "/ListBucketResult/CommonPrefixes/Prefix") ==
		   0) {
		if (r->nprefixes == st->cap_prefixes) {
			st->cap_prefixes =
				st->cap_prefixes ? st->cap_prefixes * 2 : 16;
			r->prefixes = bfs_xrealloc(
				r->prefixes,
				st->cap_prefixes * sizeof(*r->prefixes));
		}
		r->prefixes[r->nprefixes++] = bfs_xstrndup(text, len);
	} else if (strcmp(path, "/ListBucketResult/NextContinuationToken") ==
		   0) {
		if (len)
			set_str(&r->next_token, text, len);
	} else if (strcmp(path, "/ListBucketResult/IsTruncated") == 0) {
		st->truncated = strcmp(text, "true") == 0;
	} else if (strcmp(path, "/ListBucketResult/EncodingType") == 0) {
		st->url_encoded = strcmp(text, "url") == 0;
	}
}

static int decode_in_place(char **s, char *err, size_t errlen, const char *what)
{
	char *d = bfs_s3_url_decode(*s, strlen(*s), true);

	if (!d || !d[0]) {
		snprintf(err, errlen, "bad url-encoded %s '%.64s' in listing",
			 what, *s);
		free(d);
		return EIO;
	}
	free(*s);
	*s = d;
	return 0;
}

int bfs_s3_xml_list(const char *body, size_t len, struct bfs_list_result *out,
		    char *err, size_t errlen)
{
	struct bfs_list_result res = {0};
	struct list_state st = {.res = &res};
	int rc;

	rc = xp_run(body, len, "ListBucketResult", list_end, &st, err, errlen);
	bfs_obj_info_release(&st.cur);
	if (rc != 0)
		goto fail;
	if (st.url_encoded) {
		for (size_t i = 0; i < res.nobjs && rc == 0; i++)
			rc = decode_in_place(&res.objs[i].key, err, errlen,
					     "key");
		for (size_t i = 0; i < res.nprefixes && rc == 0; i++)
			rc = decode_in_place(&res.prefixes[i], err, errlen,
					     "prefix");
		if (rc != 0)
			goto fail;
	}
	for (size_t i = 0; i < res.nobjs; i++) {
		if (res.objs[i].key[0] == '\0') {
			snprintf(err, errlen, "empty key in listing");
			rc = EIO;
			goto fail;
		}
	}
	if (st.truncated && !res.next_token) {
		/* ListObjects (v1) pages by marker: the last key or common
		 * prefix returned, whichever sorts last */
		const char *last =
			res.nobjs ? res.objs[res.nobjs - 1].key : NULL;
		const char *lp =
			res.nprefixes ? res.prefixes[res.nprefixes - 1] : NULL;

		if (lp && (!last || strcmp(lp, last) > 0))
			last = lp;
		if (last == NULL) {
			snprintf(err, errlen,
				 "truncated listing without "
				 "<NextContinuationToken>");
			rc = EIO;
			goto fail;
		}
		res.next_token = bfs_xstrdup(last);
	}
	if (!st.truncated && res.next_token) {
		free(res.next_token);
		res.next_token = NULL;
	}
	*out = res;
	return 0;
fail:
	bfs_list_result_release(&res);
	return rc;
}

/* ---- <InitiateMultipartUploadResult> ---- */

static void upload_id_end(struct xp *x, const char *path, const char *text,
			  size_t len)
{
	char **id = x->ud;

	if (strcmp(path, "/InitiateMultipartUploadResult/UploadId") == 0)
		set_str(id, text, len);
}

int bfs_s3_xml_upload_id(const char *body, size_t len, char **upload_id,
			 char *err, size_t errlen)
{
	char *id = NULL;
	int rc;

	rc = xp_run(body, len, "InitiateMultipartUploadResult", upload_id_end,
		    &id, err, errlen);
	if (rc == 0 && (!id || !id[0])) {
		snprintf(err, errlen, "no <UploadId> in the response");
		rc = EIO;
	}
	if (rc != 0) {
		free(id);
		return rc;
	}
	*upload_id = id;
	return 0;
}

/* ---- ETag results ---- */

struct etag_state {
	const char *root;
	char *etag;
	bool bad;
};

static void etag_end(struct xp *x, const char *path, const char *text,
		     size_t len)
{
	struct etag_state *st = x->ud;
	size_t rl = strlen(st->root);

	(void)len;
	if (path[0] == '/' && strncmp(path + 1, st->root, rl) == 0 &&
	    strcmp(path + 1 + rl, "/ETag") == 0) {
		if (bfs_s3_etag_unquote(text, st->etag) != 0)
			xp_fail(x, "<ETag> too long");
	}
}

int bfs_s3_xml_etag(const char *body, size_t len, const char *root, char *etag,
		    char *err, size_t errlen)
{
	char tmp[BFS_ETAG_MAX] = "";
	struct etag_state st = {.root = root, .etag = tmp};
	int rc;

	rc = xp_run(body, len, root, etag_end, &st, err, errlen);
	if (rc != 0)
		return rc;
	memcpy(etag, tmp, sizeof(tmp));
	return 0;
}

/* ---- <DeleteResult> ---- */

struct delete_state {
	struct bfs_s3_delete_result *r;
	struct bfs_s3_delete_error cur;
};

static void delete_end(struct xp *x, const char *path, const char *text,
		       size_t len)
{
	struct delete_state *st = x->ud;
	struct bfs_s3_delete_result *r = st->r;

	if (strcmp(path, "/DeleteResult/Deleted") == 0) {
		r->ndeleted++;
	} else if (strcmp(path, "/DeleteResult/Error/Key") == 0) {
		set_str(&st->cur.key, text, len);
	} else if (strcmp(path, "/DeleteResult/Error/Code") == 0) {
		set_str(&st->cur.code, text, len);
	} else if (strcmp(path, "/DeleteResult/Error/Message") == 0) {
		set_str(&st->cur.message, text, len);
	} else if (strcmp(path, "/DeleteResult/Error") == 0) {
		if (!st->cur.key || !st->cur.code) {
			xp_fail(x, "<Error> without <Key> or <Code> in "
				   "DeleteResult");
			return;
		}
		r->errors = bfs_xrealloc(r->errors,
					 (r->nerrors + 1) * sizeof(*r->errors));
		r->errors[r->nerrors++] = st->cur;
		memset(&st->cur, 0, sizeof(st->cur));
	}
}

void bfs_s3_delete_result_release(struct bfs_s3_delete_result *r)
{
	for (size_t i = 0; i < r->nerrors; i++) {
		free(r->errors[i].key);
		free(r->errors[i].code);
		free(r->errors[i].message);
	}
	free(r->errors);
	memset(r, 0, sizeof(*r));
}

int bfs_s3_xml_delete_result(const char *body, size_t len,
			     struct bfs_s3_delete_result *out, char *err,
			     size_t errlen)
{
	struct bfs_s3_delete_result r = {0};
	struct delete_state st = {.r = &r};
	int rc;

	rc = xp_run(body, len, "DeleteResult", delete_end, &st, err, errlen);
	free(st.cur.key);
	free(st.cur.code);
	free(st.cur.message);
	if (rc != 0) {
		bfs_s3_delete_result_release(&r);
		return rc;
	}
	*out = r;
	return 0;
}
