/*
 * upload.c - single and multipart uploads of staged files (see upload.h).
 */
#include "compat.h"

#include <pthread.h>

#include "fs/mime.h"
#include "fs/upload.h"
#include "log.h"

#define MAX_PARTS 10000u
#define MIB	  (1024ull * 1024ull)

uint64_t bfs_upload_part_size(uint64_t size, uint64_t want)
{
	uint64_t need = (size + MAX_PARTS - 1) / MAX_PARTS;
	uint64_t ps = BFS_MAX(want, need);

	return (ps + MIB - 1) / MIB * MIB;
}

struct mpu_job {
	struct bfs_store *s;
	const char *key;
	const char *upload_id;
	int fd;
	uint64_t size;
	uint64_t part_size;
	struct bfs_part *parts;
	size_t nparts;
	pthread_mutex_t lock;
	size_t next; /* protected by lock */
	int rc;	     /* first failure; protected by lock */
};

static void *part_worker(void *arg)
{
	struct mpu_job *j = arg;

	for (;;) {
		size_t i;
		uint64_t off;
		int rc;

		BFS_PCHECK(pthread_mutex_lock(&j->lock));
		i = j->next++;
		rc = j->rc;
		BFS_PCHECK(pthread_mutex_unlock(&j->lock));
		if (i >= j->nparts || rc != 0)
			return NULL;
		off = (uint64_t)i * j->part_size;
		j->parts[i].number = (int)i + 1;
		rc = j->s->mpu_part(
			j->s, j->key, j->upload_id, (int)i + 1, j->fd,
			(off_t)off,
			(size_t)BFS_MIN(j->part_size, j->size - off),
			j->parts[i].etag);
		if (rc != 0) {
			BFS_PCHECK(pthread_mutex_lock(&j->lock));
			if (j->rc == 0)
				j->rc = rc;
			BFS_PCHECK(pthread_mutex_unlock(&j->lock));
		}
	}
}

static int upload_multipart(struct bfs_store *s, const struct bfs_options *opts,
			    const struct bfs_put_req *req, char *etag_out)
{
	struct mpu_job j = {
		.s = s,
		.key = req->key,
		.fd = req->fd,
		.size = req->size,
	};
	unsigned nthreads = BFS_MAX(1u, opts->upload_parallel);
	pthread_t *threads;
	char *upload_id = NULL;
	int rc;

	j.part_size = bfs_upload_part_size(req->size, opts->part_size);
	j.nparts = (size_t)((req->size + j.part_size - 1) / j.part_size);
	rc = s->mpu_begin(s, req, &upload_id);
	if (rc != 0)
		return rc;
	j.upload_id = upload_id;
	j.parts = bfs_xcalloc(j.nparts, sizeof(*j.parts));
	BFS_PCHECK(pthread_mutex_init(&j.lock, NULL));
	nthreads = (unsigned)BFS_MIN((size_t)nthreads, j.nparts);
	threads = bfs_xcalloc(nthreads, sizeof(*threads));
	for (unsigned i = 0; i < nthreads; i++)
		BFS_PCHECK(pthread_create(&threads[i], NULL, part_worker, &j));
	for (unsigned i = 0; i < nthreads; i++)
		BFS_PCHECK(pthread_join(threads[i], NULL));
	free(threads);
	rc = j.rc;
	if (rc == 0)
		rc = s->mpu_complete(s, req, upload_id, j.parts, j.nparts,
				     etag_out);
	if (rc != 0) {
		int arc = s->mpu_abort(s, req->key, upload_id);

		if (arc != 0)
			bfs_log(LOG_WARNING,
				"%s: cannot abort multipart upload of '%s': "
				"%s",
				s->name, req->key, strerror(arc));
	}
	BFS_PCHECK(pthread_mutex_destroy(&j.lock));
	free(j.parts);
	free(upload_id);
	return rc;
}

void bfs_upload_req(struct bfs_store *s, const char *key, int fd, uint64_t size,
		    const struct bfs_meta_list *meta, const char *if_match,
		    bool if_none_match, struct bfs_put_req *out)
{
	memset(out, 0, sizeof(*out));
	out->key = key;
	out->content_type = bfs_mime_type(key);
	out->fd = fd;
	out->size = size;
	out->meta = meta;
	if (if_match && if_match[0] && (s->caps & BFS_CAP_IF_MATCH))
		out->if_match = if_match;
	if (if_none_match && (s->caps & BFS_CAP_IF_NONE_MATCH))
		out->if_none_match = true;
}

int bfs_upload_file(struct bfs_store *s, const struct bfs_options *opts,
		    const char *key, int fd, uint64_t size,
		    const struct bfs_meta_list *meta, const char *if_match,
		    bool if_none_match, const unsigned char *md5,
		    const unsigned char *sha256, char *etag_out)
{
	struct bfs_put_req req;

	bfs_upload_req(s, key, fd, size, meta, if_match, if_none_match, &req);
	if ((s->caps & BFS_CAP_MULTIPART) && s->mpu_begin &&
	    size >= opts->multipart_threshold && size > 0)
		return upload_multipart(s, opts, &req, etag_out);
	req.md5 = md5;
	req.sha256 = sha256;
	return s->put(s, &req, etag_out);
}
