/*
 * local.h - the local store: a bucket kept in a directory of the local
 * file system, with S3 semantics (the `builtin` bucket and `local`
 * buckets). doc/internals/local-store.md describes the on-disk layout.
 *
 * Invariants:
 * - Everything the store writes lives under DIR/.bucketfs/; nothing else
 *   in DIR is read, changed or shown (files dropped into DIR by hand are
 *   not objects).
 * - Keys are flat byte strings of 1..1024 bytes, any byte but NUL: `a`,
 *   `a/`, `a/b` and `a//b` are four independent objects.
 * - A put, copy or multipart completion replaces the object atomically
 *   (temporary file, fsync, rename), content and metadata together; an
 *   acknowledged write survives a crash.
 * - ETag: MD5 hex of the content for put, S3's `md5-of-part-md5s-N` for
 *   multipart, the source's ETag for copy (as S3 does).
 * - Several processes may open the same directory: namespace changes take
 *   an flock on DIR/.bucketfs/lock, so conditional puts stay atomic.
 * - A damaged object file gives EIO for its key and a log line; listings
 *   skip it with a log line.
 */
#ifndef BFS_STORE_LOCAL_H
#define BFS_STORE_LOCAL_H

#include <stddef.h>

#include "store/store.h"

/*
 * Open (or create) the local store kept in dir.
 *
 * A missing dir is created with mode 0700, with its missing parents (so
 * the builtin bucket works on first start); DIR/.bucketfs/ is created in
 * an existing empty or non-empty directory. Temporary files older than a
 * day and multipart uploads untouched for 7 days, left by a crash, are
 * removed here.
 * @param name human name for log lines ("builtin"); copied.
 * @param dir the bucket directory; copied.
 * @param err receives a one-line message on failure.
 * @return the store (caps IF_MATCH, IF_NONE_MATCH, MULTIPART, LOCAL), or
 *         NULL with errno: ENOTDIR (dir is not a directory), EACCES (not
 *         writable), EPROTO (DIR/.bucketfs holds an unknown format),
 *         EINVAL (empty dir), or the errno of the failing system call.
 * @note Thread-safe after creation; start may be skipped (it is NULL).
 */
struct bfs_store *bfs_local_create(const char *name, const char *dir, char *err,
				   size_t errlen);

#endif
