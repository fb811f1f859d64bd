/*
 * stream.c - multipart uploads fed while the writer writes, and digests
 * of a sequential writer's file (see stream.h).
 */
#include "compat.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fs/mime.h"
#include "fs/stream.h"
#include "fs/upload.h"
#include "log.h"

#define MAX_PARTS 10000

/* One part in flight; owned by the stream, written by its thread only
 * until joined. */
struct part_job {
	struct bfs_stream *st;
	int number;
	pthread_t thread;
	int rc;
	char etag[BFS_ETAG_MAX];
};

struct bfs_stream {
	struct bfs_store *s;
	char *key;
	char *upload_id;
	int fd;
	char *mpu_path; /* the note of the open upload */
	unsigned parallel;
	uint64_t part_size;
	uint64_t seq_end; /* the writer's end: every byte below was written */
	bool broken;
	int nsent;		/* parts 1..nsent are started */
	int njoined;		/* parts 1..njoined are finished */
	int njobs;		/* entries of jobs */
	struct part_job **jobs; /* one per started part */
	struct bfs_part *parts; /* results of joined parts */
};

static void *send_part(void *arg)
{
	struct part_job *j = arg;
	struct bfs_stream *st = j->st;
	uint64_t off = (uint64_t)(j->number - 1) * st->part_size;

	j->rc = st->s->mpu_part(st->s, st->key, st->upload_id, j->number,
				st->fd, (off_t)off, (size_t)st->part_size,
				j->etag);
	return NULL;
}

/* Wait for the oldest part still running. */
static void join_one(struct bfs_stream *st)
{
	struct part_job *j = st->jobs[st->njoined];

	BFS_PCHECK(pthread_join(j->thread, NULL));
	st->parts[st->njoined].number = j->number;
	memcpy(st->parts[st->njoined].etag, j->etag, BFS_ETAG_MAX);
	if (j->rc != 0) {
		bfs_log(LOG_WARNING,
			"%s: part %d of '%s' failed (%s): the file will be "
			"uploaded whole at close",
			st->s->name, j->number, st->key, strerror(j->rc));
		st->broken = true;
	}
	st->njoined++;
}

static void join_all(struct bfs_stream *st)
{
	while (st->njoined < st->nsent)
		join_one(st);
}

static void start_part(struct bfs_stream *st)
{
	struct part_job *j;

	if (st->nsent - st->njoined >= (int)st->parallel)
		join_one(st); /* backpressure on the writer */
	st->jobs = bfs_xrealloc(st->jobs,
				(size_t)(st->nsent + 1) * sizeof(*st->jobs));
	st->parts = bfs_xrealloc(st->parts,
				 (size_t)(st->nsent + 1) * sizeof(*st->parts));
	j = bfs_xcalloc(1, sizeof(*j));
	st->jobs[st->nsent] = j;
	memset(&st->parts[st->nsent], 0, sizeof(st->parts[0]));
	j->st = st;
	j->number = ++st->nsent;
	st->njobs = st->nsent;
	BFS_PCHECK(pthread_create(&j->thread, NULL, send_part, j));
}

/* Note the open upload for a later start to abort if we die. */
static void write_note(struct bfs_stream *st)
{
	FILE *f = fopen(st->mpu_path, "we");

	if (f == NULL)
		return;
	fprintf(f, "%s\n%s\n%s\n", st->s->name, st->key, st->upload_id);
	fclose(f);
}

void bfs_stream_wrote(struct bfs_stream **sp, struct bfs_store *s,
		      const struct bfs_options *o, const char *key, int fd,
		      uint64_t off, uint64_t len, uint64_t size,
		      const char *mpu_path)
{
	struct bfs_stream *st = *sp;

	if (st == NULL) {
		struct bfs_put_req req = {.key = key,
					  .content_type = bfs_mime_type(key)};

		/* only a file written from its start, in order, past the
		 * threshold is worth a stream */
		if (!(s->caps & BFS_CAP_MULTIPART) || s->mpu_begin == NULL ||
		    off + len != size || size < o->multipart_threshold ||
		    size > o->multipart_threshold + len)
			return;
		st = bfs_xcalloc(1, sizeof(*st));
		st->s = s;
		st->key = bfs_xstrdup(key);
		st->fd = fd;
		st->parallel = BFS_MAX(1u, o->upload_parallel);
		st->part_size = bfs_upload_part_size(0, o->part_size);
		st->seq_end = off + len;
		if (s->mpu_begin(s, &req, &st->upload_id) != 0) {
			free(st->key);
			free(st);
			return;
		}
		st->mpu_path = bfs_xstrdup(mpu_path);
		write_note(st);
		*sp = st;
		bfs_dbg(BFS_DBG_FS, "'%s': streaming multipart upload started",
			key);
	} else if (st->broken) {
		return;
	} else if (off != st->seq_end) {
		st->broken = true;
		return;
	} else {
		st->seq_end = off + len;
	}
	while (!st->broken &&
	       st->seq_end >= (uint64_t)(st->nsent + 1) * st->part_size) {
		if (st->nsent + 1 >= MAX_PARTS) {
			st->broken = true;
			break;
		}
		start_part(st);
	}
}

void bfs_stream_break(struct bfs_stream *st)
{
	if (st)
		st->broken = true;
}

static void stream_free(struct bfs_stream *st)
{
	for (int i = 0; i < st->njobs; i++)
		free(st->jobs[i]);
	free(st->jobs);
	free(st->parts);
	if (st->mpu_path)
		unlink(st->mpu_path);
	free(st->mpu_path);
	free(st->upload_id);
	free(st->key);
	free(st);
}

void bfs_stream_abort(struct bfs_stream **sp)
{
	struct bfs_stream *st = *sp;

	if (st == NULL)
		return;
	join_all(st);
	st->s->mpu_abort(st->s, st->key, st->upload_id);
	stream_free(st);
	*sp = NULL;
}

int bfs_stream_finish(struct bfs_stream **sp, const struct bfs_put_req *req,
		      uint64_t size, char *etag_out, bool *uploaded)
{
	struct bfs_stream *st = *sp;
	uint64_t done;
	int rc;

	*uploaded = false;
	join_all(st);
	done = (uint64_t)st->nsent * st->part_size;
	if (st->broken || size != st->seq_end || size < done) {
		bfs_dbg(BFS_DBG_FS,
			"'%s': streamed upload dropped, uploading whole",
			st->key);
		bfs_stream_abort(sp);
		return 0;
	}
	if (size > done || st->nsent == 0) {
		/* the last part, smaller than the others */
		struct bfs_part last = {.number = st->nsent + 1};

		rc = st->s->mpu_part(st->s, st->key, st->upload_id, last.number,
				     st->fd, (off_t)done, (size_t)(size - done),
				     last.etag);
		if (rc != 0) {
			bfs_stream_abort(sp);
			return 0;
		}
		st->parts = bfs_xrealloc(st->parts, (size_t)(st->nsent + 1) *
							    sizeof(*st->parts));
		st->parts[st->nsent++] = last;
	}
	rc = st->s->mpu_complete(st->s, req, st->upload_id, st->parts,
				 (size_t)st->nsent, etag_out);
	*uploaded = true; /* or failed for good: the error is the answer */
	bfs_dbg(BFS_DBG_FS, "'%s': streamed upload of %d parts %s", st->key,
		st->nsent, rc == 0 ? "completed" : "failed");
	if (rc != 0)
		st->s->mpu_abort(st->s, st->key, st->upload_id);
	stream_free(st);
	*sp = NULL;
	return rc;
}

/* ---- digests while writing ---- */

/* Below this a file is hashed at close as before: a thread costs more. */
#define HASH_MIN   (1u << 20)
#define HASH_CHUNK (1u << 20)
/* Threads hashing at once, whatever the number of writers: past it, a
 * file is hashed at its upload as before. */
#define HASH_THREADS 8

static atomic_uint hash_threads;

struct bfs_seqhash {
	int fd;
	bool running; /* the thread exists */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* protected by lock */
	uint64_t end; /* bytes written in order from 0 */
	bool stop;    /* stop at once */
	/* the thread's own until joined */
	uint64_t hashed;
	int err;
	EVP_MD_CTX *md5, *sha;
};

/* Hash fd[h->hashed, end) in this thread. */
static int hash_upto(struct bfs_seqhash *h, unsigned char *buf, uint64_t end)
{
	while (h->hashed < end) {
		size_t want =
			(size_t)BFS_MIN((uint64_t)HASH_CHUNK, end - h->hashed);
		ssize_t n = pread(h->fd, buf, want, (off_t)h->hashed);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		EVP_DigestUpdate(h->md5, buf, (size_t)n);
		EVP_DigestUpdate(h->sha, buf, (size_t)n);
		h->hashed += (uint64_t)n;
	}
	return 0;
}

static void *hash_thread(void *arg)
{
	struct bfs_seqhash *h = arg;
	unsigned char *buf = bfs_xmalloc(HASH_CHUNK);

	/*
	 * Only spare CPU: the file may yet pass the multipart threshold
	 * and need none of this, and whatever is left at close is hashed
	 * there, at the closer's priority.
	 */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), 19) != 0)
		bfs_dbg(BFS_DBG_FS, "cannot lower the hash thread's priority");
	for (;;) {
		uint64_t end;

		BFS_PCHECK(pthread_mutex_lock(&h->lock));
		while (!h->stop && h->hashed == h->end)
			BFS_PCHECK(pthread_cond_wait(&h->cond, &h->lock));
		end = h->end;
		if (h->stop) {
			BFS_PCHECK(pthread_mutex_unlock(&h->lock));
			break;
		}
		BFS_PCHECK(pthread_mutex_unlock(&h->lock));
		/* a chunk at a time, to see a stop soon */
		h->err = hash_upto(h, buf,
				   h->hashed + BFS_MIN((uint64_t)HASH_CHUNK,
						       end - h->hashed));
		if (h->err != 0)
			break;
	}
	free(buf);
	return NULL;
}

static void seqhash_free(struct bfs_seqhash *h)
{
	if (h->running)
		BFS_PCHECK(pthread_join(h->thread, NULL));
	if (h->md5)
		atomic_fetch_sub(&hash_threads, 1);
	BFS_PCHECK(pthread_cond_destroy(&h->cond));
	BFS_PCHECK(pthread_mutex_destroy(&h->lock));
	EVP_MD_CTX_free(h->md5);
	EVP_MD_CTX_free(h->sha);
	free(h);
}

void bfs_seqhash_break(struct bfs_seqhash **hp)
{
	struct bfs_seqhash *h = *hp;

	if (h == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&h->lock));
	h->stop = true;
	BFS_PCHECK(pthread_cond_signal(&h->cond));
	BFS_PCHECK(pthread_mutex_unlock(&h->lock));
	seqhash_free(h);
	*hp = NULL;
}

void bfs_seqhash_wrote(struct bfs_seqhash **hp, int fd, uint64_t off,
		       uint64_t len, uint64_t size, uint64_t limit)
{
	struct bfs_seqhash *h = *hp;

	if (h == NULL) {
		/* only a file written from its start, so far all by us */
		if (off != 0 || len != size || size >= limit)
			return;
		h = bfs_xcalloc(1, sizeof(*h));
		h->fd = fd;
		BFS_PCHECK(pthread_mutex_init(&h->lock, NULL));
		BFS_PCHECK(pthread_cond_init(&h->cond, NULL));
		*hp = h;
	} else if (off != h->end || off + len != size || size >= limit) {
		/* written elsewhere than at the end, or bound for parts */
		bfs_seqhash_break(hp);
		return;
	}
	BFS_PCHECK(pthread_mutex_lock(&h->lock));
	h->end = size;
	BFS_PCHECK(pthread_cond_signal(&h->cond));
	BFS_PCHECK(pthread_mutex_unlock(&h->lock));
	if (h->running || size < HASH_MIN)
		return;
	if (atomic_fetch_add(&hash_threads, 1) >= HASH_THREADS) {
		atomic_fetch_sub(&hash_threads, 1); /* none to spare */
		bfs_seqhash_break(hp);
		return;
	}
	/* counted in hash_threads from here until freed */
	h->md5 = EVP_MD_CTX_new();
	h->sha = EVP_MD_CTX_new();
	if (h->md5 == NULL || h->sha == NULL)
		BFS_BUG("EVP_MD_CTX_new: out of memory");
	EVP_DigestInit_ex(h->md5, EVP_md5(), NULL);
	EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL);
	BFS_PCHECK(pthread_create(&h->thread, NULL, hash_thread, h));
	h->running = true;
}

bool bfs_seqhash_finish(struct bfs_seqhash **hp, uint64_t size,
			unsigned char *md5, unsigned char *sha256)
{
	struct bfs_seqhash *h = *hp;
	unsigned ml = 0, sl = 0;
	bool ok;

	if (h == NULL)
		return false;
	if (!h->running) {
		/* small: no thread was worth it */
		bfs_seqhash_break(hp);
		return false;
	}
	/* take over: what the thread has not reached yet is hashed here */
	BFS_PCHECK(pthread_mutex_lock(&h->lock));
	h->stop = true;
	BFS_PCHECK(pthread_cond_signal(&h->cond));
	BFS_PCHECK(pthread_mutex_unlock(&h->lock));
	BFS_PCHECK(pthread_join(h->thread, NULL));
	h->running = false;
	ok = h->err == 0 && h->end == size && h->hashed <= size;
	bfs_dbg(BFS_DBG_FS, "%llu of %llu bytes hashed while written",
		(unsigned long long)h->hashed, (unsigned long long)size);
	if (ok) {
		unsigned char *buf = bfs_xmalloc(HASH_CHUNK);

		ok = hash_upto(h, buf, size) == 0;
		free(buf);
	}
	if (ok) {
		EVP_DigestFinal_ex(h->md5, md5, &ml);
		EVP_DigestFinal_ex(h->sha, sha256, &sl);
		ok = ml == 16 && sl == 32;
	}
	seqhash_free(h);
	*hp = NULL;
	return ok;
}
