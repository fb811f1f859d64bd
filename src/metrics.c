/*
 * metrics.c - the process's metric registry (metrics.h) and its
 * rendering in the Prometheus text format.
 *
 * Slots are allocated once and never freed, so a pointer handed out by
 * bfs_metrics_bucket_get() stays valid on every thread without a
 * reference count; the slot array only grows, under reg.lock.
 */
#include "compat.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "metrics.h"

#define MAX_BUCKETS	   256
#define MAX_LAYERS	   4
#define MAX_LAYER_COUNTERS 32

/* Operations by the names s3.c gives them; the last one takes the rest. */
static const char *const op_names[] = {
	"HEAD",		"GET",		 "PUT",	      "DELETE",
	"LIST",		"COPY",		 "COPY-PART", "MPU-BEGIN",
	"MPU-PART",	"MPU-COMPLETE",	 "MPU-ABORT", "MPU-LIST",
	"DELETE-MULTI", "CREATE-BUCKET", "OTHER",
};
#define NOPS BFS_ARRAY_SIZE(op_names)

enum status {
	ST_OK,		 /* 2xx, a usable answer */
	ST_NOT_FOUND,	 /* 404 */
	ST_PRECONDITION, /* 304, 409, 412: a condition did not hold */
	ST_DENIED,	 /* 401, 403 */
	ST_THROTTLED,	 /* 429, 503 */
	ST_CLIENT_ERROR, /* other 3xx/4xx, an error inside a 200 */
	ST_SERVER_ERROR, /* other 5xx */
	ST_TIMEOUT,	 /* no answer in time */
	ST_NETWORK,	 /* no answer: DNS, connect, TLS, reset, local */
	NSTATUS
};
static const char *const status_names[NSTATUS] = {
	"ok",		"not_found", "precondition_failed",
	"denied",	"throttled", "client_error",
	"server_error", "timeout",   "network_error",
};

/* Latency bucket bounds, seconds; the last bucket is +Inf. */
static const double lat_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				    0.5,   1,	 2.5,	5,    10,  30};
#define NLAT (BFS_ARRAY_SIZE(lat_bounds) + 1)

struct layer_snap {
	char layer[16];
	size_t n;
	struct {
		char name[32];
		uint64_t value;
	} c[MAX_LAYER_COUNTERS];
};

struct bfs_metrics_bucket {
	char name[128];
	_Atomic uint64_t req[NOPS][NSTATUS];
	_Atomic uint64_t lat[NOPS][NLAT]; /* per bucket, not cumulative */
	_Atomic uint64_t lat_usec[NOPS];
	_Atomic uint64_t retries;
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	struct layer_snap layers[MAX_LAYERS]; /* protected by reg.lock */
	size_t nlayers;			      /* protected by reg.lock */
};

static struct {
	pthread_mutex_t lock;
	struct bfs_metrics_bucket *b[MAX_BUCKETS]; /* protected by lock */
	size_t n;				   /* protected by lock */
	_Atomic int64_t fs[BFS_MFS_N];
	time_t started;
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

void bfs_metrics_start(void)
{
	BFS_PCHECK(pthread_mutex_lock(&reg.lock));
	reg.started = time(NULL);
	BFS_PCHECK(pthread_mutex_unlock(&reg.lock));
}

static struct bfs_metrics_bucket *find_locked(const char *name)
{
	for (size_t i = 0; i < reg.n; i++)
		if (strcmp(reg.b[i]->name, name) == 0)
			return reg.b[i];
	return NULL;
}

struct bfs_metrics_bucket *bfs_metrics_bucket_get(const char *name)
{
	struct bfs_metrics_bucket *b;

	if (name == NULL || strlen(name) >= sizeof(b->name))
		return NULL;
	BFS_PCHECK(pthread_mutex_lock(&reg.lock));
	b = find_locked(name);
	if (b == NULL && reg.n < MAX_BUCKETS) {
		b = bfs_xcalloc(1, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", name);
		reg.b[reg.n++] = b;
	}
	BFS_PCHECK(pthread_mutex_unlock(&reg.lock));
	return b;
}

static size_t op_index(const char *op)
{
	for (size_t i = 0; op && i + 1 < NOPS; i++)
		if (strcmp(op_names[i], op) == 0)
			return i;
	return NOPS - 1;
}

static enum status classify(long status, int err)
{
	if (status == 0)
		return err == ETIMEDOUT ? ST_TIMEOUT : ST_NETWORK;
	if (status >= 200 && status < 300)
		return err == 0 ? ST_OK : ST_CLIENT_ERROR;
	switch (status) {
	case 404:
		return ST_NOT_FOUND;
	case 304:
	case 409:
	case 412:
		return ST_PRECONDITION;
	case 401:
	case 403:
		return ST_DENIED;
	case 429:
	case 503:
		return ST_THROTTLED;
	default:
		return status >= 500 ? ST_SERVER_ERROR : ST_CLIENT_ERROR;
	}
}

void bfs_metrics_request(struct bfs_metrics_bucket *b, const char *op,
			 long status, int err, uint64_t usec, unsigned retries,
			 uint64_t bytes_in, uint64_t bytes_out)
{
	size_t o, l;
	double s = (double)usec / 1e6;

	if (b == NULL)
		return;
	o = op_index(op);
	for (l = 0; l + 1 < NLAT && s > lat_bounds[l]; l++)
		;
	atomic_fetch_add_explicit(&b->req[o][classify(status, err)], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&b->lat[o][l], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&b->lat_usec[o], usec, memory_order_relaxed);
	if (retries)
		atomic_fetch_add_explicit(&b->retries, retries,
					  memory_order_relaxed);
	if (bytes_in)
		atomic_fetch_add_explicit(&b->bytes_in, bytes_in,
					  memory_order_relaxed);
	if (bytes_out)
		atomic_fetch_add_explicit(&b->bytes_out, bytes_out,
					  memory_order_relaxed);
}

void bfs_metrics_layer(const char *bucket, const char *layer,
		       const struct bfs_metrics_counter *c, size_t n)
{
	struct bfs_metrics_bucket *b = bfs_metrics_bucket_get(bucket);
	struct layer_snap *s = NULL;

	if (b == NULL || layer == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&reg.lock));
	for (size_t i = 0; i < b->nlayers; i++)
		if (strcmp(b->layers[i].layer, layer) == 0)
			s = &b->layers[i];
	if (s == NULL && b->nlayers < MAX_LAYERS) {
		s = &b->layers[b->nlayers++];
		snprintf(s->layer, sizeof(s->layer), "%s", layer);
	}
	if (s != NULL) {
		s->n = 0;
		for (size_t i = 0; i < n && s->n < MAX_LAYER_COUNTERS; i++) {
			if (strlen(c[i].name) >= sizeof(s->c[0].name))
				continue;
			snprintf(s->c[s->n].name, sizeof(s->c[0].name), "%s",
				 c[i].name);
			s->c[s->n++].value = c[i].value;
		}
	}
	BFS_PCHECK(pthread_mutex_unlock(&reg.lock));
}

void bfs_metrics_fs_add(enum bfs_metrics_fs which, int64_t delta)
{
	if ((unsigned)which < BFS_MFS_N)
		atomic_fetch_add_explicit(&reg.fs[which], delta,
					  memory_order_relaxed);
}

/* ---- rendering ---- */

static uint64_t ld(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* A label value: bucket names are config names, but escape anyway. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void bucket_counter(FILE *f, const char *name, const char *help,
			   size_t off)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < reg.n; i++) {
		_Atomic uint64_t *v =
			(_Atomic uint64_t *)((char *)reg.b[i] + off);

		fprintf(f, "%s{bucket=\"", name);
		put_label(f, reg.b[i]->name);
		fprintf(f, "\"} %llu\n", (unsigned long long)ld(v));
	}
}

static bool op_used(const struct bfs_metrics_bucket *b, size_t o)
{
	for (size_t s = 0; s < NSTATUS; s++)
		if (ld((_Atomic uint64_t *)&b->req[o][s]))
			return true;
	return false;
}

static void render_requests(FILE *f, bool histograms)
{
	family(f, "bucketfs_requests_total", "counter",
	       "Requests sent to the object store, by bucket, operation and "
	       "outcome (HTTP retries are one request).");
	for (size_t i = 0; i < reg.n; i++) {
		struct bfs_metrics_bucket *b = reg.b[i];

		for (size_t o = 0; o < NOPS; o++) {
			for (size_t s = 0; s < NSTATUS; s++) {
				uint64_t v = ld(&b->req[o][s]);

				if (v == 0)
					continue;
				fputs("bucketfs_requests_total{bucket=\"", f);
				put_label(f, b->name);
				fprintf(f, "\",op=\"%s\",status=\"%s\"} %llu\n",
					op_names[o], status_names[s],
					(unsigned long long)v);
			}
		}
	}
	family(f, "bucketfs_request_duration_seconds", "histogram",
	       "Time from sending a request to its final answer, retries and "
	       "backoff included.");
	for (size_t i = 0; i < reg.n; i++) {
		struct bfs_metrics_bucket *b = reg.b[i];

		for (size_t o = 0; o < NOPS; o++) {
			uint64_t cum = 0;

			if (!op_used(b, o))
				continue;
			for (size_t l = 0; l < NLAT; l++) {
				cum += ld(&b->lat[o][l]);
				if (!histograms)
					continue;
				fputs("bucketfs_request_duration_seconds_"
				      "bucket{bucket=\"",
				      f);
				put_label(f, b->name);
				if (l + 1 < NLAT)
					fprintf(f, "\",op=\"%s\",le=\"%g\"} ",
						op_names[o], lat_bounds[l]);
				else
					fprintf(f, "\",op=\"%s\",le=\"+Inf\"} ",
						op_names[o]);
				fprintf(f, "%llu\n", (unsigned long long)cum);
			}
			fputs("bucketfs_request_duration_seconds_sum{bucket=\"",
			      f);
			put_label(f, b->name);
			fprintf(f, "\",op=\"%s\"} %.6f\n", op_names[o],
				(double)ld(&b->lat_usec[o]) / 1e6);
			fputs("bucketfs_request_duration_seconds_count{bucket="
			      "\"",
			      f);
			put_label(f, b->name);
			fprintf(f, "\",op=\"%s\"} %llu\n", op_names[o],
				(unsigned long long)cum);
		}
	}
}

/*
 * A cache layer's counter "hits" of layer "blocks" becomes
 * bucketfs_cache_blocks_hits_total; the prefetcher's are
 * bucketfs_prefetch_*. The few that are levels, not counts, are gauges.
 */
static bool is_gauge(const char *name)
{
	return strcmp(name, "limit") == 0 || strcmp(name, "inflight_peak") == 0;
}

static void metric_name(char *out, size_t len, const char *layer,
			const char *counter)
{
	bool gauge = is_gauge(counter);

	snprintf(out, len, "bucketfs_%s%s_%s%s",
		 strcmp(layer, "prefetch") == 0 ? "" : "cache_", layer, counter,
		 gauge ? "_bytes" : "_total");
}

/* The value of one layer's counter in b's snapshot. */
static bool layer_value(const struct bfs_metrics_bucket *b, const char *layer,
			const char *name, uint64_t *v)
{
	for (size_t l = 0; l < b->nlayers; l++) {
		if (strcmp(b->layers[l].layer, layer) != 0)
			continue;
		for (size_t c = 0; c < b->layers[l].n; c++) {
			if (strcmp(b->layers[l].c[c].name, name) == 0) {
				*v = b->layers[l].c[c].value;
				return true;
			}
		}
	}
	return false;
}

static void render_layers(FILE *f)
{
	struct {
		const char *layer, *name;
	} fam[MAX_LAYERS * MAX_LAYER_COUNTERS];
	size_t nfam = 0;

	/* each (layer, counter) is one family, whatever bucket has it */
	for (size_t i = 0; i < reg.n; i++) {
		const struct bfs_metrics_bucket *b = reg.b[i];

		for (size_t l = 0; l < b->nlayers; l++) {
			for (size_t c = 0; c < b->layers[l].n; c++) {
				size_t k;

				for (k = 0; k < nfam; k++)
					if (strcmp(fam[k].layer,
						   b->layers[l].layer) == 0 &&
					    strcmp(fam[k].name,
						   b->layers[l].c[c].name) == 0)
						break;
				if (k == nfam && nfam < BFS_ARRAY_SIZE(fam)) {
					fam[nfam].layer = b->layers[l].layer;
					fam[nfam++].name =
						b->layers[l].c[c].name;
				}
			}
		}
	}
	for (size_t k = 0; k < nfam; k++) {
		char name[96];

		metric_name(name, sizeof(name), fam[k].layer, fam[k].name);
		family(f, name, is_gauge(fam[k].name) ? "gauge" : "counter",
		       "A cache layer's counter, as `bucketfs cache stats` "
		       "shows it.");
		for (size_t i = 0; i < reg.n; i++) {
			uint64_t v;

			if (!layer_value(reg.b[i], fam[k].layer, fam[k].name,
					 &v))
				continue;
			fprintf(f, "%s{bucket=\"", name);
			put_label(f, reg.b[i]->name);
			fprintf(f, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

static void render_fs(FILE *f)
{
	static const struct {
		enum bfs_metrics_fs which;
		const char *name, *type, *help;
	} m[] = {
		{BFS_MFS_OPEN_FILES, "bucketfs_open_files", "gauge",
		 "Files open through the mount."},
		{BFS_MFS_STAGED_FILES, "bucketfs_staged_files", "gauge",
		 "Files whose writes are staged on local disk."},
		{BFS_MFS_STAGED_BYTES, "bucketfs_staged_bytes", "gauge",
		 "Bytes of the staged files on local disk."},
		{BFS_MFS_UPLOADS_IN_FLIGHT, "bucketfs_uploads_in_flight",
		 "gauge", "Staged files being uploaded now."},
		{BFS_MFS_UPLOADS_OK, "bucketfs_uploads_total", "counter",
		 "Staged files uploaded (on close, fsync or unmount)."},
		{BFS_MFS_UPLOADS_FAILED, "bucketfs_upload_failures_total",
		 "counter", "Uploads of staged files that failed."},
		{BFS_MFS_UPLOAD_BYTES, "bucketfs_upload_bytes_total", "counter",
		 "Bytes of the staged files uploaded."},
		{BFS_MFS_READ_SPLICED_BYTES,
		 "bucketfs_read_spliced_bytes_total", "counter",
		 "Bytes of reads sent to the kernel from block files with "
		 "splice, never copied through the daemon."},
		{BFS_MFS_READ_MAPPED_BYTES, "bucketfs_read_mapped_bytes_total",
		 "counter",
		 "Bytes of reads sent to the kernel from mapped block files "
		 "(a reply too large for a pipe), never read into the "
		 "daemon first."},
	};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(m); i++) {
		int64_t v = atomic_load_explicit(&reg.fs[m[i].which],
						 memory_order_relaxed);

		family(f, m[i].name, m[i].type, m[i].help);
		fprintf(f, "%s %lld\n", m[i].name, (long long)(v < 0 ? 0 : v));
	}
}

char *bfs_metrics_render(bool histograms, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (f == NULL)
		BFS_BUG("open_memstream: %s", strerror(errno));
	BFS_PCHECK(pthread_mutex_lock(&reg.lock));
	family(f, "bucketfs_start_time_seconds", "gauge",
	       "When the daemon started counting, seconds since the epoch.");
	fprintf(f, "bucketfs_start_time_seconds %lld\n",
		(long long)reg.started);
	render_requests(f, histograms);
	bucket_counter(f, "bucketfs_retries_total",
		       "Requests sent again after a failed attempt.",
		       offsetof(struct bfs_metrics_bucket, retries));
	bucket_counter(f, "bucketfs_received_bytes_total",
		       "Body bytes received from the object store.",
		       offsetof(struct bfs_metrics_bucket, bytes_in));
	bucket_counter(f, "bucketfs_sent_bytes_total",
		       "Body bytes sent to the object store.",
		       offsetof(struct bfs_metrics_bucket, bytes_out));
	render_layers(f);
	render_fs(f);
	BFS_PCHECK(pthread_mutex_unlock(&reg.lock));
	if (fclose(f) != 0)
		BFS_BUG("render metrics: %s", strerror(errno));
	*len = n;
	return text;
}
