/*
 * metacache_dir.c - a directory's cached listing as a chain of pages:
 * "no such name" answered from it, our own writes amended into it (see
 * metacache_dir.h).
 */
#include "compat.h"

#include "cache/metacache_dir.h"

void bfs_mc_chain_add(struct bfs_mc_chain *c, struct bfs_list_result *res,
		      const char *token, uint64_t stamp)
{
	c->pages = bfs_xrealloc(c->pages, (c->n + 1) * sizeof(*c->pages));
	c->tokens = bfs_xrealloc(c->tokens, (c->n + 1) * sizeof(*c->tokens));
	c->stamps = bfs_xrealloc(c->stamps, (c->n + 1) * sizeof(*c->stamps));
	c->pages[c->n] = *res;
	memset(res, 0, sizeof(*res));
	c->tokens[c->n] = token ? bfs_xstrdup(token) : NULL;
	c->stamps[c->n] = stamp;
	c->n++;
}

void bfs_mc_chain_release(struct bfs_mc_chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		bfs_list_result_release(&c->pages[i]);
		free(c->tokens[i]);
	}
	free(c->pages);
	free(c->tokens);
	free(c->stamps);
	memset(c, 0, sizeof(*c));
}

bool bfs_mc_chain_complete(const struct bfs_mc_chain *c)
{
	return c->n > 0 && c->pages[c->n - 1].next_token == NULL;
}

bool bfs_mc_chain_has_prefix(const struct bfs_mc_chain *c,
			     const char *name_prefix)
{
	size_t len = strlen(name_prefix);

	for (size_t i = 0; i < c->n; i++) {
		const struct bfs_list_result *r = &c->pages[i];

		for (size_t j = 0; j < r->nobjs; j++)
			if (strncmp(r->objs[j].key, name_prefix, len) == 0)
				return true;
		for (size_t j = 0; j < r->nprefixes; j++)
			if (strncmp(r->prefixes[j], name_prefix, len) == 0)
				return true;
	}
	return false;
}

const struct bfs_obj_info *bfs_mc_chain_find(const struct bfs_mc_chain *c,
					     const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->pages[i].nobjs; j++)
			if (strcmp(c->pages[i].objs[j].key, key) == 0)
				return &c->pages[i].objs[j];
	return NULL;
}

/* The greatest name of a page, or NULL if it has none. */
static const char *page_last(const struct bfs_list_result *r)
{
	const char *a = r->nobjs ? r->objs[r->nobjs - 1].key : NULL;
	const char *b = r->nprefixes ? r->prefixes[r->nprefixes - 1] : NULL;

	if (!a)
		return b;
	if (!b)
		return a;
	return strcmp(a, b) > 0 ? a : b;
}

/* The page a new name belongs in: the first whose range reaches it. */
static struct bfs_list_result *page_for(struct bfs_mc_chain *c,
					const char *name)
{
	for (size_t i = 0; i + 1 < c->n; i++) {
		const char *last = page_last(&c->pages[i]);

		if (last && strcmp(name, last) <= 0)
			return &c->pages[i];
	}
	return &c->pages[c->n - 1];
}

static void add_object(struct bfs_mc_chain *c, const char *key,
		       const struct bfs_obj_info *made)
{
	struct bfs_list_result *r;
	struct bfs_obj_info *o = NULL;
	size_t at;

	for (size_t i = 0; i < c->n && !o; i++)
		for (size_t j = 0; j < c->pages[i].nobjs && !o; j++)
			if (strcmp(c->pages[i].objs[j].key, key) == 0)
				o = &c->pages[i].objs[j];
	if (o == NULL) {
		r = page_for(c, key);
		for (at = 0; at < r->nobjs; at++)
			if (strcmp(r->objs[at].key, key) > 0)
				break;
		r->objs = bfs_xrealloc(r->objs,
				       (r->nobjs + 1) * sizeof(*r->objs));
		memmove(&r->objs[at + 1], &r->objs[at],
			(r->nobjs - at) * sizeof(*r->objs));
		r->nobjs++;
		o = &r->objs[at];
		memset(o, 0, sizeof(*o));
		o->key = bfs_xstrdup(key);
	}
	/* what a listing shows of an object: no user metadata */
	o->size = made->size;
	snprintf(o->etag, sizeof(o->etag), "%s", made->etag);
	o->mtime = made->mtime;
}

static void remove_object(struct bfs_mc_chain *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++) {
		struct bfs_list_result *r = &c->pages[i];

		for (size_t j = 0; j < r->nobjs; j++) {
			if (strcmp(r->objs[j].key, key) != 0)
				continue;
			bfs_obj_info_release(&r->objs[j]);
			memmove(&r->objs[j], &r->objs[j + 1],
				(r->nobjs - j - 1) * sizeof(*r->objs));
			r->nobjs--;
			return;
		}
	}
}

static void add_prefix(struct bfs_mc_chain *c, const char *prefix)
{
	struct bfs_list_result *r;
	size_t at;

	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < c->pages[i].nprefixes; j++)
			if (strcmp(c->pages[i].prefixes[j], prefix) == 0)
				return;
	r = page_for(c, prefix);
	for (at = 0; at < r->nprefixes; at++)
		if (strcmp(r->prefixes[at], prefix) > 0)
			break;
	r->prefixes = bfs_xrealloc(r->prefixes,
				   (r->nprefixes + 1) * sizeof(*r->prefixes));
	memmove(&r->prefixes[at + 1], &r->prefixes[at],
		(r->nprefixes - at) * sizeof(*r->prefixes));
	r->prefixes[at] = bfs_xstrdup(prefix);
	r->nprefixes++;
}

/* Entries of the chain. */
static size_t chain_entries(const struct bfs_mc_chain *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->pages[i].nobjs + c->pages[i].nprefixes;
	return n;
}

bool bfs_mc_chain_small(const struct bfs_mc_chain *c)
{
	return c->n == 1 && bfs_mc_chain_complete(c) &&
	       chain_entries(c) <= BFS_MC_RELIST_MAX;
}

bool bfs_mc_chain_amend(struct bfs_mc_chain *c, const char *dir,
			const char *key, const struct bfs_obj_info *made)
{
	size_t dlen = strlen(dir);
	const char *slash;
	char *prefix;

	if (c->n == 0 || strncmp(key, dir, dlen) != 0)
		return false;
	/* each amend writes the whole listing again: past this, the
	 * bytes written per file would outweigh the request saved */
	if (made && chain_entries(c) >= BFS_MC_CHAIN_MAX)
		return false;
	slash = strchr(key + dlen, '/');
	if (slash == NULL) {
		/* an object of the directory itself (its marker, key ==
		 * dir, included) */
		if (made)
			add_object(c, key, made);
		else
			remove_object(c, key);
		return true;
	}
	/* below a subdirectory: the listing shows its common prefix */
	if (!made)
		return false; /* is anything left below it? unknown */
	prefix = bfs_xstrndup(key, (size_t)(slash - key) + 1);
	add_prefix(c, prefix);
	free(prefix);
	return true;
}
