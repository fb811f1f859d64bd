/*
 * invalidate.c - the namespace changed under a running mount (a bucket
 * or catalog connected, removed or changed): forget what the inode table
 * and the kernel know of the entry (see bfs_fs_invalidate in fs.h).
 */
#include "compat.h"

#include <fuse_lowlevel.h>

#include "fs/fs_priv.h"
#include "log.h"

void bfs_fs_invalidate(struct bfs_fs *fs, struct fuse_session *se,
		       const char *dir, const char *name)
{
	fuse_ino_t parent = FUSE_ROOT_ID;
	int rc;

	if (dir) {
		struct bfs_inode *in =
			bfs_inode_find(&fs->itable, FUSE_ROOT_ID, dir);

		/* never looked up: the kernel holds nothing below it */
		if (in == NULL)
			return;
		parent = in->ino;
		bfs_inode_put(&fs->itable, in);
	}
	bfs_inode_unlink_name(&fs->itable, parent, name);
	if (se == NULL)
		return;
	/* ENOENT: the kernel had no such entry, which is fine */
	rc = fuse_lowlevel_notify_inval_entry(se, parent, name, strlen(name));
	if (rc != 0 && rc != -ENOENT)
		bfs_log(LOG_DEBUG, "invalidate %s/%s: %s", dir ? dir : "", name,
			strerror(-rc));
	rc = fuse_lowlevel_notify_inval_inode(se, parent, 0, 0);
	if (rc != 0 && rc != -ENOENT)
		bfs_log(LOG_DEBUG, "invalidate %s: %s", dir ? dir : "/",
			strerror(-rc));
}
