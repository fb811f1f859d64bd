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
 * - Numbers are never reused within a mount (a counter), and the
 *   generation is the mount's start time, so a number the kernel kept
 *   across a remount is never mistaken.
 */
#ifndef BFS_FS_INODE_H
#define BFS_FS_INODE_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/ns.h"

struct bfs_staged;

struct bfs_inode {
	fuse_ino_t ino;
	/* protected by itable->lock */
	fuse_ino_t parent;
	char *name;
	uint64_t nlookup;
	unsigned refs;
	bool linked; /* in the name index */
	struct bfs_inode *next_ino;
	struct bfs_inode *next_name;

	pthread_mutex_t lock;
	/* protected by lock */
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
	size_t nbuckets;
	size_t count;
	fuse_ino_t next_ino;
	uint64_t generation;
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

/* Lower the lookup count by n (FUSE forget). */
void bfs_inode_forget(struct bfs_itable *t, fuse_ino_t ino, uint64_t n);

/* The inode number of parent/name if the table holds it, else 0. */
fuse_ino_t bfs_inode_find(struct bfs_itable *t, fuse_ino_t parent,
			  const char *name);

/* Remove parent/name from the name index (after unlink, rmdir). */
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
