/*
 * inode.h - the inode table: stable 64-bit inode numbers for the nodes
 * the kernel knows, with exact lookup counts.
 *
 * Invariants:
 * - An inode stays in the table while its lookup count (nlookup) or its
 *   reference count (refs: open handles and calls in progress) is above
 *   zero; the root is never freed before bfs_itable_release().
 * - (parent, name) → inode is unique among linked inodes; an unlinked or
 *   replaced inode leaves the name index but lives on until forgotten.
 * - A number is given to one path only within a mount (a counter): a
 *   name the kernel forgot gets its own number back at its next lookup
 *   (inum.h), never another's; rename keeps a file's number. The
 *   generation is the mount's start time, so a number the kernel kept
 *   across a remount is never mistaken.
 * - node.type and node.store are fixed when an inode is made: they may be
 *   read without any lock.
 *
 * Locking (doc/internals/locking.md has the order of every layer):
 * - itable->lock protects the indexes and the fields marked so below. It
 *   is never held while an inode's lock is taken: functions here that
 *   touch an inode's own fields take a reference under the table lock,
 *   drop it, then lock the inode.
 * - inode->lock protects the inode's file state, and is held only for
 *   memory and local-disk work. A request that needs the network or a
 *   long wait for one file (HEAD, staging download, upload, a stream's
 *   full part pipe) marks the inode busy (bfs_inode_busy_begin), drops
 *   the lock for the I/O, and ends with bfs_inode_busy_end. The busy
 *   holder alone may change in->staged and what it points to, so the
 *   staged file and its stream stay put while the lock is dropped;
 *   others may read attributes meanwhile, and requests that change the
 *   file wait for the busy state to end.
 */
#ifndef BFS_FS_INODE_H
#define BFS_FS_INODE_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/ns.h"
#include "fs/inum.h"

struct bfs_staged;

struct bfs_inode {
	fuse_ino_t ino;
	/* protected by itable->lock */
	fuse_ino_t parent;
	char *name;
	uint64_t nlookup;
	unsigned refs;
	bool linked; /* in the name and children indexes */
	struct bfs_inode *next_ino;
	struct bfs_inode *next_name;
	/* the children index: inodes hashed by parent, doubly linked */
	struct bfs_inode *next_sib, **pprev_sib;

	pthread_mutex_t lock;
	pthread_cond_t idle; /* signalled when busy ends */
	/* protected by lock */
	bool busy; /* a request is doing I/O for this file, lock dropped */
	struct bfs_node node;
	struct bfs_staged *staged; /* write staging, NULL when none */
	unsigned nopen;		   /* open file handles */
	bool unlinked;		   /* removed: never upload again */
	bool mode_set, owner_set, mtime_set;
	mode_t mode; /* permission bits set by chmod */
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	/* set by setattr and stored at once; times noted but not stored
	 * live in fs->times, which outlives a forgotten inode */
	bool ctime_set, atime_set;
	struct timespec ctime, atime;
	/* ETag at the last open for reading: the version the kernel's page
	 * cache holds; "" when unknown (written through us meanwhile) */
	char cache_etag[BFS_ETAG_MAX];
};

struct bfs_itable {
	pthread_mutex_t lock;
	struct bfs_inode **by_ino;
	struct bfs_inode **by_name;
	struct bfs_inode **by_parent;
	size_t nbuckets;
	size_t count;
	fuse_ino_t next_ino;
	uint64_t generation;
	/* the numbers of forgotten names, given back at their next lookup */
	struct bfs_inums gone;
};

void bfs_itable_init(struct bfs_itable *t, const struct bfs_node *root);
/* Free every inode, whatever its counts (unmount). */
void bfs_itable_release(struct bfs_itable *t);

/* The inode ino with a reference taken, or NULL. Pair with put. */
struct bfs_inode *bfs_inode_get(struct bfs_itable *t, fuse_ino_t ino);
void bfs_inode_put(struct bfs_itable *t, struct bfs_inode *in);

/*
 * The inode of child name of parent for node, found or made, with its
 * lookup count raised by one and a reference taken (pair with put). A
 * found inode of another type is replaced; one of the same type gets
 * node's fresh info unless it has staged writes.
 */
struct bfs_inode *bfs_inode_link(struct bfs_itable *t, fuse_ino_t parent,
				 const char *name, const struct bfs_node *node);

/*
 * The linked child name of parent with a reference taken (pair with
 * put), or NULL.
 */
struct bfs_inode *bfs_inode_find(struct bfs_itable *t, fuse_ino_t parent,
				 const char *name);

/*
 * The linked children of parent, each with a reference taken, in *out
 * (the caller frees it with bfs_inode_put_all).
 * @return how many.
 */
size_t bfs_inode_children(struct bfs_itable *t, fuse_ino_t parent,
			  struct bfs_inode ***out);

/*
 * A copy of in's name while it is a child of parent (the caller frees
 * it), else NULL: a rename may move or rename in at any time, and its
 * name is the table's (itable->lock), not in's.
 */
char *bfs_inode_name_in(struct bfs_itable *t, struct bfs_inode *in,
			fuse_ino_t parent);

/*
 * Every inode of the table, each with a reference taken (unmount's
 * flush, a directory rename's rekeying). @return how many.
 */
size_t bfs_inode_all(struct bfs_itable *t, struct bfs_inode ***out);

/* Put every inode of v[0, n) and free v. */
void bfs_inode_put_all(struct bfs_itable *t, struct bfs_inode **v, size_t n);

/*
 * Wait until no other request does I/O for in, then mark it busy; in->lock
 * held (released while waiting, held again on return). No other lock may
 * be held.
 */
void bfs_inode_busy_begin(struct bfs_inode *in);

/* End the busy state of bfs_inode_busy_begin; in->lock held. */
void bfs_inode_busy_end(struct bfs_inode *in);

/* Lower the lookup count by n (FUSE forget). */
void bfs_inode_forget(struct bfs_itable *t, fuse_ino_t ino, uint64_t n);

/*
 * Remove parent/name from the name index (after unlink, rmdir) and mark
 * its inode unlinked, so it is never uploaded again.
 */
void bfs_inode_unlink_name(struct bfs_itable *t, fuse_ino_t parent,
			   const char *name);

/*
 * Move parent/name to newparent/newname after a rename; keys of the
 * inode and of every inode below it with prefix old_key are rewritten to
 * start with new_key instead.
 */
void bfs_inode_rename(struct bfs_itable *t, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      const char *old_key, const char *new_key);

#endif
