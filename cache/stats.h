/*
 * stats.h - the stats records of the cache layers, kept in the cache
 * dir's LMDB environment so `bucketfs cache stats` can read what every
 * running daemon is doing.
 *
 * Invariants:
 * - One record per (bucket, layer, process): key "BUCKET\0LAYER\0PID",
 *   value text lines "NAME VALUE" after a header ("bfs-stats 1", "pid
 *   N", "started T", "updated T"; T in seconds since the epoch). Text,
 *   so a newer daemon may add counters an older CLI just prints.
 * - A layer publishes from its tick (about once a second, only when a
 *   counter changed) and once more at shutdown; so a reader sees values
 *   at most a couple of seconds old.
 * - A record of a process that is gone is pruned by the next daemon
 *   that starts on the dir; readers tell live records from dead ones.
 */
#ifndef BFS_CACHE_STATS_H
#define BFS_CACHE_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cache/index.h"

/* Layer names used in records. */
#define BFS_STATS_LAYER_META	 "metadata"
#define BFS_STATS_LAYER_BLOCKS	 "blocks"
#define BFS_STATS_LAYER_PREFETCH "prefetch"

struct bfs_stats_counter {
	const char *name;
	uint64_t value;
};

/*
 * Write (replace) this process's record for (bucket, layer).
 * @param started when the layer started (the header's "started").
 * @return 0, ENOSPC, EIO, EINVAL (names too long).
 */
int bfs_stats_publish(struct bfs_metadb *db, const char *bucket,
		      const char *layer, time_t started,
		      const struct bfs_stats_counter *c, size_t n);

/* Delete the records of processes that no longer exist. @return 0, EIO. */
int bfs_stats_prune(struct bfs_metadb *db);

/* One record as read back. Strings are valid during the callback. */
struct bfs_stats_record {
	const char *bucket;
	const char *layer;
	long pid;
	bool alive; /* the process exists */
	time_t started, updated;
	const struct bfs_stats_counter *c;
	size_t n;
};

/*
 * Visit every record (of bucket, or of all buckets when NULL) in key
 * order. fn returns 0 to go on.
 * @return 0, fn's non-zero return, EIO.
 */
int bfs_stats_read(struct bfs_metadb *db, const char *bucket,
		   int (*fn)(void *arg, const struct bfs_stats_record *r),
		   void *arg);

/* Delete every record of bucket (all when NULL). @return 0, EIO. */
int bfs_stats_clear(struct bfs_metadb *db, const char *bucket);

#endif
