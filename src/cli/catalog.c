/*
 * catalog.c - `bucketfs catalog add|table add|list|show|remove`: the
 * [catalog NAME] sections of the configuration. Every change is checked
 * by loading the edited text before it replaces the file, so a bad
 * pattern or an unknown bucket is refused with file:line.
 */
#include "compat.h"

#include "catalog/glob.h"
#include "cli/cli_priv.h"
#include "conf.h"
#include "config_write.h"

static const char *const type_names[] = {
	[BFS_CATALOG_MANAGED] = "managed",
	[BFS_CATALOG_BUCKET_TABLES] = "bucket-tables",
	[BFS_CATALOG_ICEBERG] = "iceberg",
};

static const char *type_name(enum bfs_catalog_type t)
{
	return (size_t)t < BFS_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

/* The file commands edit: --config, else bfs_config_default_path()
 * ($BUCKETFS_CONFIG or the default). */
static char *config_path(const char *given)
{
	return given ? bfs_xstrdup(given) : bfs_config_default_path();
}

/* Apply edit_fn to the configuration file and commit it. */
typedef int (*edit_fn)(struct bfs_config_edit *e, void *arg);

static int edit_config(const char *given, edit_fn fn, void *arg)
{
	struct bfs_config_edit *e = NULL;
	char *path = config_path(given);
	char err[1024] = "";
	int rc;

	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	rc = fn(e, arg);
	if (rc != 0)
		goto out;
	rc = bfs_config_edit_commit(e, err, sizeof(err));
	if (rc != 0)
		bfs_cli_error("%s", err[0] ? err : strerror(rc));
out:
	bfs_config_edit_free(e);
	free(path);
	return rc;
}

struct add_args {
	const char *name;
	const char *type;
	const char *bucket;
	const char *prefix;
};

static int do_add(struct bfs_config_edit *e, void *arg)
{
	struct add_args *a = arg;
	char *section = bfs_xasprintf("catalog %s", a->name);
	int rc = 0;

	if (bfs_config_edit_has_section(e, section)) {
		bfs_cli_error("catalog '%s' already exists (bucketfs catalog "
			      "remove %s)",
			      a->name, a->name);
		rc = EEXIST;
		goto out;
	}
	rc = bfs_config_edit_set(e, section, "type", a->type);
	if (rc == 0)
		rc = bfs_config_edit_set(e, section, "bucket", a->bucket);
	if (rc == 0 && a->prefix)
		rc = bfs_config_edit_set(e, section, "prefix", a->prefix);
	if (rc != 0)
		bfs_cli_error("cannot write catalog '%s': bad name or value",
			      a->name);
out:
	free(section);
	return rc;
}

struct table_args {
	const char *catalog;
	const char *table;
	const char *pattern;
};

static int do_table_add(struct bfs_config_edit *e, void *arg)
{
	struct table_args *a = arg;
	char *section = bfs_xasprintf("catalog %s", a->catalog);
	char *key = bfs_xasprintf("table.%s", a->table);
	int rc = 0;

	if (!bfs_config_edit_has_section(e, section)) {
		bfs_cli_error("unknown catalog '%s' (see 'bucketfs catalog "
			      "list')",
			      a->catalog);
		rc = ENOENT;
		goto out;
	}
	rc = bfs_config_edit_set(e, section, key, a->pattern);
	if (rc != 0)
		bfs_cli_error("cannot write table '%s': bad name or pattern",
			      a->table);
out:
	free(section);
	free(key);
	return rc;
}

static int do_remove(struct bfs_config_edit *e, void *arg)
{
	const char *name = arg;
	char *section = bfs_xasprintf("catalog %s", name);
	int rc;

	rc = bfs_config_edit_remove_section(e, section);
	if (rc == ENOENT)
		bfs_cli_error("unknown catalog '%s' (see 'bucketfs catalog "
			      "list')",
			      name);
	free(section);
	return rc;
}

static int cmd_list(const char *given)
{
	struct bfs_config cfg = {0};

	if (bfs_cli_config_load(given, &cfg) != 0)
		return 1;
	if (cfg.ncatalogs == 0)
		printf("no catalogs (add one with 'bucketfs catalog add')\n");
	for (size_t i = 0; i < cfg.ncatalogs; i++) {
		const struct bfs_catalog_conf *c = &cfg.catalogs[i];

		printf("%-20s %-14s bucket=%s prefix=%s", c->name,
		       type_name(c->type), c->bucket,
		       c->prefix && c->prefix[0] ? c->prefix : "(none)");
		if (c->type == BFS_CATALOG_BUCKET_TABLES)
			printf(" tables=%zu", c->ntables);
		printf("\n");
	}
	bfs_config_release(&cfg);
	return 0;
}

static int cmd_show(const char *given, const char *name)
{
	struct bfs_config cfg = {0};
	const struct bfs_catalog_conf *c;
	int rc = 0;

	if (bfs_cli_config_load(given, &cfg) != 0)
		return 1;
	c = bfs_config_catalog(&cfg, name);
	if (c == NULL) {
		bfs_cli_error("unknown catalog '%s' (see 'bucketfs catalog "
			      "list')",
			      name);
		rc = 1;
		goto out;
	}
	printf("catalog %s\n  type   %s\n  bucket %s\n  prefix %s\n", c->name,
	       type_name(c->type), c->bucket,
	       c->prefix && c->prefix[0] ? c->prefix : "(none)");
	for (size_t i = 0; i < c->ntables; i++)
		printf("  table  %s = %s\n", c->tables[i].name,
		       c->tables[i].pattern);
	if (c->type == BFS_CATALOG_ICEBERG)
		rc = bfs_cli_catalog_show_iceberg(&cfg, c) ? 1 : 0;
out:
	bfs_config_release(&cfg);
	return rc;
}

static void catalog_usage(void)
{
	bfs_cli_help(stderr, "catalog");
}

int bfs_cli_catalog(int argc, char **argv)
{
	const char *given = NULL;
	const char *pos[5];
	struct add_args add = {0};
	int npos = 0;
	char err[256];

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "--config") == 0)
			slot = &given;
		else if (strcmp(a, "--type") == 0)
			slot = &add.type;
		else if (strcmp(a, "--bucket") == 0)
			slot = &add.bucket;
		else if (strcmp(a, "--prefix") == 0)
			slot = &add.prefix;
		if (slot) {
			if (i + 1 >= argc) {
				bfs_cli_error("%s needs a value", a);
				return 2;
			}
			*slot = argv[++i];
		} else if (a[0] == '-') {
			bfs_cli_error("unknown option '%s'", a);
			catalog_usage();
			return 2;
		} else if (npos < 5) {
			pos[npos++] = a;
		} else {
			bfs_cli_error("too many arguments");
			return 2;
		}
	}
	if (npos >= 1 && strcmp(pos[0], "list") == 0 && npos == 1)
		return cmd_list(given);
	if (npos == 2 && strcmp(pos[0], "show") == 0)
		return cmd_show(given, pos[1]);
	if (npos == 2 && strcmp(pos[0], "remove") == 0)
		return edit_config(given, do_remove, (void *)pos[1]) ? 1 : 0;
	if (npos == 2 && strcmp(pos[0], "add") == 0) {
		add.name = pos[1];
		if (add.type == NULL || add.bucket == NULL) {
			bfs_cli_error("catalog add needs --type and --bucket");
			return 2;
		}
		return edit_config(given, do_add, &add) ? 1 : 0;
	}
	if (npos == 5 && strcmp(pos[0], "table") == 0 &&
	    strcmp(pos[1], "add") == 0) {
		struct table_args t = {pos[2], pos[3], pos[4]};

		if (bfs_glob_check(t.pattern, err, sizeof(err)) != 0) {
			bfs_cli_error("table '%s': %s", t.table, err);
			return 1;
		}
		return edit_config(given, do_table_add, &t) ? 1 : 0;
	}
	catalog_usage();
	return 2;
}
