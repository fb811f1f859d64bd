/*
 * test_fs_core.c - the FUSE layer through the kernel, without a server
 * (issue 13's tests): the filesystem mounted in-process over the
 * in-memory store (fs_mount.h), with a slow layer that holds one
 * file's transfer at a gate and counts the requests each operation
 * sends.
 *
 *   stalls    while a close's upload, or an open's staging download, of
 *             one file is held at the gate, stat, ls, open, read and
 *             create of other files of the same directory complete;
 *             the held call then ends well
 *   budget    the requests of doc/SEMANTICS.md's table, per operation
 *   faults    8 threads of mixed operations with errors injected under
 *             the caches all finish
 *
 * The gate makes the stall cases deterministic: the held transfer
 * cannot end before the test opens the gate, so "the others finished
 * first" holds on any machine, however slow; the bound on their wait
 * (a minute) only turns a deadlock into a failure. Without /dev/fuse
 * the cases are skipped, never passed.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "fs_mount.h"
#include "log.h"
#include "store/fault.h"
#include "store/slow.h"
#include "tap.h"

/* How long a call that must not wait may take: generous, a deadlock
 * detector, never a speed check. */
#define BOUND_MS 60000u

static struct fs_mount M;

/*
 * A call that never ends (a deadlock): fail, cut the mount's connection
 * so the calls in flight end, and stop here (_exit: the leak check at
 * exit would wait for the stuck threads).
 */
static void bail(const char *what)
{
	int status;

	tap_ok(0, "%s (giving up on the mount)", what);
	fs_mount_abandon();
	status = tap_done();
	fflush(stdout);
	_exit(status);
}

/* Join a job that has no reason left to wait, or bail. */
static int join(struct fs_job *j, const char *what)
{
	if (!fs_job_wait(j, BOUND_MS))
		bail(what);
	return fs_job_join(j);
}

static char *P(const char *rel, char *buf)
{
	return fs_path(&M, rel, buf, 4096);
}

/* Write len bytes of data to rel (created or truncated) and close it. */
static int write_file(const char *rel, const void *data, size_t len, int flags)
{
	return fs_write_file(&M, rel, data, len, O_CREAT | flags);
}

/* Read rel whole into buf (cap bytes at most). @return 0 or errno. */
static int read_file(const char *rel, char *buf, size_t cap, size_t *got)
{
	char p[4096];
	int fd = open(P(rel, p), O_RDONLY);
	ssize_t n;

	*got = 0;
	if (fd < 0)
		return errno;
	while ((n = read(fd, buf + *got, cap - *got)) > 0)
		*got += (size_t)n;
	close(fd);
	return n < 0 ? errno : 0;
}

/* Whether directory rel lists name (readdir through the kernel). */
static int lists(const char *rel, const char *name, bool *found)
{
	char p[4096];
	DIR *d = opendir(P(rel, p));
	struct dirent *e;

	*found = false;
	if (d == NULL)
		return errno;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, name) == 0)
			*found = true;
	closedir(d);
	return 0;
}

static int stat_rel(const char *rel, struct stat *sb)
{
	char p[4096];

	return stat(P(rel, p), sb) == 0 ? 0 : errno;
}

/* ------------------------------------------------------------ stalls */

/* What other requests do while one file's transfer is held. */
struct others {
	const char *dir;  /* the directory of the held file */
	const char *name; /* a new file to create there */
	char what[128];	  /* the call that failed */
	/* the call in progress, for the diagnostic of one that hangs */
	const char *_Atomic step;
};

static int others_run(void *arg)
{
	struct others *o = arg;
	char rel[256], buf[64];
	struct stat sb;
	size_t got;
	bool found;
	int rc;

#define STEP(call, label)                                                      \
	do {                                                                   \
		o->step = label;                                               \
		rc = (call);                                                   \
		if (rc != 0) {                                                 \
			snprintf(o->what, sizeof(o->what), "%s: %s", label,    \
				 strerror(rc));                                \
			return rc;                                             \
		}                                                              \
	} while (0)

	snprintf(rel, sizeof(rel), "%s/other", o->dir);
	STEP(stat_rel(rel, &sb), "stat of another file");
	STEP(lists(o->dir, "other", &found), "ls of the directory");
	STEP(found ? 0 : ENOENT, "ls shows the other file");
	STEP(read_file(rel, buf, sizeof(buf), &got), "open + read");
	STEP(got == 5 && memcmp(buf, "other", 5) == 0 ? 0 : EIO,
	     "the other file's bytes");
	snprintf(rel, sizeof(rel), "%s/%s", o->dir, o->name);
	STEP(write_file(rel, "new", 3, O_EXCL), "create + write + close");
	STEP(stat_rel(rel, &sb), "stat of the new file");
	STEP(sb.st_size == 3 ? 0 : EIO, "the new file's size");
	STEP(stat_rel(o->dir, &sb), "stat of the directory");
#undef STEP
	o->step = NULL;
	return 0;
}

struct held_close {
	int fd;
};

static int close_run(void *arg)
{
	struct held_close *h = arg;

	return close(h->fd) == 0 ? 0 : errno;
}

static int stat_held(void *arg)
{
	off_t *size = arg;
	struct stat sb;
	int rc = stat_rel("s/held.w", &sb);

	*size = rc == 0 ? sb.st_size : -1;
	return rc;
}

/* A file of n pattern bytes (seeded), so a mix-up shows. */
static char *pattern(size_t n, unsigned seed)
{
	char *b = bfs_xmalloc(n);

	for (size_t i = 0; i < n; i++)
		b[i] = (char)((i * 31 + seed) & 0xff);
	return b;
}

/* A close's upload held: the directory and other files go on. */
static void stall_upload(void)
{
	const size_t n = 1u << 20;
	char *data = pattern(n, 7), *back = bfs_xmalloc(n);
	struct others o = {.dir = "s", .name = "new1"};
	struct held_close h;
	struct fs_job held, rest, self;
	off_t sz = -1;
	char p[4096];
	size_t got = 0;
	const char *step;
	bool finished;
	int gate, rc;

	h.fd = open(P("s/held.w", p), O_WRONLY | O_CREAT | O_EXCL, 0644);
	tap_ok(h.fd >= 0 && write(h.fd, data, n) == (ssize_t)n,
	       "stall: a new file of 1 MiB is written");
	gate = bfs_slow_rule(M.slow, "*", "s/held.w", 0, true);
	fs_job_start(&held, close_run, &h);
	rc = bfs_slow_wait_held(M.slow, gate, 1, BOUND_MS);
	tap_ok(rc == 0, "stall: its close's upload reaches the store and is "
			"held at the gate");
	fs_job_start(&rest, others_run, &o);
	finished = fs_job_wait(&rest, BOUND_MS);
	step = finished ? NULL : o.step;
	tap_ok(finished && !fs_job_wait(&held, 0),
	       "stall: while the close's upload is held, stat, ls, open, "
	       "read and create of other files in its directory complete");
	if (step)
		tap_diag("still waiting for: %s", step);
	tap_ok(finished && rest.rc == 0, "stall: ... and succeed%s%s",
	       o.what[0] ? ": " : "", o.what);
	tap_ok(bfs_slow_held(M.slow, gate) >= 1,
	       "stall: the upload was held all along");
	fs_job_start(&self, stat_held, &sz);
	finished = fs_job_wait(&self, BOUND_MS);
	tap_ok(finished && self.rc == 0 && sz == n && !fs_job_wait(&held, 0),
	       "stall: stat of the file being uploaded completes meanwhile, "
	       "with its size (%lld)",
	       (long long)sz);
	bfs_slow_open(M.slow, gate);
	rc = join(&held, "stall: the held close ends once released");
	join(&self, "stall: the stat of the held file ends");
	tap_ok(rc == 0, "stall: once released, the close succeeds (%s)",
	       strerror(rc));
	join(&rest, "stall: the other calls end once the gate is open");
	rc = fs_store_get(&M, "s/held.w", back, n, &got);
	tap_ok(rc == 0 && got == n && memcmp(back, data, n) == 0,
	       "stall: the store has the file's bytes (%s, %zu bytes)",
	       strerror(rc), got);
	free(data);
	free(back);
}

struct held_open {
	int fd;
	int err;
};

static int open_run(void *arg)
{
	struct held_open *h = arg;
	char p[4096];

	h->fd = open(P("s/held.r", p), O_WRONLY);
	h->err = h->fd < 0 ? errno : 0;
	return h->err;
}

#define HELD_R_SIZE (1u << 20)
#define HELD_R_SEED 3

static int held_r_put(void)
{
	char *data = pattern(HELD_R_SIZE, HELD_R_SEED);
	int rc = fs_store_put(&M, "s/held.r", data, HELD_R_SIZE);

	free(data);
	return rc;
}

/* An open's staging download held: the same goes on. */
static void stall_download(void)
{
	const size_t n = HELD_R_SIZE;
	char *data = pattern(n, HELD_R_SEED), *back = bfs_xmalloc(n);
	struct others o = {.dir = "s", .name = "new2"};
	struct held_open h = {.fd = -1};
	struct fs_job held, rest;
	struct stat sb;
	size_t got = 0;
	const char *step;
	bool finished;
	int gate, rc;

	rc = stat_rel("s/held.r", &sb);
	tap_ok(rc == 0 && (size_t)sb.st_size == n,
	       "stall: another client's file of 1 MiB is seen (%s)",
	       strerror(rc));
	gate = bfs_slow_rule(M.slow, "get_range", "s/held.r", 0, true);
	fs_job_start(&held, open_run, &h);
	rc = bfs_slow_wait_held(M.slow, gate, 1, BOUND_MS);
	tap_ok(rc == 0, "stall: opening it for writing downloads it to stage "
			"it, and the download is held at the gate");
	fs_job_start(&rest, others_run, &o);
	finished = fs_job_wait(&rest, BOUND_MS);
	step = finished ? NULL : o.step;
	tap_ok(finished && !fs_job_wait(&held, 0),
	       "stall: while the staging download is held, stat, ls, open, "
	       "read and create of other files in its directory complete");
	if (step)
		tap_diag("still waiting for: %s", step);
	tap_ok(finished && rest.rc == 0, "stall: ... and succeed%s%s",
	       o.what[0] ? ": " : "", o.what);
	bfs_slow_open(M.slow, gate);
	rc = join(&held, "stall: the held open ends once released");
	tap_ok(rc == 0, "stall: once released, the open succeeds (%s)",
	       strerror(rc));
	join(&rest, "stall: the other calls end once the gate is open");
	if (h.fd >= 0) {
		rc = pwrite(h.fd, "XY", 2, 0) == 2 ? 0 : errno;
		if (close(h.fd) != 0 && rc == 0)
			rc = errno;
	}
	memcpy(data, "XY", 2);
	got = 0;
	if (rc == 0)
		rc = fs_store_get(&M, "s/held.r", back, n, &got);
	tap_ok(rc == 0 && got == n && memcmp(back, data, n) == 0,
	       "stall: a write over the staged file reaches the store, the "
	       "rest of it kept (%s)",
	       strerror(rc));
	free(data);
	free(back);
}

/* ------------------------------------------------------------ budget */

/* Requests naming key (its own, a listing of it, a copy from or to it). */
static unsigned reqs(const char *op, const char *key)
{
	return bfs_slow_count(M.slow, op, key);
}

/* Wait (bounded) until n puts of key reached the store: a release's
 * upload comes after close() returned. */
static bool wait_puts(const char *key, unsigned n)
{
	for (unsigned ms = 0; ms < BOUND_MS; ms += 10) {
		struct timespec ts = {0, 10 * 1000000L};

		if (reqs("put", key) >= n)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * One line of the budget, tried on fresh names up to three times: the
 * kernel may forget a name whenever it likes (memory pressure, anyone's
 * drop_caches) and look it up again, a LIST that is not the
 * operation's. A filesystem over its budget is over it every time.
 */
struct step {
	const char *what;
	/* set up (not counted), run the operation, and say whether it kept
	 * the budget; n the requests it sent, diag what they were */
	bool (*run)(int i, unsigned *n, char *diag, size_t len);
};

static void step(const struct step *st)
{
	char diag[256] = "";
	unsigned n = 0;
	bool ok = false;
	int i;

	for (i = 0; i < 3 && !ok; i++)
		ok = st->run(i, &n, diag, sizeof(diag));
	tap_ok(ok, "budget: %s (%u requests%s)", st->what, n,
	       !ok     ? ", at each of 3 tries"
	       : i > 1 ? ", not at the first try"
		       : "");
	if (diag[0])
		tap_diag("%s", diag);
}

/* prefix followed by i, in buf (64 bytes) */
static char *name(char *buf, const char *prefix, int i)
{
	snprintf(buf, 64, "%s%d", prefix, i);
	return buf;
}

static void counts(const char *key, unsigned *n, char *diag, size_t len)
{
	*n = reqs("*", key);
	snprintf(diag, len, "%u LIST, %u HEAD, %u GET, %u PUT, %u DELETE",
		 reqs("list", key), reqs("head", key), reqs("get_range", key),
		 reqs("put", key), reqs("del", key));
}

/* create + write + close, O_CREAT|O_EXCL */
static bool run_create(int i, unsigned *n, char *diag, size_t len)
{
	char k[64];
	int rc;

	name(k, "b/e", i);
	bfs_slow_forget(M.slow);
	rc = write_file(k, "xy", 2, O_EXCL);
	counts(k, n, diag, len);
	return rc == 0 && *n <= 1 && reqs("put", k) == 1;
}

/* bash's >: a duplicate of the descriptor is closed before the write,
 * and the PUT comes with the release, after close() returned */
static bool run_bash(int i, unsigned *n, char *diag, size_t len)
{
	char k[64], p[4096];
	int fd, fd2, rc;

	name(k, "b/h", i);
	bfs_slow_forget(M.slow);
	fd = open(P(k, p), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fd2 = fd >= 0 ? dup(fd) : -1;
	rc = fd2 >= 0 && close(fd2) == 0 && write(fd, "xy", 2) == 2 &&
			     close(fd) == 0
		     ? 0
		     : EIO;
	if (rc == 0 && !wait_puts(k, 1))
		rc = ETIMEDOUT;
	counts(k, n, diag, len);
	return rc == 0 && *n <= 1 && reqs("put", k) == 1;
}

/* ls -l of what this mount wrote: the LIST alone */
static bool run_lsl(int i, unsigned *n, char *diag, size_t len)
{
	struct stat sb;
	bool found;
	int rc;

	bfs_slow_forget(M.slow);
	rc = lists("b", "e0", &found);
	rc = rc ? rc : stat_rel("b/e0", &sb);
	rc = rc ? rc : stat_rel("b/h0", &sb);
	*n = reqs("head", "b/e0") + reqs("head", "b/h0");
	snprintf(diag, len, "%u HEAD of the files", *n);
	return rc == 0 && found && *n == 0;
}

/* stat of names readdir just returned: ours and another client's */
static bool run_stat(int i, unsigned *n, char *diag, size_t len)
{
	char k[64];
	struct stat sb;
	bool found;
	int rc;

	rc = lists("o", name(k, "r", i), &found);
	bfs_slow_forget(M.slow);
	rc = rc ? rc : stat_rel(name(k, "o/r", i), &sb);
	rc = rc ? rc : stat_rel("b/e0", &sb);
	*n = reqs("*", k) + reqs("*", "b/e0");
	return rc == 0 && found && *n == 0;
}

/* open + first read of a known small file: its GET */
static bool run_read(int i, unsigned *n, char *diag, size_t len)
{
	char k[64], buf[16];
	struct stat sb;
	size_t got = 0;
	int rc;

	name(k, "o/r", i);
	rc = stat_rel(k, &sb);
	bfs_slow_forget(M.slow);
	rc = rc ? rc : read_file(k, buf, sizeof(buf), &got);
	counts(k, n, diag, len);
	return rc == 0 && got == 2 && *n == 1 && reqs("get_range", k) == 1;
}

static bool run_mkdir(int i, unsigned *n, char *diag, size_t len)
{
	char k[64], m[72], p[4096];
	int rc;

	name(k, "b/sub", i);
	snprintf(m, sizeof(m), "%s/", k);
	bfs_slow_forget(M.slow);
	rc = mkdir(P(k, p), 0755) == 0 ? 0 : errno;
	counts(k, n, diag, len);
	return rc == 0 && *n <= 1 && reqs("put", m) == 1;
}

static bool run_unlink(int i, unsigned *n, char *diag, size_t len)
{
	char k[64], p[4096];
	struct stat sb;
	int rc;

	name(k, "b/u", i);
	rc = write_file(k, "xy", 2, O_EXCL);
	rc = rc ? rc : stat_rel(k, &sb);
	bfs_slow_forget(M.slow);
	rc = rc ? rc : unlink(P(k, p)) == 0 ? 0 : errno;
	counts(k, n, diag, len);
	return rc == 0 && *n == 1 && reqs("del", k) == 1;
}

static bool run_rename(int i, unsigned *n, char *diag, size_t len)
{
	char k[64], g[64], p[4096], q[4096], buf[16];
	struct stat sb;
	size_t got = 0;
	int rc;

	name(k, "b/m", i);
	name(g, "b/g", i);
	rc = write_file(k, "xy", 2, O_EXCL);
	rc = rc ? rc : stat_rel(k, &sb);
	bfs_slow_forget(M.slow);
	rc = rc							  ? rc
	     : rename(P(k, p), fs_path(&M, g, q, sizeof(q))) == 0 ? 0
								  : errno;
	/* a copy names both: counted once */
	*n = reqs("*", k) + reqs("*", g) - reqs("copy", k);
	snprintf(diag, len,
		 "%u LIST, %u HEAD, %u COPY, %u DELETE; %u HEAD or LIST of "
		 "the source",
		 reqs("list", k) + reqs("list", g),
		 reqs("head", k) + reqs("head", g), reqs("copy", g),
		 reqs("del", k), reqs("head", k) + reqs("list", k));
	if (rc == 0)
		rc = fs_store_get(&M, g, buf, sizeof(buf), &got);
	return rc == 0 && got == 2 &&
	       fs_store_get(&M, k, buf, 16, &got) == ENOENT && *n <= 2 &&
	       reqs("copy", g) == 1 && reqs("del", k) == 1 &&
	       reqs("head", k) + reqs("list", k) == 0;
}

static void budget(void)
{
	static const struct step steps[] = {
		{"O_EXCL create + write + close: its PUT alone", run_create},
		{"bash's > of a new small file: its PUT alone (none empty "
		 "at the first close)",
		 run_bash},
		{"ls -l after our writes HEADs none of them", run_lsl},
		{"stat of names readdir just returned: 0", run_stat},
		{"open + first read of a known small file: its GET alone",
		 run_read},
		{"mkdir: the marker's PUT alone", run_mkdir},
		{"unlink of a file: its DELETE alone", run_unlink},
		{"rename of a small file: the copy and the DELETE alone, no "
		 "HEAD or LIST of the source",
		 run_rename},
	};
	char p[4096];
	bool found;
	int fd, rc = 0;

	for (int i = 0; i < 3 && rc == 0; i++) {
		char k[64];

		rc = fs_store_put(&M, name(k, "o/r", i), "xy", 2);
	}
	tap_ok(rc == 0 && mkdir(P("b", p), 0755) == 0 &&
		       lists("b", "x", &found) == 0,
	       "budget: mkdir b, ls b; another client writes o/r0..2");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		step(&steps[i]);
	fd = open(P("b/e0", p), O_WRONLY | O_CREAT | O_EXCL, 0644);
	tap_ok(fd < 0 && errno == EEXIST,
	       "budget: O_EXCL on a name this mount made fails EEXIST");
	if (fd >= 0)
		close(fd);
	fd = open(P("o/r0", p), O_WRONLY | O_CREAT | O_EXCL, 0644);
	tap_ok(fd < 0 && errno == EEXIST,
	       "budget: O_EXCL on a name another client made fails EEXIST");
	if (fd >= 0)
		close(fd);
}

/* ------------------------------------------------------------ faults */

#define FAULT_THREADS 8
#define FAULT_SECONDS 5

struct worker {
	int id;
	unsigned seed;
	struct timespec end;
	unsigned ops, errors;
};

static bool past(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > end->tv_sec ||
	       (now.tv_sec == end->tv_sec && now.tv_nsec >= end->tv_nsec);
}

/* Milliseconds from now until end, 0 if past. */
static unsigned ms_until(const struct timespec *end)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(end->tv_sec - now.tv_sec) * 1000 +
	     (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (unsigned)ms : 0;
}

/* One mixed operation on the worker's own names in x/; errors (the
 * injected ones) are counted, never fatal. */
static int one_op(struct worker *w, char *data, size_t cap)
{
	char f[64], g[64], d[64], p[4096], q[4096];
	size_t len = (size_t)rand_r(&w->seed) % cap, got;
	struct stat sb;
	bool found;
	int fd, rc = 0;

	snprintf(f, sizeof(f), "x/t%d.f", w->id);
	snprintf(g, sizeof(g), "x/t%d.g", w->id);
	snprintf(d, sizeof(d), "x/t%d.d", w->id);
	switch (rand_r(&w->seed) % 9) {
	case 0:
		rc = write_file(f, data, len, O_TRUNC);
		break;
	case 1:
		rc = read_file(f, data, cap, &got);
		break;
	case 2:
		rc = stat_rel(f, &sb);
		rc = rc ? rc : stat_rel("x", &sb);
		break;
	case 3:
		rc = lists("x", f + 2, &found);
		break;
	case 4:
		rc = rename(P(f, p), fs_path(&M, g, q, sizeof(q))) == 0 ? 0
									: errno;
		if (rc == 0 && rename(q, p) != 0)
			rc = errno;
		break;
	case 5:
		rc = unlink(P(f, p)) == 0 ? 0 : errno;
		break;
	case 6:
		rc = mkdir(P(d, p), 0755) == 0 ? 0 : errno;
		if (rc == 0 && rmdir(p) != 0)
			rc = errno;
		break;
	case 7:
		/* an existing file opened for writing: staged by download */
		fd = open(P(f, p), O_RDWR);
		if (fd < 0) {
			rc = errno;
			break;
		}
		if (pwrite(fd, "ab", 2, (off_t)(len / 2)) != 2)
			rc = errno;
		if (close(fd) != 0 && rc == 0)
			rc = errno;
		break;
	default:
		rc = truncate(P(f, p), (off_t)len) == 0 ? 0 : errno;
		break;
	}
	return rc;
}

static int worker_run(void *arg)
{
	struct worker *w = arg;
	const size_t cap = 64 << 10;
	char *data = pattern(cap, (unsigned)w->id);

	while (!past(&w->end)) {
		if (one_op(w, data, cap) != 0)
			w->errors++;
		w->ops++;
	}
	free(data);
	return 0;
}

struct injector {
	struct timespec end;
	unsigned armed;
};

/* Arm an error every few milliseconds until the workers' time is up. */
static int injector_run(void *arg)
{
	static const char *const ops[] = {"*",	  "put",  "get_range", "head",
					  "list", "copy", "del"};
	static const int errs[] = {EIO, ETIMEDOUT, EACCES};
	struct injector *in = arg;
	unsigned seed = 42;

	while (!past(&in->end)) {
		struct timespec ts = {0, 3 * 1000000L};

		bfs_fault_arm(M.fault, ops[rand_r(&seed) % 7],
			      errs[rand_r(&seed) % 3],
			      1 + (unsigned)rand_r(&seed) % 3);
		in->armed++;
		nanosleep(&ts, NULL);
	}
	bfs_fault_arm(M.fault, "*", 0, 0);
	return 0;
}

static void faults(void)
{
	struct worker w[FAULT_THREADS];
	struct fs_job jobs[FAULT_THREADS], ij;
	struct injector in;
	struct timespec end;
	unsigned ops = 0, errors = 0, done = 0;
	char p[4096], buf[16];
	size_t got = 0;
	int slow_put, slow_get, rc;

	tap_ok(mkdir(P("x", p), 0755) == 0, "faults: mkdir x");
	/* the injected errors are logged at LOG_ERR: expected here */
	bfs_log_set_level(LOG_CRIT);
	/* transfers that take a while widen every window */
	slow_put = bfs_slow_rule(M.slow, "put", "x/", 2, false);
	slow_get = bfs_slow_rule(M.slow, "get_range", "x/", 1, false);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += FAULT_SECONDS;
	in = (struct injector){.end = end};
	fs_job_start(&ij, injector_run, &in);
	for (int i = 0; i < FAULT_THREADS; i++) {
		w[i] = (struct worker){
			.id = i, .seed = 1000u + (unsigned)i, .end = end};
		fs_job_start(&jobs[i], worker_run, &w[i]);
	}
	/* one bound for all: each waits for what is left of it */
	end.tv_sec += BOUND_MS / 1000;
	for (int i = 0; i < FAULT_THREADS; i++)
		if (fs_job_wait(&jobs[i], ms_until(&end)))
			done++;
	if (done < FAULT_THREADS) {
		char what[128];

		snprintf(what, sizeof(what),
			 "faults: %d threads of mixed operations with errors "
			 "injected all finish (%u did)",
			 FAULT_THREADS, done);
		bail(what);
	}
	for (int i = 0; i < FAULT_THREADS; i++) {
		fs_job_join(&jobs[i]);
		ops += w[i].ops;
		errors += w[i].errors;
	}
	fs_job_join(&ij);
	bfs_log_set_level(LOG_WARNING);
	bfs_slow_open(M.slow, slow_put);
	bfs_slow_open(M.slow, slow_get);
	tap_diag("%u operations, %u failed, %u faults armed, %llu injected",
		 ops, errors, in.armed,
		 (unsigned long long)bfs_fault_injected(M.fault));
	tap_ok(true,
	       "faults: %d threads of mixed operations with errors "
	       "injected all finish (%u operations)",
	       FAULT_THREADS, ops);
	tap_ok(bfs_fault_injected(M.fault) > 0 && errors > 0,
	       "faults: errors were injected and reached the callers");
	rc = write_file("x/after", "ok", 2, O_EXCL);
	rc = rc ? rc : read_file("x/after", buf, sizeof(buf), &got);
	tap_ok(rc == 0 && got == 2 && memcmp(buf, "ok", 2) == 0,
	       "faults: afterwards the mount writes and reads (%s)",
	       strerror(rc));
}

/*
 * An open for appending whose download comes back short, with the
 * version's own ETag (s3rver answers a PUT before the bytes are on its
 * disk): asked again, the open succeeds and the append keeps them.
 */
static void short_fill(void)
{
	char buf[64] = "";
	size_t got = 0;
	int rc = fs_store_put(&M, "f/short", "one\n", 4);

	if (rc == 0) {
		bfs_fault_short_reads(M.fault, 0, 2);
		rc = write_file("f/short", "two\n", 4, O_APPEND | O_WRONLY);
		bfs_fault_short_reads(M.fault, 0, 0);
	}
	tap_ok(rc == 0,
	       "short fill: an open for appending whose first two "
	       "downloads come back empty succeeds (%s)",
	       strerror(rc));
	if (rc == 0)
		rc = fs_store_get(&M, "f/short", buf, sizeof(buf), &got);
	tap_ok(rc == 0 && got == 8 && memcmp(buf, "one\ntwo\n", 8) == 0,
	       "short fill: ... and the object holds both lines (%zu bytes)",
	       got);
}

int main(void)
{
	char why[256] = "";
	int rc = fs_mount_for_test(&M, why, sizeof(why));

	if (rc == ENODEV)
		return 0;
	if (!tap_ok(rc == 0, "mount the filesystem over the mem store%s%s",
		    why[0] ? ": " : "", why))
		return tap_done();
	/* another client's s/held.r is there before this mount lists s/
	 * (or makes it: a mkdir counts as a listing): a name made after a
	 * listing is seen only once dir_ttl ran out (doc/SEMANTICS.md) */
	tap_ok(held_r_put() == 0 &&
		       write_file("s/other", "other", 5, O_EXCL) == 0,
	       "another client writes s/held.r, write s/other");
	stall_upload();
	stall_download();
	budget();
	short_fill();
	faults();
	fs_mount_down(&M);
	return tap_done();
}
