/*
 * head_pool.h - the HEADs that lookups send along with their LIST
 * (bucket_view.c), run by a small pool of threads of one bucket view
 * instead of a thread made per lookup.
 *
 * Invariants:
 * - At most BFS_HEAD_POOL_MAX threads; they are made as HEADs wait and
 *   no thread is idle, and live until bfs_head_pool_free. A HEAD that
 *   finds every thread busy is not queued behind the others: it is not
 *   started, and the lookup sends it itself once its LIST has answered
 *   (as before the pool, when no thread could be had).
 * - A job is shared by the lookup and the thread running it and freed
 *   by the last of them: a lookup whose LIST answered that no file is
 *   there drops its HEAD without waiting for it (a slow or retried HEAD,
 *   such as s3rver's 500s to a long name, then holds up nobody).
 * - The pool's lock guards its queue, its counts and the jobs' state; it
 *   is a leaf, never held across the network.
 */
#ifndef BFS_CATALOG_HEAD_POOL_H
#define BFS_CATALOG_HEAD_POOL_H

#include <stdbool.h>

#include "store/store.h"

/* Threads one pool runs at most: the HEADs of that many lookups at once. */
#define BFS_HEAD_POOL_MAX 8

struct bfs_head_pool;
struct bfs_head_job;

/* A pool without threads yet (allocation failure aborts). */
struct bfs_head_pool *bfs_head_pool_new(void);

/* Wait until no HEAD is queued or in flight, dropped ones included (before
 * the store shuts down). */
void bfs_head_pool_drain(struct bfs_head_pool *p);

/* Wait for the HEADs in flight (dropped ones too), end the threads, free. */
void bfs_head_pool_free(struct bfs_head_pool *p);

/*
 * Send the HEAD of key to store s on a thread of the pool.
 * @return the job, or NULL when every thread is busy (then nothing was
 *         sent: the caller sends it itself if it still wants it).
 * @note The caller ends the job with exactly one bfs_head_job_wait or
 *       bfs_head_job_drop. s must outlive the pool.
 */
struct bfs_head_job *bfs_head_job_start(struct bfs_head_pool *p,
					struct bfs_store *s, const char *key);

/*
 * Wait for the HEAD's answer and end the job. The HEAD runs as an
 * interruptible request of its thread: when the caller's request is
 * interrupted (cancel.h), the wait ends with EINTR and the HEAD's
 * transfer is cancelled too.
 * @param info receives the answer's info on 0 (the caller releases it).
 * @return what store->head returned, or EINTR.
 */
int bfs_head_job_wait(struct bfs_head_job *j, struct bfs_obj_info *info);

/* End a job whose answer is not wanted, without waiting for it. */
void bfs_head_job_drop(struct bfs_head_job *j);

/* Threads of the pool now (for tests). */
unsigned bfs_head_pool_threads(struct bfs_head_pool *p);

#endif
