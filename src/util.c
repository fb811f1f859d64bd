/*
 * util.c - the shared helpers of util.h.
 */
#include "compat.h"

#include <math.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

int bfs_mkdir_p(const char *dir, mode_t mode)
{
	char *p = bfs_xstrdup(dir);
	int rc = 0;

	/* each parent, then dir itself; a leading '/' is no component */
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			rc = errno;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	/* EEXIST above may be a file: the last component must be a dir */
	if (rc == 0) {
		struct stat st;

		if (stat(dir, &st) != 0)
			rc = errno;
		else if (!S_ISDIR(st.st_mode))
			rc = EEXIST;
	}
	free(p);
	return rc;
}

void bfs_hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int bfs_hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The loop of bfs_write_all() (off < 0) and bfs_pwrite_all(), in writes
 * of at most BFS_WRITE_PIECE bytes. The page cache gives a write a folio
 * as large as the write: on a VM whose free memory the host reclaims
 * (free page reporting: Firecracker, cloud-hypervisor), a large folio is
 * memory the host must fault in again, and a new file written in 1 MiB
 * writes right after a drop of the caches cost 0.50-0.68 s of system CPU
 * per 300 MiB, 128 KiB writes 0.07-0.09 s (dd; 2 cores). The daemon
 * writes every fetched block and every staged byte once: its CPU on a
 * cold read of 302 MiB through RGW behind 20 ms went from 0.75 s to 0.48
 * s (medians of 5; s3fs's 0.43 s), doc/benchmarks.md "Writes in pieces".
 */
static int write_loop(int fd, const void *buf, size_t len, off_t off,
		      size_t *done)
{
	const char *p = buf;
	size_t did = 0;
	int rc = 0;

	while (did < len) {
		size_t want = BFS_MIN(len - did, (size_t)BFS_WRITE_PIECE);
		ssize_t n =
			off < 0 ? write(fd, p + did, want)
				: pwrite(fd, p + did, want, off + (off_t)did);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno;
			break;
		}
		did += (size_t)n;
	}
	if (done)
		*done = did;
	return rc;
}

int bfs_write_all(int fd, const void *buf, size_t len)
{
	return write_loop(fd, buf, len, -1, NULL);
}

int bfs_pwrite_all(int fd, const void *buf, size_t len, off_t off, size_t *done)
{
	return write_loop(fd, buf, len, off, done);
}

/* The loop of bfs_read_full() (off < 0) and bfs_pread_full(). */
static int read_loop(int fd, void *buf, size_t cap, off_t off, size_t *got)
{
	char *p = buf;

	*got = 0;
	while (*got < cap) {
		ssize_t n = off < 0 ? read(fd, p + *got, cap - *got)
				    : pread(fd, p + *got, cap - *got,
					    off + (off_t)*got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int bfs_read_full(int fd, void *buf, size_t cap, size_t *got)
{
	return read_loop(fd, buf, cap, -1, got);
}

int bfs_pread_full(int fd, void *buf, size_t cap, off_t off, size_t *got)
{
	return read_loop(fd, buf, cap, off, got);
}

int bfs_read_max(int fd, size_t max, char **out, size_t *len)
{
	/* one byte past max tells a larger file from one of max bytes */
	char *buf = bfs_xmalloc(max + 2);
	int rc = bfs_read_full(fd, buf, max + 1, len);

	if (rc == 0 && *len > max)
		rc = EFBIG;
	if (rc != 0) {
		free(buf);
		*out = NULL;
		*len = 0;
		return rc;
	}
	buf[*len] = '\0';
	*out = buf;
	return 0;
}

int bfs_read_u64_file(const char *path, uint64_t *v)
{
	unsigned long long n;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (f == NULL)
		return errno;
	if (fscanf(f, "%llu", &n) == 1)
		*v = n;
	else
		rc = EIO;
	fclose(f);
	return rc;
}

double bfs_backoff(double base, double max, unsigned n)
{
	static __thread unsigned seed;
	double cap = base * ldexp(1.0, (int)BFS_MIN(n, 30u));

	if (seed == 0)
		seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
	if (cap > max)
		cap = max;
	if (cap < 0)
		cap = 0;
	return 0.001 + cap * ((double)rand_r(&seed) / RAND_MAX);
}

void bfs_sleep_seconds(double s)
{
	struct timespec ts;

	if (!(s > 0))
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static atomic_bool mlock_warned;

void *bfs_locked_alloc(size_t n, size_t *maplen)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t len;
	void *p;

	if (pg <= 0)
		pg = 4096;
	len = (BFS_MAX(n, (size_t)1) + (size_t)pg - 1) / (size_t)pg *
	      (size_t)pg;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	if (syscall(SYS_mlock, p, len) != 0 &&
	    !atomic_exchange(&mlock_warned, true))
		bfs_log(LOG_WARNING,
			"cannot lock secrets in memory (%s): they may be "
			"swapped out; raise RLIMIT_MEMLOCK (LimitMEMLOCK=)",
			strerror(errno));
	(void)madvise(p, len, MADV_DONTDUMP);
	*maplen = len;
	return p;
}

void bfs_locked_free(void *p, size_t maplen)
{
	if (p == NULL)
		return;
	explicit_bzero(p, maplen);
	(void)syscall(SYS_munlock, p, maplen);
	munmap(p, maplen);
}
