/*
 * symlink.c - symbolic links as s3fs stores them: an object whose body is
 * the target and whose x-amz-meta-mode has S_IFLNK. Only mounts that read
 * object metadata (metadata=objects) can tell a link from a file; with
 * metadata=listing a link reads as a small file holding its target.
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_priv.h"
#include "log.h"

#define LINK_MAX_LEN 4096

void bfs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		    const char *name)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_new_owner own;
	struct bfs_node dir = {0}, child = {0};
	struct bfs_meta_list meta = {0};
	struct bfs_put_req put = {0};
	struct fuse_entry_param e;
	struct bfs_inode *in;
	size_t len = strlen(link);
	struct timespec now;
	char num[32];
	int fd = -1;
	int rc;

	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc == 0)
		rc = fs->opts->ro ? EROFS
				  : bfs_ns_make_child(&dir, name, BFS_NODE_FILE,
						      &child);
	if (rc == 0 && len >= LINK_MAX_LEN)
		rc = ENAMETOOLONG;
	if (rc != 0)
		goto out;
	fd = memfd_create("bucketfs-symlink", MFD_CLOEXEC);
	if (fd < 0 || write(fd, link, len) != (ssize_t)len) {
		rc = fd < 0 ? errno : EIO;
		goto out;
	}
	snprintf(num, sizeof(num), "%u", (unsigned)(S_IFLNK | 0777));
	bfs_meta_set(&meta, "mode", num);
	bfs_fs_new_owner(fs, req, parent, 0777, &own);
	snprintf(num, sizeof(num), "%u", (unsigned)own.uid);
	bfs_meta_set(&meta, "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned)own.gid);
	bfs_meta_set(&meta, "gid", num);
	clock_gettime(CLOCK_REALTIME, &now);
	bfs_fs_meta_set_time(&meta, "mtime", &now);
	bfs_fs_meta_set_time(&meta, "ctime", &now);
	bfs_fs_meta_set_time(&meta, "atime", &now);
	put.key = child.key;
	put.fd = fd;
	put.size = len;
	put.meta = &meta;
	put.if_none_match = (child.store->caps & BFS_CAP_IF_NONE_MATCH) != 0;
	rc = child.store->put(child.store, &put, child.info.etag);
	if (rc != 0) {
		bfs_log(LOG_ERR, "%s: symlink '%s' failed: %s",
			child.store->name, child.key, strerror(rc));
		goto out;
	}
	child.have_info = true;
	child.info.size = len;
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
	if (fd >= 0)
		close(fd);
	bfs_meta_list_release(&meta);
	bfs_node_release(&dir);
	bfs_node_release(&child);
}

void bfs_ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = bfs_inode_get(&fs->itable, ino);
	char buf[LINK_MAX_LEN + 1];
	struct bfs_node node = {0};
	size_t got = 0;
	int rc;

	if (in == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_node_copy(&node, &in->node);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
	if (node.store == NULL || node.type != BFS_NODE_FILE) {
		rc = EINVAL;
	} else {
		rc = bfs_store_read_full(node.store, node.key, 0, LINK_MAX_LEN,
					 buf, &got, NULL);
	}
	bfs_node_release(&node);
	if (rc != 0) {
		fuse_reply_err(req, rc);
		return;
	}
	buf[got] = '\0';
	fuse_reply_readlink(req, buf);
}
