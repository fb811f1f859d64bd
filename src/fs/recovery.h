/*
 * recovery.h - staged writes left behind by a daemon that died.
 *
 * Each daemon stages its writes in `<cache_dir>/staging/<pid>/`, holding
 * an flock on `<pid>/lock` for its whole life, so daemons sharing a cache
 * dir never mistake each other's files for leftovers. At start, every
 * staging dir whose lock can be taken belonged to a dead daemon:
 * - a staged file whose sidecar says it was uploaded (`clean`) held only
 *   data already in the bucket: removed;
 * - any other staged file holds writes that no close or fsync
 *   acknowledged: it is moved to `<cache_dir>/lost+found/` and logged
 *   with its bucket and key, never uploaded over what the bucket holds now
 *   and never deleted.
 */
#ifndef BFS_FS_RECOVERY_H
#define BFS_FS_RECOVERY_H

#include <stddef.h>

/*
 * Create and lock this daemon's staging dir.
 * @param dir receives "<cache_dir>/staging/<pid>" (caller frees).
 * @param lock_fd receives the fd holding the lock (close at exit).
 * @return 0 or an errno with err set.
 */
int bfs_staging_open(const char *cache_dir, char **dir, int *lock_fd, char *err,
		     size_t errlen);

/*
 * Release this daemon's staging dir at exit: the lock goes, the dir goes
 * if empty; files whose upload failed stay for the next start to move to
 * lost+found.
 */
void bfs_staging_close(const char *dir, int lock_fd);

/* A multipart upload a dead daemon left open. */
struct bfs_open_upload {
	char *store; /* the store's name, as in log lines */
	char *key;
	char *upload_id;
};

/*
 * Recover the staging dirs of dead daemons under cache_dir.
 * @param uploads receives the multipart uploads they left open (*n of
 *        them; the caller aborts them and frees with
 *        bfs_open_uploads_free()).
 * @return the number of files moved to lost+found.
 */
unsigned bfs_staging_recover(const char *cache_dir,
			     struct bfs_open_upload **uploads, size_t *n);

void bfs_open_uploads_free(struct bfs_open_upload *u, size_t n);

#endif
