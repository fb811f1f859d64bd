/*
 * store.c - helpers shared by every store driver and by the store's
 * callers: object info and metadata lists, full reads, full listings.
 */
#include "compat.h"

#include <strings.h>

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

int bfs_store_list_all(struct bfs_store *s, const char *prefix,
		       const char *delimiter, bfs_list_fn fn, void *arg)
{
	struct bfs_list_req req = {.prefix = prefix, .delimiter = delimiter};
	char *token = NULL;
	int rc;

	for (;;) {
		struct bfs_list_result res = {0};

		req.token = token;
		rc = s->list(s, &req, &res);
		free(token);
		token = NULL;
		if (rc != 0)
			return rc;
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
	return rc;
}
