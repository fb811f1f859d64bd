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
	/* a link's mode is 0777 whatever the umask, as on a local disk */
	struct bfs_new_node nn = {.type = BFS_NODE_FILE,
				  .mode = S_IFLNK | 0777,
				  .keep_mode = true,
				  .size = strlen(link),
				  .what = "symlink"};
	struct fuse_entry_param e;
	int rc;

	if (nn.size >= LINK_MAX_LEN) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	nn.fd = memfd_create("bucketfs-symlink", MFD_CLOEXEC);
	if (nn.fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	rc = write(nn.fd, link, nn.size) == (ssize_t)nn.size ? 0 : EIO;
	if (rc == 0)
		rc = bfs_fs_make_node(bfs_fs(req), req, parent, name, &nn, &e);
	close(nn.fd);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_entry(req, &e);
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
