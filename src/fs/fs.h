/*
 * fs.h - the FUSE filesystem: low-level ops over the namespace.
 *
 * The filesystem knows nodes (catalog/ns.h) and the store interface,
 * nothing else: catalogs and drivers add no code here. It owns the inode
 * table, open handles and write staging.
 *
 * Locking order: fs->ino_lock before any inode->lock; never the reverse.
 */
#ifndef BFS_FS_H
#define BFS_FS_H

#include <pthread.h>
#include <stdbool.h>

#include "catalog/ns.h"
#include "conf.h"

struct fuse_session;

struct bfs_fs;

struct bfs_fs_conf {
	const struct bfs_options *opts;
	const char *staging_dir; /* where staged writes live */
	struct bfs_node root;	 /* borrowed; copied */
};

/*
 * A filesystem over root. No threads, no I/O.
 * @return NULL with errno set (staging dir unusable).
 */
struct bfs_fs *bfs_fs_create(const struct bfs_fs_conf *conf, char *err,
			     size_t errlen);

/* The low-level ops table for fuse_session_new (userdata = the fs). */
const struct fuse_lowlevel_ops *bfs_fs_ops(void);

/*
 * Upload every dirty staged file (on SIGTERM and unmount).
 * @return the number of files that could not be uploaded (kept staged).
 */
unsigned bfs_fs_flush_all(struct bfs_fs *fs);

/*
 * The namespace changed under the mount (the configuration was reloaded):
 * child NAME of the top-level directory DIR (NULL: the root) appeared,
 * went away or is another node now. Forgets the inode of that name, so
 * the next lookup asks the namespace again, and tells the kernel to drop
 * its entry (a negative one too) and its listing of DIR. An inode still
 * held by the kernel (an open file) keeps its node until it is let go.
 * Call from a thread that serves no FUSE request, with no lock held.
 */
void bfs_fs_invalidate(struct bfs_fs *fs, struct fuse_session *se,
		       const char *dir, const char *name);

/* Free the inode table and every handle state. */
void bfs_fs_destroy(struct bfs_fs *fs);

#endif
