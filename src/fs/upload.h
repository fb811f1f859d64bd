/*
 * upload.h - sending a local file region to the store as one object:
 * a single put below the multipart threshold, else a multipart upload
 * with parts sent in parallel.
 */
#ifndef BFS_FS_UPLOAD_H
#define BFS_FS_UPLOAD_H

#include "conf.h"
#include "store/store.h"

/*
 * Upload fd[0, size) as object key.
 * @param if_match the ETag the object must still have, or NULL.
 * @param if_none_match the object must not exist.
 * @param md5, sha256 digests of fd[0, size) when the caller has them
 *        (NULL: the store reads the file for them); used by a single put.
 * Conditions are sent only when the store honours them (caps).
 * @return 0, ESTALE/EEXIST (the object changed meanwhile), or the
 *         store's errno; on failure a multipart upload is aborted.
 */
int bfs_upload_file(struct bfs_store *s, const struct bfs_options *opts,
		    const char *key, int fd, uint64_t size,
		    const struct bfs_meta_list *meta, const char *if_match,
		    bool if_none_match, const unsigned char *md5,
		    const unsigned char *sha256, char *etag_out);

/*
 * The put request for fd[0, size) as key, with the conditions the store
 * honours (caps) — what bfs_upload_file and a streamed upload send.
 */
void bfs_upload_req(struct bfs_store *s, const char *key, int fd, uint64_t size,
		    const struct bfs_meta_list *meta, const char *if_match,
		    bool if_none_match, struct bfs_put_req *out);

/*
 * Part size for an object of size bytes: at least want, grown to a
 * multiple of 1 MiB so 10,000 parts cover the object.
 */
uint64_t bfs_upload_part_size(uint64_t size, uint64_t want);

#endif
