/*
 * test_store_stack.c - the store conformance battery over whole stacks
 * as a bucket builds them (block cache, metadata cache and prefetcher)
 * over the mem and local stores, over the trace and fault layers, and
 * the fault layer's own cases: an armed error reaches the caller through
 * the caches, is not cached, and the next call goes through.
 * The S3 driver gets the same stack in test_s3_store (s3_store.sh).
 */
#include "compat.h"

#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/metacache.h"
#include "cache/prefetch.h"
#include "store/fault.h"
#include "store/local.h"
#include "store/mem.h"
#include "store/trace.h"
#include "store_conformance.h"

/* what a stack with a block cache may do that a driver may not */
#define CACHED BFS_CONFORMANCE_CACHED_VERSIONS

static char cache_dir[] = "/tmp/bfs-test-stack.XXXXXX";

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* driver → block cache → metadata cache → prefetcher, started. */
static struct bfs_store *stack(struct bfs_store *driver, const char *bucket,
			       double ttl)
{
	struct bfs_blockcache_conf bconf = {
		.cache_dir = cache_dir,
		.bucket = bucket,
		.block_size = 64 * 1024,
		.size = 64 << 20,
	};
	struct bfs_metacache_conf mconf = {
		.cache_dir = cache_dir,
		.bucket = bucket,
		.attr_ttl = ttl,
		.dir_ttl = ttl,
		.neg_ttl = ttl,
	};
	struct bfs_prefetch_conf pconf = {
		.cache_dir = cache_dir,
		.bucket = bucket,
	};
	struct bfs_store *s = bfs_blockcache_create(&bconf, driver);

	if (s)
		s = bfs_metacache_create(&mconf, s);
	if (s)
		s = bfs_prefetch_create(&pconf, s);
	if (s == NULL || s->start(s) != 0)
		BFS_BUG("cannot build the stack over %s", driver->name);
	return s;
}

static void stack_free(struct bfs_store *s)
{
	s->shutdown(s);
	s->destroy(s);
}

static int put_str(struct bfs_store *s, const char *key, const char *data,
		   char *etag)
{
	char path[] = "/tmp/bfs-test-stack-put.XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(data);
	struct bfs_put_req req = {.key = key, .fd = fd, .size = len};
	int rc;

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		BFS_BUG("cannot write %s", path);
	unlink(path);
	rc = s->put(s, &req, etag);
	close(fd);
	return rc;
}

/* The fault layer under the caches: errors pass up and are not kept. */
static void fault_cases(void)
{
	struct bfs_store *mem = bfs_mem_create("faults");
	struct bfs_store *f = bfs_fault_create(mem);
	struct bfs_store *s = stack(f, "faults", 60);
	struct bfs_obj_info info = {0};
	char etag[BFS_ETAG_MAX], buf[64];
	size_t got = 0;
	int rc;

	bfs_conformance_ok(bfs_store_layer(s, BFS_STORE_KIND_FAULT) == f &&
				   bfs_store_layer(s, BFS_STORE_KIND_MEM) ==
					   mem,
			   "faults: the layers are found by kind");
	bfs_conformance_ok(put_str(s, "k", "0123456789abcdef", etag) == 0,
			   "faults: put through the stack");
	bfs_fault_arm(f, "get_range", EIO, 1);
	rc = s->get_range(s, "k", 0, 16, buf, &got, etag);
	bfs_conformance_ok(rc == EIO,
			   "faults: an armed EIO reaches the top (%s)",
			   strerror(rc));
	rc = s->get_range(s, "k", 0, 16, buf, &got, etag);
	bfs_conformance_ok(rc == 0 && got == 16 &&
				   memcmp(buf, "0123456789abcdef", 16) == 0,
			   "faults: the failed read was not cached: the next "
			   "one reads the object (%s)",
			   strerror(rc));
	bfs_fault_arm(f, "head", ENOENT, 1);
	rc = s->head(s, "k2", &info);
	bfs_conformance_ok(rc == ENOENT, "faults: an armed ENOENT on head");
	bfs_obj_info_release(&info);
	bfs_fault_arm(f, "*", ETIMEDOUT, 2);
	rc = s->del(s, "nosuch");
	bfs_conformance_ok(rc == ETIMEDOUT, "faults: '*' arms any operation");
	rc = put_str(s, "k3", "x", etag);
	bfs_conformance_ok(rc == ETIMEDOUT, "faults: ... n times");
	bfs_conformance_ok(put_str(s, "k3", "x", etag) == 0,
			   "faults: ... and then no more");
	bfs_conformance_ok(bfs_fault_injected(f) == 4,
			   "faults: every injection counted (%llu)",
			   (unsigned long long)bfs_fault_injected(f));
	bfs_fault_short_reads(f, 4, 1);
	got = 0;
	rc = f->get_range(f, "k", 0, 16, buf, &got, NULL);
	bfs_conformance_ok(rc == 0 && got == 4,
			   "faults: a short read returns what it was cut to "
			   "(%zu bytes)",
			   got);
	s->del(s, "k");
	s->del(s, "k3");
	stack_free(s);
}

int main(void)
{
	char local_dir[] = "/tmp/bfs-test-stack-local.XXXXXX";
	struct bfs_trace_stats ts;
	struct bfs_store *s, *t;
	char err[256];
	int failed = 0;

	if (!mkdtemp(cache_dir) || !mkdtemp(local_dir))
		BFS_BUG("mkdtemp");

	bfs_conformance_diag("trace over mem");
	s = bfs_trace_create(bfs_mem_create("mem"));
	failed += bfs_store_conformance(s, "conformance/");
	bfs_trace_get_stats(s, &ts);
	bfs_conformance_ok(ts.calls > 0 && ts.errors < ts.calls,
			   "trace: counted %llu calls, %llu errors",
			   (unsigned long long)ts.calls,
			   (unsigned long long)ts.errors);
	s->destroy(s);

	bfs_conformance_diag("fault (unarmed) over mem");
	s = bfs_fault_create(bfs_mem_create("mem"));
	failed += bfs_store_conformance(s, "conformance/");
	bfs_conformance_ok(bfs_fault_injected(s) == 0,
			   "fault: unarmed, it injects nothing");
	s->destroy(s);

	bfs_conformance_diag("the cache stack over mem");
	s = stack(bfs_mem_create("mem"), "mem", 60);
	failed += bfs_store_conformance_flags(s, "conformance/", CACHED);
	stack_free(s);

	bfs_conformance_diag("the cache stack over local");
	t = bfs_local_create("local", local_dir, err, sizeof(err));
	if (t == NULL)
		BFS_BUG("local store: %s", err);
	s = stack(t, "local", 60);
	failed += bfs_store_conformance_flags(s, "conformance/", CACHED);
	stack_free(s);

	bfs_conformance_diag("the cache stack over trace over fault over mem");
	s = stack(bfs_trace_create(bfs_fault_create(bfs_mem_create("mem"))),
		  "layers", 60);
	failed += bfs_store_conformance_flags(s, "conformance/", CACHED);
	stack_free(s);

	fault_cases();
	bfs_conformance_diag("batteries with failures: %d", failed);
	rm_rf(cache_dir);
	rm_rf(local_dir);
	return bfs_conformance_done();
}
