/*
 * ops.c - the FUSE low-level ops table and the per-file operations:
 * lookup, forget, getattr, setattr, open, create, read, write, flush,
 * fsync, release, statfs, xattrs. Directory listing lives in dir.c,
 * namespace changes (mkdir, unlink, rmdir, rename) in dirops.c.
 *
 * Every handler replies exactly once; helpers return an errno.
 */
#include "compat.h"

#include "lockorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs/fs_priv.h"
#include "fs/mime.h"
#include "log.h"
#include "metrics.h"
#include "store/upload.h"
#include "util.h"

int bfs_fs_dir_node(struct bfs_fs *fs, fuse_ino_t ino, struct bfs_node *out)
{
	struct bfs_inode *in = bfs_inode_get(&fs->itable, ino);
	int rc = 0;

	if (in == NULL)
		return ENOENT;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (in->node.type != BFS_NODE_DIR)
		rc = ENOTDIR;
	else
		bfs_node_copy(out, &in->node);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
	return rc;
}

/* The mount's upload settings, for the upload module. */
static void upload_conf(const struct bfs_fs *fs, struct bfs_upload_conf *out)
{
	out->threshold = fs->opts->multipart_threshold;
	out->part_size = fs->opts->part_size;
	out->parallel = fs->opts->upload_parallel;
}

/* The put of the staged file fd as key (no size, metadata, conditions). */
static void upload_req(const char *key, int fd, struct bfs_put_req *out)
{
	memset(out, 0, sizeof(*out));
	out->key = key;
	out->content_type = bfs_mime_type(key);
	out->fd = fd;
}

int bfs_fs_upload_locked(struct bfs_fs *fs, struct bfs_inode *in)
{
	struct bfs_staged *st = in->staged;
	struct bfs_store *s = in->node.store;
	struct bfs_meta_list meta = {0};
	char etag[BFS_ETAG_MAX] = "", base[BFS_ETAG_MAX];
	struct bfs_upload_conf uc;
	struct bfs_put_req req;
	uint64_t gen, size;
	char *key;
	int rc;

	assert(in->busy);
	if (st == NULL || !bfs_staged_dirty(st) || in->unlinked)
		return 0;
	gen = st->wgen;
	size = bfs_staged_size(st);
	bfs_fs_build_meta(fs, in, &meta);
	bfs_metrics_fs_add(BFS_MFS_UPLOADS_IN_FLIGHT, 1);
	key = bfs_xstrdup(in->node.key);
	snprintf(base, sizeof(base), "%s", st->base_etag);
	upload_req(key, st->fd, &req);
	req.size = size;
	req.meta = &meta;
	req.if_match = st->unconditional ? NULL : base;
	req.if_none_match = !st->unconditional && base[0] == '\0';
	req.times_implicit = !in->mtime_set;
	upload_conf(fs, &uc);
	/* in is busy: st and its feed are ours while the lock is off */
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	rc = bfs_upload_file(s, &uc, &req, &st->feed, etag);
	bfs_metrics_fs_add(BFS_MFS_UPLOADS_IN_FLIGHT, -1);
	bfs_metrics_fs_add(
		rc == 0 ? BFS_MFS_UPLOADS_OK : BFS_MFS_UPLOADS_FAILED, 1);
	if (rc == 0)
		bfs_metrics_fs_add(BFS_MFS_UPLOAD_BYTES, (int64_t)size);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (rc != 0) {
		bfs_log(LOG_ERR, "%s: cannot upload '%s' (%llu bytes): %s%s",
			s->name, key, (unsigned long long)size, strerror(rc),
			rc == ESTALE || rc == EEXIST
				? " (another client changed it meanwhile)"
				: "");
		free(key);
		bfs_meta_list_release(&meta);
		return rc == EEXIST || rc == ESTALE ? EIO : rc;
	}
	bfs_meta_list_release(&in->node.info.meta);
	in->node.info.meta = meta;
	st->clean_gen = gen;
	st->unconditional = false;
	in->node.broken = false;
	snprintf(st->base_etag, sizeof(st->base_etag), "%s", etag);
	if (st->wgen == gen)
		bfs_staged_mark_clean(st, s->name, key, etag);
	in->node.have_info = true;
	in->node.info.size = size;
	snprintf(in->node.info.etag, sizeof(in->node.info.etag), "%s", etag);
	clock_gettime(CLOCK_REALTIME, &in->node.info.mtime);
	bfs_dbg(BFS_DBG_FS, "uploaded '%s' (%llu bytes)", key,
		(unsigned long long)size);
	free(key);
	return 0;
}

static struct bfs_fh *fh_new(struct bfs_fs *fs)
{
	struct bfs_fh *fh = bfs_xcalloc(1, sizeof(*fh));

	BFS_LOCK(&fs->fh_lock, BFS_LK_FS_FH);
	fh->next = fs->fhs;
	if (fs->fhs)
		fs->fhs->prev = fh;
	fs->fhs = fh;
	BFS_UNLOCK(&fs->fh_lock, BFS_LK_FS_FH);
	bfs_metrics_fs_add(BFS_MFS_OPEN_FILES, 1);
	return fh;
}

static void fh_free(struct bfs_fs *fs, struct bfs_fh *fh)
{
	if (fh == NULL)
		return;
	BFS_LOCK(&fs->fh_lock, BFS_LK_FS_FH);
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		fs->fhs = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	BFS_UNLOCK(&fs->fh_lock, BFS_LK_FS_FH);
	bfs_metrics_fs_add(BFS_MFS_OPEN_FILES, -1);
	free(fh);
}

static void bfs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	/*
	 * READDIRPLUS on every call, not "auto": opendir has every entry's
	 * attributes already (from the listing, or the HEADs of
	 * metadata=objects), while in auto mode the kernel asks for them
	 * with the first batch only and then sends one LOOKUP per later
	 * entry that ls -l stats (9,000 LOOKUPs for 10,000 files).
	 */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* data changes only through us or via a new ETag: no auto-inval
	 * on mtime changes the kernel could misread */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/*
	 * Reads the kernel sends as synchronous requests: an asynchronous
	 * (readahead) request is never interrupted, so a reader blocked on
	 * a stalled server could not be stopped with a signal and its
	 * transfer would run until op_timeout (interrupt.c). The daemon
	 * fetches ahead itself (cache/prefetch.c), so the kernel's own
	 * parallel readahead adds little.
	 */
	conn->want &= ~FUSE_CAP_ASYNC_READ;
	if (conn->max_write < (1u << 20))
		conn->max_write = 1u << 20;
	/* reads of cached blocks go from their files: by splice when
	 * libfuse's pipe can hold the reply, else mapped (read_reply.c) */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE) {
		struct bfs_fs *fs = userdata;

		conn->want |= FUSE_CAP_SPLICE_WRITE;
		fs->splice_max = bfs_read_reply_probe();
	}
}

static void bfs_ll_destroy(void *userdata)
{
	bfs_fs_flush_all(userdata);
}

/* A staged child of parent that the store does not show yet. */
static struct bfs_inode *staged_child(struct bfs_fs *fs, fuse_ino_t parent,
				      const char *name)
{
	struct bfs_inode *in = bfs_inode_find(&fs->itable, parent, name);
	bool staged;

	if (in == NULL)
		return NULL;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	staged = in->staged && !in->unlinked;
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (staged)
		return in;
	bfs_inode_put(&fs->itable, in);
	return NULL;
}

static void bfs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct fuse_entry_param e;
	struct bfs_node dir = {0}, child = {0};
	struct bfs_inode *in;
	int rc;

	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc != 0)
		goto out;
	in = staged_child(fs, parent, name);
	if (in) {
		/* being written and not uploaded yet: the store does not
		 * know it, we do */
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		bfs_node_copy(&child, &in->node);
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		bfs_inode_put(&fs->itable, in);
	} else {
		rc = dir.ns->ops->lookup(dir.ns, &dir, name, &child);
		if (rc != 0)
			goto out;
		bfs_fs_dir_meta(fs, &child);
	}
	in = bfs_inode_link(&fs->itable, parent, name, &child);
	bfs_fs_fill_entry(fs, in, &e);
	bfs_inode_put(&fs->itable, in);
	fuse_reply_entry(req, &e);
	goto done;
out:
	if (rc == ENOENT && fs->opts->neg_ttl > 0) {
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->opts->neg_ttl;
		fuse_reply_entry(req, &e);
	} else {
		fuse_reply_err(req, rc);
	}
done:
	bfs_node_release(&dir);
	bfs_node_release(&child);
}

static void bfs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	bfs_inode_forget(&bfs_fs(req)->itable, ino, nlookup);
	fuse_reply_none(req);
}

static void bfs_ll_forget_multi(fuse_req_t req, size_t count,
				struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		bfs_inode_forget(&bfs_fs(req)->itable, forgets[i].ino,
				 forgets[i].nlookup);
	fuse_reply_none(req);
}

static void bfs_ll_getattr(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = bfs_inode_get(&fs->itable, ino);
	struct stat st;
	int rc = 0;

	if (in == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (in->node.broken) {
		bfs_inode_busy_begin(in);
		if (in->node.broken)
			rc = bfs_fs_refresh_locked(in);
		bfs_inode_busy_end(in);
	}
	bfs_fs_fill_attr(fs, in, &st);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_attr(req, &st, fs->opts->attr_ttl);
}

/*
 * Fill st with the first size bytes of in's object, in->lock dropped
 * meanwhile; in->lock held, in busy.
 */
static int fill_unlocked(struct bfs_inode *in, struct bfs_staged *st,
			 uint64_t size)
{
	char *key = bfs_xstrdup(in->node.key);
	char etag[BFS_ETAG_MAX];
	int rc;

	assert(in->busy);
	snprintf(etag, sizeof(etag), "%s", in->node.info.etag);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	rc = bfs_staged_fill(st, in->node.store, key, size, etag);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	free(key);
	return rc;
}

/* Truncate a file to size; in->lock held, in busy. */
static int truncate_locked(struct bfs_fs *fs, struct bfs_inode *in,
			   uint64_t size)
{
	struct bfs_staged *st = in->staged;
	bool temporary = false;
	int rc = 0;

	if (!in->node.writable || fs->opts->ro)
		return EROFS;
	if (st == NULL) {
		/* not open for writing: stage, cut, upload, done */
		st = bfs_staged_create(fs->staging_dir, in->node.store->name,
				       in->node.key);
		if (st == NULL)
			return errno;
		temporary = true;
		if (in->node.have_info && size > 0)
			rc = fill_unlocked(in, st,
					   BFS_MIN(size, in->node.info.size));
		else if (in->node.have_info)
			snprintf(st->base_etag, sizeof(st->base_etag), "%s",
				 in->node.info.etag);
		if (rc != 0) {
			bfs_staged_free(st, true);
			return rc == ESTALE ? EIO : rc;
		}
		in->staged = st;
	}
	if (ftruncate(st->fd, (off_t)size) != 0)
		rc = errno;
	else
		bfs_staged_touch(st);
	if (temporary) {
		bool keep = false;

		/* a failed ftruncate (EFBIG) changed nothing: nothing to
		 * keep; a failed upload keeps the data for recovery */
		if (rc == 0) {
			rc = bfs_fs_upload_locked(fs, in);
			keep = rc != 0;
		}
		bfs_staged_free(st, !keep);
		in->staged = NULL;
	}
	return rc;
}

/* What setattr stores in object metadata (a copy onto itself). */
#define META_ATTRS                                                             \
	(FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |          \
	 FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_ATIME | \
	 FUSE_SET_ATTR_ATIME_NOW)

/* The attributes setattr changes in memory before it stores them. */
struct set_attrs {
	bool mode_set, owner_set, mtime_set, ctime_set, atime_set;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime, ctime, atime;
};

static void set_attrs_save(const struct bfs_inode *in, struct set_attrs *a)
{
	*a = (struct set_attrs){
		.mode_set = in->mode_set,
		.owner_set = in->owner_set,
		.mtime_set = in->mtime_set,
		.ctime_set = in->ctime_set,
		.atime_set = in->atime_set,
		.mode = in->mode,
		.uid = in->uid,
		.gid = in->gid,
		.mtime = in->mtime,
		.ctime = in->ctime,
		.atime = in->atime,
	};
}

/* A change that could not be stored is no change: the inode shows what
 * the object holds, not what was asked. */
static void set_attrs_restore(struct bfs_inode *in, const struct set_attrs *a)
{
	in->mode_set = a->mode_set;
	in->owner_set = a->owner_set;
	in->mtime_set = a->mtime_set;
	in->ctime_set = a->ctime_set;
	in->atime_set = a->atime_set;
	in->mode = a->mode;
	in->uid = a->uid;
	in->gid = a->gid;
	in->mtime = a->mtime;
	in->ctime = a->ctime;
	in->atime = a->atime;
}

static void bfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			   int to_set, struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = bfs_inode_get(&fs->itable, ino);
	struct set_attrs before;
	struct timespec now;
	struct stat st;
	int rc = 0;

	if (in == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	set_attrs_save(in, &before);
	if ((to_set & META_ATTRS) && in->node.type == BFS_NODE_FILE) {
		/* a listing carries no metadata: read it so none is lost */
		rc = bfs_fs_refresh_locked(in);
	}
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE) &&
	    in->node.type == BFS_NODE_DIR)
		rc = EISDIR;
	else if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE) &&
		 (uint64_t)attr->st_size > BFS_OBJECT_MAX)
		rc = EFBIG;
	else if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		/* truncate_locked uploads at once when not open: the new
		 * mode must be set before */
		if (fuse_req_ctx(req)->uid != 0)
			bfs_fs_kill_priv_locked(fs, in);
		rc = truncate_locked(fs, in, (uint64_t)attr->st_size);
	}
	if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE)) {
		in->mode_set = true;
		in->mode = attr->st_mode & 07777;
	}
	if (rc == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		bfs_fs_fill_attr(fs, in, &st);
		in->owner_set = true;
		in->uid =
			(to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : st.st_uid;
		in->gid =
			(to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : st.st_gid;
		/* chown drops setuid/setgid of a file, even by root; a
		 * mode given in the same call wins (the kernel computed it) */
		if (!(to_set & FUSE_SET_ATTR_MODE))
			bfs_fs_kill_priv_locked(fs, in);
	}
	if (rc == 0 &&
	    (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))) {
		bfs_times_forget(&fs->times, &in->node, BFS_TIME_M);
		in->mtime_set = true;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			in->mtime = now;
		else
			in->mtime = attr->st_mtim;
	}
	/* utimensat's UTIME_OMIT leaves a time out of to_set: each of
	 * atime and mtime is set, to now or to a value, on its own */
	if (rc == 0 &&
	    (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW))) {
		bfs_times_forget(&fs->times, &in->node, BFS_TIME_A);
		in->atime_set = true;
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			in->atime = now;
		else
			in->atime = attr->st_atim;
	}
	if (rc == 0 && (to_set & META_ATTRS)) {
		/* a change of the inode itself: ctime moves, as on a disk */
		in->ctime_set = true;
		in->ctime = now;
	}
	if (rc == 0 && (to_set & META_ATTRS) && in->ino == FUSE_ROOT_ID)
		rc = 0; /* the mount point has no object: this mount keeps
			 * them (the root inode lives until unmount) */
	else if (rc == 0 && (to_set & META_ATTRS) && in->node.store &&
		 in->node.writable && !fs->opts->ro)
		rc = bfs_fs_store_attrs_locked(fs, in);
	else if (rc == 0 && !(to_set & FUSE_SET_ATTR_SIZE) &&
		 (to_set &
		  (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		rc = EROFS;
	if (rc == 0)
		bfs_fs_fill_attr(fs, in, &st);
	else
		set_attrs_restore(in, &before);
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_attr(req, &st, fs->opts->attr_ttl);
}

/*
 * Refresh a file's attributes with a HEAD so an open sees the current
 * version; in->lock held (dropped for the HEAD), in busy.
 */
int bfs_fs_refresh_locked(struct bfs_inode *in)
{
	struct bfs_obj_info info = {0};
	char *key, *known;
	int rc;

	assert(in->busy);
	if (in->node.error)
		return in->node.error;
	if (in->node.store == NULL || in->staged)
		return 0;
	key = bfs_xstrdup(in->node.key);
	known = in->node.have_info && in->node.info.etag[0]
			? bfs_xstrdup(in->node.info.etag)
			: NULL;
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	/* a stale entry is asked again with a ranged GET that brings the
	 * first bytes too: the read that follows the open costs no round
	 * trip of its own (a fresh one answers from the cache, no request;
	 * the version we knew, its first bytes cached: a HEAD) */
	rc = bfs_store_head_read(in->node.store, key, known, &info, NULL, 0,
				 NULL);
	free(known);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	free(key);
	if (rc != 0)
		return rc;
	if (in->node.exact && info.size != in->node.exact_obj) {
		/* not the object that was listed: its bytes are not the
		 * file's, and a read would be short or wrong. Logged once:
		 * the entry fails from now on without a request */
		bfs_log(LOG_ERR,
			"%s: '%s' is %llu bytes now, %llu when it was listed: "
			"EIO",
			in->node.store->name, in->node.key,
			(unsigned long long)info.size,
			(unsigned long long)in->node.exact_obj);
		bfs_obj_info_release(&info);
		in->node.broken = true;
		in->node.error = EIO;
		return EIO;
	}
	bfs_obj_info_release(&in->node.info);
	in->node.info = info;
	in->node.have_info = true;
	in->node.broken = false;
	return 0;
}

/* Make the staged file of an inode opened for writing; in->lock held, in
 * busy. */
static int stage_for_write(struct bfs_fs *fs, struct bfs_inode *in,
			   bool truncate)
{
	struct bfs_staged *st;
	int rc = 0;

	if (in->staged) {
		if (truncate) {
			if (ftruncate(in->staged->fd, 0) != 0)
				return errno;
			bfs_staged_touch(in->staged);
		}
		return 0;
	}
	st = bfs_staged_create(fs->staging_dir, in->node.store->name,
			       in->node.key);
	if (st == NULL)
		return errno;
	if (in->node.have_info && !truncate)
		rc = fill_unlocked(in, st, in->node.info.size);
	else if (in->node.have_info)
		snprintf(st->base_etag, sizeof(st->base_etag), "%s",
			 in->node.info.etag);
	/* replacing an object we cannot read: no version to be sure of */
	st->unconditional = in->node.broken;
	if (rc != 0) {
		bfs_log(LOG_ERR,
			"%s: cannot read '%s' to open it for "
			"writing: %s",
			in->node.store->name, in->node.key, strerror(rc));
		bfs_staged_free(st, true);
		return rc == ESTALE ? EIO : rc;
	}
	if (truncate) {
		bfs_staged_touch(st);
	} else {
		struct stat cur;

		/* opened, not written yet: the mtime stays the object's */
		bfs_fs_fill_attr(fs, in, &cur);
		st->mtime = cur.st_mtim;
	}
	in->staged = st;
	return 0;
}

static int open_locked(struct bfs_fs *fs, struct bfs_inode *in, int flags,
		       struct bfs_fh *fh)
{
	bool writer = (flags & O_ACCMODE) != O_RDONLY;
	int rc;

	if (in->node.type == BFS_NODE_DIR)
		return EISDIR;
	if (writer && (!in->node.writable || fs->opts->ro))
		return EROFS;
	if (in->node.store == NULL)
		return EIO;
	if (in->staged == NULL && !(writer && (flags & O_TRUNC))) {
		rc = bfs_fs_refresh_locked(in);
		if (rc != 0)
			return rc;
	}
	if (writer) {
		rc = stage_for_write(fs, in, flags & O_TRUNC);
		if (rc != 0)
			return rc;
	}
	fh->writer = writer;
	snprintf(fh->etag, sizeof(fh->etag), "%s", in->node.info.etag);
	in->nopen++;
	return 0;
}

/*
 * Whether the kernel may keep its page cache of in at this open: only
 * while the ETag is the one of the last open, so the pages hold this
 * version; in->lock held, after open_locked().
 */
static bool keep_cache_locked(struct bfs_inode *in)
{
	bool keep;

	if (in->staged) {
		/* written through us: the next clean open starts afresh */
		in->cache_etag[0] = '\0';
		return false;
	}
	keep = in->cache_etag[0] != '\0' &&
	       strcmp(in->cache_etag, in->node.info.etag) == 0;
	snprintf(in->cache_etag, sizeof(in->cache_etag), "%s",
		 in->node.info.etag);
	return keep;
}

static void bfs_ll_open(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = bfs_inode_get(&fs->itable, ino);
	struct bfs_fh *fh;
	bool keep = false;
	int rc;

	if (in == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fh = fh_new(fs);
	fh->in = in;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	rc = open_locked(fs, in, fi->flags, fh);
	if (rc == 0)
		keep = keep_cache_locked(in);
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (rc != 0) {
		fh_free(fs, fh);
		bfs_inode_put(&fs->itable, in);
		fuse_reply_err(req, rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)fh;
	fi->keep_cache = keep;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* the opener was interrupted: undo the open */
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		in->nopen--;
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		fh_free(fs, fh);
		bfs_inode_put(&fs->itable, in);
	}
}

static void bfs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			  mode_t mode, struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_node dir = {0}, child = {0};
	struct fuse_entry_param e;
	struct bfs_inode *in = NULL;
	struct bfs_fh *fh = NULL;
	struct bfs_new_owner own;
	int rc;

	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc != 0)
		goto out;
	rc = fs->opts->ro
		     ? EROFS
		     : bfs_ns_make_child(&dir, name, BFS_NODE_FILE, &child);
	if (rc != 0)
		goto out;
	bfs_fs_new_owner(fs, req, parent, mode, &own);
	in = bfs_inode_link(&fs->itable, parent, name, &child);
	fh = fh_new(fs);
	fh->in = in;
	fh->writer = true;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	in->unlinked = false;
	in->mtime_set = false;
	in->atime_set = false;
	in->ctime_set = false;
	/* the creator's mode and owner, carried by the upload at close */
	bfs_fs_set_new_owner(in, &own);
	rc = stage_for_write(fs, in, true);
	if (rc == 0)
		in->nopen++;
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (rc != 0) {
		bfs_inode_forget(&fs->itable, in->ino, 1);
		goto out;
	}
	bfs_fs_dir_changed(fs, parent);
	bfs_fs_fill_entry(fs, in, &e);
	fi->fh = (uint64_t)(uintptr_t)fh;
	fh = NULL; /* owned by the kernel's file now */
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		fh = (struct bfs_fh *)(uintptr_t)fi->fh;
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		in->nopen--;
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		bfs_inode_forget(&fs->itable, in->ino, 1);
		bfs_inode_put(&fs->itable, in);
		fh_free(fs, fh);
	}
	goto done;
out:
	fh_free(fs, fh);
	if (in)
		bfs_inode_put(&fs->itable, in);
	fuse_reply_err(req, rc);
done:
	bfs_node_release(&dir);
	bfs_node_release(&child);
}

static struct bfs_fh *fh_of(struct fuse_file_info *fi)
{
	return (struct bfs_fh *)(uintptr_t)fi->fh;
}

/* Read from the store, following our own uploads of the file; bytes of
 * cached blocks may be left in their files, in parts (store.h,
 * get_range_parts). */
static int read_store(struct bfs_inode *in, struct bfs_fh *fh, off_t off,
		      size_t size, char *buf, size_t *got,
		      struct bfs_file_parts *parts)
{
	struct bfs_store *s;
	char *key;
	char etag[BFS_ETAG_MAX];
	bool exact;
	uint64_t base = 0;
	int rc;

	for (int attempt = 0;; attempt++) {
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		s = in->node.store;
		key = bfs_xstrdup(in->node.key);
		snprintf(etag, sizeof(etag), "%s", fh->etag);
		exact = in->node.exact;
		if (exact) {
			/* the file is a range of its object: nothing past
			 * it, and all of it or EIO */
			base = in->node.exact_off;
			size = (uint64_t)off >= in->node.exact_len
				       ? 0
				       : BFS_MIN(size, in->node.exact_len -
							       (uint64_t)off);
		} else if (etag[0] && in->node.have_info &&
			   strcmp(etag, in->node.info.etag) == 0) {
			/* the version's size is known: no read past its end
			 * (the kernel asks a whole page of a 2-byte file, and
			 * a short answer would be asked again for the rest) */
			size = (uint64_t)off >= in->node.info.size
				       ? 0
				       : BFS_MIN(size, in->node.info.size -
							       (uint64_t)off);
		}
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		if (size == 0) {
			*got = 0;
			free(key);
			return 0;
		}
		rc = bfs_store_read_parts(s, key, base + (uint64_t)off, size,
					  buf, got, etag[0] ? etag : NULL,
					  parts);
		if (rc == ERANGE) {
			*got = 0;
			rc = 0;
		}
		if (rc == 0 && exact && *got < size) {
			bfs_log(LOG_ERR,
				"%s: read of '%s' at %llu: %zu of %zu bytes, "
				"the object is shorter than the file: EIO",
				s->name, key,
				(unsigned long long)(base + (uint64_t)off),
				*got, size);
			free(key);
			bfs_file_parts_close(parts);
			return EIO;
		}
		if (rc == ESTALE && attempt == 0) {
			/* our own upload from another handle made a new
			 * version: follow it, as a local file would */
			bool ours;

			BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
			ours = strcmp(fh->etag, in->node.info.etag) != 0;
			if (ours)
				snprintf(fh->etag, sizeof(fh->etag), "%s",
					 in->node.info.etag);
			BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
			if (ours) {
				free(key);
				continue;
			}
		}
		if (rc != 0 && rc != EINTR) /* the store logged why */
			bfs_log(LOG_ERR,
				"%s: read of '%s' at %lld failed: %s%s",
				s->name, key, (long long)off, strerror(rc),
				rc == ESTALE ? " (changed by another client "
					       "while open)"
					     : "");
		free(key);
		return rc == ESTALE ? EIO : rc;
	}
}

/*
 * A read moves atime as relatime does: when atime is not after mtime or
 * ctime, or is a day old. In memory only: the next write of the object
 * for another reason (or a utimens) stores it, so reading never costs
 * a request. Considered once per open handle.
 */
static void read_atime(struct bfs_fs *fs, struct bfs_fh *fh)
{
	struct bfs_inode *in = fh->in;
	struct timespec now;
	struct stat st;

	clock_gettime(CLOCK_REALTIME, &now);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (fh->read_once) {
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		return;
	}
	fh->read_once = true;
	bfs_fs_fill_attr(fs, in, &st);
	if (!bfs_ts_before(st.st_mtim, st.st_atim) ||
	    !bfs_ts_before(st.st_ctim, st.st_atim) ||
	    now.tv_sec - st.st_atim.tv_sec >= 24 * 3600)
		bfs_times_note(&fs->times, &in->node, BFS_TIME_A, &now);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
}

static void bfs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct bfs_fh *fh = fh_of(fi);
	struct bfs_inode *in = fh->in;
	char *buf = bfs_xmalloc(size);
	struct bfs_file_parts parts = {0};
	size_t got = 0;
	int rc = 0;
	int fd = -1;
	pid_t tid = fuse_req_ctx(req)->pid;

	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (in->staged)
		fd = in->staged->fd; /* lives while this handle is open */
	else /* the kernel's retry of a read that just failed */
		rc = bfs_readfail_check(&fh->readfail, tid, (uint64_t)off,
					size);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (fd >= 0) {
		ssize_t n = pread(fd, buf, size, off);

		if (n < 0)
			rc = errno;
		else
			got = (size_t)n;
	} else if (rc == 0) {
		rc = read_store(in, fh, off, size, buf, &got, &parts);
		if (rc != 0 && rc != EINTR) {
			BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
			bfs_readfail_note(&fh->readfail, tid, (uint64_t)off,
					  size, rc);
			BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		}
	} else {
		bfs_dbg(BFS_DBG_FS,
			"read at %lld: %s again at once (it just "
			"failed)",
			(long long)off, strerror(rc));
	}
	if (rc == 0)
		read_atime(bfs_fs(req), fh);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		bfs_read_reply(req, buf, got, bfs_fs(req)->splice_max, &parts);
	free(buf);
}

static void bfs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			 size_t size, off_t off, struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_fh *fh = fh_of(fi);
	struct bfs_inode *in = fh->in;
	ssize_t n = -1;
	int rc = 0;

	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	if (!fh->writer || in->staged == NULL) {
		rc = EBADF;
	} else if ((uint64_t)off + size > BFS_OBJECT_MAX) {
		rc = EFBIG;
	} else {
		struct bfs_staged *st = in->staged;
		struct bfs_upload_conf uc;
		struct bfs_put_req put;
		struct bfs_meta_list meta = {0};
		size_t did = 0;
		uint64_t sz;
		char *key;

		/* a failure after some pieces: those are written (a short
		 * write, as pwrite's) */
		rc = bfs_pwrite_all(st->fd, buf, size, off, &did);
		if (rc == 0 || did > 0) {
			rc = 0;
			n = (ssize_t)did;
			sz = bfs_staged_size(st);
			bfs_staged_wrote(st);
			in->mtime_set = false; /* written now */
			if (fuse_req_ctx(req)->uid != 0)
				bfs_fs_kill_priv_locked(fs, in);
			/* a full part pipe waits for the network: not
			 * under the lock (in is busy, st stays ours); a
			 * stream begins with the metadata of now, built
			 * for that write alone */
			key = bfs_xstrdup(in->node.key);
			upload_req(key, st->fd, &put);
			upload_conf(fs, &uc);
			if (bfs_upload_feed_starts(st->feed, in->node.store,
						   &uc, (uint64_t)off,
						   (uint64_t)n, sz)) {
				bfs_fs_build_meta(fs, in, &meta);
				put.meta = &meta;
			}
			BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
			bfs_upload_feed_wrote(&st->feed, in->node.store, &uc,
					      &put, st->fd, (uint64_t)off,
					      (uint64_t)n, sz, st->mpu_path);
			BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
			bfs_meta_list_release(&meta);
			free(key);
		}
	}
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_write(req, (size_t)n);
}

/*
 * A new file that no upload has made yet and that is still empty: the
 * close of one of its descriptors leaves its upload to the release
 * (bash's `>` closes a duplicate of the descriptor before it writes:
 * uploading the empty file there cost a PUT, and made the PUT of the
 * data a conditional overwrite). in->lock held.
 */
static bool empty_new_locked(const struct bfs_inode *in)
{
	const struct bfs_staged *st = in->staged;

	return st && st->base_etag[0] == '\0' && !st->unconditional &&
	       bfs_staged_size(st) == 0;
}

/* The upload of flush (closing) and fsync (!closing). */
static int flush_fh(struct bfs_fs *fs, struct bfs_fh *fh, bool closing)
{
	int rc = 0;

	if (!fh->writer)
		return 0;
	BFS_LOCK(&fh->in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(fh->in);
	if (!closing || !empty_new_locked(fh->in))
		rc = bfs_fs_upload_locked(fs, fh->in);
	if (rc == 0)
		snprintf(fh->etag, sizeof(fh->etag), "%s",
			 fh->in->node.info.etag);
	bfs_inode_busy_end(fh->in);
	BFS_UNLOCK(&fh->in->lock, BFS_LK_FS_INODE);
	return rc;
}

static void bfs_ll_flush(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	fuse_reply_err(req, flush_fh(bfs_fs(req), fh_of(fi), true));
}

static void bfs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
			 struct fuse_file_info *fi)
{
	fuse_reply_err(req, flush_fh(bfs_fs(req), fh_of(fi), false));
}

static void bfs_ll_release(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_fh *fh = fh_of(fi);
	struct bfs_inode *in = fh->in;
	int rc = 0;

	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	if (fh->writer)
		rc = bfs_fs_upload_locked(fs, in);
	in->nopen--;
	if (in->nopen == 0 && in->staged) {
		bool dirty = bfs_staged_dirty(in->staged) && !in->unlinked;

		/* a failed upload keeps the data on disk, never drops it */
		bfs_staged_free(in->staged, !dirty);
		in->staged = NULL;
	}
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(&fs->itable, in);
	fh_free(fs, fh);
	fuse_reply_err(req, rc);
}

static void bfs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = {
		.f_bsize = 1 << 20,
		.f_frsize = 4096,
		.f_blocks = 1ull << 40,
		.f_bfree = 1ull << 40,
		.f_bavail = 1ull << 40,
		.f_files = 1ull << 32,
		.f_ffree = 1ull << 32,
		.f_favail = 1ull << 32,
		.f_namemax = 255,
	};

	fuse_reply_statfs(req, &sv);
}

static void bfs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
			const char *newname)
{
	fuse_reply_err(req, EPERM);
}

static void bfs_ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			    struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops bfs_ll_ops = {
	.init = bfs_ll_init,
	.destroy = bfs_ll_destroy,
	.lookup = bfs_ll_lookup,
	.forget = bfs_ll_forget,
	.forget_multi = bfs_ll_forget_multi,
	.getattr = bfs_ll_getattr,
	.setattr = bfs_ll_setattr,
	.mkdir = bfs_ll_mkdir,
	.unlink = bfs_ll_unlink,
	.rmdir = bfs_ll_rmdir,
	.symlink = bfs_ll_symlink,
	.mknod = bfs_ll_mknod,
	.rename = bfs_ll_rename,
	.link = bfs_ll_link,
	.open = bfs_ll_open,
	.read = bfs_ll_read,
	.write = bfs_ll_write,
	.flush = bfs_ll_flush,
	.release = bfs_ll_release,
	.fsync = bfs_ll_fsync,
	.opendir = bfs_ll_opendir,
	.readdir = bfs_ll_readdir,
	.readdirplus = bfs_ll_readdirplus,
	.releasedir = bfs_ll_releasedir,
	.fsyncdir = bfs_ll_fsyncdir,
	.statfs = bfs_ll_statfs,
	.setxattr = bfs_ll_setxattr,
	.getxattr = bfs_ll_getxattr,
	.listxattr = bfs_ll_listxattr,
	.removexattr = bfs_ll_removexattr,
	.readlink = bfs_ll_readlink,
	.create = bfs_ll_create,
};

const struct fuse_lowlevel_ops *bfs_fs_ops(void)
{
	return bfs_fs_interruptible(&bfs_ll_ops);
}

struct bfs_fs *bfs_fs_create(const struct bfs_fs_conf *conf, char *err,
			     size_t errlen)
{
	struct bfs_fs *fs = bfs_xcalloc(1, sizeof(*fs));

	fs->opts = conf->opts;
	fs->staging_dir = bfs_xstrdup(conf->staging_dir);
	fs->empty_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fs->empty_fd < 0) {
		int rc = errno;

		snprintf(err, errlen, "cannot open /dev/null: %s",
			 strerror(rc));
		free(fs->staging_dir);
		free(fs);
		errno = rc;
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &fs->start);
	bfs_times_init(&fs->times);
	BFS_PCHECK(pthread_mutex_init(&fs->fh_lock, NULL));
	bfs_itable_init(&fs->itable, &conf->root);
	return fs;
}

unsigned bfs_fs_flush_all(struct bfs_fs *fs)
{
	struct bfs_inode **all;
	size_t n = bfs_inode_all(&fs->itable, &all);
	unsigned failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct bfs_inode *in = all[i];

		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		bfs_inode_busy_begin(in);
		if (bfs_fs_upload_locked(fs, in) != 0)
			failed++;
		bfs_inode_busy_end(in);
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	}
	bfs_inode_put_all(&fs->itable, all, n);
	return failed;
}

void bfs_fs_destroy(struct bfs_fs *fs)
{
	if (fs == NULL)
		return;
	/* files still open at unmount: the kernel sends no release */
	while (fs->fhs) {
		struct bfs_fh *fh = fs->fhs;

		fs->fhs = fh->next;
		free(fh);
	}
	BFS_PCHECK(pthread_mutex_destroy(&fs->fh_lock));
	bfs_itable_release(&fs->itable);
	bfs_times_release(&fs->times);
	close(fs->empty_fd);
	free(fs->staging_dir);
	free(fs);
}
