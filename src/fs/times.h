/*
 * times.h - times this mount knows but has not stored in the bucket: a
 * directory's mtime and ctime after an entry was created, removed or
 * renamed in it, a file's atime after a read (relatime), a directory
 * without a marker's newest entry. Kept per (store, key), outside the
 * inode table, because the kernel may forget an inode at any moment
 * (memory pressure, drop_caches) and look it up again.
 *
 * Invariants:
 * - A noted time only ever makes an attribute later: a stale entry (an
 *   object removed and made again) cannot take a time back. An explicit
 *   utimens forgets the times it sets, so the value set stands.
 * - At most BFS_TIMES_MAX entries: past that the table is emptied and
 *   the times it held fall back to what the bucket stores.
 * - All functions are thread-safe (one mutex, taken last: callers may
 *   hold an inode's lock).
 */
#ifndef BFS_FS_TIMES_H
#define BFS_FS_TIMES_H

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog/ns.h"

#define BFS_TIMES_MAX 65536

enum {
	BFS_TIME_A = 1, /* atime */
	BFS_TIME_M = 2, /* mtime */
	BFS_TIME_C = 4, /* ctime */
};

struct bfs_times_entry;

struct bfs_times {
	pthread_mutex_t lock;
	/* protected by lock */
	struct bfs_times_entry **buckets;
	size_t nbuckets;
	size_t count;
};

void bfs_times_init(struct bfs_times *t);
void bfs_times_release(struct bfs_times *t);

/*
 * Note ts as the times which (BFS_TIME_*) of node, where later than what
 * is noted already. Nodes without a store or key are ignored.
 */
void bfs_times_note(struct bfs_times *t, const struct bfs_node *node,
		    unsigned which, const struct timespec *ts);
/* Forget the noted times which of node (it was given them explicitly). */
void bfs_times_forget(struct bfs_times *t, const struct bfs_node *node,
		      unsigned which);
/* Make each time of st the noted one where that is later. */
void bfs_times_apply(struct bfs_times *t, const struct bfs_node *node,
		     struct stat *st);

#endif
