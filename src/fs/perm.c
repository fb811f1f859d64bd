/*
 * perm.c - the mode and owner a new file, directory or link gets, as a
 * local disk gives them: the requested mode less the caller's umask, the
 * caller's uid and gid, the parent's gid (and, for a directory, its
 * setgid bit) where the parent is setgid. Mount options uid=, gid=,
 * umask= describe only objects that carry no metadata.
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"

void bfs_fs_new_owner(struct bfs_fs *fs, fuse_req_t req, fuse_ino_t parent,
		      mode_t mode, struct bfs_new_owner *out)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct bfs_inode *dir = bfs_inode_get(&fs->itable, parent);
	struct stat dst;
	bool sgid_dir = false;

	/* without FUSE_CAP_DONT_MASK the kernel applied the umask already;
	 * applying it again changes nothing, and covers kernels that
	 * leave it to us */
	out->mode = mode & ~ctx->umask & 07777;
	out->uid = ctx->uid;
	out->gid = ctx->gid;
	if (dir) {
		BFS_LOCK(&dir->lock, BFS_LK_FS_INODE);
		bfs_fs_fill_attr(fs, dir, &dst);
		BFS_UNLOCK(&dir->lock, BFS_LK_FS_INODE);
		bfs_inode_put(&fs->itable, dir);
		sgid_dir = (dst.st_mode & S_ISGID) != 0;
	}
	if (sgid_dir) {
		out->gid = dst.st_gid;
		if (S_ISDIR(mode))
			out->mode |= S_ISGID;
	}
}

void bfs_fs_set_new_owner(struct bfs_inode *in, const struct bfs_new_owner *o)
{
	in->mode_set = true;
	in->mode = o->mode & 07777;
	in->owner_set = true;
	in->uid = o->uid;
	in->gid = o->gid;
}

bool bfs_fs_kill_priv_locked(struct bfs_fs *fs, struct bfs_inode *in)
{
	struct stat st;
	mode_t kill = 0;

	if (in->node.type != BFS_NODE_FILE)
		return false;
	bfs_fs_fill_attr(fs, in, &st);
	if (!S_ISREG(st.st_mode))
		return false;
	if (st.st_mode & S_ISUID)
		kill |= S_ISUID;
	/* setgid without group execute marks mandatory locking, not a
	 * privilege: Linux keeps it */
	if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		kill |= S_ISGID;
	if (kill == 0)
		return false;
	in->mode_set = true;
	in->mode = st.st_mode & 07777 & ~kill;
	return true;
}
