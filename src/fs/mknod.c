/*
 * mknod.c - FIFOs, sockets, character and block devices (and regular
 * files made by mknod(2)) as s3fs stores them: a zero-byte object whose
 * x-amz-meta-mode holds the file type with the permission bits, plus the
 * device number in x-amz-meta-rdev. The kernel serves a FIFO or a device
 * opened on the mount itself; the object only names it. Only mounts that
 * read object metadata (metadata=objects) tell them from empty files.
 */
#include "compat.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"

void bfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev)
{
	struct bfs_new_node nn = {
		.type = BFS_NODE_FILE, .mode = mode, .fd = -1, .what = "mknod"};
	struct bfs_meta_list extra = {0};
	struct fuse_entry_param e;
	mode_t type = mode & S_IFMT;
	char num[32];
	int rc;

	if (type != S_IFREG && type != S_IFIFO && type != S_IFCHR &&
	    type != S_IFBLK && type != S_IFSOCK) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (type == S_IFCHR || type == S_IFBLK) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)rdev);
		bfs_meta_set(&extra, "rdev", num);
		nn.extra = &extra;
	}
	rc = bfs_fs_make_node(bfs_fs(req), req, parent, name, &nn, &e);
	bfs_meta_list_release(&extra);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_entry(req, &e);
}
