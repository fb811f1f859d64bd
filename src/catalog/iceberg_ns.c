/*
 * iceberg_ns.c - Iceberg catalogs in the mount (see iceberg_ns.h).
 *
 * Virtual directories carry no store and a key of ours:
 *   "N<rel>"          the catalog root ("N") or a namespace ("Nsales/")
 *   "T"               a table (ns_data: the table)
 *   "L"               its snapshots/ (ns_data: the table)
 *   "C<id>|<sub>"     a snapshot's data tree; id "" is current/
 *   "D<id>|<sub>"     the same snapshot's .deletes/ tree
 * Files carry the store, the real key, and as ns_data the resolved file
 * (kept until unmount).
 */
#include "compat.h"

#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include "catalog/ice_resolve.h"
#include "catalog/iceberg_ns.h"
#include "log.h"

#define MAX_DEPTH 8

struct ice_snapfiles {
	int64_t id;
	int rc;
	char err[512];
	struct bfs_ice_file *files;
	size_t n;
	struct bfs_ice_file **data; /* sorted by sub */
	size_t ndata;
	struct bfs_ice_file **dels; /* sorted by sub */
	size_t ndels;
};

struct ice_table {
	char *prefix; /* the table's key prefix, ending in '/' */
	char *rel;    /* below the catalog prefix, ending in '/' */
	pthread_mutex_t lock;
	/* protected by lock */
	bool loaded;
	struct timespec loaded_at;
	int meta_rc;
	char err[512];
	struct bfs_ice_meta meta;
	struct ice_snapfiles **snaps; /* resolved, kept until unmount */
	size_t nsnaps;
};

struct ice_cat {
	struct bfs_ns ns; /* first */
	char *name;
	struct bfs_store *store;
	struct bfs_ns *raw;
	/* other buckets of the mount, by the names a URI may give them */
	char **bucket_names;
	struct bfs_store **bucket_stores;
	size_t nbuckets;
	char *prefix;
	double ttl;
	pthread_mutex_t lock;
	/* protected by lock; tables are never freed before unmount */
	bool discovered;
	struct timespec discovered_at;
	struct ice_table **tables;
	size_t ntables;
};

static struct ice_cat *cat_of(struct bfs_ns *ns)
{
	return (struct ice_cat *)ns;
}

static double age(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* ---- discovery ---- */

struct walk_ctx {
	struct ice_cat *c;
	char **dirs;
	size_t ndirs;
	bool has_metadata;
	const char *base;
};

static int walk_entry(void *arg, const struct bfs_obj_info *obj,
		      const char *prefix)
{
	struct walk_ctx *w = arg;
	const char *name;

	if (prefix == NULL)
		return 0;
	name = prefix + strlen(w->base);
	if (strcmp(name, "metadata/") == 0)
		w->has_metadata = true;
	w->dirs = bfs_xrealloc(w->dirs, (w->ndirs + 1) * sizeof(char *));
	w->dirs[w->ndirs++] = bfs_xstrdup(prefix);
	return 0;
}

static struct ice_table *find_table(struct ice_cat *c, const char *prefix)
{
	for (size_t i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i]->prefix, prefix) == 0)
			return c->tables[i];
	return NULL;
}

static void add_table(struct ice_cat *c, const char *prefix)
{
	struct ice_table *t;

	if (find_table(c, prefix))
		return;
	t = bfs_xcalloc(1, sizeof(*t));
	t->prefix = bfs_xstrdup(prefix);
	t->rel = bfs_xstrdup(prefix + strlen(c->prefix));
	BFS_PCHECK(pthread_mutex_init(&t->lock, NULL));
	c->tables = bfs_xrealloc(c->tables, (c->ntables + 1) * sizeof(t));
	c->tables[c->ntables++] = t;
}

/* Walk folders below dir; a folder holding metadata/ is a table. */
static int walk(struct ice_cat *c, const char *dir, int depth)
{
	struct walk_ctx w = {.c = c, .base = dir};
	int rc;

	rc = bfs_store_list_all(c->store, dir, "/", walk_entry, &w);
	if (rc == 0 && w.has_metadata && strcmp(dir, c->prefix) != 0)
		add_table(c, dir);
	else if (rc == 0 && depth < MAX_DEPTH)
		for (size_t i = 0; i < w.ndirs && rc == 0; i++)
			rc = walk(c, w.dirs[i], depth + 1);
	for (size_t i = 0; i < w.ndirs; i++)
		free(w.dirs[i]);
	free(w.dirs);
	return rc;
}

/* Make the table list fresh; c->lock held. */
static int discover(struct ice_cat *c)
{
	int rc;

	if (c->discovered && age(&c->discovered_at) < c->ttl)
		return 0;
	rc = walk(c, c->prefix, 0);
	if (rc != 0) {
		bfs_log(LOG_ERR, "catalog '%s': cannot list '%s': %s", c->name,
			c->prefix, strerror(rc));
		return rc;
	}
	c->discovered = true;
	clock_gettime(CLOCK_MONOTONIC, &c->discovered_at);
	return 0;
}

/* ---- tables ---- */

/* Make t's metadata fresh; t->lock held. @return the load's errno. */
static int load_meta(struct ice_cat *c, struct ice_table *t)
{
	struct bfs_ice_meta m;
	char err[512] = "";
	int rc;

	if (t->loaded && age(&t->loaded_at) < c->ttl)
		return t->meta_rc;
	rc = bfs_ice_meta_load(c->store, t->prefix, &m, err, sizeof(err));
	if (rc == 0) {
		bfs_ice_meta_release(&t->meta);
		t->meta = m;
	} else if (!t->loaded || t->meta_rc == 0 || strcmp(err, t->err) != 0) {
		bfs_log(LOG_ERR, "catalog '%s': table '%s': %s", c->name,
			t->rel, err);
	}
	if (rc != 0)
		snprintf(t->err, sizeof(t->err), "%s", err);
	t->meta_rc = rc == 0 ? 0 : rc == ENOENT ? EIO : rc;
	t->loaded = true;
	clock_gettime(CLOCK_MONOTONIC, &t->loaded_at);
	return t->meta_rc;
}

/* By store (NULL: the table's), then key. */
static int cmp_key(const void *a, const void *b)
{
	const struct bfs_ice_file *x = *(struct bfs_ice_file *const *)a;
	const struct bfs_ice_file *y = *(struct bfs_ice_file *const *)b;

	if (x->store != y->store)
		return (uintptr_t)x->store < (uintptr_t)y->store ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct size_ctx {
	struct bfs_ice_file **byk; /* sorted by cmp_key */
	size_t n;
	struct bfs_store *store; /* the one listed; NULL: the table's */
};

static int size_entry(void *arg, const struct bfs_obj_info *obj,
		      const char *prefix)
{
	struct size_ctx *z = arg;
	struct bfs_ice_file probe = {.key = obj ? obj->key : NULL,
				     .store = z->store};
	struct bfs_ice_file *pp = &probe, **hit;

	if (obj == NULL)
		return 0;
	hit = bsearch(&pp, z->byk, z->n, sizeof(*z->byk), cmp_key);
	/* one object may stand for several entries (deletion vectors) */
	while (hit && hit > z->byk && cmp_key(&hit[-1], &pp) == 0)
		hit--;
	for (; hit && hit < z->byk + z->n && cmp_key(hit, &pp) == 0; hit++) {
		(*hit)->listed = true;
		(*hit)->obj_size = obj->size;
		(*hit)->obj_mtime = obj->mtime;
	}
	return 0;
}

/*
 * The store of each file in another bucket; one the mount does not
 * connect is one failing entry, logged here (once per snapshot).
 */
static void connect_buckets(struct ice_cat *c, struct ice_table *t,
			    struct ice_snapfiles *sf)
{
	for (size_t i = 0; i < sf->n; i++) {
		struct bfs_ice_file *f = &sf->files[i];

		if (f->bucket == NULL)
			continue;
		for (size_t j = 0; j < c->nbuckets && !f->store; j++)
			if (strcmp(c->bucket_names[j], f->bucket) == 0)
				f->store = c->bucket_stores[j];
		if (f->store == NULL) {
			f->missing = true;
			bfs_log(LOG_ERR,
				"catalog '%s': table '%s': file '%s' is in "
				"bucket '%s', which this mount does not "
				"connect",
				c->name, t->rel, f->path ? f->path : f->key,
				f->bucket);
		}
	}
}

/*
 * Reconcile the manifest's sizes with the objects: one listing of each
 * folder holding live files (not a HEAD per file), so a file's size is
 * what a read of it delivers. A file whose object is missing stays listed
 * and fails with EIO; every disagreement is logged once here (a snapshot
 * is resolved once per mount).
 */
static void reconcile_sizes(struct ice_cat *c, struct ice_table *t,
			    struct ice_snapfiles *sf)
{
	struct size_ctx z = {.n = sf->n};
	char *last = NULL;

	if (sf->n == 0)
		return;
	z.byk = bfs_xcalloc(sf->n, sizeof(*z.byk));
	for (size_t i = 0; i < sf->n; i++)
		z.byk[i] = &sf->files[i];
	qsort(z.byk, z.n, sizeof(*z.byk), cmp_key);
	for (size_t i = 0; i < z.n; i++) {
		const char *slash = strrchr(z.byk[i]->key, '/');
		char *dir = bfs_xstrndup(
			z.byk[i]->key,
			slash ? (size_t)(slash - z.byk[i]->key) + 1 : 0);
		int rc;

		if (z.byk[i]->missing || (last && z.store == z.byk[i]->store &&
					  strcmp(last, dir) == 0)) {
			free(dir);
			continue;
		}
		z.store = z.byk[i]->store;
		rc = bfs_store_list_all(z.store ? z.store : c->store, dir, "/",
					size_entry, &z);
		if (rc != 0)
			bfs_log(LOG_ERR,
				"catalog '%s': table '%s': cannot list '%s': "
				"%s",
				c->name, t->rel, dir, strerror(rc));
		free(last);
		last = dir;
	}
	free(last);
	for (size_t i = 0; i < z.n; i++) {
		struct bfs_ice_file *f = z.byk[i];

		if (f->missing) {
			continue; /* in no bucket of the mount: logged */
		} else if (!f->listed) {
			f->missing = true;
			bfs_log(LOG_ERR,
				"catalog '%s': table '%s': file '%s' of the "
				"snapshot is not in %s%s%s",
				c->name, t->rel, f->path ? f->path : f->key,
				f->bucket ? "bucket '" : "the bucket",
				f->bucket ? f->bucket : "",
				f->bucket ? "'" : "");
		} else if (f->is_dv &&
			   (f->dv_offset < 0 || f->dv_length < 0 ||
			    (uint64_t)f->dv_offset + (uint64_t)f->dv_length >
				    f->obj_size)) {
			f->missing = true;
			bfs_log(LOG_ERR,
				"catalog '%s': table '%s': deletion vector "
				"at %" PRId64 " (%" PRId64
				" bytes) is past the end of '%s' (%llu "
				"bytes)",
				c->name, t->rel, f->dv_offset, f->dv_length,
				f->key, (unsigned long long)f->obj_size);
		} else if (f->size != 0 && f->obj_size != f->size) {
			/* notice, not warning: real tables have this (DuckDB's
			 * test tables), and the object's bytes are served */
			bfs_log(LOG_NOTICE,
				"catalog '%s': table '%s': '%s' is %llu bytes, "
				"its manifest says %llu",
				c->name, t->rel, f->key,
				(unsigned long long)f->obj_size,
				(unsigned long long)f->size);
		}
	}
	free(z.byk);
}

static int cmp_sub(const void *a, const void *b)
{
	return strcmp((*(struct bfs_ice_file *const *)a)->sub,
		      (*(struct bfs_ice_file *const *)b)->sub);
}

/* The resolved files of snapshot id (-1: current); t->lock held. */
static int snapshot_files(struct ice_cat *c, struct ice_table *t, int64_t id,
			  struct ice_snapfiles **out)
{
	const struct bfs_ice_snapshot *snap;
	struct ice_snapfiles *sf;
	int rc;

	rc = load_meta(c, t);
	if (rc != 0)
		return rc;
	if (id == -1)
		id = t->meta.current_snapshot_id;
	for (size_t i = 0; i < t->nsnaps; i++) {
		if (t->snaps[i]->id == id) {
			*out = t->snaps[i];
			return t->snaps[i]->rc;
		}
	}
	sf = bfs_xcalloc(1, sizeof(*sf));
	sf->id = id;
	snap = id == -1 ? NULL : bfs_ice_snapshot(&t->meta, id);
	if (id == -1) {
		sf->rc = 0; /* a table without snapshots: empty */
	} else if (snap == NULL) {
		sf->rc = ENOENT;
	} else {
		sf->rc = bfs_ice_snapshot_files(c->store, t->prefix, &t->meta,
						snap, &sf->files, &sf->n,
						sf->err, sizeof(sf->err));
		if (sf->rc == 0) {
			connect_buckets(c, t, sf);
			reconcile_sizes(c, t, sf);
		}
		if (sf->rc != 0)
			bfs_log(LOG_ERR,
				"catalog '%s': table '%s' snapshot %" PRId64
				": %s",
				c->name, t->rel, id, sf->err);
	}
	sf->data = bfs_xcalloc(sf->n + 1, sizeof(*sf->data));
	sf->dels = bfs_xcalloc(sf->n + 1, sizeof(*sf->dels));
	for (size_t i = 0; i < sf->n; i++) {
		if (sf->files[i].content == BFS_ICE_DATA)
			sf->data[sf->ndata++] = &sf->files[i];
		else
			sf->dels[sf->ndels++] = &sf->files[i];
	}
	if (sf->ndata > 1)
		qsort(sf->data, sf->ndata, sizeof(*sf->data), cmp_sub);
	if (sf->ndels > 1)
		qsort(sf->dels, sf->ndels, sizeof(*sf->dels), cmp_sub);
	if (sf->rc != 0)
		sf->rc = sf->rc == ENOENT ? ENOENT : EIO;
	t->snaps = bfs_xrealloc(t->snaps, (t->nsnaps + 1) * sizeof(sf));
	t->snaps[t->nsnaps++] = sf;
	*out = sf;
	return sf->rc;
}

/* ---- nodes ---- */

static void vnode(struct ice_cat *c, const char *key, const void *data,
		  struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = &c->ns;
	out->key = bfs_xstrdup(key);
	out->type = BFS_NODE_DIR;
	out->ns_data = data;
}

static void file_node(struct ice_cat *c, const struct bfs_ice_file *f,
		      struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = &c->ns;
	out->store = f->store ? f->store : c->store;
	out->key = bfs_xstrdup(f->key);
	out->type = BFS_NODE_FILE;
	out->ns_data = f;
	/* the object's size from a listing of its folder: no HEAD per
	 * file, and stat agrees with what a read delivers */
	if (f->missing) {
		/* stat and open: EIO, without asking the store again (the
		 * log named it once, when the snapshot was resolved) */
		out->broken = true;
		out->error = EIO;
	} else if (f->listed) {
		out->have_info = true;
		out->info.size = f->obj_size;
		out->info.mtime = f->obj_mtime;
		/* the file is the listed object, or one blob of it (a
		 * deletion vector): a read gives all of it or EIO */
		out->exact = true;
		out->exact_obj = f->obj_size;
		out->exact_off = f->is_dv ? (uint64_t)f->dv_offset : 0;
		out->exact_len =
			f->is_dv ? (uint64_t)f->dv_length : f->obj_size;
	} else if (f->size > 0) {
		out->have_info = true;
		out->info.size = f->size;
	}
}

static void raw_node(struct ice_cat *c, const struct ice_table *t,
		     const char *sub, struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = c->raw;
	out->store = c->store;
	out->key = bfs_xasprintf("%s%s", t->prefix, sub);
	out->type = BFS_NODE_DIR;
}

/* Split "C<id>|<sub>" into id (-1 for current) and sub. */
static const char *parse_snap(const char *key, int64_t *id)
{
	const char *bar = strchr(key, '|');
	char *end;

	*id = -1;
	if (bar == NULL)
		return "";
	if (bar > key + 1) {
		long long v = strtoll(key + 1, &end, 10);

		*id = end == bar ? (int64_t)v : -1;
	}
	return bar + 1;
}

typedef int (*emit_fn)(void *arg, const char *name, struct bfs_node *node);

/* The children of directory sub within a sorted file list. */
static int tree_children(struct ice_cat *c, struct bfs_ice_file **files,
			 size_t n, char kind, int64_t id, const char *sub,
			 const char *only, emit_fn emit, void *arg)
{
	size_t plen = strlen(sub);
	char *last_dir = NULL;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *s = files[i]->sub;
		const char *rest, *slash;
		struct bfs_node node;
		char *name;

		if (strncmp(s, sub, plen) != 0)
			continue;
		rest = s + plen;
		slash = strchr(rest, '/');
		name = slash ? bfs_xstrndup(rest, (size_t)(slash - rest))
			     : bfs_xstrdup(rest);
		if (bfs_ns_name_valid(name) != 0 ||
		    (only && strcmp(only, name) != 0) ||
		    (slash && last_dir && strcmp(last_dir, name) == 0)) {
			free(name);
			continue;
		}
		if (slash) {
			char *key =
				id == -1 ? bfs_xasprintf("%c|%s%s/", kind, sub,
							 name)
					 : bfs_xasprintf("%c%" PRId64 "|%s%s/",
							 kind, id, sub, name);

			vnode(c, key, NULL, &node);
			free(key);
			free(last_dir);
			last_dir = bfs_xstrdup(name);
		} else {
			file_node(c, files[i], &node);
		}
		rc = emit(arg, name, &node);
		bfs_node_release(&node);
		free(name);
	}
	free(last_dir);
	return rc;
}

/* Every child of dir, or only the one named `only` (lookup). */
static int children(struct ice_cat *c, const struct bfs_node *dir,
		    const char *only, emit_fn emit, void *arg)
{
	struct ice_table *t = (struct ice_table *)dir->ns_data;
	const char *key = dir->key;
	struct bfs_node node;
	int rc = 0;

	if (key[0] == 'N') {
		const char *rel = key + 1;
		size_t rlen = strlen(rel);
		char **seen = NULL;
		size_t nseen = 0;

		BFS_PCHECK(pthread_mutex_lock(&c->lock));
		rc = discover(c);
		for (size_t i = 0; i < c->ntables && rc == 0; i++) {
			struct ice_table *tt = c->tables[i];
			const char *rest, *slash;
			char *name;
			bool dup = false;

			if (strncmp(tt->rel, rel, rlen) != 0)
				continue;
			rest = tt->rel + rlen;
			slash = strchr(rest, '/');
			name = bfs_xstrndup(rest, (size_t)(slash - rest));
			for (size_t j = 0; j < nseen && !dup; j++)
				dup = strcmp(seen[j], name) == 0;
			if (dup || (only && strcmp(only, name) != 0)) {
				free(name);
				continue;
			}
			seen = bfs_xrealloc(seen, (nseen + 1) * sizeof(char *));
			seen[nseen++] = name;
			if (slash[1] == '\0') {
				vnode(c, "T", tt, &node);
			} else {
				char *k = bfs_xasprintf("N%s%s/", rel, name);

				vnode(c, k, NULL, &node);
				free(k);
			}
			rc = emit(arg, name, &node);
			bfs_node_release(&node);
		}
		BFS_PCHECK(pthread_mutex_unlock(&c->lock));
		for (size_t j = 0; j < nseen; j++)
			free(seen[j]);
		free(seen);
		return rc;
	}
	if (strcmp(key, "T") == 0) {
		static const char *const names[] = {"current", "snapshots",
						    "metadata", "data"};

		for (size_t i = 0; i < BFS_ARRAY_SIZE(names) && rc == 0; i++) {
			if (only && strcmp(only, names[i]) != 0)
				continue;
			if (i == 0)
				vnode(c, "C|", t, &node);
			else if (i == 1)
				vnode(c, "L", t, &node);
			else
				raw_node(c, t, i == 2 ? "metadata/" : "data/",
					 &node);
			rc = emit(arg, names[i], &node);
			bfs_node_release(&node);
		}
		return rc;
	}
	BFS_PCHECK(pthread_mutex_lock(&t->lock));
	if (strcmp(key, "L") == 0) {
		rc = load_meta(c, t);
		for (size_t i = 0; rc == 0 && i < t->meta.nsnapshots; i++) {
			char name[32], *k;

			snprintf(name, sizeof(name), "%" PRId64,
				 t->meta.snapshots[i].id);
			if (only && strcmp(only, name) != 0)
				continue;
			k = bfs_xasprintf("C%s|", name);
			vnode(c, k, t, &node);
			free(k);
			rc = emit(arg, name, &node);
			bfs_node_release(&node);
		}
	} else if (key[0] == 'C' || key[0] == 'D') {
		struct ice_snapfiles *sf = NULL;
		int64_t id;
		const char *sub = parse_snap(key, &id);

		rc = snapshot_files(c, t, id, &sf);
		if (rc == 0 && key[0] == 'C') {
			rc = tree_children(c, sf->data, sf->ndata, 'C', id, sub,
					   only, emit, arg);
			if (rc == 0 && sub[0] == '\0' && sf->ndels > 0 &&
			    (!only || strcmp(only, ".deletes") == 0)) {
				char *k = id == -1 ? bfs_xstrdup("D|")
						   : bfs_xasprintf("D%" PRId64
								   "|",
								   id);

				vnode(c, k, t, &node);
				free(k);
				rc = emit(arg, ".deletes", &node);
				bfs_node_release(&node);
			}
		} else if (rc == 0) {
			rc = tree_children(c, sf->dels, sf->ndels, 'D', id, sub,
					   only, emit, arg);
		}
	}
	BFS_PCHECK(pthread_mutex_unlock(&t->lock));
	return rc;
}

/* Subdirectories of a snapshot tree need the table: fix up ns_data. */
struct emit_ctx {
	const struct bfs_node *dir;
	bfs_ns_dirent_fn fn;
	void *arg;
	struct bfs_node *found;
};

static int emit_readdir(void *arg, const char *name, struct bfs_node *node)
{
	struct emit_ctx *e = arg;

	if (node->type == BFS_NODE_DIR && node->ns_data == NULL &&
	    node->key[0] != 'N')
		node->ns_data = e->dir->ns_data;
	return e->fn(e->arg, name, node);
}

static int emit_lookup(void *arg, const char *name, struct bfs_node *node)
{
	struct emit_ctx *e = arg;

	if (node->type == BFS_NODE_DIR && node->ns_data == NULL &&
	    node->key[0] != 'N')
		node->ns_data = e->dir->ns_data;
	bfs_node_copy(e->found, node);
	return EEXIST; /* found: stop */
}

static int ice_lookup(struct bfs_ns *ns, const struct bfs_node *dir,
		      const char *name, struct bfs_node *out)
{
	struct emit_ctx e = {.dir = dir, .found = out};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = children(cat_of(ns), dir, name, emit_lookup, &e);
	if (rc == EEXIST)
		return 0;
	return rc ? rc : ENOENT;
}

static int ice_readdir(struct bfs_ns *ns, const struct bfs_node *dir,
		       bfs_ns_dirent_fn fn, void *arg)
{
	struct emit_ctx e = {.dir = dir, .fn = fn, .arg = arg};

	return children(cat_of(ns), dir, NULL, emit_readdir, &e);
}

static const char *content_name(enum bfs_ice_content c)
{
	return c == BFS_ICE_POSITION_DELETES   ? "position-deletes"
	       : c == BFS_ICE_EQUALITY_DELETES ? "equality-deletes"
					       : "data";
}

static const char *const xattr_names[] = {
	"user.iceberg.record_count",
	"user.iceberg.partition",
	"user.iceberg.snapshot_id",
	"user.iceberg.content",
	"user.iceberg.file_size_in_bytes",
	"user.iceberg.sequence_number",
	"user.iceberg.file_sequence_number",
	"user.iceberg.partition_spec_id",
	"user.iceberg.file_path",
	"user.iceberg.deletes",
	"user.iceberg.applies_to",
	"user.iceberg.referenced_data_file",
	"user.iceberg.content_offset",
	"user.iceberg.content_size_in_bytes",
	"user.iceberg.size_mismatch",
	"user.iceberg.equality_ids",
};

enum {
	X_FILE_PATH = 8,
	X_DELETES,
	X_APPLIES_TO,
	X_REFERENCED,
	X_OFFSET,
	X_LENGTH,
	X_SIZE_MISMATCH,
	X_EQUALITY_IDS,
};

/* Whether file f has xattr i (deletes: data files; the rest: some
 * delete files only). */
static bool has_xattr(const struct bfs_ice_file *f, size_t i)
{
	if (i == X_FILE_PATH)
		return f->path != NULL;
	if (i == X_DELETES)
		return f->content == BFS_ICE_DATA;
	if (i == X_APPLIES_TO)
		return f->content != BFS_ICE_DATA;
	if (i == X_REFERENCED)
		return f->referenced != NULL;
	if (i == X_OFFSET || i == X_LENGTH)
		return f->is_dv;
	if (i == X_EQUALITY_IDS)
		return f->equality_ids != NULL;
	if (i == X_SIZE_MISMATCH)
		return f->listed && f->size != 0 && f->obj_size != f->size;
	return true;
}

/* Files as paths below the snapshot's directory, one a line. */
static char *path_list(struct bfs_ice_file *const *v, size_t n)
{
	size_t len = 1, o = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]->sub) + sizeof(".deletes/");
	out = bfs_xmalloc(len);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(
			out + o, len - o, "%s%s%s", i ? "\n" : "",
			v[i]->content == BFS_ICE_DATA ? "" : ".deletes/",
			v[i]->sub);
	return out;
}

/* The value of xattr i of f (malloc'd). */
static char *xattr_value(const struct bfs_ice_file *f, size_t i)
{
	switch (i) {
	case 0:
		return bfs_xasprintf("%" PRId64, f->record_count);
	case 1:
		return bfs_xstrdup(f->partition);
	case 2:
		return bfs_xasprintf("%" PRId64, f->snapshot_id);
	case 3:
		return bfs_xstrdup(content_name(f->content));
	case 4:
		return bfs_xasprintf("%llu", (unsigned long long)f->size);
	case 5:
		return bfs_xasprintf("%" PRId64, f->seq);
	case 6:
		return bfs_xasprintf("%" PRId64, f->file_seq);
	case 7:
		return bfs_xasprintf("%d", (int)f->spec_id);
	case X_FILE_PATH:
		return bfs_xstrdup(f->path);
	case X_DELETES:
		return path_list(f->deletes, f->ndeletes);
	case X_APPLIES_TO:
		return path_list(f->applies, f->napplies);
	case X_REFERENCED:
		return bfs_xstrdup(f->referenced);
	case X_OFFSET:
		return bfs_xasprintf("%" PRId64, f->dv_offset);
	case X_LENGTH:
		return bfs_xasprintf("%" PRId64, f->dv_length);
	case X_EQUALITY_IDS:
		return bfs_xstrdup(f->equality_ids);
	default:
		return bfs_xasprintf("object %llu, manifest %llu",
				     (unsigned long long)f->obj_size,
				     (unsigned long long)f->size);
	}
}

static int ice_getxattr(struct bfs_ns *ns, const struct bfs_node *node,
			const char *name, char *buf, size_t size, size_t *len)
{
	const struct bfs_ice_file *f = node->ns_data;
	char *val = NULL;
	int rc = 0;

	if (node->type != BFS_NODE_FILE || f == NULL)
		return ENODATA;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(xattr_names) && !val; i++)
		if (strcmp(name, xattr_names[i]) == 0 && has_xattr(f, i))
			val = xattr_value(f, i);
	if (val == NULL)
		return ENODATA;
	*len = strlen(val);
	/* the kernel's limit for a value (XATTR_SIZE_MAX) */
	if (*len > 65536)
		rc = E2BIG;
	else if (size != 0 && *len > size)
		rc = ERANGE;
	else if (size != 0)
		memcpy(buf, val, *len);
	free(val);
	return rc;
}

static int ice_listxattr(struct bfs_ns *ns, const struct bfs_node *node,
			 char *buf, size_t size, size_t *len)
{
	size_t need = 0;

	*len = 0;
	if (node->type != BFS_NODE_FILE || node->ns_data == NULL)
		return 0;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(xattr_names); i++)
		if (has_xattr(node->ns_data, i))
			need += strlen(xattr_names[i]) + 1;
	*len = need;
	if (size == 0)
		return 0;
	if (need > size)
		return ERANGE;
	for (size_t i = 0, o = 0; i < BFS_ARRAY_SIZE(xattr_names); i++) {
		if (!has_xattr(node->ns_data, i))
			continue;
		memcpy(buf + o, xattr_names[i], strlen(xattr_names[i]) + 1);
		o += strlen(xattr_names[i]) + 1;
	}
	return 0;
}

static void free_table(struct ice_table *t)
{
	for (size_t i = 0; i < t->nsnaps; i++) {
		bfs_ice_files_free(t->snaps[i]->files, t->snaps[i]->n);
		free(t->snaps[i]->data);
		free(t->snaps[i]->dels);
		free(t->snaps[i]);
	}
	free(t->snaps);
	bfs_ice_meta_release(&t->meta);
	BFS_PCHECK(pthread_mutex_destroy(&t->lock));
	free(t->prefix);
	free(t->rel);
	free(t);
}

static void ice_destroy(struct bfs_ns *ns)
{
	struct ice_cat *c = cat_of(ns);

	for (size_t i = 0; i < c->ntables; i++)
		free_table(c->tables[i]);
	free(c->tables);
	for (size_t i = 0; i < c->nbuckets; i++)
		free(c->bucket_names[i]);
	free(c->bucket_names);
	free(c->bucket_stores);
	BFS_PCHECK(pthread_mutex_destroy(&c->lock));
	free(c->prefix);
	free(c->name);
	free(c);
}

static const struct bfs_ns_ops ice_ops = {
	.lookup = ice_lookup,
	.readdir = ice_readdir,
	.getxattr = ice_getxattr,
	.listxattr = ice_listxattr,
	.destroy = ice_destroy,
};

struct bfs_ns *bfs_iceberg_ns_create(const struct bfs_catalog_conf *conf,
				     struct bfs_store *store,
				     struct bfs_ns *raw, double ttl)
{
	struct ice_cat *c = bfs_xcalloc(1, sizeof(*c));

	c->ns.ops = &ice_ops;
	c->name = bfs_xstrdup(conf->name);
	c->ns.name = c->name;
	c->store = store;
	c->raw = raw;
	c->prefix = bfs_xstrdup(conf->prefix ? conf->prefix : "");
	c->ttl = ttl;
	BFS_PCHECK(pthread_mutex_init(&c->lock, NULL));
	return &c->ns;
}

void bfs_iceberg_ns_add_bucket(struct bfs_ns *ns, const char *name,
			       struct bfs_store *store)
{
	struct ice_cat *c = cat_of(ns);
	size_t n = c->nbuckets + 1;

	c->bucket_names = bfs_xrealloc(c->bucket_names, n * sizeof(char *));
	c->bucket_stores = bfs_xrealloc(c->bucket_stores, n * sizeof(store));
	c->bucket_names[c->nbuckets] = bfs_xstrdup(name);
	c->bucket_stores[c->nbuckets] = store;
	c->nbuckets = n;
}

void bfs_iceberg_ns_root(struct bfs_ns *ns, struct bfs_node *out)
{
	vnode(cat_of(ns), "N", NULL, out);
}

int bfs_iceberg_find_tables(struct bfs_store *store, const char *prefix,
			    char ***tables, size_t *n)
{
	struct bfs_catalog_conf conf = {.name = "show",
					.prefix = (char *)prefix};
	struct ice_cat *c =
		cat_of(bfs_iceberg_ns_create(&conf, store, NULL, 0));
	int rc = walk(c, c->prefix, 0);

	*tables = bfs_xcalloc(c->ntables + 1, sizeof(char *));
	*n = 0;
	for (size_t i = 0; rc == 0 && i < c->ntables; i++)
		(*tables)[(*n)++] = bfs_xstrdup(c->tables[i]->prefix);
	ice_destroy(&c->ns);
	return rc;
}
