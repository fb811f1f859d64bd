/*
 * readfail.h - an open file's memory of the read that just failed, so
 * that the kernel's retry of that read fails at once instead of waiting
 * out op_timeout a second time.
 *
 * When a read fails the kernel asks again: its readahead failed, so it
 * reads the first page alone, and the rest of a readahead window comes
 * in further requests. A read by the same thread that starts inside the
 * range that failed, or right at its end, within BFS_READFAIL_SECS of
 * the failure, gets the same error without a request, and the range
 * grows to cover it. Later reads, other threads and other open files
 * ask the server again.
 *
 * Invariant: the struct is zeroed with its handle (nothing remembered);
 * it is protected by the lock of the handle's inode (in->lock).
 */
#ifndef BFS_FS_READFAIL_H
#define BFS_FS_READFAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How long a failure answers the retries of its range: the kernel asks
 * again at once, and a slow machine delays that by far less than this */
#define BFS_READFAIL_SECS 5.0

struct bfs_readfail {
	double t; /* monotonic seconds of the failure; 0: nothing */
	pid_t tid;
	uint64_t lo, hi; /* the bytes that failed, [lo, hi) */
	int err;
};

/*
 * Whether a read of [off, off + size) by thread tid is the retry of a
 * read that just failed.
 * @return 0 (ask the server), or the errno the failure gave, to give
 *	at once (the remembered range then covers this read too)
 */
int bfs_readfail_check(struct bfs_readfail *f, pid_t tid, uint64_t off,
		       size_t size);

/* Remember that a read of [off, off + size) by tid failed with err. */
void bfs_readfail_note(struct bfs_readfail *f, pid_t tid, uint64_t off,
		       size_t size, int err);

#endif
