/*
 * head_pool.c - the pool of threads that send the HEADs of lookups (see
 * head_pool.h).
 */
#include "compat.h"

#include <pthread.h>
#include <time.h>

#include "cancel.h"
#include "catalog/head_pool.h"
#include "log.h"

/* How often a lookup waiting for its HEAD looks for its interrupt. */
#define CANCEL_POLL_NS (200 * 1000000L)

struct bfs_head_job {
	struct bfs_head_pool *pool;
	struct bfs_store *store;
	char *key;
	struct bfs_obj_info info;
	int rc;
	/* protected by pool->lock */
	bool done;
	bool cancel;		   /* its lookup was interrupted */
	uint64_t cancel_id;	   /* the running HEAD's, for bfs_cancel_fire */
	unsigned refs;		   /* the lookup's and the thread's */
	struct bfs_head_job *next; /* the queue */
};

struct bfs_head_pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job ended */
	/* protected by lock */
	struct bfs_head_job *head, *tail;
	unsigned nqueued;
	unsigned nrunning;
	unsigned nthreads;
	unsigned nidle; /* threads waiting for work */
	bool stop;
	pthread_t threads[BFS_HEAD_POOL_MAX];
};

static void job_free(struct bfs_head_job *j)
{
	bfs_obj_info_release(&j->info);
	free(j->key);
	free(j);
}

/* Drop one reference; the pool's lock is held. @return whether j is to
 * be freed (after the lock is dropped). */
static bool job_unref(struct bfs_head_job *j)
{
	return --j->refs == 0;
}

/*
 * Send j's HEAD as an interruptible request of this thread, so that the
 * interrupt of the lookup waiting for it ends its transfer (cancel.h):
 * the lookup's own thread is not the one on the network.
 */
static void run(struct bfs_head_pool *p, struct bfs_head_job *j)
{
	uint64_t id = bfs_cancel_begin();
	bool cancel;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	j->cancel_id = id;
	cancel = j->cancel;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (cancel)
		bfs_cancel_fire(id);
	/* with the first bytes, for the open and read that may follow
	 * (store.h, head_read) */
	j->rc = bfs_store_head_read(j->store, j->key, NULL, &j->info, NULL, 0,
				    NULL);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	j->cancel_id = 0;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	bfs_cancel_end();
}

static void *worker(void *arg)
{
	struct bfs_head_pool *p = arg;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (;;) {
		struct bfs_head_job *j;
		bool last;

		while (p->head == NULL && !p->stop) {
			p->nidle++;
			BFS_PCHECK(pthread_cond_wait(&p->work, &p->lock));
			p->nidle--;
		}
		j = p->head;
		if (j == NULL)
			break; /* stopping, and nothing left to run */
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->nqueued--;
		p->nrunning++;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		run(p, j);
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->nrunning--;
		j->done = true;
		BFS_PCHECK(pthread_cond_broadcast(&p->done));
		last = job_unref(j);
		if (last) {
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			job_free(j); /* dropped by its lookup */
			BFS_PCHECK(pthread_mutex_lock(&p->lock));
		}
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return NULL;
}

struct bfs_head_pool *bfs_head_pool_new(void)
{
	struct bfs_head_pool *p = bfs_xcalloc(1, sizeof(*p));

	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&p->work, NULL));
	BFS_PCHECK(pthread_cond_init(&p->done, NULL));
	return p;
}

void bfs_head_pool_drain(struct bfs_head_pool *p)
{
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	while (p->nqueued > 0 || p->nrunning > 0)
		BFS_PCHECK(pthread_cond_wait(&p->done, &p->lock));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

void bfs_head_pool_free(struct bfs_head_pool *p)
{
	if (p == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stop = true;
	BFS_PCHECK(pthread_cond_broadcast(&p->work));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	/* threads are added only by start, which nobody calls now; they
	 * run what is queued before they end */
	for (unsigned i = 0; i < p->nthreads; i++)
		BFS_PCHECK(pthread_join(p->threads[i], NULL));
	BFS_PCHECK(pthread_cond_destroy(&p->done));
	BFS_PCHECK(pthread_cond_destroy(&p->work));
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p);
}

struct bfs_head_job *bfs_head_job_start(struct bfs_head_pool *p,
					struct bfs_store *s, const char *key)
{
	struct bfs_head_job *j = NULL;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (p->stop)
		goto out;
	/* a thread for it now, or none: a HEAD queued behind others would
	 * come later than the one the lookup sends after its LIST */
	if (p->nqueued >= p->nidle) {
		if (p->nthreads == BFS_HEAD_POOL_MAX ||
		    pthread_create(&p->threads[p->nthreads], NULL, worker, p) !=
			    0)
			goto out;
		p->nthreads++;
	}
	j = bfs_xcalloc(1, sizeof(*j));
	j->pool = p;
	j->store = s;
	j->key = bfs_xstrdup(key);
	j->refs = 2;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->nqueued++;
	BFS_PCHECK(pthread_cond_signal(&p->work));
out:
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return j;
}

int bfs_head_job_wait(struct bfs_head_job *j, struct bfs_obj_info *info)
{
	struct bfs_head_pool *p = j->pool;
	bool last;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	while (!j->done) {
		struct timespec until;
		uint64_t id;
		int prc;

		if (bfs_cancel_requested()) {
			/* the caller was interrupted: end the HEAD's transfer
			 * too, and leave the job to its thread */
			j->cancel = true;
			id = j->cancel_id;
			last = job_unref(j);
			BFS_PCHECK(pthread_mutex_unlock(&p->lock));
			if (id)
				bfs_cancel_fire(id);
			if (last)
				job_free(j);
			return EINTR;
		}
		/* a slice at a time, to see an interrupt; the condvar runs
		 * on CLOCK_REALTIME */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += CANCEL_POLL_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		prc = pthread_cond_timedwait(&p->done, &p->lock, &until);
		if (prc != 0 && prc != ETIMEDOUT)
			BFS_PCHECK(prc);
	}
	rc = j->rc;
	*info = j->info;
	memset(&j->info, 0, sizeof(j->info));
	last = job_unref(j);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (last)
		job_free(j);
	return rc;
}

void bfs_head_job_drop(struct bfs_head_job *j)
{
	struct bfs_head_pool *p = j->pool;
	bool last;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	last = job_unref(j);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (last)
		job_free(j);
}

unsigned bfs_head_pool_threads(struct bfs_head_pool *p)
{
	unsigned n;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	n = p->nthreads;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return n;
}
