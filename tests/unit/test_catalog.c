/*
 * test_catalog.c - the namespaces over an in-memory store: key → path
 * rules of the bucket view (implicit and explicit directories, a file and
 * a directory of one name, keys that cannot be paths) and the tables of a
 * Bucket Tables catalog (patterns, hive sub-paths, read-only).
 */
#include "compat.h"

#include <fcntl.h>
#include <unistd.h>

#include "catalog/bucket_tables.h"
#include "catalog/bucket_view.h"
#include "catalog/vdir.h"
#include "store/mem.h"
#include "tap.h"

static void put(struct bfs_store *s, const char *key, const char *body)
{
	char path[] = "/tmp/bfs-test-catalog-XXXXXX";
	int fd = mkstemp(path);
	struct bfs_put_req req = {.key = key, .fd = fd, .size = strlen(body)};

	unlink(path);
	if (write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		abort();
	if (s->put(s, &req, NULL) != 0)
		abort();
	close(fd);
}

struct names {
	char buf[4096];
};

static int add_name(void *arg, const char *name, const struct bfs_node *n)
{
	struct names *ns = arg;
	size_t len = strlen(ns->buf);

	snprintf(ns->buf + len, sizeof(ns->buf) - len, "%s%s%s", len ? " " : "",
		 name, n->type == BFS_NODE_DIR ? "/" : "");
	return 0;
}

static void listing(struct bfs_ns *ns, const struct bfs_node *dir,
		    struct names *out)
{
	out->buf[0] = '\0';
	if (ns->ops->readdir(ns, dir, add_name, out) != 0)
		snprintf(out->buf, sizeof(out->buf), "(error)");
}

static void test_bucket_view(void)
{
	struct bfs_store *s = bfs_mem_create("mem");
	struct bfs_ns *ns = bfs_bucket_view_create("mem", s, "", true);
	struct bfs_node root, n = {0}, sub = {0};
	struct names got;
	int rc;

	put(s, "a", "file a");
	put(s, "a/b", "under a");
	put(s, "dir/", "");
	put(s, "implicit/x/y.txt", "deep");
	put(s, "top.txt", "top");
	put(s, "bad//empty-segment", "x");
	put(s, "dot/../escape", "x");
	bfs_bucket_view_root(ns, &root);

	listing(ns, &root, &got);
	tap_ok(strcmp(got.buf, "a/ bad/ dir/ dot/ implicit/ top.txt") == 0,
	       "root lists dirs (a hides file a) and files: '%s'", got.buf);

	rc = ns->ops->lookup(ns, &root, "a", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_DIR && strcmp(n.key, "a/") == 0,
	       "a file and a directory named 'a': the directory wins");
	bfs_node_release(&n);

	rc = ns->ops->lookup(ns, &root, "top.txt", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_FILE && n.have_info &&
		       n.info.size == 3,
	       "file lookup carries size from HEAD");
	bfs_node_release(&n);

	rc = ns->ops->lookup(ns, &root, "dir", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_DIR,
	       "explicit directory marker 'dir/' is a directory");
	listing(ns, &n, &got);
	tap_ok(got.buf[0] == '\0',
	       "empty explicit directory lists nothing "
	       "(marker hidden): '%s'",
	       got.buf);
	bfs_node_release(&n);

	rc = ns->ops->lookup(ns, &root, "implicit", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_DIR,
	       "implicit directory from a common prefix");
	rc = ns->ops->lookup(ns, &n, "x", &sub);
	tap_ok(rc == 0 && sub.type == BFS_NODE_DIR &&
		       strcmp(sub.key, "implicit/x/") == 0,
	       "nested implicit directory key");
	bfs_node_release(&sub);
	bfs_node_release(&n);

	rc = ns->ops->lookup(ns, &root, "bad", &n);
	listing(ns, &n, &got);
	tap_ok(rc == 0 && got.buf[0] == '\0',
	       "key with an empty segment is skipped: '%s'", got.buf);
	bfs_node_release(&n);

	rc = ns->ops->lookup(ns, &root, "dot", &n);
	listing(ns, &n, &got);
	tap_ok(rc == 0 && got.buf[0] == '\0',
	       "key with a '..' segment is skipped: '%s'", got.buf);
	bfs_node_release(&n);

	tap_ok(ns->ops->lookup(ns, &root, "missing", &n) == ENOENT,
	       "missing name is ENOENT");
	tap_ok(ns->ops->lookup(ns, &root, "..", &n) == ENOENT,
	       "'..' is never looked up in the store");

	rc = bfs_ns_make_child(&root, "new.txt", BFS_NODE_FILE, &n);
	tap_ok(rc == 0 && strcmp(n.key, "new.txt") == 0 && n.writable,
	       "make_child of a writable dir gives its key");
	bfs_node_release(&n);
	rc = bfs_ns_make_child(&root, "a/b", BFS_NODE_FILE, &n);
	tap_ok(rc == EINVAL, "make_child refuses a name with '/'");

	bfs_node_release(&root);
	ns->ops->destroy(ns);
	s->destroy(s);
}

/*
 * Names that share a prefix with siblings sorting between "name" and
 * "name/" (name.bak, name-2): the one-LIST probe of a lookup must still
 * find the file, the directory, or nothing.
 */
static void test_name_probe(void)
{
	struct bfs_store *s = bfs_mem_create("mem");
	struct bfs_ns *ns = bfs_bucket_view_create("mem", s, "", true);
	struct bfs_store_stats before, after;
	struct bfs_node root, n = {0};
	char key[64];
	int rc;

	for (int i = 0; i < 12; i++) {
		snprintf(key, sizeof(key), "p.%02d", i);
		put(s, key, "sibling");
		snprintf(key, sizeof(key), "m.%02d", i);
		put(s, key, "sibling");
		snprintf(key, sizeof(key), "s-%02d", i);
		put(s, key, "sibling");
	}
	put(s, "p/x", "under p");
	put(s, "q", "file q");
	put(s, "q.bak", "backup");
	put(s, "s", "file s");
	put(s, "s/y", "under s");
	put(s, "fresh-1", "a sibling of a new name");
	bfs_bucket_view_root(ns, &root);

	rc = ns->ops->lookup(ns, &root, "p", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_DIR && strcmp(n.key, "p/") == 0,
	       "a directory behind a page of name.NN siblings is found");
	bfs_node_release(&n);
	rc = ns->ops->lookup(ns, &root, "q", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_FILE && n.have_info &&
		       n.info.size == 6,
	       "a file with a name.bak sibling is a file, with its HEAD");
	bfs_node_release(&n);
	rc = ns->ops->lookup(ns, &root, "s", &n);
	tap_ok(rc == 0 && n.type == BFS_NODE_DIR,
	       "file and directory 's' behind a full page: the directory "
	       "wins");
	bfs_node_release(&n);
	tap_ok(ns->ops->lookup(ns, &root, "m", &n) == ENOENT,
	       "a missing name behind a full page of siblings is ENOENT");

	tap_ok(ns->ops->lookup(ns, &root, "fresh", &n) == ENOENT,
	       "a missing name with a name-1 sibling is ENOENT");
	s->get_stats(s, &before);
	rc = ns->ops->lookup(ns, &root, "brand-new", &n);
	s->get_stats(s, &after);
	tap_ok(rc == ENOENT && after.requests - before.requests == 1,
	       "a missing name costs one request (%llu)",
	       (unsigned long long)(after.requests - before.requests));

	bfs_node_release(&root);
	ns->ops->destroy(ns);
	s->destroy(s);
}

static void test_prefix_view(void)
{
	struct bfs_store *s = bfs_mem_create("mem");
	struct bfs_ns *ns = bfs_bucket_view_create("m", s, "scratch/", true);
	struct bfs_node root, n = {0};
	struct names got;

	put(s, "scratch/in.txt", "in");
	put(s, "outside.txt", "out");
	bfs_bucket_view_root(ns, &root);
	listing(ns, &root, &got);
	tap_ok(strcmp(got.buf, "in.txt") == 0,
	       "managed prefix shows only its keys: '%s'", got.buf);
	tap_ok(bfs_ns_make_child(&root, "f", BFS_NODE_FILE, &n) == 0 &&
		       strcmp(n.key, "scratch/f") == 0,
	       "new files land under the prefix");
	bfs_node_release(&n);
	bfs_node_release(&root);
	ns->ops->destroy(ns);
	s->destroy(s);
}

static void test_bucket_tables(void)
{
	struct bfs_store *s = bfs_mem_create("mem");
	struct bfs_table_conf tables[] = {
		{.name = "orders", .pattern = "raw/orders/**/*.parquet"},
		{.name = "customers", .pattern = "raw/customers/"},
	};
	struct bfs_catalog_conf conf = {
		.name = "sales",
		.type = BFS_CATALOG_BUCKET_TABLES,
		.bucket = "mem",
		.prefix = "",
		.tables = tables,
		.ntables = 2,
	};
	struct bfs_vdir *root = bfs_vdir_create("sales");
	struct bfs_ns *vns = bfs_vdir_ns(root);
	struct bfs_node rootn, t = {0}, part = {0}, f = {0};
	struct bfs_ns *ns;
	struct names got;
	char err[256] = "";
	int rc;

	put(s, "raw/orders/dt=2024-01-01/part-0.parquet", "p0");
	put(s, "raw/orders/dt=2024-01-01/part-1.parquet", "p1");
	put(s, "raw/orders/dt=2024-01-02/part-0.parquet", "p2");
	put(s, "raw/orders/dt=2024-01-02/_SUCCESS", "");
	put(s, "raw/orders/readme.txt", "not a table file");
	put(s, "raw/customers/c.parquet", "c");
	put(s, "raw/customers/sub/d.parquet", "d");

	ns = bfs_bucket_tables_create(&conf, s, 60, err, sizeof(err));
	tap_ok(ns != NULL, "bucket-tables catalog created (%s)", err);
	bfs_bucket_tables_add_tables(ns, root);
	bfs_vdir_node(root, &rootn);
	listing(vns, &rootn, &got);
	tap_ok(strcmp(got.buf, "orders/ customers/") == 0,
	       "catalog lists its tables: '%s'", got.buf);

	rc = vns->ops->lookup(vns, &rootn, "orders", &t);
	listing(t.ns, &t, &got);
	tap_ok(rc == 0 && strcmp(got.buf, "dt=2024-01-01/ dt=2024-01-02/") == 0,
	       "table shows hive partitions, not unmatched files: '%s'",
	       got.buf);
	rc = t.ns->ops->lookup(t.ns, &t, "dt=2024-01-02", &part);
	listing(part.ns, &part, &got);
	tap_ok(rc == 0 && strcmp(got.buf, "part-0.parquet") == 0,
	       "partition lists only matching files: '%s'", got.buf);
	rc = part.ns->ops->lookup(part.ns, &part, "part-0.parquet", &f);
	tap_ok(rc == 0 && f.type == BFS_NODE_FILE && f.store == s &&
		       strcmp(f.key,
			      "raw/orders/dt=2024-01-02/part-0.parquet") == 0 &&
		       f.info.size == 2 && !f.writable,
	       "table file maps to its real key, read-only");
	bfs_node_release(&f);
	tap_ok(part.ns->ops->lookup(part.ns, &part, "_SUCCESS", &f) == ENOENT,
	       "unmatched file in a partition is not there");
	tap_ok(bfs_ns_make_child(&part, "new.parquet", BFS_NODE_FILE, &f) ==
		       EROFS,
	       "creating in a table is EROFS");
	bfs_node_release(&part);
	bfs_node_release(&t);

	rc = vns->ops->lookup(vns, &rootn, "customers", &t);
	listing(t.ns, &t, &got);
	tap_ok(rc == 0 && strcmp(got.buf, "c.parquet sub/") == 0,
	       "prefix table keeps sub-paths: '%s'", got.buf);
	bfs_node_release(&t);

	bfs_node_release(&rootn);
	vns->ops->destroy(vns);
	ns->ops->destroy(ns);

	tables[0].pattern = "raw/[orders";
	tap_ok(bfs_bucket_tables_create(&conf, s, 60, err, sizeof(err)) ==
			       NULL &&
		       strstr(err, "table 'orders'") != NULL,
	       "bad pattern names catalog and table: %s", err);
	s->destroy(s);
}

int main(void)
{
	test_bucket_view();
	test_name_probe();
	test_prefix_view();
	test_bucket_tables();
	return tap_done();
}
