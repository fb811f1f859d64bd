/*
 * catalog_show.c - the Iceberg part of `bucketfs catalog show`: opens
 * the catalog's bucket and prints each table with its current snapshot,
 * live data files, records and delete files.
 */
#include "compat.h"

#include <inttypes.h>

#include "catalog/ice_resolve.h"
#include "catalog/iceberg_ns.h"
#include "catalog/stack.h"
#include "cli/cli_priv.h"

static void show_table(struct bfs_store *s, const char *catalog_prefix,
		       const char *prefix)
{
	struct bfs_ice_meta m;
	struct bfs_ice_file *files = NULL;
	size_t n = 0, data = 0, dels = 0;
	int64_t records = 0;
	char err[1024] = "";
	const char *name = prefix + strlen(catalog_prefix);

	if (bfs_ice_meta_load(s, prefix, &m, err, sizeof(err)) != 0) {
		printf("  %-40s error: %s\n", name, err);
		return;
	}
	if (m.current_snapshot_id == -1) {
		printf("  %-40s no snapshot yet\n", name);
	} else if (bfs_ice_snapshot_files(
			   s, prefix, &m,
			   bfs_ice_snapshot(&m, m.current_snapshot_id), &files,
			   &n, err, sizeof(err)) != 0) {
		printf("  %-40s snapshot %" PRId64 ": error: %s\n", name,
		       m.current_snapshot_id, err);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (files[i].content == BFS_ICE_DATA) {
				data++;
				records += files[i].record_count;
			} else {
				dels++;
			}
		}
		printf("  %-40s snapshot %" PRId64 "  v%d  %zu data files  "
		       "%" PRId64 " records  %zu delete files  %zu "
		       "snapshots\n",
		       name, m.current_snapshot_id, m.format_version, data,
		       records, dels, m.nsnapshots);
	}
	bfs_ice_files_free(files, n);
	bfs_ice_meta_release(&m);
}

int bfs_cli_catalog_show_iceberg(const struct bfs_config *cfg,
				 const struct bfs_catalog_conf *c)
{
	const struct bfs_bucket_conf *b = bfs_config_bucket(cfg, c->bucket);
	struct bfs_store *s;
	char **tables = NULL;
	size_t n = 0;
	char *prefix;
	char err[1024] = "";
	int rc;

	if (b == NULL)
		return ENOENT;
	s = bfs_stack_open(cfg, b, NULL, err, sizeof(err));
	if (s == NULL) {
		bfs_cli_error("%s", err);
		return errno ? errno : EIO;
	}
	rc = s->start ? s->start(s) : 0;
	prefix = bfs_xasprintf("%s%s", b->prefix ? b->prefix : "",
			       c->prefix ? c->prefix : "");
	if (rc == 0)
		rc = bfs_iceberg_find_tables(s, prefix, &tables, &n);
	if (rc != 0) {
		bfs_cli_error("cannot list tables of catalog '%s': %s", c->name,
			      strerror(rc));
	} else {
		printf("  tables %zu\n", n);
		for (size_t i = 0; i < n; i++)
			show_table(s, prefix, tables[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(tables[i]);
	free(tables);
	free(prefix);
	if (s->shutdown)
		s->shutdown(s);
	s->destroy(s);
	return rc;
}
