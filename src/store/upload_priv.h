/*
 * upload_priv.h - what the files of the upload module (upload*.c) share
 * among themselves: the pool's tasks, a set of parts in flight, the
 * stream and the hasher. Nothing outside src/store/upload*.c includes it.
 */
#ifndef BFS_STORE_UPLOAD_PRIV_H
#define BFS_STORE_UPLOAD_PRIV_H

#include <pthread.h>

#include "store/upload.h"

/* ---- the pool (upload_pool.c) ---- */

/* One piece of work for a pool thread; owned by whoever submits it,
 * who must keep it alive until run has returned. */
struct bfs_upload_task {
	void (*run)(struct bfs_upload_task *t);
	struct bfs_upload_task *next; /* the pool's queue */
};

/* Queue t for a pool thread; never waits for the network. */
void bfs_upload_pool_submit(struct bfs_upload_task *t);

/* ---- parts in flight of one upload (upload_parts.c) ---- */

/*
 * The parts of one multipart upload: sent by the pool, at most parallel
 * at once, their ETags collected in order of number. One thread (the
 * uploader or the writer) adds and waits; the pool's threads finish.
 */
struct bfs_part_set {
	struct bfs_store *s;
	const char *key;       /* the caller's, alive until the set is */
	const char *upload_id; /* likewise */
	int fd;
	unsigned parallel;
	pthread_mutex_t lock;
	pthread_cond_t done; /* a part finished */
	/* protected by lock */
	unsigned running;	/* parts queued or being sent */
	int rc;			/* the first failure, 0 if none */
	int failed;		/* its part number */
	struct bfs_part *parts; /* index number-1; grown by the adder */
	size_t nparts;		/* parts added */
};

void bfs_part_set_init(struct bfs_part_set *ps, struct bfs_store *s,
		       const char *key, const char *upload_id, int fd,
		       unsigned parallel);

/*
 * Send part nparts+1, fd[off, off+len), through the pool; first waits
 * while parallel parts are in flight. @return the first failure so far
 * (then nothing is sent), or 0.
 */
int bfs_part_set_add(struct bfs_part_set *ps, off_t off, size_t len);

/* Wait for every part sent. @return the first failure, or 0. */
int bfs_part_set_wait(struct bfs_part_set *ps);

/* After bfs_part_set_wait: free what the set holds. */
void bfs_part_set_release(struct bfs_part_set *ps);

/* ---- digests of a sequential writer (upload_hash.c) ---- */

struct bfs_seqhash;

/*
 * Note a write of len bytes at off to fd (size is the file's size after
 * it), starting, feeding or dropping the hashes.
 * @param limit size at which hashing stops (the multipart threshold).
 */
void bfs_seqhash_wrote(struct bfs_seqhash **hp, int fd, uint64_t off,
		       uint64_t len, uint64_t size, uint64_t limit);

/* Something other than an append happened: drop the hashes. */
void bfs_seqhash_break(struct bfs_seqhash **hp);

/*
 * Take the digests of fd[0, size): what the thread has not hashed yet is
 * hashed here. The hashes are gone afterwards either way.
 * @return true with md5 (16 bytes) and sha256 (32 bytes) set, false if
 *         they do not cover exactly fd[0, size).
 */
bool bfs_seqhash_finish(struct bfs_seqhash **hp, uint64_t size,
			unsigned char *md5, unsigned char *sha256);

/* ---- the stream (upload_stream.c) ---- */

struct bfs_upload_stream;

struct bfs_upload_feed {
	struct bfs_upload_stream *stream; /* or NULL */
	struct bfs_seqhash *hash;	  /* or NULL */
};

/*
 * Finish the stream as the upload of fd[0, req->size) with req's
 * conditions and metadata. The stream is gone afterwards.
 * @param uploaded set to whether the stream made the object: false when
 *        it was broken or a part failed and it has been aborted (the
 *        caller uploads the file whole; 0 is returned).
 * @return 0 or the store's errno of the completion (ESTALE, EEXIST ...).
 */
int bfs_upload_stream_finish(struct bfs_upload_stream **sp,
			     const struct bfs_put_req *req, char *etag_out,
			     bool *uploaded);

/* Abort and free a stream; NULL ok. */
void bfs_upload_stream_abort(struct bfs_upload_stream **sp);

/* Whether a write begins a stream (see bfs_upload_feed_starts). */
bool bfs_upload_stream_begins(const struct bfs_upload_stream *st,
			      const struct bfs_store *s,
			      const struct bfs_upload_conf *c, uint64_t off,
			      uint64_t len, uint64_t size);

/* Start, feed or break the stream on a write (see bfs_upload_feed_wrote). */
void bfs_upload_stream_wrote(struct bfs_upload_stream **sp, struct bfs_store *s,
			     const struct bfs_upload_conf *c,
			     const struct bfs_put_req *req, int fd,
			     uint64_t off, uint64_t len, uint64_t size,
			     const char *note_path);

void bfs_upload_stream_break(struct bfs_upload_stream *st);

#endif
