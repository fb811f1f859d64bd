/*
 * test_metrics.c - the metric registry (src/metrics.c): outcomes land in
 * their status class, latencies in their histogram bucket, counters
 * added from several threads at once lose nothing, cache layer
 * snapshots and filesystem gauges render under their names, label
 * values are escaped, and the compact form drops only the buckets.
 */
#include "compat.h"

#include <errno.h>
#include <pthread.h>

#include "metrics.h"
#include "tests/unit/tap.h"

static char *text;

static void render(bool histograms)
{
	size_t len;

	free(text);
	text = bfs_metrics_render(histograms, &len);
}

/* The line of text that starts with prefix holds value (after a space). */
static bool has(const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static void *hammer(void *arg)
{
	struct bfs_metrics_bucket *b = arg;

	for (int i = 0; i < 100000; i++)
		bfs_metrics_request(b, "PUT", 200, 0, 1000, 0, 1, 2);
	return NULL;
}

int main(void)
{
	struct bfs_metrics_bucket *b = bfs_metrics_bucket_get("lake");
	pthread_t t[4];

	tap_ok(b != NULL, "a bucket gets a slot");
	tap_ok(bfs_metrics_bucket_get("lake") == b,
	       "the same name gets the same slot");
	bfs_metrics_start();

	bfs_metrics_request(b, "GET", 206, 0, 3000, 0, 100, 0);
	bfs_metrics_request(b, "GET", 404, ENOENT, 7000000, 0, 0, 0);
	bfs_metrics_request(b, "GET", 0, ETIMEDOUT, 31000000, 2, 0, 0);
	bfs_metrics_request(b, "GET", 503, EIO, 20000, 3, 0, 0);
	bfs_metrics_request(b, "HEAD", 412, ESTALE, 1000, 0, 0, 0);
	bfs_metrics_request(b, "FROB", 200, 0, 1000, 0, 0, 0);
	render(true);
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"GET\","
		   "status=\"ok\"} 1"),
	       "a 206 is ok");
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"GET\","
		   "status=\"not_found\"} 1"),
	       "a 404 is not_found");
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"GET\","
		   "status=\"timeout\"} 1"),
	       "no answer and ETIMEDOUT is timeout");
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"GET\","
		   "status=\"throttled\"} 1"),
	       "a 503 is throttled");
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"HEAD\","
		   "status=\"precondition_failed\"} 1"),
	       "a 412 is precondition_failed");
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"OTHER\","
		   "status=\"ok\"} 1"),
	       "an unknown operation is OTHER");
	tap_ok(has("bucketfs_request_duration_seconds_bucket{bucket=\"lake\","
		   "op=\"GET\",le=\"0.005\"} 1"),
	       "3 ms is in the 5 ms bucket");
	tap_ok(has("bucketfs_request_duration_seconds_bucket{bucket=\"lake\","
		   "op=\"GET\",le=\"5\"} 2"),
	       "20 ms is under 5 s, 7 s is not");
	tap_ok(has("bucketfs_request_duration_seconds_bucket{bucket=\"lake\","
		   "op=\"GET\",le=\"10\"} 3"),
	       "7 s is under 10 s");
	tap_ok(has("bucketfs_request_duration_seconds_bucket{bucket=\"lake\","
		   "op=\"GET\",le=\"+Inf\"} 4"),
	       "31 s is only in +Inf");
	tap_ok(has("bucketfs_request_duration_seconds_count{bucket=\"lake\","
		   "op=\"GET\"} 4"),
	       "_count is every GET");
	tap_ok(has("bucketfs_request_duration_seconds_sum{bucket=\"lake\","
		   "op=\"GET\"} 38.023000"),
	       "_sum is their seconds");
	tap_ok(has("bucketfs_retries_total{bucket=\"lake\"} 5"),
	       "retries add up");
	tap_ok(has("bucketfs_received_bytes_total{bucket=\"lake\"} 100"),
	       "bytes received add up");
	tap_ok(!strstr(text, "op=\"DELETE\""),
	       "an operation never sent has no series");

	for (int i = 0; i < 4; i++)
		BFS_PCHECK(pthread_create(&t[i], NULL, hammer, b));
	for (int i = 0; i < 4; i++)
		BFS_PCHECK(pthread_join(t[i], NULL));
	render(true);
	tap_ok(has("bucketfs_requests_total{bucket=\"lake\",op=\"PUT\","
		   "status=\"ok\"} 400000"),
	       "4 threads x 100000 requests lose none");
	tap_ok(has("bucketfs_sent_bytes_total{bucket=\"lake\"} 800000"),
	       "nor a byte");

	{
		const struct bfs_metrics_counter c[] = {{"hits", 5},
							{"limit", 1024}};
		const struct bfs_metrics_counter c2[] = {{"hits", 7}};

		bfs_metrics_layer("lake", "blocks", c, 2);
		bfs_metrics_layer("lake", "blocks", c2, 1);
		bfs_metrics_layer("we\"ird", "blocks", c, 2);
	}
	bfs_metrics_fs_add(BFS_MFS_OPEN_FILES, 2);
	bfs_metrics_fs_add(BFS_MFS_OPEN_FILES, -1);
	render(true);
	tap_ok(has("bucketfs_cache_blocks_hits_total{bucket=\"lake\"} 7"),
	       "a layer's newer snapshot replaces the older one");
	tap_ok(!has("bucketfs_cache_blocks_limit_bytes{bucket=\"lake\"} 1024"),
	       "a counter the newer snapshot lacks is gone");
	tap_ok(has("bucketfs_cache_blocks_limit_bytes{bucket=\"we\\\"ird\"} "
		   "1024"),
	       "limit is a gauge in bytes; quotes in labels are escaped");
	tap_ok(has("# TYPE bucketfs_cache_blocks_limit_bytes gauge"),
	       "and typed gauge");
	tap_ok(strstr(text,
		      "# TYPE bucketfs_cache_blocks_hits_total counter") &&
		       strstr(strstr(text, "# TYPE bucketfs_cache_blocks_hits_"
					   "total") +
				      1,
			      "# TYPE bucketfs_cache_blocks_hits_total") ==
			       NULL,
	       "one TYPE line per family, whatever the number of buckets");
	tap_ok(has("bucketfs_open_files 1"), "the open files gauge");

	render(false);
	tap_ok(!strstr(text, "_bucket{"), "the compact form has no buckets");
	tap_ok(has("bucketfs_request_duration_seconds_count{bucket=\"lake\","
		   "op=\"GET\"} 4"),
	       "but keeps _count");
	free(text);
	return tap_done();
}
