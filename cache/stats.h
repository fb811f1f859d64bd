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
 * - A layer publishes when it starts, from its tick (about once a
 *   second, only when a counter changed or a reader asked) and once more
 *   at shutdown; so a reader sees values at most a couple of seconds
 *   old, and one that asks (bfs_stats_ask) can wait for values taken
 *   after its ask.
 * - Beside the counters a record says which ask it answers ("answered
 *   N": the latest ask read before the counters were taken) and how much
 *   of the layer's work was still running then ("pending N": blocks
 *   being fetched in the background, prefetch jobs queued or running).
 *   The ask is a counter in the index's state table, never reset.
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

/* What a record tells beside its counters (see above). */
struct bfs_stats_state {
	uint64_t answered;
	uint64_t pending;
};

/*
 * Write (replace) this process's record for (bucket, layer).
 * @param started when the layer started (the header's "started").
 * @return 0, ENOSPC, EIO, EINVAL (names too long).
 */
int bfs_stats_publish(struct bfs_metadb *db, const char *bucket,
		      const char *layer, time_t started,
		      const struct bfs_stats_state *state,
		      const struct bfs_stats_counter *c, size_t n);

/*
 * Ask every daemon on the cache dir to publish each record at its next
 * tick, changed or not.
 * @param asked receives the number of this ask (records answering it or
 *        a later one say "answered" >= it).
 * @return 0, ENOSPC, EIO.
 */
int bfs_stats_ask(struct bfs_metadb *db, uint64_t *asked);

/* The latest ask (0: none yet, or the index cannot be read). A layer
 * reads it before taking its counters. */
uint64_t bfs_stats_asked(struct bfs_metadb *db);

/* Delete the records of processes that no longer exist. @return 0, EIO. */
int bfs_stats_prune(struct bfs_metadb *db);

/* One record as read back. Strings are valid during the callback. */
struct bfs_stats_record {
	const char *bucket;
	const char *layer;
	long pid;
	bool alive; /* the process exists */
	time_t started, updated;
	struct bfs_stats_state state;
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
