/*
 * util.h - small helpers every layer shares, written once: mkdir -p,
 * hex, write_all, bounded reads, retry backoff with jitter, locked
 * memory for secrets.
 *
 * Each returns 0 or a positive errno (or the value documented), holds no
 * state but a per-thread random seed, and is safe from any thread.
 */
#ifndef BFS_UTIL_H
#define BFS_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Create dir and every missing parent with mode (mkdir -p). An existing
 * directory is success; the modes of existing ones are left alone.
 * @return 0, or the errno of the mkdir that failed (ENOTDIR, EACCES,
 *         ENOSPC, EEXIST when a component is a file ...).
 */
int bfs_mkdir_p(const char *dir, mode_t mode);

/* n bytes as 2n lower-case hex digits and a NUL into out (2n+1 bytes). */
void bfs_hex_encode(const void *in, size_t n, char *out);

/* The value of one hex digit of either case, or -1. */
int bfs_hex_val(int c);

/* The largest write() of bfs_write_all() and bfs_pwrite_all(): larger
 * writes cost a VM that gives its free memory back to the host several
 * times the CPU (util.c). */
#define BFS_WRITE_PIECE (128u << 10)

/*
 * Write all len bytes of buf to fd, going on after short writes and
 * EINTR, in writes of at most BFS_WRITE_PIECE bytes.
 * @return 0 or the errno of the write that failed.
 */
int bfs_write_all(int fd, const void *buf, size_t len);

/*
 * bfs_write_all() at offset off (>= 0) of a file (pwrite: the file
 * offset stays).
 * @param done when not NULL, the bytes written, also on failure (what
 *        came before the write that failed).
 * @return 0 or the errno of the write that failed.
 */
int bfs_pwrite_all(int fd, const void *buf, size_t len, off_t off,
		   size_t *done);

/*
 * Read fd up to its end into buf, at most cap bytes, going on after
 * short reads and EINTR. To tell a file larger than a limit from one of
 * exactly the limit, read limit + 1 bytes and check *got > limit.
 * @param got the bytes read: fewer than cap only at end of file.
 * @return 0, or the errno of the read that failed (*got what came
 *         before it).
 */
int bfs_read_full(int fd, void *buf, size_t cap, size_t *got);

/* bfs_read_full() at offset off (>= 0) of a file (pread: the file
 * offset stays). */
int bfs_pread_full(int fd, void *buf, size_t cap, off_t off, size_t *got);

/*
 * Read all of fd into a buffer of its own if it holds at most max bytes
 * (a config file, a small document): memory stays bounded whatever the
 * file, and a larger one is refused rather than cut.
 * @param out the bytes, followed by a NUL; malloc'd, the caller frees
 *        it. NULL on failure.
 * @return 0, EFBIG (more than max bytes), or the errno of read().
 */
int bfs_read_max(int fd, size_t max, char **out, size_t *len);

/*
 * The unsigned decimal number a small file starts with (a /proc or
 * /sys setting).
 * @return 0, EIO (no number), or the errno of opening it.
 */
int bfs_read_u64_file(const char *path, uint64_t *v);

/*
 * The delay before retry n (0 for the first retry) in seconds: "full
 * jitter", uniform in [0, min(max, base * 2^n)], plus 1 ms so that it is
 * never 0. Clients that retry in lockstep spread out.
 */
double bfs_backoff(double base, double max, unsigned n);

/* Sleep s seconds (a fraction is fine), going on after signals. */
void bfs_sleep_seconds(double s);

/*
 * Memory for secrets: an anonymous mapping of its own (whole pages, so
 * that freeing one secret never unlocks another's page), locked out of
 * swap and left out of core dumps. The lock is the system call, not
 * mlock(): sanitizer runtimes make mlock() a no-op. A failed lock
 * (RLIMIT_MEMLOCK) leaves the memory usable and is logged once per
 * process.
 * @param maplen receives the length to give bfs_locked_free().
 * @return zeroed memory, or NULL with errno ENOMEM.
 */
void *bfs_locked_alloc(size_t n, size_t *maplen);

/* Wipe, unlock and unmap what bfs_locked_alloc() returned; NULL is ok. */
void bfs_locked_free(void *p, size_t maplen);

#endif
