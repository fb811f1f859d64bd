/*
 * watch.c - the configuration file of a running mount, followed (see
 * watch.h).
 */
#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/watch.h"
#include "conf.h"
#include "log.h"

/* the stat fallback's period */
#define POLL_MS 2000

struct bfs_config_watch {
	char *path;
	char *dir;
	const char *base;
	struct bfs_lake *lake;
	struct bfs_fs *fs;
	struct fuse_session *se;
	int stop[2]; /* a byte on stop[1] ends the thread */
	int ino_fd;
	int wd;
	pthread_t thread;
	bool running;
	/* every configuration read: the lake borrows them */
	struct bfs_config *cfgs;
	size_t ncfgs;
};

/* What tells one version of the file from the next. */
struct file_sig {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

static void file_sig(const char *path, struct file_sig *s)
{
	struct stat sb;

	memset(s, 0, sizeof(*s));
	if (stat(path, &sb) != 0)
		return;
	s->exists = true;
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->size = sb.st_size;
	s->mtime = sb.st_mtim;
	s->ctime = sb.st_ctim;
}

static bool same_sig(const struct file_sig *a, const struct file_sig *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void changed(void *arg, const char *dir, const char *name)
{
	struct bfs_config_watch *w = arg;

	bfs_fs_invalidate(w->fs, w->se, dir, name);
}

static void reload(struct bfs_config_watch *w)
{
	struct bfs_config cfg = {0};
	char err[1024] = "";
	int rc;

	rc = bfs_config_load(w->path, &cfg, err, sizeof(err));
	if (rc != 0) {
		bfs_config_release(&cfg);
		bfs_log(LOG_ERR,
			"cannot follow the configuration: %s; the mount goes "
			"on with its buckets and catalogs as they were",
			err[0] ? err : strerror(rc));
		return;
	}
	bfs_log(LOG_INFO, "configuration '%s' changed: following it", w->path);
	w->cfgs = bfs_xrealloc(w->cfgs, (w->ncfgs + 1) * sizeof(cfg));
	w->cfgs[w->ncfgs] = cfg;
	bfs_lake_reload(w->lake, &w->cfgs[w->ncfgs], changed, w);
	w->ncfgs++;
}

static void add_watch(struct bfs_config_watch *w)
{
	if (w->ino_fd < 0 || w->wd >= 0)
		return;
	/* the CLI replaces the file by a rename: watch the directory */
	w->wd = inotify_add_watch(w->ino_fd, w->dir,
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE |
					  IN_DELETE | IN_MOVED_FROM |
					  IN_ATTRIB | IN_DELETE_SELF |
					  IN_MOVE_SELF);
}

static void *watch_main(void *arg)
{
	struct bfs_config_watch *w = arg;
	struct file_sig last, now;
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));

	file_sig(w->path, &last);
	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = w->stop[0], .events = POLLIN},
			{.fd = w->ino_fd, .events = POLLIN},
		};
		int n = poll(pfd, w->ino_fd >= 0 ? 2 : 1, POLL_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (w->ino_fd >= 0 && (pfd[1].revents & POLLIN)) {
			ssize_t got;

			while ((got = read(w->ino_fd, buf, sizeof(buf))) > 0) {
				for (char *p = buf; p < buf + got;) {
					struct inotify_event *e = (void *)p;

					if (e->mask & IN_IGNORED)
						w->wd = -1; /* dir gone */
					p += sizeof(*e) + e->len;
				}
			}
		}
		add_watch(w);
		file_sig(w->path, &now);
		if (same_sig(&last, &now))
			continue;
		last = now;
		if (now.exists)
			reload(w);
	}
	return NULL;
}

struct bfs_config_watch *bfs_config_watch_start(const char *path,
						struct bfs_lake *lake,
						struct bfs_fs *fs,
						struct fuse_session *se)
{
	struct bfs_config_watch *w = bfs_xcalloc(1, sizeof(*w));
	char *slash;
	int rc;

	w->path = bfs_xstrdup(path);
	w->dir = bfs_xstrdup(path);
	slash = strrchr(w->dir, '/');
	if (slash == NULL) {
		free(w->dir);
		w->dir = bfs_xstrdup(".");
		w->base = w->path;
	} else {
		*slash = '\0';
		w->base = w->path + (slash - w->dir) + 1;
		if (w->dir[0] == '\0') {
			free(w->dir);
			w->dir = bfs_xstrdup("/");
		}
	}
	w->lake = lake;
	w->fs = fs;
	w->se = se;
	w->wd = -1;
	w->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (pipe2(w->stop, O_CLOEXEC) != 0) {
		rc = errno;
		goto fail;
	}
	add_watch(w);
	rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc != 0)
		goto fail;
	w->running = true;
	return w;
fail:
	bfs_config_watch_free(w);
	errno = rc;
	return NULL;
}

void bfs_config_watch_stop(struct bfs_config_watch *w)
{
	if (w == NULL || !w->running)
		return;
	if (write(w->stop[1], "x", 1) != 1) {
		/* cannot fail on a fresh pipe */
	}
	BFS_PCHECK(pthread_join(w->thread, NULL));
	w->running = false;
}

void bfs_config_watch_free(struct bfs_config_watch *w)
{
	if (w == NULL)
		return;
	bfs_config_watch_stop(w);
	for (size_t i = 0; i < w->ncfgs; i++)
		bfs_config_release(&w->cfgs[i]);
	free(w->cfgs);
	if (w->ino_fd >= 0)
		close(w->ino_fd);
	if (w->stop[0] > 0)
		close(w->stop[0]);
	if (w->stop[1] > 0)
		close(w->stop[1]);
	free(w->dir);
	free(w->path);
	free(w);
}
