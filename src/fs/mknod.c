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
#include "log.h"

void bfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_node dir = {0}, child = {0};
	struct bfs_meta_list meta = {0};
	struct bfs_put_req put = {0};
	struct bfs_new_owner own;
	struct fuse_entry_param e;
	struct bfs_inode *in;
	struct timespec now;
	mode_t type = mode & S_IFMT;
	char num[32];
	int rc;

	if (type != S_IFREG && type != S_IFIFO && type != S_IFCHR &&
	    type != S_IFBLK && type != S_IFSOCK) {
		rc = EINVAL;
		goto out;
	}
	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc == 0)
		rc = fs->opts->ro ? EROFS
				  : bfs_ns_make_child(&dir, name, BFS_NODE_FILE,
						      &child);
	if (rc != 0)
		goto out;
	bfs_fs_new_owner(fs, req, parent, mode, &own);
	snprintf(num, sizeof(num), "%u", (unsigned)(type | own.mode));
	bfs_meta_set(&meta, "mode", num);
	snprintf(num, sizeof(num), "%u", (unsigned)own.uid);
	bfs_meta_set(&meta, "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned)own.gid);
	bfs_meta_set(&meta, "gid", num);
	if (type == S_IFCHR || type == S_IFBLK) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)rdev);
		bfs_meta_set(&meta, "rdev", num);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	bfs_fs_meta_set_time(&meta, "mtime", &now);
	bfs_fs_meta_set_time(&meta, "ctime", &now);
	bfs_fs_meta_set_time(&meta, "atime", &now);
	put.key = child.key;
	put.fd = fs->empty_fd;
	put.size = 0;
	put.meta = &meta;
	put.if_none_match = (child.store->caps & BFS_CAP_IF_NONE_MATCH) != 0;
	rc = child.store->put(child.store, &put, child.info.etag);
	if (rc != 0) {
		bfs_log(LOG_ERR, "%s: mknod '%s' failed: %s", child.store->name,
			child.key, strerror(rc));
		goto out;
	}
	child.have_info = true;
	child.info.size = 0;
	child.info.mtime = now;
	bfs_meta_list_copy(&child.info.meta, &meta);
	bfs_fs_dir_changed(fs, parent);
	in = bfs_inode_link(&fs->itable, parent, name, &child);
	bfs_fs_fill_entry(fs, in, &e);
	bfs_inode_put(&fs->itable, in);
	fuse_reply_entry(req, &e);
	goto done;
out:
	fuse_reply_err(req, rc);
done:
	bfs_meta_list_release(&meta);
	bfs_node_release(&dir);
	bfs_node_release(&child);
}
