/*
 * stats.c - `bucketfs stats MOUNTPOINT [--prometheus]`: the metrics of
 * the daemon serving a mount, read from the hidden xattr
 * user.bucketfs.metrics of the mount root (metrics.h), printed as they
 * are (--prometheus, for a node_exporter textfile or a pipe) or summed
 * up for a person: requests per bucket and operation with their
 * outcomes and mean latency, retries, bytes, cache hit ratios and the
 * filesystem's gauges.
 */
#include "compat.h"

#include <linux/limits.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <time.h>

#include "cli/cli_priv.h"
#include "metrics.h"

/* A request row: (bucket, op) with its outcomes and latency. */
struct req_row {
	char bucket[128];
	char op[32];
	uint64_t total;
	char outcomes[256];
	double secs;
	uint64_t count;
};

/* Per-bucket totals of everything that is not a request row. */
struct bucket_row {
	char bucket[128];
	uint64_t retries, received, sent;
	uint64_t meta_hits, meta_misses, block_hits, block_misses;
	bool have_meta, have_blocks;
};

struct summary {
	struct req_row *req;
	size_t nreq;
	struct bucket_row *b;
	size_t nb;
	long long started;
	uint64_t fs[7]; /* as printed, in render_fs's order */
};

static const char *const fs_names[7] = {
	"bucketfs_open_files",	       "bucketfs_staged_files",
	"bucketfs_staged_bytes",       "bucketfs_uploads_in_flight",
	"bucketfs_uploads_total",      "bucketfs_upload_failures_total",
	"bucketfs_upload_bytes_total",
};

/* The value of label `name` in a "{a=\"x\",b=\"y\"}" list, or "". */
static void label(const char *labels, const char *name, char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "%s=\"", name);
	for (p = labels; (p = strstr(p, pat)) != NULL; p++)
		if (p == labels || p[-1] == '{' || p[-1] == ',')
			break;
	if (p == NULL)
		return;
	for (p += strlen(pat); *p && *p != '"' && n + 1 < len; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
}

static struct req_row *req_row(struct summary *s, const char *bucket,
			       const char *op)
{
	for (size_t i = 0; i < s->nreq; i++)
		if (strcmp(s->req[i].bucket, bucket) == 0 &&
		    strcmp(s->req[i].op, op) == 0)
			return &s->req[i];
	s->req = bfs_xrealloc(s->req, (s->nreq + 1) * sizeof(*s->req));
	memset(&s->req[s->nreq], 0, sizeof(*s->req));
	snprintf(s->req[s->nreq].bucket, sizeof(s->req->bucket), "%s", bucket);
	snprintf(s->req[s->nreq].op, sizeof(s->req->op), "%s", op);
	return &s->req[s->nreq++];
}

static struct bucket_row *bucket_row(struct summary *s, const char *bucket)
{
	for (size_t i = 0; i < s->nb; i++)
		if (strcmp(s->b[i].bucket, bucket) == 0)
			return &s->b[i];
	s->b = bfs_xrealloc(s->b, (s->nb + 1) * sizeof(*s->b));
	memset(&s->b[s->nb], 0, sizeof(*s->b));
	snprintf(s->b[s->nb].bucket, sizeof(s->b->bucket), "%s", bucket);
	return &s->b[s->nb++];
}

static void take_line(struct summary *s, char *line)
{
	char name[128], bucket[128], op[32], status[32];
	char *labels, *val;
	double v;

	if (line[0] == '#' || line[0] == '\0')
		return;
	val = strrchr(line, ' ');
	if (val == NULL)
		return;
	*val++ = '\0';
	v = strtod(val, NULL);
	labels = strchr(line, '{');
	snprintf(name, sizeof(name), "%.*s",
		 (int)(labels ? (size_t)(labels - line) : strlen(line)), line);
	label(labels ? labels : "", "bucket", bucket, sizeof(bucket));
	label(labels ? labels : "", "op", op, sizeof(op));
	label(labels ? labels : "", "status", status, sizeof(status));

	if (strcmp(name, "bucketfs_start_time_seconds") == 0) {
		s->started = (long long)v;
	} else if (strcmp(name, "bucketfs_requests_total") == 0) {
		struct req_row *r = req_row(s, bucket, op);
		size_t n = strlen(r->outcomes);

		r->total += (uint64_t)v;
		snprintf(r->outcomes + n, sizeof(r->outcomes) - n, "%s%s=%llu",
			 n ? " " : "", status, (unsigned long long)v);
	} else if (strcmp(name, "bucketfs_request_duration_seconds_sum") == 0) {
		req_row(s, bucket, op)->secs = v;
	} else if (strcmp(name, "bucketfs_request_duration_seconds_count") ==
		   0) {
		req_row(s, bucket, op)->count = (uint64_t)v;
	} else if (strcmp(name, "bucketfs_retries_total") == 0) {
		bucket_row(s, bucket)->retries = (uint64_t)v;
	} else if (strcmp(name, "bucketfs_received_bytes_total") == 0) {
		bucket_row(s, bucket)->received = (uint64_t)v;
	} else if (strcmp(name, "bucketfs_sent_bytes_total") == 0) {
		bucket_row(s, bucket)->sent = (uint64_t)v;
	} else if (strncmp(name, "bucketfs_cache_metadata_", 24) == 0) {
		struct bucket_row *b = bucket_row(s, bucket);
		const char *c = name + 24;

		b->have_meta = true;
		if (strstr(c, "hits_total"))
			b->meta_hits += (uint64_t)v;
		else if (strstr(c, "misses_total"))
			b->meta_misses += (uint64_t)v;
	} else if (strcmp(name, "bucketfs_cache_blocks_hits_total") == 0) {
		bucket_row(s, bucket)->block_hits = (uint64_t)v;
		bucket_row(s, bucket)->have_blocks = true;
	} else if (strcmp(name, "bucketfs_cache_blocks_misses_total") == 0) {
		bucket_row(s, bucket)->block_misses = (uint64_t)v;
		bucket_row(s, bucket)->have_blocks = true;
	} else {
		for (size_t i = 0; i < BFS_ARRAY_SIZE(fs_names); i++)
			if (strcmp(name, fs_names[i]) == 0)
				s->fs[i] = (uint64_t)v;
	}
}

static void ratio(char *out, size_t len, bool have, uint64_t hits,
		  uint64_t misses)
{
	if (!have || hits + misses == 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.1f%%",
			 100.0 * (double)hits / (double)(hits + misses));
}

static void print_summary(const char *mnt, char *text)
{
	struct summary s = {0};
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		take_line(&s, l);
	printf("%s: daemon counting for %lld s\n", mnt,
	       s.started ? (long long)time(NULL) - s.started : 0LL);
	printf("\n%-16s %-13s %10s %9s  %s\n", "BUCKET", "OP", "REQUESTS",
	       "MEAN_MS", "OUTCOMES");
	for (size_t i = 0; i < s.nreq; i++) {
		const struct req_row *r = &s.req[i];

		printf("%-16s %-13s %10llu %9.1f  %s\n", r->bucket, r->op,
		       (unsigned long long)r->total,
		       r->count ? 1000.0 * r->secs / (double)r->count : 0.0,
		       r->outcomes);
	}
	printf("\n%-16s %8s %14s %14s %9s %9s\n", "BUCKET", "RETRIES",
	       "BYTES_IN", "BYTES_OUT", "META_HIT", "BLOCK_HIT");
	for (size_t i = 0; i < s.nb; i++) {
		const struct bucket_row *b = &s.b[i];
		char mh[16], bh[16];

		ratio(mh, sizeof(mh), b->have_meta, b->meta_hits,
		      b->meta_misses);
		ratio(bh, sizeof(bh), b->have_blocks, b->block_hits,
		      b->block_misses);
		printf("%-16s %8llu %14llu %14llu %9s %9s\n", b->bucket,
		       (unsigned long long)b->retries,
		       (unsigned long long)b->received,
		       (unsigned long long)b->sent, mh, bh);
	}
	printf("\nopen files %llu, staged files %llu (%llu bytes), uploads "
	       "in flight %llu, uploads %llu (%llu failed, %llu bytes)\n",
	       (unsigned long long)s.fs[0], (unsigned long long)s.fs[1],
	       (unsigned long long)s.fs[2], (unsigned long long)s.fs[3],
	       (unsigned long long)s.fs[4], (unsigned long long)s.fs[5],
	       (unsigned long long)s.fs[6]);
	free(s.req);
	free(s.b);
}

int bfs_cli_stats(int argc, char **argv)
{
	const char *mnt = NULL;
	bool prom = false;
	char *buf;
	ssize_t n;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--prometheus") == 0) {
			prom = true;
		} else if (argv[i][0] == '-' || mnt) {
			bfs_cli_error("unexpected '%s' (see 'bucketfs stats "
				      "--help')",
				      argv[i]);
			return 2;
		} else {
			mnt = argv[i];
		}
	}
	if (mnt == NULL) {
		bfs_cli_help(stderr, "stats");
		return 2;
	}
	buf = bfs_xmalloc(XATTR_SIZE_MAX + 1);
	n = getxattr(mnt, BFS_METRICS_XATTR, buf, XATTR_SIZE_MAX);
	if (n < 0) {
		int e = errno;

		if (e == ENODATA || e == ENOTSUP)
			bfs_cli_error("'%s' is not the root of a bucketfs "
				      "mount",
				      mnt);
		else
			bfs_cli_error("cannot read the metrics of '%s': %s",
				      mnt, strerror(e));
		free(buf);
		return 1;
	}
	buf[n] = '\0';
	if (prom)
		fwrite(buf, 1, (size_t)n, stdout);
	else
		print_summary(mnt, buf);
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}
