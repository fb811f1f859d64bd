/*
 * test_util.c - unit tests of the shared helpers (src/util.c): mkdir -p,
 * hex, write_all and its pieces, bounded reads, a number from a file,
 * backoff with jitter, locked memory.
 */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "util.h"

static char *tmp;

static bool is_dir_mode(const char *path, mode_t mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_mode & 07777) == mode;
}

static void test_mkdir_p(void)
{
	char *deep = bfs_xasprintf("%s/a/b/c", tmp);
	char *mid = bfs_xasprintf("%s/a/b", tmp);
	char *file = bfs_xasprintf("%s/f", tmp);
	char *under = bfs_xasprintf("%s/f/x", tmp);
	char *slash = bfs_xasprintf("%s/s//t/", tmp);
	int fd;

	umask(022);
	tap_ok(bfs_mkdir_p(deep, 0700) == 0 && is_dir_mode(deep, 0700) &&
		       is_dir_mode(mid, 0700),
	       "mkdir_p: makes the missing parents with the mode");
	tap_ok(bfs_mkdir_p(deep, 0755) == 0 && is_dir_mode(deep, 0700),
	       "mkdir_p: an existing dir is success, its mode kept");
	tap_ok(bfs_mkdir_p(slash, 0700) == 0 && is_dir_mode(slash, 0700),
	       "mkdir_p: doubled and trailing slashes");
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	tap_ok(bfs_mkdir_p(file, 0700) == EEXIST,
	       "mkdir_p: a file in place of the dir is EEXIST");
	tap_ok(bfs_mkdir_p(under, 0700) == ENOTDIR,
	       "mkdir_p: a file as a parent is ENOTDIR");
	free(deep);
	free(mid);
	free(file);
	free(under);
	free(slash);
}

static void test_hex(void)
{
	const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(in) + 1];
	bool vals = true;

	memset(out, 'x', sizeof(out));
	bfs_hex_encode(in, sizeof(in), out);
	tap_ok(strcmp(out, "00017f80abff") == 0, "hex: encodes lower case (%s)",
	       out);
	bfs_hex_encode(in, 0, out);
	tap_ok(out[0] == '\0', "hex: nothing is the empty string");
	for (int c = 0; c < 256; c++) {
		int want = -1;

		if (c >= '0' && c <= '9')
			want = c - '0';
		else if (c >= 'a' && c <= 'f')
			want = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			want = c - 'A' + 10;
		if (bfs_hex_val(c) != want)
			vals = false;
	}
	tap_ok(vals, "hex: bfs_hex_val of every byte, either case, -1 else");
}

static void test_write_all(void)
{
	char *buf = bfs_xmalloc(1 << 20), *back = bfs_xmalloc(1 << 20);
	int p[2];
	pid_t pid;
	size_t got = 0;

	for (size_t i = 0; i < (1 << 20); i++)
		buf[i] = (char)(i * 7 + (i >> 9));
	/* a pipe takes 64 KiB at a time: write() returns short */
	if (pipe(p) != 0) {
		tap_ok(0, "write_all: pipe");
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(bfs_write_all(p[1], buf, 1 << 20) == 0 ? 0 : 1);
	}
	close(p[1]);
	while (got < (1 << 20)) {
		ssize_t n = read(p[0], back + got, (1 << 20) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	{
		int st = 0;

		waitpid(pid, &st, 0);
		tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
			       got == (1 << 20) &&
			       memcmp(buf, back, 1 << 20) == 0,
		       "write_all: 1 MiB through a pipe, short writes and "
		       "all (%zu bytes)",
		       got);
	}
	if (pipe(p) == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		tap_ok(bfs_write_all(p[1], buf, 16) == EPIPE,
		       "write_all: the errno of a failed write (EPIPE)");
		close(p[1]);
	}
out:
	free(buf);
	free(back);
}

/* Read the messages of a SOCK_SEQPACKET socket up to its end: the
 * largest one and all bytes. */
static void read_messages(int fd, char *back, size_t cap, size_t *got,
			  size_t *largest)
{
	*got = *largest = 0;
	for (;;) {
		ssize_t n = recv(fd, back + *got, cap - *got, 0);

		if (n <= 0)
			break;
		*got += (size_t)n;
		*largest = BFS_MAX(*largest, (size_t)n);
		if (*got == cap)
			break;
	}
}

static void test_write_pieces(void)
{
	size_t len = (3u << 20) + 5, got = 0, largest = 0, done = 1;
	char *buf = bfs_xmalloc(len), *back = bfs_xmalloc(len);
	char *path = bfs_xasprintf("%s/pieces", tmp);
	struct rlimit old, lim;
	int sv[2], fd, rc, st = 0;
	pid_t pid;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 13 + (i >> 11));
	/* each write() on a SOCK_SEQPACKET socket is one message, and one
	 * larger than the socket's buffer fails EMSGSIZE */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) {
		tap_ok(0, "write_all: socketpair");
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(bfs_write_all(sv[1], buf, len) == 0 ? 0 : 1);
	}
	close(sv[1]);
	read_messages(sv[0], back, len, &got, &largest);
	close(sv[0]);
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && got == len &&
		       memcmp(buf, back, len) == 0 &&
		       largest == BFS_WRITE_PIECE,
	       "write_all: 3 MiB in writes of at most %u bytes (the largest "
	       "%zu, %zu bytes in all)",
	       BFS_WRITE_PIECE, largest, got);

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	rc = fd < 0 ? errno : bfs_pwrite_all(fd, buf, len, 4096, &done);
	memset(back, 0, len);
	tap_ok(rc == 0 && done == len &&
		       bfs_pread_full(fd, back, len, 4096, &got) == 0 &&
		       got == len && memcmp(buf, back, len) == 0,
	       "pwrite_all: 3 MiB at offset 4096 read back (rc %d, %zu "
	       "written)",
	       rc, done);
	/* a file size limit inside the second piece: the first piece and
	 * what fits of the second are written, then EFBIG */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = BFS_WRITE_PIECE + 1000;
	signal(SIGXFSZ, SIG_IGN);
	rc = ftruncate(fd, 0) != 0 ? errno : setrlimit(RLIMIT_FSIZE, &lim);
	if (rc == 0)
		rc = bfs_pwrite_all(fd, buf, len, 0, &done);
	setrlimit(RLIMIT_FSIZE, &old);
	tap_ok(rc == EFBIG && done == BFS_WRITE_PIECE + 1000,
	       "pwrite_all: a failure after some pieces says how much was "
	       "written (rc %d, %zu bytes)",
	       rc, done);
	if (fd >= 0)
		close(fd);
	unlink(path);
out:
	free(path);
	free(buf);
	free(back);
}

static void test_backoff(void)
{
	double lo = 1e9, hi = 0, sum = 0;
	bool bounded = true;
	int n = 2000;

	for (int i = 0; i < n; i++) {
		double d = bfs_backoff(0.1, 20, 3); /* cap 0.8 s */

		lo = BFS_MIN(lo, d);
		hi = BFS_MAX(hi, d);
		sum += d;
		if (d < 0.001 || d > 0.801 + 1e-9)
			bounded = false;
	}
	tap_ok(bounded, "backoff: in [1 ms, base * 2^n + 1 ms]");
	/* uniform on [0, 0.8]: 2000 draws spread far wider than this */
	tap_ok(lo < 0.2 && hi > 0.6 && sum / n > 0.3 && sum / n < 0.5,
	       "backoff: jittered over the range (min %.3f max %.3f mean "
	       "%.3f)",
	       lo, hi, sum / n);
	bounded = true;
	for (int i = 0; i < 200; i++)
		if (bfs_backoff(0.1, 2, 40) > 2.001 + 1e-9)
			bounded = false;
	tap_ok(bounded, "backoff: capped at max, even for a large n");
}

/* VmLck of this process in kB, or -1. */
static long vm_locked_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void test_locked(void)
{
	size_t len = 0;
	long before = vm_locked_kb(), during, after;
	char *p = bfs_locked_alloc(100, &len);
	bool zero = true;

	tap_ok(p != NULL && len >= 100 && len % 4096 == 0,
	       "locked: whole pages (%zu bytes)", len);
	if (!p)
		return;
	for (size_t i = 0; i < len; i++)
		if (p[i])
			zero = false;
	tap_ok(zero, "locked: zeroed");
	memset(p, 'S', 100);
	during = vm_locked_kb();
	bfs_locked_free(p, len);
	after = vm_locked_kb();
	/* the lock is the system call: it holds under ASan too, which
	 * turns mlock() into a no-op; only a low RLIMIT_MEMLOCK refuses it */
	{
		struct rlimit rl;
		bool may = geteuid() == 0 ||
			   (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
			    rl.rlim_cur >= (1u << 20));

		if (!may)
			tap_diag("locked: RLIMIT_MEMLOCK below 1 MiB: the "
				 "lock may be refused");
		tap_ok(!may || (during - before) * 1024 >= (long)len,
		       "locked: VmLck grows by the mapping (%ld -> %ld kB)",
		       before, during);
	}
	tap_ok(after == before, "locked: freed and unlocked (%ld kB)", after);
	bfs_locked_free(NULL, 0);
}

static int open_with(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0 &&
	    (bfs_write_all(fd, data, n) != 0 || lseek(fd, 0, SEEK_SET) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void test_read(void)
{
	char *path = bfs_xasprintf("%s/read", tmp);
	char data[100], buf[200], *out = (char *)"x";
	size_t got = 1, len = 1;
	int fd, p[2], rc;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	fd = open_with(path, data, sizeof(data));
	rc = bfs_read_full(fd, buf, 10, &got);
	tap_ok(rc == 0 && got == 10 && memcmp(buf, data, 10) == 0,
	       "read_full: stops at cap (%zu bytes)", got);
	rc = bfs_read_full(fd, buf, sizeof(buf), &got);
	tap_ok(rc == 0 && got == 90 && memcmp(buf, data + 10, 90) == 0,
	       "read_full: the rest, up to end of file (%zu bytes)", got);
	rc = bfs_pread_full(fd, buf, sizeof(buf), 95, &got);
	tap_ok(rc == 0 && got == 5 && memcmp(buf, data + 95, 5) == 0 &&
		       lseek(fd, 0, SEEK_CUR) == 100,
	       "pread_full: from an offset to end of file, the file offset "
	       "left alone (%zu bytes)",
	       got);
	lseek(fd, 0, SEEK_SET);
	rc = bfs_read_max(fd, sizeof(data), &out, &len);
	tap_ok(rc == 0 && len == sizeof(data) && out &&
		       memcmp(out, data, len) == 0 && out[len] == '\0',
	       "read_max: a file of exactly max bytes, NUL after it");
	free(out);
	lseek(fd, 0, SEEK_SET);
	rc = bfs_read_max(fd, sizeof(data) - 1, &out, &len);
	tap_ok(rc == EFBIG && out == NULL && len == 0,
	       "read_max: one byte more than max is EFBIG, nothing kept");
	close(fd);
	fd = open_with(path, "", 0);
	rc = bfs_read_max(fd, 10, &out, &len);
	tap_ok(rc == 0 && len == 0 && out && out[0] == '\0',
	       "read_max: an empty file is an empty string");
	free(out);
	close(fd);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	rc = bfs_read_full(fd, buf, sizeof(buf), &got);
	tap_ok(rc == EBADF && got == 0, "read_full: the errno of read (%s)",
	       strerror(rc));
	close(fd);
	/* a pipe hands over what each write made: reads come short */
	if (pipe(p) != 0) {
		tap_ok(0, "read_full: pipe");
		goto out;
	}
	if (fork() == 0) {
		close(p[0]);
		for (size_t i = 0; i < sizeof(data); i += 7)
			if (bfs_write_all(
				    p[1], data + i,
				    BFS_MIN((size_t)7, sizeof(data) - i)) != 0)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	rc = bfs_read_max(p[0], sizeof(data), &out, &len);
	tap_ok(rc == 0 && len == sizeof(data) && out &&
		       memcmp(out, data, len) == 0,
	       "read_max: a pipe written 7 bytes at a time (%zu bytes)", len);
	free(out);
	close(p[0]);
	wait(NULL);
out:
	free(path);
}

/* A /proc or /sys setting: the number the file starts with. */
static void test_read_u64_file(void)
{
	char *path = bfs_xasprintf("%s/u64", tmp);
	uint64_t v = 7;
	int fd, rc;

	fd = open_with(path, "1048576\n", 8);
	close(fd);
	rc = bfs_read_u64_file(path, &v);
	tap_ok(rc == 0 && v == 1048576, "read_u64_file: the number (%llu)",
	       (unsigned long long)v);
	fd = open_with(path, "none\n", 5);
	close(fd);
	v = 7;
	tap_ok(bfs_read_u64_file(path, &v) == EIO && v == 7,
	       "read_u64_file: no number is EIO, v untouched");
	unlink(path);
	tap_ok(bfs_read_u64_file(path, &v) == ENOENT,
	       "read_u64_file: no file is ENOENT");
	free(path);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	tmp = bfs_xasprintf("%s/bfs-test-util.XXXXXX", t && t[0] ? t : "/tmp");
	if (mkdtemp(tmp) == NULL) {
		tap_ok(0, "make a temporary dir");
		return tap_done();
	}
	test_mkdir_p();
	test_hex();
	test_write_all();
	test_write_pieces();
	test_read();
	test_read_u64_file();
	test_backoff();
	test_locked();
	{
		char *cmd = bfs_xasprintf("rm -rf '%s'", tmp);

		if (system(cmd) != 0)
			tap_diag("cannot remove %s", tmp);
		free(cmd);
	}
	free(tmp);
	return tap_done();
}
