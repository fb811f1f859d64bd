/*
 * stats.c - stats records of the cache layers in the cache index (see
 * stats.h): writing one, pruning those of dead processes, reading them
 * back for `bucketfs cache stats`. Each record written is also the
 * layer's snapshot in the daemon's metrics (metrics.h).
 */
#include "compat.h"

#include <signal.h>
#include <unistd.h>

#include "cache/stats.h"
#include "metrics.h"

#define RECORD_MAX 8192
/* the ask counter's key in the state table */
#define ASK_KEY "stats-ask"

static bool pid_alive(long pid)
{
	if (pid <= 0)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* "bucket\0layer\0pid" into key; its length, or 0 if too long. */
static size_t make_key(char *key, const char *bucket, const char *layer,
		       long pid)
{
	size_t bl = strlen(bucket), ll = strlen(layer);
	int n;

	if (bl + ll + 2 + 21 > BFS_METADB_KEY_MAX)
		return 0;
	memcpy(key, bucket, bl + 1);
	memcpy(key + bl + 1, layer, ll + 1);
	n = snprintf(key + bl + ll + 2, 22, "%ld", pid);
	return bl + ll + 2 + (size_t)n;
}

int bfs_stats_publish(struct bfs_metadb *db, const char *bucket,
		      const char *layer, time_t started,
		      const struct bfs_stats_state *state,
		      const struct bfs_stats_counter *c, size_t n)
{
	char key[BFS_METADB_KEY_MAX + 1];
	char val[RECORD_MAX];
	struct bfs_metadb_txn *txn;
	struct bfs_metrics_counter mc[32];
	size_t klen, len;
	int rc;

	/* the same snapshot feeds the daemon's metrics (metrics.h) */
	for (size_t i = 0; i < n && i < BFS_ARRAY_SIZE(mc); i++)
		mc[i] = (struct bfs_metrics_counter){c[i].name, c[i].value};
	bfs_metrics_layer(bucket, layer, mc, BFS_MIN(n, BFS_ARRAY_SIZE(mc)));
	klen = make_key(key, bucket, layer, (long)getpid());
	if (klen == 0)
		return EINVAL;
	len = (size_t)snprintf(val, sizeof(val),
			       "bfs-stats 1\npid %ld\nstarted %lld\n"
			       "updated %lld\nanswered %llu\npending %llu\n",
			       (long)getpid(), (long long)started,
			       (long long)time(NULL),
			       (unsigned long long)state->answered,
			       (unsigned long long)state->pending);
	for (size_t i = 0; i < n && len < sizeof(val); i++)
		len += (size_t)snprintf(val + len, sizeof(val) - len,
					"%s %llu\n", c[i].name,
					(unsigned long long)c[i].value);
	if (len >= sizeof(val))
		return EINVAL;
	rc = bfs_metadb_begin(db, false, &txn);
	if (rc != 0)
		return rc;
	rc = bfs_metadb_put(txn, BFS_METADB_STATS, key, klen, val, len);
	if (rc != 0) {
		bfs_metadb_abort(txn);
		return rc;
	}
	return bfs_metadb_commit(txn);
}

int bfs_stats_ask(struct bfs_metadb *db, uint64_t *asked)
{
	struct bfs_metadb_txn *txn;
	uint64_t n;
	int rc;

	rc = bfs_metadb_begin(db, false, &txn);
	if (rc != 0)
		return rc;
	rc = bfs_metadb_get_u64(txn, ASK_KEY, &n);
	n++;
	if (rc == 0)
		rc = bfs_metadb_put_u64(txn, ASK_KEY, n);
	if (rc != 0) {
		bfs_metadb_abort(txn);
		return rc;
	}
	rc = bfs_metadb_commit(txn);
	if (rc == 0)
		*asked = n;
	return rc;
}

uint64_t bfs_stats_asked(struct bfs_metadb *db)
{
	struct bfs_metadb_txn *txn;
	uint64_t n = 0;

	if (bfs_metadb_begin(db, true, &txn) != 0)
		return 0;
	if (bfs_metadb_get_u64(txn, ASK_KEY, &n) != 0)
		n = 0;
	bfs_metadb_abort(txn);
	return n;
}

/* The pid at the end of a record key, or -1. */
static long key_pid(const char *key, size_t klen)
{
	char buf[24];
	const char *p = key + klen;
	size_t n = 0;
	char *end;
	long pid;

	while (p > key && p[-1] != '\0' && n < sizeof(buf) - 1) {
		p--;
		n++;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return n > 0 && *end == '\0' ? pid : -1;
}

struct dead {
	char (*keys)[BFS_METADB_KEY_MAX];
	size_t *lens;
	size_t n;
};

static int find_dead(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	struct dead *d = arg;

	(void)val;
	(void)vlen;
	if (pid_alive(key_pid(key, klen)))
		return 0;
	d->keys = bfs_xrealloc(d->keys, (d->n + 1) * sizeof(*d->keys));
	d->lens = bfs_xrealloc(d->lens, (d->n + 1) * sizeof(*d->lens));
	memcpy(d->keys[d->n], key, klen);
	d->lens[d->n++] = klen;
	return 0;
}

int bfs_stats_prune(struct bfs_metadb *db)
{
	struct bfs_metadb_txn *txn;
	struct dead d = {0};
	int rc;

	rc = bfs_metadb_begin(db, false, &txn);
	if (rc != 0)
		return rc;
	rc = bfs_metadb_scan(txn, BFS_METADB_STATS, NULL, 0, find_dead, &d);
	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		rc = bfs_metadb_del(txn, BFS_METADB_STATS, d.keys[i],
				    d.lens[i]);
		if (rc == ENOENT)
			rc = 0;
	}
	if (rc == 0)
		rc = bfs_metadb_commit(txn);
	else
		bfs_metadb_abort(txn);
	free(d.keys);
	free(d.lens);
	return rc;
}

struct read_ctx {
	int (*fn)(void *arg, const struct bfs_stats_record *r);
	void *arg;
};

/* Parse one record (copied: the map is valid only during the scan). */
static int visit(void *arg, const void *key, size_t klen, const void *val,
		 size_t vlen)
{
	struct read_ctx *c = arg;
	struct bfs_stats_record r = {0};
	struct bfs_stats_counter *cs = NULL;
	char *k = bfs_xstrndup(key, klen), *v = bfs_xstrndup(val, vlen);
	size_t bl = strnlen(k, klen);
	int rc;

	/* bfs_xstrndup stops at the first NUL: rebuild the key parts */
	free(k);
	k = bfs_xmalloc(klen + 1);
	memcpy(k, key, klen);
	k[klen] = '\0';
	r.bucket = k;
	r.layer = bl + 1 < klen ? k + bl + 1 : "";
	r.pid = key_pid(key, klen);
	r.alive = pid_alive(r.pid);
	for (char *line = v, *next; line && *line; line = next) {
		char *sp, *end;
		unsigned long long n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp = '\0';
		n = strtoull(sp + 1, &end, 10);
		if (*end != '\0')
			continue;
		if (strcmp(line, "started") == 0)
			r.started = (time_t)n;
		else if (strcmp(line, "updated") == 0)
			r.updated = (time_t)n;
		else if (strcmp(line, "answered") == 0)
			r.state.answered = n;
		else if (strcmp(line, "pending") == 0)
			r.state.pending = n;
		else if (strcmp(line, "pid") != 0 &&
			 strcmp(line, "bfs-stats") != 0) {
			cs = bfs_xrealloc(cs, (r.n + 1) * sizeof(*cs));
			cs[r.n].name = line;
			cs[r.n].value = n;
			r.n++;
		}
	}
	r.c = cs;
	rc = c->fn(c->arg, &r);
	free(cs);
	free(k);
	free(v);
	return rc;
}

int bfs_stats_read(struct bfs_metadb *db, const char *bucket,
		   int (*fn)(void *arg, const struct bfs_stats_record *r),
		   void *arg)
{
	struct read_ctx c = {fn, arg};
	struct bfs_metadb_txn *txn;
	int rc;

	rc = bfs_metadb_begin(db, true, &txn);
	if (rc != 0)
		return rc;
	/* the bucket name and its NUL: exactly this bucket's records */
	rc = bfs_metadb_scan(txn, BFS_METADB_STATS, bucket,
			     bucket ? strlen(bucket) + 1 : 0, visit, &c);
	bfs_metadb_abort(txn);
	return rc;
}

int bfs_stats_clear(struct bfs_metadb *db, const char *bucket)
{
	struct bfs_metadb_txn *txn;
	int rc;

	rc = bfs_metadb_begin(db, false, &txn);
	if (rc != 0)
		return rc;
	rc = bfs_metadb_del_prefix(txn, BFS_METADB_STATS, bucket,
				   bucket ? strlen(bucket) + 1 : 0, NULL, NULL,
				   NULL);
	if (rc != 0) {
		bfs_metadb_abort(txn);
		return rc;
	}
	return bfs_metadb_commit(txn);
}
