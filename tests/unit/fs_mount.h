/*
 * fs_mount.h - the real FUSE layer mounted in-process for unit tests:
 * the bucket view of src/fs over the stack a remote bucket gets (block
 * cache, metadata cache, prefetcher) with an in-memory store at the
 * bottom, and between them a fault layer (injected errors) under a slow
 * layer (gates, delays, the list of requests: what a server would see).
 * The kernel's FUSE serves the mount point from a session loop in a
 * thread of the test, so the test's own system calls go through the
 * kernel to the filesystem exactly as a user's do.
 *
 * Stack: mem -> fault -> slow -> blockcache -> metacache -> prefetch.
 * Everything lives under one temporary directory in $TMPDIR (the test
 * runner reaps a mount a killed test left there).
 */
#ifndef BFS_TESTS_FS_MOUNT_H
#define BFS_TESTS_FS_MOUNT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "catalog/ns.h"
#include "conf.h"

struct fuse_session;
struct bfs_fs;

struct fs_mount {
	char *dir; /* the temporary directory, owned */
	char *mnt; /* dir/mnt: the mount point */
	struct bfs_config cfg;
	struct bfs_store *mem;	 /* the bottom: "another client" writes here */
	struct bfs_store *fault; /* bfs_fault_arm() */
	struct bfs_store *slow;	 /* bfs_slow_rule(), bfs_slow_count() */
	struct bfs_store *top;
	struct bfs_ns *ns;
	struct bfs_fs *fs;
	struct fuse_session *se;
	pthread_t loop;
	bool looping;
};

/*
 * Mount. options: [bucketfs] lines of the configuration ("attr_ttl =
 * 300\n"), cache_dir is set here.
 * @return 0; ENODEV when this machine cannot mount FUSE (no /dev/fuse:
 *         the caller skips); another errno on failure. why says which.
 */
int fs_mount_up(struct fs_mount *m, const char *options, char *why,
		size_t whylen);

/*
 * fs_mount_up for a test's main(), with the log at warnings and the
 * caches' TTLs far longer than any test. @return as fs_mount_up; on
 * ENODEV the SKIP is printed and the test ends with status 0.
 */
int fs_mount_for_test(struct fs_mount *m, char *why, size_t whylen);

/*
 * Give up on a mount whose calls may never be answered (a deadlock):
 * the connection is cut, every call in flight fails ENOTCONN, and the
 * process can end; nothing can be unmounted or freed after it. Also
 * done on any fatal signal, a sanitizer report and exit().
 */
void fs_mount_abandon(void);

/*
 * Unmount (lazily: the kernel ends the session once no file of it is
 * open), stop the loop, free everything. Aborts if the loop does not end
 * within a minute.
 */
void fs_mount_down(struct fs_mount *m);

/*
 * Move the metadata cache's clock on by seconds: its entries age as if
 * that much time had passed, so a test sees a TTL run out without
 * waiting for it. The kernel's own caches (entry and attribute
 * timeouts) keep the real clock.
 */
void fs_mount_clock_skip(unsigned seconds);

/* The path of rel under the mount point, in buf. @return buf. */
char *fs_path(const struct fs_mount *m, const char *rel, char *buf, size_t len);

/*
 * Open rel under the mount with O_WRONLY | flags (mode 0644 if it is
 * made), write len bytes of data, close. @return 0 or the first errno.
 */
int fs_write_file(const struct fs_mount *m, const char *rel, const void *data,
		  size_t len, int flags);

/* Another client's write: key = data, straight into the bottom store. */
int fs_store_put(struct fs_mount *m, const char *key, const void *data,
		 size_t len);

/*
 * What the bottom store holds at key, up to cap bytes, in buf.
 * @return 0 with *got, or the store's errno.
 */
int fs_store_get(struct fs_mount *m, const char *key, void *buf, size_t cap,
		 size_t *got);

/* A call run in a thread of its own, waited for with a bound. */
struct fs_job {
	pthread_t thread;
	int (*fn)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done; /* protected by lock */
	int rc;	   /* fn's return, once done */
};

void fs_job_start(struct fs_job *j, int (*fn)(void *arg), void *arg);
/* Whether the job ended within ms milliseconds. */
bool fs_job_wait(struct fs_job *j, unsigned ms);
/* Wait for the job however long it takes. @return fn's return. */
int fs_job_join(struct fs_job *j);

#endif
