/*
 * test_readfail.c - an open file's memory of the read that just failed
 * (src/fs/readfail.c): which later reads are the kernel's retry of it
 * and fail at once, and which ask the server again.
 */
#include "compat.h"

#include <errno.h>
#include <string.h>

#include "fs/readfail.h"
#include "tap.h"

int main(void)
{
	struct bfs_readfail f;

	memset(&f, 0, sizeof(f));
	tap_ok(bfs_readfail_check(&f, 7, 0, 4096) == 0,
	       "nothing failed: a read asks the server");

	/* a 128 KiB readahead timed out; the kernel asks its first page */
	bfs_readfail_note(&f, 7, 0, 131072, ETIMEDOUT);
	tap_ok(bfs_readfail_check(&f, 7, 0, 4096) == ETIMEDOUT,
	       "the retry of the failed range fails at once, same errno");
	tap_ok(bfs_readfail_check(&f, 7, 65536, 4096) == ETIMEDOUT,
	       "a read inside the failed range fails at once");
	tap_ok(bfs_readfail_check(&f, 7, 131072, 131072) == ETIMEDOUT,
	       "the next piece of the readahead window fails at once");
	tap_ok(f.hi == 262144, "the range grows to cover it (hi %llu)",
	       (unsigned long long)f.hi);
	tap_ok(bfs_readfail_check(&f, 7, 524288, 4096) == 0,
	       "a read past the failed range asks the server");
	tap_ok(bfs_readfail_check(&f, 8, 0, 4096) == 0,
	       "another thread's read of the range asks the server");

	/* side by side failures are one range */
	bfs_readfail_note(&f, 7, 262144, 131072, EIO);
	tap_ok(f.lo == 0 && f.hi == 393216 && f.err == EIO,
	       "a failure next to the last one extends its range");
	bfs_readfail_note(&f, 7, 1048576, 4096, EIO);
	tap_ok(f.lo == 1048576 && f.hi == 1052672,
	       "a failure elsewhere starts a new range");

	/* the memory is brief */
	bfs_readfail_note(&f, 7, 0, 4096, ETIMEDOUT);
	f.t -= BFS_READFAIL_SECS + 1;
	tap_ok(bfs_readfail_check(&f, 7, 0, 4096) == 0,
	       "past BFS_READFAIL_SECS the range is asked again");
	tap_ok(f.t == 0, "and the failure is forgotten");
	return tap_done();
}
