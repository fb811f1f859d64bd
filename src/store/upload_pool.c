/*
 * upload_pool.c - the one thread pool of the process that sends the
 * parts of multipart uploads, whole-file and streamed alike (see
 * upload.h). Threads are made as work waits and no thread is idle, up to
 * BFS_UPLOAD_POOL_MAX, and wait for more work until
 * bfs_upload_pool_stop: a mount that never uploads in parts never makes
 * one. The pool's lock guards only its queue and counts (a leaf: a task
 * runs with it dropped).
 */
#include "compat.h"

#include <pthread.h>

#include "log.h"
#include "store/upload_priv.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a task was queued, or stop */
	/* protected by lock */
	struct bfs_upload_task *head, *tail;
	unsigned nqueued;
	unsigned nthreads;
	unsigned nidle; /* threads waiting for work */
	bool stop;
	pthread_t threads[BFS_UPLOAD_POOL_MAX];
} P = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
};

static void *worker(void *arg)
{
	(void)arg;
	BFS_PCHECK(pthread_mutex_lock(&P.lock));
	for (;;) {
		struct bfs_upload_task *t;

		while (P.head == NULL && !P.stop) {
			P.nidle++;
			BFS_PCHECK(pthread_cond_wait(&P.work, &P.lock));
			P.nidle--;
		}
		t = P.head;
		if (t == NULL)
			break; /* stopping, and nothing left to run */
		P.head = t->next;
		if (P.head == NULL)
			P.tail = NULL;
		P.nqueued--;
		BFS_PCHECK(pthread_mutex_unlock(&P.lock));
		t->run(t); /* may free t */
		BFS_PCHECK(pthread_mutex_lock(&P.lock));
	}
	BFS_PCHECK(pthread_mutex_unlock(&P.lock));
	return NULL;
}

void bfs_upload_pool_submit(struct bfs_upload_task *t)
{
	bool inline_run = false;

	t->next = NULL;
	BFS_PCHECK(pthread_mutex_lock(&P.lock));
	assert(!P.stop);
	if (P.tail)
		P.tail->next = t;
	else
		P.head = t;
	P.tail = t;
	P.nqueued++;
	if (P.nqueued > P.nidle && P.nthreads < BFS_UPLOAD_POOL_MAX) {
		int rc = pthread_create(&P.threads[P.nthreads], NULL, worker,
					NULL);

		if (rc == 0) {
			P.nthreads++;
		} else if (P.nthreads == 0) {
			/* no thread to run it: run it here, as it was */
			bfs_log(LOG_WARNING,
				"cannot start an upload thread (%s): sending "
				"the part in the caller",
				strerror(rc));
			P.head = P.tail = NULL;
			P.nqueued = 0;
			inline_run = true;
		}
	}
	BFS_PCHECK(pthread_cond_signal(&P.work));
	BFS_PCHECK(pthread_mutex_unlock(&P.lock));
	if (inline_run)
		t->run(t);
}

unsigned bfs_upload_pool_threads(void)
{
	unsigned n;

	BFS_PCHECK(pthread_mutex_lock(&P.lock));
	n = P.nthreads;
	BFS_PCHECK(pthread_mutex_unlock(&P.lock));
	return n;
}

void bfs_upload_pool_stop(void)
{
	unsigned n;

	BFS_PCHECK(pthread_mutex_lock(&P.lock));
	P.stop = true;
	n = P.nthreads;
	BFS_PCHECK(pthread_cond_broadcast(&P.work));
	BFS_PCHECK(pthread_mutex_unlock(&P.lock));
	/* threads are only added by submit, which no one calls now */
	for (unsigned i = 0; i < n; i++)
		BFS_PCHECK(pthread_join(P.threads[i], NULL));
	BFS_PCHECK(pthread_mutex_lock(&P.lock));
	P.nthreads = 0;
	P.stop = false;
	BFS_PCHECK(pthread_mutex_unlock(&P.lock));
}
