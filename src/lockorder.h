/*
 * lockorder.h - the order in which the locks of bucketfs are taken, and
 * its check in debug builds (doc/internals/locking.md has the table).
 *
 * Every lock has a level; a thread takes a lock only when its level is
 * above the level of every lock it already holds, so no two threads can
 * wait for each other. Debug builds (without NDEBUG) keep the levels a
 * thread holds and abort with file:line on a lock taken out of order, a
 * condition waited for with another lock held, or a network request
 * started while a lock of the FUSE layer is held. Release builds compile
 * the checks away.
 */
#ifndef BFS_LOCKORDER_H
#define BFS_LOCKORDER_H

#include <pthread.h>

/* Levels, outermost first (gaps leave room). */
enum bfs_lock_level {
	BFS_LK_FS_FH = 10,     /* fs->fh_lock: the list of open files */
	BFS_LK_FS_INODE = 20,  /* inode->lock (and its idle condition) */
	BFS_LK_FS_ITABLE = 30, /* itable->lock: the inode indexes */
	BFS_LK_FS_MAX = 39,    /* none of the above across network I/O */
};

#ifdef NDEBUG
#define bfs_lockorder_acquire(level, file, line) ((void)0)
#define bfs_lockorder_release(level)		 ((void)0)
#define bfs_lockorder_wait(level, file, line)	 ((void)0)
#define bfs_lockorder_io(file, line)		 ((void)0)
#else
/* A lock of level is about to be taken. */
void bfs_lockorder_acquire(unsigned level, const char *file, int line);
/* A lock of level was released. */
void bfs_lockorder_release(unsigned level);
/* A condition is waited for with the lock of level: no other held. */
void bfs_lockorder_wait(unsigned level, const char *file, int line);
/* Network I/O starts: no FUSE-layer lock may be held. */
void bfs_lockorder_io(const char *file, int line);
#endif

#define BFS_LOCK(m, level)                                                     \
	do {                                                                   \
		bfs_lockorder_acquire(level, __FILE__, __LINE__);              \
		BFS_PCHECK(pthread_mutex_lock(m));                             \
	} while (0)

#define BFS_UNLOCK(m, level)                                                   \
	do {                                                                   \
		BFS_PCHECK(pthread_mutex_unlock(m));                           \
		bfs_lockorder_release(level);                                  \
	} while (0)

#define BFS_COND_WAIT(c, m, level)                                             \
	do {                                                                   \
		bfs_lockorder_wait(level, __FILE__, __LINE__);                 \
		BFS_PCHECK(pthread_cond_wait(c, m));                           \
	} while (0)

#endif
