/*
 * lake.c - builds the namespace of a mount from the configuration and
 * follows the configuration while the mount runs (see lake.h).
 *
 * Lifetimes: a store or namespace, once built, lives until
 * bfs_lake_destroy(), even after its bucket or catalog left the
 * configuration: the kernel may still hold inodes whose nodes point into
 * it (an open file, a shell's working directory), and those keep working
 * until they are let go. A bucket that comes back under the same name
 * gets its old store again, unless its provider, endpoint, region,
 * bucket or options changed: then a new store replaces it and the old
 * one is retired (kept for its open files until the lake goes).
 */
#include "compat.h"

#include <pthread.h>

#include "catalog/bucket_tables.h"
#include "catalog/bucket_view.h"
#include "catalog/iceberg_ns.h"
#include "catalog/lake.h"
#include "catalog/stack.h"
#include "catalog/vdir.h"
#include "log.h"
#include "store/s3.h"

/* The store of one bucket name. */
struct lake_store {
	char *name;
	struct bfs_store *store;
	struct bfs_creds *creds; /* the driver's source; NULL: anonymous */
	/* the section the store was built from (endpoint, bucket ...) and
	 * the one last applied (keys, prefix); borrowed from configs that
	 * outlive the lake */
	const struct bfs_bucket_conf *built;
	const struct bfs_bucket_conf *conf;
	bool live; /* in the configuration now */
};

/* A catalog shown under catalogs/. */
struct lake_catalog {
	const struct bfs_catalog_conf *conf; /* borrowed, as above */
	char *bucket_prefix; /* its bucket's prefix when it was built */
	bool live;
	bool stale; /* its bucket got a new store: open it again */
};

struct bfs_lake {
	const struct bfs_config *cfg; /* options of the mount */
	struct lake_store *stores;
	size_t nstores;
	struct lake_catalog *cats;
	size_t ncats;
	struct bfs_ns **nss;
	size_t nns;
	/* stores a changed bucket section replaced: open files still use
	 * them, so they live (and flush) until the lake goes */
	struct bfs_store **retired;
	size_t nretired;
	struct bfs_node root;
	bool whole; /* the whole lake, not one bucket or catalog */
	/* the whole lake's directories */
	struct bfs_vdir *rootdir, *buckets, *catalogs;
	bool catalogs_shown; /* catalogs/ is in the root */
};

static void add_ns(struct bfs_lake *lake, struct bfs_ns *ns)
{
	lake->nss = bfs_xrealloc(lake->nss, (lake->nns + 1) * sizeof(ns));
	lake->nss[lake->nns++] = ns;
}

static struct lake_store *find_store(struct bfs_lake *lake, const char *name)
{
	for (size_t i = 0; i < lake->nstores; i++)
		if (strcmp(lake->stores[i].name, name) == 0)
			return &lake->stores[i];
	return NULL;
}

/* The store of bucket b, opened once per mount. */
static struct lake_store *bucket_store(struct bfs_lake *lake,
				       const struct bfs_config *cfg,
				       const struct bfs_bucket_conf *b,
				       char *err, size_t errlen)
{
	struct lake_store *st = find_store(lake, b->name);
	struct bfs_creds *creds = NULL;
	struct bfs_store *s;

	if (st)
		return st;
	s = bfs_stack_open(cfg, b, &creds, err, errlen);
	if (s == NULL)
		return NULL;
	lake->stores = bfs_xrealloc(
		lake->stores, (lake->nstores + 1) * sizeof(*lake->stores));
	st = &lake->stores[lake->nstores++];
	memset(st, 0, sizeof(*st));
	st->name = bfs_xstrdup(b->name);
	st->store = s;
	st->creds = creds;
	st->built = st->conf = b;
	st->live = true;
	return st;
}

/* The root node of bucket b's view of store st. */
static void bucket_node(struct bfs_lake *lake, const struct bfs_config *cfg,
			const struct bfs_bucket_conf *b, struct lake_store *st,
			struct bfs_node *out)
{
	struct bfs_ns *ns;

	ns = bfs_bucket_view_create(b->name, st->store,
				    b->prefix ? b->prefix : "", !cfg->opts.ro);
	add_ns(lake, ns);
	bfs_bucket_view_root(ns, out);
}

/* The root node of bucket b's view, opening its store. */
static int open_bucket(struct bfs_lake *lake, const struct bfs_config *cfg,
		       const struct bfs_bucket_conf *b, struct bfs_node *out,
		       char *err, size_t errlen)
{
	struct lake_store *st;

	st = bucket_store(lake, cfg, b, err, errlen);
	if (st == NULL)
		return errno ? errno : EIO;
	bucket_node(lake, cfg, b, st, out);
	return 0;
}

/*
 * Let an Iceberg catalog read data files in the mount's other buckets
 * (those opened so far: every bucket of a whole-lake mount, which opens
 * buckets before catalogs). A URI's authority is the provider's bucket
 * name; a [bucket] section's name is tried after every provider name.
 */
static void connect_buckets(struct bfs_lake *lake, const struct bfs_config *cfg,
			    struct bfs_ns *ns)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < lake->nstores; i++) {
			const struct lake_store *st = &lake->stores[i];
			const struct bfs_bucket_conf *b =
				bfs_config_bucket(cfg, st->name);
			const char *name =
				pass == 0 ? (b ? b->bucket : NULL) : st->name;

			/* a bucket removed from the configuration is not
			 * served to new catalogs */
			if (st->live && name && *name)
				bfs_iceberg_ns_add_bucket(ns, name, st->store);
		}
	}
}

/* The root node of catalog c. */
static int open_catalog(struct bfs_lake *lake, const struct bfs_config *cfg,
			const struct bfs_catalog_conf *c, struct bfs_node *out,
			char *err, size_t errlen)
{
	const struct bfs_bucket_conf *b = bfs_config_bucket(cfg, c->bucket);
	struct lake_store *st;
	struct bfs_store *s;
	struct bfs_vdir *root;
	struct bfs_ns *ns;

	if (b == NULL) {
		snprintf(err, errlen, "catalog '%s': unknown bucket '%s'",
			 c->name, c->bucket);
		return ENOENT;
	}
	st = bucket_store(lake, cfg, b, err, errlen);
	if (st == NULL)
		return errno ? errno : EIO;
	s = st->store;
	switch (c->type) {
	case BFS_CATALOG_MANAGED: {
		char *prefix = bfs_xasprintf("%s%s", b->prefix ? b->prefix : "",
					     c->prefix ? c->prefix : "");

		ns = bfs_bucket_view_create(c->name, s, prefix, !cfg->opts.ro);
		free(prefix);
		add_ns(lake, ns);
		bfs_bucket_view_root(ns, out);
		return 0;
	}
	case BFS_CATALOG_BUCKET_TABLES:
		ns = bfs_bucket_tables_create(c, s, cfg->opts.dir_ttl, err,
					      errlen);
		if (ns == NULL)
			return EINVAL;
		add_ns(lake, ns);
		root = bfs_vdir_create(c->name);
		add_ns(lake, bfs_vdir_ns(root));
		bfs_bucket_tables_add_tables(ns, root);
		bfs_vdir_node(root, out);
		return 0;
	case BFS_CATALOG_ICEBERG: {
		struct bfs_catalog_conf full = *c;
		struct bfs_ns *raw;

		full.prefix = bfs_xasprintf("%s%s", b->prefix ? b->prefix : "",
					    c->prefix ? c->prefix : "");
		raw = bfs_bucket_view_create(c->name, s, full.prefix, false);
		add_ns(lake, raw);
		ns = bfs_iceberg_ns_create(&full, s, raw, cfg->opts.dir_ttl);
		free(full.prefix);
		connect_buckets(lake, cfg, ns);
		add_ns(lake, ns);
		bfs_iceberg_ns_root(ns, out);
		return 0;
	}
	default:
		snprintf(err, errlen, "catalog '%s': unknown type", c->name);
		return EINVAL;
	}
}

/* Remember catalog c as shown (or update what is remembered). */
static void note_catalog(struct bfs_lake *lake, const struct bfs_config *cfg,
			 const struct bfs_catalog_conf *c)
{
	const struct bfs_bucket_conf *b = bfs_config_bucket(cfg, c->bucket);
	struct lake_catalog *k = NULL;

	for (size_t i = 0; i < lake->ncats && !k; i++)
		if (strcmp(lake->cats[i].conf->name, c->name) == 0)
			k = &lake->cats[i];
	if (k == NULL) {
		lake->cats = bfs_xrealloc(lake->cats,
					  (lake->ncats + 1) * sizeof(*k));
		k = &lake->cats[lake->ncats++];
		memset(k, 0, sizeof(*k));
	}
	free(k->bucket_prefix);
	k->conf = c;
	k->bucket_prefix = bfs_xstrdup(b && b->prefix ? b->prefix : "");
	k->live = true;
	k->stale = false;
}

static void show_catalogs(struct bfs_lake *lake)
{
	struct bfs_node node;

	if (lake->catalogs == NULL) {
		lake->catalogs = bfs_vdir_create("catalogs");
		add_ns(lake, bfs_vdir_ns(lake->catalogs));
	}
	if (lake->catalogs_shown)
		return;
	bfs_vdir_node(lake->catalogs, &node);
	bfs_vdir_add(lake->rootdir, "catalogs", &node);
	bfs_node_release(&node);
	lake->catalogs_shown = true;
}

static int open_whole_lake(struct bfs_lake *lake, const struct bfs_config *cfg,
			   char *err, size_t errlen)
{
	struct bfs_node node;
	int rc = 0;

	lake->rootdir = bfs_vdir_create("lake");
	lake->buckets = bfs_vdir_create("buckets");
	add_ns(lake, bfs_vdir_ns(lake->rootdir));
	add_ns(lake, bfs_vdir_ns(lake->buckets));
	for (size_t i = 0; i < cfg->nbuckets; i++) {
		rc = open_bucket(lake, cfg, &cfg->buckets[i], &node, err,
				 errlen);
		if (rc != 0)
			return rc;
		bfs_vdir_add(lake->buckets, cfg->buckets[i].name, &node);
		bfs_node_release(&node);
	}
	bfs_vdir_node(lake->buckets, &node);
	bfs_vdir_add(lake->rootdir, "buckets", &node);
	bfs_node_release(&node);
	if (cfg->ncatalogs > 0) {
		show_catalogs(lake);
		for (size_t i = 0; i < cfg->ncatalogs; i++) {
			rc = open_catalog(lake, cfg, &cfg->catalogs[i], &node,
					  err, errlen);
			if (rc != 0)
				return rc;
			bfs_vdir_add(lake->catalogs, cfg->catalogs[i].name,
				     &node);
			bfs_node_release(&node);
			note_catalog(lake, cfg, &cfg->catalogs[i]);
		}
	}
	bfs_vdir_node(lake->rootdir, &lake->root);
	return 0;
}

int bfs_lake_open(const struct bfs_config *cfg, const char *root_name,
		  struct bfs_lake **out, char *err, size_t errlen)
{
	struct bfs_lake *lake = bfs_xcalloc(1, sizeof(*lake));
	const struct bfs_bucket_conf *b;
	const struct bfs_catalog_conf *c;
	int rc;

	lake->cfg = cfg;
	if (root_name == NULL) {
		lake->whole = true;
		rc = open_whole_lake(lake, cfg, err, errlen);
	} else if ((b = bfs_config_bucket(cfg, root_name)) != NULL) {
		rc = bfs_stack_check_credentials(cfg, b, err, errlen);
		if (rc == 0)
			rc = open_bucket(lake, cfg, b, &lake->root, err,
					 errlen);
	} else if ((c = bfs_config_catalog(cfg, root_name)) != NULL) {
		b = bfs_config_bucket(cfg, c->bucket);
		rc = b ? bfs_stack_check_credentials(cfg, b, err, errlen) : 0;
		if (rc == 0)
			rc = open_catalog(lake, cfg, c, &lake->root, err,
					  errlen);
	} else {
		snprintf(err, errlen,
			 "unknown bucket or catalog '%s' (see 'bucketfs "
			 "bucket list')",
			 root_name);
		rc = ENOENT;
	}
	if (rc != 0) {
		bfs_lake_destroy(lake);
		return rc;
	}
	*out = lake;
	return 0;
}

/*
 * Why bucket name failed its first listing with rc: the S3 store's code,
 * message and hint (found through the stack: the caches above the driver
 * know none of it) and the fix, as `bucketfs bucket test` words them.
 */
static void reach_error(struct bfs_store *s, const char *name, int rc,
			char *err, size_t errlen)
{
	struct bfs_s3_error e = {0};
	char status[32] = "", fix[300];

	if (bfs_s3_last_error(s, &e) != 0)
		memset(&e, 0, sizeof(e));
	if (e.status)
		snprintf(status, sizeof(status), " (HTTP %ld)", e.status);
	if (strcmp(e.code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(e.code, "InvalidAccessKeyId") == 0)
		snprintf(fix, sizeof(fix),
			 "give bucket '%s' the right keys ('bucketfs bucket "
			 "test %s' checks them)",
			 name, name);
	else
		snprintf(fix, sizeof(fix),
			 "'bucketfs bucket test %s' checks each step and "
			 "names the cause",
			 name);
	snprintf(err, errlen, "cannot reach bucket '%s': %s%s%s%s%s%s; fix: %s",
		 name, e.code[0] ? e.code : strerror(rc), status,
		 e.message[0] ? ": " : "", e.message, e.hint[0] ? " — " : "",
		 e.hint, fix);
}

/*
 * One listing of st's bucket, so that a bucket that cannot be used says
 * why at once rather than in every later call with EIO.
 * @return 0, or the errno with err naming the bucket and the cause.
 */
static int check_store(struct lake_store *st, char *err, size_t errlen)
{
	struct bfs_store *s = st->store;
	/* no delimiter: a bucket of two keys gives a truncated page, which
	 * shows at once a server that fails those (s3rver) */
	struct bfs_list_req req = {.prefix = "", .max_keys = 1};
	struct bfs_list_result res = {0};
	int rc;

	if (s->caps & BFS_CAP_LOCAL)
		return 0;
	bfs_s3_clear_error(s);
	rc = s->list(s, &req, &res);
	bfs_list_result_release(&res);
	if (rc == 0)
		return 0;
	reach_error(s, st->name, rc, err, errlen);
	return rc;
}

int bfs_lake_start(struct bfs_lake *lake, char *err, size_t errlen)
{
	for (size_t i = 0; i < lake->nstores; i++) {
		struct bfs_store *s = lake->stores[i].store;
		int rc;

		if (s->start == NULL)
			continue;
		rc = s->start(s);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start bucket '%s': %s",
				 lake->stores[i].name, strerror(rc));
			return rc;
		}
	}
	for (size_t i = 0; i < lake->nstores; i++) {
		int rc = check_store(&lake->stores[i], err, errlen);

		if (rc == 0)
			continue;
		if (!lake->whole)
			return rc;
		/* one bad bucket never takes the lake down: its directory
		 * fails, the others work */
		bfs_log(LOG_ERR, "%s; its directory fails until this is fixed",
			err);
		err[0] = '\0';
	}
	return 0;
}

/* ------------------------------------------------ following the config */

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The options the driver sends as headers or connects with. */
static bool same_options(const struct bfs_bucket_conf *a,
			 const struct bfs_bucket_conf *b)
{
	return a->sse == b->sse &&
	       same_str(a->sse_kms_key_id, b->sse_kms_key_id) &&
	       same_str(a->sse_customer_key, b->sse_customer_key) &&
	       same_str(a->storage_class, b->storage_class) &&
	       a->requester_pays == b->requester_pays &&
	       same_str(a->ca_bundle, b->ca_bundle) &&
	       same_str(a->proxy, b->proxy);
}

/* What the driver was built from: another value needs another store. */
static bool same_driver(const struct bfs_bucket_conf *a,
			const struct bfs_bucket_conf *b)
{
	return a->provider == b->provider && same_str(a->bucket, b->bucket) &&
	       same_str(a->region, b->region) &&
	       same_str(a->endpoint, b->endpoint) &&
	       same_str(a->account_id, b->account_id) &&
	       same_str(a->dir, b->dir) && a->path_style == b->path_style &&
	       a->allow_insecure == b->allow_insecure &&
	       (a->credentials == BFS_CREDENTIALS_ANONYMOUS) ==
		       (b->credentials == BFS_CREDENTIALS_ANONYMOUS) &&
	       same_options(a, b);
}

static bool same_creds(const struct bfs_bucket_conf *a,
		       const struct bfs_bucket_conf *b)
{
	return same_str(a->access_key_id, b->access_key_id) &&
	       same_str(a->secret_access_key, b->secret_access_key) &&
	       a->credentials == b->credentials &&
	       same_str(a->profile, b->profile) &&
	       a->allow_plaintext_credentials == b->allow_plaintext_credentials;
}

static bool same_catalog(const struct lake_catalog *k,
			 const struct bfs_catalog_conf *c,
			 const struct bfs_bucket_conf *b)
{
	const struct bfs_catalog_conf *o = k->conf;

	if (o->type != c->type || !same_str(o->bucket, c->bucket) ||
	    !same_str(o->prefix, c->prefix) || o->ntables != c->ntables ||
	    strcmp(k->bucket_prefix, b && b->prefix ? b->prefix : "") != 0)
		return false;
	for (size_t i = 0; i < c->ntables; i++)
		if (!same_str(o->tables[i].name, c->tables[i].name) ||
		    !same_str(o->tables[i].pattern, c->tables[i].pattern))
			return false;
	return true;
}

/* New keys for a running store: swapped under the requests in flight. */
static void apply_creds(struct lake_store *st, const struct bfs_config *cfg,
			const struct bfs_bucket_conf *b)
{
	struct bfs_creds *c;

	if (same_creds(st->conf, b))
		return;
	c = bfs_stack_creds(cfg, b);
	if (st->creds == NULL || c == NULL) {
		/* anonymous stores sign nothing; same_driver sees those */
		bfs_creds_free(c);
		return;
	}
	bfs_creds_replace(st->creds, c);
	bfs_log(LOG_NOTICE, "bucket '%s': its new credentials are in use",
		st->name);
}

/*
 * A bucket whose provider, endpoint, region, bucket or options changed
 * needs another driver: as if it were removed and connected again. The
 * old store goes to the retired list, where the files open in it keep
 * working until they are closed; the name's new view uses the new one.
 * @return whether the new store took its place.
 */
static bool replace_store(struct bfs_lake *lake, const struct bfs_config *cfg,
			  const struct bfs_bucket_conf *b,
			  struct lake_store *st, bfs_lake_changed_fn changed,
			  void *arg)
{
	struct bfs_creds *creds = NULL;
	struct bfs_store *s;
	struct bfs_node node;
	char err[512] = "";

	s = bfs_stack_open(cfg, b, &creds, err, sizeof(err));
	if (s == NULL) {
		bfs_log(LOG_ERR,
			"%s; bucket '%s' goes on with its former settings", err,
			b->name);
		return false;
	}
	if (s->start && s->start(s) != 0) {
		bfs_log(LOG_ERR,
			"cannot start bucket '%s' with its new settings; it "
			"goes on with its former ones",
			b->name);
		/* kept to the end, as a store that fails to start at a
		 * connect is: bfs_lake_shutdown and destroy handle it */
		lake->retired = bfs_xrealloc(lake->retired,
					     (lake->nretired + 1) *
						     sizeof(*lake->retired));
		lake->retired[lake->nretired++] = s;
		return false;
	}
	lake->retired = bfs_xrealloc(
		lake->retired, (lake->nretired + 1) * sizeof(*lake->retired));
	lake->retired[lake->nretired++] = st->store;
	st->store = s;
	st->creds = creds;
	st->built = st->conf = b;
	st->live = true;
	if (check_store(st, err, sizeof(err)) != 0)
		bfs_log(LOG_ERR, "%s; its directory fails until this is fixed",
			err);
	bucket_node(lake, cfg, b, st, &node);
	bfs_vdir_add(lake->buckets, b->name, &node);
	bfs_node_release(&node);
	changed(arg, "buckets", b->name);
	/* its catalogs follow onto the new store (reload_catalogs) */
	for (size_t i = 0; i < lake->ncats; i++)
		if (lake->cats[i].conf->bucket &&
		    strcmp(lake->cats[i].conf->bucket, b->name) == 0)
			lake->cats[i].stale = true;
	bfs_log(LOG_NOTICE,
		"bucket '%s' changed: buckets/ shows it with its new provider, "
		"endpoint, region or options (files open in it before work "
		"with the former ones until they are closed)",
		b->name);
	return true;
}

/*
 * A bucket of the configuration in the lake, new or changed.
 * @return whether it joined the mount's buckets now.
 */
static bool reload_bucket(struct bfs_lake *lake, const struct bfs_config *cfg,
			  const struct bfs_bucket_conf *b,
			  bfs_lake_changed_fn changed, void *arg)
{
	struct lake_store *st = find_store(lake, b->name);
	char err[512] = "";
	struct bfs_node node;
	bool was_live;

	if (st == NULL) {
		st = bucket_store(lake, cfg, b, err, sizeof(err));
		if (st == NULL) {
			bfs_log(LOG_ERR,
				"%s; bucket '%s' stays out of the "
				"mount",
				err, b->name);
			return false;
		}
		if (st->store->start && st->store->start(st->store) != 0) {
			bfs_log(LOG_ERR, "cannot start bucket '%s'", b->name);
			st->live = false;
			return false;
		}
		if (check_store(st, err, sizeof(err)) != 0)
			bfs_log(LOG_ERR,
				"%s; its directory fails until this "
				"is fixed",
				err);
		bucket_node(lake, cfg, b, st, &node);
		bfs_vdir_add(lake->buckets, b->name, &node);
		bfs_node_release(&node);
		changed(arg, "buckets", b->name);
		bfs_log(LOG_NOTICE, "bucket '%s' connected: in buckets/",
			b->name);
		return true;
	}
	if (!same_driver(st->built, b)) {
		/* an Iceberg catalog reading data files in it follows too */
		return replace_store(lake, cfg, b, st, changed, arg);
	}
	apply_creds(st, cfg, b);
	was_live = st->live;
	if (!was_live || !same_str(st->conf->prefix, b->prefix)) {
		bucket_node(lake, cfg, b, st, &node);
		bfs_vdir_add(lake->buckets, b->name, &node);
		bfs_node_release(&node);
		changed(arg, "buckets", b->name);
		if (!was_live)
			bfs_log(LOG_NOTICE,
				"bucket '%s' connected: in buckets/", b->name);
	}
	st->conf = b;
	st->live = true;
	return !was_live;
}

/*
 * @param buckets_changed a bucket joined or left the mount: an Iceberg
 *        catalog is built anew, so its data files in other buckets are
 *        read from the buckets connected now (a catalog's namespace learns
 *        its buckets when it is built; the old one serves what the kernel
 *        still holds until unmount)
 */
static void reload_catalogs(struct bfs_lake *lake, const struct bfs_config *cfg,
			    bool buckets_changed, bfs_lake_changed_fn changed,
			    void *arg)
{
	bool was_shown = lake->catalogs_shown;

	for (size_t i = 0; i < lake->ncats; i++) {
		struct lake_catalog *k = &lake->cats[i];

		if (!k->live || bfs_config_catalog(cfg, k->conf->name))
			continue;
		k->live = false;
		bfs_vdir_remove(lake->catalogs, k->conf->name);
		changed(arg, "catalogs", k->conf->name);
		bfs_log(LOG_NOTICE, "catalog '%s' removed: gone from catalogs/",
			k->conf->name);
	}
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		const struct bfs_catalog_conf *c = &cfg->catalogs[i];
		const struct bfs_bucket_conf *b =
			bfs_config_bucket(cfg, c->bucket);
		struct lake_catalog *k = NULL;
		struct bfs_node node;
		char err[512] = "";

		for (size_t j = 0; j < lake->ncats && !k; j++)
			if (strcmp(lake->cats[j].conf->name, c->name) == 0)
				k = &lake->cats[j];
		bool follow = k && k->live && same_catalog(k, c, b) &&
			      buckets_changed && c->type == BFS_CATALOG_ICEBERG;

		if (k && k->live && !k->stale && same_catalog(k, c, b) &&
		    !follow) {
			k->conf = c;
			continue;
		}
		if (open_catalog(lake, cfg, c, &node, err, sizeof(err)) != 0) {
			bfs_log(LOG_ERR, "%s; catalog '%s' stays as it was",
				err, c->name);
			continue;
		}
		show_catalogs(lake);
		bfs_vdir_add(lake->catalogs, c->name, &node);
		bfs_node_release(&node);
		changed(arg, "catalogs", c->name);
		bfs_log(LOG_NOTICE, "catalog '%s' %s", c->name,
			follow	       ? "follows the mount's buckets: "
					 "catalogs/ shows it anew"
			: k && k->live ? "changed: catalogs/ shows it anew"
				       : "added: in catalogs/");
		note_catalog(lake, cfg, c);
	}
	if (lake->catalogs_shown && bfs_vdir_count(lake->catalogs) == 0) {
		bfs_vdir_remove(lake->rootdir, "catalogs");
		lake->catalogs_shown = false;
		changed(arg, NULL, "catalogs");
	} else if (!was_shown && lake->catalogs_shown) {
		/* a negative entry the kernel keeps would hide it */
		changed(arg, NULL, "catalogs");
	}
}

void bfs_lake_reload(struct bfs_lake *lake, const struct bfs_config *newcfg,
		     bfs_lake_changed_fn changed, void *arg)
{
	/* the sections of the new file with the options of the mount: the
	 * [bucketfs] options (cache dir, timeouts) stay as mounted */
	struct bfs_config cfg = *lake->cfg;
	bool buckets_changed = false;

	cfg.path = newcfg->path;
	cfg.buckets = newcfg->buckets;
	cfg.nbuckets = newcfg->nbuckets;
	cfg.catalogs = newcfg->catalogs;
	cfg.ncatalogs = newcfg->ncatalogs;
	if (!lake->whole) {
		/* one bucket or catalog as the root: only its keys follow */
		for (size_t i = 0; i < lake->nstores; i++) {
			struct lake_store *st = &lake->stores[i];
			const struct bfs_bucket_conf *b =
				bfs_config_bucket(&cfg, st->name);

			if (b == NULL || !same_driver(st->built, b) ||
			    !same_str(st->conf->prefix, b->prefix)) {
				bfs_log(LOG_WARNING,
					"bucket '%s' was removed or changed in "
					"the configuration; this mount goes on "
					"as it started until it is remounted",
					st->name);
				continue;
			}
			apply_creds(st, &cfg, b);
			st->conf = b;
		}
		return;
	}
	for (size_t i = 0; i < lake->nstores; i++) {
		struct lake_store *st = &lake->stores[i];

		if (!st->live || bfs_config_bucket(&cfg, st->name))
			continue;
		buckets_changed = true;
		st->live = false;
		bfs_vdir_remove(lake->buckets, st->name);
		changed(arg, "buckets", st->name);
		bfs_log(LOG_NOTICE,
			"bucket '%s' removed: gone from buckets/ (files open "
			"in it work until they are closed)",
			st->name);
	}
	for (size_t i = 0; i < cfg.nbuckets; i++)
		if (reload_bucket(lake, &cfg, &cfg.buckets[i], changed, arg))
			buckets_changed = true;
	reload_catalogs(lake, &cfg, buckets_changed, changed, arg);
}

void bfs_lake_root(struct bfs_lake *lake, struct bfs_node *out)
{
	bfs_node_copy(out, &lake->root);
}

struct bfs_store *bfs_lake_store(struct bfs_lake *lake, const char *name)
{
	for (size_t i = 0; i < lake->nstores; i++)
		if (strcmp(lake->stores[i].store->name, name) == 0)
			return lake->stores[i].store;
	return NULL;
}

void bfs_lake_shutdown(struct bfs_lake *lake)
{
	for (size_t i = 0; i < lake->nns; i++)
		if (lake->nss[i]->ops->quiesce)
			lake->nss[i]->ops->quiesce(lake->nss[i]);
	for (size_t i = 0; i < lake->nstores; i++) {
		struct bfs_store *s = lake->stores[i].store;

		if (s->shutdown)
			s->shutdown(s);
	}
	for (size_t i = 0; i < lake->nretired; i++)
		if (lake->retired[i]->shutdown)
			lake->retired[i]->shutdown(lake->retired[i]);
}

void bfs_lake_destroy(struct bfs_lake *lake)
{
	if (lake == NULL)
		return;
	bfs_node_release(&lake->root);
	for (size_t i = 0; i < lake->nns; i++)
		lake->nss[i]->ops->destroy(lake->nss[i]);
	free(lake->nss);
	for (size_t i = 0; i < lake->nstores; i++) {
		lake->stores[i].store->destroy(lake->stores[i].store);
		free(lake->stores[i].name);
	}
	free(lake->stores);
	for (size_t i = 0; i < lake->nretired; i++)
		lake->retired[i]->destroy(lake->retired[i]);
	free(lake->retired);
	for (size_t i = 0; i < lake->ncats; i++)
		free(lake->cats[i].bucket_prefix);
	free(lake->cats);
	free(lake);
}
