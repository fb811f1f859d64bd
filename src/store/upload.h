/*
 * upload.h - upload policy, under the store interface: how a local file
 * becomes one object on any store. The FUSE layer hands over a staged
 * file (fd + size) and, while it is written, its appends (a feed); it
 * gets back an ETag (and the server's Date through req->answered) or a
 * positive errno. Everything between is decided here:
 * - single put or multipart (multipart_threshold, BFS_CAP_MULTIPART);
 * - part sizing: part_size rounded up to whole MiB, grown so that
 *   BFS_UPLOAD_MAX_PARTS parts cover the object, every part but the last
 *   of the same size (R2 refuses anything else) (upload_size.c);
 * - the one thread pool that sends the parts of every upload, at most
 *   upload_parallel of one upload at once (upload_pool.c, upload_parts.c);
 * - streamed multipart: parts sent while a sequential writer is still
 *   writing (upload_stream.c);
 * - the digests of a sequential writer's file, computed while it writes
 *   (upload_hash.c);
 * - dropping the conditions a store does not honour (caps).
 *
 * No lock of this module is held across a call into the store: parts
 * are sent by the pool's threads with none held. Callers hold none of
 * theirs across bfs_upload_file or bfs_upload_feed_wrote either (both may
 * wait for the network).
 */
#ifndef BFS_STORE_UPLOAD_H
#define BFS_STORE_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* S3's limit on the parts of one upload. */
#define BFS_UPLOAD_MAX_PARTS 10000u

/* The mount's upload settings. */
struct bfs_upload_conf {
	uint64_t threshold; /* multipart_threshold: at least this large goes
			     * up in parts */
	uint64_t part_size; /* the part size asked for */
	unsigned parallel;  /* upload_parallel: parts of one upload in
			     * flight at once (0 counts as 1) */
};

/* ---- part sizing (upload_size.c) ---- */

/* How an object of a given size goes up. */
struct bfs_upload_plan {
	bool multipart;
	uint64_t part_size; /* multipart: every part's size but the last */
	size_t nparts;	    /* multipart: 1..BFS_UPLOAD_MAX_PARTS */
};

/*
 * Part size for an object of size bytes: at least want, grown so that
 * BFS_UPLOAD_MAX_PARTS parts cover size, rounded up to whole MiB (size 0:
 * want rounded up, the size of a stream's parts).
 */
uint64_t bfs_upload_part_size(uint64_t size, uint64_t want);

/*
 * The plan for size bytes to s: multipart when s has it, size > 0 and
 * size >= c->threshold.
 */
void bfs_upload_plan(const struct bfs_store *s, const struct bfs_upload_conf *c,
		     uint64_t size, struct bfs_upload_plan *out);

/* ---- a staged file while it is written (upload_stream.c) ---- */

/*
 * What the module learns of a staged file from its writes: a streamed
 * multipart upload fed as parts complete, and the digests of a file
 * written in order. One per staged file, NULL until a write makes one;
 * its calls are serialised by the caller (one writer of the file at a
 * time), which holds none of its locks across bfs_upload_feed_wrote.
 */
struct bfs_upload_feed;

/*
 * Note a write of len bytes at off to fd (already written; size is the
 * file's size after it), starting, feeding or dropping the stream and
 * the digests. A stream starts for a file written from its start, in
 * order, once it reaches c->threshold; each complete part goes to the
 * pool, and the writer waits while c->parallel of this file's parts are
 * in flight (backpressure). Its upload id is written to note_path while
 * the upload is open, "store\nkey\nupload_id\n", so that a daemon that
 * dies leaves a note from which the next start aborts it.
 * @param req the object: key, content_type and, for the write that
 *        begins the stream (bfs_upload_feed_starts), the metadata it
 *        begins with (the rest unused).
 */
void bfs_upload_feed_wrote(struct bfs_upload_feed **fp, struct bfs_store *s,
			   const struct bfs_upload_conf *c,
			   const struct bfs_put_req *req, int fd, uint64_t off,
			   uint64_t len, uint64_t size, const char *note_path);

/*
 * Whether the write bfs_upload_feed_wrote is about to be told of (len
 * bytes at off, size the file's size after it) begins a stream: only
 * then does its req need the file's metadata, which the caller builds
 * for that write alone (not on every write of a hot path).
 */
bool bfs_upload_feed_starts(const struct bfs_upload_feed *f,
			    const struct bfs_store *s,
			    const struct bfs_upload_conf *c, uint64_t off,
			    uint64_t len, uint64_t size);

/*
 * Something other than an append happened (a truncate, a write before
 * the end): the stream cannot be used and the digests are dropped.
 * Sends nothing; the stream is aborted by the next bfs_upload_file or
 * bfs_upload_feed_abort.
 */
void bfs_upload_feed_break(struct bfs_upload_feed *f);

/* Abort the feed's stream (waiting for its parts) and free it; NULL ok. */
void bfs_upload_feed_abort(struct bfs_upload_feed **fp);

/* ---- uploading (upload_file.c) ---- */

/*
 * Upload req->fd[req->offset, +req->size) as req->key: through the
 * feed's stream when it holds every byte but its last part, else the
 * file whole (a single put with the feed's digests when they cover the
 * file, or a multipart upload by the plan). The feed is consumed (*fp
 * NULL afterwards); fp may be NULL. req's if_match and if_none_match
 * are sent only when s honours them (caps).
 * @param etag_out the new ETag (BFS_ETAG_MAX bytes), may be NULL.
 * @return 0, ESTALE/EEXIST (the object changed meanwhile), or the
 *         store's errno; an upload that failed has been aborted.
 */
int bfs_upload_file(struct bfs_store *s, const struct bfs_upload_conf *c,
		    const struct bfs_put_req *req, struct bfs_upload_feed **fp,
		    char *etag_out);

/* ---- the part pool (upload_pool.c) ---- */

/*
 * The one pool of threads that sends parts, for every upload of the
 * process: threads are made as parts wait, up to this many, and stay
 * until bfs_upload_pool_stop. Parts of one upload are bounded apart
 * (upload_parallel); the HTTP pool bounds requests per bucket
 * (connections) below that.
 */
#define BFS_UPLOAD_POOL_MAX 64u

/* Threads of the pool now (for tests). */
unsigned bfs_upload_pool_threads(void);

/*
 * Wait for the pool to run dry and end its threads (the daemon's exit,
 * tests). A later upload starts it again.
 */
void bfs_upload_pool_stop(void);

#endif
