/*
 * cache.c - `bucketfs cache stats [BUCKET]` and `bucketfs cache clear
 * [BUCKET]`: what the caches in the cache dir hold, what the running
 * daemons report about them (cache/stats.h), and emptying them.
 *
 * stats prints one table, a line per counter, easy to read and to
 * parse:
 *     BUCKET  LAYER     COUNTER        VALUE
 *     lake    metadata  entries        1201
 *     lake    metadata  head_hits      5120
 *     lake    blocks    bytes_on_disk  536953856
 * "entries", "blocks_on_disk" and "bytes_on_disk" are read from the
 * index itself; every other counter is the sum over the daemons running
 * on the cache dir now ("daemons" says how many), since they started.
 * --fresh asks the daemons to write their records now (cache/stats.h)
 * and waits until every live record answers the ask with nothing of its
 * layer pending: what tests read after the work they count.
 */
#include "compat.h"

#include <time.h>

#include "cache/blockcache.h"
#include "cache/index.h"
#include "cache/metacache.h"
#include "cache/stats.h"
#include "cli/cli_priv.h"
#include "conf.h"
#include "util.h"

static void cache_usage(void)
{
	bfs_cli_help(stderr, "cache");
}

/* Counters of one (bucket, layer), summed over live daemons. */
struct row {
	char *bucket;
	char *layer;
	unsigned daemons;
	struct bfs_stats_counter *c; /* names owned */
	size_t n;
};

struct table {
	struct row *rows;
	size_t n;
	/* --fresh: the ask to answer; what the live records say of it */
	uint64_t asked;
	bool unanswered; /* a record answers an earlier ask */
	bool pending;	 /* a record answers it with work still running */
};

/* How long --fresh waits for the daemons, and how often it looks. */
#define FRESH_WAIT_MS 60000
#define FRESH_POLL_MS 50

static struct row *row_get(struct table *t, const char *bucket,
			   const char *layer)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].bucket, bucket) == 0 &&
		    strcmp(t->rows[i].layer, layer) == 0)
			return &t->rows[i];
	t->rows = bfs_xrealloc(t->rows, (t->n + 1) * sizeof(*t->rows));
	memset(&t->rows[t->n], 0, sizeof(t->rows[t->n]));
	t->rows[t->n].bucket = bfs_xstrdup(bucket);
	t->rows[t->n].layer = bfs_xstrdup(layer);
	return &t->rows[t->n++];
}

static void row_add(struct row *r, const char *name, uint64_t v)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->c[i].name, name) == 0) {
			r->c[i].value += v;
			return;
		}
	}
	r->c = bfs_xrealloc(r->c, (r->n + 1) * sizeof(*r->c));
	r->c[r->n].name = bfs_xstrdup(name);
	r->c[r->n].value = v;
	r->n++;
}

static int add_record(void *arg, const struct bfs_stats_record *rec)
{
	struct table *t = arg;
	struct row *r;

	if (!rec->alive)
		return 0;
	if (rec->state.answered < t->asked)
		t->unanswered = true;
	else if (rec->state.pending > 0)
		t->pending = true;
	r = row_get(t, rec->bucket, rec->layer);
	r->daemons++;
	for (size_t i = 0; i < rec->n; i++)
		row_add(r, rec->c[i].name, rec->c[i].value);
	return 0;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->rows[i].n; j++)
			free((char *)t->rows[i].c[j].name);
		free(t->rows[i].c);
		free(t->rows[i].bucket);
		free(t->rows[i].layer);
	}
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

/*
 * The live records of bucket (all when NULL) into t. fresh: ask the
 * daemons first, and read again until every record answers the ask
 * with nothing pending (asking again while something is), or
 * FRESH_WAIT_MS pass (ETIMEDOUT).
 * @return 0, ETIMEDOUT, EIO, ENOSPC.
 */
static int read_records(struct bfs_metadb *db, const char *bucket, bool fresh,
			struct table *t)
{
	struct timespec start, now;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &start);
	t->asked = 0;
	if (fresh && (rc = bfs_stats_ask(db, &t->asked)) != 0)
		return rc;
	for (;;) {
		t->unanswered = t->pending = false;
		rc = bfs_stats_read(db, bucket, add_record, t);
		if (rc != 0 || !fresh || (!t->unanswered && !t->pending))
			return rc;
		table_free(t);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
			    (now.tv_nsec - start.tv_nsec) / 1000000 >
		    FRESH_WAIT_MS)
			return ETIMEDOUT;
		/* work was still running when they answered: ask again */
		if (!t->unanswered && (rc = bfs_stats_ask(db, &t->asked)) != 0)
			return rc;
		bfs_sleep_seconds(FRESH_POLL_MS / 1000.0);
	}
}

static bool listed(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static void print_layer(const char *bucket, const char *layer, struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];

		if (strcmp(r->bucket, bucket) != 0 ||
		    strcmp(r->layer, layer) != 0)
			continue;
		printf("%-16s %-9s %-16s %u\n", bucket, layer, "daemons",
		       r->daemons);
		for (size_t j = 0; j < r->n; j++)
			printf("%-16s %-9s %-16s %llu\n", bucket, layer,
			       r->c[j].name, (unsigned long long)r->c[j].value);
	}
}

static int cmd_stats(const struct bfs_config *cfg, const char *bucket,
		     bool fresh)
{
	const char *dir = cfg->opts.cache_dir;
	char *meta = bfs_xasprintf("%s/meta", dir);
	struct bfs_metadb *db = NULL;
	struct table t = {0};
	char **names = NULL;
	size_t nnames = 0;
	uint64_t blocks, bytes, total = 0, heads, lists;
	char err[512];
	int rc;

	rc = bfs_blockcache_usage(dir, NULL, &blocks, &bytes, &total);
	if (rc == ENOENT) {
		printf("no cache in '%s' yet (a mount of a remote bucket makes "
		       "it)\n",
		       dir);
		rc = 0;
		goto out;
	}
	if (rc == 0) {
		db = bfs_metadb_open(meta, err, sizeof(err));
		rc = db ? read_records(db, bucket, fresh, &t) : errno;
	}
	if (rc == ETIMEDOUT) {
		bfs_cli_error("the daemons on '%s' did not answer with fresh "
			      "counters within %d s",
			      dir, FRESH_WAIT_MS / 1000);
		goto out;
	}
	if (rc != 0) {
		bfs_cli_error("cannot read the cache in '%s': %s", dir,
			      strerror(rc));
		goto out;
	}
	/* the configured remote buckets, then any other with records */
	for (size_t i = 0; i < cfg->nbuckets; i++) {
		const struct bfs_bucket_conf *b = &cfg->buckets[i];

		if (b->provider == BFS_PROVIDER_LOCAL ||
		    (bucket && strcmp(bucket, b->name) != 0))
			continue;
		names = bfs_xrealloc(names, (nnames + 1) * sizeof(*names));
		names[nnames++] = b->name;
	}
	for (size_t i = 0; i < t.n; i++) {
		if (listed(names, nnames, t.rows[i].bucket))
			continue;
		names = bfs_xrealloc(names, (nnames + 1) * sizeof(*names));
		names[nnames++] = t.rows[i].bucket;
	}
	if (bucket && !listed(names, nnames, bucket)) {
		names = bfs_xrealloc(names, (nnames + 1) * sizeof(*names));
		names[nnames++] = (char *)bucket;
	}
	printf("# cache dir %s: %llu bytes in block files\n", dir,
	       (unsigned long long)total);
	printf("%-16s %-9s %-16s %s\n", "BUCKET", "LAYER", "COUNTER", "VALUE");
	for (size_t i = 0; i < nnames; i++) {
		const char *b = names[i];

		bfs_metacache_usage(dir, b, &heads, &lists);
		printf("%-16s %-9s %-16s %llu\n", b, BFS_STATS_LAYER_META,
		       "entries", (unsigned long long)(heads + lists));
		print_layer(b, BFS_STATS_LAYER_META, &t);
		bfs_blockcache_usage(dir, b, &blocks, &bytes, &total);
		printf("%-16s %-9s %-16s %llu\n", b, BFS_STATS_LAYER_BLOCKS,
		       "blocks_on_disk", (unsigned long long)blocks);
		printf("%-16s %-9s %-16s %llu\n", b, BFS_STATS_LAYER_BLOCKS,
		       "bytes_on_disk", (unsigned long long)bytes);
		print_layer(b, BFS_STATS_LAYER_BLOCKS, &t);
		print_layer(b, BFS_STATS_LAYER_PREFETCH, &t);
	}
out:
	bfs_metadb_close(db);
	table_free(&t);
	free(names);
	free(meta);
	return rc ? 1 : 0;
}

static int cmd_clear(const struct bfs_config *cfg, const char *bucket)
{
	const char *dir = cfg->opts.cache_dir;
	uint64_t blocks = 0, bytes = 0, entries = 0;
	char err[512] = "";
	int rc;

	rc = bfs_blockcache_clear(dir, bucket, &blocks, &bytes, err,
				  sizeof(err));
	if (rc == 0)
		rc = bfs_metacache_clear(dir, bucket, &entries, err,
					 sizeof(err));
	if (rc == ENOENT) {
		printf("no cache in '%s': nothing to clear\n", dir);
		return 0;
	}
	if (rc != 0) {
		bfs_cli_error("%s", err[0] ? err : strerror(rc));
		return 1;
	}
	printf("cleared %s%s%s: %llu blocks (%llu bytes), %llu metadata "
	       "entries\n",
	       bucket ? "bucket '" : "the whole cache", bucket ? bucket : "",
	       bucket ? "'" : "", (unsigned long long)blocks,
	       (unsigned long long)bytes, (unsigned long long)entries);
	return 0;
}

int bfs_cli_cache(int argc, char **argv)
{
	const char *given = NULL, *pos[2] = {NULL, NULL};
	struct bfs_config cfg = {0};
	char why[256];
	bool fresh = false;
	int npos = 0, rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				bfs_cli_error("--config needs a value");
				return 2;
			}
			given = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			given = argv[i] + 9;
		} else if (strcmp(argv[i], "--fresh") == 0) {
			fresh = true;
		} else if (argv[i][0] == '-') {
			bfs_cli_error("unknown option '%s'", argv[i]);
			cache_usage();
			return 2;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			bfs_cli_error("too many arguments");
			cache_usage();
			return 2;
		}
	}
	if (npos == 0 ||
	    (strcmp(pos[0], "stats") != 0 && strcmp(pos[0], "clear") != 0)) {
		cache_usage();
		return 2;
	}
	if (fresh && strcmp(pos[0], "stats") != 0) {
		bfs_cli_error("--fresh is an option of cache stats");
		cache_usage();
		return 2;
	}
	if (pos[1] && bfs_config_check_name(pos[1], why, sizeof(why)) != 0) {
		bfs_cli_error("bad bucket name '%s': %s", pos[1], why);
		return 2;
	}
	if (bfs_cli_config_load(given, &cfg) != 0)
		return 1;
	if (strcmp(pos[0], "stats") == 0)
		rc = cmd_stats(&cfg, pos[1], fresh);
	else
		rc = cmd_clear(&cfg, pos[1]);
	bfs_config_release(&cfg);
	return rc;
}
