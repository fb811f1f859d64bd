/*
 * store.c - helpers shared by every store driver and by the store's
 * callers: object info and metadata lists, full reads, full listings.
 */
#include "compat.h"

#include <strings.h>

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

int bfs_store_read_full(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	size_t done = 0;
	int rc = 0;

	while (done < len) {
		size_t n = 0;

		rc = s->get_range(s, key, off + done, len - done,
				  (char *)buf + done, &n, if_match);
		if (rc == ERANGE && done > 0)
			rc = 0;
		if (rc != 0 || n == 0)
			break;
		done += n;
	}
	*got = done;
	return rc;
}

/* The greatest name of a page: objects and prefixes each come in byte
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

/*
 * Is this page a sign of a listing that never ends? Logs the fault once
 * and returns EIO, else 0 and advances the counters in *st.
 */
struct list_state {
	unsigned pages, empty;
	uint64_t entries, bytes;
	char *last; /* greatest name so far, or NULL */
};

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
	if (last && st->last && strcmp(last, st->last) <= 0) {
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
			rc = fn(arg, &res.objs[i], NULL);
		for (size_t i = 0; i < res.nprefixes && rc == 0; i++)
			rc = fn(arg, NULL, res.prefixes[i]);
		token = res.next_token;
		res.next_token = NULL;
		bfs_list_result_release(&res);
		if (rc != 0 || token == NULL)
			break;
	}
	free(token);
	free(st.last);
	return rc;
}

int bfs_store_list_all(struct bfs_store *s, const char *prefix,
		       const char *delimiter, bfs_list_fn fn, void *arg)
{
	return bfs_store_list_bounded(s, prefix, delimiter, NULL, fn, arg);
}
