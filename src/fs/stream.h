/*
 * stream.h - multipart uploads that start while a sequential writer is
 * still writing, so closing a large file waits only for its last parts.
 *
 * A staged file that only ever grew at its end (the pattern of cp, dd, a
 * download) and passed multipart_threshold gets a multipart upload; every
 * time another part_size bytes are complete, that part is sent by a
 * thread of its own (at most upload_parallel at once). Any other write —
 * before the end, a truncate, a second writer's hole — marks the stream
 * broken: it is aborted at flush and the file goes up whole, as without a
 * stream. All parts but the last have the same size (R2 requires it).
 * The upload id is written to a `.mpu` file beside the staged file while
 * the upload is open, so a daemon that dies leaves a note from which the
 * next start aborts it (recovery.h). All calls with the inode's lock
 * held.
 */
#ifndef BFS_FS_STREAM_H
#define BFS_FS_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "store/store.h"

struct bfs_stream;

/*
 * Note a write of len bytes at off to the staged file fd (already
 * written), starting or feeding the stream.
 * @param sp the inode's stream pointer (NULL until one starts).
 */
void bfs_stream_wrote(struct bfs_stream **sp, struct bfs_store *s,
		      const struct bfs_options *o, const char *key, int fd,
		      uint64_t off, uint64_t len, uint64_t size,
		      const char *mpu_path);

/* Something other than an append happened: the stream cannot be used. */
void bfs_stream_break(struct bfs_stream *st);

/*
 * Finish the stream as the upload of fd[0, size) with the conditions and
 * metadata of req (req->fd and size unused). The stream is gone
 * afterwards (*sp NULL).
 * @param uploaded set to whether the stream made the object: false when
 *        it was broken or a part failed, and it has been aborted (then
 *        the caller uploads the file whole, and 0 is returned).
 * @return 0 (uploaded: etag_out set; or not: see uploaded), or the
 *         store's errno of the completion (ESTALE, EEXIST ...).
 */
int bfs_stream_finish(struct bfs_stream **sp, const struct bfs_put_req *req,
		      uint64_t size, char *etag_out, bool *uploaded);

/* Abort and free a stream (unlink, failed writer). */
void bfs_stream_abort(struct bfs_stream **sp);

/*
 * Digests of a file written from its start, in order, computed by a
 * thread of their own while the writer writes, so that the single put
 * at close need not read the whole file again first (the store signs the
 * body with its SHA-256 and sends its MD5). Only files below the
 * multipart threshold are hashed (larger ones go up in parts, each
 * hashed on its own); any other write or a truncate drops the hashes.
 * All calls with the inode's lock held.
 */
struct bfs_seqhash;

/*
 * Note a write of len bytes at off to fd (already written; size is the
 * file's size after it), starting, feeding or dropping the hashes.
 * @param limit size at which hashing stops (the multipart threshold).
 */
void bfs_seqhash_wrote(struct bfs_seqhash **hp, int fd, uint64_t off,
		       uint64_t len, uint64_t size, uint64_t limit);

/* Something other than an append happened: drop the hashes. */
void bfs_seqhash_break(struct bfs_seqhash **hp);

/*
 * Wait for the thread to hash fd[0, size) and take the digests; the
 * hashes are gone afterwards either way.
 * @return true with md5 (16 bytes) and sha256 (32 bytes) set, false if
 *         they do not cover exactly fd[0, size).
 */
bool bfs_seqhash_finish(struct bfs_seqhash **hp, uint64_t size,
			unsigned char *md5, unsigned char *sha256);

#endif
