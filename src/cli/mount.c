/*
 * mount.c - `bucketfs mount [NAME] MOUNTPOINT` and the classic
 * `bucketfs NAME MOUNTPOINT -o opts` form of mount.fuse3: argument
 * parsing, checks that fail early with one clear line, daemonizing, and
 * the FUSE session.
 *
 * Order matters: everything that can fail for a user reason is checked
 * in the foreground; the daemon forks before any thread, LMDB
 * environment or curl handle exists (they do not survive fork), and the
 * parent exits only when the child reports the mount live or failed.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <fuse_log.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/prefetch.h"
#include "catalog/lake.h"
#include "cli/cli_priv.h"
#include "cli/notify.h"
#include "cli/readahead.h"
#include "cli/watch.h"
#include "conf.h"
#include "fs/fs.h"
#include "fs/recovery.h"
#include "store/creds_chain.h"
#include "store/upload.h"
#include "secret.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "util.h"

struct mount_args {
	const char *config;
	const char *name;	/* bucket or catalog, NULL for the lake */
	const char *mountpoint; /* absolute once checked */
	char *abs_mountpoint;	/* what mountpoint points to then */
	char *config_path;	/* absolute: the file the daemon follows */
	bool foreground;
	bool debug;
	bool single_thread;
	bool premount; /* --premount: mount, hand the fd to systemd, exit */
	int fuse_fd;   /* the mount systemd passed (LISTEN_FDS), or -1 */
	char **opts;   /* each -o item, split on ',' */
	size_t nopts;
};

static void add_opts(struct mount_args *a, const char *list)
{
	char *copy = bfs_xstrdup(list);
	char *save = NULL;

	for (char *p = strtok_r(copy, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		a->opts =
			bfs_xrealloc(a->opts, (a->nopts + 1) * sizeof(char *));
		a->opts[a->nopts++] = bfs_xstrdup(p);
	}
	free(copy);
}

static void free_args(struct mount_args *a)
{
	for (size_t i = 0; i < a->nopts; i++)
		free(a->opts[i]);
	free(a->opts);
	free(a->abs_mountpoint);
	free(a->config_path);
}

static int parse_args(int argc, char **argv, struct mount_args *a)
{
	const char *pos[2];
	int npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-f") == 0) {
			a->foreground = true;
		} else if (strcmp(arg, "-d") == 0) {
			a->debug = true;
			a->foreground = true;
		} else if (strcmp(arg, "-s") == 0) {
			a->single_thread = true;
		} else if (strcmp(arg, "--premount") == 0) {
			a->premount = true;
		} else if (strcmp(arg, "-o") == 0 && i + 1 < argc) {
			add_opts(a, argv[++i]);
		} else if (strncmp(arg, "-o", 2) == 0 && arg[2]) {
			add_opts(a, arg + 2);
		} else if (strcmp(arg, "--config") == 0 && i + 1 < argc) {
			a->config = argv[++i];
		} else if (strncmp(arg, "--config=", 9) == 0) {
			a->config = arg + 9;
		} else if (arg[0] == '-' && arg[1]) {
			bfs_cli_error("unknown option '%s' (see 'bucketfs "
				      "--help')",
				      arg);
			return EINVAL;
		} else if (npos < 2) {
			pos[npos++] = arg;
		} else {
			bfs_cli_error("too many arguments: '%s'", arg);
			return EINVAL;
		}
	}
	if (npos == 0) {
		bfs_cli_error("missing mountpoint: bucketfs mount [NAME] "
			      "MOUNTPOINT");
		return EINVAL;
	}
	a->mountpoint = pos[npos - 1];
	a->name = npos == 2 ? pos[0] : NULL;
	return 0;
}

/* Options that mount(8) and fstab pass and that mean nothing here. */
static bool ignored_option(const char *o)
{
	static const char *const names[] = {
		"_netdev",  "nofail", "auto",  "noauto", "user",    "users",
		"defaults", "rw",     "dev",   "nodev",	 "suid",    "nosuid",
		"exec",	    "noexec", "async", "atime",	 "noatime", "relatime",
	};

	if (strncmp(o, "x-", 2) == 0)
		return true;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(names); i++)
		if (strcmp(o, names[i]) == 0)
			return true;
	return false;
}

static int check_mountpoint(const char *mp)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	bool empty = true;

	if (stat(mp, &sb) != 0) {
		bfs_cli_error("cannot mount on '%s': %s", mp, strerror(errno));
		return errno;
	}
	if (!S_ISDIR(sb.st_mode)) {
		bfs_cli_error("cannot mount on '%s': Not a directory", mp);
		return ENOTDIR;
	}
	d = opendir(mp);
	if (d == NULL) {
		bfs_cli_error("cannot mount on '%s': %s", mp, strerror(errno));
		return errno;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	if (!empty) {
		bfs_cli_error("cannot mount on '%s': directory not empty "
			      "(mounting would hide its files)",
			      mp);
		return ENOTEMPTY;
	}
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		bfs_cli_error("cannot open /dev/fuse: %s (is the fuse module "
			      "loaded and fuse3 installed?)",
			      strerror(errno));
		return errno;
	}
	return 0;
}

/* The child tells the waiting parent how the mount went: "" is success,
 * anything else is the error line. */
static void report(int fd, const char *msg)
{
	size_t n = strlen(msg) + 1;

	if (fd < 0)
		return;
	if (write(fd, msg, n) != (ssize_t)n) {
		/* the parent is gone; nothing to tell */
	}
	close(fd);
}

static int wait_for_child(int fd, const char *log_dest)
{
	char msg[1024];
	ssize_t n, got = 0;

	while ((n = read(fd, msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	msg[got] = '\0';
	if (got == 0) {
		bfs_cli_error("the mount daemon exited before mounting (its "
			      "log: %s)",
			      log_dest);
		return 1;
	}
	if (msg[0] != '\0') {
		fprintf(stderr, "bucketfs: %s\n", msg);
		return 1;
	}
	return 0;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

struct session_args {
	char **argv;
	int argc;
};

static void fuse_arg(struct session_args *s, const char *arg)
{
	s->argv = bfs_xrealloc(s->argv, (size_t)(s->argc + 2) * sizeof(char *));
	s->argv[s->argc++] = bfs_xstrdup(arg);
	s->argv[s->argc] = NULL;
}

/*
 * Move a dead daemon's unacknowledged writes to lost+found and abort the
 * multipart uploads it left open in our buckets.
 */
static void abort_left_uploads(struct bfs_lake *lake, const char *cache_dir)
{
	struct bfs_open_upload *u = NULL;
	size_t n = 0;

	bfs_staging_recover(cache_dir, &u, &n);
	for (size_t i = 0; i < n; i++) {
		struct bfs_store *s = bfs_lake_store(lake, u[i].store);
		int rc;

		if (s == NULL || s->mpu_abort == NULL) {
			bfs_log(LOG_WARNING,
				"%s: multipart upload '%s' of '%s' left open "
				"by a daemon that stopped; this mount does not "
				"serve that bucket, abort it there",
				u[i].store, u[i].upload_id, u[i].key);
			continue;
		}
		rc = s->mpu_abort(s, u[i].key, u[i].upload_id);
		bfs_log(rc == 0 || rc == ENOENT ? LOG_NOTICE : LOG_WARNING,
			"%s: multipart upload of '%s' left open by a daemon "
			"that stopped: %s",
			u[i].store, u[i].key,
			rc == 0 || rc == ENOENT ? "aborted" : strerror(rc));
	}
	bfs_open_uploads_free(u, n);
}

struct readahead_job {
	char *mp; /* absolute */
	uint64_t bytes;
};

/*
 * Larger kernel reads (see readahead.c); without root, the default. The
 * kernel lowers the read-ahead to what FUSE's INIT reply allows when it
 * reads that reply, so this waits for the mount to answer a stat (INIT
 * done) before it raises it: a thread, as the loop must run meanwhile.
 */
static void *readahead_main(void *arg)
{
	struct readahead_job *j = arg;
	struct stat sb;
	char dev[64] = "";
	uint64_t ra = 0;
	int rc;

	rc = stat(j->mp, &sb) == 0 ? 0 : errno;
	if (rc == 0)
		rc = bfs_mount_device(j->mp, dev, sizeof(dev));
	if (rc == 0)
		rc = bfs_set_readahead(dev, j->bytes);
	if (rc == 0) {
		ra = j->bytes;
	} else {
		bfs_log(rc == EACCES || rc == EROFS ? LOG_INFO : LOG_WARNING,
			"kernel read-ahead of %s left at its default: %s",
			j->mp, strerror(rc));
		/* the prefetcher knows the kernel's full read-ahead when it
		 * sees it (an unprivileged mount keeps 128 KiB) */
		if (dev[0])
			(void)bfs_get_readahead(dev, &ra);
	}
	if (ra)
		bfs_prefetch_set_readahead(ra);
	free(j->mp);
	free(j);
	return NULL;
}

static void set_readahead(char *mp, uint64_t bytes)
{
	struct readahead_job *j = bfs_xcalloc(1, sizeof(*j));
	pthread_t t;

	j->mp = mp;
	j->bytes = bytes;
	if (pthread_create(&t, NULL, readahead_main, j) != 0) {
		free(j->mp);
		free(j);
		return;
	}
	pthread_detach(t);
}

static char fuse_msg[512];

static void capture_fuse_log(enum fuse_log_level level, const char *fmt,
			     va_list ap)
{
	size_t n = strlen(fuse_msg);

	/* libfuse writes one message in several calls */
	(void)level;
	vsnprintf(fuse_msg + n, sizeof(fuse_msg) - n, fmt, ap);
	fuse_msg[strcspn(fuse_msg, "\n")] = '\0';
}

/*
 * Let libfuse parse the FUSE options here, in the foreground, so that
 * an option neither bucketfs nor FUSE knows is named on the terminal
 * instead of failing a detached daemon. fuse_session_new only parses
 * and allocates: no device is opened, no thread started.
 */
static int check_fuse_options(struct session_args *sa)
{
	static const struct fuse_lowlevel_ops none;
	struct fuse_args args = FUSE_ARGS_INIT(sa->argc, sa->argv);
	struct fuse_session *se;
	const char *p, *q;

	fuse_msg[0] = '\0';
	fuse_set_log_func(capture_fuse_log);
	se = fuse_session_new(&args, &none, sizeof(none), NULL);
	bfs_log_install_fuse();
	fuse_opt_free_args(&args);
	if (se) {
		fuse_session_destroy(se);
		return 0;
	}
	/* libfuse 3: "fuse: unknown option(s): `-o foo,bar'" */
	p = strstr(fuse_msg, "unknown option");
	q = p ? strstr(p, "-o ") : NULL;
	if (q) {
		size_t n = strcspn(q + 3, "'");

		bfs_cli_error("unknown option%s '%.*s': neither a bucketfs "
			      "option (see 'bucketfs --help') nor a FUSE "
			      "mount option",
			      memchr(q + 3, ',', n) ? "s" : "", (int)n, q + 3);
	} else {
		bfs_cli_error("bad FUSE option: %s",
			      fuse_msg[0] ? fuse_msg : "rejected by libfuse");
	}
	return EINVAL;
}

/*
 * Where a detached daemon logs (log_file=): syslog when asked or, by
 * default, when a syslog socket exists; otherwise a file. Chosen and
 * opened before the fork so that a bad path fails the mount command.
 * @param dest what the mount command names when the daemon fails.
 */
static int open_daemon_log(const struct bfs_options *o, char **dest)
{
	struct stat sb;
	char *path = NULL, *dir, *slash;
	int rc;

	if (strcmp(o->log_file, "syslog") == 0 ||
	    (o->log_file[0] == '\0' && stat("/dev/log", &sb) == 0 &&
	     S_ISSOCK(sb.st_mode))) {
		bfs_log_to_syslog("bucketfs");
		*dest = bfs_xstrdup("syslog");
		return 0;
	}
	if (o->log_file[0]) {
		path = bfs_xstrdup(o->log_file);
	} else {
		dir = bfs_config_state_dir();
		path = bfs_xasprintf("%s/bucketfs.log", dir);
		free(dir);
	}
	dir = bfs_xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		bfs_mkdir_p(dir, 0700);
	}
	free(dir);
	rc = bfs_log_to_file(path);
	if (rc != 0) {
		bfs_cli_error("cannot open log file '%s': %s (set -o "
			      "log_file=PATH or log_file=syslog)",
			      path, strerror(rc));
		free(path);
		return rc;
	}
	*dest = path;
	return 0;
}

/* Seconds since *t0 (CLOCK_MONOTONIC). */
static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static int run_session(struct mount_args *a, struct bfs_config *cfg,
		       struct session_args *sa, int status_fd)
{
	struct bfs_lake *lake = NULL;
	struct bfs_fs_conf fconf = {.opts = &cfg->opts};
	struct fuse_args args = FUSE_ARGS_INIT(sa->argc, sa->argv);
	struct fuse_session *se = NULL;
	struct bfs_fs *fs = NULL;
	struct bfs_config_watch *watch = NULL;
	struct bfs_metrics_http *http = NULL;
	char err[512] = "";
	char fdpath[32];
	char *staging = NULL;
	char *abs_mp = NULL;
	int lock_fd = -1;
	/* how long stopping took (0: the loop never ran), by step */
	struct timespec stop_t0 = {0};
	double stop_t[3];
	int rc;

	/* after the fork: decrypted keys must sit in memory locked by this
	 * process (locks do not survive fork) */
	bfs_metrics_start();
	/* the chain's copy of AWS_* first: the environment is wiped next */
	bfs_creds_env_capture();
	rc = bfs_lake_open(cfg, a->name, &lake, err, sizeof(err));
	if (rc != 0)
		goto out;
	bfs_secret_scrub_environment();
	rc = bfs_lake_start(lake, err, sizeof(err));
	if (rc != 0)
		goto out;
	rc = bfs_mkdir_p(cfg->opts.cache_dir, 0700);
	if (rc == 0)
		rc = bfs_staging_open(cfg->opts.cache_dir, &staging, &lock_fd,
				      err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot create cache dir '%s': %s",
			 cfg->opts.cache_dir, strerror(rc));
	if (rc != 0)
		goto out;
	abort_left_uploads(lake, cfg->opts.cache_dir);
	fconf.staging_dir = staging;
	bfs_lake_root(lake, &fconf.root);
	fs = bfs_fs_create(&fconf, err, sizeof(err));
	bfs_node_release(&fconf.root);
	if (fs == NULL) {
		rc = errno;
		goto out;
	}
	se = fuse_session_new(&args, bfs_fs_ops(),
			      sizeof(struct fuse_lowlevel_ops), fs);
	if (se == NULL) {
		snprintf(err, sizeof(err),
			 "cannot start FUSE session (bad -o option?)");
		rc = EINVAL;
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		snprintf(err, sizeof(err), "cannot set signal handlers");
		rc = EIO;
		goto out;
	}
	/* before the mount: an address the operator asked for and that
	 * cannot be served fails the mount, as any other bad option does */
	if (cfg->opts.metrics[0]) {
		rc = bfs_metrics_http_start(cfg->opts.metrics, &http, err,
					    sizeof(err));
		if (rc != 0)
			goto out_signals;
	}
	/* resolved before the mount: afterwards, looking up the path would
	 * wait for this very daemon */
	if (a->fuse_fd >= 0) {
		/* mounted by --premount outside the sandbox: serve it (the
		 * path would wait for this very daemon, and the kernel's
		 * read-ahead stays as it is) */
		snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", a->fuse_fd);
	} else {
		abs_mp = realpath(a->mountpoint, NULL);
		snprintf(fdpath, sizeof(fdpath), "%s", "");
	}
	if (fuse_session_mount(se, fdpath[0] ? fdpath : a->mountpoint) != 0) {
		snprintf(err, sizeof(err),
			 "cannot mount on '%s' (see the messages above)",
			 a->mountpoint);
		rc = EIO;
		goto out_signals;
	}
	bfs_log(LOG_INFO, "mounted %s%s%s on %s", a->name ? "'" : "the lake",
		a->name ? a->name : "", a->name ? "'" : "", a->mountpoint);
	if (abs_mp && cfg->opts.readahead) {
		set_readahead(abs_mp, cfg->opts.readahead);
		abs_mp = NULL; /* the thread's */
	}
	/* buckets and catalogs connected or removed from now on reach this
	 * mount without a remount */
	if (a->config_path) {
		watch = bfs_config_watch_start(a->config_path, lake, fs, se);
		if (watch == NULL)
			bfs_log(LOG_WARNING,
				"cannot follow '%s' (%s): buckets and catalogs "
				"connected from now on need a remount",
				a->config_path, strerror(errno));
	}
	report(status_fd, "");
	status_fd = -1;
	/* the store's copy goes: a restart mounts afresh */
	if (a->fuse_fd >= 0)
		bfs_notify("FDSTOREREMOVE=1\nFDNAME=fuse");
	bfs_notify("READY=1");
	if (!a->foreground) {
		bfs_log_tee_stderr(false);
		detach_stdio();
	}
	if (a->single_thread) {
		rc = fuse_session_loop(se);
	} else {
		struct fuse_loop_config *lc = fuse_loop_cfg_create();

		fuse_loop_cfg_set_max_threads(lc, 16);
		fuse_loop_cfg_set_idle_threads(lc, 8);
		rc = fuse_session_loop_mt(se, lc);
		fuse_loop_cfg_destroy(lc);
	}
	rc = rc < 0 ? -rc : 0;
	clock_gettime(CLOCK_MONOTONIC, &stop_t0);
	bfs_notify("STOPPING=1");
	bfs_config_watch_stop(watch);
	fuse_session_unmount(se);
	bfs_log(LOG_INFO, "unmounted %s", a->mountpoint);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	if (fs) {
		unsigned failed = bfs_fs_flush_all(fs);

		if (failed)
			bfs_log(LOG_ERR,
				"%u file(s) could not be uploaded; their data "
				"is kept in '%s'",
				failed, staging);
	}
	stop_t[0] = since(&stop_t0);
	bfs_metrics_http_stop(http);
	if (lake)
		bfs_lake_shutdown(lake);
	stop_t[1] = since(&stop_t0);
	bfs_config_watch_stop(watch);
	bfs_fs_destroy(fs);
	/* every upload has ended: the part threads go before the stores */
	bfs_upload_pool_stop();
	bfs_lake_destroy(lake);
	stop_t[2] = since(&stop_t0);
	if (stop_t0.tv_sec)
		bfs_log(stop_t[2] > 10 ? LOG_NOTICE : LOG_INFO,
			"stopped in %.1f s: uploads of unsaved files %.1f s, "
			"stores (transfers in flight, caches) %.1f s, "
			"freeing %.1f s",
			stop_t[2], stop_t[0], stop_t[1] - stop_t[0],
			stop_t[2] - stop_t[1]);
	bfs_config_watch_free(watch);
	fuse_opt_free_args(&args);
	if (staging)
		bfs_staging_close(staging, lock_fd);
	free(staging);
	free(abs_mp);
	if (err[0]) {
		/* the waiting mount command prints this line itself */
		if (status_fd >= 0)
			bfs_log_tee_stderr(false);
		bfs_log(LOG_ERR, "%s", err);
		report(status_fd, err);
	} else if (status_fd >= 0) {
		report(status_fd, "mount failed");
	}
	return rc;
}

int bfs_cli_mount(int argc, char **argv)
{
	struct mount_args a = {0};
	struct bfs_config cfg = {0};
	struct session_args sa = {0};
	char err[1024] = "";
	char *fuse_opts = NULL;
	char *log_dest = NULL;
	int status_pipe[2] = {-1, -1};
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < a.nopts; i++)
		if (strncmp(a.opts[i], "config=", 7) == 0)
			a.config = a.opts[i] + 7;
	rc = bfs_config_load(a.config, &cfg, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	fuse_arg(&sa, "bucketfs");
	for (size_t i = 0; i < a.nopts; i++) {
		const char *o = a.opts[i];

		if (strncmp(o, "config=", 7) == 0 || ignored_option(o))
			continue;
		rc = bfs_config_set_option(&cfg, o, err, sizeof(err));
		if (rc == 0 && strcmp(o, "ro") != 0)
			continue;
		if (rc != 0 && rc != ENOENT) {
			bfs_cli_error("%s", err);
			goto out;
		}
		/* not ours (or shared, like ro): FUSE's */
		char *joined =
			bfs_xasprintf("%s%s%s", fuse_opts ? fuse_opts : "",
				      fuse_opts ? "," : "", o);
		free(fuse_opts);
		fuse_opts = joined;
		rc = 0;
	}
	if (cfg.opts.log_level && cfg.opts.log_level[0]) {
		int level = bfs_log_parse_level(cfg.opts.log_level);

		if (level < 0) {
			bfs_cli_error("bad log_level '%s' (err, warning, "
				      "notice, info, debug)",
				      cfg.opts.log_level);
			rc = EINVAL;
			goto out;
		}
		bfs_log_set_level(level);
	}
	if (cfg.opts.debug && cfg.opts.debug[0] &&
	    bfs_log_set_debug(cfg.opts.debug) != 0) {
		bfs_cli_error("bad debug list '%s' (fs, http, sigv4, meta, "
			      "store, catalog, all)",
			      cfg.opts.debug);
		rc = EINVAL;
		goto out;
	}
	/* a mount systemd passed is live but not served yet: looking at
	 * its path would wait for this very process */
	a.fuse_fd = a.premount ? -1 : bfs_listen_fd("fuse");
	if (a.premount) {
		/* searchable by the users allow_other is for, whatever
		 * the unit's UMask= */
		mode_t old = umask(022);

		bfs_mkdir_p(a.mountpoint, 0755);
		umask(old);
	}
	rc = a.fuse_fd >= 0 ? 0 : check_mountpoint(a.mountpoint);
	if (rc != 0)
		goto out;
	/* the daemon changes to "/": a relative mount point must be
	 * resolved here */
	a.abs_mountpoint = a.fuse_fd >= 0 ? bfs_xstrdup(a.mountpoint)
					  : realpath(a.mountpoint, NULL);
	if (a.abs_mountpoint == NULL) {
		rc = errno;
		bfs_cli_error("cannot mount on '%s': %s", a.mountpoint,
			      strerror(rc));
		goto out;
	}
	a.mountpoint = a.abs_mountpoint;
	/* the daemon runs in "/": the file it follows needs a full path */
	if (cfg.path)
		a.config_path = realpath(cfg.path, NULL);
	if (a.config_path == NULL) {
		char *p = bfs_config_default_path();

		if (p && p[0] == '/')
			a.config_path = p;
		else
			free(p);
	}
	if (a.name && !bfs_config_bucket(&cfg, a.name) &&
	    !bfs_config_catalog(&cfg, a.name)) {
		bfs_cli_error("unknown bucket or catalog '%s' (see 'bucketfs "
			      "bucket list' and 'bucketfs catalog list')",
			      a.name);
		rc = ENOENT;
		goto out;
	}
	{
		char *fsname = bfs_xasprintf(
			"fsname=bucketfs:%s,subtype=bucketfs%s%s",
			a.name ? a.name : "lake", fuse_opts ? "," : "",
			fuse_opts ? fuse_opts : "");

		fuse_arg(&sa, "-o");
		fuse_arg(&sa, fsname);
		free(fsname);
	}
	if (a.debug)
		fuse_arg(&sa, "-d");
	rc = check_fuse_options(&sa);
	if (rc != 0)
		goto out;
	if (a.premount) {
		rc = bfs_cli_premount(a.mountpoint, a.name, fuse_opts);
		goto out;
	}
	bfs_log_install_fuse();
	if (!a.foreground) {
		pid_t pid;

		rc = open_daemon_log(&cfg.opts, &log_dest);
		if (rc != 0)
			goto out;
		/* until the mount is live, the daemon's lines reach this
		 * terminal too */
		bfs_log_tee_stderr(true);

		if (pipe2(status_pipe, O_CLOEXEC) != 0) {
			rc = errno;
			bfs_cli_error("pipe: %s", strerror(rc));
			goto out;
		}
		pid = fork();
		if (pid < 0) {
			rc = errno;
			bfs_cli_error("fork: %s", strerror(rc));
			goto out;
		}
		if (pid > 0) {
			close(status_pipe[1]);
			status_pipe[1] = -1;
			rc = wait_for_child(status_pipe[0], log_dest);
			status_pipe[0] = -1;
			goto out;
		}
		close(status_pipe[0]);
		status_pipe[0] = -1;
		setsid();
		if (chdir("/") != 0) {
			/* cannot fail for "/" in practice */
		}
	}
	rc = run_session(&a, &cfg, &sa, status_pipe[1]);
	status_pipe[1] = -1;
	rc = rc ? 1 : 0;
out:
	if (status_pipe[0] >= 0)
		close(status_pipe[0]);
	if (status_pipe[1] >= 0)
		close(status_pipe[1]);
	bfs_config_release(&cfg);
	free(fuse_opts);
	free(log_dest);
	free_args(&a);
	for (int i = 0; i < sa.argc; i++)
		free(sa.argv[i]);
	free(sa.argv);
	return rc ? 1 : 0;
}
