/*
 * test_meta_lookup.c - what a lookup and a create cost (issue 15: the
 * first byte a round trip sooner, new files one request each), through
 * the kernel over the in-memory store (fs_mount.h), with the slow layer
 * holding requests at gates and counting them.
 *
 *   overlap   a lookup the cache cannot answer sends its HEAD while its
 *             LIST is still in flight (both held at their gates at once)
 *   cached    a name a fresh listing does not show costs nothing, HEAD
 *             included
 *   newdir    files created in a directory this mount just made cost
 *             their PUT alone: the new directory's listing is known
 *   relist    once a small directory's listing has expired, the first
 *             lookup in it lists it again and the creates that follow
 *             cost their PUT alone (1 LIST + N PUT, no HEAD); a file
 *             another client made after the expiry is seen
 *   kept      our own write into such a directory keeps that hint: the
 *             creates after it cost 1 LIST between them, not a probe
 *             each
 *   shared    lookups at once in such a directory share its one LIST
 *   big       a directory listed with more than BFS_MC_RELIST_MAX
 *             entries keeps the probe of each name
 *   dropped   a lookup whose LIST says "nothing" answers while its HEAD
 *             is still held (it does not wait for the HEAD)
 *   pool      at most BFS_HEAD_POOL_MAX HEADs run at once; one more is
 *             not started (its lookup sends it itself)
 *
 * The gates make "both in flight at once" hold on any machine; the bound
 * on a wait (a minute) only turns a hang into a failure.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/metacache.h"
#include "cache/metacache_dir.h"
#include "catalog/bucket_view.h"
#include "catalog/head_pool.h"
#include "fs_mount.h"
#include "log.h"
#include "store/mem.h"
#include "store/slow.h"
#include "tap.h"

#define BOUND_MS 60000u

static struct fs_mount M;

static char *P(const char *rel, char *buf)
{
	return fs_path(&M, rel, buf, 4096);
}

static int stat_rel(const char *rel, struct stat *sb)
{
	char p[4096];

	return stat(P(rel, p), sb) == 0 ? 0 : errno;
}

/* Create rel (O_EXCL), write len bytes of data, close. */
static int create_file(const char *rel, const void *data, size_t len)
{
	return fs_write_file(&M, rel, data, len, O_CREAT | O_EXCL);
}

/* The names directory rel lists, counted. */
static int count_entries(const char *rel, unsigned *n)
{
	char p[4096];
	DIR *d = opendir(P(rel, p));
	struct dirent *e;

	*n = 0;
	if (d == NULL)
		return errno;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(*n)++;
	closedir(d);
	return 0;
}

static unsigned reqs(const char *op, const char *key)
{
	return bfs_slow_count(M.slow, op, key);
}

/* ----------------------------------------------------------- overlap */

struct stat_job {
	const char *rel;
	off_t size;
};

static int stat_run(void *arg)
{
	struct stat_job *s = arg;
	struct stat sb;
	int rc = stat_rel(s->rel, &sb);

	s->size = rc == 0 ? sb.st_size : -1;
	return rc;
}

static void overlap(void)
{
	struct stat_job sj = {.rel = "c/f"};
	struct fs_job job;
	int list_gate, head_gate, rc;
	bool both;

	tap_ok(fs_store_put(&M, "c/f", "xyz", 3) == 0,
	       "overlap: another client writes c/f");
	list_gate = bfs_slow_rule(M.slow, "list", "c/f", 0, true);
	head_gate = bfs_slow_rule(M.slow, "head", "c/f", 0, true);
	fs_job_start(&job, stat_run, &sj);
	rc = bfs_slow_wait_held(M.slow, list_gate, 1, BOUND_MS);
	both = rc == 0 &&
	       bfs_slow_wait_held(M.slow, head_gate, 1, BOUND_MS) == 0;
	tap_ok(both,
	       "overlap: the lookup of c/f sends its HEAD while its LIST is "
	       "held (LIST held %u, HEAD held %u)",
	       bfs_slow_held(M.slow, list_gate),
	       bfs_slow_held(M.slow, head_gate));
	bfs_slow_open(M.slow, list_gate);
	bfs_slow_open(M.slow, head_gate);
	if (!fs_job_wait(&job, BOUND_MS)) {
		tap_ok(0, "overlap: the stat ends once the gates open");
		fs_mount_abandon();
		_exit(tap_done());
	}
	rc = fs_job_join(&job);
	tap_ok(rc == 0 && sj.size == 3,
	       "overlap: stat of c/f answers its size (%lld, %s)",
	       (long long)sj.size, strerror(rc));
}

/* ------------------------------------------------------------ cached */

static void cached(void)
{
	struct stat sb;
	unsigned n = 0;
	int rc;

	rc = count_entries("c", &n);
	tap_ok(rc == 0 && n == 1, "cached: ls c shows f (%u names)", n);
	bfs_slow_forget(M.slow);
	rc = stat_rel("c/none", &sb);
	tap_ok(rc == ENOENT, "cached: c/none is not there (%s)", strerror(rc));
	tap_ok(reqs("*", "c/none") == 0,
	       "cached: a name the fresh listing does not show costs no "
	       "request, no HEAD either (%u LIST, %u HEAD)",
	       reqs("list", "c/none"), reqs("head", "c/none"));
}

/* ------------------------------------------------------------ newdir */

/* Create NFILES files in dir, each counted; @return the most requests
 * one of them sent, with diag saying what they were. */
#define NFILES 5

static unsigned create_in(const char *dir, char *diag, size_t len, int *err)
{
	unsigned most = 0;

	*err = 0;
	for (int i = 0; i < NFILES && *err == 0; i++) {
		char k[128];
		unsigned n;

		snprintf(k, sizeof(k), "%s/f%d", dir, i);
		bfs_slow_forget(M.slow);
		*err = create_file(k, "xy", 2);
		n = reqs("*", k);
		if (n > most) {
			most = n;
			snprintf(diag, len, "%s: %u LIST, %u HEAD, %u PUT", k,
				 reqs("list", k), reqs("head", k),
				 reqs("put", k));
		}
	}
	return most;
}

static void newdir(void)
{
	char p[4096], diag[256] = "";
	unsigned most, n = 0;
	int rc;

	tap_ok(mkdir(P("n", p), 0755) == 0, "newdir: mkdir n");
	most = create_in("n", diag, sizeof(diag), &rc);
	tap_ok(rc == 0 && most == 1,
	       "newdir: each create + write + close in the directory just "
	       "made is its PUT alone (at most %u requests; %s)",
	       most, diag);
	rc = count_entries("n", &n);
	tap_ok(rc == 0 && n == NFILES, "newdir: ls n shows the %d files (%u)",
	       NFILES, n);

	/* mkdir -p: a directory made in a directory just made */
	tap_ok(mkdir(P("m", p), 0755) == 0 && mkdir(P("m/s", p), 0755) == 0,
	       "newdir: mkdir -p m/s");
	diag[0] = '\0';
	most = create_in("m/s", diag, sizeof(diag), &rc);
	tap_ok(rc == 0 && most == 1,
	       "newdir: in m/s too, each create is its PUT alone (at most %u "
	       "requests; %s)",
	       most, diag);
	rc = count_entries("m", &n);
	tap_ok(rc == 0 && n == 1, "newdir: ls m shows s alone (%u names)", n);

	/* another client's file is still there to O_EXCL */
	rc = create_file("c/f", "no", 2);
	tap_ok(rc == EEXIST,
	       "newdir: O_EXCL on another client's c/f fails "
	       "EEXIST (%s)",
	       strerror(rc));
}

/* ------------------------------------------------------------ relist */

/* Past every TTL of the mount (300 s): what the cache holds has expired. */
#define EXPIRE 301

static void relist(void)
{
	char p[4096], k[64];
	unsigned list_dir, list_any, heads, puts;
	struct stat sb;
	int rc = 0;

	tap_ok(mkdir(P("e", p), 0755) == 0, "relist: mkdir e");
	for (int i = 0; i < 3 && rc == 0; i++) {
		snprintf(k, sizeof(k), "e/a%d", i);
		rc = create_file(k, "ab", 2);
	}
	tap_ok(rc == 0, "relist: three files in e (%s)", strerror(rc));
	fs_mount_clock_skip(EXPIRE);
	tap_ok(fs_store_put(&M, "e/other", "abcd", 4) == 0,
	       "relist: e's listing expires, then another client writes "
	       "e/other");
	bfs_slow_forget(M.slow);
	for (int i = 0; i < NFILES && rc == 0; i++) {
		snprintf(k, sizeof(k), "e/f%d", i);
		rc = create_file(k, "xy", 2);
	}
	/* the re-list's key is "e/", each probe's would be "e/fN" */
	list_any = reqs("list", "e/");
	list_dir = list_any - reqs("list", "e/f");
	heads = reqs("head", "e/");
	puts = reqs("put", "e/");
	tap_ok(rc == 0 && list_dir == 1 && list_any == 1 && heads == 0 &&
		       puts == NFILES,
	       "relist: %d creates in e after its listing expired cost 1 "
	       "LIST of e/ and a PUT each (%u LIST of e/, %u LIST in all, "
	       "%u HEAD, %u PUT; %s)",
	       NFILES, list_dir, list_any, heads, puts, strerror(rc));
	rc = stat_rel("e/other", &sb);
	tap_ok(rc == 0 && sb.st_size == 4,
	       "relist: e/other, written after the expiry, is seen (%s, "
	       "%lld bytes)",
	       strerror(rc), rc == 0 ? (long long)sb.st_size : -1LL);

	/* the listing is fresh for dir_ttl again: a later file is seen
	 * once it runs out, as for any listing */
	tap_ok(fs_store_put(&M, "e/later", "abcdef", 6) == 0,
	       "relist: another client writes e/later");
	fs_mount_clock_skip(EXPIRE);
	bfs_slow_forget(M.slow);
	rc = stat_rel("e/later", &sb);
	tap_ok(rc == 0 && sb.st_size == 6,
	       "relist: after the next expiry e/later is seen (%s; %u LIST "
	       "of e/)",
	       strerror(rc), reqs("list", "e/") - reqs("list", "e/l"));
}

/* -------------------------------------------------------------- kept */

/* Open rel (it exists), write data over it, close: a PUT, no lookup
 * (the kernel knows the name). */
static int rewrite_file(const char *rel, const void *data, size_t len)
{
	return fs_write_file(&M, rel, data, len, O_TRUNC);
}

static void kept(void)
{
	char p[4096], k[64];
	unsigned lists, probes, heads, puts;
	int rc;

	tap_ok(mkdir(P("g", p), 0755) == 0, "kept: mkdir g");
	rc = create_file("g/a", "ab", 2);
	tap_ok(rc == 0, "kept: create g/a (%s)", strerror(rc));
	fs_mount_clock_skip(EXPIRE);
	rc = rewrite_file("g/a", "abc", 3);
	tap_ok(rc == 0 && reqs("put", "g/a") >= 1,
	       "kept: g's listing expires, then g/a is written again (%s)",
	       strerror(rc));
	bfs_slow_forget(M.slow);
	for (int i = 0; i < NFILES && rc == 0; i++) {
		snprintf(k, sizeof(k), "g/b%d", i);
		rc = create_file(k, "xy", 2);
	}
	lists = reqs("list", "g/");
	probes = reqs("list", "g/b");
	heads = reqs("head", "g/");
	puts = reqs("put", "g/");
	tap_ok(rc == 0 && lists == 1 && probes == 0 && heads == 0 &&
		       puts == NFILES,
	       "kept: then %d creates in g cost 1 LIST of g/ and a PUT each "
	       "(%u LIST, %u of them probes, %u HEAD, %u PUT; %s)",
	       NFILES, lists, probes, heads, puts, strerror(rc));
}

/* ------------------------------------------------------------ shared */

#define NSTATS 4

static uint64_t relist_shared(void)
{
	struct bfs_metacache_stats st;

	bfs_metacache_get_stats(
		bfs_store_layer(M.top, BFS_STORE_KIND_METACACHE), &st);
	return st.relist_shared;
}

/* Wait until n lookups wait for another's re-list; @return whether
 * they did within the bound. */
static bool wait_shared(uint64_t n)
{
	struct timespec tick = {0, 1000000};

	for (unsigned ms = 0; ms < BOUND_MS; ms++) {
		if (relist_shared() >= n)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/* A lookup through the bucket view itself: the kernel sends the
 * lookups of one directory one at a time (it takes the directory's
 * lock: no parallel dirops here), the daemon's own callers (rename's
 * target, a create's check) do not. */
struct ns_job {
	const struct bfs_node *dir;
	char name[32];
};

static int ns_lookup_run(void *arg)
{
	struct ns_job *j = arg;
	struct bfs_node out = {0};
	int rc = M.ns->ops->lookup(M.ns, j->dir, j->name, &out);

	bfs_node_release(&out);
	return rc;
}

static void shared(void)
{
	struct bfs_node root = {0}, e = {0};
	struct ns_job nj[NSTATS];
	struct fs_job job[NSTATS];
	uint64_t shared0 = relist_shared();
	unsigned held, enoent = 0;
	int gate, rc;
	bool waited;

	bfs_bucket_view_root(M.ns, &root);
	rc = M.ns->ops->lookup(M.ns, &root, "e", &e);
	tap_ok(rc == 0, "shared: look e up (%s)", strerror(rc));
	fs_mount_clock_skip(EXPIRE);
	bfs_slow_forget(M.slow);
	gate = bfs_slow_rule(M.slow, "list", "e/", 0, true);
	for (int i = 0; i < NSTATS; i++) {
		nj[i].dir = &e;
		snprintf(nj[i].name, sizeof(nj[i].name), "none%d", i);
		fs_job_start(&job[i], ns_lookup_run, &nj[i]);
	}
	waited = bfs_slow_wait_held(M.slow, gate, 1, BOUND_MS) == 0 &&
		 wait_shared(shared0 + NSTATS - 1);
	held = bfs_slow_held(M.slow, gate);
	tap_ok(waited && held == 1,
	       "shared: %d lookups at once in e after its expiry: one LIST "
	       "held, the others wait for it (%u held, %llu waiting)",
	       NSTATS, held, (unsigned long long)(relist_shared() - shared0));
	bfs_slow_open(M.slow, gate);
	for (int i = 0; i < NSTATS; i++) {
		if (!fs_job_wait(&job[i], BOUND_MS)) {
			tap_ok(0,
			       "shared: the lookups end once the gate opens");
			fs_mount_abandon();
			_exit(tap_done());
		}
		enoent += fs_job_join(&job[i]) == ENOENT;
	}
	tap_ok(enoent == NSTATS && reqs("list", "e/") == 1 &&
		       reqs("head", "e/") == 0,
	       "shared: all %d are ENOENT (%u) for 1 LIST and no HEAD (%u "
	       "LIST, %u HEAD)",
	       NSTATS, enoent, reqs("list", "e/"), reqs("head", "e/"));
	bfs_node_release(&e);
	bfs_node_release(&root);
}

/* --------------------------------------------------------------- big */

static void big(void)
{
	struct stat sb;
	unsigned n = 0;
	int rc = 0;

	for (int i = 0; i <= BFS_MC_RELIST_MAX && rc == 0; i++) {
		char k[64];

		snprintf(k, sizeof(k), "big/f%03d", i);
		rc = fs_store_put(&M, k, "x", 1);
	}
	tap_ok(rc == 0, "big: another client writes %d files in big",
	       BFS_MC_RELIST_MAX + 1);
	rc = count_entries("big", &n);
	tap_ok(rc == 0 && n == BFS_MC_RELIST_MAX + 1, "big: ls big (%u)", n);
	fs_mount_clock_skip(EXPIRE);
	bfs_slow_forget(M.slow);
	rc = stat_rel("big/none", &sb);
	tap_ok(rc == ENOENT &&
		       reqs("list", "big/") == reqs("list", "big/none") &&
		       reqs("list", "big/none") == 1,
	       "big: after the expiry a lookup in big probes its name, "
	       "big/ is not listed again (%s; %u LIST, %u of big/none)",
	       strerror(rc), reqs("list", "big/"), reqs("list", "big/none"));
}

/* ----------------------------------------------------------- dropped */

static void dropped(void)
{
	struct bfs_node root = {0};
	struct ns_job nj = {.dir = &root, .name = "q-new"};
	struct fs_job job;
	int gate, rc;
	bool ended;

	bfs_bucket_view_root(M.ns, &root);
	gate = bfs_slow_rule(M.slow, "head", "q-new", 0, true);
	fs_job_start(&job, ns_lookup_run, &nj);
	rc = bfs_slow_wait_held(M.slow, gate, 1, BOUND_MS);
	tap_ok(rc == 0, "dropped: the lookup of q-new sends its HEAD (%s)",
	       strerror(rc));
	ended = fs_job_wait(&job, BOUND_MS);
	tap_ok(ended && bfs_slow_held(M.slow, gate) == 1,
	       "dropped: the lookup ends while its HEAD is still held (%s)",
	       ended ? "ended" : "did not end");
	bfs_slow_open(M.slow, gate);
	rc = fs_job_join(&job);
	tap_ok(rc == ENOENT, "dropped: q-new is not there (%s)", strerror(rc));
	bfs_node_release(&root);
}

/* -------------------------------------------------------------- pool */

static void pool(void)
{
	struct bfs_store *slow = bfs_slow_create(bfs_mem_create("pool"));
	struct bfs_head_pool *p = bfs_head_pool_new();
	struct bfs_head_job *jobs[BFS_HEAD_POOL_MAX + 1];
	unsigned started = 0;
	int gate = bfs_slow_rule(slow, "head", "k", 0, true);
	bool more;

	for (int i = 0; i < BFS_HEAD_POOL_MAX; i++) {
		jobs[i] = bfs_head_job_start(p, slow, "k");
		started += jobs[i] != NULL;
	}
	bfs_slow_wait_held(slow, gate, BFS_HEAD_POOL_MAX, BOUND_MS);
	tap_ok(started == BFS_HEAD_POOL_MAX &&
		       bfs_slow_held(slow, gate) == BFS_HEAD_POOL_MAX,
	       "pool: %d HEADs run at once (%u started, %u held)",
	       BFS_HEAD_POOL_MAX, started, bfs_slow_held(slow, gate));
	jobs[BFS_HEAD_POOL_MAX] = bfs_head_job_start(p, slow, "k");
	more = jobs[BFS_HEAD_POOL_MAX] != NULL;
	tap_ok(!more && bfs_head_pool_threads(p) == BFS_HEAD_POOL_MAX,
	       "pool: one more is not started, no thread more (%u threads)",
	       bfs_head_pool_threads(p));
	for (int i = 0; i < BFS_HEAD_POOL_MAX; i++)
		if (jobs[i])
			bfs_head_job_drop(jobs[i]);
	if (more)
		bfs_head_job_drop(jobs[BFS_HEAD_POOL_MAX]);
	bfs_slow_open(slow, gate);
	bfs_head_pool_drain(p);
	tap_ok(bfs_slow_count(slow, "head", "k") == BFS_HEAD_POOL_MAX,
	       "pool: the dropped HEADs ran to their end before the drain "
	       "returned (%u)",
	       bfs_slow_count(slow, "head", "k"));
	bfs_head_pool_free(p);
	slow->destroy(slow);
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
	overlap();
	cached();
	newdir();
	relist();
	kept();
	shared();
	big();
	dropped();
	pool();
	fs_mount_down(&M);
	return tap_done();
}
