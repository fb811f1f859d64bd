/*
 * test_sigv4.c - SigV4 against the public test vectors in
 * $BFS_FIXTURES/sigv4 (see its SOURCES.md), walked folder by
 * folder: every case of v4/ (header signing and presigning), every case
 * of aws4_testsuite/ (nested groups included) and every case of
 * s3-examples.json, one check per case and artefact; then the encoder,
 * hashing and the errors (no host header, bad query, bad credentials).
 */
#include "compat.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "store/sigv4.h"
#include "tap.h"

static const char *const suite_key = "AKIDEXAMPLE";
static const char *const suite_secret =
	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static char *fixtures_dir(void)
{
	const char *s = getenv("BFS_FIXTURES");
	const char *src = getenv("BFS_SRCDIR");

	if (s && *s)
		return bfs_xstrdup(s);
	return bfs_xasprintf("%s/tests/fixtures", src && *src ? src : ".");
}

/* The whole file, NUL-terminated, or NULL. */
static char *read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 8192;
			buf = bfs_xrealloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Drop trailing newlines: the fixtures differ in their last line end. */
static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Print a multi-line value as one diagnostic line. */
static void diag_text(const char *label, const char *s)
{
	char *e = bfs_xmalloc(2 * strlen(s) + 1), *o = e;

	for (; *s; s++) {
		if (*s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	tap_diag("%s: %s", label, e);
	free(e);
}

/* ok if got equals want (trailing newlines ignored); shows both if not. */
static void check_text(const char *got, const char *want, const char *name,
		       const char *what)
{
	char *g = bfs_xstrdup(got ? got : ""), *w;
	bool ok;

	w = bfs_xstrdup(want ? want : "");
	chomp(g);
	chomp(w);
	ok = got && want && strcmp(g, w) == 0;
	if (!tap_ok(ok, "%s: %s", name, what)) {
		if (!got)
			tap_diag("nothing produced");
		if (!want)
			tap_diag("expected file missing");
		diag_text("got ", g);
		diag_text("want", w);
	}
	free(g);
	free(w);
}

/* ---- raw HTTP requests (request.txt, NAME.req, NAME.sreq) ---- */

struct hhdr {
	char *name;
	char *value; /* after the colon, as written; folds kept as "\n" */
};

struct hreq {
	char *method, *target, *version;
	char *path;  /* target before '?' */
	char *query; /* target after '?', or "" */
	struct hhdr *h;
	size_t nh;
	char *body;
	size_t bodylen;
};

static void hreq_release(struct hreq *r)
{
	free(r->method);
	free(r->target);
	free(r->version);
	free(r->path);
	free(r->query);
	for (size_t i = 0; i < r->nh; i++) {
		free(r->h[i].name);
		free(r->h[i].value);
	}
	free(r->h);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * Parse a request as the suites write it: "METHOD TARGET HTTP/1.1" (the
 * target may hold spaces: method and version are cut at the ends), header
 * lines "Name:value", continuation lines starting with blanks, a blank
 * line, the body.
 */
static int hreq_parse(const char *text, struct hreq *r)
{
	const char *s = text, *eol, *sp1, *sp2, *q;
	size_t cap = 0;

	memset(r, 0, sizeof(*r));
	eol = strchr(s, '\n');
	if (!eol)
		eol = s + strlen(s);
	sp1 = memchr(s, ' ', (size_t)(eol - s));
	sp2 = eol;
	while (sp2 > s && sp2[-1] != ' ')
		sp2--;
	if (!sp1 || sp2 <= sp1 + 1)
		return EINVAL;
	sp2--;
	r->method = bfs_xstrndup(s, (size_t)(sp1 - s));
	r->target = bfs_xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	r->version = bfs_xstrndup(sp2 + 1, (size_t)(eol - sp2 - 1));
	if (r->version[0] && r->version[strlen(r->version) - 1] == '\r')
		r->version[strlen(r->version) - 1] = '\0';
	q = strchr(r->target, '?');
	r->path = q ? bfs_xstrndup(r->target, (size_t)(q - r->target))
		    : bfs_xstrdup(r->target);
	r->query = bfs_xstrdup(q ? q + 1 : "");
	s = *eol ? eol + 1 : eol;
	while (*s) {
		size_t len;
		const char *colon;

		eol = strchr(s, '\n');
		len = eol ? (size_t)(eol - s) : strlen(s);
		if (len && s[len - 1] == '\r')
			len--;
		if (len == 0) {
			s = eol ? eol + 1 : s + strlen(s);
			break;
		}
		if (s[0] == ' ' || s[0] == '\t') {
			struct hhdr *h;
			char *v;

			if (!r->nh)
				return EINVAL;
			h = &r->h[r->nh - 1];
			v = bfs_xasprintf("%s\n%.*s", h->value, (int)len, s);
			free(h->value);
			h->value = v;
		} else {
			colon = memchr(s, ':', len);
			if (!colon)
				return EINVAL;
			if (r->nh == cap) {
				cap = cap ? 2 * cap : 8;
				r->h = bfs_xrealloc(r->h, cap * sizeof(*r->h));
			}
			r->h[r->nh].name = bfs_xstrndup(s, (size_t)(colon - s));
			r->h[r->nh++].value = bfs_xstrndup(
				colon + 1, len - (size_t)(colon - s) - 1);
		}
		s = eol ? eol + 1 : s + len;
	}
	r->bodylen = strlen(s);
	r->body = bfs_xstrdup(s);
	return 0;
}

static const char *hreq_get(const struct hreq *r, const char *name)
{
	for (size_t i = 0; i < r->nh; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* A request with extra headers and a target, as text. */
struct extra {
	const char *name, *value;
};

static char *hreq_print(const struct hreq *r, const char *target,
			const struct extra *x, size_t nx)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		BFS_BUG("open_memstream: %s", strerror(errno));
	fprintf(f, "%s %s %s\n", r->method, target, r->version);
	for (size_t i = 0; i < r->nh; i++)
		fprintf(f, "%s:%s\n", r->h[i].name, r->h[i].value);
	for (size_t i = 0; i < nx; i++)
		fprintf(f, "%s:%s\n", x[i].name, x[i].value);
	fprintf(f, "\n%s", r->body);
	fclose(f);
	return out;
}

/* Sort helper for query parameter lists. */
static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **split_query(const char *q, size_t *n)
{
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	while (*q) {
		size_t len = strcspn(q, "&");

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = bfs_xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = bfs_xstrndup(q, len);
		q += len;
		if (*q)
			q++;
	}
	qsort(v, *n, sizeof(*v), strp_cmp);
	return v;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A presigned request equals the expected one: same method, path,
 * version, headers and body, and the same query parameters. Their order
 * is free on the wire and differs between signers (aws-c-auth puts
 * X-Amz-SignedHeaders before X-Amz-Expires), so the lists are compared
 * sorted.
 */
static bool same_presigned(const char *got, const char *want)
{
	struct hreq g = {0}, w = {0};
	char *gt = NULL, *wt = NULL, **gq = NULL, **wq = NULL;
	size_t ngq = 0, nwq = 0;
	bool ok = false;

	if (hreq_parse(got, &g) != 0 || hreq_parse(want, &w) != 0)
		goto out;
	if (strcmp(g.method, w.method) || strcmp(g.path, w.path) ||
	    strcmp(g.version, w.version))
		goto out;
	gq = split_query(g.query, &ngq);
	wq = split_query(w.query, &nwq);
	if (ngq != nwq)
		goto out;
	for (size_t i = 0; i < ngq; i++)
		if (strcmp(gq[i], wq[i]) != 0)
			goto out;
	gt = hreq_print(&g, "-", NULL, 0);
	wt = hreq_print(&w, "-", NULL, 0);
	chomp(gt);
	chomp(wt);
	ok = strcmp(gt, wt) == 0;
out:
	free(gt);
	free(wt);
	free_strv(gq, ngq);
	free_strv(wq, nwq);
	hreq_release(&g);
	hreq_release(&w);
	return ok;
}

/* The value of name in a query string (raw), malloc'd, or NULL. */
static char *query_value(const char *q, const char *name)
{
	size_t nl = strlen(name);

	while (*q) {
		size_t len = strcspn(q, "&");

		if (len > nl && strncmp(q, name, nl) == 0 && q[nl] == '=')
			return bfs_xstrndup(q + nl + 1, len - nl - 1);
		q += len;
		if (*q)
			q++;
	}
	return NULL;
}

static int parse_time(const char *s, const char *fmt, time_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, fmt, &tm) : NULL;
	if (!end || *end)
		return EINVAL;
	*t = timegm(&tm);
	return 0;
}

/* ---- signing context ---- */

struct ctx {
	char *key, *secret, *token;
	bool omit_token; /* the token is added after signing */
	bool normalize, sign_body;
	char *region, *service;
	unsigned expires;
	time_t now;
};

static void ctx_release(struct ctx *c)
{
	free(c->key);
	free(c->secret);
	free(c->token);
	free(c->region);
	free(c->service);
	memset(c, 0, sizeof(*c));
}

static void ctx_defaults(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->key = bfs_xstrdup(suite_key);
	c->secret = bfs_xstrdup(suite_secret);
	c->region = bfs_xstrdup("us-east-1");
	c->service = bfs_xstrdup("service");
	c->normalize = true;
	c->expires = 3600;
}

/* v4's context.json into c (over the defaults). */
static int ctx_load(const char *path, struct ctx *c, char *err, size_t len)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je), *cr, *v;
	int rc = EINVAL;

	if (!j) {
		snprintf(err, len, "%s:%d: %s", path, je.line, je.text);
		return EINVAL;
	}
	cr = json_object_get(j, "credentials");
	if (!json_is_object(cr) ||
	    !json_is_string(json_object_get(cr, "access_key_id")) ||
	    !json_is_string(json_object_get(cr, "secret_access_key"))) {
		snprintf(err, len, "%s: no credentials", path);
		goto out;
	}
	free(c->key);
	free(c->secret);
	c->key = bfs_xstrdup(
		json_string_value(json_object_get(cr, "access_key_id")));
	c->secret = bfs_xstrdup(
		json_string_value(json_object_get(cr, "secret_access_key")));
	v = json_object_get(cr, "token");
	free(c->token);
	c->token = json_is_string(v) ? bfs_xstrdup(json_string_value(v)) : NULL;
	c->omit_token = json_is_true(json_object_get(j, "omit_session_token"));
	c->normalize = !json_is_false(json_object_get(j, "normalize"));
	c->sign_body = json_is_true(json_object_get(j, "sign_body"));
	if ((v = json_object_get(j, "region")) && json_is_string(v)) {
		free(c->region);
		c->region = bfs_xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(j, "service")) && json_is_string(v)) {
		free(c->service);
		c->service = bfs_xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(j, "expiration_in_seconds")) &&
	    json_is_integer(v))
		c->expires = (unsigned)json_integer_value(v);
	v = json_object_get(j, "timestamp");
	if (parse_time(json_string_value(v), "%Y-%m-%dT%H:%M:%SZ", &c->now)) {
		snprintf(err, len, "%s: bad timestamp", path);
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

static struct bfs_sigv4_req make_req(const struct hreq *r, const struct ctx *c,
				     const struct bfs_sigv4_header *h,
				     size_t nh, const char *payload_hash)
{
	return (struct bfs_sigv4_req){
		.method = r->method,
		.path = r->path,
		.query = r->query,
		.headers = h,
		.nheaders = nh,
		.payload_hash = payload_hash,
		.region = c->region,
		.service = c->service,
		.now = c->now,
		.normalize_path = c->normalize,
	};
}

/* ---- v4/ ---- */

static char *case_file(const char *dir, const char *file)
{
	char *p = bfs_xasprintf("%s/%s", dir, file);
	char *s = read_file(p, NULL);

	free(p);
	return s;
}

static void v4_header(const char *dir, const char *name, const struct ctx *c,
		      const struct hreq *r, const char *hash)
{
	char date[BFS_SIGV4_DATE_LEN], sig[BFS_SIGV4_HEX_LEN] = "";
	char auth[BFS_SIGV4_AUTH_MAX] = "";
	struct bfs_sigv4_header *h;
	struct extra x[4];
	size_t nh = 0, nx = 0;
	struct bfs_sigv4_creds cr = {c->key, c->secret, NULL};
	struct bfs_sigv4_req req;
	char *creq = NULL, *sts = NULL, *want, *sreq = NULL;
	int rc;

	bfs_sigv4_amz_date(c->now, date);
	h = bfs_xcalloc(r->nh + 4, sizeof(*h));
	for (size_t i = 0; i < r->nh; i++)
		h[nh++] =
			(struct bfs_sigv4_header){r->h[i].name, r->h[i].value};
	/* the headers aws-c-auth adds, in its order */
	if (c->token) {
		x[nx++] = (struct extra){"X-Amz-Security-Token", c->token};
		if (!c->omit_token)
			h[nh++] = (struct bfs_sigv4_header){
				"X-Amz-Security-Token", c->token};
	}
	x[nx++] = (struct extra){"X-Amz-Date", date};
	h[nh++] = (struct bfs_sigv4_header){"X-Amz-Date", date};
	if (c->sign_body) {
		x[nx++] = (struct extra){"x-amz-content-sha256", hash};
		h[nh++] =
			(struct bfs_sigv4_header){"x-amz-content-sha256", hash};
	}
	req = make_req(r, c, h, nh, hash);

	rc = bfs_sigv4_canonical_request(&req, &creq, NULL);
	if (rc)
		tap_diag("canonical request: %s", strerror(rc));
	want = case_file(dir, "header-canonical-request.txt");
	check_text(creq, want, name, "header canonical request");
	free(want);

	sts = creq ? bfs_sigv4_string_to_sign(&req, creq) : NULL;
	want = case_file(dir, "header-string-to-sign.txt");
	check_text(sts, want, name, "header string to sign");
	free(want);

	rc = bfs_sigv4_sign(&req, &cr, auth, sig);
	if (rc)
		tap_diag("sign: %s", strerror(rc));
	want = case_file(dir, "header-signature.txt");
	check_text(rc ? NULL : sig, want, name, "header signature");
	free(want);

	x[nx++] = (struct extra){"Authorization", auth};
	sreq = rc ? NULL : hreq_print(r, r->target, x, nx);
	want = case_file(dir, "header-signed-request.txt");
	check_text(sreq, want, name, "header signed request");
	free(want);

	free(sreq);
	free(creq);
	free(sts);
	free(h);
}

static void v4_query(const char *dir, const char *name, const struct ctx *c,
		     const struct hreq *r, const char *hash)
{
	struct bfs_sigv4_header *h;
	struct bfs_sigv4_creds cr = {c->key, c->secret,
				     c->omit_token ? NULL : c->token};
	struct bfs_sigv4_req req;
	char *pq, *creq = NULL, *sts = NULL, *want, *full, *sig = NULL;
	char *target = NULL, *sreq = NULL;
	bool ok;
	int rc;

	h = bfs_xcalloc(r->nh + 1, sizeof(*h));
	for (size_t i = 0; i < r->nh; i++)
		h[i] = (struct bfs_sigv4_header){r->h[i].name, r->h[i].value};
	req = make_req(r, c, h, r->nh, hash);

	pq = bfs_sigv4_presign_query(&req, &cr, c->expires);
	if (pq) {
		struct bfs_sigv4_req r2 = req;

		r2.query = pq;
		rc = bfs_sigv4_canonical_request(&r2, &creq, NULL);
		if (rc)
			tap_diag("canonical request: %s", strerror(rc));
		sts = creq ? bfs_sigv4_string_to_sign(&r2, creq) : NULL;
	} else {
		tap_diag("presign query: %s", strerror(errno));
	}
	want = case_file(dir, "query-canonical-request.txt");
	check_text(creq, want, name, "query canonical request");
	free(want);
	want = case_file(dir, "query-string-to-sign.txt");
	check_text(sts, want, name, "query string to sign");
	free(want);

	full = bfs_sigv4_presign(&req, &cr, c->expires);
	if (!full)
		tap_diag("presign: %s", strerror(errno));
	sig = full ? query_value(full, "X-Amz-Signature") : NULL;
	want = case_file(dir, "query-signature.txt");
	check_text(sig, want, name, "query signature");
	free(want);

	if (full) {
		char *tok = NULL;

		/* a token added after signing (omit_session_token) */
		if (c->token && c->omit_token)
			tok = bfs_sigv4_uri_encode(c->token, false);
		target = bfs_xasprintf("%s?%s%s%s", r->path, full,
				       tok ? "&X-Amz-Security-Token=" : "",
				       tok ? tok : "");
		free(tok);
		sreq = hreq_print(r, target, NULL, 0);
	}
	want = case_file(dir, "query-signed-request.txt");
	ok = sreq && want && same_presigned(sreq, want);
	if (!tap_ok(ok, "%s: query signed request", name)) {
		diag_text("got ", sreq ? sreq : "(none)");
		diag_text("want", want ? want : "(missing)");
	}
	free(want);

	free(target);
	free(sreq);
	free(sig);
	free(full);
	free(pq);
	free(creq);
	free(sts);
	free(h);
}

static void v4_case(const char *root, const char *case_name)
{
	char *dir = bfs_xasprintf("%s/%s", root, case_name);
	char *name = bfs_xasprintf("v4/%s", case_name);
	char *path = bfs_xasprintf("%s/context.json", dir);
	char err[256], hash[BFS_SIGV4_HEX_LEN];
	struct hreq r = {0};
	struct ctx c;
	char *text;
	bool good;

	ctx_defaults(&c);
	good = ctx_load(path, &c, err, sizeof(err)) == 0;
	if (!good)
		tap_diag("%s", err);
	text = case_file(dir, "request.txt");
	if (good && (!text || hreq_parse(text, &r) != 0)) {
		tap_diag("%s/request.txt: missing or malformed", dir);
		good = false;
	}
	if (!good) {
		/* every artefact of a broken case fails, none is skipped */
		static const char *const what[] = {
			"header canonical request", "header string to sign",
			"header signature",	    "header signed request",
			"query canonical request",  "query string to sign",
			"query signature",	    "query signed request"};

		for (size_t i = 0; i < BFS_ARRAY_SIZE(what); i++)
			tap_ok(0, "%s: %s", name, what[i]);
		goto out;
	}
	bfs_sigv4_sha256_hex(r.body, r.bodylen, hash);
	v4_header(dir, name, &c, &r, hash);
	v4_query(dir, name, &c, &r, hash);
out:
	hreq_release(&r);
	ctx_release(&c);
	free(text);
	free(path);
	free(name);
	free(dir);
}

static int dirent_dir_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Sorted entries of dir; n = -1 if it cannot be read. */
static int list_dir(const char *dir, struct dirent ***ents)
{
	return scandir(dir, ents, dirent_dir_filter, alphasort);
}

static void free_ents(struct dirent **e, int n)
{
	for (int i = 0; i < n; i++)
		free(e[i]);
	free(e);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void walk_v4(const char *fixtures)
{
	char *root = bfs_xasprintf("%s/sigv4/v4", fixtures);
	struct dirent **e = NULL;
	int n = list_dir(root, &e), cases = 0;

	for (int i = 0; i < n; i++) {
		char *d = bfs_xasprintf("%s/%s", root, e[i]->d_name);

		if (is_dir(d)) {
			v4_case(root, e[i]->d_name);
			cases++;
		}
		free(d);
	}
	tap_ok(cases > 0, "v4: %d cases found in %s", cases, root);
	free_ents(e, n);
	free(root);
}

/* ---- aws4_testsuite/ ---- */

/*
 * One case of the botocore suite in dir (files NAME.*). Credentials,
 * region, service and normalisation are the suite's (SOURCES.md); a case
 * that v4/ also has takes its session token from v4/NAME/context.json,
 * since get-vanilla-with-session-token's .req does not carry it.
 */
static void aws4_case(const char *fixtures, const char *dir, const char *base,
		      const char *label)
{
	char *p, *text = NULL, *creq = NULL, *sts = NULL, *want = NULL;
	char *sreq = NULL, *wsreq = NULL, *authz = NULL;
	char hash[BFS_SIGV4_HEX_LEN], err[256];
	char auth[BFS_SIGV4_AUTH_MAX] = "";
	struct bfs_sigv4_header *h = NULL;
	struct extra x[2];
	size_t nh = 0, nx = 0;
	struct hreq r = {0};
	struct bfs_sigv4_req req;
	struct bfs_sigv4_creds cr;
	struct ctx c;
	bool good = true;
	int rc;

	ctx_defaults(&c);
	p = bfs_xasprintf("%s/sigv4/v4/%s/context.json", fixtures, base);
	if (file_exists(p) && ctx_load(p, &c, err, sizeof(err)) != 0) {
		tap_diag("%s", err);
		good = false;
	}
	free(p);
	p = bfs_xasprintf("%s/%s.req", dir, base);
	text = read_file(p, NULL);
	free(p);
	if (!text || hreq_parse(text, &r) != 0) {
		tap_diag("%s/%s.req: missing or malformed", dir, base);
		good = false;
	} else if (parse_time(hreq_get(&r, "X-Amz-Date"), "%Y%m%dT%H%M%SZ",
			      &c.now) != 0) {
		tap_diag("%s.req: no X-Amz-Date", base);
		good = false;
	}
	if (!good) {
		tap_ok(0, "%s: canonical request", label);
		tap_ok(0, "%s: string to sign", label);
		tap_ok(0, "%s: authorization", label);
		tap_ok(0, "%s: signed request", label);
		goto out;
	}
	bfs_sigv4_sha256_hex(r.body, r.bodylen, hash);
	h = bfs_xcalloc(r.nh + 1, sizeof(*h));
	for (size_t i = 0; i < r.nh; i++)
		h[nh++] = (struct bfs_sigv4_header){r.h[i].name, r.h[i].value};
	if (c.token && !hreq_get(&r, "X-Amz-Security-Token")) {
		x[nx++] = (struct extra){"X-Amz-Security-Token", c.token};
		if (!c.omit_token)
			h[nh++] = (struct bfs_sigv4_header){
				"X-Amz-Security-Token", c.token};
	}
	req = make_req(&r, &c, h, nh, hash);
	cr = (struct bfs_sigv4_creds){c.key, c.secret, NULL};

	rc = bfs_sigv4_canonical_request(&req, &creq, NULL);
	if (rc)
		tap_diag("canonical request: %s", strerror(rc));
	p = bfs_xasprintf("%s/%s.creq", dir, base);
	want = read_file(p, NULL);
	free(p);
	check_text(creq, want, label, "canonical request");
	free(want);

	sts = creq ? bfs_sigv4_string_to_sign(&req, creq) : NULL;
	p = bfs_xasprintf("%s/%s.sts", dir, base);
	want = read_file(p, NULL);
	free(p);
	check_text(sts, want, label, "string to sign");
	free(want);

	rc = bfs_sigv4_sign(&req, &cr, auth, NULL);
	if (rc)
		tap_diag("sign: %s", strerror(rc));
	p = bfs_xasprintf("%s/%s.authz", dir, base);
	authz = read_file(p, NULL);
	free(p);
	check_text(rc ? NULL : auth, authz, label, "authorization");

	/*
	 * The signed request: the .sreq, whose Authorization line must be
	 * the .authz. (get-vanilla-with-session-token's .sreq carries
	 * get-vanilla's signature, an upstream slip; its .creq, .sts and
	 * .authz agree with each other, so the .authz is the reference.)
	 */
	p = bfs_xasprintf("%s/%s.sreq", dir, base);
	want = read_file(p, NULL);
	free(p);
	if (want && authz) {
		struct hreq w;

		chomp(authz);
		if (hreq_parse(want, &w) != 0) {
			tap_diag("%s.sreq: malformed", base);
		} else {
			for (size_t i = 0; i < w.nh; i++) {
				if (strcasecmp(w.h[i].name, "Authorization"))
					continue;
				if (strcmp(w.h[i].value + 1, authz) != 0)
					tap_diag("%s.sreq: Authorization "
						 "differs from %s.authz; "
						 "checking against the "
						 ".authz",
						 base, base);
				free(w.h[i].value);
				w.h[i].value = bfs_xasprintf(" %s", authz);
			}
			wsreq = hreq_print(&w, w.target, NULL, 0);
		}
		hreq_release(&w);
	}
	if (!rc) {
		char *sp = bfs_xasprintf(" %s", auth);

		x[nx++] = (struct extra){"Authorization", sp};
		sreq = hreq_print(&r, r.target, x, nx);
		free(sp);
	}
	check_text(sreq, wsreq, label, "signed request");
	free(want);
out:
	free(authz);
	free(wsreq);
	free(sreq);
	free(creq);
	free(sts);
	free(h);
	free(text);
	hreq_release(&r);
	ctx_release(&c);
}

/* Every folder holding NAME/NAME.req is a case; others are groups. */
static int walk_aws4_dir(const char *fixtures, const char *dir,
			 const char *label)
{
	struct dirent **e = NULL;
	int n = list_dir(dir, &e), cases = 0;

	for (int i = 0; i < n; i++) {
		const char *b = e[i]->d_name;
		char *sub = bfs_xasprintf("%s/%s", dir, b);
		char *req = bfs_xasprintf("%s/%s.req", sub, b);
		char *sublabel = bfs_xasprintf("%s/%s", label, b);

		if (is_dir(sub)) {
			if (file_exists(req)) {
				aws4_case(fixtures, sub, b, sublabel);
				cases++;
			} else {
				cases += walk_aws4_dir(fixtures, sub, sublabel);
			}
		}
		free(sublabel);
		free(req);
		free(sub);
	}
	free_ents(e, n);
	return cases;
}

static void walk_aws4(const char *fixtures)
{
	char *root = bfs_xasprintf("%s/sigv4/aws4_testsuite", fixtures);
	int cases = walk_aws4_dir(fixtures, root, "aws4_testsuite");

	tap_ok(cases > 0, "aws4_testsuite: %d cases found", cases);
	free(root);
}

/* ---- s3-examples.json ---- */

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void s3_case(json_t *top, json_t *cs, time_t now, size_t idx)
{
	const char *name = jstr(cs, "name"), *body = jstr(cs, "body");
	const char *hash = jstr(cs, "payload_hash");
	const char *want_sh = jstr(cs, "signed_headers");
	const char *want_sig = jstr(cs, "signature");
	const char *want_uri = jstr(cs, "canonical_uri");
	json_t *hj = json_object_get(cs, "headers"), *v;
	struct bfs_sigv4_creds cr = {jstr(top, "access_key_id"),
				     jstr(top, "secret_access_key"), NULL};
	struct bfs_sigv4_header *h;
	struct bfs_sigv4_req req;
	size_t nh = 0;
	const char *k;
	char *label, *path, *creq = NULL, *sh = NULL;
	char sig[BFS_SIGV4_HEX_LEN] = "", auth[BFS_SIGV4_AUTH_MAX] = "";
	int rc;

	label = name ? bfs_xasprintf("s3-examples/%s", name)
		     : bfs_xasprintf("s3-examples/#%zu", idx);
	h = bfs_xcalloc(json_object_size(hj) + 1, sizeof(*h));
	h[nh++] = (struct bfs_sigv4_header){"Host", jstr(cs, "host")};
	json_object_foreach(hj, k, v) h[nh++] =
		(struct bfs_sigv4_header){k, json_string_value(v)};
	if (!hash)
		hash = json_string_value(
			json_object_get(hj, "x-amz-content-sha256"));
	/* what the S3 driver does: the key encoded once, '/' kept */
	path = bfs_sigv4_uri_encode(jstr(cs, "path") ? jstr(cs, "path") : "",
				    true);
	req = (struct bfs_sigv4_req){
		.method = jstr(cs, "method"),
		.path = path,
		.query = jstr(cs, "query"),
		.headers = h,
		.nheaders = nh,
		.payload_hash = hash,
		.region = jstr(top, "region"),
		.service = jstr(top, "service"),
		.now = now,
		.normalize_path = false,
	};
	if (body) {
		char got[BFS_SIGV4_HEX_LEN];

		bfs_sigv4_sha256_hex(body, strlen(body), got);
		check_text(got, hash, label, "payload hash");
	}
	if (json_is_true(json_object_get(cs, "presign"))) {
		json_int_t ex =
			json_integer_value(json_object_get(cs, "expires"));
		char *pq, *full, *want_full = NULL;

		req.query = "";
		pq = bfs_sigv4_presign_query(&req, &cr, (unsigned)ex);
		if (pq) {
			struct bfs_sigv4_req r2 = req;

			r2.query = pq;
			rc = bfs_sigv4_canonical_request(&r2, &creq, &sh);
			if (rc)
				tap_diag("canonical request: %s", strerror(rc));
		}
		check_text(sh, want_sh, label, "signed headers");
		check_text(pq, jstr(cs, "query"), label, "presign query");
		full = bfs_sigv4_presign(&req, &cr, (unsigned)ex);
		if (jstr(cs, "query") && want_sig)
			want_full = bfs_xasprintf("%s&X-Amz-Signature=%s",
						  jstr(cs, "query"), want_sig);
		check_text(full, want_full, label,
			   "presigned query with signature");
		free(want_full);
		free(full);
		free(pq);
	} else {
		rc = bfs_sigv4_canonical_request(&req, &creq, &sh);
		if (rc)
			tap_diag("canonical request: %s", strerror(rc));
		check_text(sh, want_sh, label, "signed headers");
		if (want_uri) {
			char *line = NULL;

			if (creq) {
				const char *a = strchr(creq, '\n') + 1;

				line = bfs_xstrndup(a, strcspn(a, "\n"));
			}
			check_text(line, want_uri, label, "canonical uri");
			free(line);
		}
		rc = bfs_sigv4_sign(&req, &cr, auth, sig);
		if (rc)
			tap_diag("sign: %s", strerror(rc));
		check_text(rc ? NULL : sig, want_sig, label, "signature");
		if (want_sh && want_sig) {
			char date[BFS_SIGV4_DATE_LEN], *want_auth;

			bfs_sigv4_amz_date(now, date);
			want_auth = bfs_xasprintf(
				"AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/"
				"aws4_request, SignedHeaders=%s, "
				"Signature=%s",
				cr.access_key_id, date, req.region, req.service,
				want_sh, want_sig);
			check_text(rc ? NULL : auth, want_auth, label,
				   "authorization");
			free(want_auth);
		}
	}
	free(creq);
	free(sh);
	free(path);
	free(h);
	free(label);
}

static void walk_s3_examples(const char *fixtures)
{
	char *p = bfs_xasprintf("%s/sigv4/s3-examples.json", fixtures);
	json_error_t je;
	json_t *top = json_load_file(p, 0, &je), *cases, *cs;
	time_t now = 0;
	size_t i;

	if (!top) {
		tap_diag("%s:%d: %s", p, je.line, je.text);
		tap_ok(0, "s3-examples: readable");
		free(p);
		return;
	}
	cases = json_object_get(top, "cases");
	tap_ok(parse_time(jstr(top, "amz_date"), "%Y%m%dT%H%M%SZ", &now) == 0,
	       "s3-examples: amz_date parses");
	tap_ok(json_array_size(cases) > 0, "s3-examples: %zu cases found",
	       json_array_size(cases));
	json_array_foreach(cases, i, cs) s3_case(top, cs, now, i);
	json_decref(top);
	free(p);
}

/* ---- pieces and errors ---- */

static void test_pieces(void)
{
	char hex[BFS_SIGV4_HEX_LEN], date[BFS_SIGV4_DATE_LEN];
	char *s;

	bfs_sigv4_sha256_hex("", 0, hex);
	tap_ok(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
			   "a495991b7852b855") == 0,
	       "sha256 of the empty string");
	bfs_sigv4_amz_date(0, date);
	tap_ok(strcmp(date, "19700101T000000Z") == 0, "amz date of epoch");
	bfs_sigv4_amz_date(1440938160, date);
	tap_ok(strcmp(date, "20150830T123600Z") == 0, "amz date of vectors");
	s = bfs_sigv4_uri_encode("a b/c~d_e.f-g+h%\xc3\xbc", true);
	tap_ok(strcmp(s, "a%20b/c~d_e.f-g%2Bh%25%C3%BC") == 0,
	       "uri encode keeps slash: %s", s);
	free(s);
	s = bfs_sigv4_uri_encode("a/b=c&d", false);
	tap_ok(strcmp(s, "a%2Fb%3Dc%26d") == 0, "uri encode slash: %s", s);
	free(s);
}

static const struct bfs_sigv4_header host_only[] = {
	{"Host", "examplebucket.s3.amazonaws.com"}};

static struct bfs_sigv4_req base_req(void)
{
	return (struct bfs_sigv4_req){
		.method = "GET",
		.path = "/",
		.query = "",
		.headers = host_only,
		.nheaders = 1,
		.payload_hash = "UNSIGNED-PAYLOAD",
		.region = "us-east-1",
		.service = "s3",
		.now = 1369353600,
	};
}

/* The second line (canonical URI) of the canonical request of path. */
static char *canon_uri(const char *path, bool normalize)
{
	struct bfs_sigv4_req r = base_req();
	char *creq = NULL, *line = NULL;

	r.path = path;
	r.normalize_path = normalize;
	if (bfs_sigv4_canonical_request(&r, &creq, NULL) == 0) {
		const char *a = strchr(creq, '\n') + 1;

		line = bfs_xstrndup(a, strcspn(a, "\n"));
	}
	free(creq);
	return line;
}

static char *canon_query(const char *q, int *rc)
{
	struct bfs_sigv4_req r = base_req();
	char *creq = NULL, *line = NULL;

	r.query = q;
	*rc = bfs_sigv4_canonical_request(&r, &creq, NULL);
	if (*rc == 0) {
		const char *a = strchr(strchr(creq, '\n') + 1, '\n') + 1;

		line = bfs_xstrndup(a, strcspn(a, "\n"));
	}
	free(creq);
	return line;
}

static void test_paths_and_queries(void)
{
	static const struct {
		const char *path;
		bool normalize;
		const char *want;
	} pc[] = {
		{"/a%20b/c%2Fd", false, "/a%20b/c%2Fd"},
		{"/a%20b", true, "/a%2520b"},
		{"/my-object//example//photo.user", false,
		 "/my-object//example//photo.user"},
		{"/a/./b/../c", false, "/a/./b/../c"},
		{"/a/./b/../c/", true, "/a/c/"},
		{"", false, "/"},
		{"/100%", false, "/100%25"},
	};
	static const struct {
		const char *q, *want;
	} qc[] = {
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"uploads", "uploads="},
		{"list-type=2&prefix=a%2Fb%20c&delimiter=%2F",
		 "delimiter=%2F&list-type=2&prefix=a%2Fb%20c"},
		{"x=a+b&&y=", "x=a%2Bb&y="},
		{"k=%e1%88%b4", "k=%E1%88%B4"},
	};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(pc); i++) {
		char *got = canon_uri(pc[i].path, pc[i].normalize);

		if (!tap_ok(got && strcmp(got, pc[i].want) == 0,
			    "canonical path '%s' normalize=%d", pc[i].path,
			    pc[i].normalize))
			tap_diag("got %s want %s", got ? got : "(error)",
				 pc[i].want);
		free(got);
	}
	for (size_t i = 0; i < BFS_ARRAY_SIZE(qc); i++) {
		int rc;
		char *got = canon_query(qc[i].q, &rc);

		if (!tap_ok(got && strcmp(got, qc[i].want) == 0,
			    "canonical query '%s'", qc[i].q))
			tap_diag("got %s want %s", got ? got : "(error)",
				 qc[i].want);
		free(got);
	}
}

static void test_errors(void)
{
	static const struct bfs_sigv4_header nohost[] = {
		{"x-amz-date", "20130524T000000Z"}};
	struct bfs_sigv4_creds cr = {"AKIAIOSFODNN7EXAMPLE",
				     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
				     NULL};
	struct bfs_sigv4_creds nokey = {NULL, "secret", NULL};
	struct bfs_sigv4_header *big;
	struct bfs_sigv4_req r = base_req();
	char auth[BFS_SIGV4_AUTH_MAX], sig[BFS_SIGV4_HEX_LEN];
	char *creq = (char *)"x", *sh = (char *)"x", *p, *name;
	int rc;

	r.headers = nohost;
	rc = bfs_sigv4_canonical_request(&r, &creq, &sh);
	tap_ok(rc == EINVAL && !creq && !sh,
	       "error: canonical request without host -> EINVAL");
	tap_ok(bfs_sigv4_sign(&r, &cr, auth, sig) == EINVAL,
	       "error: sign without host -> EINVAL");
	errno = 0;
	p = bfs_sigv4_presign(&r, &cr, 60);
	tap_ok(!p && errno == EINVAL, "error: presign without host -> EINVAL");
	free(p);
	r.nheaders = 0;
	tap_ok(bfs_sigv4_sign(&r, &cr, auth, sig) == EINVAL,
	       "error: sign with no headers -> EINVAL");

	r = base_req();
	canon_query("a=%zz", &rc);
	tap_ok(rc == EINVAL, "error: query with a bad escape -> EINVAL");
	canon_query("a=%4", &rc);
	tap_ok(rc == EINVAL, "error: query with a cut escape -> EINVAL");
	tap_ok(bfs_sigv4_sign(&r, &nokey, auth, sig) == EINVAL,
	       "error: sign without an access key -> EINVAL");
	tap_ok(bfs_sigv4_sign(&r, NULL, auth, sig) == EINVAL,
	       "error: sign without credentials -> EINVAL");
	r.payload_hash = NULL;
	tap_ok(bfs_sigv4_sign(&r, &cr, auth, sig) == EINVAL,
	       "error: sign without payload hash -> EINVAL");
	r = base_req();
	errno = 0;
	p = bfs_sigv4_presign(&r, &cr, 0);
	tap_ok(!p && errno == EINVAL, "error: presign for 0 s -> EINVAL");
	free(p);
	errno = 0;
	p = bfs_sigv4_presign(&r, &cr, 604801);
	tap_ok(!p && errno == EINVAL,
	       "error: presign beyond seven days -> EINVAL");
	free(p);
	p = bfs_sigv4_presign(&r, &cr, 604800);
	tap_ok(p != NULL, "presign for exactly seven days");
	free(p);

	/* an Authorization value longer than the buffer */
	big = bfs_xcalloc(2, sizeof(*big));
	name = bfs_xmalloc(BFS_SIGV4_AUTH_MAX + 1);
	memset(name, 'x', BFS_SIGV4_AUTH_MAX);
	name[BFS_SIGV4_AUTH_MAX] = '\0';
	big[0] = host_only[0];
	big[1] = (struct bfs_sigv4_header){name, "v"};
	r.headers = big;
	r.nheaders = 2;
	tap_ok(bfs_sigv4_sign(&r, &cr, auth, sig) == ENAMETOOLONG,
	       "error: authorization too long -> ENAMETOOLONG");
	tap_ok(bfs_sigv4_sign(&r, &cr, NULL, sig) == 0,
	       "a long header list signs without an auth buffer");
	free(name);
	free(big);

	/* the session token is a query parameter of a presigned URL */
	r = base_req();
	cr.session_token = "tok/en+=";
	p = bfs_sigv4_presign(&r, &cr, 60);
	tap_ok(p && strstr(p, "&X-Amz-Security-Token=tok%2Fen%2B%3D&"),
	       "presign carries the session token encoded");
	free(p);
}

int main(void)
{
	char *fixtures = fixtures_dir();

	walk_v4(fixtures);
	walk_aws4(fixtures);
	walk_s3_examples(fixtures);
	test_pieces();
	test_paths_and_queries();
	test_errors();
	free(fixtures);
	return tap_done();
}
