/*
 * test_iceberg.c - Iceberg resolution on the real tables of
 * $BFS_FIXTURES/iceberg (copied into an in-memory store under a
 * warehouse prefix, as they would sit in a bucket), checked against the
 * facts of fixtures/iceberg/SOURCES.md; path re-rooting vectors; corrupt
 * metadata and manifests.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/ice_resolve.h"
#include "store/mem.h"
#include "tap.h"

/* Copy every file below dir into s under prefix. */
static int load_dir(struct bfs_store *s, const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int count = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *path, *key;
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		path = bfs_xasprintf("%s/%s", dir, de->d_name);
		key = bfs_xasprintf("%s%s", prefix, de->d_name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			char *sub = bfs_xasprintf("%s/", key);

			count += load_dir(s, path, sub);
			free(sub);
		} else {
			struct bfs_put_req req = {.key = key,
						  .size = (uint64_t)sb.st_size};

			req.fd = open(path, O_RDONLY);
			if (req.fd >= 0 && s->put(s, &req, NULL) == 0)
				count++;
			if (req.fd >= 0)
				close(req.fd);
		}
		free(path);
		free(key);
	}
	closedir(d);
	return count;
}

static void put_text(struct bfs_store *s, const char *key, const char *text)
{
	char path[] = "/tmp/bfs-test-iceberg-XXXXXX";
	int fd = mkstemp(path);
	struct bfs_put_req req = {.key = key, .fd = fd, .size = strlen(text)};

	unlink(path);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    s->put(s, &req, NULL) != 0)
		abort();
	close(fd);
}

/* SOURCES.md summary: live data files, records, delete files, snapshots */
static const struct {
	const char *table;
	size_t data_files;
	int64_t records;
	size_t delete_files;
	size_t snapshots;
} tables[] = {
	{"lineitem_iceberg", 1, 51793, 0, 2},
	{"lineitem_iceberg_gz", 1, 111968, 0, 1},
	{"legacy_v1", 2, 3, 0, 1},
	{"merch_v1", 2, 4, 0, 3},
	{"partition_integer", 2, 2, 0, 1},
	{"partition_evolution", 6, 6, 0, 2},
	{"equality_deletes", 2, 6, 4, 6},
	{"equality_deletes_partitioned", 6, 6, 3, 5},
	{"iceberg_partitioned", 20, 20, 0, 1},
	{"iceberg_v2_delete_positional", 1, 3, 1, 2},
	{"iceberg_v2_partitioned_position_deletes", 3, 20, 3, 2},
	{"iceberg_v2_positional_not_all_data_files_have_delete_files", 4, 10, 2,
	 6},
	{"iceberg_v2_delete_both_eq_and_pos", 2, 4, 3, 3},
	{"iceberg_spark_compaction_with_dangling_delete", 1, 4, 1, 4},
	{"iceberg_v3_row_lineage", 1, 3, 0, 4},
	{"biglake_v1", 2, 6, 0, 1},
	{"pyiceberg_object_store", 1, 2, 0, 1},
};

static void check_table(struct bfs_store *s, const char *fixtures, size_t t)
{
	char *dir = bfs_xasprintf("%s/%s", fixtures, tables[t].table);
	char *prefix = bfs_xasprintf("wh/ns/%s/", tables[t].table);
	struct bfs_ice_meta m;
	struct bfs_ice_file *files = NULL;
	size_t n = 0, data = 0, dels = 0;
	int64_t records = 0;
	char err[1024] = "";
	int rc;

	tap_ok(load_dir(s, dir, prefix) > 0, "%s: fixture copied",
	       tables[t].table);
	rc = bfs_ice_meta_load(s, prefix, &m, err, sizeof(err));
	if (!tap_ok(rc == 0, "%s: current metadata loads (%s)", tables[t].table,
		    err))
		goto out;
	tap_ok(m.nsnapshots == tables[t].snapshots,
	       "%s: %zu snapshots (got %zu)", tables[t].table,
	       tables[t].snapshots, m.nsnapshots);
	rc = bfs_ice_snapshot_files(s, prefix, &m,
				    bfs_ice_snapshot(&m, m.current_snapshot_id),
				    &files, &n, err, sizeof(err));
	if (tap_ok(rc == 0, "%s: current snapshot resolves (%s)",
		   tables[t].table, err)) {
		for (size_t i = 0; i < n; i++) {
			struct bfs_obj_info info = {0};

			if (files[i].content == BFS_ICE_DATA) {
				data++;
				records += files[i].record_count;
			} else {
				dels++;
			}
			if (s->head(s, files[i].key, &info) != 0)
				tap_diag("%s: missing %s", tables[t].table,
					 files[i].key);
			else
				records += 0;
			bfs_obj_info_release(&info);
		}
		tap_ok(data == tables[t].data_files,
		       "%s: %zu live data files (got %zu)", tables[t].table,
		       tables[t].data_files, data);
		tap_ok(records == tables[t].records,
		       "%s: %lld records (got %lld)", tables[t].table,
		       (long long)tables[t].records, (long long)records);
		tap_ok(dels == tables[t].delete_files,
		       "%s: %zu delete files (got %zu)", tables[t].table,
		       tables[t].delete_files, dels);
		{
			size_t present = 0;

			for (size_t i = 0; i < n; i++) {
				struct bfs_obj_info info = {0};

				if (s->head(s, files[i].key, &info) == 0)
					present++;
				bfs_obj_info_release(&info);
			}
			tap_ok(present == n,
			       "%s: every live file re-roots onto an object "
			       "of the table (%zu of %zu)",
			       tables[t].table, present, n);
		}
	}
	bfs_ice_files_free(files, n);
	bfs_ice_meta_release(&m);
out:
	free(dir);
	free(prefix);
}

static void test_lineitem_details(struct bfs_store *s)
{
	struct bfs_ice_meta m;
	struct bfs_ice_file *files = NULL;
	size_t n = 0;
	char err[512] = "";
	bool deleted_absent = true;

	if (bfs_ice_meta_load(s, "wh/ns/lineitem_iceberg/", &m, err,
			      sizeof(err)) != 0)
		return;
	bfs_ice_snapshot_files(s, "wh/ns/lineitem_iceberg/", &m,
			       bfs_ice_snapshot(&m, m.current_snapshot_id),
			       &files, &n, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		if (strstr(files[i].key, "00000-1-66fee7c2"))
			deleted_absent = false;
	tap_ok(deleted_absent && n == 1,
	       "lineitem: the DELETED entry's file is not live");
	tap_ok(n == 1 && strcmp(files[0].sub,
				"00000-5-dad9988f-2a3b-464c-adb6-6034de93da19-"
				"00001.parquet") == 0,
	       "lineitem: shown below current/ by its path under data/");
	tap_ok(m.current_snapshot_id == 2354745328521181395LL,
	       "lineitem: current snapshot id 2354745328521181395");
	bfs_ice_files_free(files, n);
	bfs_ice_meta_release(&m);
}

static void test_corrupt(struct bfs_store *s)
{
	struct bfs_ice_meta m;
	struct bfs_ice_file *files = NULL;
	size_t n = 0;
	char err[1024] = "";
	int rc;

	put_text(s, "bad/trunc/metadata/v1.metadata.json",
		 "{\"format-version\": 2, \"location\": \"x\", \"snaps");
	rc = bfs_ice_meta_load(s, "bad/trunc/", &m, err, sizeof(err));
	tap_ok(rc == EIO && strstr(err, "v1.metadata.json") &&
		       strstr(err, "JSON"),
	       "truncated JSON: EIO naming the file: %s", err);
	put_text(
		s, "bad/nomanifest/metadata/v1.metadata.json",
		"{\"format-version\": 2, \"location\": \"s3://b/t\", "
		"\"current-snapshot-id\": 5, \"snapshots\": [{\"snapshot-id\": "
		"5, \"manifest-list\": \"s3://b/t/metadata/snap-5.avro\"}]}");
	rc = bfs_ice_meta_load(s, "bad/nomanifest/", &m, err, sizeof(err));
	tap_ok(rc == 0, "metadata with a missing manifest list loads");
	rc = bfs_ice_snapshot_files(s, "bad/nomanifest/", &m,
				    bfs_ice_snapshot(&m, 5), &files, &n, err,
				    sizeof(err));
	tap_ok(rc == EIO && strstr(err, "bad/nomanifest/metadata/snap-5.avro"),
	       "a missing manifest list: EIO naming it: %s", err);
	put_text(s, "bad/nomanifest/metadata/snap-5.avro", "not avro at all");
	rc = bfs_ice_snapshot_files(s, "bad/nomanifest/", &m,
				    bfs_ice_snapshot(&m, 5), &files, &n, err,
				    sizeof(err));
	tap_ok(rc == EIO && strstr(err, "not an Avro file"),
	       "a manifest list that is not Avro: EIO: %s", err);
	bfs_ice_meta_release(&m);
	rc = bfs_ice_meta_load(s, "bad/none/", &m, err, sizeof(err));
	tap_ok(rc == ENOENT, "no metadata at all: ENOENT");
}

static const struct {
	const char *path, *location, *want;
} reroot_cases[] = {
	{"s3://bkt/wh/t/data/a.parquet", "s3://bkt/wh/t", "P/data/a.parquet"},
	{"s3a://bkt/wh/t/data/a.parquet", "s3a://bkt/wh/t/",
	 "P/data/a.parquet"},
	{"gs://bkt/data/a.parquet", "gs://bkt", "P/data/a.parquet"},
	{"file:///Users/x/t/data/a", "file:///Users/x/t", "P/data/a"},
	{"hdfs://h:1/w/t/m/x.avro", "hdfs://h:1/w/t", "P/m/x.avro"},
	{"/w/t/data/a", "/w/t", "P/data/a"},
	{"t/data/a", "./t", "P/data/a"},
	{"s3://other/elsewhere/a", "s3://bkt/wh/t", NULL},
	{"s3://bkt/wh/tt/data/a", "s3://bkt/wh/t", NULL},
};

/*
 * tests/fixtures/iceberg_gen/codec_*: partition_integer with its Avro
 * files rewritten by tests/tools/ice_gen.py with each codec of the Avro
 * spec; each resolves to the same 2 files and 2 records, and a codec the
 * spec does not know is EIO naming it.
 */
static void test_codecs(struct bfs_store *s, const char *gen)
{
	static const char *const codecs[] = {"null",	  "deflate", "snappy",
					     "zstandard", "bzip2",   "xz"};

	for (size_t i = 0; i <= BFS_ARRAY_SIZE(codecs); i++) {
		const char *c = i < BFS_ARRAY_SIZE(codecs) ? codecs[i] : "lz4";
		char *dir = bfs_xasprintf("%s/codec_%s", gen, c);
		char *prefix = bfs_xasprintf("gen/codec_%s/", c);
		struct bfs_ice_file *files = NULL;
		struct bfs_ice_meta m;
		char err[1024] = "";
		int64_t records = 0;
		size_t n = 0;
		int rc;

		tap_ok(load_dir(s, dir, prefix) > 0, "codec %s: fixture copied",
		       c);
		rc = bfs_ice_meta_load(s, prefix, &m, err, sizeof(err));
		if (rc == 0)
			rc = bfs_ice_snapshot_files(
				s, prefix, &m,
				bfs_ice_snapshot(&m, m.current_snapshot_id),
				&files, &n, err, sizeof(err));
		for (size_t j = 0; j < n; j++)
			records += files[j].record_count;
		if (i < BFS_ARRAY_SIZE(codecs))
			tap_ok(rc == 0 && n == 2 && records == 2,
			       "codec %s: 2 files, 2 records (rc %d, %zu "
			       "files, %lld records) %s",
			       c, rc, n, (long long)records, err);
		else
			tap_ok(rc == EIO && strstr(err, "unknown Avro codec "
							"'lz4x'"),
			       "an unknown codec is EIO naming it: %s", err);
		bfs_ice_files_free(files, n);
		bfs_ice_meta_release(&m);
		free(dir);
		free(prefix);
	}
}

/*
 * parts_migrated: files outside data/, so their paths below current/ are
 * synthesised from the manifest's partition values; EXPECTED holds the
 * paths Iceberg Java's rules give (computed by tests/tools/ice_gen.py).
 */
static void test_partition_paths(struct bfs_store *s, const char *gen)
{
	char *dir = bfs_xasprintf("%s/parts_migrated", gen);
	char *exp = bfs_xasprintf("%s/parts_migrated/EXPECTED", gen);
	const char *prefix = "gen/parts_migrated/";
	struct bfs_ice_file *files = NULL;
	struct bfs_ice_meta m;
	char err[1024] = "", line[4096];
	size_t n = 0, checked = 0;
	FILE *fp;
	int rc;

	load_dir(s, dir, prefix);
	rc = bfs_ice_meta_load(s, prefix, &m, err, sizeof(err));
	if (rc == 0)
		rc = bfs_ice_snapshot_files(
			s, prefix, &m,
			bfs_ice_snapshot(&m, m.current_snapshot_id), &files, &n,
			err, sizeof(err));
	tap_ok(rc == 0 && n == 3, "parts_migrated resolves (%s)", err);
	fp = fopen(exp, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		char *val = strchr(line, ' ');
		bool found = false;

		line[strcspn(line, "\n")] = '\0';
		if (val == NULL)
			continue;
		*val++ = '\0';
		for (size_t i = 0; i < n && !found; i++) {
			const char *base = strrchr(files[i].key, '/') + 1;

			if (strcmp(line, "file") == 0)
				found = strcmp(files[i].sub, val) == 0;
			else if (strncmp(val, base, strlen(base)) == 0)
				found = strcmp(files[i].partition,
					       val + strlen(base) + 1) == 0;
		}
		tap_ok(found, "parts_migrated: %s %s", line, val);
		checked++;
	}
	if (fp)
		fclose(fp);
	tap_ok(checked == 6, "parts_migrated: 6 expectations checked");
	bfs_ice_files_free(files, n);
	if (rc == 0 || n)
		bfs_ice_meta_release(&m);
	free(dir);
	free(exp);
}

/*
 * dv_table: two deletion vectors in one Puffin file are two entries with
 * distinct names, each naming its data file, offset and length as
 * EXPECTED (from tests/tools/ice_gen.py) says: "dv NAME DATA OFF LEN".
 */
static void test_dvs(struct bfs_store *s, const char *gen)
{
	char *dir = bfs_xasprintf("%s/dv_table", gen);
	char *exp = bfs_xasprintf("%s/dv_table/EXPECTED", gen);
	const char *prefix = "gen/dv_table/";
	struct bfs_ice_file *files = NULL;
	struct bfs_ice_meta m;
	char err[1024] = "", line[1024];
	size_t n = 0, checked = 0;
	FILE *fp;
	int rc;

	load_dir(s, dir, prefix);
	rc = bfs_ice_meta_load(s, prefix, &m, err, sizeof(err));
	if (rc == 0)
		rc = bfs_ice_snapshot_files(
			s, prefix, &m,
			bfs_ice_snapshot(&m, m.current_snapshot_id), &files, &n,
			err, sizeof(err));
	tap_ok(rc == 0 && n == 8, "dv_table resolves: 4 data, 4 deletes (%s)",
	       err);
	fp = fopen(exp, "r");
	while (fp && fgets(line, sizeof(line), fp)) {
		char name[256], data[256];
		long long off, len;
		bool found = false;

		if (sscanf(line, "dv %255s %255s %lld %lld", name, data, &off,
			   &len) != 4)
			continue;
		for (size_t i = 0; i < n && !found; i++) {
			const char *r = files[i].referenced;

			found = files[i].is_dv &&
				strcmp(files[i].sub, name) == 0 && r &&
				strlen(r) > strlen(data) &&
				strcmp(r + strlen(r) - strlen(data), data) ==
					0 &&
				files[i].dv_offset == off &&
				files[i].dv_length == len;
		}
		tap_ok(found, "dv_table: %s applies to %s at %lld+%lld", name,
		       data, off, len);
		checked++;
	}
	if (fp)
		fclose(fp);
	tap_ok(checked == 2, "dv_table: 2 deletion vectors checked");
	bfs_ice_files_free(files, n);
	bfs_ice_meta_release(&m);
	free(dir);
	free(exp);
}

/* A file's list as EXPECTED writes it: paths below the snapshot's
 * directory, space-separated. */
static char *joined(struct bfs_ice_file *const *v, size_t n)
{
	char *out = bfs_xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *next = bfs_xasprintf(
			"%s%s%s%s", out, i ? " " : "",
			v[i]->content == BFS_ICE_DATA ? "" : ".deletes/",
			v[i]->sub);

		free(out);
		out = next;
	}
	return out;
}

static struct bfs_ice_file *by_sub(struct bfs_ice_file *files, size_t n,
				   const char *sub)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].sub, sub) == 0)
			return &files[i];
	return NULL;
}

/*
 * Which deletes apply, against the table's EXPECTED (written by
 * ice_gen.py from the spec's rules, not by this code): "applies DATA
 * DELETES…", "appliesto DELETE DATA…", "seq FILE SEQ FILE_SEQ", "spec
 * FILE ID".
 */
static void test_applies(struct bfs_store *s, const char *gen,
			 const char *table, size_t want_lines)
{
	char *dir = bfs_xasprintf("%s/%s", gen, table);
	char *exp = bfs_xasprintf("%s/%s/EXPECTED", gen, table);
	char *prefix = bfs_xasprintf("gen/%s/", table);
	struct bfs_ice_file *files = NULL;
	struct bfs_ice_meta m;
	char err[1024] = "", line[2048];
	size_t n = 0, checked = 0;
	FILE *fp;
	int rc;

	load_dir(s, dir, prefix);
	rc = bfs_ice_meta_load(s, prefix, &m, err, sizeof(err));
	if (rc == 0)
		rc = bfs_ice_snapshot_files(
			s, prefix, &m,
			bfs_ice_snapshot(&m, m.current_snapshot_id), &files, &n,
			err, sizeof(err));
	tap_ok(rc == 0, "%s resolves (%s)", table, err);
	fp = fopen(exp, "r");
	while (rc == 0 && fp && fgets(line, sizeof(line), fp)) {
		char kind[32], name[256], *rest, *got = NULL;
		struct bfs_ice_file *f;
		int off = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%31s %255s %n", kind, name, &off) < 2 ||
		    off == 0)
			off = (int)strlen(line);
		rest = line + off;
		f = by_sub(files, n, name);
		if (strcmp(kind, "applies") == 0)
			got = f ? joined(f->deletes, f->ndeletes) : NULL;
		else if (strcmp(kind, "appliesto") == 0)
			got = f ? joined(f->applies, f->napplies) : NULL;
		else if (strcmp(kind, "seq") == 0)
			got = f ? bfs_xasprintf("%lld %lld", (long long)f->seq,
						(long long)f->file_seq)
				: NULL;
		else if (strcmp(kind, "spec") == 0)
			got = f ? bfs_xasprintf("%d", (int)f->spec_id) : NULL;
		else
			continue;
		tap_ok(got && strcmp(got, rest) == 0,
		       "%s: %s %s: '%s' (got '%s')", table, kind, name, rest,
		       got ? got : "no such file");
		free(got);
		checked++;
	}
	if (fp)
		fclose(fp);
	tap_ok(checked == want_lines, "%s: %zu expectations checked", table,
	       checked);
	bfs_ice_files_free(files, n);
	if (rc == 0)
		bfs_ice_meta_release(&m);
	free(prefix);
	free(dir);
	free(exp);
}

int main(void)
{
	const char *srcdir = getenv("BFS_SRCDIR");
	char *gen = bfs_xasprintf("%s/tests/fixtures/iceberg_gen",
				  srcdir ? srcdir : ".");
	const char *fixture_dir = getenv("BFS_FIXTURES");
	char *fixtures = bfs_xasprintf(
		"%s/iceberg", fixture_dir ? fixture_dir : "tests/fixtures");
	struct bfs_store *s = bfs_mem_create("mem");

	for (size_t i = 0; i < BFS_ARRAY_SIZE(reroot_cases); i++) {
		char *got = bfs_ice_reroot(reroot_cases[i].path,
					   reroot_cases[i].location, "P/");
		bool ok =
			reroot_cases[i].want
				? got && strcmp(got, reroot_cases[i].want) == 0
				: got == NULL;

		tap_ok(ok, "reroot %s (location %s) -> %s (got %s)",
		       reroot_cases[i].path, reroot_cases[i].location,
		       reroot_cases[i].want ? reroot_cases[i].want : "none",
		       got ? got : "none");
		free(got);
	}
	for (size_t t = 0; t < BFS_ARRAY_SIZE(tables); t++)
		check_table(s, fixtures, t);
	test_lineitem_details(s);
	test_corrupt(s);
	test_codecs(s, gen);
	test_partition_paths(s, gen);
	test_dvs(s, gen);
	test_applies(s, gen, "dv_table", 4);
	test_applies(s, gen, "applies", 12);
	s->destroy(s);
	free(fixtures);
	free(gen);
	return tap_done();
}
