/*
 * test_upload.c - unit tests of the upload module (src/store/upload*.c)
 * over the mem store and a scripted store (the mem store with its puts
 * and parts recorded, a chosen part failing, the first parts of an
 * upload held until they are all in flight): part sizing edges, single
 * put and multipart, the digests of a sequential writer, streamed
 * multipart and its abort, the bounds of the one part pool.
 */
#include "compat.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/mem.h"
#include "store/upload_priv.h"
#include "tests/unit/tap.h"

#define MIB (1024ull * 1024ull)

/* ---- the scripted store ---- */

static struct {
	struct bfs_store *mem; /* the store below */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* protected by lock */
	unsigned puts, begins, parts, completes, aborts;
	bool put_had_digests;
	unsigned char put_md5[16];
	uint64_t part_len[64]; /* by part number - 1, of the last upload */
	int fail_part;	       /* this part number fails with EIO (0: none) */
	char fail_id[128];     /* ... of this upload only ("": of any) */
	bool fail_first;       /* fail_id is the first upload begun */
	bool fail_all;	       /* every part fails */
	unsigned hold;	       /* parts 1..hold wait until hold are in flight */
	unsigned in_flight, max_in_flight;
} SC = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static int sc_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	(void)s;
	BFS_PCHECK(pthread_mutex_lock(&SC.lock));
	SC.puts++;
	SC.put_had_digests = req->md5 && req->sha256;
	if (req->md5)
		memcpy(SC.put_md5, req->md5, 16);
	BFS_PCHECK(pthread_mutex_unlock(&SC.lock));
	return SC.mem->put(SC.mem, req, etag_out);
}

static int sc_begin(struct bfs_store *s, const struct bfs_put_req *req,
		    char **upload_id)
{
	int rc;

	(void)s;
	BFS_PCHECK(pthread_mutex_lock(&SC.lock));
	SC.begins++;
	memset(SC.part_len, 0, sizeof(SC.part_len));
	rc = SC.mem->mpu_begin(SC.mem, req, upload_id);
	if (rc == 0 && SC.fail_first && SC.begins == 1)
		snprintf(SC.fail_id, sizeof(SC.fail_id), "%s", *upload_id);
	BFS_PCHECK(pthread_mutex_unlock(&SC.lock));
	return rc;
}

static int sc_part(struct bfs_store *s, const char *key, const char *id,
		   int number, int fd, off_t off, size_t len, char *etag_out)
{
	bool fail;
	int rc;

	(void)s;
	BFS_PCHECK(pthread_mutex_lock(&SC.lock));
	SC.parts++;
	SC.in_flight++;
	SC.max_in_flight = BFS_MAX(SC.max_in_flight, SC.in_flight);
	if (number >= 1 && number <= 64)
		SC.part_len[number - 1] = len;
	fail = SC.fail_all ||
	       (number == SC.fail_part &&
		(SC.fail_id[0] == '\0' || strcmp(id, SC.fail_id) == 0));
	BFS_PCHECK(pthread_cond_broadcast(&SC.cond));
	if ((unsigned)number <= SC.hold) {
		/* a generous bound: only a broken pool waits it out */
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		while (SC.in_flight < SC.hold &&
		       pthread_cond_timedwait(&SC.cond, &SC.lock, &until) == 0)
			;
	}
	BFS_PCHECK(pthread_mutex_unlock(&SC.lock));
	rc = fail ? EIO
		  : SC.mem->mpu_part(SC.mem, key, id, number, fd, off, len,
				     etag_out);
	BFS_PCHECK(pthread_mutex_lock(&SC.lock));
	SC.in_flight--;
	BFS_PCHECK(pthread_mutex_unlock(&SC.lock));
	return rc;
}

static int sc_complete(struct bfs_store *s, const struct bfs_put_req *req,
		       const char *id, const struct bfs_part *parts, size_t n,
		       char *etag_out)
{
	(void)s;
	BFS_PCHECK(pthread_mutex_lock(&SC.lock));
	SC.completes++;
	BFS_PCHECK(pthread_mutex_unlock(&SC.lock));
	return SC.mem->mpu_complete(SC.mem, req, id, parts, n, etag_out);
}

static int sc_abort(struct bfs_store *s, const char *key, const char *id)
{
	(void)s;
	BFS_PCHECK(pthread_mutex_lock(&SC.lock));
	SC.aborts++;
	BFS_PCHECK(pthread_mutex_unlock(&SC.lock));
	return SC.mem->mpu_abort(SC.mem, key, id);
}

/* The scripted store over a fresh mem store, counters zeroed. */
static struct bfs_store scripted(void)
{
	struct bfs_store s;

	if (SC.mem)
		SC.mem->destroy(SC.mem);
	SC.mem = bfs_mem_create("mem");
	SC.puts = SC.begins = SC.parts = SC.completes = SC.aborts = 0;
	SC.fail_part = 0;
	SC.fail_id[0] = '\0';
	SC.fail_first = false;
	SC.fail_all = false;
	SC.hold = 0;
	SC.max_in_flight = 0;
	s = *SC.mem;
	s.name = "scripted";
	s.put = sc_put;
	s.mpu_begin = sc_begin;
	s.mpu_part = sc_part;
	s.mpu_complete = sc_complete;
	s.mpu_abort = sc_abort;
	return s;
}

/* ---- files ---- */

static char *tmpdir;

/* A temporary file of size bytes, byte i = (i * 7 + seed) % 251. */
static int make_file(uint64_t size, unsigned seed)
{
	char *path = bfs_xasprintf("%s/f.XXXXXX", tmpdir);
	int fd = mkstemp(path);
	unsigned char *buf = bfs_xmalloc(MIB);

	if (fd < 0)
		BFS_BUG("mkstemp: %s", strerror(errno));
	unlink(path);
	free(path);
	for (uint64_t off = 0; off < size;) {
		size_t n = (size_t)BFS_MIN(MIB, size - off);

		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)(((off + i) * 7 + seed) % 251);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			BFS_BUG("pwrite");
		off += n;
	}
	free(buf);
	return fd;
}

/* Whether key on s holds exactly fd's size bytes. */
static bool same_content(struct bfs_store *s, const char *key, int fd,
			 uint64_t size)
{
	struct bfs_obj_info info = {0};
	unsigned char *a = bfs_xmalloc(MIB), *b = bfs_xmalloc(MIB);
	bool ok = s->head(s, key, &info) == 0 && info.size == size;

	for (uint64_t off = 0; ok && off < size;) {
		size_t n = (size_t)BFS_MIN(MIB, size - off), got = 0;

		ok = bfs_store_read_full(s, key, off, n, a, &got, NULL) == 0 &&
		     got == n && pread(fd, b, n, (off_t)off) == (ssize_t)n &&
		     memcmp(a, b, n) == 0;
		off += n;
	}
	bfs_obj_info_release(&info);
	free(a);
	free(b);
	return ok;
}

static const struct bfs_upload_conf UCONF = {
	.threshold = 5 * MIB, .part_size = 5 * MIB, .parallel = 3};

/* ---- part sizing ---- */

static void test_sizing(void)
{
	struct bfs_store s = scripted();
	struct bfs_store nompu = s;
	struct bfs_upload_conf c = {.threshold = 64 * MIB,
				    .part_size = 16 * MIB};
	struct bfs_upload_plan p;
	const uint64_t sizes[] = {1,
				  64 * MIB,
				  64 * MIB + 1,
				  10000ull * 16 * MIB - 1,
				  10000ull * 16 * MIB,
				  10000ull * 16 * MIB + 1,
				  5ull << 40,
				  (5ull << 40) - 12345};
	bool covered = true, equal = true, limit = true, whole = true;

	tap_ok(bfs_upload_part_size(0, 16 * MIB) == 16 * MIB,
	       "a stream's parts are part_size");
	tap_ok(bfs_upload_part_size(0, 5 * MIB + 1) == 6 * MIB,
	       "part_size is rounded up to whole MiB");
	bfs_upload_plan(&s, &c, 0, &p);
	tap_ok(!p.multipart, "0 bytes: a single put");
	bfs_upload_plan(&s, &c, 64 * MIB - 1, &p);
	tap_ok(!p.multipart, "below the threshold: a single put");
	c.threshold = c.part_size;
	bfs_upload_plan(&s, &c, 16 * MIB, &p);
	tap_ok(p.multipart && p.nparts == 1 && p.part_size == 16 * MIB,
	       "exactly one part at threshold == part_size == size");
	bfs_upload_plan(&s, &c, 10000ull * 16 * MIB, &p);
	tap_ok(p.nparts == 10000 && p.part_size == 16 * MIB,
	       "10,000 parts of part_size exactly");
	bfs_upload_plan(&s, &c, 10000ull * 16 * MIB + 1, &p);
	tap_ok(p.nparts <= 10000 && p.part_size == 17 * MIB,
	       "one byte more: parts grow a MiB, still within 10,000 (%zu)",
	       p.nparts);
	for (size_t i = 0; i < BFS_ARRAY_SIZE(sizes); i++) {
		uint64_t sz = sizes[i];

		bfs_upload_plan(&s, &c, sz, &p);
		if (!p.multipart)
			continue;
		/* R2: parts 1..n-1 of part_size, the last in (0, part_size] */
		covered = covered && (uint64_t)p.nparts * p.part_size >= sz;
		equal = equal && (uint64_t)(p.nparts - 1) * p.part_size < sz;
		limit = limit && p.nparts <= BFS_UPLOAD_MAX_PARTS;
		whole = whole && p.part_size % MIB == 0;
	}
	tap_ok(covered, "the parts cover every size");
	tap_ok(equal, "every part but the last is full (R2's equal parts)");
	tap_ok(limit, "never more than 10,000 parts");
	tap_ok(whole, "parts are whole MiB");
	nompu.caps &= ~(unsigned)BFS_CAP_MULTIPART;
	bfs_upload_plan(&nompu, &c, 1ull << 30, &p);
	tap_ok(!p.multipart, "a store without multipart gets a single put");
}

/* ---- whole files ---- */

static void test_whole(void)
{
	struct bfs_store s = scripted();
	uint64_t size = 12 * MIB + 1;
	int fd = make_file(size, 1);
	struct bfs_put_req req = {.key = "big", .fd = fd, .size = size};
	char etag[BFS_ETAG_MAX] = "";
	struct bfs_obj_info info = {0};
	int rc;

	rc = bfs_upload_file(&s, &UCONF, &req, NULL, etag);
	tap_ok(rc == 0 && SC.begins == 1 && SC.parts == 3 &&
		       SC.completes == 1 && SC.puts == 0,
	       "12 MiB + 1 over a 5 MiB threshold: one multipart upload of 3 "
	       "parts (rc %d, parts %u)",
	       rc, SC.parts);
	tap_ok(SC.part_len[0] == 5 * MIB && SC.part_len[1] == 5 * MIB &&
		       SC.part_len[2] == 2 * MIB + 1,
	       "parts of 5, 5 and 2 MiB + 1");
	tap_ok(same_content(&s, "big", fd, size), "the object is the file");
	tap_ok(s.head(&s, "big", &info) == 0 && strcmp(info.etag, etag) == 0,
	       "the ETag returned is the object's");
	bfs_obj_info_release(&info);
	close(fd);

	s = scripted();
	fd = make_file(0, 0);
	req = (struct bfs_put_req){.key = "empty", .fd = fd};
	rc = bfs_upload_file(&s, &UCONF, &req, NULL, etag);
	tap_ok(rc == 0 && SC.puts == 1 && SC.begins == 0 &&
		       same_content(&s, "empty", fd, 0),
	       "0 bytes: one put");
	close(fd);

	s = scripted();
	SC.fail_part = 2;
	fd = make_file(size, 2);
	req = (struct bfs_put_req){.key = "failing", .fd = fd, .size = size};
	rc = bfs_upload_file(&s, &UCONF, &req, NULL, etag);
	tap_ok(rc == EIO && SC.aborts == 1 && SC.completes == 0,
	       "a failed part fails the upload, which is aborted (rc %d)", rc);
	tap_ok(s.head(&s, "failing", &info) == ENOENT, "and makes no object");
	close(fd);

	s = scripted();
	fd = make_file(100, 3);
	req = (struct bfs_put_req){
		.key = "cond", .fd = fd, .size = 100, .if_none_match = true};
	rc = bfs_upload_file(&s, &UCONF, &req, NULL, etag);
	tap_ok(rc == 0, "if_none_match on a new key: made");
	rc = bfs_upload_file(&s, &UCONF, &req, NULL, etag);
	tap_ok(rc == EEXIST, "if_none_match on an existing key: EEXIST");
	close(fd);
}

/* ---- a sequential writer: digests and streams ---- */

/* Feed fd's size bytes to the feed as appends of chunk bytes. */
static void feed_all(struct bfs_upload_feed **f, struct bfs_store *s,
		     const struct bfs_put_req *req, int fd, uint64_t size,
		     uint64_t chunk, const char *note)
{
	for (uint64_t off = 0; off < size; off += chunk) {
		uint64_t n = BFS_MIN(chunk, size - off);

		bfs_upload_feed_wrote(f, s, &UCONF, req, fd, off, n, off + n,
				      note);
	}
}

static void test_hashed(void)
{
	struct bfs_store s = scripted();
	uint64_t size = 3 * MIB + 5;
	int fd = make_file(size, 4);
	struct bfs_put_req req = {.key = "hashed", .fd = fd, .size = size};
	struct bfs_upload_feed *f = NULL;
	unsigned char *buf = bfs_xmalloc(size), md5[16];
	char etag[BFS_ETAG_MAX];
	int rc;

	feed_all(&f, &s, &req, fd, size, 256 * 1024, "/nonexistent/note");
	rc = bfs_upload_file(&s, &UCONF, &req, &f, etag);
	if (pread(fd, buf, size, 0) != (ssize_t)size)
		BFS_BUG("pread");
	EVP_Digest(buf, size, md5, NULL, EVP_md5(), NULL);
	tap_ok(rc == 0 && f == NULL && SC.puts == 1 && SC.begins == 0,
	       "3 MiB written in order: one put, the feed consumed");
	tap_ok(SC.put_had_digests && memcmp(SC.put_md5, md5, 16) == 0,
	       "the put carries the file's MD5, computed while written");
	tap_ok(same_content(&s, "hashed", fd, size), "the object is the file");
	free(buf);
	close(fd);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void test_stream(void)
{
	struct bfs_store s = scripted();
	uint64_t size = 12 * MIB + 7;
	int fd = make_file(size, 5);
	struct bfs_put_req req = {.key = "stream", .fd = fd, .size = size};
	struct bfs_upload_feed *f = NULL;
	char *note = bfs_xasprintf("%s/stream.mpu", tmpdir);
	char etag[BFS_ETAG_MAX];
	bool noted;
	int rc;

	feed_all(&f, &s, &req, fd, size, MIB, note);
	noted = exists(note);
	tap_ok(f != NULL && SC.begins == 1 && noted,
	       "a file written in order past the threshold starts a stream, "
	       "its upload noted");
	rc = bfs_upload_file(&s, &UCONF, &req, &f, etag);
	tap_ok(rc == 0 && SC.begins == 1 && SC.parts == 3 &&
		       SC.completes == 1 && SC.puts == 0 && SC.aborts == 0,
	       "closed: the stream's last part and its completion (parts %u)",
	       SC.parts);
	tap_ok(SC.part_len[0] == 5 * MIB && SC.part_len[1] == 5 * MIB &&
		       SC.part_len[2] == 2 * MIB + 7,
	       "equal parts but the last");
	tap_ok(same_content(&s, "stream", fd, size) && !exists(note),
	       "the object is the file, the note removed");

	/* a part fails: the stream is aborted, the file goes up whole */
	s = scripted();
	SC.fail_part = 1;
	SC.fail_first = true; /* the stream's upload, not the whole one */
	feed_all(&f, &s, &req, fd, size, MIB, note);
	rc = bfs_upload_file(&s, &UCONF, &req, &f, etag);
	tap_ok(rc == 0 && SC.begins == 2 && SC.aborts == 1 && SC.completes == 1,
	       "a failed part: the stream aborted, the file uploaded whole "
	       "(rc %d, begins %u, aborts %u)",
	       rc, SC.begins, SC.aborts);
	tap_ok(same_content(&s, "stream", fd, size) && !exists(note),
	       "the object is the file, the note removed");

	/* every part fails: the error is the answer, nothing is left */
	s = scripted();
	SC.fail_all = true;
	feed_all(&f, &s, &req, fd, size, MIB, note);
	rc = bfs_upload_file(&s, &UCONF, &req, &f, etag);
	tap_ok(rc == EIO && SC.aborts == 2 && SC.completes == 0 && f == NULL,
	       "every part failing: EIO, both uploads aborted (aborts %u)",
	       SC.aborts);

	/* a write before the end breaks the stream */
	s = scripted();
	feed_all(&f, &s, &req, fd, size, MIB, note);
	bfs_upload_feed_wrote(&f, &s, &UCONF, &req, fd, 0, 10, size, note);
	rc = bfs_upload_file(&s, &UCONF, &req, &f, etag);
	tap_ok(rc == 0 && SC.aborts == 1 && SC.begins == 2 &&
		       same_content(&s, "stream", fd, size),
	       "a write before the end: the stream aborted, uploaded whole");

	/* a truncate (break) and an unlink (abort) */
	s = scripted();
	feed_all(&f, &s, &req, fd, size, MIB, note);
	bfs_upload_feed_break(f);
	bfs_upload_feed_abort(&f);
	tap_ok(f == NULL && SC.aborts == 1 && SC.completes == 0 &&
		       !exists(note),
	       "an abandoned stream is aborted and its note removed");
	free(note);
	close(fd);
}

/* ---- bounds ---- */

static void test_parallel(void)
{
	struct bfs_store s = scripted();
	uint64_t size = 40 * MIB;
	int fd = make_file(size, 6);
	struct bfs_put_req req = {.key = "par", .fd = fd, .size = size};
	char etag[BFS_ETAG_MAX];
	int rc;

	SC.hold = UCONF.parallel; /* the first parts wait for each other */
	rc = bfs_upload_file(&s, &UCONF, &req, NULL, etag);
	tap_ok(rc == 0 && SC.parts == 8, "40 MiB in 8 parts");
	tap_ok(SC.max_in_flight == UCONF.parallel,
	       "at most upload_parallel (3) parts at once, and 3 reached "
	       "(%u)",
	       SC.max_in_flight);
	tap_ok(bfs_upload_pool_threads() <= BFS_UPLOAD_POOL_MAX,
	       "the pool within its bound");
	close(fd);
}

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned running, max_running, ran;
	bool release;
} PT = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void blocking_task(struct bfs_upload_task *t)
{
	(void)t;
	BFS_PCHECK(pthread_mutex_lock(&PT.lock));
	PT.running++;
	PT.max_running = BFS_MAX(PT.max_running, PT.running);
	BFS_PCHECK(pthread_cond_broadcast(&PT.cond));
	while (!PT.release)
		BFS_PCHECK(pthread_cond_wait(&PT.cond, &PT.lock));
	PT.running--;
	PT.ran++;
	BFS_PCHECK(pthread_cond_broadcast(&PT.cond));
	BFS_PCHECK(pthread_mutex_unlock(&PT.lock));
}

/* Wait (at most 60 s) until pred holds; PT.lock held. */
static bool pt_wait(bool (*pred)(void))
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	while (!pred())
		if (pthread_cond_timedwait(&PT.cond, &PT.lock, &until) != 0)
			return pred();
	return true;
}

static bool pool_full(void)
{
	return PT.running == BFS_UPLOAD_POOL_MAX;
}

static bool all_ran(void)
{
	return PT.ran == 3 * BFS_UPLOAD_POOL_MAX;
}

static void test_pool(void)
{
	unsigned n = 3 * BFS_UPLOAD_POOL_MAX;
	struct bfs_upload_task *tasks = bfs_xcalloc(n, sizeof(*tasks));
	bool full, ran;

	for (unsigned i = 0; i < n; i++) {
		tasks[i].run = blocking_task;
		bfs_upload_pool_submit(&tasks[i]);
	}
	BFS_PCHECK(pthread_mutex_lock(&PT.lock));
	full = pt_wait(pool_full);
	tap_ok(full && bfs_upload_pool_threads() == BFS_UPLOAD_POOL_MAX,
	       "%u blocked tasks: the pool grows to its %u threads, no more "
	       "(%u threads)",
	       n, BFS_UPLOAD_POOL_MAX, bfs_upload_pool_threads());
	PT.release = true;
	BFS_PCHECK(pthread_cond_broadcast(&PT.cond));
	ran = pt_wait(all_ran);
	BFS_PCHECK(pthread_mutex_unlock(&PT.lock));
	tap_ok(ran && PT.max_running == BFS_UPLOAD_POOL_MAX,
	       "every task ran, never more than %u at once (%u)",
	       BFS_UPLOAD_POOL_MAX, PT.max_running);
	bfs_upload_pool_stop();
	tap_ok(bfs_upload_pool_threads() == 0, "stopped: no thread left");
	free(tasks);
}

int main(void)
{
	char tmpl[] = "/tmp/test_upload.XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (tmpdir == NULL)
		BFS_BUG("mkdtemp");
	test_sizing();
	test_whole();
	test_hashed();
	test_stream();
	test_parallel();
	test_pool();
	bfs_upload_pool_stop();
	SC.mem->destroy(SC.mem);
	rmdir(tmpdir);
	return tap_done();
}
