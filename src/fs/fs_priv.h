/*
 * fs_priv.h - state shared by the files of the FUSE layer (not exported
 * beyond src/fs/).
 */
#ifndef BFS_FS_PRIV_H
#define BFS_FS_PRIV_H

#include <fuse_lowlevel.h>

#include "fs/fs.h"
#include "fs/inode.h"
#include "fs/readfail.h"
#include "fs/staging.h"
#include "fs/times.h"

struct bfs_fs {
	const struct bfs_options *opts;
	char *staging_dir;
	struct bfs_itable itable;
	int empty_fd;		/* /dev/null: the body of directory markers */
	struct timespec start;	/* mtime of what has none (virtual dirs) */
	struct bfs_times times; /* noted, not stored: dir changes, reads */
	/* open files, freed at unmount when the kernel sent no release */
	pthread_mutex_t fh_lock;
	struct bfs_fh *fhs; /* protected by fh_lock */
	/* largest read answered with file parts (read_reply.c); 0: none.
	 * Set by init before the first read. */
	size_t splice_max;
};

/*
 * ops with the calls that only read (lookup, getattr, a read-only open,
 * read, readdir, readlink, xattr reads) made interruptible by FUSE
 * INTERRUPT (interrupt.c). Built once; ops must outlive the mount.
 */
const struct fuse_lowlevel_ops *
bfs_fs_interruptible(const struct fuse_lowlevel_ops *ops);

/* The largest object S3 stores (5 TiB): a file may not grow past it,
 * whatever the staging disk allows (tmpfs allows 8 EiB). */
#define BFS_OBJECT_MAX (5ull << 40)

/* An open file. */
struct bfs_fh {
	struct bfs_inode *in; /* a reference is held */
	bool writer;
	bool read_once; /* atime was considered; protected by in->lock */
	/* the version reads are pinned to; protected by in->lock */
	char etag[BFS_ETAG_MAX];
	/* the read that just failed; protected by in->lock */
	struct bfs_readfail readfail;
	struct bfs_fh *prev, *next; /* protected by fs->fh_lock */
};

/* Whether time a is strictly before time b. */
static inline bool bfs_ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static inline struct bfs_fs *bfs_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/*
 * The largest read whose answer libfuse can splice whole: the pipe it
 * grows to the reply's size fits (read_reply.c). 0 when pipes fail.
 */
size_t bfs_read_reply_probe(void);

/*
 * Answer a read of got bytes: buf, where the file parts of parts (from
 * bfs_store_read_parts) go by splice; closes parts.
 */
void bfs_read_reply(fuse_req_t req, char *buf, size_t got, size_t splice_max,
		    struct bfs_file_parts *parts);

/* Whether node's attributes come from object metadata (-o metadata=). */
bool bfs_fs_objects_mode(const struct bfs_fs *fs, const struct bfs_node *node);

/* struct stat of an inode; in->lock held. */
void bfs_fs_fill_attr(struct bfs_fs *fs, struct bfs_inode *in, struct stat *st);

/*
 * Upload in's staged data if dirty (flush, fsync, release); in->lock
 * held and in busy (the lock is dropped during the upload). @return 0 or the
 * errno to give the caller (EIO after retries, ESTALE when another writer
 * changed the object).
 */
int bfs_fs_upload_locked(struct bfs_fs *fs, struct bfs_inode *in);

/* Set time metadata name to ts in s3fs's form ("sec" or "sec.nnnnnnnnn"). */
void bfs_fs_meta_set_time(struct bfs_meta_list *m, const char *name,
			  const struct timespec *ts);
/* Read time metadata name of node. @return whether it holds a time. */
bool bfs_fs_meta_time(const struct bfs_node *node, const char *name,
		      struct timespec *out);

/* s3fs-compatible metadata of in (s3fs_meta.c); in->lock held. */
void bfs_fs_build_meta(struct bfs_fs *fs, struct bfs_inode *in,
		       struct bfs_meta_list *out);
/*
 * metadata=objects: read the mode, owner and mtime of a directory from its
 * marker (a HEAD of "dir/"); nothing changes for an implicit directory or
 * on any error (the mount's defaults stand).
 */
void bfs_fs_dir_meta(struct bfs_fs *fs, struct bfs_node *node);
/*
 * Store in's mode/owner/mtime in its object (a copy onto itself), or
 * leave them to the pending upload; in->lock held, dropped for the
 * requests, in busy. The caller refreshes
 * in's metadata first (bfs_fs_refresh_locked), so nothing is lost.
 * @return 0 or the store's errno.
 */
int bfs_fs_store_attrs_locked(struct bfs_fs *fs, struct bfs_inode *in);

/* Mode and owner of a node being created (perm.c). */
struct bfs_new_owner {
	mode_t mode; /* permission bits, umask applied */
	uid_t uid;
	gid_t gid;
};

/*
 * The mode and owner a new child of parent gets when req creates it with
 * mode (S_IFDIR in mode for a directory): mode less the caller's umask,
 * the caller's uid/gid, the parent's gid where the parent is setgid.
 * Takes and drops the parent inode's lock.
 */
void bfs_fs_new_owner(struct bfs_fs *fs, fuse_req_t req, fuse_ino_t parent,
		      mode_t mode, struct bfs_new_owner *out);
/* Give in the mode and owner of o; in->lock held. */
void bfs_fs_set_new_owner(struct bfs_inode *in, const struct bfs_new_owner *o);

/* A node made with one put (newnode.c). */
struct bfs_new_node {
	enum bfs_node_type type; /* BFS_NODE_DIR: a "name/" marker */
	mode_t mode;		 /* file type bits | permission bits asked */
	bool keep_mode;		 /* the bits as given, no umask (symlinks) */
	const struct bfs_meta_list *extra; /* more metadata (rdev), or NULL */
	int fd;		  /* the body, or -1 for an empty object */
	uint64_t size;	  /* of the body */
	const char *what; /* the call, for the log: "mkdir" */
};

/*
 * Make child name of parent as one put of nn's body (If-None-Match: *),
 * carrying the caller's owner, nn's type and mode and the times in
 * s3fs's metadata, and link its inode with what the put made (no HEAD
 * follows). A directory whose marker exists already is made.
 * @param e the entry to reply with, filled on success (lookup count
 *        taken).
 * @return 0, EROFS, EINVAL/ENAMETOOLONG (the name), EEXIST (a file
 *         exists), or the store's errno.
 */
int bfs_fs_make_node(struct bfs_fs *fs, fuse_req_t req, fuse_ino_t parent,
		     const char *name, const struct bfs_new_node *nn,
		     struct fuse_entry_param *e);

/*
 * Clear the setuid bit, and setgid where group execute is set, of a
 * regular file, as Linux does on write and truncate by an unprivileged
 * caller and on any chown (the kernel leaves it to us: libfuse enables
 * FUSE_CAP_HANDLE_KILLPRIV); in->lock held. The new mode reaches the
 * object with the pending upload or the caller's metadata update.
 * @return whether a bit was cleared.
 */
bool bfs_fs_kill_priv_locked(struct bfs_fs *fs, struct bfs_inode *in);

/*
 * An entry of directory dir was created, removed or renamed by this
 * mount: its mtime and ctime become now (noted in fs->times: storing
 * them on the marker would cost a request per entry; attr.c).
 */
void bfs_fs_dir_changed(struct bfs_fs *fs, fuse_ino_t dir);
/*
 * A listing of dir showed entries as new as newest: a directory without
 * a marker takes it as its mtime and ctime, if newer than what it had.
 */
void bfs_fs_dir_listed(struct bfs_fs *fs, fuse_ino_t dir,
		       const struct timespec *newest);

/* readdir, readdirplus, opendir, releasedir (dir.c). */
void bfs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void bfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void bfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi);
void bfs_ll_releasedir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);

/* mkdir, unlink, rmdir, rename (dirops.c). */
void bfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode);
void bfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void bfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void bfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		   fuse_ino_t newparent, const char *newname,
		   unsigned int flags);

/* mknod: FIFOs, sockets, devices (mknod.c). */
void bfs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev);

/* symlink, readlink (symlink.c). */
void bfs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		    const char *name);
void bfs_ll_readlink(fuse_req_t req, fuse_ino_t ino);

/* Extended attributes (xattr.c). */
void bfs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     size_t size);
void bfs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void bfs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     const char *value, size_t size, int flags);
void bfs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* Refresh a file's info with a HEAD unless staged; in->lock held,
 * dropped for the HEAD, in busy. */
int bfs_fs_refresh_locked(struct bfs_inode *in);

/* Copy of the node of a directory inode. @return 0, ENOENT, ENOTDIR. */
int bfs_fs_dir_node(struct bfs_fs *fs, fuse_ino_t ino, struct bfs_node *out);

/* The entry reply for an inode; in->lock not held. */
void bfs_fs_fill_entry(struct bfs_fs *fs, struct bfs_inode *in,
		       struct fuse_entry_param *e);

#endif
