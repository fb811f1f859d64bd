/*
 * staging.c - staged writes on local disk (see staging.h).
 */
#include "compat.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/staging.h"
#include "log.h"
#include "metrics.h"
#include "store/upload.h"
#include "util.h"

#define FILL_CHUNK (8u << 20)
/* A read of the version we asked for (If-Match held) that comes back
 * shorter than that version's size is the server contradicting itself,
 * not a change (a change fails the If-Match): s3rver answers a PUT before
 * the object's bytes are on its disk, and a GET right after it read 0 of
 * 4 bytes (fs_posix's append, about 1 run in 30). Asked again FILL_RETRIES
 * times, after backoffs from FILL_BACKOFF s, before the open fails. */
#define FILL_RETRIES 4
#define FILL_BACKOFF 0.05

struct bfs_staged *bfs_staged_create(const char *dir, const char *store_name,
				     const char *key)
{
	struct bfs_staged *st = bfs_xcalloc(1, sizeof(*st));
	char tmpl[4096];
	int kfd = -1;
	int rc;

	snprintf(tmpl, sizeof(tmpl), "%s/XXXXXX.data", dir);
	st->fd = mkostemps(tmpl, 5, O_CLOEXEC);
	if (st->fd < 0) {
		rc = errno;
		bfs_log(LOG_ERR, "cannot create staging file in '%s': %s", dir,
			strerror(rc));
		free(st);
		errno = rc;
		return NULL;
	}
	bfs_metrics_fs_add(BFS_MFS_STAGED_FILES, 1);
	st->path = bfs_xstrdup(tmpl);
	st->key_path = bfs_xasprintf("%.*s.key", (int)(strlen(tmpl) - 5), tmpl);
	st->mpu_path = bfs_xasprintf("%.*s.mpu", (int)(strlen(tmpl) - 5), tmpl);
	st->sidecar = bfs_xasprintf("%s\n%s", store_name, key);
	kfd = open(st->key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   0600);
	if (kfd < 0) {
		rc = errno;
		goto fail;
	}
	rc = bfs_write_all(kfd, st->sidecar, strlen(st->sidecar));
	close(kfd);
	if (rc != 0)
		goto fail;
	clock_gettime(CLOCK_REALTIME, &st->mtime);
	return st;
fail:
	bfs_log(LOG_ERR, "cannot create staging file in '%s': %s", dir,
		strerror(rc));
	bfs_staged_free(st, true);
	errno = rc;
	return NULL;
}

/* Bring the staged-bytes gauge to this file's size (after any change). */
static void account(struct bfs_staged *st)
{
	uint64_t now = bfs_staged_size(st);

	bfs_metrics_fs_add(BFS_MFS_STAGED_BYTES,
			   (int64_t)now - (int64_t)st->counted);
	st->counted = now;
}

int bfs_staged_fill(struct bfs_staged *st, struct bfs_store *s, const char *key,
		    uint64_t size, const char *etag)
{
	char *buf = bfs_xmalloc(FILL_CHUNK);
	uint64_t off = 0;
	int rc = 0;

	while (off < size) {
		size_t want = (size_t)BFS_MIN((uint64_t)FILL_CHUNK, size - off);
		size_t got = 0;

		for (unsigned n = 0;; n++) {
			rc = bfs_store_read_full(s, key, off, want, buf, &got,
						 etag);
			if (rc != 0 || got == want || n == FILL_RETRIES)
				break;
			bfs_log(LOG_NOTICE,
				"%s: the server sent %zu of %zu bytes at %llu "
				"of '%s' (ETag %s); asking again",
				s->name, got, want, (unsigned long long)off,
				key, etag);
			bfs_sleep_seconds(bfs_backoff(FILL_BACKOFF, 1.0, n));
		}
		if (rc != 0)
			break;
		if (got != want) {
			rc = ESTALE; /* short at every asking */
			break;
		}
		rc = bfs_write_all(st->fd, buf, got);
		if (rc != 0)
			break;
		off += got;
	}
	free(buf);
	account(st);
	if (rc == 0)
		snprintf(st->base_etag, sizeof(st->base_etag), "%s", etag);
	return rc;
}

uint64_t bfs_staged_size(const struct bfs_staged *st)
{
	struct stat sb;

	if (fstat(st->fd, &sb) != 0)
		return 0;
	return (uint64_t)sb.st_size;
}

/* Rewrite the whole sidecar (it names another key now): a new file
 * renamed over the old one, so a crash leaves one or the other. */
static bool rewrite_sidecar(struct bfs_staged *st, const char *text)
{
	char *tmp = bfs_xasprintf("%s.tmp", st->key_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0 && bfs_write_all(fd, text, strlen(text)) == 0 &&
	    close(fd) == 0)
		fd = rename(tmp, st->key_path) == 0 ? -1 : -2;
	else if (fd >= 0)
		close(fd);
	if (fd != -1)
		unlink(tmp);
	free(tmp);
	return fd == -1;
}

void bfs_staged_mark_clean(struct bfs_staged *st, const char *store_name,
			   const char *key, const char *etag)
{
	char *head = bfs_xasprintf("%s\n%s", store_name, key);
	char *line = bfs_xasprintf("\nclean %s\n", etag);
	size_t hlen = strlen(head);
	int fd = -1;
	bool ok = false;

	if (strcmp(head, st->sidecar) == 0)
		fd = open(st->key_path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		/*
		 * Append the clean line in place, no new file: cut any older
		 * clean line first, so a crash in between leaves the sidecar
		 * dirty (the data kept), never naming a wrong state. Recovery
		 * needs only the line's start, which one small write puts
		 * there whole.
		 */
		ok = ftruncate(fd, (off_t)hlen) == 0 &&
		     pwrite(fd, line, strlen(line), (off_t)hlen) ==
			     (ssize_t)strlen(line);
		close(fd);
	}
	if (!ok) {
		char *text = bfs_xasprintf("%s%s", head, line);

		ok = rewrite_sidecar(st, text);
		free(text);
		if (ok) {
			free(st->sidecar);
			st->sidecar = head;
			head = NULL;
		}
	}
	if (ok)
		st->sidecar_clean = true;
	free(head);
	free(line);
}

/* A write after the upload makes the sidecar wrong again. */
static void mark_dirty(struct bfs_staged *st)
{
	int fd;

	if (!st->sidecar_clean)
		return; /* it says dirty already */
	fd = open(st->key_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)strlen(st->sidecar)) != 0)
		bfs_log(LOG_WARNING, "cannot update '%s'", st->key_path);
	else
		st->sidecar_clean = false;
	if (fd >= 0)
		close(fd);
}

void bfs_staged_touch(struct bfs_staged *st)
{
	bfs_upload_feed_break(st->feed);
	bfs_staged_wrote(st);
}

void bfs_staged_wrote(struct bfs_staged *st)
{
	mark_dirty(st);
	account(st);
	st->wgen++;
	clock_gettime(CLOCK_REALTIME, &st->mtime);
}

void bfs_staged_free(struct bfs_staged *st, bool discard)
{
	if (st == NULL)
		return;
	bfs_metrics_fs_add(BFS_MFS_STAGED_FILES, -1);
	bfs_metrics_fs_add(BFS_MFS_STAGED_BYTES, -(int64_t)st->counted);
	bfs_upload_feed_abort(&st->feed);
	if (st->fd >= 0)
		close(st->fd);
	if (discard) {
		if (st->path)
			unlink(st->path);
		if (st->key_path)
			unlink(st->key_path);
	} else {
		bfs_log(LOG_ERR,
			"unsaved data kept in '%s' (object named in '%s')",
			st->path, st->key_path);
	}
	free(st->path);
	free(st->key_path);
	free(st->mpu_path);
	free(st->sidecar);
	free(st);
}
