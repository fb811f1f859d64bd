/*
 * bucket_view.c - a bucket prefix shown as a directory tree (see
 * bucket_view.h for the key → path rules).
 */
#include "compat.h"

#include <pthread.h>

#include "catalog/bucket_view.h"
#include "catalog/head_pool.h"
#include "log.h"

struct bucket_view {
	struct bfs_ns ns; /* first */
	char *name;
	struct bfs_store *store;
	char *prefix;
	bool writable;
	struct bfs_head_pool *heads; /* the HEADs sent along with a LIST */
	pthread_mutex_t warn_lock;
	/* names already reported as unusable, so each is logged once;
	 * protected by warn_lock */
	char **warned;
	size_t nwarned;
};

static struct bucket_view *view_of(struct bfs_ns *ns)
{
	return (struct bucket_view *)ns;
}

static void warn_once(struct bucket_view *v, const char *key, const char *why)
{
	bool seen = false;

	BFS_PCHECK(pthread_mutex_lock(&v->warn_lock));
	for (size_t i = 0; i < v->nwarned && !seen; i++)
		seen = strcmp(v->warned[i], key) == 0;
	if (!seen && v->nwarned < 4096) {
		v->warned = bfs_xrealloc(v->warned,
					 (v->nwarned + 1) * sizeof(char *));
		v->warned[v->nwarned++] = bfs_xstrdup(key);
	}
	BFS_PCHECK(pthread_mutex_unlock(&v->warn_lock));
	if (!seen) {
		char shown[1200];

		bfs_ns_name_printable(key, shown, sizeof(shown));
		bfs_log(LOG_WARNING, "bucket '%s': key '%s' skipped: %s",
			v->name, shown, why);
	}
}

static void make_node(struct bucket_view *v, const char *key,
		      enum bfs_node_type type, const struct bfs_obj_info *info,
		      struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = &v->ns;
	out->store = v->store;
	out->key = bfs_xstrdup(key);
	out->type = type;
	out->writable = v->writable;
	if (info) {
		bfs_obj_info_copy(&out->info, info);
		free(out->info.key);
		out->info.key = NULL;
		out->have_info = true;
	}
}

/*
 * Is there anything under prefix? One LIST of at most one key answers it,
 * whatever the directory holds.
 */
static int prefix_exists(struct bucket_view *v, const char *prefix,
			 bool *exists)
{
	struct bfs_list_req req = {
		.prefix = prefix, .delimiter = "/", .max_keys = 1};
	struct bfs_list_result res = {0};
	int rc;

	rc = v->store->list(v->store, &req, &res);
	if (rc == 0)
		*exists = res.nobjs > 0 || res.nprefixes > 0;
	bfs_list_result_release(&res);
	return rc;
}

/* Keys a name probe asks for: room for a few siblings such as name.bak
 * that sort between name and name/. */
#define PROBE_KEYS 8

/*
 * What the bucket holds at key (a file) and under dirkey = key "/" (a
 * directory), from one LIST of the keys that start with key: key itself
 * is the first of them, then siblings such as key.txt, then the first
 * key under dirkey. *decided is false when the page was cut before
 * dirkey could show; *empty says the page held nothing at all. No
 * delimiter: s3rver leaves out the common prefix of a name whose
 * directory holds only deeper ones (a/b/c listed with prefix "a" and
 * delimiter "/" gives nothing), and the first key under dirkey is
 * enough.
 */
static int probe_name(struct bucket_view *v, const char *key,
		      const char *dirkey, bool cached_only, bool *file,
		      bool *dir, bool *decided, bool *empty)
{
	struct bfs_list_req req = {.prefix = key,
				   .max_keys = PROBE_KEYS,
				   .cached_only = cached_only};
	struct bfs_list_result res = {0};
	size_t dlen = strlen(dirkey);
	int rc;

	*file = *dir = *decided = *empty = false;
	rc = v->store->list(v->store, &req, &res);
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < res.nobjs; i++) {
		if (strcmp(res.objs[i].key, key) == 0)
			*file = true;
		else if (strncmp(res.objs[i].key, dirkey, dlen) == 0)
			*dir = true;
	}
	/* no delimiter, so no common prefixes */
	*decided = *dir || res.next_token == NULL;
	*empty = res.nobjs == 0;
out:
	bfs_list_result_release(&res);
	return rc;
}

/*
 * What the listing of dir says of key (a file) and dirkey (a directory),
 * when a metadata cache has it as one page, fresh or listed again now
 * because it had expired and was small (refresh_small): a lookup of a
 * name in a directory whose listing expired then costs the one LIST
 * that the lookups of the names after it share, not a probe each.
 * @return 0 with *listed (false: the listing is more than one page),
 *         EAGAIN (no such listing: probe the name), or list's errno.
 */
static int listed_name(struct bucket_view *v, const char *dir, const char *key,
		       const char *dirkey, bool *file, bool *isdir,
		       bool *listed)
{
	struct bfs_list_req req = {.prefix = dir,
				   .delimiter = "/",
				   .cached_only = true,
				   .refresh_small = true};
	struct bfs_list_result res = {0};
	int rc;

	*file = *isdir = *listed = false;
	rc = v->store->list(v->store, &req, &res);
	if (rc != 0 || res.next_token)
		goto out;
	*listed = true;
	for (size_t i = 0; i < res.nobjs && !*file; i++)
		*file = strcmp(res.objs[i].key, key) == 0;
	for (size_t i = 0; i < res.nprefixes && !*isdir; i++)
		*isdir = strcmp(res.prefixes[i], dirkey) == 0;
out:
	bfs_list_result_release(&res);
	return rc;
}

/*
 * The HEAD of a lookup, sent on a thread of the view's pool while the
 * lookup's LIST is in flight: a known file then costs one round trip,
 * not two.
 */
struct head_job {
	struct bfs_head_job *job; /* NULL: not started */
};

/* Start the HEAD of key; if no thread is free, head_result sends it. */
static void head_start(struct bucket_view *v, struct head_job *j,
		       const char *key)
{
	j->job = bfs_head_job_start(v->heads, v->store, key);
}

/* The HEAD's answer (into *info, which the caller releases): the
 * started one's, or one sent now. */
static int head_result(struct head_job *j, struct bfs_store *s, const char *key,
		       struct bfs_obj_info *info)
{
	struct bfs_head_job *job = j->job;

	if (job == NULL)
		return bfs_store_head_read(s, key, NULL, info, NULL, 0, NULL);
	j->job = NULL;
	return bfs_head_job_wait(job, info);
}

/* A HEAD whose answer is not wanted any more: not waited for (a slow or
 * retried one holds up no lookup whose LIST has answered). */
static void head_drop(struct head_job *j)
{
	if (j->job)
		bfs_head_job_drop(j->job);
	j->job = NULL;
}

static int view_lookup(struct bfs_ns *ns, const struct bfs_node *dir,
		       const char *name, struct bfs_node *out)
{
	struct bucket_view *v = view_of(ns);
	struct bfs_obj_info info = {0};
	struct head_job job = {0};
	char *key = NULL;
	char *dirkey = NULL;
	bool is_dir = false, is_file = false, decided = false, empty = false;
	int rc;

	rc = bfs_ns_name_valid(name);
	if (rc != 0)
		return rc == ENAMETOOLONG ? ENAMETOOLONG : ENOENT;
	key = bfs_xasprintf("%s%s", dir->key, name);
	dirkey = bfs_xasprintf("%s/", key);
	if (strlen(dirkey) > BFS_KEY_MAX) {
		rc = ENAMETOOLONG;
		goto out;
	}
	/*
	 * One LIST answers the common cases: nothing there (a new name: one
	 * request where a directory probe and a HEAD were two), a directory,
	 * or a file (then a HEAD for its metadata). When the LIST has to go
	 * to the bucket, the HEAD goes along with it, as mountpoint-s3's
	 * lookup does: a file costs one round trip instead of two (the first
	 * byte of a cold file comes a round trip sooner), a new name or a
	 * directory one request more (a HEAD answered 404). From the cache
	 * (a fresh listing of the directory) the HEAD goes after, if at all.
	 */
	rc = probe_name(v, key, dirkey, true, &is_file, &is_dir, &decided,
			&empty);
	if (rc == EAGAIN) {
		/*
		 * Before a request for this name alone: the directory's
		 * listing, if the cache has it in one page or may list it
		 * again (small and expired). Its answer is the lookup's,
		 * the HEAD of a file it shows going after it (often
		 * answered by the cache: a listing confirms the head
		 * entries of the versions it shows).
		 */
		bool listed;

		rc = listed_name(v, dir->key, key, dirkey, &is_file, &is_dir,
				 &listed);
		if (rc == 0 && listed)
			goto decided;
		if (rc != 0 && rc != EAGAIN)
			goto out;
		rc = EAGAIN;
	}
	if (rc == EAGAIN) {
		head_start(v, &job, key);
		rc = probe_name(v, key, dirkey, false, &is_file, &is_dir,
				&decided, &empty);
	}
	if (rc != 0)
		goto out;
	if (!is_dir && !(is_file && decided) && !empty) {
		/*
		 * The page was cut before key/, or held only siblings: ask
		 * about key/ on its own. Without the file, the HEAD below
		 * says "no such name" too, so that answer is never older
		 * than neg_ttl (a page of siblings may be cached dir_ttl).
		 */
		rc = prefix_exists(v, dirkey, &is_dir);
		if (rc != 0)
			goto out;
		is_file = true;
	}
decided:
	if (is_dir) {
		make_node(v, dirkey, BFS_NODE_DIR, NULL, out);
		goto out;
	}
	if (!is_file && !(v->store->caps & BFS_CAP_LOCAL)) {
		rc = ENOENT;
		goto out;
	}
	/*
	 * (The local store leaves damaged objects out of its listings;
	 * its HEAD still finds them, so that they read EIO and can be
	 * removed, and costs no round trip.)
	 */
	/* the listing has no metadata (mode, owner, mtime): ask for it */
	rc = head_result(&job, v->store, key, &info);
	if (rc == 0) {
		make_node(v, key, BFS_NODE_FILE, &info, out);
	} else if (rc == EIO) {
		make_node(v, key, BFS_NODE_FILE, NULL, out);
		out->broken = true;
		rc = 0;
	}
out:
	head_drop(&job);
	bfs_obj_info_release(&info);
	free(key);
	free(dirkey);
	return rc;
}

struct readdir_ctx {
	struct bucket_view *v;
	const char *prefix;
	size_t plen;
	bfs_ns_dirent_fn fn;
	void *arg;
	/* directory names seen, sorted as the listing returns them */
	char **dirs;
	size_t ndirs;
	/* files, kept until the listing ends so a directory of the same
	 * name can hide them */
	struct bfs_obj_info *files;
	size_t nfiles;
};

static int collect(void *arg, const struct bfs_obj_info *obj,
		   const char *prefix)
{
	struct readdir_ctx *c = arg;
	const char *full = obj ? obj->key : prefix;
	const char *name = full + c->plen;
	size_t n = strlen(name);
	char *dup;
	int rc;

	if (obj && n == 0)
		return 0; /* the directory's own marker */
	if (!obj)
		n--; /* the delimiter */
	dup = bfs_xstrndup(name, n);
	rc = bfs_ns_name_valid(dup);
	if (rc != 0) {
		warn_once(c->v, full,
			  rc == ENAMETOOLONG ? "name longer than 255 bytes"
			  : rc == EILSEQ     ? "name is not valid UTF-8"
					     : "not a valid path component");
		free(dup);
		return 0;
	}
	if (obj) {
		c->files = bfs_xrealloc(c->files,
					(c->nfiles + 1) * sizeof(*c->files));
		bfs_obj_info_copy(&c->files[c->nfiles], obj);
		free(c->files[c->nfiles].key);
		c->files[c->nfiles].key = dup;
		c->nfiles++;
	} else {
		c->dirs = bfs_xrealloc(c->dirs,
				       (c->ndirs + 1) * sizeof(*c->dirs));
		c->dirs[c->ndirs++] = dup;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int view_readdir(struct bfs_ns *ns, const struct bfs_node *dir,
			bfs_ns_dirent_fn fn, void *arg)
{
	struct bucket_view *v = view_of(ns);
	struct readdir_ctx c = {
		.v = v,
		.prefix = dir->key,
		.plen = strlen(dir->key),
		.fn = fn,
		.arg = arg,
	};
	int rc;

	rc = bfs_store_list_all(v->store, dir->key, "/", collect, &c);
	if (rc != 0)
		goto out;
	if (c.ndirs > 1)
		qsort(c.dirs, c.ndirs, sizeof(*c.dirs), cmp_str);
	for (size_t i = 0; i < c.ndirs && rc == 0; i++) {
		struct bfs_node node;
		char *key = bfs_xasprintf("%s%s/", dir->key, c.dirs[i]);

		make_node(v, key, BFS_NODE_DIR, NULL, &node);
		rc = fn(arg, c.dirs[i], &node);
		bfs_node_release(&node);
		free(key);
	}
	for (size_t i = 0; i < c.nfiles && rc == 0; i++) {
		struct bfs_node node;
		char *name = c.files[i].key;
		char *key;

		if (c.ndirs > 0 &&
		    bsearch(&name, c.dirs, c.ndirs, sizeof(*c.dirs), cmp_str)) {
			key = bfs_xasprintf("%s%s", dir->key, name);
			warn_once(v, key,
				  "a directory of the same name hides it");
			free(key);
			continue;
		}
		key = bfs_xasprintf("%s%s", dir->key, name);
		make_node(v, key, BFS_NODE_FILE, &c.files[i], &node);
		rc = fn(arg, name, &node);
		bfs_node_release(&node);
		free(key);
	}
out:
	for (size_t i = 0; i < c.ndirs; i++)
		free(c.dirs[i]);
	free(c.dirs);
	for (size_t i = 0; i < c.nfiles; i++)
		bfs_obj_info_release(&c.files[i]);
	free(c.files);
	return rc;
}

static void view_quiesce(struct bfs_ns *ns)
{
	bfs_head_pool_drain(view_of(ns)->heads);
}

static void view_destroy(struct bfs_ns *ns)
{
	struct bucket_view *v = view_of(ns);

	for (size_t i = 0; i < v->nwarned; i++)
		free(v->warned[i]);
	free(v->warned);
	bfs_head_pool_free(v->heads);
	BFS_PCHECK(pthread_mutex_destroy(&v->warn_lock));
	free(v->prefix);
	free(v->name);
	free(v);
}

static const struct bfs_ns_ops view_ops = {
	.lookup = view_lookup,
	.readdir = view_readdir,
	.quiesce = view_quiesce,
	.destroy = view_destroy,
};

struct bfs_ns *bfs_bucket_view_create(const char *name, struct bfs_store *store,
				      const char *prefix, bool writable)
{
	struct bucket_view *v = bfs_xcalloc(1, sizeof(*v));

	v->ns.ops = &view_ops;
	v->name = bfs_xstrdup(name);
	v->ns.name = v->name;
	v->store = store;
	v->prefix = bfs_xstrdup(prefix ? prefix : "");
	v->writable = writable;
	v->heads = bfs_head_pool_new();
	BFS_PCHECK(pthread_mutex_init(&v->warn_lock, NULL));
	return &v->ns;
}

void bfs_bucket_view_root(struct bfs_ns *ns, struct bfs_node *out)
{
	struct bucket_view *v = view_of(ns);

	make_node(v, v->prefix, BFS_NODE_DIR, NULL, out);
}
