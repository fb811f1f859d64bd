/*
 * upload_parts.c - the parts in flight of one multipart upload, sent by
 * the pool (see upload_priv.h). Its lock guards the counts and the
 * collected ETags; a part is sent with no lock held.
 */
#include "compat.h"

#include "store/upload_priv.h"

struct part_task {
	struct bfs_upload_task task; /* first: the pool hands this back */
	struct bfs_part_set *ps;
	int number;
	off_t off;
	size_t len;
};

static void send_part(struct bfs_upload_task *t)
{
	struct part_task *pt = (struct part_task *)t;
	struct bfs_part_set *ps = pt->ps;
	char etag[BFS_ETAG_MAX] = "";
	int number = pt->number;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&ps->lock));
	rc = ps->rc;
	BFS_PCHECK(pthread_mutex_unlock(&ps->lock));
	/* once a part failed the upload is lost: send no more */
	if (rc == 0)
		rc = ps->s->mpu_part(ps->s, ps->key, ps->upload_id, number,
				     ps->fd, pt->off, pt->len, etag);
	free(pt);
	BFS_PCHECK(pthread_mutex_lock(&ps->lock));
	ps->parts[number - 1].number = number;
	memcpy(ps->parts[number - 1].etag, etag, BFS_ETAG_MAX);
	if (rc != 0 && ps->rc == 0) {
		ps->rc = rc;
		ps->failed = number;
	}
	ps->running--;
	/* the set may be freed as soon as the lock is dropped */
	BFS_PCHECK(pthread_cond_broadcast(&ps->done));
	BFS_PCHECK(pthread_mutex_unlock(&ps->lock));
}

void bfs_part_set_init(struct bfs_part_set *ps, struct bfs_store *s,
		       const char *key, const char *upload_id, int fd,
		       unsigned parallel)
{
	memset(ps, 0, sizeof(*ps));
	ps->s = s;
	ps->key = key;
	ps->upload_id = upload_id;
	ps->fd = fd;
	ps->parallel = BFS_MAX(1u, parallel);
	BFS_PCHECK(pthread_mutex_init(&ps->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&ps->done, NULL));
}

int bfs_part_set_add(struct bfs_part_set *ps, off_t off, size_t len)
{
	struct part_task *pt;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&ps->lock));
	/* backpressure: at most parallel parts of this upload at once */
	while (ps->rc == 0 && ps->running >= ps->parallel)
		BFS_PCHECK(pthread_cond_wait(&ps->done, &ps->lock));
	rc = ps->rc;
	if (rc == 0) {
		ps->parts = bfs_xrealloc(ps->parts,
					 (ps->nparts + 1) * sizeof(*ps->parts));
		memset(&ps->parts[ps->nparts], 0, sizeof(ps->parts[0]));
		ps->nparts++;
		ps->running++;
	}
	BFS_PCHECK(pthread_mutex_unlock(&ps->lock));
	if (rc != 0)
		return rc;
	pt = bfs_xcalloc(1, sizeof(*pt));
	pt->task.run = send_part;
	pt->ps = ps;
	pt->number = (int)ps->nparts; /* only this thread adds */
	pt->off = off;
	pt->len = len;
	bfs_upload_pool_submit(&pt->task);
	return 0;
}

int bfs_part_set_wait(struct bfs_part_set *ps)
{
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&ps->lock));
	while (ps->running > 0)
		BFS_PCHECK(pthread_cond_wait(&ps->done, &ps->lock));
	rc = ps->rc;
	BFS_PCHECK(pthread_mutex_unlock(&ps->lock));
	return rc;
}

void bfs_part_set_release(struct bfs_part_set *ps)
{
	assert(ps->running == 0);
	BFS_PCHECK(pthread_cond_destroy(&ps->done));
	BFS_PCHECK(pthread_mutex_destroy(&ps->lock));
	free(ps->parts);
	ps->parts = NULL;
}
