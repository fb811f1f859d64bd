/*
 * lake.c - builds the namespace of a mount from the configuration (see
 * lake.h).
 */
#include "compat.h"

#include "catalog/bucket_tables.h"
#include "catalog/bucket_view.h"
#include "catalog/iceberg_ns.h"
#include "catalog/lake.h"
#include "catalog/stack.h"
#include "catalog/vdir.h"
#include "log.h"
#include "store/s3.h"

struct bfs_lake {
	struct bfs_store **stores;
	char **store_names;
	size_t nstores;
	struct bfs_ns **nss;
	size_t nns;
	struct bfs_node root;
	bool whole; /* the whole lake, not one bucket or catalog */
};

static void add_ns(struct bfs_lake *lake, struct bfs_ns *ns)
{
	lake->nss = bfs_xrealloc(lake->nss, (lake->nns + 1) * sizeof(ns));
	lake->nss[lake->nns++] = ns;
}

/* The store of bucket b, opened once per mount. */
static struct bfs_store *bucket_store(struct bfs_lake *lake,
				      const struct bfs_config *cfg,
				      const struct bfs_bucket_conf *b,
				      char *err, size_t errlen)
{
	struct bfs_store *s;

	for (size_t i = 0; i < lake->nstores; i++)
		if (strcmp(lake->store_names[i], b->name) == 0)
			return lake->stores[i];
	s = bfs_stack_open(cfg, b, err, errlen);
	if (s == NULL)
		return NULL;
	lake->stores =
		bfs_xrealloc(lake->stores, (lake->nstores + 1) * sizeof(s));
	lake->store_names = bfs_xrealloc(lake->store_names,
					 (lake->nstores + 1) * sizeof(char *));
	lake->stores[lake->nstores] = s;
	lake->store_names[lake->nstores] = bfs_xstrdup(b->name);
	lake->nstores++;
	return s;
}

/* The root node of bucket b's view, opening its store. */
static int open_bucket(struct bfs_lake *lake, const struct bfs_config *cfg,
		       const struct bfs_bucket_conf *b, struct bfs_node *out,
		       char *err, size_t errlen)
{
	struct bfs_store *s;
	struct bfs_ns *ns;

	s = bucket_store(lake, cfg, b, err, errlen);
	if (s == NULL)
		return errno ? errno : EIO;
	ns = bfs_bucket_view_create(b->name, s, b->prefix ? b->prefix : "",
				    !cfg->opts.ro);
	add_ns(lake, ns);
	bfs_bucket_view_root(ns, out);
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
			const struct bfs_bucket_conf *b =
				bfs_config_bucket(cfg, lake->store_names[i]);
			const char *name = pass == 0 ? (b ? b->bucket : NULL)
						     : lake->store_names[i];

			if (name && *name)
				bfs_iceberg_ns_add_bucket(ns, name,
							  lake->stores[i]);
		}
	}
}

/* The root node of catalog c. */
static int open_catalog(struct bfs_lake *lake, const struct bfs_config *cfg,
			const struct bfs_catalog_conf *c, struct bfs_node *out,
			char *err, size_t errlen)
{
	const struct bfs_bucket_conf *b = bfs_config_bucket(cfg, c->bucket);
	struct bfs_store *s;
	struct bfs_vdir *root;
	struct bfs_ns *ns;

	if (b == NULL) {
		snprintf(err, errlen, "catalog '%s': unknown bucket '%s'",
			 c->name, c->bucket);
		return ENOENT;
	}
	s = bucket_store(lake, cfg, b, err, errlen);
	if (s == NULL)
		return errno ? errno : EIO;
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

static int open_whole_lake(struct bfs_lake *lake, const struct bfs_config *cfg,
			   char *err, size_t errlen)
{
	struct bfs_vdir *root = bfs_vdir_create("lake");
	struct bfs_vdir *buckets = bfs_vdir_create("buckets");
	struct bfs_node node;
	int rc = 0;

	add_ns(lake, bfs_vdir_ns(root));
	add_ns(lake, bfs_vdir_ns(buckets));
	for (size_t i = 0; i < cfg->nbuckets; i++) {
		rc = open_bucket(lake, cfg, &cfg->buckets[i], &node, err,
				 errlen);
		if (rc != 0)
			return rc;
		bfs_vdir_add(buckets, cfg->buckets[i].name, &node);
		bfs_node_release(&node);
	}
	bfs_vdir_node(buckets, &node);
	bfs_vdir_add(root, "buckets", &node);
	bfs_node_release(&node);
	if (cfg->ncatalogs > 0) {
		struct bfs_vdir *catalogs = bfs_vdir_create("catalogs");

		add_ns(lake, bfs_vdir_ns(catalogs));
		for (size_t i = 0; i < cfg->ncatalogs; i++) {
			rc = open_catalog(lake, cfg, &cfg->catalogs[i], &node,
					  err, errlen);
			if (rc != 0)
				return rc;
			bfs_vdir_add(catalogs, cfg->catalogs[i].name, &node);
			bfs_node_release(&node);
		}
		bfs_vdir_node(catalogs, &node);
		bfs_vdir_add(root, "catalogs", &node);
		bfs_node_release(&node);
	}
	bfs_vdir_node(root, &lake->root);
	return 0;
}

int bfs_lake_open(const struct bfs_config *cfg, const char *root_name,
		  struct bfs_lake **out, char *err, size_t errlen)
{
	struct bfs_lake *lake = bfs_xcalloc(1, sizeof(*lake));
	const struct bfs_bucket_conf *b;
	const struct bfs_catalog_conf *c;
	int rc;

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

int bfs_lake_start(struct bfs_lake *lake, char *err, size_t errlen)
{
	for (size_t i = 0; i < lake->nstores; i++) {
		struct bfs_store *s = lake->stores[i];
		int rc;

		if (s->start == NULL)
			continue;
		rc = s->start(s);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start bucket '%s': %s",
				 lake->store_names[i], strerror(rc));
			return rc;
		}
	}
	for (size_t i = 0; i < lake->nstores; i++) {
		struct bfs_store *s = lake->stores[i];
		/* no delimiter: a bucket of two keys gives a truncated page,
		 * which shows at once a server that fails those (s3rver) */
		struct bfs_list_req req = {.prefix = "", .max_keys = 1};
		struct bfs_list_result res = {0};
		int rc;

		if (s->caps & BFS_CAP_LOCAL)
			continue;
		/* fail the mount now, with the cause, rather than every
		 * later call with EIO */
		bfs_s3_clear_error(s);
		rc = s->list(s, &req, &res);
		bfs_list_result_release(&res);
		if (rc != 0) {
			reach_error(s, lake->store_names[i], rc, err, errlen);
			if (!lake->whole)
				return rc;
			/* one bad bucket never takes the lake down: its
			 * directory fails, the others work */
			bfs_log(LOG_ERR,
				"%s; its directory fails until this "
				"is fixed",
				err);
			err[0] = '\0';
		}
	}
	return 0;
}

void bfs_lake_root(struct bfs_lake *lake, struct bfs_node *out)
{
	bfs_node_copy(out, &lake->root);
}

struct bfs_store *bfs_lake_store(struct bfs_lake *lake, const char *name)
{
	for (size_t i = 0; i < lake->nstores; i++)
		if (strcmp(lake->stores[i]->name, name) == 0)
			return lake->stores[i];
	return NULL;
}

void bfs_lake_shutdown(struct bfs_lake *lake)
{
	for (size_t i = 0; i < lake->nstores; i++)
		if (lake->stores[i]->shutdown)
			lake->stores[i]->shutdown(lake->stores[i]);
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
		lake->stores[i]->destroy(lake->stores[i]);
		free(lake->store_names[i]);
	}
	free(lake->stores);
	free(lake->store_names);
	free(lake);
}
