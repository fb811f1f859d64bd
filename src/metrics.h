/*
 * metrics.h - the daemon's counters for operators, rendered in the
 * Prometheus text format (doc/operations.md, "Metrics").
 *
 * Invariants:
 * - One registry per process (one mount per daemon). A bucket's slot is
 *   made the first time its name is asked for and lives until the
 *   process ends, so its counters never go backwards while the daemon
 *   runs, even when the bucket's store is rebuilt by a config reload.
 * - Every counter on a request path is a relaxed atomic add: no lock,
 *   no allocation. Only slot creation, the cache layers' once-a-second
 *   snapshots and rendering take the registry lock, and none of them
 *   does I/O under it.
 * - Label values are bounded sets (bucket names from the config, the
 *   operation names and status classes below), never object keys.
 * - Every metric name starts with "bucketfs_".
 */
#ifndef BFS_METRICS_H
#define BFS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The hidden xattr of the mount root that holds the rendered text. */
#define BFS_METRICS_XATTR "user.bucketfs.metrics"

struct bfs_metrics_bucket;

/* Note when the daemon started (bucketfs_start_time_seconds). */
void bfs_metrics_start(void);

/*
 * The slot of bucket name, made on first use.
 * @return the slot (never freed), or NULL when the registry is full
 *         (requests of that bucket are then not counted).
 * @note thread-safe.
 */
struct bfs_metrics_bucket *bfs_metrics_bucket_get(const char *name);

/*
 * Count one request to the server, its HTTP-level retries included.
 * @param b the bucket's slot (NULL: nothing is counted)
 * @param op the operation name as in log lines ("GET", "MPU-PART" ...)
 * @param status the final HTTP status, 0 when no response arrived
 * @param err 0 for a usable answer, else the errno it ended with
 * @param usec how long it took, retries and backoff included
 * @param retries attempts after the first
 * @param bytes_in body bytes received, bytes_out body bytes sent
 * @note lock-free.
 */
void bfs_metrics_request(struct bfs_metrics_bucket *b, const char *op,
			 long status, int err, uint64_t usec, unsigned retries,
			 uint64_t bytes_in, uint64_t bytes_out);

/*
 * Replace the snapshot of a cache layer's counters ("metadata",
 * "blocks", "prefetch") of bucket. Names are copied.
 */
struct bfs_metrics_counter {
	const char *name;
	uint64_t value;
};
void bfs_metrics_layer(const char *bucket, const char *layer,
		       const struct bfs_metrics_counter *c, size_t n);

/* Gauges and counters of the filesystem layer, process-wide. */
enum bfs_metrics_fs {
	BFS_MFS_OPEN_FILES,	   /* gauge: file handles open */
	BFS_MFS_STAGED_FILES,	   /* gauge: files with staged writes */
	BFS_MFS_STAGED_BYTES,	   /* gauge: bytes of those files */
	BFS_MFS_UPLOADS_IN_FLIGHT, /* gauge */
	BFS_MFS_UPLOADS_OK,	   /* counter */
	BFS_MFS_UPLOADS_FAILED,	   /* counter */
	BFS_MFS_UPLOAD_BYTES,	   /* counter: bytes of uploaded files */
	/* counters: read bytes answered straight from block files
	 * (src/fs/read_reply.c), by splice or from a mapping */
	BFS_MFS_READ_SPLICED_BYTES,
	BFS_MFS_READ_MAPPED_BYTES,
	BFS_MFS_N
};
void bfs_metrics_fs_add(enum bfs_metrics_fs which, int64_t delta);

/*
 * Render every metric in the Prometheus text format (version 0.0.4).
 * @param histograms false leaves the latency buckets out (keeping
 *        _sum and _count), for a reader with little room
 * @param len receives the length (without the NUL)
 * @return the text, NUL-terminated, for the caller to free.
 */
char *bfs_metrics_render(bool histograms, size_t *len);

#endif
