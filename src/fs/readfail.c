/*
 * readfail.c - an open file's memory of the read that just failed (see
 * readfail.h): the kernel's retry of a failed read fails at once, so a
 * read on a dead server is bounded by one op_timeout, not two.
 */
#include "compat.h"

#include <time.h>

#include "fs/readfail.h"

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bfs_readfail_check(struct bfs_readfail *f, pid_t tid, uint64_t off,
		       size_t size)
{
	if (f->t == 0 || f->tid != tid || off < f->lo || off > f->hi)
		return 0;
	if (now_mono() - f->t > BFS_READFAIL_SECS) {
		f->t = 0;
		return 0;
	}
	if (off + size > f->hi)
		f->hi = off + size; /* the rest of the readahead window */
	return f->err;
}

void bfs_readfail_note(struct bfs_readfail *f, pid_t tid, uint64_t off,
		       size_t size, int err)
{
	double now = now_mono();

	if (f->t != 0 && f->tid == tid && now - f->t <= BFS_READFAIL_SECS &&
	    off <= f->hi && off + size >= f->lo) {
		/* readahead requests that failed side by side: one range */
		f->lo = off < f->lo ? off : f->lo;
		f->hi = off + size > f->hi ? off + size : f->hi;
	} else {
		f->lo = off;
		f->hi = off + size;
	}
	f->t = now;
	f->tid = tid;
	f->err = err;
}
