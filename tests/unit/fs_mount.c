/*
 * fs_mount.c - the in-process FUSE mount of the unit tests (see
 * fs_mount.h).
 */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "cache/blockcache.h"
#include "cache/metacache.h"
#include "cache/prefetch.h"
#include "catalog/bucket_view.h"
#include "fs/fs.h"
#include "fs_mount.h"
#include "log.h"
#include "store/fault.h"
#include "store/mem.h"
#include "store/slow.h"
#include "util.h"

extern char **environ;

/*
 * A call of this process that the kernel has handed to the session is
 * waited for uninterruptibly until it is answered or the connection
 * ends, and the connection ends only when the device is closed: a test
 * that dies (an assertion's abort, a sanitizer report, SIGTERM from the
 * runner's timeout, a deadlock given up on) while one of its threads is
 * in such a call would stay a zombie forever, holding the device itself,
 * and hang the runner. So before it dies the device's descriptor is
 * replaced by /dev/null (dup2 is async-signal-safe): once the loop's
 * readers are gone the device is released, the connection aborts, and
 * every call in flight fails with ENOTCONN.
 */
static volatile sig_atomic_t sever_fd = -1;
static int null_fd = -1;

static void sever(void)
{
	int fd = sever_fd;

	if (fd >= 0 && null_fd >= 0) {
		sever_fd = -1;
		dup2(null_fd, fd);
	}
}

static void sever_on_signal(int sig)
{
	sever();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ASan's, when linked in: called before a report ends the process */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void arm_sever(int fd)
{
	static bool once;
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGABRT};

	sever_fd = fd;
	if (once)
		return;
	once = true;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* not SIGSEGV and its kind: the sanitizers report those */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], sever_on_signal);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(sever);
	atexit(sever);
}

/* How far the metadata cache's clock is ahead of the real one, in
 * seconds (fs_mount_clock_skip). */
static unsigned clock_skip;

static uint64_t skewed_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec +
		__atomic_load_n(&clock_skip, __ATOMIC_ACQUIRE)) *
		       1000000000ull +
	       (uint64_t)ts.tv_nsec;
}

void fs_mount_clock_skip(unsigned seconds)
{
	__atomic_add_fetch(&clock_skip, seconds, __ATOMIC_ACQ_REL);
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* The cache layers a remote bucket gets (catalog/stack.c), over s. */
static struct bfs_store *caches(const struct bfs_options *o,
				struct bfs_store *s)
{
	struct bfs_blockcache_conf bconf = {
		.cache_dir = o->cache_dir,
		.bucket = "t",
		.block_size = o->block_size,
		.size = 64 << 20,
	};
	struct bfs_metacache_conf mconf = {
		.cache_dir = o->cache_dir,
		.bucket = "t",
		.attr_ttl = o->attr_ttl,
		.dir_ttl = o->dir_ttl,
		.neg_ttl = o->neg_ttl,
		.clock = skewed_clock,
	};
	struct bfs_prefetch_conf pconf = {
		.cache_dir = o->cache_dir,
		.bucket = "t",
		.max_inflight = o->max_inflight,
		.threads = o->connections,
	};

	s = bfs_blockcache_create(&bconf, s);
	if (s)
		s = bfs_metacache_create(&mconf, s);
	if (s)
		s = bfs_prefetch_create(&pconf, s);
	if (s == NULL || s->start(s) != 0)
		BFS_BUG("cannot build the cache layers");
	return s;
}

static void *loop_main(void *arg)
{
	struct fs_mount *m = arg;
	struct fuse_loop_config *lc = fuse_loop_cfg_create();

	/* as the daemon runs it (cli/mount.c) */
	fuse_loop_cfg_set_max_threads(lc, 16);
	fuse_loop_cfg_set_idle_threads(lc, 8);
	fuse_session_loop_mt(m->se, lc);
	fuse_loop_cfg_destroy(lc);
	return NULL;
}

int fs_mount_up(struct fs_mount *m, const char *options, char *why,
		size_t whylen)
{
	const char *tmp = getenv("TMPDIR");
	char *argv[] = {"test_fs_core", "-o",
			"fsname=bucketfs:test,subtype=bucketfs", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct bfs_fs_conf fconf = {0};
	char err[512] = "", *text, *staging;
	int fd, rc;

	memset(m, 0, sizeof(*m));
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		snprintf(why, whylen, "cannot open /dev/fuse: %s",
			 strerror(rc));
		return ENODEV;
	}
	close(fd);
	m->dir = bfs_xasprintf("%s/bfs-fscore.XXXXXX",
			       tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(m->dir) == NULL)
		BFS_BUG("mkdtemp %s: %s", m->dir, strerror(errno));
	m->mnt = bfs_xasprintf("%s/mnt", m->dir);
	text = bfs_xasprintf("[bucketfs]\ncache_dir = %s/cache\n%s", m->dir,
			     options);
	rc = bfs_config_load_buffer("test", text, strlen(text), &m->cfg, err,
				    sizeof(err));
	free(text);
	if (rc != 0)
		BFS_BUG("configuration: %s", err);
	staging = bfs_xasprintf("%s/staging", m->dir);
	if (mkdir(m->mnt, 0755) != 0 ||
	    bfs_mkdir_p(m->cfg.opts.cache_dir, 0700) != 0 ||
	    mkdir(staging, 0700) != 0)
		BFS_BUG("cannot make the directories under %s", m->dir);

	m->mem = bfs_mem_create("mem");
	m->fault = bfs_fault_create(m->mem);
	m->slow = bfs_slow_create(m->fault);
	m->top = caches(&m->cfg.opts, m->slow);
	m->ns = bfs_bucket_view_create("t", m->top, "", true);
	fconf.opts = &m->cfg.opts;
	fconf.staging_dir = staging;
	bfs_bucket_view_root(m->ns, &fconf.root);
	m->fs = bfs_fs_create(&fconf, err, sizeof(err));
	bfs_node_release(&fconf.root);
	free(staging);
	if (m->fs == NULL)
		BFS_BUG("bfs_fs_create: %s", err);
	m->se = fuse_session_new(&args, bfs_fs_ops(),
				 sizeof(struct fuse_lowlevel_ops), m->fs);
	fuse_opt_free_args(&args);
	if (m->se == NULL)
		BFS_BUG("fuse_session_new failed");
	if (fuse_session_mount(m->se, m->mnt) != 0) {
		snprintf(why, whylen, "cannot mount FUSE on %s", m->mnt);
		fuse_session_destroy(m->se);
		m->se = NULL;
		fs_mount_down(m);
		return EPERM;
	}
	arm_sever(fuse_session_fd(m->se));
	if (pthread_create(&m->loop, NULL, loop_main, m) != 0)
		BFS_BUG("cannot start the session loop");
	m->looping = true;
	return 0;
}

/* Detach the mount; the kernel then ends the session (ENODEV). */
static void unmount(const char *mnt)
{
	char *argv[] = {"fusermount3", "-u", "-z", (char *)mnt, NULL};
	pid_t pid;
	int st;

	if (geteuid() == 0) {
		if (umount2(mnt, MNT_DETACH) != 0)
			BFS_BUG("umount %s: %s", mnt, strerror(errno));
		return;
	}
	if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		BFS_BUG("fusermount3 -u -z %s failed", mnt);
}

void fs_mount_down(struct fs_mount *m)
{
	if (m->looping) {
		struct timespec until;

		unmount(m->mnt);
		sever_fd = -1;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		if (pthread_timedjoin_np(m->loop, NULL, &until) != 0)
			BFS_BUG("the session loop did not end after the "
				"unmount");
		m->looping = false;
	}
	if (m->se) {
		/* the mount is gone: this only closes the device */
		fuse_session_unmount(m->se);
		fuse_session_destroy(m->se);
	}
	bfs_fs_destroy(m->fs);
	if (m->ns)
		m->ns->ops->destroy(m->ns);
	if (m->top) {
		m->top->shutdown(m->top);
		m->top->destroy(m->top);
	}
	if (m->dir)
		nftw(m->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	bfs_config_release(&m->cfg);
	free(m->mnt);
	free(m->dir);
	memset(m, 0, sizeof(*m));
}

char *fs_path(const struct fs_mount *m, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", m->mnt, rel);
	return buf;
}

int fs_write_file(const struct fs_mount *m, const char *rel, const void *data,
		  size_t len, int flags)
{
	char p[4096];
	int fd = open(fs_path(m, rel, p, sizeof(p)), O_WRONLY | flags, 0644);
	int rc = 0;

	if (fd < 0)
		return errno;
	if (write(fd, data, len) != (ssize_t)len)
		rc = errno ? errno : EIO;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	return rc;
}

int fs_store_put(struct fs_mount *m, const char *key, const void *data,
		 size_t len)
{
	char path[4096];
	struct bfs_put_req req = {.key = key, .size = len};
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/put.XXXXXX", m->dir);
	fd = mkstemp(path);
	if (fd < 0)
		return errno;
	unlink(path);
	if (write(fd, data, len) != (ssize_t)len)
		rc = EIO;
	req.fd = fd;
	if (rc == 0)
		rc = m->mem->put(m->mem, &req, NULL);
	close(fd);
	return rc;
}

int fs_store_get(struct fs_mount *m, const char *key, void *buf, size_t cap,
		 size_t *got)
{
	*got = 0;
	return bfs_store_read_full(m->mem, key, 0, cap, buf, got, NULL);
}

static void *job_main(void *arg)
{
	struct fs_job *j = arg;
	int rc = j->fn(j->arg);

	BFS_PCHECK(pthread_mutex_lock(&j->lock));
	j->rc = rc;
	j->done = true;
	BFS_PCHECK(pthread_cond_broadcast(&j->cond));
	BFS_PCHECK(pthread_mutex_unlock(&j->lock));
	return NULL;
}

void fs_job_start(struct fs_job *j, int (*fn)(void *arg), void *arg)
{
	pthread_condattr_t ca;

	memset(j, 0, sizeof(*j));
	j->fn = fn;
	j->arg = arg;
	BFS_PCHECK(pthread_mutex_init(&j->lock, NULL));
	BFS_PCHECK(pthread_condattr_init(&ca));
	BFS_PCHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
	BFS_PCHECK(pthread_cond_init(&j->cond, &ca));
	BFS_PCHECK(pthread_condattr_destroy(&ca));
	BFS_PCHECK(pthread_create(&j->thread, NULL, job_main, j));
}

bool fs_job_wait(struct fs_job *j, unsigned ms)
{
	struct timespec until;
	bool done;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	BFS_PCHECK(pthread_mutex_lock(&j->lock));
	while (!j->done &&
	       pthread_cond_timedwait(&j->cond, &j->lock, &until) == 0)
		;
	done = j->done;
	BFS_PCHECK(pthread_mutex_unlock(&j->lock));
	return done;
}

int fs_job_join(struct fs_job *j)
{
	BFS_PCHECK(pthread_join(j->thread, NULL));
	BFS_PCHECK(pthread_cond_destroy(&j->cond));
	BFS_PCHECK(pthread_mutex_destroy(&j->lock));
	return j->rc;
}

void fs_mount_abandon(void)
{
	sever();
}

int fs_mount_for_test(struct fs_mount *m, char *why, size_t whylen)
{
	int rc;

	bfs_log_set_level(LOG_WARNING);
	rc = fs_mount_up(m, "attr_ttl = 300\ndir_ttl = 300\nneg_ttl = 300\n",
			 why, whylen);
	if (rc == ENODEV) {
		printf("ok 1 # SKIP cannot mount FUSE here: %s\n", why);
		printf("1..1\n");
	}
	return rc;
}
