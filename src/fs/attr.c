/*
 * attr.c - struct stat of an inode: from the object's listing or HEAD,
 * its s3fs-compatible metadata when present, the staged file while one
 * exists, and the mount's defaults for everything else.
 */
#include "compat.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"

/* s3fs stores mode/uid/gid/mtime as decimal user metadata. */
static bool meta_number(const struct bfs_node *node, const char *name,
			unsigned long long *out)
{
	const char *v = bfs_meta_get(&node->info.meta, name);
	char *end;

	if (v == NULL || *v == '\0')
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && (*end == '\0' || *end == '.');
}

bool bfs_fs_objects_mode(const struct bfs_fs *fs, const struct bfs_node *node)
{
	switch (fs->opts->metadata) {
	case BFS_METADATA_OBJECTS:
		return true;
	case BFS_METADATA_LISTING:
		return false;
	default:
		/* read-write bucket mounts default to s3fs-compatible
		 * metadata, catalogs and read-only mounts to listings */
		return node->writable && !fs->opts->ro;
	}
}

void bfs_fs_fill_attr(struct bfs_fs *fs, struct bfs_inode *in, struct stat *st)
{
	const struct bfs_options *o = fs->opts;
	const struct bfs_node *node = &in->node;
	unsigned long long v;
	mode_t perm;

	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_uid = o->uid;
	st->st_gid = o->gid;
	st->st_blksize = 1 << 20;
	if (node->type == BFS_NODE_DIR) {
		perm = o->dir_mode & ~o->umask & 07777;
		st->st_mode = S_IFDIR;
		st->st_nlink = 2;
		st->st_size = 4096;
	} else {
		perm = o->file_mode & ~o->umask & 07777;
		st->st_mode = S_IFREG;
		st->st_nlink = 1;
		st->st_size = (off_t)node->info.size;
	}
	/* catalogs know sizes from manifests but no mtime: use the mount's */
	st->st_mtim = node->have_info && node->info.mtime.tv_sec != 0
			      ? node->info.mtime
			      : fs->start;
	/* metadata=listing: what a listing says, nothing more, so that
	 * ls -l and stat agree whichever filled the inode */
	if (node->have_info && bfs_fs_objects_mode(fs, node)) {
		if (meta_number(node, "mode", &v)) {
			perm = (mode_t)v & 07777;
			if (S_ISLNK((mode_t)v) && node->type == BFS_NODE_FILE)
				st->st_mode = S_IFLNK;
		}
		if (meta_number(node, "uid", &v))
			st->st_uid = (uid_t)v;
		if (meta_number(node, "gid", &v))
			st->st_gid = (gid_t)v;
		if (meta_number(node, "mtime", &v)) {
			st->st_mtim.tv_sec = (time_t)v;
			st->st_mtim.tv_nsec = 0;
		}
	}
	if (in->staged) {
		st->st_size = (off_t)bfs_staged_size(in->staged);
		st->st_mtim = in->staged->mtime;
	}
	if (in->mode_set)
		perm = in->mode & 07777;
	if (in->owner_set) {
		st->st_uid = in->uid;
		st->st_gid = in->gid;
	}
	if (in->mtime_set)
		st->st_mtim = in->mtime;
	if (!node->writable || o->ro)
		perm &= ~(mode_t)0222;
	st->st_mode |= perm;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
	st->st_blocks = (st->st_size + 511) / 512;
}

void bfs_fs_fill_entry(struct bfs_fs *fs, struct bfs_inode *in,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = in->ino;
	e->generation = fs->itable.generation;
	e->attr_timeout = fs->opts->attr_ttl;
	e->entry_timeout = fs->opts->attr_ttl;
	if (in->node.broken) {
		/* every stat must ask again: getattr says EIO */
		e->attr_timeout = 0;
		e->entry_timeout = 0;
	}
	BFS_PCHECK(pthread_mutex_lock(&in->lock));
	bfs_fs_fill_attr(fs, in, &e->attr);
	BFS_PCHECK(pthread_mutex_unlock(&in->lock));
}
