/*
 * attr.c - struct stat of an inode: from the object's listing or HEAD,
 * its s3fs-compatible metadata when present, the staged file while one
 * exists, and the mount's defaults for everything else.
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"

/* s3fs stores mode/uid/gid as decimal user metadata. */
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

/* A file type s3fs keeps in x-amz-meta-mode of a plain object. */
static bool special(mode_t m)
{
	return S_ISLNK(m) || S_ISFIFO(m) || S_ISCHR(m) || S_ISBLK(m) ||
	       S_ISSOCK(m);
}

static struct timespec later(struct timespec a, struct timespec b)
{
	return bfs_ts_before(a, b) ? b : a;
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
	bool have_atime = false;
	mode_t perm;

	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_uid = o->uid;
	st->st_gid = o->gid;
	st->st_blksize = 1 << 20;
	if (node->type == BFS_NODE_DIR) {
		perm = o->dir_mode & ~o->umask & 07777;
		st->st_mode = S_IFDIR;
		/* the subdirectories are not known without a listing: 1, as
		 * btrfs says, tells find(1) and fts not to count on it */
		st->st_nlink = 1;
		st->st_size = 4096;
	} else {
		perm = o->file_mode & ~o->umask & 07777;
		st->st_mode = S_IFREG;
		/* removed while open: no name left */
		st->st_nlink = in->unlinked ? 0 : 1;
		st->st_size = node->exact ? (off_t)node->exact_len
					  : (off_t)node->info.size;
	}
	/* catalogs know sizes from manifests but no mtime: use the mount's */
	st->st_mtim = node->have_info && node->info.mtime.tv_sec != 0
			      ? node->info.mtime
			      : fs->start;
	/* an object's Last-Modified is when it last changed, content or
	 * metadata: the ctime of what carries no x-amz-meta-ctime */
	st->st_ctim = st->st_mtim;
	/* metadata=listing: what a listing says, nothing more, so that
	 * ls -l and stat agree whichever filled the inode */
	if (node->have_info && bfs_fs_objects_mode(fs, node)) {
		if (meta_number(node, "mode", &v)) {
			perm = (mode_t)v & 07777;
			if (node->type == BFS_NODE_FILE && special((mode_t)v))
				st->st_mode = (mode_t)v & S_IFMT;
		}
		if (meta_number(node, "rdev", &v) &&
		    (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)))
			st->st_rdev = (dev_t)v;
		if (meta_number(node, "uid", &v))
			st->st_uid = (uid_t)v;
		if (meta_number(node, "gid", &v))
			st->st_gid = (gid_t)v;
		bfs_fs_meta_time(node, "mtime", &st->st_mtim);
		bfs_fs_meta_time(node, "ctime", &st->st_ctim);
		have_atime = bfs_fs_meta_time(node, "atime", &st->st_atim);
	}
	if (in->staged) {
		st->st_size = (off_t)bfs_staged_size(in->staged);
		st->st_mtim = in->staged->mtime;
		if (in->staged->wgen != 0)
			st->st_ctim = later(st->st_ctim, in->staged->mtime);
	}
	if (in->mode_set)
		perm = in->mode & 07777;
	if (in->owner_set) {
		st->st_uid = in->uid;
		st->st_gid = in->gid;
	}
	if (in->mtime_set)
		st->st_mtim = in->mtime;
	if (in->ctime_set)
		st->st_ctim = later(st->st_ctim, in->ctime);
	if (in->atime_set)
		st->st_atim = in->atime;
	else if (!have_atime)
		st->st_atim = st->st_mtim;
	bfs_times_apply(&fs->times, node, st);
	if (!node->writable || o->ro)
		perm &= ~(mode_t)0222;
	st->st_mode |= perm;
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
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_fs_fill_attr(fs, in, &e->attr);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
}

void bfs_fs_dir_changed(struct bfs_fs *fs, fuse_ino_t dir)
{
	struct bfs_inode *in = bfs_inode_get(&fs->itable, dir);
	struct timespec now;

	if (in == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_times_note(&fs->times, &in->node, BFS_TIME_M | BFS_TIME_C, &now);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
}

void bfs_fs_dir_listed(struct bfs_fs *fs, fuse_ino_t dir,
		       const struct timespec *newest)
{
	struct bfs_inode *in = bfs_inode_get(&fs->itable, dir);

	if (in == NULL)
		return;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	/* a marker's own mtime stands (rsync sets it after the entries) */
	if (!in->node.have_info && !in->mtime_set)
		bfs_times_note(&fs->times, &in->node, BFS_TIME_M | BFS_TIME_C,
			       newest);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
}
