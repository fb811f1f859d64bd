/*
 * inum.h - the numbers of forgotten inodes, so that a name the kernel
 * forgot and looks up again gets its old number back.
 *
 * The kernel forgets an inode whenever it drops the dentry (memory
 * pressure, `echo 2 >/proc/sys/vm/drop_caches`); the next lookup of
 * the name used to make a new inode with a new number, so a file's
 * st_ino changed under a process that had noted it (pjdfstest's rename
 * cases: lstat, rename away and back, lstat). POSIX has a file keep its
 * number while it exists, across renames.
 *
 * An entry is keyed by (parent number, name): a path, whatever store
 * and key it maps to (two catalog paths of one object are two files).
 * The parent's number is itself kept by the same means, so the key
 * stays valid when a whole branch is forgotten. Rename moves an entry,
 * unlink drops it. At most BFS_INUM_MAX entries are kept; the oldest go
 * first, and a name forgotten that long ago gets a new number.
 *
 * Not thread-safe: the inode table calls it under its lock.
 */
#ifndef BFS_FS_INUM_H
#define BFS_FS_INUM_H

#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/ns.h"

#define BFS_INUM_MAX 65536

struct bfs_inum;

struct bfs_inums {
	struct bfs_inum **buckets; /* BFS_INUM_BUCKETS of them (inum.c) */
	struct bfs_inum *oldest, *newest;
	size_t count;
};

void bfs_inums_init(struct bfs_inums *m);
void bfs_inums_release(struct bfs_inums *m);

/*
 * Remember that parent/name, of type, had number ino. broken: 0, or
 * the listed size + 1 of an object found replaced since its listing
 * (the inode's open failed EIO and logged it): a new inode of the same
 * listing stays broken, without asking the bucket or logging again.
 */
void bfs_inums_put(struct bfs_inums *m, fuse_ino_t parent, const char *name,
		   enum bfs_node_type type, fuse_ino_t ino, uint64_t broken);

/*
 * The number parent/name had when forgotten, taken out of the memory,
 * or 0: none, or one of another type; *broken (if not NULL) what put
 * was given, or 0.
 */
fuse_ino_t bfs_inums_take(struct bfs_inums *m, fuse_ino_t parent,
			  const char *name, enum bfs_node_type type,
			  uint64_t *broken);

/* parent/name is gone (unlink, rmdir, replaced by a rename). */
void bfs_inums_drop(struct bfs_inums *m, fuse_ino_t parent, const char *name);

/* parent/name was renamed to newparent/newname. */
void bfs_inums_move(struct bfs_inums *m, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname);

#endif
