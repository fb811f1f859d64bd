/*
 * recovery.c - leftovers of dead daemons (see recovery.h).
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/recovery.h"
#include "log.h"
#include "util.h"

int bfs_staging_open(const char *cache_dir, char **dir, int *lock_fd, char *err,
		     size_t errlen)
{
	char *mine = bfs_xasprintf("%s/staging/%ld", cache_dir, (long)getpid());
	char *lock = bfs_xasprintf("%s/lock", mine);
	int rc, fd = -1;

	rc = bfs_mkdir_p(mine, 0700);
	if (rc == 0) {
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0)
			rc = errno;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot create staging dir '%s': %s",
			 mine, strerror(rc));
		if (fd >= 0)
			close(fd);
		free(mine);
		mine = NULL;
		fd = -1;
	}
	*dir = mine;
	*lock_fd = fd;
	free(lock);
	return rc;
}

void bfs_staging_close(const char *dir, int lock_fd)
{
	char *lock = bfs_xasprintf("%s/lock", dir);

	unlink(lock);
	if (lock_fd >= 0)
		close(lock_fd);
	rmdir(dir);
	free(lock);
}

/* Read a sidecar: "store\nkey[\nclean ETAG]". */
static bool sidecar_clean(const char *path, char *what, size_t whatlen)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *nl;

	snprintf(what, whatlen, "(unknown object)");
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl == NULL)
		return false;
	*nl = '\0';
	{
		char *key = nl + 1;
		char *nl2 = strchr(key, '\n');
		bool clean = nl2 && strncmp(nl2 + 1, "clean ", 6) == 0;

		if (nl2)
			*nl2 = '\0';
		snprintf(what, whatlen, "bucket '%s' key '%s'", buf, key);
		return clean;
	}
}

/* Read a .mpu note: "store\nkey\nupload_id\n". */
static void read_note(const char *path, struct bfs_open_upload **u, size_t *n)
{
	char buf[4200], *a, *b, *c;
	FILE *f = fopen(path, "re");
	size_t len;

	if (f == NULL)
		return;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	a = buf;
	b = strchr(a, '\n');
	c = b ? strchr(b + 1, '\n') : NULL;
	if (c == NULL)
		return;
	*b++ = '\0';
	*c++ = '\0';
	c[strcspn(c, "\n")] = '\0';
	*u = bfs_xrealloc(*u, (*n + 1) * sizeof(**u));
	(*u)[*n].store = bfs_xstrdup(a);
	(*u)[*n].key = bfs_xstrdup(b);
	(*u)[*n].upload_id = bfs_xstrdup(c);
	(*n)++;
}

void bfs_open_uploads_free(struct bfs_open_upload *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(u[i].store);
		free(u[i].key);
		free(u[i].upload_id);
	}
	free(u);
}

/* Recover one dead daemon's staging dir. */
static unsigned recover_dir(const char *cache_dir, const char *dir,
			    struct bfs_open_upload **uploads, size_t *nup)
{
	char *lf = bfs_xasprintf("%s/lost+found", cache_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned moved = 0;

	if (d == NULL) {
		free(lf);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *data, *side, *dest;
		char what[4400];

		if (n > 4 && strcmp(de->d_name + n - 4, ".mpu") == 0) {
			char *note = bfs_xasprintf("%s/%s", dir, de->d_name);

			read_note(note, uploads, nup);
			unlink(note);
			free(note);
			continue;
		}
		if (n < 6 || strcmp(de->d_name + n - 5, ".data") != 0)
			continue;
		data = bfs_xasprintf("%s/%s", dir, de->d_name);
		side = bfs_xasprintf("%s/%.*s.key", dir, (int)(n - 5),
				     de->d_name);
		if (sidecar_clean(side, what, sizeof(what))) {
			unlink(data);
			unlink(side);
		} else if (bfs_mkdir_p(lf, 0700) == 0) {
			dest = bfs_xasprintf("%s/%ld-%s", lf, (long)time(NULL),
					     de->d_name);
			if (rename(data, dest) == 0) {
				char *dkey = bfs_xasprintf(
					"%.*s.key", (int)(strlen(dest) - 5),
					dest);

				if (rename(side, dkey) != 0)
					unlink(side);
				bfs_log(LOG_WARNING,
					"unsaved writes of %s from a daemon "
					"that stopped are kept in '%s'",
					what, dest);
				moved++;
				free(dkey);
			}
			free(dest);
		}
		free(data);
		free(side);
	}
	closedir(d);
	free(lf);
	return moved;
}

unsigned bfs_staging_recover(const char *cache_dir,
			     struct bfs_open_upload **uploads, size_t *n)
{
	char *top = bfs_xasprintf("%s/staging", cache_dir);
	DIR *d = opendir(top);
	struct dirent *de;
	unsigned moved = 0;

	*uploads = NULL;
	*n = 0;
	if (d == NULL) {
		free(top);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char *dir, *lock;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		dir = bfs_xasprintf("%s/%s", top, de->d_name);
		lock = bfs_xasprintf("%s/lock", dir);
		fd = open(lock, O_RDWR | O_CLOEXEC);
		/* a lock we can take, or none at all, belongs to nobody
		 * alive */
		if ((fd < 0 && errno == ENOENT) ||
		    (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)) {
			moved += recover_dir(cache_dir, dir, uploads, n);
			unlink(lock);
			rmdir(dir);
		}
		if (fd >= 0)
			close(fd);
		free(dir);
		free(lock);
	}
	closedir(d);
	free(top);
	return moved;
}
