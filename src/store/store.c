/*
 * store.c - helpers shared by every store driver and by the store's
 * callers: object info and metadata lists, full reads, full listings.
 */
#include "compat.h"

#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "store/store.h"

void bfs_meta_list_release(struct bfs_meta_list *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].name);
		free(m->items[i].value);
	}
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

void bfs_meta_list_copy(struct bfs_meta_list *dst,
			const struct bfs_meta_list *src)
{
	dst->items = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		bfs_meta_set(dst, src->items[i].name, src->items[i].value);
}

const char *bfs_meta_get(const struct bfs_meta_list *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->items[i].name, name) == 0)
			return m->items[i].value;
	return NULL;
}

void bfs_meta_set(struct bfs_meta_list *m, const char *name, const char *value)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcasecmp(m->items[i].name, name) == 0) {
			free(m->items[i].value);
			m->items[i].value = bfs_xstrdup(value);
			return;
		}
	}
	m->items = bfs_xrealloc(m->items, (m->n + 1) * sizeof(*m->items));
	m->items[m->n].name = bfs_xstrdup(name);
	m->items[m->n].value = bfs_xstrdup(value);
	m->n++;
}

int bfs_meta_remove(struct bfs_meta_list *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcasecmp(m->items[i].name, name) == 0) {
			free(m->items[i].name);
			free(m->items[i].value);
			m->items[i] = m->items[m->n - 1];
			m->n--;
			return 0;
		}
	}
	return ENOENT;
}

void bfs_obj_info_release(struct bfs_obj_info *info)
{
	free(info->key);
	info->key = NULL;
	bfs_meta_list_release(&info->meta);
}

void bfs_obj_info_copy(struct bfs_obj_info *dst, const struct bfs_obj_info *src)
{
	*dst = *src;
	dst->key = src->key ? bfs_xstrdup(src->key) : NULL;
	bfs_meta_list_copy(&dst->meta, &src->meta);
}

void bfs_list_result_release(struct bfs_list_result *res)
{
	for (size_t i = 0; i < res->nobjs; i++)
		bfs_obj_info_release(&res->objs[i]);
	free(res->objs);
	for (size_t i = 0; i < res->nprefixes; i++)
		free(res->prefixes[i]);
	free(res->prefixes);
	free(res->next_token);
	memset(res, 0, sizeof(*res));
}

bool bfs_store_is(const struct bfs_store *s, const char *kind)
{
	return s && s->kind && strcmp(s->kind, kind) == 0;
}

struct bfs_store *bfs_store_layer(struct bfs_store *s, const char *kind)
{
	for (; s; s = s->inner)
		if (bfs_store_is(s, kind))
			return s;
	return NULL;
}

/* ---- pass-through operations of a decorating layer ---- */

int bfs_store_start_inner(struct bfs_store *s)
{
	return s->inner->start ? s->inner->start(s->inner) : 0;
}

void bfs_store_shutdown_inner(struct bfs_store *s)
{
	if (s->inner->shutdown)
		s->inner->shutdown(s->inner);
}

static int pass_head(struct bfs_store *s, const char *key,
		     struct bfs_obj_info *out)
{
	return s->inner->head(s->inner, key, out);
}

static int pass_head_read(struct bfs_store *s, const char *key,
			  const char *known, struct bfs_obj_info *out,
			  void *buf, size_t len, size_t *got)
{
	return s->inner->head_read(s->inner, key, known, out, buf, len, got);
}

static int pass_tail_read(struct bfs_store *s, const char *key,
			  struct bfs_obj_info *out, void *buf, size_t len,
			  size_t *got)
{
	return s->inner->tail_read(s->inner, key, out, buf, len, got);
}

static int pass_get_range(struct bfs_store *s, const char *key, uint64_t off,
			  size_t len, void *buf, size_t *got,
			  const char *if_match)
{
	return s->inner->get_range(s->inner, key, off, len, buf, got, if_match);
}

static int pass_get_range_parts(struct bfs_store *s, const char *key,
				uint64_t off, size_t len, void *buf,
				size_t *got, const char *if_match,
				struct bfs_file_parts *parts)
{
	return s->inner->get_range_parts(s->inner, key, off, len, buf, got,
					 if_match, parts);
}

static int pass_put(struct bfs_store *s, const struct bfs_put_req *req,
		    char *etag_out)
{
	return s->inner->put(s->inner, req, etag_out);
}

static int pass_del(struct bfs_store *s, const char *key)
{
	return s->inner->del(s->inner, key);
}

static int pass_copy(struct bfs_store *s, const char *src, const char *dst,
		     const struct bfs_meta_list *meta, const char *if_match,
		     char *etag_out)
{
	return s->inner->copy(s->inner, src, dst, meta, if_match, etag_out);
}

static int pass_list(struct bfs_store *s, const struct bfs_list_req *req,
		     struct bfs_list_result *out)
{
	return s->inner->list(s->inner, req, out);
}

static int pass_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			  char **upload_id)
{
	return s->inner->mpu_begin(s->inner, req, upload_id);
}

static int pass_mpu_part(struct bfs_store *s, const char *key,
			 const char *upload_id, int number, int fd, off_t off,
			 size_t len, char *etag_out)
{
	return s->inner->mpu_part(s->inner, key, upload_id, number, fd, off,
				  len, etag_out);
}

static int pass_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			     const char *upload_id,
			     const struct bfs_part *parts, size_t nparts,
			     char *etag_out)
{
	return s->inner->mpu_complete(s->inner, req, upload_id, parts, nparts,
				      etag_out);
}

static int pass_mpu_abort(struct bfs_store *s, const char *key,
			  const char *upload_id)
{
	return s->inner->mpu_abort(s->inner, key, upload_id);
}

static int pass_warm(struct bfs_store *s, const char *key, const char *etag,
		     uint64_t off, uint64_t len)
{
	return s->inner->warm(s->inner, key, etag, off, len);
}

/* a layer that counts no requests of its own shows its driver's */
static void pass_get_stats(struct bfs_store *s, struct bfs_store_stats *out)
{
	if (s->inner->get_stats)
		s->inner->get_stats(s->inner, out);
	else
		memset(out, 0, sizeof(*out));
}

#define FILL(op, pass)                                                         \
	do {                                                                   \
		if (!s->op)                                                    \
			s->op = pass;                                          \
	} while (0)

void bfs_store_decorate(struct bfs_store *s, void *priv,
			struct bfs_store *inner, const char *kind,
			const char *suffix)
{
	s->priv = priv;
	s->name = bfs_xasprintf("%s+%s", inner->name, suffix);
	s->kind = kind;
	s->caps = inner->caps;
	s->inner = inner;
	if (inner->start)
		FILL(start, bfs_store_start_inner);
	if (!s->head && inner->head_read)
		FILL(head_read, pass_head_read);
	if (!s->head && inner->tail_read)
		FILL(tail_read, pass_tail_read);
	FILL(head, pass_head);
	/* bytes left in files would bypass a layer's own get_range */
	if (!s->get_range && inner->get_range_parts)
		FILL(get_range_parts, pass_get_range_parts);
	FILL(get_range, pass_get_range);
	FILL(put, pass_put);
	FILL(del, pass_del);
	FILL(copy, pass_copy);
	FILL(list, pass_list);
	/* a layer over a store without multipart has none either */
	if (inner->mpu_begin) {
		FILL(mpu_begin, pass_mpu_begin);
		FILL(mpu_part, pass_mpu_part);
		FILL(mpu_complete, pass_mpu_complete);
		FILL(mpu_abort, pass_mpu_abort);
	} else {
		s->mpu_begin = NULL;
		s->mpu_part = NULL;
		s->mpu_complete = NULL;
		s->mpu_abort = NULL;
	}
	if (inner->warm)
		FILL(warm, pass_warm);
	if (inner->shutdown)
		FILL(shutdown, bfs_store_shutdown_inner);
	FILL(get_stats, pass_get_stats);
}

#undef FILL

void bfs_store_undecorate(struct bfs_store *s)
{
	s->inner->destroy(s->inner);
	s->inner = NULL;
	free((char *)s->name);
	s->name = NULL;
}

int bfs_store_head_read(struct bfs_store *s, const char *key, const char *known,
			struct bfs_obj_info *out, void *buf, size_t len,
			size_t *got)
{
	if (got)
		*got = 0;
	if (s->head_read)
		return s->head_read(s, key, known, out, buf, len, got);
	return s->head(s, key, out);
}

/* get_range (parts NULL) or get_range_parts until len bytes or the end,
 * each part's place moved to where its call's bytes go in buf. */
static int read_loop(struct bfs_store *s, const char *key, uint64_t off,
		     size_t len, void *buf, size_t *got, const char *if_match,
		     struct bfs_file_parts *parts)
{
	size_t done = 0;
	int rc = 0;

	while (done < len) {
		unsigned had = parts ? parts->n : 0;
		size_t n = 0;

		if (parts)
			rc = s->get_range_parts(s, key, off + done, len - done,
						(char *)buf + done, &n,
						if_match, parts);
		else
			rc = s->get_range(s, key, off + done, len - done,
					  (char *)buf + done, &n, if_match);
		for (unsigned i = had; parts && i < parts->n; i++)
			parts->v[i].at += done;
		if (rc == ERANGE && done > 0)
			rc = 0;
		if (rc != 0 || n == 0)
			break;
		done += n;
	}
	*got = done;
	return rc;
}

int bfs_store_read_full(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	return read_loop(s, key, off, len, buf, got, if_match, NULL);
}

void bfs_file_parts_close(struct bfs_file_parts *parts)
{
	for (unsigned i = 0; i < parts->n; i++)
		close(parts->v[i].fd);
	parts->n = 0;
}

int bfs_store_read_parts(struct bfs_store *s, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got,
			 const char *if_match, struct bfs_file_parts *parts)
{
	int rc;

	parts->n = 0;
	rc = read_loop(s, key, off, len, buf, got, if_match,
		       s->get_range_parts ? parts : NULL);
	if (rc != 0)
		bfs_file_parts_close(parts);
	return rc;
}

/*
 * One code point of a UTF-8 string at *s, advancing *s; a byte that does
 * not start a valid sequence stands for itself (keys from XML are valid
 * UTF-8, so this only keeps the loop total).
 */
static uint32_t next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t cp;
	int n, i;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		cp = p[0] & 0x1f;
		n = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		cp = p[0] & 0x0f;
		n = 2;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		cp = p[0] & 0x07;
		n = 3;
	} else {
		*s = p + 1;
		return p[0];
	}
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s = p + 1;
			return p[0];
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	*s = p + n + 1;
	return cp;
}

/*
 * strcmp in UTF-16 code-unit order, the order of servers written in
 * JavaScript or Java (s3rver): a code point past U+FFFF travels as a
 * surrogate pair (0xD800...), so it sorts before U+E000..U+FFFF there
 * and after them in UTF-8 byte order.
 */
static int utf16_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x && *y) {
		uint32_t ca = next_cp(&x), cb = next_cp(&y);
		uint32_t ua =
			ca < 0x10000 ? ca : 0xd800 + ((ca - 0x10000) >> 10);
		uint32_t ub =
			cb < 0x10000 ? cb : 0xd800 + ((cb - 0x10000) >> 10);

		if (ua != ub)
			return ua < ub ? -1 : 1;
		if (ca != cb) /* one high surrogate: the low ones decide */
			return ca < cb ? -1 : 1;
	}
	return (*x != 0) - (*y != 0);
}

/*
 * Whether name a comes after b in the order of S3 listings. S3 lists in
 * UTF-8 byte order; some servers in UTF-16 order (see utf16_cmp). Either
 * counts as progress: only a page that ends at or before the previous one
 * in both orders is a server going round in circles.
 */
static bool name_after(const char *a, const char *b)
{
	return strcmp(a, b) > 0 || utf16_cmp(a, b) > 0;
}

/* The greatest name of a page: objects and prefixes each come in listing
 * order, so it is the last of one of them. NULL for an empty page. */
static const char *page_last(const struct bfs_list_result *res)
{
	const char *a = res->nobjs ? res->objs[res->nobjs - 1].key : NULL;
	const char *b =
		res->nprefixes ? res->prefixes[res->nprefixes - 1] : NULL;

	if (!a)
		return b;
	if (!b)
		return a;
	return strcmp(a, b) > 0 ? a : b;
}

static size_t page_bytes(const struct bfs_list_result *res)
{
	size_t n = 0;

	for (size_t i = 0; i < res->nobjs; i++)
		n += strlen(res->objs[i].key);
	for (size_t i = 0; i < res->nprefixes; i++)
		n += strlen(res->prefixes[i]);
	return n;
}

struct list_state {
	unsigned pages, empty;
	uint64_t entries, bytes;
	char *last;	  /* greatest name so far, or NULL */
	unsigned foreign; /* names outside the prefix, skipped */
	char *foreign_eg; /* the first of them */
};

/*
 * Whether a listed name lies under the prefix asked for: an object at or
 * below it, a common prefix below it. A server that answers others is
 * at fault, and every caller cuts the prefix off a name, so they are
 * skipped here (counted, logged once at the end of the listing).
 */
static bool under(const char *prefix, size_t plen, const char *name,
		  bool is_prefix, struct list_state *st)
{
	if (strncmp(name, prefix ? prefix : "", plen) == 0 &&
	    (!is_prefix || strlen(name) > plen))
		return true;
	if (st->foreign++ == 0) {
		st->foreign_eg = bfs_xstrndup(name, 200);
		for (char *c = st->foreign_eg; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = '?'; /* one log line stays one line */
	}
	return false;
}

/*
 * Is this page a sign of a listing that never ends? Logs the fault once
 * and returns EIO, else 0 and advances the counters in *st.
 */
static int page_check(struct bfs_store *s, const char *prefix,
		      const struct bfs_list_limits *lim, const char *sent,
		      const struct bfs_list_result *res, struct list_state *st)
{
	const char *last = page_last(res);
	const char *name = s->name ? s->name : "store";

	st->pages++;
	st->entries += res->nobjs + res->nprefixes;
	st->bytes += page_bytes(res);
	if (res->next_token && sent && strcmp(res->next_token, sent) == 0) {
		bfs_log(LOG_ERR,
			"%s: listing of '%s' refused: the server answered "
			"page %u with the continuation token it was sent, so "
			"its listing never ends (a server fault)",
			name, prefix, st->pages);
		return EIO;
	}
	if (last && st->last && !name_after(last, st->last)) {
		bfs_log(LOG_ERR,
			"%s: listing of '%s' refused: page %u ends at '%s', "
			"not after the previous page's '%s', so the server "
			"repeats itself (a server fault)",
			name, prefix, st->pages, last, st->last);
		return EIO;
	}
	st->empty = last ? 0 : st->empty + 1;
	if (!res->next_token)
		goto advance;
	if (st->entries > lim->max_entries || st->bytes > lim->max_bytes ||
	    st->pages >= lim->max_pages || st->empty >= lim->max_empty) {
		bfs_log(LOG_ERR,
			"%s: listing of '%s' refused after %u pages, %llu "
			"entries, %llu bytes of names%s: past the bound of %u "
			"pages, %u entries, %llu bytes, %u empty pages in a "
			"row (a server that never ends its listing, or a "
			"directory too large to hold)",
			name, prefix, st->pages,
			(unsigned long long)st->entries,
			(unsigned long long)st->bytes,
			st->empty ? " (the last ones empty)" : "",
			lim->max_pages, lim->max_entries,
			(unsigned long long)lim->max_bytes, lim->max_empty);
		return EIO;
	}
advance:
	if (last) {
		free(st->last);
		st->last = bfs_xstrdup(last);
	}
	return 0;
}

int bfs_store_list_bounded(struct bfs_store *s, const char *prefix,
			   const char *delimiter,
			   const struct bfs_list_limits *limits, bfs_list_fn fn,
			   void *arg)
{
	struct bfs_list_req req = {.prefix = prefix, .delimiter = delimiter};
	struct bfs_list_limits lim =
		limits ? *limits : (struct bfs_list_limits){0};
	struct list_state st = {0};
	char *token = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;
	int rc;

	if (!lim.max_entries)
		lim.max_entries = BFS_LIST_MAX_ENTRIES;
	if (!lim.max_bytes)
		lim.max_bytes = BFS_LIST_MAX_BYTES;
	if (!lim.max_pages)
		lim.max_pages = BFS_LIST_MAX_PAGES;
	if (!lim.max_empty)
		lim.max_empty = BFS_LIST_MAX_EMPTY;
	for (;;) {
		struct bfs_list_result res = {0};

		req.token = token;
		rc = s->list(s, &req, &res);
		if (rc == 0)
			rc = page_check(s, prefix ? prefix : "", &lim, token,
					&res, &st);
		free(token);
		token = NULL;
		if (rc != 0) {
			bfs_list_result_release(&res);
			break;
		}
		for (size_t i = 0; i < res.nobjs && rc == 0; i++)
			if (under(prefix, plen, res.objs[i].key, false, &st))
				rc = fn(arg, &res.objs[i], NULL);
		for (size_t i = 0; i < res.nprefixes && rc == 0; i++)
			if (under(prefix, plen, res.prefixes[i], true, &st))
				rc = fn(arg, NULL, res.prefixes[i]);
		token = res.next_token;
		res.next_token = NULL;
		bfs_list_result_release(&res);
		if (rc != 0 || token == NULL)
			break;
	}
	free(token);
	if (st.foreign)
		bfs_log(LOG_WARNING,
			"%s: listing of '%s': skipped %u names that are not "
			"under it, such as '%s' (a server fault)",
			s->name ? s->name : "store", prefix ? prefix : "",
			st.foreign, st.foreign_eg);
	free(st.last);
	free(st.foreign_eg);
	return rc;
}

int bfs_store_list_all(struct bfs_store *s, const char *prefix,
		       const char *delimiter, bfs_list_fn fn, void *arg)
{
	return bfs_store_list_bounded(s, prefix, delimiter, NULL, fn, arg);
}
