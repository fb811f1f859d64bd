/*
 * bucket_tables.c - Bucket Tables catalogs (see bucket_tables.h).
 */
#include "compat.h"

#include <pthread.h>
#include <time.h>

#include "catalog/bucket_tables.h"
#include "catalog/glob.h"
#include "log.h"

struct bt_file {
	char *sub;		  /* path shown below the table directory */
	struct bfs_obj_info info; /* info.key is the real key */
};

struct bt_table {
	char *name;
	char *pattern;
	size_t fixed; /* bfs_glob_fixed_len(pattern) */
	pthread_mutex_t lock;
	/* protected by lock */
	bool listed;
	struct timespec listed_at;
	struct bt_file *files; /* sorted by sub */
	size_t nfiles;
};

struct bucket_tables {
	struct bfs_ns ns; /* first */
	char *name;
	struct bfs_store *store;
	double ttl;
	struct bt_table *tables;
	size_t ntables;
};

static struct bucket_tables *bt_of(struct bfs_ns *ns)
{
	return (struct bucket_tables *)ns;
}

static void free_files(struct bt_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].sub);
		bfs_obj_info_release(&files[i].info);
	}
	free(files);
}

struct gather {
	const struct bt_table *t;
	struct bt_file *files;
	size_t n;
};

static int gather_one(void *arg, const struct bfs_obj_info *obj,
		      const char *prefix)
{
	struct gather *g = arg;
	const char *sub;
	size_t len;

	if (obj == NULL || !bfs_glob_match(g->t->pattern, obj->key))
		return 0;
	len = strlen(obj->key);
	if (len > 0 && obj->key[len - 1] == '/')
		return 0; /* directory markers are not table files */
	sub = obj->key + BFS_MIN(g->t->fixed, len);
	if (*sub == '/')
		sub++;
	if (*sub == '\0') {
		/* the pattern names this very key: show its basename */
		const char *slash = strrchr(obj->key, '/');

		sub = slash ? slash + 1 : obj->key;
	}
	g->files = bfs_xrealloc(g->files, (g->n + 1) * sizeof(*g->files));
	g->files[g->n].sub = bfs_xstrdup(sub);
	bfs_obj_info_copy(&g->files[g->n].info, obj);
	g->n++;
	return 0;
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp(((const struct bt_file *)a)->sub,
		      ((const struct bt_file *)b)->sub);
}

static double elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	       (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* Make t's listing fresh; t->lock held. */
static int refresh(struct bucket_tables *bt, struct bt_table *t)
{
	struct gather g = {.t = t};
	char *prefix;
	int rc;

	if (t->listed && elapsed(&t->listed_at) < bt->ttl)
		return 0;
	prefix = bfs_xstrndup(t->pattern, t->fixed);
	rc = bfs_store_list_all(bt->store, prefix, NULL, gather_one, &g);
	free(prefix);
	if (rc != 0) {
		bfs_log(LOG_ERR, "catalog '%s': cannot list table '%s': %s",
			bt->name, t->name, strerror(rc));
		free_files(g.files, g.n);
		return rc;
	}
	if (g.n > 1)
		qsort(g.files, g.n, sizeof(*g.files), cmp_sub);
	free_files(t->files, t->nfiles);
	t->files = g.files;
	t->nfiles = g.n;
	t->listed = true;
	clock_gettime(CLOCK_MONOTONIC, &t->listed_at);
	return 0;
}

/* First file whose sub is >= s. */
static size_t lower_bound(const struct bt_table *t, const char *s)
{
	size_t lo = 0, hi = t->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->files[mid].sub, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void dir_node(struct bucket_tables *bt, struct bt_table *t,
		     const char *sub, struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = &bt->ns;
	out->key = bfs_xstrdup(sub);
	out->type = BFS_NODE_DIR;
	out->ns_data = t;
}

static void file_node(struct bucket_tables *bt, struct bt_table *t,
		      const struct bt_file *f, struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = &bt->ns;
	out->store = bt->store;
	out->key = bfs_xstrdup(f->info.key);
	out->type = BFS_NODE_FILE;
	out->have_info = true;
	bfs_obj_info_copy(&out->info, &f->info);
	free(out->info.key);
	out->info.key = NULL;
	out->ns_data = t;
}

static int bt_lookup(struct bfs_ns *ns, const struct bfs_node *dir,
		     const char *name, struct bfs_node *out)
{
	struct bucket_tables *bt = bt_of(ns);
	struct bt_table *t = (struct bt_table *)dir->ns_data;
	char *path = bfs_xasprintf("%s%s", dir->key, name);
	size_t plen = strlen(path);
	size_t i;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&t->lock));
	rc = refresh(bt, t);
	if (rc != 0)
		goto out;
	rc = ENOENT;
	for (i = lower_bound(t, path); i < t->nfiles; i++) {
		const char *sub = t->files[i].sub;

		if (strncmp(sub, path, plen) != 0)
			break;
		if (sub[plen] == '/') {
			char *d = bfs_xasprintf("%s/", path);

			if (rc == 0)
				bfs_node_release(out);
			dir_node(bt, t, d, out);
			free(d);
			rc = 0;
			break;
		}
		if (sub[plen] == '\0' && rc == ENOENT) {
			file_node(bt, t, &t->files[i], out);
			rc = 0;
			/* keep looking: a directory of that name wins */
			continue;
		}
	}
out:
	BFS_PCHECK(pthread_mutex_unlock(&t->lock));
	free(path);
	return rc;
}

static int bt_readdir(struct bfs_ns *ns, const struct bfs_node *dir,
		      bfs_ns_dirent_fn fn, void *arg)
{
	struct bucket_tables *bt = bt_of(ns);
	struct bt_table *t = (struct bt_table *)dir->ns_data;
	size_t plen = strlen(dir->key);
	char *last_dir = NULL;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&t->lock));
	rc = refresh(bt, t);
	for (size_t i = lower_bound(t, dir->key); rc == 0 && i < t->nfiles;
	     i++) {
		const char *sub = t->files[i].sub;
		const char *rest, *slash;
		struct bfs_node node;

		if (strncmp(sub, dir->key, plen) != 0)
			break;
		rest = sub + plen;
		slash = strchr(rest, '/');
		if (slash) {
			size_t n = (size_t)(slash - rest);
			char *name = bfs_xstrndup(rest, n);
			char *d;

			if (last_dir && strcmp(last_dir, name) == 0) {
				free(name);
				continue;
			}
			if (bfs_ns_name_valid(name) != 0) {
				free(name);
				continue;
			}
			free(last_dir);
			last_dir = name;
			d = bfs_xasprintf("%s%s/", dir->key, name);
			dir_node(bt, t, d, &node);
			free(d);
			rc = fn(arg, name, &node);
			bfs_node_release(&node);
		} else {
			if (bfs_ns_name_valid(rest) != 0)
				continue;
			file_node(bt, t, &t->files[i], &node);
			rc = fn(arg, rest, &node);
			bfs_node_release(&node);
		}
	}
	BFS_PCHECK(pthread_mutex_unlock(&t->lock));
	free(last_dir);
	return rc;
}

static void bt_destroy(struct bfs_ns *ns)
{
	struct bucket_tables *bt = bt_of(ns);

	for (size_t i = 0; i < bt->ntables; i++) {
		struct bt_table *t = &bt->tables[i];

		free(t->name);
		free(t->pattern);
		free_files(t->files, t->nfiles);
		BFS_PCHECK(pthread_mutex_destroy(&t->lock));
	}
	free(bt->tables);
	free(bt->name);
	free(bt);
}

static const struct bfs_ns_ops bt_ops = {
	.lookup = bt_lookup,
	.readdir = bt_readdir,
	.destroy = bt_destroy,
};

struct bfs_ns *bfs_bucket_tables_create(const struct bfs_catalog_conf *conf,
					struct bfs_store *store, double ttl,
					char *err, size_t errlen)
{
	struct bucket_tables *bt;
	char why[256];

	for (size_t i = 0; i < conf->ntables; i++) {
		if (bfs_glob_check(conf->tables[i].pattern, why, sizeof(why)) !=
		    0) {
			snprintf(err, errlen, "catalog '%s': table '%s': %s",
				 conf->name, conf->tables[i].name, why);
			errno = EINVAL;
			return NULL;
		}
	}
	bt = bfs_xcalloc(1, sizeof(*bt));
	bt->ns.ops = &bt_ops;
	bt->name = bfs_xstrdup(conf->name);
	bt->ns.name = bt->name;
	bt->store = store;
	bt->ttl = ttl;
	bt->tables = bfs_xcalloc(conf->ntables, sizeof(*bt->tables));
	bt->ntables = conf->ntables;
	for (size_t i = 0; i < conf->ntables; i++) {
		struct bt_table *t = &bt->tables[i];
		const char *pfx = conf->prefix ? conf->prefix : "";

		t->name = bfs_xstrdup(conf->tables[i].name);
		t->pattern =
			bfs_xasprintf("%s%s", pfx, conf->tables[i].pattern);
		t->fixed = bfs_glob_fixed_len(t->pattern);
		BFS_PCHECK(pthread_mutex_init(&t->lock, NULL));
	}
	return &bt->ns;
}

void bfs_bucket_tables_add_tables(struct bfs_ns *ns, struct bfs_vdir *root)
{
	struct bucket_tables *bt = bt_of(ns);

	for (size_t i = 0; i < bt->ntables; i++) {
		struct bfs_node node;

		dir_node(bt, &bt->tables[i], "", &node);
		bfs_vdir_add(root, bt->tables[i].name, &node);
		bfs_node_release(&node);
	}
}
