/*
 * store_conformance.c - the store conformance battery (see
 * store_conformance.h) and the one TAP state of the test programs that
 * run it. Every case goes through struct bfs_store only.
 */
#include "compat.h"

#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "store_conformance.h"
#include "tap.h"

#define MIB	     (1024 * 1024)
#define PART_SIZE    (5 * MIB)
#define LAST_PART    (MIB + 123)
#define MPU_SIZE     (2 * PART_SIZE + LAST_PART)
#define MAX_PAGES    1000
#define READ_THREADS 4

int bfs_conformance_ok(int cond, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tap_ok(cond, "%s", buf);
}

void bfs_conformance_diag(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag("%s", buf);
}

int bfs_conformance_done(void)
{
	return tap_done();
}

struct conf {
	struct bfs_store *s;
	const char *prefix;
	unsigned flags;
	char **keys; /* every key the battery may have created */
	size_t nkeys;
};

#define OK(...) bfs_conformance_ok(__VA_ARGS__)

/* prefix + rel, remembered for the final clean-up; owned by c. */
static const char *K(struct conf *c, const char *rel)
{
	char *k = bfs_xasprintf("%s%s", c->prefix, rel);

	c->keys = bfs_xrealloc(c->keys, (c->nkeys + 1) * sizeof(char *));
	c->keys[c->nkeys++] = k;
	return k;
}

/* An unlinked temporary file holding data. */
static int body_fd(const void *data, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char *path = bfs_xasprintf("%s/bfs-conf-XXXXXX", dir ? dir : "/tmp");
	size_t done = 0;
	int fd = mkstemp(path);

	if (fd < 0)
		BFS_BUG("mkstemp %s: %s", path, strerror(errno));
	unlink(path);
	free(path);
	while (done < n) {
		ssize_t w = write(fd, (const char *)data + done, n - done);

		if (w <= 0)
			BFS_BUG("write body: %s", strerror(errno));
		done += (size_t)w;
	}
	return fd;
}

struct put_opts {
	const struct bfs_meta_list *meta;
	const char *if_match;
	bool if_none_match;
};

static int put_buf(struct conf *c, const char *key, const void *data, size_t n,
		   const struct put_opts *o, char *etag)
{
	int fd = body_fd(data, n);
	struct bfs_put_req req = {
		.key = key,
		.fd = fd,
		.size = n,
		.meta = o ? o->meta : NULL,
		.if_match = o ? o->if_match : NULL,
		.if_none_match = o ? o->if_none_match : false,
	};
	char dummy[BFS_ETAG_MAX];
	int rc = c->s->put(c->s, &req, etag ? etag : dummy);

	close(fd);
	return rc;
}

static int put_str(struct conf *c, const char *key, const char *data,
		   char *etag)
{
	return put_buf(c, key, data, strlen(data), NULL, etag);
}

/* Whether key holds exactly data (len bytes). */
static bool has_content(struct conf *c, const char *key, const void *data,
			size_t len)
{
	char *buf = bfs_xmalloc(len + 16);
	size_t got = 0;
	int rc = bfs_store_read_full(c->s, key, 0, len + 16, buf, &got, NULL);
	bool same = rc == 0 && got == len && memcmp(buf, data, len) == 0;

	if (!same)
		bfs_conformance_diag("content of '%s': rc %d, %zu bytes", key,
				     rc, got);
	free(buf);
	return same;
}

static int head(struct conf *c, const char *key, struct bfs_obj_info *out)
{
	return c->s->head(c->s, key, out);
}

static int range(struct conf *c, const char *key, uint64_t off, size_t len,
		 char *buf, size_t *got, const char *if_match)
{
	return c->s->get_range(c->s, key, off, len, buf, got, if_match);
}

static void basic(struct conf *c)
{
	static const char data[] = "hello, conformance world!\n";
	static const char data2[] = "a different body, longer than before";
	const size_t n = sizeof(data) - 1;
	const char *key = K(c, "basic/obj");
	const char *empty = K(c, "basic/empty");
	const char *off = K(c, "basic/offset");
	struct bfs_meta_list meta = {0};
	struct put_opts po = {.meta = &meta};
	struct bfs_obj_info info = {0};
	char etag[BFS_ETAG_MAX] = "", etag2[BFS_ETAG_MAX] = "", buf[64];
	size_t got = 99;
	int rc, fd;

	bfs_meta_set(&meta, "color", "blue");
	bfs_meta_set(&meta, "mode", "0644");
	rc = put_buf(c, key, data, n, &po, etag);
	OK(rc == 0 && etag[0], "put: new object (rc %d)", rc);
	bfs_meta_list_release(&meta);

	rc = head(c, key, &info);
	OK(rc == 0 && info.size == n && strcmp(info.etag, etag) == 0 &&
		   info.mtime.tv_sec > 0,
	   "head: size, ETag of the put, mtime (rc %d)", rc);
	OK(rc == 0 && bfs_meta_get(&info.meta, "color") &&
		   strcmp(bfs_meta_get(&info.meta, "color"), "blue") == 0 &&
		   bfs_meta_get(&info.meta, "mode") &&
		   strcmp(bfs_meta_get(&info.meta, "mode"), "0644") == 0,
	   "head: user metadata comes back");
	bfs_obj_info_release(&info);
	rc = head(c, K(c, "basic/missing"), &info);
	OK(rc == ENOENT, "head: missing key is ENOENT (rc %d)", rc);
	bfs_obj_info_release(&info);

	rc = range(c, key, 0, n, buf, &got, NULL);
	OK(rc == 0 && got == n && memcmp(buf, data, n) == 0,
	   "get_range: whole object");
	rc = range(c, key, 3, 7, buf, &got, NULL);
	OK(rc == 0 && got == 7 && memcmp(buf, data + 3, 7) == 0,
	   "get_range: odd offset and length");
	rc = range(c, key, 20, 40, buf, &got, NULL);
	OK(rc == 0 && got == n - 20 && memcmp(buf, data + 20, n - 20) == 0,
	   "get_range: a range past the end is cut at the end");
	got = 99;
	rc = range(c, key, n, 10, buf, &got, NULL);
	OK(rc == 0 && got == 0, "get_range: off == size gives 0 bytes (rc %d)",
	   rc);
	rc = range(c, key, n + 1, 10, buf, &got, NULL);
	OK(rc == ERANGE, "get_range: off > size is ERANGE (rc %d)", rc);
	rc = range(c, K(c, "basic/missing"), 0, 10, buf, &got, NULL);
	OK(rc == ENOENT, "get_range: missing key is ENOENT (rc %d)", rc);
	rc = range(c, key, 1, 4, buf, &got, etag);
	OK(rc == 0 && got == 4 && memcmp(buf, data + 1, 4) == 0,
	   "get_range: pinned to the current ETag reads");
	rc = range(c, key, 1, 4, buf, &got, "00000000000000000000000000000000");
	OK(rc == ESTALE, "get_range: pinned to another ETag is ESTALE (rc %d)",
	   rc);

	fd = body_fd(data, n);
	{
		struct bfs_put_req req = {
			.key = off, .fd = fd, .offset = 7, .size = 11};

		rc = c->s->put(c->s, &req, NULL);
	}
	close(fd);
	OK(rc == 0 && has_content(c, off, data + 7, 11),
	   "put: body from an offset in the file, etag_out NULL");

	rc = put_str(c, key, data2, etag2);
	OK(rc == 0 && etag2[0] && strcmp(etag, etag2) != 0,
	   "put: overwrite with new content changes the ETag");
	rc = head(c, key, &info);
	OK(rc == 0 && info.size == strlen(data2) &&
		   strcmp(info.etag, etag2) == 0 && info.meta.n == 0,
	   "head: overwrite replaced size, ETag and metadata");
	bfs_obj_info_release(&info);
	OK(has_content(c, key, data2, strlen(data2)),
	   "get_range: overwrite replaced the content");
	rc = range(c, key, 0, 4, buf, &got, etag);
	if (c->flags & BFS_CONFORMANCE_CACHED_VERSIONS)
		OK(rc == ESTALE ||
			   (rc == 0 && got == 4 && memcmp(buf, data, 4) == 0),
		   "get_range: pinned to the old ETag is ESTALE or that "
		   "version's bytes from the cache (rc %d)",
		   rc);
	else
		OK(rc == ESTALE,
		   "get_range: pinned to the old ETag is ESTALE (rc %d)", rc);

	rc = put_buf(c, empty, "", 0, NULL, etag);
	OK(rc == 0, "put: empty object");
	rc = head(c, empty, &info);
	OK(rc == 0 && info.size == 0 && info.etag[0],
	   "head: empty object has size 0 and an ETag");
	bfs_obj_info_release(&info);
	got = 99;
	rc = range(c, empty, 0, 10, buf, &got, NULL);
	OK(rc == 0 && got == 0, "get_range: empty object gives 0 bytes");
	rc = range(c, empty, 1, 10, buf, &got, NULL);
	OK(rc == ERANGE, "get_range: offset 1 of an empty object is ERANGE");
}

static void conditional(struct conf *c)
{
	const char *key = K(c, "cond/obj");
	const char *fresh = K(c, "cond/fresh");
	struct put_opts none = {.if_none_match = true};
	struct put_opts match = {0};
	struct bfs_obj_info info = {0};
	char etag[BFS_ETAG_MAX] = "", etag2[BFS_ETAG_MAX] = "";
	int rc;

	if (put_str(c, key, "version one", etag) != 0)
		bfs_conformance_diag("cannot put %s", key);
	if (c->s->caps & BFS_CAP_IF_NONE_MATCH) {
		rc = put_buf(c, key, "version two", 11, &none, NULL);
		OK(rc == EEXIST,
		   "put: if_none_match on an existing key is EEXIST (rc %d)",
		   rc);
		OK(head(c, key, &info) == 0 && strcmp(info.etag, etag) == 0,
		   "put: failed if_none_match left the object alone");
		bfs_obj_info_release(&info);
		rc = put_buf(c, fresh, "new", 3, &none, NULL);
		OK(rc == 0 && has_content(c, fresh, "new", 3),
		   "put: if_none_match on a new key creates it (rc %d)", rc);
	} else {
		bfs_conformance_diag("store '%s' has no IF_NONE_MATCH: "
				     "if_none_match cases not run",
				     c->s->name);
	}
	if (c->s->caps & BFS_CAP_IF_MATCH) {
		match.if_match = "00000000000000000000000000000000";
		rc = put_buf(c, key, "version three", 13, &match, NULL);
		OK(rc == ESTALE, "put: if_match a wrong ETag is ESTALE (rc %d)",
		   rc);
		OK(has_content(c, key, "version one", 11),
		   "put: failed if_match left the content alone");
		match.if_match = etag;
		rc = put_buf(c, key, "version four", 12, &match, etag2);
		OK(rc == 0 && strcmp(etag, etag2) != 0 &&
			   has_content(c, key, "version four", 12),
		   "put: if_match the current ETag replaces (rc %d)", rc);
		rc = put_buf(c, key, "version five", 12, &match, NULL);
		OK(rc == ESTALE,
		   "put: if_match the replaced ETag is ESTALE (rc %d)", rc);
	} else {
		bfs_conformance_diag("store '%s' has no IF_MATCH: if_match "
				     "cases not run",
				     c->s->name);
	}
}

static void deletes(struct conf *c)
{
	const char *key = K(c, "del/obj");
	struct bfs_obj_info info = {0};
	char buf[8];
	size_t got;
	int rc;

	put_str(c, key, "doomed", NULL);
	rc = c->s->del(c->s, key);
	OK(rc == 0, "del: existing key (rc %d)", rc);
	rc = head(c, key, &info);
	OK(rc == ENOENT, "del: head afterwards is ENOENT (rc %d)", rc);
	bfs_obj_info_release(&info);
	rc = range(c, key, 0, sizeof(buf), buf, &got, NULL);
	OK(rc == ENOENT, "del: get_range afterwards is ENOENT (rc %d)", rc);
	rc = c->s->del(c->s, key);
	OK(rc == 0, "del: deleting it again succeeds (rc %d)", rc);
	rc = c->s->del(c->s, K(c, "del/never-was"));
	OK(rc == 0, "del: a key that never existed succeeds (rc %d)", rc);
}

static bool meta_is(const struct bfs_meta_list *m, const char *name,
		    const char *value)
{
	const char *v = bfs_meta_get(m, name);

	return value ? v && strcmp(v, value) == 0 : v == NULL;
}

static void copies(struct conf *c)
{
	static const char data[] = "the source of every copy";
	const size_t n = sizeof(data) - 1;
	const char *src = K(c, "copy/src");
	const char *d1 = K(c, "copy/keep");
	const char *d2 = K(c, "copy/replace");
	const char *d3 = K(c, "copy/cond");
	struct bfs_meta_list meta = {0}, nmeta = {0};
	struct put_opts po = {.meta = &meta};
	struct bfs_obj_info info = {0};
	char setag[BFS_ETAG_MAX] = "", etag[BFS_ETAG_MAX] = "";
	int rc;

	bfs_meta_set(&meta, "a", "1");
	bfs_meta_set(&meta, "b", "2");
	put_buf(c, src, data, n, &po, setag);
	rc = c->s->copy(c->s, src, d1, NULL, NULL, etag);
	OK(rc == 0 && etag[0], "copy: keeping metadata (rc %d)", rc);
	rc = head(c, d1, &info);
	OK(rc == 0 && info.size == n && strcmp(info.etag, etag) == 0 &&
		   meta_is(&info.meta, "a", "1") &&
		   meta_is(&info.meta, "b", "2"),
	   "copy: destination has the size, the returned ETag and the "
	   "source's metadata");
	bfs_obj_info_release(&info);
	OK(has_content(c, d1, data, n), "copy: destination has the content");

	bfs_meta_set(&nmeta, "c", "3");
	rc = c->s->copy(c->s, src, d2, &nmeta, NULL, NULL);
	OK(rc == 0, "copy: with new metadata, etag_out NULL (rc %d)", rc);
	rc = head(c, d2, &info);
	OK(rc == 0 && meta_is(&info.meta, "c", "3") &&
		   meta_is(&info.meta, "a", NULL) && info.size == n,
	   "copy: new metadata replaced the source's");
	bfs_obj_info_release(&info);

	rc = c->s->copy(c->s, K(c, "copy/missing"), d3, NULL, NULL, NULL);
	OK(rc == ENOENT, "copy: missing source is ENOENT (rc %d)", rc);
	rc = c->s->copy(c->s, src, d3, NULL, "00000000000000000000000000000000",
			NULL);
	OK(rc == ESTALE, "copy: if_match a wrong ETag is ESTALE (rc %d)", rc);
	rc = head(c, d3, &info);
	OK(rc == ENOENT, "copy: failed if_match made no destination (rc %d)",
	   rc);
	bfs_obj_info_release(&info);
	rc = c->s->copy(c->s, src, d3, NULL, setag, NULL);
	OK(rc == 0 && has_content(c, d3, data, n),
	   "copy: if_match the source's ETag copies (rc %d)", rc);

	bfs_meta_list_release(&nmeta);
	bfs_meta_set(&nmeta, "a", "9");
	rc = c->s->copy(c->s, src, src, &nmeta, NULL, NULL);
	OK(rc == 0, "copy: onto itself with new metadata (rc %d)", rc);
	rc = head(c, src, &info);
	OK(rc == 0 && meta_is(&info.meta, "a", "9") &&
		   meta_is(&info.meta, "b", NULL) && info.size == n,
	   "copy: onto itself replaced the metadata");
	bfs_obj_info_release(&info);
	OK(has_content(c, src, data, n), "copy: onto itself kept the content");
	bfs_meta_list_release(&meta);
	bfs_meta_list_release(&nmeta);
}

/* ---- listings ---- */

struct coll {
	char **objs;
	size_t nobjs;
	struct bfs_obj_info *infos; /* parallel to objs */
	char **pfx;
	size_t npfx;
	int pages;
	bool oversize; /* a page held more than max_keys entries */
	int rc;
};

static void coll_release(struct coll *l)
{
	for (size_t i = 0; i < l->nobjs; i++) {
		free(l->objs[i]);
		bfs_obj_info_release(&l->infos[i]);
	}
	for (size_t i = 0; i < l->npfx; i++)
		free(l->pfx[i]);
	free(l->objs);
	free(l->infos);
	free(l->pfx);
	memset(l, 0, sizeof(*l));
}

/* Every page of a listing. */
static void collect(struct conf *c, const char *prefix, const char *delim,
		    const char *start_after, unsigned max, struct coll *l)
{
	char *token = NULL;

	memset(l, 0, sizeof(*l));
	do {
		struct bfs_list_req req = {
			.prefix = prefix,
			.delimiter = delim,
			.token = token,
			.start_after = start_after,
			.max_keys = max,
		};
		struct bfs_list_result res = {0};

		l->rc = c->s->list(c->s, &req, &res);
		free(token);
		token = NULL;
		if (l->rc != 0)
			break;
		l->pages++;
		if (max && res.nobjs + res.nprefixes > max)
			l->oversize = true;
		for (size_t i = 0; i < res.nobjs; i++) {
			size_t j = l->nobjs++;

			l->objs = bfs_xrealloc(l->objs,
					       l->nobjs * sizeof(char *));
			l->infos = bfs_xrealloc(l->infos,
						l->nobjs * sizeof(*l->infos));
			bfs_obj_info_copy(&l->infos[j], &res.objs[i]);
			l->objs[j] = bfs_xstrdup(
				res.objs[i].key ? res.objs[i].key : "(null)");
		}
		for (size_t i = 0; i < res.nprefixes; i++) {
			l->pfx = bfs_xrealloc(l->pfx,
					      (l->npfx + 1) * sizeof(char *));
			l->pfx[l->npfx++] = bfs_xstrdup(res.prefixes[i]);
		}
		if (res.next_token)
			token = bfs_xstrdup(res.next_token);
		bfs_list_result_release(&res);
	} while (token && l->pages < MAX_PAGES);
	free(token);
}

/* Whether got (n) is exactly base + each of want (a NULL-ended list). */
static bool same_list(char **got, size_t n, const char *base,
		      const char *const *want, const char *what)
{
	size_t i = 0;
	bool ok = true;

	for (; want[i]; i++) {
		char *w = bfs_xasprintf("%s%s", base, want[i]);

		if (i >= n || strcmp(got[i], w) != 0)
			ok = false;
		free(w);
	}
	if (i != n)
		ok = false;
	if (!ok) {
		bfs_conformance_diag("%s: got %zu:", what, n);
		for (size_t j = 0; j < n; j++)
			bfs_conformance_diag("  '%s'", got[j]);
		bfs_conformance_diag("expected %zu:", i);
		for (size_t j = 0; want[j]; j++)
			bfs_conformance_diag("  '%s%s'", base, want[j]);
	}
	return ok;
}

static bool coll_is(struct coll *l, const char *base, const char *const *objs,
		    const char *const *pfx)
{
	bool a, b;

	if (l->rc != 0) {
		bfs_conformance_diag("list failed: %s", strerror(l->rc));
		return false;
	}
	a = same_list(l->objs, l->nobjs, base, objs, "objects");
	b = same_list(l->pfx, l->npfx, base, pfx, "prefixes");
	if (l->oversize)
		bfs_conformance_diag("a page held more than max_keys entries");
	return a && b && !l->oversize;
}

static void listing(struct conf *c)
{
	static const char *const keys[] = {"a", "a!", "a/b",   "b/1", "b/2",
					   "c", "d/", "e/f/g", NULL};
	static const char *const none[] = {NULL};
	static const char *const objs_d[] = {"a", "a!", "c", NULL};
	static const char *const pfx_d[] = {"a/", "b/", "d/", "e/", NULL};
	char *base = bfs_xasprintf("%slist/", c->prefix);
	char *p;
	struct coll l;
	struct bfs_obj_info info = {0};
	bool put_ok = true;

	for (size_t i = 0; keys[i]; i++) {
		char *rel = bfs_xasprintf("list/%s", keys[i]);

		if (put_str(c, K(c, rel), keys[i], NULL) != 0)
			put_ok = false;
		free(rel);
	}
	OK(put_ok, "list: put %zu keys", BFS_ARRAY_SIZE(keys) - 1);

	collect(c, base, NULL, NULL, 0, &l);
	OK(coll_is(&l, base, keys, none) && l.pages == 1,
	   "list: flat, one page, byte order ('a' < 'a!' < 'a/b')");
	coll_release(&l);
	collect(c, base, NULL, NULL, 2, &l);
	OK(coll_is(&l, base, keys, none) && l.pages >= 4,
	   "list: flat, max_keys 2 pages through all (%d pages)", l.pages);
	coll_release(&l);
	collect(c, base, "/", NULL, 0, &l);
	OK(coll_is(&l, base, objs_d, pfx_d),
	   "list: delimiter '/' gives objects and common prefixes");
	coll_release(&l);
	collect(c, base, "/", NULL, 2, &l);
	OK(coll_is(&l, base, objs_d, pfx_d) && l.pages >= 4,
	   "list: delimiter '/', max_keys 2: no prefix twice (%d pages)",
	   l.pages);
	coll_release(&l);
	collect(c, base, "/", NULL, 1, &l);
	OK(coll_is(&l, base, objs_d, pfx_d) && l.pages >= 7,
	   "list: delimiter '/', max_keys 1 (%d pages)", l.pages);
	coll_release(&l);

	p = bfs_xasprintf("%sb/", base);
	collect(c, p, "/", NULL, 0, &l);
	{
		static const char *const want[] = {"1", "2", NULL};

		OK(coll_is(&l, p, want, none), "list: prefix 'b/'");
	}
	coll_release(&l);
	free(p);
	p = bfs_xasprintf("%se/", base);
	collect(c, p, "/", NULL, 0, &l);
	{
		static const char *const want[] = {"f/", NULL};

		OK(coll_is(&l, p, none, want),
		   "list: prefix 'e/' shows only 'e/f/'");
	}
	coll_release(&l);
	free(p);
	p = bfs_xasprintf("%sa", base);
	collect(c, p, "/", NULL, 0, &l);
	{
		static const char *const wo[] = {"", "!", NULL};
		static const char *const wp[] = {"/", NULL};

		OK(coll_is(&l, p, wo, wp),
		   "list: prefix 'a' (not ending in '/') gives 'a', 'a!', "
		   "'a/'");
	}
	coll_release(&l);
	free(p);
	p = bfs_xasprintf("%sd/", base);
	collect(c, p, "/", NULL, 0, &l);
	{
		static const char *const want[] = {"", NULL};

		OK(coll_is(&l, p, want, none),
		   "list: prefix 'd/' shows the marker 'd/' itself");
	}
	coll_release(&l);
	free(p);

	p = bfs_xasprintf("%sb/1", base);
	collect(c, base, NULL, p, 0, &l);
	{
		static const char *const want[] = {"b/2", "c", "d/", "e/f/g",
						   NULL};

		OK(coll_is(&l, base, want, none), "list: start_after 'b/1'");
	}
	coll_release(&l);
	free(p);
	p = bfs_xasprintf("%sc", base);
	collect(c, base, "/", p, 0, &l);
	{
		static const char *const want[] = {"d/", "e/", NULL};

		OK(coll_is(&l, base, none, want),
		   "list: start_after 'c' with delimiter");
	}
	coll_release(&l);
	free(p);
	p = bfs_xasprintf("%snothing-here/", base);
	collect(c, p, "/", NULL, 0, &l);
	OK(coll_is(&l, p, none, none) && l.pages == 1,
	   "list: an empty prefix is one empty page");
	coll_release(&l);
	free(p);

	collect(c, base, NULL, NULL, 0, &l);
	p = bfs_xasprintf("%sc", base);
	if (head(c, p, &info) == 0 && l.rc == 0 && l.nobjs == 8)
		OK(l.infos[5].size == 1 &&
			   strcmp(l.infos[5].etag, info.etag) == 0 &&
			   l.infos[5].mtime.tv_sec > 0,
		   "list: entries carry the size, ETag and mtime of head");
	else
		OK(0, "list: entries carry the size, ETag and mtime of head");
	bfs_obj_info_release(&info);
	coll_release(&l);
	free(p);
	free(base);
}

/* ---- keys ---- */

static void key_round_trip(struct conf *c, const char *key, const char *what)
{
	struct bfs_obj_info info = {0};
	int rc = put_str(c, key, key, NULL);

	OK(rc == 0 && head(c, key, &info) == 0 && info.size == strlen(key) &&
		   has_content(c, key, key, strlen(key)),
	   "keys: %s: put, head, get (rc %d)", what, rc);
	bfs_obj_info_release(&info);
}

static void keys(struct conf *c)
{
	static const char *const odd[] = {"chars/#hash",
					  "chars/%2F-not-a-slash",
					  "chars/100%",
					  "chars/a+b c",
					  "chars/k=v&x=y",
					  "chars/semi;colon,comma",
					  "chars/tilde~!$'()*",
					  "chars/what?",
					  "chars/\xc3\xbc"
					  "n\xc3\xaf"
					  "c\xc3\xb8"
					  "d\xc3\xa9"
					  "-\xe6\x97\xa5",
					  NULL};
	const char *a = K(c, "co/a"), *ab = K(c, "co/a/b");
	const char *d = K(c, "co/d/");
	struct bfs_obj_info info = {0};
	char *base;
	struct coll l;
	int rc;

	for (size_t i = 0; odd[i]; i++) {
		char *rel = bfs_xasprintf("%s", odd[i]);

		key_round_trip(c, K(c, rel), odd[i]);
		free(rel);
	}
	key_round_trip(c, K(c, "sp ace/with space"), "spaces");
	base = bfs_xasprintf("%schars/", c->prefix);
	collect(c, base, "/", NULL, 0, &l);
	{
		const char *want[BFS_ARRAY_SIZE(odd)];

		for (size_t i = 0; odd[i]; i++)
			want[i] = odd[i] + strlen("chars/");
		want[BFS_ARRAY_SIZE(odd) - 1] = NULL;
		OK(coll_is(&l, base, want, (const char *const[]){NULL}),
		   "keys: listing returns the odd keys byte for byte");
	}
	coll_release(&l);
	free(base);

	rc = put_str(c, a, "file a", NULL);
	rc = rc ? rc : put_str(c, ab, "file a/b", NULL);
	rc = rc ? rc : put_buf(c, d, "", 0, NULL, NULL);
	OK(rc == 0, "keys: put 'a', 'a/b' and marker 'd/' (rc %d)", rc);
	OK(has_content(c, a, "file a", 6) && has_content(c, ab, "file a/b", 8),
	   "keys: 'a' and 'a/b' coexist with their own content");
	rc = head(c, d, &info);
	OK(rc == 0 && info.size == 0, "keys: marker 'd/' is a 0-byte object");
	bfs_obj_info_release(&info);
	base = bfs_xasprintf("%sco/", c->prefix);
	collect(c, base, "/", NULL, 0, &l);
	OK(coll_is(&l, base, (const char *const[]){"a", NULL},
		   (const char *const[]){"a/", "d/", NULL}),
	   "keys: listing shows file 'a' and prefixes 'a/', 'd/'");
	coll_release(&l);
	free(base);
	rc = c->s->del(c->s, a);
	OK(rc == 0 && head(c, a, &info) == ENOENT &&
		   has_content(c, ab, "file a/b", 8),
	   "keys: deleting 'a' leaves 'a/b'");
	bfs_obj_info_release(&info);

	if (c->flags & BFS_CONFORMANCE_NO_LONG_KEYS) {
		bfs_conformance_diag("long keys not run on store '%s' "
				     "(BFS_CONFORMANCE_NO_LONG_KEYS)",
				     c->s->name);
		return;
	}
	{
		char seg[301], *rel, *full;
		size_t plen = strlen(c->prefix), o;

		for (size_t i = 0; i < 300; i++)
			seg[i] = (char)('a' + i % 26);
		seg[300] = '\0';
		rel = bfs_xasprintf("long/%s", seg);
		key_round_trip(c, K(c, rel), "a 300-byte segment");
		free(rel);
		rel = bfs_xasprintf("long/%s/x", seg);
		key_round_trip(c, K(c, rel), "a 300-byte directory segment");
		free(rel);
		base = bfs_xasprintf("%slong/", c->prefix);
		collect(c, base, "/", NULL, 0, &l);
		{
			char *sp = bfs_xasprintf("%s/", seg);

			OK(coll_is(&l, base, (const char *const[]){seg, NULL},
				   (const char *const[]){sp, NULL}),
			   "keys: listing shows the 300-byte segment");
			free(sp);
		}
		coll_release(&l);
		free(base);
		base = bfs_xasprintf("%slong/%s/", c->prefix, seg);
		collect(c, base, "/", NULL, 0, &l);
		OK(coll_is(&l, base, (const char *const[]){"x", NULL},
			   (const char *const[]){NULL}),
		   "keys: listing inside the 300-byte segment");
		coll_release(&l);
		free(base);

		/* exactly 1024 bytes: 200-byte segments under the prefix */
		full = bfs_xmalloc(BFS_KEY_MAX + 1);
		o = (size_t)snprintf(full, BFS_KEY_MAX + 1, "%smax/",
				     c->prefix);
		while (o < BFS_KEY_MAX) {
			full[o] = (o - plen) % 201 == 200 ? '/' : 'k';
			o++;
		}
		full[BFS_KEY_MAX - 1] = 'z';
		full[BFS_KEY_MAX] = '\0';
		key_round_trip(c, K(c, full + plen), "a 1024-byte key");
		free(full);
	}
}

/* ---- multipart ---- */

static void fill(unsigned char *b, size_t n, uint32_t seed)
{
	uint32_t x = seed;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
}

struct reader {
	struct conf *c;
	const char *key;
	const char *etag;
	const unsigned char *want;
	size_t size;
	int bad;
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;
	char *buf = bfs_xmalloc(256 * 1024);
	uint32_t x = (uint32_t)(uintptr_t)r ^ 0x9e3779b9u;

	for (int i = 0; i < 40; i++) {
		size_t off, len, got = 0;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		off = x % r->size;
		len = 1 + (x >> 7) % (256 * 1024);
		if (bfs_store_read_full(r->c->s, r->key, off, len, buf, &got,
					r->etag) != 0 ||
		    got != BFS_MIN(len, r->size - off) ||
		    memcmp(buf, r->want + off, got) != 0)
			r->bad++;
	}
	free(buf);
	return NULL;
}

static int part(struct conf *c, const char *key, const char *id, int number,
		int fd, off_t off, size_t len, struct bfs_part *out)
{
	out->number = number;
	return c->s->mpu_part(c->s, key, id, number, fd, off, len, out->etag);
}

static void multipart(struct conf *c)
{
	const char *key = K(c, "mpu/big");
	const char *gone = K(c, "mpu/aborted");
	unsigned char *data = bfs_xmalloc(MPU_SIZE), *buf;
	struct bfs_meta_list meta = {0};
	struct bfs_put_req req = {.key = key, .fd = -1, .meta = &meta};
	struct bfs_part parts[3];
	struct bfs_obj_info info = {0};
	struct reader rd[READ_THREADS];
	pthread_t th[READ_THREADS];
	char etag[BFS_ETAG_MAX] = "", *id = NULL;
	static const size_t at[] = {0, PART_SIZE - 3, 2 * PART_SIZE - 1,
				    MPU_SIZE - 5};
	bool same = true;
	size_t got;
	int fd, rc, bad = 0;

	if (!(c->s->caps & BFS_CAP_MULTIPART)) {
		bfs_conformance_diag("store '%s' has no MULTIPART: multipart "
				     "cases not run",
				     c->s->name);
		free(data);
		return;
	}
	fill(data, MPU_SIZE, 12345);
	fd = body_fd(data, MPU_SIZE);
	bfs_meta_set(&meta, "mpu", "yes");
	rc = c->s->mpu_begin(c->s, &req, &id);
	OK(rc == 0 && id && id[0], "mpu: begin (rc %d)", rc);
	if (rc != 0)
		goto out;
	/* parts may arrive in any order */
	rc = part(c, key, id, 3, fd, 2 * PART_SIZE, LAST_PART, &parts[2]);
	rc = rc ? rc : part(c, key, id, 1, fd, 0, PART_SIZE, &parts[0]);
	rc = rc ? rc : part(c, key, id, 2, fd, PART_SIZE, PART_SIZE, &parts[1]);
	OK(rc == 0 && parts[0].etag[0] && parts[1].etag[0] && parts[2].etag[0],
	   "mpu: three parts, uploaded 3, 1, 2 (rc %d)", rc);
	rc = c->s->mpu_complete(c->s, &req, id, parts, 3, etag);
	OK(rc == 0 && etag[0], "mpu: complete (rc %d)", rc);
	free(id);
	id = NULL;
	rc = head(c, key, &info);
	OK(rc == 0 && info.size == MPU_SIZE && strcmp(info.etag, etag) == 0 &&
		   meta_is(&info.meta, "mpu", "yes"),
	   "mpu: head has the size, the ETag of complete, begin's metadata");
	bfs_obj_info_release(&info);
	buf = bfs_xmalloc(MIB);
	for (size_t i = 0; i < BFS_ARRAY_SIZE(at); i++) {
		rc = bfs_store_read_full(c->s, key, at[i], 8, buf, &got, etag);
		if (rc != 0 || got != BFS_MIN(8, MPU_SIZE - at[i]) ||
		    memcmp(buf, data + at[i], got) != 0)
			same = false;
	}
	OK(same, "mpu: bytes around the part boundaries");
	same = true;
	for (size_t off = 0; off < MPU_SIZE && same; off += MIB) {
		rc = bfs_store_read_full(c->s, key, off, MIB, buf, &got, NULL);
		if (rc != 0 || got != BFS_MIN(MIB, MPU_SIZE - off) ||
		    memcmp(buf, data + off, got) != 0)
			same = false;
	}
	OK(same, "mpu: the whole object reads back");
	free(buf);
	for (int i = 0; i < READ_THREADS; i++) {
		rd[i] = (struct reader){.c = c,
					.key = key,
					.etag = etag,
					.want = data,
					.size = MPU_SIZE};
		if (pthread_create(&th[i], NULL, read_thread, &rd[i]) != 0)
			BFS_BUG("pthread_create");
	}
	for (int i = 0; i < READ_THREADS; i++) {
		pthread_join(th[i], NULL);
		bad += rd[i].bad;
	}
	OK(bad == 0, "get_range: %d threads at once on one object (%d bad)",
	   READ_THREADS, bad);

	req.key = gone;
	rc = c->s->mpu_begin(c->s, &req, &id);
	rc = rc ? rc : part(c, gone, id, 1, fd, 0, 1000, &parts[0]);
	rc = rc ? rc : c->s->mpu_abort(c->s, gone, id);
	OK(rc == 0, "mpu: begin, part, abort (rc %d)", rc);
	if (id) {
		rc = c->s->mpu_complete(c->s, &req, id, parts, 1, NULL);
		OK(rc == ENOENT, "mpu: complete after abort is ENOENT (rc %d)",
		   rc);
	}
	rc = head(c, gone, &info);
	OK(rc == ENOENT, "mpu: an aborted upload made no object (rc %d)", rc);
	bfs_obj_info_release(&info);
	free(id);
	id = NULL;

	if (c->s->caps & BFS_CAP_IF_NONE_MATCH) {
		req.key = key;
		req.if_none_match = true;
		rc = c->s->mpu_begin(c->s, &req, &id);
		rc = rc ? rc : part(c, key, id, 1, fd, 0, 1000, &parts[0]);
		rc = rc ? rc
			: c->s->mpu_complete(c->s, &req, id, parts, 1, NULL);
		OK(rc == EEXIST,
		   "mpu: complete with if_none_match on an existing key is "
		   "EEXIST (rc %d)",
		   rc);
		if (id)
			c->s->mpu_abort(c->s, key, id);
		OK(head(c, key, &info) == 0 && strcmp(info.etag, etag) == 0,
		   "mpu: the failed complete left the object alone");
		bfs_obj_info_release(&info);
		free(id);
		id = NULL;
	}
out:
	free(id);
	close(fd);
	free(data);
	bfs_meta_list_release(&meta);
}

static void cleanup(struct conf *c)
{
	struct coll l;
	int bad = 0;

	for (size_t i = 0; i < c->nkeys; i++) {
		if (c->s->del(c->s, c->keys[i]) != 0)
			bad++;
		free(c->keys[i]);
	}
	free(c->keys);
	c->keys = NULL;
	c->nkeys = 0;
	OK(bad == 0, "cleanup: every key deleted (%d failed)", bad);
	collect(c, c->prefix, NULL, NULL, 0, &l);
	OK(l.rc == 0 && l.nobjs == 0 && l.npfx == 0,
	   "cleanup: nothing left under the prefix (%zu keys)", l.nobjs);
	for (size_t i = 0; i < l.nobjs && i < 10; i++)
		bfs_conformance_diag("left: '%s'", l.objs[i]);
	coll_release(&l);
}

int bfs_store_conformance_flags(struct bfs_store *s, const char *prefix,
				unsigned flags)
{
	struct conf c = {.s = s, .prefix = prefix, .flags = flags};
	int failed = tap_failed;

	bfs_conformance_diag("store conformance on '%s' under '%s'", s->name,
			     prefix);
	basic(&c);
	conditional(&c);
	deletes(&c);
	copies(&c);
	listing(&c);
	keys(&c);
	multipart(&c);
	cleanup(&c);
	return tap_failed - failed;
}

int bfs_store_conformance(struct bfs_store *s, const char *prefix)
{
	return bfs_store_conformance_flags(s, prefix, 0);
}
