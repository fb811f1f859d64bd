/*
 * staging.h - write staging: the local file that holds an object's new
 * content between the first write and the upload on flush/fsync/close.
 *
 * A staged file lives in the staging dir as `<id>.data`, with `<id>.key`
 * beside it naming the store and key, so data survives a daemon crash
 * and can be found again (the file is removed only after a successful
 * upload, or when the object was unlinked).
 *
 * Dirtiness is a generation count: every write bumps wgen, an upload
 * remembers the wgen it read, so a write racing an upload keeps the file
 * dirty instead of being lost.
 */
#ifndef BFS_FS_STAGING_H
#define BFS_FS_STAGING_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

struct bfs_upload_feed;

struct bfs_staged {
	int fd;
	char *path;	/* the .data file */
	char *key_path; /* the .key sidecar */
	char *mpu_path; /* the .mpu note of a streamed upload */
	uint64_t wgen;
	uint64_t clean_gen;
	/* ETag the staged content was built on (or last uploaded), "" if
	 * the object did not exist: the condition of the next upload */
	char base_etag[BFS_ETAG_MAX];
	bool unconditional; /* replaces an unreadable object: no condition */
	/* what the upload module learned from the writes (a stream, the
	 * digests), or NULL */
	struct bfs_upload_feed *feed;
	struct timespec mtime;
	/* what the sidecar says before its clean line: "store\nkey" */
	char *sidecar;
	bool sidecar_clean; /* the sidecar ends with a clean line */
	uint64_t counted;   /* bytes counted in bucketfs_staged_bytes */
};

/*
 * An empty staged file for store_name/key in dir.
 * @return NULL with errno set (ENOSPC, EACCES ...).
 */
struct bfs_staged *bfs_staged_create(const char *dir, const char *store_name,
				     const char *key);

/*
 * Fill st with the current object (size bytes, pinned to etag).
 * @return 0 or the store's errno (ESTALE if it changed meanwhile).
 */
int bfs_staged_fill(struct bfs_staged *st, struct bfs_store *s, const char *key,
		    uint64_t size, const char *etag);

/* Size of the staged content, or 0 on fstat failure. */
uint64_t bfs_staged_size(const struct bfs_staged *st);

static inline bool bfs_staged_dirty(const struct bfs_staged *st)
{
	return st->wgen != st->clean_gen;
}

/*
 * The staged content is in the bucket as etag: note it in the sidecar so
 * a crash before the file is removed does not report it as lost.
 */
void bfs_staged_mark_clean(struct bfs_staged *st, const char *store_name,
			   const char *key, const char *etag);

/* A write happened: bump the generation and the mtime. */
void bfs_staged_wrote(struct bfs_staged *st);
/* The same for a change that is not a plain write (truncate): a
 * streamed upload cannot go on. */
void bfs_staged_touch(struct bfs_staged *st);

/*
 * Close st; remove its files when discard is true, else keep them for
 * recovery and log where they are.
 */
void bfs_staged_free(struct bfs_staged *st, bool discard);

#endif
