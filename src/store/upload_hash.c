/*
 * upload_hash.c - the MD5 and SHA-256 of a file written from its start,
 * in order, computed by a thread of its own while the writer writes, so
 * that the single put at close need not read the whole file again first
 * (the S3 store signs the body with its SHA-256 and sends its MD5). Only
 * files below the multipart threshold are hashed (larger ones go up in
 * parts, each hashed on its own); any other write or a truncate drops
 * the hashes (see upload_priv.h). The hasher's lock guards its progress
 * (a leaf); the file is read with it dropped.
 */
#include "compat.h"

#include <openssl/evp.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "store/upload_priv.h"

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
