/*
 * newnode.c - the one way a node is made with a put (mkdir's `name/`
 * marker, mknod's special file, symlink's link object): the creator's
 * mode and owner (perm.c), s3fs's metadata, the conditional put, the
 * new inode linked with what the put made, so that no HEAD follows.
 * Regular files are made by create (ops.c), which stages them instead.
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"
#include "log.h"

int bfs_fs_make_node(struct bfs_fs *fs, fuse_req_t req, fuse_ino_t parent,
		     const char *name, const struct bfs_new_node *nn,
		     struct fuse_entry_param *e)
{
	struct bfs_node dir = {0}, child = {0};
	struct bfs_meta_list meta = {0};
	struct bfs_put_req put = {0};
	struct bfs_new_owner own;
	struct bfs_inode *in;
	struct timespec now;
	char num[32];
	int rc;

	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc == 0)
		rc = fs->opts->ro
			     ? EROFS
			     : bfs_ns_make_child(&dir, name, nn->type, &child);
	if (rc != 0)
		goto out;
	bfs_fs_new_owner(fs, req, parent, nn->mode, &own);
	if (nn->keep_mode)
		own.mode = nn->mode & 07777;
	snprintf(num, sizeof(num), "%u",
		 (unsigned)((nn->mode & S_IFMT) | own.mode));
	bfs_meta_set(&meta, "mode", num);
	snprintf(num, sizeof(num), "%u", (unsigned)own.uid);
	bfs_meta_set(&meta, "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned)own.gid);
	bfs_meta_set(&meta, "gid", num);
	for (size_t i = 0; nn->extra && i < nn->extra->n; i++)
		bfs_meta_set(&meta, nn->extra->items[i].name,
			     nn->extra->items[i].value);
	clock_gettime(CLOCK_REALTIME, &now);
	bfs_fs_meta_set_time(&meta, "mtime", &now);
	bfs_fs_meta_set_time(&meta, "ctime", &now);
	bfs_fs_meta_set_time(&meta, "atime", &now);
	put.key = child.key;
	put.fd = nn->fd >= 0 ? nn->fd : fs->empty_fd;
	put.size = nn->fd >= 0 ? nn->size : 0;
	put.meta = &meta;
	put.if_none_match = (child.store->caps & BFS_CAP_IF_NONE_MATCH) != 0;
	rc = child.store->put(child.store, &put, child.info.etag);
	if (rc == EEXIST && nn->type == BFS_NODE_DIR)
		rc = 0; /* a marker already there: the directory exists */
	if (rc != 0) {
		bfs_log(LOG_ERR, "%s: %s '%s' failed: %s", child.store->name,
			nn->what, child.key, strerror(rc));
		goto out;
	}
	/* the inode knows what the put made without a HEAD */
	child.have_info = true;
	child.info.size = put.size;
	child.info.mtime = now;
	bfs_meta_list_copy(&child.info.meta, &meta);
	bfs_fs_dir_changed(fs, parent);
	in = bfs_inode_link(&fs->itable, parent, name, &child);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_fs_set_new_owner(in, &own);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_fs_fill_entry(fs, in, e);
	bfs_inode_put(&fs->itable, in);
out:
	bfs_meta_list_release(&meta);
	bfs_node_release(&dir);
	bfs_node_release(&child);
	return rc;
}
