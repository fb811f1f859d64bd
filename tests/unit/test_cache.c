/*
 * test_cache.c - unit tests of the cache layers (cache/) over the
 * in-memory store and a counting, fault-injecting wrapper: block file
 * format, LMDB index, block cache (hits, corruption, size limit,
 * restart, ETag change, two processes), metadata cache (TTL, negative
 * entries, invalidation, revalidation by listings), prefetcher.
 */
#include "compat.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/blockcache_priv.h"
#include "cache/blockfile.h"
#include "cache/index.h"
#include "cache/metacache.h"
#include "cache/metacache_dir.h"
#include "cache/prefetch.h"
#include "cache/stats.h"
#include "store/mem.h"
#include "tests/unit/count_store.h"
#include "tests/unit/tap.h"

#define BS  (64u * 1024) /* small blocks keep the tests fast */
#define HDR BFS_BLOCKFILE_HDR_SIZE

/* ---- helpers ----------------------------------------------------------- */

static char *cache_dir;

/*
 * The metadata cache's clock in test_meta: the real one plus an offset
 * the test moves, so that a TTL runs out when the test says and never
 * because the machine was slow (TTLs are 30 s, steps past them 31 s).
 */
static uint64_t clock_offset_ns;
static uint64_t (*test_clock)(void);

static uint64_t offset_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
	       clock_offset_ns;
}

/*
 * Wait (bounded: 10 s) until the coarse clock, the one the kernel stamps
 * files with, is past the time now: every file written before the call
 * then has a stamp in the past.
 */
static void wait_coarse_past_now(void)
{
	struct timespec now, c;

	clock_gettime(CLOCK_REALTIME, &now);
	for (int i = 0; i < 10000; i++) {
		clock_gettime(CLOCK_REALTIME_COARSE, &c);
		if (c.tv_sec > now.tv_sec ||
		    (c.tv_sec == now.tv_sec && c.tv_nsec > now.tv_nsec))
			return;
		usleep(1000);
	}
}

/* Wait (bounded: 10 s) until time(NULL) is at least t. */
static void wait_seconds_until(time_t t)
{
	for (int i = 0; i < 1000 && time(NULL) < t; i++)
		usleep(10000);
}

/* Move the metadata cache's clock past a TTL of 30 s. */
static void past_ttl(void)
{
	clock_offset_ns += 31ull * 1000000000ull;
}

/* mem → cnt → blockcache (→ metacache) (→ prefetch), as in a bucket. */
static int stack_open(struct cache_stack *st, struct bfs_store *mem,
		      uint64_t size, bool prefetch, uint64_t inflight,
		      bool meta, double attr_ttl)
{
	struct bfs_blockcache_conf bconf = {
		.cache_dir = cache_dir,
		.bucket = "b1",
		.block_size = BS,
		.size = size,
	};
	struct bfs_prefetch_conf pconf = {
		.cache_dir = cache_dir,
		.bucket = "b1",
		.max_window = 16 * BS,
		.max_inflight = inflight,
	};
	struct bfs_metacache_conf mconf = {
		.cache_dir = cache_dir,
		.bucket = "b1",
		.attr_ttl = attr_ttl,
		.dir_ttl = attr_ttl,
		.neg_ttl = attr_ttl,
		.clock = test_clock,
	};

	return cache_stack_open(st, mem, &bconf, meta ? &mconf : NULL,
				prefetch ? &pconf : NULL);
}

static bool read_eq(struct bfs_store *s, const char *key, const char *etag,
		    uint64_t off, size_t len, const char *want, size_t wlen)
{
	char *buf = bfs_xmalloc(len + 1);
	size_t got = 0;
	int rc = bfs_store_read_full(s, key, off, len, buf, &got, etag);
	bool ok = rc == 0 && got == wlen && memcmp(buf, want, wlen) == 0;

	if (!ok)
		tap_diag("read %s [%llu,+%zu): rc %d got %zu want %zu", key,
			 (unsigned long long)off, len, rc, got, wlen);
	free(buf);
	return ok;
}

/* read_eq of len bytes at skip into each of the first n blocks of key */
static bool read_each_block(struct bfs_store *s, const char *key,
			    const char *etag, const char *data, size_t skip,
			    size_t len, size_t n)
{
	bool ok = true;

	for (size_t b = 0; b < n; b++)
		ok = ok && read_eq(s, key, etag, b * BS + skip, len,
				   data + b * BS + skip, len);
	return ok;
}

struct disk {
	uint64_t bytes;
	unsigned files;
	char first[4096];
};

static int du_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	static struct disk *d;

	(void)ftw;
	if (path == NULL) {
		d = (struct disk *)st;
		return 0;
	}
	if (flag == FTW_F && strstr(path, ".blk")) {
		d->bytes += (uint64_t)st->st_size;
		if (d->files++ == 0)
			snprintf(d->first, sizeof(d->first), "%s", path);
	}
	return 0;
}

static struct disk du_blocks(void)
{
	struct disk d = {0};
	char *dir = bfs_xasprintf("%s/blocks", cache_dir);

	du_one(NULL, (const struct stat *)&d, 0, NULL);
	nftw(dir, du_one, 16, FTW_PHYS);
	free(dir);
	return d;
}

/* ---- cases ------------------------------------------------------------ */

/* Each layer of a bucket's stack is found through inner, by its kind. */
static void test_layers(struct bfs_store *mem)
{
	struct cache_stack st;
	struct bfs_store *mc;

	if (stack_open(&st, mem, 0, true, 0, true, 60) != 0) {
		tap_ok(0, "layers: open a full stack");
		return;
	}
	mc = bfs_store_layer(st.top, BFS_STORE_KIND_METACACHE);
	tap_ok(bfs_store_layer(st.top, BFS_STORE_KIND_PREFETCH) == st.top &&
		       mc != NULL && mc != st.top && mc->inner == st.bc,
	       "layers: prefetch on top, the metadata cache under it");
	tap_ok(bfs_store_layer(st.top, BFS_STORE_KIND_BLOCKCACHE) == st.bc &&
		       bfs_store_layer(mc, BFS_STORE_KIND_BLOCKCACHE) == st.bc,
	       "layers: the block cache is found from the top and from "
	       "the layer above it");
	tap_ok(bfs_store_layer(st.top, BFS_STORE_KIND_MEM) == mem &&
		       bfs_store_layer(st.top, "cnt") == &st.cnt->s,
	       "layers: the driver at the bottom, past a test's own layer");
	tap_ok(bfs_store_layer(st.top, BFS_STORE_KIND_S3) == NULL &&
		       bfs_store_layer(st.bc, BFS_STORE_KIND_PREFETCH) ==
			       NULL &&
		       bfs_store_layer(NULL, BFS_STORE_KIND_MEM) == NULL,
	       "layers: a kind not in the stack (or above the start) is "
	       "NULL");
	tap_ok(bfs_blockcache_is(st.bc) && !bfs_blockcache_is(st.top) &&
		       !bfs_blockcache_is(mem),
	       "layers: bfs_blockcache_is() by kind");
	cache_stack_close(&st);
}

/* CRC32C a bit at a time: the definition, for what the fast ones do */
static uint32_t crc_bits(const uint8_t *p, size_t len)
{
	uint32_t c = ~0u;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

/* Lengths around the three-lane cut and the block size, at every
 * alignment, and a sum continued over two calls. */
static void test_crc32c(void)
{
	static const size_t lens[] = {
		0,     1,      7,      8,      9,	4095,	 65535,	 65536,
		65537, 196607, 196608, 196615, 1048576, 1048579, 3000001};
	uint8_t *buf = bfs_xmalloc(3000001 + 8);
	unsigned bad = 0, n = 0;

	fill((char *)buf, 3000001 + 8, 21);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t a = 0; a < 8; a++, n++)
			bad += bfs_crc32c(0, buf + a, lens[i]) !=
			       crc_bits(buf + a, lens[i]);
	bad += bfs_crc32c(bfs_crc32c(0, buf, 100000), buf + 100000, 900000) !=
	       crc_bits(buf, 1000000);
	tap_ok(bad == 0,
	       "blockfile: CRC32C is the bitwise one at %u lengths and "
	       "alignments and across two calls (%u differ)",
	       n + 1, bad);
	free(buf);
}

static void test_blockfile(void)
{
	struct bfs_blockfile_id id = {.block = 7};
	char data[5000], buf[5000], why[128] = "";
	char *path = bfs_xasprintf("%s/t.blk", cache_dir);
	int fd;

	tap_ok(bfs_crc32c(0, "123456789", 9) == 0xE3069283u,
	       "blockfile: CRC32C of \"123456789\" is e3069283");
	memset(id.key_hash, 0xab, sizeof(id.key_hash));
	snprintf(id.etag, sizeof(id.etag), "etag-1");
	fill(data, sizeof(data), 1);
	tap_ok(bfs_blockfile_write(path, &id, data, sizeof(data), NULL) == 0 &&
		       bfs_blockfile_read(path, &id, buf, sizeof(buf), why,
					  sizeof(why)) == 0 &&
		       memcmp(buf, data, sizeof(data)) == 0,
	       "blockfile: a written block reads back");
	snprintf(id.etag, sizeof(id.etag), "etag-2");
	tap_ok(bfs_blockfile_read(path, &id, buf, sizeof(buf), why,
				  sizeof(why)) == EBADMSG,
	       "blockfile: another ETag is refused (%s)", why);
	snprintf(id.etag, sizeof(id.etag), "etag-1");
	fd = open(path, O_RDWR);
	if (fd >= 0) {
		char c = 0;

		pread(fd, &c, 1, HDR + 100);
		c ^= 1;
		pwrite(fd, &c, 1, HDR + 100);
		close(fd);
	}
	tap_ok(bfs_blockfile_read(path, &id, buf, sizeof(buf), why,
				  sizeof(why)) == EBADMSG,
	       "blockfile: a flipped data bit is detected (%s)", why);
	unlink(path);
	free(path);
}

static int count_cb(void *arg, const void *k, size_t kl, const void *v,
		    size_t vl)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	(*(int *)arg)++;
	return 0;
}

static void test_metadb(void)
{
	char err[256] = "";
	char *dir = bfs_xasprintf("%s/meta", cache_dir);
	struct bfs_metadb *a = bfs_metadb_open(dir, err, sizeof(err));
	struct bfs_metadb *b = bfs_metadb_open(dir, err, sizeof(err));
	struct bfs_metadb_txn *t;
	void *v = NULL;
	size_t vl = 0, n = 0;
	int seen = 0, rc;

	tap_ok(a && a == b, "metadb: one environment per dir per process");
	rc = bfs_metadb_begin(a, false, &t);
	if (rc == 0) {
		bfs_metadb_put(t, BFS_METADB_STATE, "tx1", 3, "v1", 2);
		bfs_metadb_put(t, BFS_METADB_STATE, "tx2", 3, "v2", 2);
		bfs_metadb_put(t, BFS_METADB_STATE, "ty1", 3, "v3", 2);
		rc = bfs_metadb_commit(t);
	}
	if (rc == 0)
		rc = bfs_metadb_begin(a, true, &t);
	if (rc == 0) {
		rc = bfs_metadb_get(t, BFS_METADB_STATE, "tx2", 3, &v, &vl);
		bfs_metadb_scan(t, BFS_METADB_STATE, "tx", 2, count_cb, &seen);
		bfs_metadb_abort(t);
	}
	tap_ok(rc == 0 && vl == 2 && memcmp(v, "v2", 2) == 0 && seen == 2,
	       "metadb: put, get (copied out) and prefix scan");
	free(v);
	rc = bfs_metadb_begin(a, false, &t);
	if (rc == 0) {
		rc = bfs_metadb_del_prefix(t, BFS_METADB_STATE, "t", 1, NULL,
					   NULL, &n);
		rc = rc ? rc : bfs_metadb_commit(t);
	}
	tap_ok(rc == 0 && n == 3, "metadb: prefix delete (%zu entries)", n);
	rc = bfs_metadb_begin(a, true, &t);
	if (rc == 0) {
		rc = bfs_metadb_get(t, BFS_METADB_STATE, "tx1", 3, &v, &vl);
		bfs_metadb_abort(t);
	}
	tap_ok(rc == ENOENT, "metadb: MDB_NOTFOUND is ENOENT");
	bfs_metadb_close(b);
	bfs_metadb_close(a);
	free(dir);
}

/* the block cache's buffer pool keeps buffers for reuse and gives them
 * back once unused for POOL_IDLE_TICKS ticks, not before */
static void test_bufpool(void)
{
	struct bufpool bp = {0};
	struct blk *b[3];
	unsigned early = 0, freed, kept;

	pool_init(&bp, sizeof(struct blk) + 64, 4);
	for (int i = 0; i < 3; i++)
		b[i] = blk_new(&bp);
	for (int i = 0; i < 3; i++)
		blk_put(b[i]);
	kept = bp.n;
	for (int i = 0; i < POOL_IDLE_TICKS - 1; i++)
		early += pool_trim(&bp);
	blk_put(blk_new(&bp)); /* a use: idle again from now */
	for (int i = 0; i < POOL_IDLE_TICKS - 1; i++)
		early += pool_trim(&bp);
	freed = pool_trim(&bp);
	tap_ok(kept == 3 && early == 0 && freed == 3 && bp.n == 0,
	       "bufpool: 3 buffers kept, none freed while used (%u), all "
	       "freed after %d idle ticks (%u)",
	       early, POOL_IDLE_TICKS, freed);
	pool_destroy(&bp);
}

#if !defined(__SANITIZE_ADDRESS__)
/* the virtual size of this process, in bytes; 0 if unknown */
static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/*
 * Under an address-space limit too small for the 4 GiB map (ulimit -v,
 * systemd's LimitAS=) the index still opens, with a smaller map. Run in a
 * child: the limit is the whole process's. AddressSanitizer's shadow
 * memory cannot live under such a limit: a sanitizer build has no such
 * case (tests/run in a plain build runs it).
 */
static void test_metadb_aslimit(void)
{
	char *dir = bfs_xasprintf("%s/aslimit", cache_dir);
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = vm_size() + (1ul << 30),
				    .rlim_max = vm_size() + (1ul << 30)};
		struct bfs_metadb_txn *t = NULL;
		struct bfs_metadb *db;
		char err[256] = "";
		int rc;

		if (rl.rlim_cur <= (1ul << 30) || setrlimit(RLIMIT_AS, &rl))
			_exit(3);
		db = bfs_metadb_open(dir, err, sizeof(err));
		if (db == NULL)
			_exit(1);
		rc = bfs_metadb_begin(db, false, &t);
		if (rc == 0)
			rc = bfs_metadb_put(t, BFS_METADB_STATE, "k", 1, "v",
					    1);
		if (rc == 0)
			rc = bfs_metadb_commit(t);
		else if (t)
			bfs_metadb_abort(t);
		_exit(rc == 0 ? 0 : 2);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "metadb: opens and writes under an address-space limit of "
	       "1 GiB beyond this process's size (exit status %d)",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	free(dir);
}
#endif

static void count_tick(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

/* what a cache layer's start and stop, and `bucketfs cache`, do with it */
static void test_metadb_attach(void)
{
	char err[256] = "";
	char *top = bfs_xasprintf("%s/attach", cache_dir);
	char *dir = bfs_xasprintf("%s/meta", top);
	struct bfs_metadb *db = NULL, *ex;
	struct stat st;
	int ticks = 0, rc;

	errno = 0;
	ex = bfs_metadb_open_existing(top, err, sizeof(err));
	tap_ok(ex == NULL && errno == ENOENT && strstr(err, "no cache in") &&
		       stat(top, &st) != 0,
	       "metadb: open_existing of no cache is ENOENT and makes none "
	       "(%s)",
	       err);
	if (mkdir(top, 0700) != 0)
		tap_diag("mkdir %s: %s", top, strerror(errno));
	rc = bfs_metadb_attach(dir, count_tick, &ticks, &db);
	tap_ok(rc == 0 && db != NULL,
	       "metadb: attach opens the environment (%d)", rc);
	ex = bfs_metadb_open_existing(top, err, sizeof(err));
	tap_ok(ex != NULL && ex == db,
	       "metadb: open_existing finds the environment made");
	if (ex)
		bfs_metadb_close(ex);
	bfs_metadb_detach(&db, count_tick, &ticks);
	tap_ok(db == NULL && __atomic_load_n(&ticks, __ATOMIC_SEQ_CST) >= 1,
	       "metadb: detach runs the tick a last time and closes (%d)",
	       ticks);
	bfs_metadb_detach(&db, count_tick, &ticks);
	tap_ok(db == NULL, "metadb: detach of a closed one does nothing");
	free(dir);
	free(top);
}

static void test_hits(struct bfs_store *mem)
{
	size_t len = 3 * BS + 1000;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_blockcache_stats bst;
	struct cache_stack st;
	unsigned g0, g1;
	size_t got;
	char tmp[16];
	int rc;

	fill(data, len, 2);
	put_obj(mem, "hits/a", data, len, etag);
	rc = stack_open(&st, mem, 0, false, 0, false, 0);
	tap_ok(rc == 0, "blockcache: starts on a fresh dir");
	if (rc != 0)
		goto out;
	tap_ok(read_eq(st.top, "hits/a", etag, 0, len, data, len),
	       "blockcache: first read returns the object");
	g0 = cnt_gets(st.cnt);
	tap_ok(st.cnt->bytes == len && g0 <= 4,
	       "blockcache: first read fetched its 4 blocks once (%llu bytes, "
	       "%u GETs)",
	       (unsigned long long)st.cnt->bytes, g0);
	tap_ok(read_eq(st.top, "hits/a", etag, 0, len, data, len) &&
		       read_eq(st.top, "hits/a", etag, BS - 10, 20,
			       data + BS - 10, 20),
	       "blockcache: second read returns the same bytes");
	g1 = cnt_gets(st.cnt);
	tap_ok(g1 == g0, "blockcache: second read makes no inner GET (%u)",
	       g1 - g0);
	tap_ok(read_eq(st.top, "hits/a", etag, len - 10, 100, data + len - 10,
		       10),
	       "blockcache: a read over the end is short");
	got = 1;
	rc = st.top->get_range(st.top, "hits/a", len, 10, tmp, &got, etag);
	tap_ok(rc == 0 && got == 0, "blockcache: a read at the end gives 0");
	rc = st.top->get_range(st.top, "hits/a", len + 5, 10, tmp, &got, etag);
	tap_ok(rc == ERANGE, "blockcache: a read past the end is ERANGE");
	g0 = cnt_gets(st.cnt);
	read_eq(st.top, "hits/a", NULL, 0, 100, data, 100);
	read_eq(st.top, "hits/a", NULL, 0, 100, data, 100);
	bfs_blockcache_get_stats(st.bc, &bst);
	tap_ok(cnt_gets(st.cnt) == g0 + 2 && bst.bypassed == 2,
	       "blockcache: reads with no ETag go to the store");
	tap_ok(bst.misses + bst.prefetched == 4 && bst.misses >= 1 &&
		       bst.hits >= 4 && bst.limit > 0,
	       "blockcache: stats count hits %llu, misses %llu, limit %llu",
	       (unsigned long long)bst.hits, (unsigned long long)bst.misses,
	       (unsigned long long)bst.limit);
	cache_stack_close(&st);
	/* restart: same dir, new instance, nothing in memory */
	rc = stack_open(&st, mem, 0, false, 0, false, 0);
	g0 = cnt_gets(st.cnt);
	tap_ok(rc == 0 && read_eq(st.top, "hits/a", etag, 0, len, data, len) &&
		       cnt_gets(st.cnt) == g0,
	       "blockcache: a restart keeps the blocks (no GET after it)");
out:
	cache_stack_close(&st);
	free(data);
}

/* Flip one data byte of every block file. */
static int corrupt_all(void)
{
	char *top = bfs_xasprintf("%s/blocks", cache_dir);
	int n = 0;

	for (unsigned d = 0; d < 256; d++) {
		char *dir = bfs_xasprintf("%s/%02x", top, d);
		DIR *dh = opendir(dir);
		struct dirent *e;

		while (dh && (e = readdir(dh))) {
			char *p;
			int fd;
			char c = 0;

			if (!strstr(e->d_name, ".blk"))
				continue;
			p = bfs_xasprintf("%s/%s", dir, e->d_name);
			fd = open(p, O_RDWR);
			if (fd >= 0 && pread(fd, &c, 1, HDR + 3) == 1) {
				c ^= 0x40;
				if (pwrite(fd, &c, 1, HDR + 3) == 1)
					n++;
			}
			if (fd >= 0)
				close(fd);
			free(p);
		}
		if (dh)
			closedir(dh);
		free(dir);
	}
	free(top);
	return n;
}

/* An empty block cache, and key in mem holding len bytes of seed (in
 * data; its ETag in etag). */
static void fresh_obj(struct bfs_store *mem, const char *key, char *data,
		      size_t len, unsigned seed, char *etag)
{
	char err[256];

	bfs_blockcache_clear(cache_dir, NULL, NULL, NULL, err, sizeof(err));
	fill(data, len, seed);
	put_obj(mem, key, data, len, etag);
}

static void test_corrupt(struct bfs_store *mem)
{
	size_t len = 2 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_blockcache_stats bst;
	struct cache_stack st;
	unsigned g0;
	int n;

	fresh_obj(mem, "corrupt/a", data, len, 3, etag);
	if (stack_open(&st, mem, 0, false, 0, false, 0) != 0) {
		tap_ok(0, "blockcache: starts for the corruption case");
		return;
	}
	read_eq(st.top, "corrupt/a", etag, 0, len, data, len);
	cache_stack_close(&st); /* drop the checked copies kept in memory */
	n = corrupt_all();
	stack_open(&st, mem, 0, false, 0, false, 0);
	g0 = cnt_gets(st.cnt);
	tap_ok(n == 2 && read_eq(st.top, "corrupt/a", etag, 0, len, data, len),
	       "blockcache: damaged blocks are not served (%d damaged)", n);
	bfs_blockcache_get_stats(st.bc, &bst);
	tap_ok(bst.corrupt == 2 && cnt_gets(st.cnt) == g0 + 2,
	       "blockcache: damaged blocks are dropped and fetched again "
	       "(%llu dropped, %u GETs)",
	       (unsigned long long)bst.corrupt, cnt_gets(st.cnt) - g0);
	cache_stack_close(&st);
	stack_open(&st, mem, 0, false, 0, false, 0);
	g0 = cnt_gets(st.cnt);
	tap_ok(read_eq(st.top, "corrupt/a", etag, 0, len, data, len) &&
		       cnt_gets(st.cnt) == g0,
	       "blockcache: the blocks fetched again are cached");
	cache_stack_close(&st);
	free(data);
}

/*
 * Put key (len bytes of data made from seed) and start a block cache
 * that keeps one block in memory (every other read goes to disk) over a
 * counting store *cnt, on a cleared cache dir.
 * @return the block cache, or NULL (a failed case is reported).
 */
static struct bfs_store *one_hot_open(struct bfs_store *mem, const char *key,
				      char *data, size_t len, char *etag,
				      unsigned seed, struct cnt **cnt)
{
	struct bfs_blockcache_conf conf = {
		.cache_dir = cache_dir,
		.bucket = "b1",
		.block_size = BS,
		.hot_blocks = 1,
	};
	struct bfs_store *bc;

	fresh_obj(mem, key, data, len, seed, etag);
	*cnt = cnt_new(mem, false);
	bc = bfs_blockcache_create(&conf, &(*cnt)->s);
	if (bc && bc->start(bc) == 0)
		return bc;
	tap_ok(0, "blockcache: starts for '%s'", key);
	if (bc)
		bc->destroy(bc);
	else
		(*cnt)->s.destroy(&(*cnt)->s);
	return NULL;
}

/*
 * A file verified once is then read by range; a later change to it (a
 * write gives it a new change time) makes it checked again: the damage
 * is found, never served.
 */
static void test_verified(struct bfs_store *mem)
{
	size_t len = 3 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_blockcache_stats bst;
	struct cnt *cnt;
	struct bfs_store *bc;
	bool ok = true;
	unsigned g0;
	int n;

	bc = one_hot_open(mem, "verified/a", data, len, etag, 14, &cnt);
	if (bc == NULL) {
		free(data);
		return;
	}
	read_eq(bc, "verified/a", etag, 0, len, data, len);
	wait_coarse_past_now(); /* past the tick the files were stamped in */
	g0 = cnt_gets(cnt);
	/* alternate blocks so that each read misses the one hot block:
	 * the first read of each verifies it, the others read a range */
	for (int round = 0; round < 3; round++)
		for (size_t b = 0; b < 3; b++) {
			size_t off = b * BS + 1000 * (size_t)round + 7;

			ok = ok && read_eq(bc, "verified/a", etag, off, 3000,
					   data + off, 3000);
		}
	ok = ok && read_eq(bc, "verified/a", etag, BS - 100, 200,
			   data + BS - 100, 200);
	bfs_blockcache_get_stats(bc, &bst);
	tap_ok(ok && cnt_gets(cnt) == g0 && bst.corrupt == 0,
	       "blockcache: ranges of verified blocks read from disk are right "
	       "(%u GETs)",
	       cnt_gets(cnt) - g0);
	tap_ok(bst.checked == 0,
	       "blockcache: blocks this instance wrote are not read whole to "
	       "check them again (%llu checked)",
	       (unsigned long long)bst.checked);
	n = corrupt_all();
	g0 = cnt_gets(cnt);
	ok = read_each_block(bc, "verified/a", etag, data, 0, BS, 3);
	bfs_blockcache_get_stats(bc, &bst);
	tap_ok(n == 3 && ok && bst.corrupt >= 2 && cnt_gets(cnt) >= g0 + 2,
	       "blockcache: a verified block damaged later is not served "
	       "(%llu dropped, %u GETs)",
	       (unsigned long long)bst.corrupt, cnt_gets(cnt) - g0);
	bc->shutdown(bc);
	bc->destroy(bc);
	free(data);
}

/* Whether the len bytes at off of fd are want. */
static bool file_has(int fd, uint64_t off, const char *want, size_t len)
{
	char *b = bfs_xmalloc(len);
	bool ok = pread(fd, b, len, (off_t)off) == (ssize_t)len &&
		  memcmp(b, want, len) == 0;

	free(b);
	return ok;
}

/* A get_range of its own (a test's fault layer): bytes of file parts
 * would bypass it. */
static int own_get_range(struct bfs_store *s, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got,
			 const char *if_match)
{
	return s->inner->get_range(s->inner, key, off, len, buf, got, if_match);
}

static void plain_destroy(struct bfs_store *s)
{
	bfs_store_undecorate(s);
	free(s);
}

/*
 * get_range_parts: bytes of blocks this instance checked or wrote stay
 * in their files, for the FUSE layer to splice; a block in memory is
 * copied. A layer with no get_range of its own passes parts down; one
 * with its own does not (the bytes would bypass it).
 */
static void test_file_parts(struct bfs_store *mem)
{
	size_t len = 3 * BS;
	char *data = bfs_xmalloc(len), *buf = bfs_xmalloc(BS);
	char etag[BFS_ETAG_MAX], sentinel[BS];
	struct bfs_file_parts parts = {0};
	struct bfs_store *bc, *pass, *own;
	struct cnt *cnt;
	size_t got = 0;
	int rc, fd0;

	memset(sentinel, 0xee, sizeof(sentinel));
	bc = one_hot_open(mem, "parts/a", data, len, etag, 15, &cnt);
	if (bc == NULL)
		goto out;
	read_eq(bc, "parts/a", etag, 0, len, data, len);
	bfs_blockcache_drain(bc); /* admitted behind the reader */
	/* blocks 0 and 1 on disk, block 2 the one hot block */
	memset(buf, 0xee, BS);
	rc = bfs_store_read_parts(bc, "parts/a", BS / 2, BS, buf, &got, etag,
				  &parts);
	tap_ok(rc == 0 && got == BS && parts.n == 2 && parts.v[0].at == 0 &&
		       parts.v[0].len == BS / 2 &&
		       parts.v[0].off == HDR + BS / 2 &&
		       parts.v[1].at == BS / 2 && parts.v[1].len == BS / 2 &&
		       parts.v[1].off == HDR,
	       "blockcache: a read across two blocks on disk is two file "
	       "parts (rc %d, %u parts)",
	       rc, parts.n);
	tap_ok(parts.n == 2 &&
		       file_has(parts.v[0].fd, parts.v[0].off, data + BS / 2,
				BS / 2) &&
		       file_has(parts.v[1].fd, parts.v[1].off, data + BS,
				BS / 2) &&
		       memcmp(buf, sentinel, BS) == 0,
	       "blockcache: the parts hold the read's bytes, none copied into "
	       "the buffer");
	fd0 = parts.n ? parts.v[0].fd : -1;
	bfs_file_parts_close(&parts);
	tap_ok(parts.n == 0 && fd0 >= 0 && fcntl(fd0, F_GETFD) == -1 &&
		       errno == EBADF,
	       "blockcache: bfs_file_parts_close() closes the files");
	rc = bfs_store_read_parts(bc, "parts/a", 2 * BS + 10, 1000, buf, &got,
				  etag, &parts);
	tap_ok(rc == 0 && got == 1000 && parts.n == 0 &&
		       memcmp(buf, data + 2 * BS + 10, 1000) == 0,
	       "blockcache: a read of the block in memory is copied (%u "
	       "parts)",
	       parts.n);
	bfs_file_parts_close(&parts);

	pass = bfs_xcalloc(1, sizeof(*pass));
	pass->destroy = plain_destroy;
	bfs_store_decorate(pass, NULL, bc, "pass", "pass");
	own = bfs_xcalloc(1, sizeof(*own));
	own->get_range = own_get_range;
	own->destroy = plain_destroy;
	bfs_store_decorate(own, NULL, pass, "own", "own");
	memset(buf, 0xee, BS);
	rc = bfs_store_read_parts(pass, "parts/a", 0, BS, buf, &got, etag,
				  &parts);
	tap_ok(pass->get_range_parts && rc == 0 && got == BS && parts.n == 1 &&
		       file_has(parts.v[0].fd, parts.v[0].off, data, BS),
	       "store: a layer with no get_range of its own passes file parts "
	       "down");
	bfs_file_parts_close(&parts);
	rc = bfs_store_read_parts(own, "parts/a", 0, BS, buf, &got, etag,
				  &parts);
	tap_ok(own->get_range_parts == NULL && rc == 0 && got == BS &&
		       parts.n == 0 && memcmp(buf, data, BS) == 0,
	       "store: one with its own get_range does not: its caller gets "
	       "the bytes");
	bfs_file_parts_close(&parts);
	bc->shutdown(bc);
	own->destroy(own); /* and pass and bc under it */
out:
	free(data);
	free(buf);
}

/*
 * A block this instance wrote is served by range at once, with no
 * check of its data; a write into its file right after, within the
 * clock tick it was written in, is still found: the write changes the
 * mtime its admission set (bfs_blockfile_write()).
 */
static void test_written_then_damaged(struct bfs_store *mem)
{
	size_t len = 3 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_blockcache_stats bst;
	struct cnt *cnt;
	struct bfs_store *bc;
	bool ok;
	unsigned g0;
	int n;

	bc = one_hot_open(mem, "written/a", data, len, etag, 15, &cnt);
	if (bc == NULL) {
		free(data);
		return;
	}
	read_eq(bc, "written/a", etag, 0, len, data, len);
	bfs_blockcache_drain(bc); /* admitted behind the reader */
	n = corrupt_all();	  /* no wait: within the tick, likely */
	g0 = cnt_gets(cnt);
	ok = read_each_block(bc, "written/a", etag, data, 10, 100, 3);
	bfs_blockcache_get_stats(bc, &bst);
	tap_ok(n == 3 && ok && bst.corrupt >= 2 && cnt_gets(cnt) >= g0 + 2,
	       "blockcache: a block written, then damaged at once, is not "
	       "served (%llu dropped, %u GETs)",
	       (unsigned long long)bst.corrupt, cnt_gets(cnt) - g0);
	bc->shutdown(bc);
	bc->destroy(bc);
	free(data);
}

static void test_limit(struct bfs_store *mem)
{
	uint64_t limit = 4 * (BS + HDR) + 100;
	size_t len = 16 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct bfs_blockcache_stats bst;
	uint64_t blocks = 0, bytes = 0, total = 0, peak = 0;
	struct cache_stack st;
	bool ok = true;

	fresh_obj(mem, "limit/a", data, len, 4, etag);
	if (stack_open(&st, mem, limit, false, 0, false, 0) != 0) {
		tap_ok(0, "blockcache: starts with a small limit");
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t off = 0; off < len; off += BS) {
			struct disk d;

			ok = ok && read_eq(st.top, "limit/a", etag, off, BS,
					   data + off, BS);
			/* a block is admitted behind its reader: files being
			 * written are outside the limit until then */
			bfs_blockcache_drain(st.bc);
			d = du_blocks();
			peak = BFS_MAX(peak, d.bytes);
		}
	}
	bfs_blockcache_get_stats(st.bc, &bst);
	tap_ok(ok, "blockcache: reading 4x the limit returns the right bytes");
	tap_ok(peak <= limit && bst.evictions >= 12,
	       "blockcache: the files never exceed the limit (peak %llu of "
	       "%llu, %llu evictions)",
	       (unsigned long long)peak, (unsigned long long)limit,
	       (unsigned long long)bst.evictions);
	bfs_blockcache_usage(cache_dir, "b1", &blocks, &bytes, &total);
	tap_ok(blocks == 4 && bytes == du_blocks().bytes && total == bytes,
	       "blockcache: index, byte count and files agree (%llu blocks, "
	       "%llu bytes)",
	       (unsigned long long)blocks, (unsigned long long)bytes);
	cache_stack_close(&st);
	stack_open(&st, mem, 2 * (BS + HDR), false, 0, false, 0);
	bfs_blockcache_usage(cache_dir, "b1", &blocks, &bytes, &total);
	tap_ok(blocks == 2 && du_blocks().bytes == 2 * (BS + HDR),
	       "blockcache: a smaller limit at start evicts down to it");
	cache_stack_close(&st);
	free(data);
}

static void test_etag_change(struct bfs_store *mem)
{
	size_t len = BS + 500;
	char *v1 = bfs_xmalloc(len), *v2 = bfs_xmalloc(len);
	char e1[BFS_ETAG_MAX], e2[BFS_ETAG_MAX], buf[100];
	struct cache_stack st;
	unsigned g0;
	size_t got;
	int rc;

	fill(v1, len, 5);
	fill(v2, len, 6);
	put_obj(mem, "etag/a", v1, len, e1);
	if (stack_open(&st, mem, 0, false, 0, false, 0) != 0) {
		tap_ok(0, "blockcache: starts for the ETag case");
		return;
	}
	read_eq(st.top, "etag/a", e1, 0, len, v1, len);
	put_obj(mem, "etag/a", v2, len, e2); /* another client's write */
	g0 = cnt_gets(st.cnt);
	tap_ok(strcmp(e1, e2) != 0 &&
		       read_eq(st.top, "etag/a", e2, 0, len, v2, len) &&
		       cnt_gets(st.cnt) == g0 + 2,
	       "blockcache: a new ETag never meets the old blocks");
	cache_stack_close(&st);
	stack_open(&st, mem, 0, false, 0, false, 0);
	tap_ok(read_eq(st.top, "etag/a", e2, 0, len, v2, len),
	       "blockcache: after a restart the new version is served");
	rc = st.top->get_range(st.top, "etag/b-none", 0, sizeof(buf), buf, &got,
			       e1);
	tap_ok(rc == ENOENT || rc == ESTALE,
	       "blockcache: a missing object is an error, not a hit");
	cache_stack_close(&st);
	free(v1);
	free(v2);
}

static void test_fault(struct bfs_store *mem)
{
	size_t len = BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX], buf[64];
	struct cache_stack st;
	size_t got;
	int rc;

	fill(data, len, 7);
	put_obj(mem, "fault/a", data, len, etag);
	if (stack_open(&st, mem, 0, false, 0, false, 0) != 0) {
		tap_ok(0, "blockcache: starts for the fault case");
		return;
	}
	/* every GET fails while the read runs: a small read is served by a
	 * ranged GET while its block is fetched behind it, and either may
	 * reach the store first */
	pthread_mutex_lock(&st.cnt->lock);
	st.cnt->fail_gets = 1000;
	pthread_mutex_unlock(&st.cnt->lock);
	rc = st.top->get_range(st.top, "fault/a", 0, sizeof(buf), buf, &got,
			       etag);
	pthread_mutex_lock(&st.cnt->lock);
	st.cnt->fail_gets = 0;
	pthread_mutex_unlock(&st.cnt->lock);
	tap_ok(rc == EIO && read_eq(st.top, "fault/a", etag, 0, len, data, len),
	       "blockcache: a failed fetch is an error and is not cached");
	cache_stack_close(&st);
	free(data);
}

/* A child process reading through its own stack on the same dir. */
static int child_reader(struct bfs_store *mem, const char *key,
			const char *etag, const char *data, size_t len)
{
	struct cache_stack st;
	bool ok = true;

	if (stack_open(&st, mem, 6 * (BS + HDR), true, 4 * BS, true, 5) != 0)
		return 2;
	for (int i = 0; i < 30 && ok; i++) {
		size_t off = (size_t)(i * 7919 * 13) % len;
		size_t n = BFS_MIN(len - off, (size_t)3 * BS);

		ok = read_eq(st.top, key, etag, off, n, data + off, n);
	}
	cache_stack_close(&st);
	return ok ? 0 : 1;
}

static void test_two_processes(struct bfs_store *mem)
{
	size_t len = 12 * BS + 77;
	char *a = bfs_xmalloc(len), *b = bfs_xmalloc(len);
	char ea[BFS_ETAG_MAX], eb[BFS_ETAG_MAX];
	uint64_t blocks = 0, bytes = 0, total = 0;
	struct cache_stack st;
	pid_t pid;
	int status = -1;
	bool ok;

	fill(a, len, 8);
	fill(b, len, 9);
	put_obj(mem, "two/a", a, len, ea);
	put_obj(mem, "two/b", b, len, eb);
	/* no environment is open here: the child opens its own */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc = child_reader(mem, "two/a", ea, a, len);

		rc = rc ? rc : child_reader(mem, "two/b", eb, b, len);
		_exit(rc);
	}
	ok = child_reader(mem, "two/b", eb, b, len) == 0 &&
	     child_reader(mem, "two/a", ea, a, len) == 0;
	waitpid(pid, &status, 0);
	tap_ok(ok && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "two processes on one dir read the right bytes (child status "
	       "%d)",
	       status);
	bfs_blockcache_usage(cache_dir, NULL, &blocks, &bytes, &total);
	tap_ok(total == bytes && bytes == du_blocks().bytes &&
		       bytes <= 6 * (BS + HDR),
	       "two processes keep index, count and files in agreement "
	       "(%llu blocks, %llu bytes, count %llu, files %llu)",
	       (unsigned long long)blocks, (unsigned long long)bytes,
	       (unsigned long long)total,
	       (unsigned long long)du_blocks().bytes);
	stack_open(&st, mem, 6 * (BS + HDR), true, 4 * BS, true, 5);
	tap_ok(read_eq(st.top, "two/a", ea, 0, len, a, len) &&
		       read_eq(st.top, "two/b", eb, 0, len, b, len),
	       "two processes leave a cache that serves the right bytes");
	cache_stack_close(&st);
	free(a);
	free(b);
}

static void test_prefetch(struct bfs_store *mem)
{
	size_t len = 24 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX], err[256];
	char retag[BFS_ETAG_MAX];
	struct bfs_prefetch_stats pst;
	struct bfs_blockcache_stats bst;
	struct cache_stack st;
	bool ok = true;
	unsigned g;

	fresh_obj(mem, "pf/a", data, len, 10, etag);
	put_obj(mem, "pf/r", data, len, retag);
	if (stack_open(&st, mem, 0, true, 4 * BS, false, 0) != 0) {
		tap_ok(0, "prefetch: starts");
		return;
	}
	st.cnt->delay_us = 2000;
	for (size_t off = 0; off < len; off += 16384)
		ok = ok && read_eq(st.top, "pf/a", etag, off, 16384, data + off,
				   16384);
	bfs_prefetch_drain(st.top);
	g = cnt_gets(st.cnt);
	bfs_prefetch_get_stats(st.top, &pst);
	bfs_blockcache_get_stats(st.bc, &bst);
	tap_ok(ok, "prefetch: a sequential read returns the right bytes");
	tap_ok(st.cnt->bytes == len,
	       "prefetch: each block is fetched once (%llu bytes of %zu)",
	       (unsigned long long)st.cnt->bytes, len);
	tap_ok(g < 24,
	       "prefetch: the window is fetched in runs of blocks "
	       "(%u GETs for 24 blocks)",
	       g);
	tap_ok(bst.prefetched > 0 && pst.sequential > 0,
	       "prefetch: blocks are fetched ahead (%llu ahead, %llu by the "
	       "reader)",
	       (unsigned long long)bst.prefetched,
	       (unsigned long long)bst.misses);
	tap_ok(st.cnt->peak <= 4 + 1 && pst.inflight_peak <= 4 * BS,
	       "prefetch: fetches in flight stay under max_inflight (peak %u "
	       "GETs)",
	       st.cnt->peak);
	cache_stack_close(&st);

	/* scattered random reads (one per group of 4 blocks): each is one
	 * ranged GET of the 32 KiB piece it falls in, no block */
	bfs_blockcache_clear(cache_dir, NULL, NULL, NULL, err, sizeof(err));
	stack_open(&st, mem, 0, true, 4 * BS, false, 0);
	{
		static const unsigned blocks[] = {17, 3, 11, 20, 6, 14};
		const size_t piece = 32768;

		for (size_t i = 0; i < BFS_ARRAY_SIZE(blocks); i++) {
			size_t off = blocks[i] * BS + 4096;

			ok = ok && read_eq(st.top, "pf/a", etag, off, 4096,
					   data + off, 4096);
		}
		bfs_prefetch_drain(st.top);
		g = cnt_gets(st.cnt);
		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && g == BFS_ARRAY_SIZE(blocks) &&
			       bst.ranged == BFS_ARRAY_SIZE(blocks) &&
			       bst.pieces == BFS_ARRAY_SIZE(blocks) &&
			       bst.misses + bst.prefetched == 0 &&
			       st.cnt->bytes == BFS_ARRAY_SIZE(blocks) * piece,
		       "prefetch: scattered random reads fetch only the pieces "
		       "they read, no block (%u GETs, %llu bytes for %zu "
		       "reads)",
		       g, (unsigned long long)st.cnt->bytes,
		       BFS_ARRAY_SIZE(blocks));
		/* a read of the same piece again, at other bytes: from the
		 * kept piece; it fell into block 17, read before, so reads
		 * cluster there and the block comes behind the reader (its
		 * GET may start before the read returns: count after) */
		ok = read_eq(st.top, "pf/a", etag, 17 * BS + 100, 4096,
			     data + 17 * BS + 100, 4096);
		bfs_prefetch_drain(st.top);
		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && bst.piece_hits == 1 &&
			       bst.ranged == BFS_ARRAY_SIZE(blocks),
		       "prefetch: a small read inside a kept piece is served "
		       "by it (%llu piece hits, %llu ranged GETs)",
		       (unsigned long long)bst.piece_hits,
		       (unsigned long long)bst.ranged);
		tap_ok(bst.prefetched == 1 && cnt_gets(st.cnt) == g + 1,
		       "prefetch: a second read into a block fetches the block "
		       "(%llu blocks, %u GETs)",
		       (unsigned long long)bst.prefetched, cnt_gets(st.cnt));
		g = cnt_gets(st.cnt);
		/* a read next to a block read before (3: group 0): two of
		 * its 8 random reads fell near earlier ones, so they
		 * cluster, and 7 of the 20 blocks from the lowest to the
		 * highest were read: the region [1, 21) comes whole, widened
		 * by 20 / 6 on each side (the object's 24 blocks), each block
		 * once (17 was there) */
		ok = read_eq(st.top, "pf/a", etag, 1 * BS + 10, 100,
			     data + 1 * BS + 10, 100);
		bfs_prefetch_drain(st.top);
		g = cnt_gets(st.cnt);
		for (unsigned b = 1; b < 21; b += 3)
			ok = ok && read_eq(st.top, "pf/a", etag, b * BS + 10,
					   100, data + b * BS + 10, 100);
		bfs_prefetch_drain(st.top);
		bfs_prefetch_get_stats(st.top, &pst);
		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && cnt_gets(st.cnt) == g && bst.misses == 0 &&
			       bst.prefetched == 24 &&
			       st.cnt->bytes == 7 * piece + 24 * BS,
		       "prefetch: clustered random reads dense in their region "
		       "fetch the region, each block once (%llu blocks, %llu "
		       "bytes)",
		       (unsigned long long)bst.prefetched,
		       (unsigned long long)st.cnt->bytes);
	}

	/* a dense random reader: its region grows with its reads, and
	 * each read that widens it fetches the new blocks behind it
	 * ([0, 21) widened by 21 / 4: 26 blocks; then [0, 41) by 41 / 5,
	 * to the end of the object's 48) */
	{
		size_t clen = 48 * BS;
		char *cdata = bfs_xmalloc(clen), cetag[BFS_ETAG_MAX];
		/* 5 lone reads, then 4 into blocks read before (each read
		 * starts a stream, 4 are kept: these match none) */
		static const unsigned blocks[] = {0, 5, 10, 15, 20,
						  0, 5, 10, 15};
		uint64_t p0, before;

		bfs_blockcache_get_stats(st.bc, &bst);
		before = bst.prefetched;
		fill(cdata, clen, 11);
		put_obj(mem, "pf/c", cdata, clen, cetag);
		for (size_t i = 0; i < BFS_ARRAY_SIZE(blocks); i++) {
			size_t off = blocks[i] * BS + 8192;

			ok = ok && read_eq(st.top, "pf/c", cetag, off, 4096,
					   cdata + off, 4096);
		}
		bfs_prefetch_drain(st.top);
		bfs_blockcache_get_stats(st.bc, &bst);
		p0 = bst.prefetched - before;
		g = cnt_gets(st.cnt);
		ok = ok && read_eq(st.top, "pf/c", cetag, 40 * BS + 8192, 4096,
				   cdata + 40 * BS + 8192, 4096);
		bfs_prefetch_drain(st.top);
		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && p0 == 26 && bst.prefetched - before - p0 == 22 &&
			       cnt_gets(st.cnt) == g + 1 + 22,
		       "prefetch: a dense reader's region grows with its reads "
		       "(%llu blocks, then %llu more with %u GETs)",
		       (unsigned long long)p0,
		       (unsigned long long)(bst.prefetched - before - p0),
		       cnt_gets(st.cnt) - g);
		free(cdata);
	}
	/* a Parquet reader's open: the footer's length (the last 8
	 * bytes), then the footer before it: one GET, of the object's last
	 * blocks (prefetch.h: the tail), however soon the second read comes
	 * (test_duck_prefetch has the Parquet cases) */
	{
		char tetag[BFS_ETAG_MAX];
		uint64_t r0;

		put_obj(mem, "pf/t", data, len, tetag);
		bfs_blockcache_get_stats(st.bc, &bst);
		r0 = bst.ranged;
		g = cnt_gets(st.cnt);
		ok = read_eq(st.top, "pf/t", tetag, len - 8, 8, data + len - 8,
			     8) &&
		     read_eq(st.top, "pf/t", tetag, len - 8 - 20000, 20000,
			     data + len - 8 - 20000, 20000);
		bfs_prefetch_drain(st.top);
		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && bst.ranged == r0 && cnt_gets(st.cnt) == g + 1,
		       "tail: a footer's length and the footer cost one GET "
		       "(%u GETs, %llu ranged)",
		       cnt_gets(st.cnt) - g,
		       (unsigned long long)(bst.ranged - r0));
	}
	/* `cat` of a small file: its first read, at 0, gets it whole (a
	 * piece) and reaches the end: nothing is fetched ahead of it */
	{
		char setag[BFS_ETAG_MAX];

		put_obj(mem, "pf/small", data, 3000, setag);
		g = cnt_gets(st.cnt);
		ok = read_eq(st.top, "pf/small", setag, 0, 4096, data, 3000);
		bfs_prefetch_drain(st.top);
		tap_ok(ok && cnt_gets(st.cnt) == g + 1,
		       "prefetch: a first read that reaches the end of a small "
		       "object is its only GET (%u GETs)",
		       cnt_gets(st.cnt) - g);
	}
	/* lone reads of another object: pieces, kept for the restart */
	{
		static const unsigned blocks[] = {2, 9, 17};

		for (size_t i = 0; i < BFS_ARRAY_SIZE(blocks); i++) {
			size_t off = blocks[i] * BS + 4096;

			ok = ok && read_eq(st.top, "pf/r", retag, off, 4096,
					   data + off, 4096);
		}
		bfs_prefetch_drain(st.top);
	}
	cache_stack_close(&st);

	/* after a restart the kept pieces serve the same reads again */
	stack_open(&st, mem, 0, true, 4 * BS, false, 0);
	{
		static const unsigned blocks[] = {2, 9, 17};

		g = cnt_gets(st.cnt);
		for (size_t i = 0; i < BFS_ARRAY_SIZE(blocks); i++) {
			size_t off = blocks[i] * BS + 4096;

			ok = ok && read_eq(st.top, "pf/r", retag, off, 4096,
					   data + off, 4096);
		}
		bfs_prefetch_drain(st.top);
		bfs_blockcache_get_stats(st.bc, &bst);
		tap_ok(ok && cnt_gets(st.cnt) == g &&
			       bst.piece_hits == BFS_ARRAY_SIZE(blocks),
		       "prefetch: pieces are kept across a restart (%u GETs, "
		       "%llu piece hits)",
		       cnt_gets(st.cnt) - g,
		       (unsigned long long)bst.piece_hits);
	}
	cache_stack_close(&st);
	free(data);
}

static int find_stats(void *arg, const struct bfs_stats_record *r)
{
	int *found = arg;

	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->layer, BFS_STATS_LAYER_BLOCKS) == 0 &&
		    strcmp(r->c[i].name, "hits") == 0 && r->c[i].value > 0 &&
		    r->alive)
			(*found)++;
	return 0;
}

/*
 * A reader at the top of an object has its next block in flight while it
 * waits for its own (prefetch.c, observe_early). Seen only once a read had
 * its bytes, each of a stream's first blocks was asked for after the one
 * before had come: a round trip each, one GET at a time.
 */
struct run_arg {
	struct cache_stack *st;
	const char *key, *etag;
	const char *want; /* read_eq: BS bytes at 0 */
	int rc;
	bool ok, done;
	unsigned parts; /* how many file parts the read was given */
};

/* read_eq with file parts (the FUSE layer's read): the parts' bytes are
 * read from their files; *nparts receives how many there were. */
static bool read_parts_eq(struct bfs_store *s, const char *key,
			  const char *etag, uint64_t off, size_t len,
			  const char *want, unsigned *nparts)
{
	char *buf = bfs_xmalloc(len);
	struct bfs_file_parts parts = {0};
	size_t got = 0;
	bool ok;
	int rc =
		bfs_store_read_parts(s, key, off, len, buf, &got, etag, &parts);

	ok = rc == 0 && got == len;
	for (unsigned i = 0; ok && i < parts.n; i++)
		ok = pread(parts.v[i].fd, buf + parts.v[i].at, parts.v[i].len,
			   (off_t)parts.v[i].off) == (ssize_t)parts.v[i].len;
	ok = ok && memcmp(buf, want, len) == 0;
	*nparts = parts.n;
	bfs_file_parts_close(&parts);
	free(buf);
	return ok;
}

static void *run_prefetch(void *arg)
{
	struct run_arg *a = arg;

	a->rc = bfs_blockcache_prefetch(a->st->bc, a->key, a->etag, 0, 8);
	return NULL;
}

static void *run_read0(void *arg)
{
	struct run_arg *a = arg;

	a->ok = read_eq(a->st->bc, a->key, a->etag, 0, BS, a->want, BS);
	__atomic_store_n(&a->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/* reads block 1 (a->want: its bytes) with file parts */
static void *run_read1(void *arg)
{
	struct run_arg *a = arg;

	a->ok = read_parts_eq(a->st->bc, a->key, a->etag, BS, BS, a->want,
			      &a->parts);
	return NULL;
}

/* Wait until a reader waits for a block being fetched (at most 10 s). */
static bool wait_waiter(struct bfs_store *bc)
{
	struct bc_priv *p = bc_priv_of(bc);
	bool any = false;

	for (int i = 0; i < 2000 && !any; i++) {
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		for (struct flight *f = p->flights; f && !any; f = f->next)
			any = f->waiters > 0;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		if (!any)
			usleep(5000);
	}
	return any;
}

/* A run of 8 blocks is one GET; the store below tells its bytes a
 * block at a time and stops after the first. A reader of the first
 * block has it then, not once the run is whole: from its file, which
 * the FUSE layer sends on without a copy, in a cache of cache_size
 * bytes that holds what is in flight; from memory in a smaller one (a
 * block could be evicted before its reader looks). */
static void test_run_lands_early(struct bfs_store *mem, uint64_t cache_size)
{
	size_t len = 8 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct cache_stack st;
	struct run_arg a = {.st = &st, .key = "run/early", .etag = etag};
	struct run_arg a1 = a;
	bool small = cache_size < SMALL_CACHE_BYTES;
	pthread_t fetcher, reader, reader1;
	bool held, early = false, waited, ok;

	fresh_obj(mem, a.key, data, len, small ? 14 : 16, etag);
	a.want = data;
	a1.want = data + BS;
	if (stack_open(&st, mem, cache_size, false, 0, false, 0) != 0) {
		tap_ok(0, "run lands early: starts");
		free(data);
		return;
	}
	st.cnt->land_step = BS;
	st.cnt->hold = true;
	pthread_create(&fetcher, NULL, run_prefetch, &a);
	held = cnt_wait_held(st.cnt, 1);
	pthread_create(&reader, NULL, run_read0, &a);
	for (int i = 0; held && i < 1000 && !early; i++) {
		early = __atomic_load_n(&a.done, __ATOMIC_SEQ_CST);
		if (!early)
			usleep(5000);
	}
	pthread_create(&reader1, NULL, run_read1, &a1);
	waited = held && wait_waiter(st.bc);
	cnt_release(st.cnt);
	pthread_join(reader, NULL);
	pthread_join(reader1, NULL);
	pthread_join(fetcher, NULL);
	tap_ok(held && early && a.ok && st.cnt->gets == 1,
	       "block cache: the first block of a run is read while the "
	       "rest is on its way (held %d, read before the end %d, %u GETs)",
	       held, early, st.cnt->gets);
	tap_ok(waited && a1.ok && a1.parts == (small ? 0u : 1u),
	       "block cache: a reader waiting for a block of the run gets it "
	       "from %s (waited %d, %u file parts)",
	       small ? "memory in a small cache" : "its file in a large one",
	       waited, a1.parts);
	ok = a.rc == 0;
	for (size_t off = 0; off < len && ok; off += BS)
		ok = read_eq(st.bc, a.key, etag, off, BS, data + off, BS);
	tap_ok(ok && st.cnt->gets == 1 && st.cnt->bytes == len,
	       "block cache: ... and every block of the run is cached once "
	       "(%u GETs, %llu bytes)",
	       st.cnt->gets, (unsigned long long)st.cnt->bytes);
	cache_stack_close(&st);
	free(data);
}

/* Fetch run [0, n) of key and read all of it back: ok and GETs. */
static bool ring_run(struct cache_stack *st, const char *key, const char *etag,
		     const char *data, size_t len, unsigned *gets)
{
	unsigned g0 = st->cnt->gets;
	int rc = bfs_blockcache_prefetch(st->bc, key, etag, 0,
					 (len + BS - 1) / BS);
	bool ok = rc == 0 && read_eq(st->bc, key, etag, 0, len, data, len);

	*gets = st->cnt->gets - g0;
	return ok;
}

/*
 * A run longer than RING_BLOCKS goes through a ring of that many blocks,
 * each landed before its room is written again; the object's short last
 * block lands from the ring at the end. A store whose answers cannot be
 * told as they come (ENOBUFS) has the run asked again whole, and no
 * ring from then on.
 */
static void test_ring(struct bfs_store *mem)
{
	size_t len = 8 * BS + BS / 2;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct cache_stack st;
	unsigned gets = 0;
	bool ok;

	if (stack_open(&st, mem, 1ull << 30, false, 0, false, 0) != 0) {
		tap_ok(0, "ring: starts");
		free(data);
		return;
	}
	fresh_obj(mem, "ring/a", data, len, 21, etag);
	ok = ring_run(&st, "ring/a", etag, data, len, &gets);
	tap_ok(ok && gets == 1 && st.cnt->ring_seen == RING_BLOCKS * BS &&
		       !bc_priv_of(st.bc)->ring_off,
	       "block cache: a run of 9 blocks through a ring of %u is one "
	       "GET and every byte right (%u GETs, ring %zu bytes)",
	       RING_BLOCKS, gets, st.cnt->ring_seen);
	st.cnt->untold = true;
	fresh_obj(mem, "ring/b", data, len, 22, etag);
	ok = ring_run(&st, "ring/b", etag, data, len, &gets);
	tap_ok(ok && gets == 2 && bc_priv_of(st.bc)->ring_off,
	       "block cache: answers that cannot be told as they come are "
	       "asked again whole (%u GETs)",
	       gets);
	fresh_obj(mem, "ring/c", data, len, 23, etag);
	ok = ring_run(&st, "ring/c", etag, data, len, &gets);
	tap_ok(ok && gets == 1,
	       "block cache: ... and no ring is tried again (%u GETs)", gets);
	cache_stack_close(&st);
	free(data);
}

static void test_prefetch_early(struct bfs_store *mem)
{
	size_t len = 16 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX];
	struct cache_stack st;
	unsigned peak;
	bool ok;

	fresh_obj(mem, "pf/early", data, len, 12, etag);
	if (stack_open(&st, mem, 0, true, 16 * BS, false, 0) != 0) {
		tap_ok(0, "prefetch early: starts");
		free(data);
		return;
	}
	/* long enough for a thread to take the next block meanwhile */
	st.cnt->delay_us = 100000;
	ok = read_eq(st.top, "pf/early", etag, 0, BS, data, BS);
	pthread_mutex_lock(&st.cnt->lock);
	peak = st.cnt->peak;
	pthread_mutex_unlock(&st.cnt->lock);
	tap_ok(ok && peak >= 2,
	       "prefetch: a reader at the top has its next block in flight "
	       "while it waits for its own (%u GETs at once)",
	       peak);
	bfs_prefetch_drain(st.top);
	/* a whole block at the top opens the first window (8 MiB, here the
	 * 16 blocks of max_window) at once, a quarter per GET */
	tap_ok(ok && st.cnt->bytes == len && st.cnt->gets == 5,
	       "prefetch: that first read fetches the first window at once "
	       "(%u GETs at once, %u GETs, %llu bytes of %zu)",
	       peak, st.cnt->gets, (unsigned long long)st.cnt->bytes, len);
	st.cnt->delay_us = 0;
	for (size_t off = BS; off < len && ok; off += BS)
		ok = read_eq(st.top, "pf/early", etag, off, BS, data + off, BS);
	bfs_prefetch_drain(st.top);
	tap_ok(ok && st.cnt->bytes == len,
	       "prefetch: the rest follows, each block fetched once (%llu "
	       "bytes of %zu)",
	       (unsigned long long)st.cnt->bytes, len);
	cache_stack_close(&st);
	free(data);
}

/* First bytes fetched by a first read of len at the top of a fresh
 * 16-block object, once the prefetcher is idle. */
static uint64_t first_read_fetch(struct bfs_store *mem, const char *key,
				 unsigned seed, size_t len)
{
	size_t olen = 16 * BS;
	char *data = bfs_xmalloc(olen), etag[BFS_ETAG_MAX];
	struct cache_stack st;
	uint64_t bytes = 0;

	fresh_obj(mem, key, data, olen, seed, etag);
	if (stack_open(&st, mem, 0, true, 16 * BS, false, 0) == 0) {
		if (read_eq(st.top, key, etag, 0, len, data, len)) {
			bfs_prefetch_drain(st.top);
			bytes = st.cnt->bytes;
		}
		cache_stack_close(&st);
	}
	free(data);
	return bytes;
}

/*
 * Without root the kernel's read-ahead stays at 128 KiB, less than a
 * block: the mount tells the prefetcher (bfs_prefetch_set_readahead),
 * and a first read of all of it opens the first window as a whole
 * block would; a smaller one (head, file) does not.
 */
static void test_prefetch_readahead(struct bfs_store *mem)
{
	uint64_t whole, part, before;

	before = first_read_fetch(mem, "pf/ra0", 30, BS / 4);
	bfs_prefetch_set_readahead(BS / 4);
	whole = first_read_fetch(mem, "pf/ra1", 31, BS / 4);
	part = first_read_fetch(mem, "pf/ra2", 32, BS / 8);
	bfs_prefetch_set_readahead(0);
	tap_ok(before < 4 * BS,
	       "prefetch: a first read of a quarter block opens one block "
	       "when the read-ahead is not known (%llu bytes fetched)",
	       (unsigned long long)before);
	tap_ok(whole == 16 * BS,
	       "prefetch: ... and the first window when it is the mount's "
	       "whole read-ahead (%llu bytes of %u)",
	       (unsigned long long)whole, 16 * BS);
	tap_ok(part < 4 * BS,
	       "prefetch: ... but not when it is less (%llu bytes fetched)",
	       (unsigned long long)part);
}

static void test_stats_and_clear(struct bfs_store *mem)
{
	size_t len = 2 * BS;
	char *data = bfs_xmalloc(len), etag[BFS_ETAG_MAX], err[256] = "";
	uint64_t blocks = 0, bytes = 0, total = 0, nmeta = 0;
	char *dir = bfs_xasprintf("%s/meta", cache_dir);
	struct bfs_metadb *db;
	struct bfs_obj_info info = {0};
	struct cache_stack st;
	int found = 0, rc;

	fill(data, len, 11);
	put_obj(mem, "stats/a", data, len, etag);
	stack_open(&st, mem, 0, true, 4 * BS, true, 60);
	read_eq(st.top, "stats/a", etag, 0, len, data, len);
	read_eq(st.top, "stats/a", etag, 0, len, data, len);
	st.top->head(st.top, "stats/a", &info);
	bfs_obj_info_release(&info);
	db = bfs_metadb_open(dir, err, sizeof(err));
	bfs_metadb_tick_now(db);
	bfs_stats_read(db, "b1", find_stats, &found);
	tap_ok(found == 1, "stats: a running cache publishes its record");
	bfs_metadb_close(db);
	cache_stack_close(&st);
	rc = bfs_blockcache_clear(cache_dir, "b1", &blocks, &bytes, err,
				  sizeof(err));
	bfs_metacache_clear(cache_dir, "b1", &nmeta, err, sizeof(err));
	tap_ok(rc == 0 && blocks > 0 && nmeta > 0 && du_blocks().files == 0,
	       "clear: drops the blocks (%llu), their files and the "
	       "metadata (%llu)",
	       (unsigned long long)blocks, (unsigned long long)nmeta);
	bfs_blockcache_usage(cache_dir, NULL, &blocks, &bytes, &total);
	tap_ok(blocks == 0 && total == 0, "clear: the byte count is 0");
	free(dir);
	free(data);
}

/* Does a listing of m/ show key with user metadata mode = want? */
static bool listed_with_mode(struct bfs_store *s, const char *key,
			     const char *want)
{
	struct bfs_list_req req = {.prefix = "m/", .delimiter = "/"};
	struct bfs_list_result res = {0};
	bool ok = false;

	if (s->list(s, &req, &res) != 0)
		return false;
	for (size_t i = 0; i < res.nobjs; i++) {
		const char *m = bfs_meta_get(&res.objs[i].meta, "mode");

		if (strcmp(res.objs[i].key, key) == 0)
			ok = res.objs[i].meta_known && m &&
			     strcmp(m, want) == 0;
	}
	bfs_list_result_release(&res);
	return ok;
}

/*
 * What our own put made is known without a HEAD: head answers it, and a
 * listing of the version it made recalls its metadata; a later version of
 * the same bytes by another client is not taken for it.
 */
static void test_own_put(struct cache_stack *st, struct bfs_store *mem)
{
	struct bfs_meta_list m = {0};
	struct bfs_obj_info info = {0};
	struct bfs_put_req req = {.key = "m/own", .size = 5, .meta = &m};
	char etag[BFS_ETAG_MAX];
	time_t answered = 0;
	unsigned h0;
	int rc;

	req.fd = memfd_create("obj", 0);
	req.answered = &answered;
	if (req.fd < 0 || write(req.fd, "hello", 5) != 5) {
		tap_ok(0, "metacache: own put: a body");
		return;
	}
	bfs_meta_set(&m, "mode", "33188");
	rc = st->top->put(st->top, &req, etag);
	tap_ok(rc == 0 && answered > 0,
	       "metacache: a put tells when the server answered it");
	h0 = st->cnt->heads;
	rc = st->top->head(st->top, "m/own", &info);
	tap_ok(rc == 0 && st->cnt->heads == h0 && info.size == 5 &&
		       strcmp(info.etag, etag) == 0 &&
		       bfs_meta_get(&info.meta, "mode") &&
		       strcmp(bfs_meta_get(&info.meta, "mode"), "33188") == 0,
	       "metacache: head of what we just put asks nobody");
	bfs_obj_info_release(&info);
	tap_ok(listed_with_mode(st->top, "m/own", "33188") &&
		       st->cnt->heads == h0,
	       "metacache: a listing recalls the metadata we put, no HEAD");
	/* another client writes the same bytes with other metadata, two
	 * seconds after our put's answer (by the store's clock, which
	 * stamps Last-Modified in seconds) */
	wait_seconds_until(answered + 2);
	bfs_meta_set(&m, "mode", "33261");
	req.answered = NULL;
	rc = mem->put(mem, &req, NULL);
	/* past dir_ttl the next listing comes from the store, with the
	 * later version (our own writes amend the cached page instead) */
	past_ttl();
	tap_ok(rc == 0 && !listed_with_mode(st->top, "m/own", "33188"),
	       "metacache: a later version of the same bytes is not ours");
	close(req.fd);
	bfs_meta_list_release(&m);
}

static void test_meta(struct bfs_store *mem)
{
	char v1[100], v2[200], e1[BFS_ETAG_MAX], e2[BFS_ETAG_MAX];
	struct bfs_obj_info info = {0};
	struct bfs_list_req req = {.prefix = "m/", .delimiter = "/"};
	struct bfs_list_result res = {0};
	struct cache_stack st;
	unsigned h0, l0;
	bool seen;
	int rc;

	fill(v1, sizeof(v1), 12);
	fill(v2, sizeof(v2), 13);
	put_obj(mem, "m/a", v1, sizeof(v1), e1);
	test_clock = offset_clock;
	if (stack_open(&st, mem, 0, false, 0, true, 30) != 0) {
		tap_ok(0, "metacache: starts");
		return;
	}
	rc = st.top->head(st.top, "m/a", &info);
	bfs_obj_info_release(&info);
	h0 = st.cnt->heads;
	rc = rc ? rc : st.top->head(st.top, "m/a", &info);
	tap_ok(rc == 0 && st.cnt->heads == h0 && info.size == sizeof(v1) &&
		       strcmp(info.etag, e1) == 0,
	       "metacache: a second head within attr_ttl asks nobody");
	bfs_obj_info_release(&info);
	put_obj(mem, "m/a", v2, sizeof(v2), e2); /* another client */
	st.top->head(st.top, "m/a", &info);
	tap_ok(strcmp(info.etag, e1) == 0,
	       "metacache: within attr_ttl the cached answer stands");
	bfs_obj_info_release(&info);
	past_ttl();
	st.top->head(st.top, "m/a", &info);
	tap_ok(strcmp(info.etag, e2) == 0 && info.size == sizeof(v2),
	       "metacache: after attr_ttl the change is seen");
	bfs_obj_info_release(&info);

	rc = st.top->head(st.top, "m/new", &info);
	h0 = st.cnt->heads;
	rc = st.top->head(st.top, "m/new", &info);
	tap_ok(rc == ENOENT && st.cnt->heads == h0,
	       "metacache: a missing key is remembered for neg_ttl");
	l0 = st.cnt->lists;
	st.top->list(st.top, &req, &res);
	bfs_list_result_release(&res);
	st.top->list(st.top, &req, &res);
	bfs_list_result_release(&res);
	tap_ok(st.cnt->lists == l0 + 1,
	       "metacache: a second listing within dir_ttl asks nobody");
	rc = put_obj(st.top, "m/new", v1, sizeof(v1), e1);
	rc = rc ? rc : st.top->head(st.top, "m/new", &info);
	bfs_obj_info_release(&info);
	st.top->list(st.top, &req, &res);
	seen = false;
	for (size_t i = 0; i < res.nobjs; i++)
		seen = seen || strcmp(res.objs[i].key, "m/new") == 0;
	bfs_list_result_release(&res);
	tap_ok(rc == 0 && seen,
	       "metacache: our own put shows at once in head and listing");
	rc = st.top->del(st.top, "m/new");
	rc = rc ? rc : st.top->head(st.top, "m/new", &info);
	tap_ok(rc == ENOENT, "metacache: our own delete shows at once");
	test_own_put(&st, mem);

	/* a listing confirms head entries of unchanged objects, once a HEAD
	 * answered after their Last-Modified second: wait (bounded) until
	 * the store's clock has passed that second, then ask again */
	rc = mem->head(mem, "m/a", &info);
	for (int i = 0; rc == 0 && i < 500 && time(NULL) <= info.mtime.tv_sec;
	     i++)
		usleep(10000);
	bfs_obj_info_release(&info);
	past_ttl();
	st.top->head(st.top, "m/a", &info);
	bfs_obj_info_release(&info);
	past_ttl();
	st.top->list(st.top, &req, &res);
	bfs_list_result_release(&res);
	h0 = st.cnt->heads;
	st.top->head(st.top, "m/a", &info);
	tap_ok(st.cnt->heads == h0 && strcmp(info.etag, e2) == 0,
	       "metacache: a listing with the same ETag keeps a head entry");
	bfs_obj_info_release(&info);
	cache_stack_close(&st);

	/* restart: entries are on disk */
	stack_open(&st, mem, 0, false, 0, true, 30);
	st.top->head(st.top, "m/a", &info);
	bfs_obj_info_release(&info);
	cache_stack_close(&st);
	stack_open(&st, mem, 0, false, 0, true, 30);
	h0 = st.cnt->heads;
	rc = st.top->head(st.top, "m/a", &info);
	tap_ok(rc == 0 && st.cnt->heads == h0 && strcmp(info.etag, e2) == 0,
	       "metacache: a restart keeps the entries");
	bfs_obj_info_release(&info);
	cache_stack_close(&st);
	test_clock = NULL;
}

struct names {
	char **v;
	size_t n;
};

static int name_cb(void *arg, const struct bfs_obj_info *obj,
		   const char *prefix)
{
	struct names *n = arg;

	n->v = bfs_xrealloc(n->v, (n->n + 1) * sizeof(*n->v));
	n->v[n->n++] = bfs_xstrdup(obj ? obj->key : prefix);
	return 0;
}

static bool names_has(const struct names *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->v[i], name) == 0)
			return true;
	return false;
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof(*n));
}

/* The names readdir would show of dir, and how many LISTs that cost. */
static int list_dir(struct cache_stack *st, const char *dir, struct names *out,
		    unsigned *lists)
{
	unsigned l0 = st->cnt->lists;
	int rc;

	names_free(out);
	rc = bfs_store_list_all(st->top, dir, "/", name_cb, out);
	*lists = st->cnt->lists - l0;
	return rc;
}

/* A lookup's probe of key (bucket_view.c): empty? at what cost? */
static bool probe_empty(struct cache_stack *st, const char *key,
			unsigned *lists)
{
	struct bfs_list_req req = {.prefix = key, .max_keys = 8};
	struct bfs_list_result res = {0};
	unsigned l0 = st->cnt->lists;
	bool empty;

	empty = st->top->list(st->top, &req, &res) == 0 && res.nobjs == 0 &&
		res.nprefixes == 0;
	*lists = st->cnt->lists - l0;
	bfs_list_result_release(&res);
	return empty;
}

/*
 * "No such name" from a fresh, complete listing of the directory, and
 * our own writes amending that listing rather than dropping it.
 */
static void test_negatives(struct bfs_store *mem)
{
	char v[10], e[BFS_ETAG_MAX], key[32];
	struct names n = {0};
	struct cache_stack st;
	unsigned l;
	bool empty;
	int rc;

	fill(v, sizeof(v), 3);
	put_obj(mem, "n/a", v, sizeof(v), e);
	put_obj(mem, "n/sub/x", v, sizeof(v), e);
	test_clock = offset_clock;
	if (stack_open(&st, mem, 0, false, 0, true, 30) != 0) {
		tap_ok(0, "negatives: starts");
		return;
	}
	rc = list_dir(&st, "n/", &n, &l);
	tap_ok(rc == 0 && l == 1 && n.n == 2, "negatives: n/ listed");
	empty = probe_empty(&st, "n/new", &l);
	tap_ok(empty && l == 0,
	       "negatives: a name the fresh listing lacks: no request");
	probe_empty(&st, "n/a", &l);
	tap_ok(l == 1, "negatives: a name it shows asks the store");
	probe_empty(&st, "n/su", &l);
	tap_ok(l == 1, "negatives: a name that starts a subdirectory's too");
	put_obj(mem, "n/theirs", v, sizeof(v), e); /* another client */
	empty = probe_empty(&st, "n/theirs", &l);
	tap_ok(empty && l == 0,
	       "negatives: another client's new name unseen in dir_ttl");

	/* our own writes: a file, a directory marker, a rename */
	rc = put_obj(st.top, "n/new", v, 7, e);
	rc = rc ? rc : list_dir(&st, "n/", &n, &l);
	tap_ok(rc == 0 && l == 0 && names_has(&n, "n/new"),
	       "negatives: our own put amends the listing (no LIST)");
	empty = probe_empty(&st, "n/new2", &l);
	tap_ok(empty && l == 0,
	       "negatives: and other names are still answered without one");
	rc = put_obj(st.top, "n/dir/", v, 0, e);
	rc = rc ? rc : list_dir(&st, "n/", &n, &l);
	tap_ok(rc == 0 && l == 0 && names_has(&n, "n/dir/"),
	       "negatives: a marker we put shows as a subdirectory");
	rc = st.top->copy(st.top, "n/new", "n/moved", NULL, NULL, NULL);
	rc = rc ? rc : st.top->del(st.top, "n/new");
	rc = rc ? rc : list_dir(&st, "n/", &n, &l);
	tap_ok(rc == 0 && l == 0 && names_has(&n, "n/moved") &&
		       !names_has(&n, "n/new"),
	       "negatives: a rename (copy + delete) amends it too");
	empty = probe_empty(&st, "n/new", &l);
	tap_ok(empty && l == 0,
	       "negatives: the renamed name is gone without a request");

	past_ttl();
	empty = probe_empty(&st, "n/theirs", &l);
	tap_ok(!empty && l == 1,
	       "negatives: past dir_ttl another client's name is seen");
	rc = list_dir(&st, "n/", &n, &l);
	rc = rc ? rc : st.top->del(st.top, "n/sub/x");
	probe_empty(&st, "n/zz", &l);
	tap_ok(rc == 0 && l == 1,
	       "negatives: a delete below a subdirectory drops the listing");

	/* a listing of two pages: new names go where they sort */
	for (int i = 0; i < 1100; i++) {
		snprintf(key, sizeof(key), "p/k%04d", i);
		put_obj(mem, key, v, sizeof(v), e);
	}
	rc = list_dir(&st, "p/", &n, &l);
	tap_ok(rc == 0 && l == 2 && n.n == 1100, "negatives: p/ is 2 pages");
	empty = probe_empty(&st, "p/k0500x", &l);
	tap_ok(empty && l == 0,
	       "negatives: a name absent from a 2-page listing: no request");
	rc = put_obj(st.top, "p/k0500x", v, 1, e);
	rc = rc ? rc : put_obj(st.top, "p/zz", v, 1, e);
	rc = rc ? rc : list_dir(&st, "p/", &n, &l);
	tap_ok(rc == 0 && l == 0 && n.n == 1102 && names_has(&n, "p/k0500x") &&
		       names_has(&n, "p/zz"),
	       "negatives: our puts amend the right pages, in order");

	/* a listing too large to write again at each create is dropped */
	for (int i = 0; i < BFS_MC_CHAIN_MAX; i++) {
		snprintf(key, sizeof(key), "q/k%05d", i);
		put_obj(mem, key, v, 1, e);
	}
	rc = list_dir(&st, "q/", &n, &l);
	empty = probe_empty(&st, "q/new", &l);
	tap_ok(rc == 0 && empty && l == 0,
	       "negatives: a name absent from a large listing: no request");
	rc = put_obj(st.top, "q/new", v, 1, e);
	empty = probe_empty(&st, "q/new2", &l);
	tap_ok(rc == 0 && empty && l == 1,
	       "negatives: a create into it drops it (the LIST is back)");
	cache_stack_close(&st);
	names_free(&n);
	test_clock = NULL;
}

int main(void)
{
	struct bfs_store *mem = bfs_mem_create("mem");

	cache_dir = temp_cache_dir("cache");
	if (cache_dir == NULL)
		return tap_done();
	test_crc32c();
	test_blockfile();
	test_metadb();
	test_metadb_attach();
#if !defined(__SANITIZE_ADDRESS__)
	test_metadb_aslimit();
#endif
	test_bufpool();
	test_layers(mem);
	test_hits(mem);
	test_corrupt(mem);
	test_verified(mem);
	test_file_parts(mem);
	test_written_then_damaged(mem);
	test_limit(mem);
	test_etag_change(mem);
	test_fault(mem);
	test_two_processes(mem);
	test_prefetch(mem);
	test_prefetch_early(mem);
	test_prefetch_readahead(mem);
	test_run_lands_early(mem, 4ull << 20);
	test_run_lands_early(mem, 1ull << 30);
	test_ring(mem);
	test_meta(mem);
	test_negatives(mem);
	test_stats_and_clear(mem);
	mem->destroy(mem);
	rm_rf(cache_dir);
	free(cache_dir);
	return tap_done();
}
