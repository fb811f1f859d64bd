/*
 * local_write.c - writing objects of the local store atomically: the
 * namespace lock, temporary files, copying data, creating and syncing
 * parent directories, conditions (if_match, if_none_match) and the
 * rename that commits.
 */
#include "compat.h"

#include "store/local_priv.h"

/* ---- writing ---- */

void ns_lock(struct local_priv *p)
{
	BFS_PCHECK(pthread_mutex_lock(&p->ns_lock));
	while (flock(p->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			bfs_log(LOG_WARNING,
				"local store '%s': cannot lock '%s/.bucketfs/"
				"lock': %s",
				p->name, p->dir, strerror(errno));
			break;
		}
	}
}

void ns_unlock(struct local_priv *p)
{
	flock(p->lock_fd, LOCK_UN);
	BFS_PCHECK(pthread_mutex_unlock(&p->ns_lock));
}

static uint32_t rand32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	return r;
}

/* Create a new temporary file in dirfd, its name in name (64 bytes). */
int tmp_open(struct local_priv *p, int dirfd, char *name, int *fdp)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned long long seq =
			__atomic_add_fetch(&p->tmp_seq, 1, __ATOMIC_RELAXED);
		int fd;

		snprintf(name, 64, "t.%ld.%llu.%08x", (long)getpid(), seq,
			 rand32());
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			    0600);
		if (fd >= 0) {
			*fdp = fd;
			return 0;
		}
		if (errno != EEXIST)
			return sys_err(p, "cannot create a temporary file",
				       name, errno);
	}
	return sys_err(p, "cannot create a temporary file", "tmp", EEXIST);
}

/*
 * Copy size bytes from src at soff to dst at doff, hashing them into md
 * if not NULL. Read errors and a short source are EIO and logged with
 * srcwhat; write errors go through sys_err (ENOSPC).
 */
int copy_data(struct local_priv *p, int src, off_t soff, int dst, off_t doff,
	      uint64_t size, EVP_MD_CTX *md, const char *srcwhat)
{
	char *buf = NULL;
	uint64_t done = 0;
	int rc = 0;

	if (md == NULL) {
		/* no hashing: let the kernel copy (or reflink) */
		while (done < size) {
			loff_t in = soff + (off_t)done, o = doff + (off_t)done;
			ssize_t n = copy_file_range(
				src, &in, dst, &o,
				(size_t)BFS_MIN(size - done, 1u << 30), 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (uint64_t)n;
		}
	}
	if (done < size)
		buf = bfs_xmalloc(IO_BUF);
	while (done < size) {
		size_t want = (size_t)BFS_MIN(size - done, (uint64_t)IO_BUF);
		size_t got;

		rc = bfs_pread_full(src, buf, want, soff + (off_t)done, &got);
		if (rc != 0 || got != want) {
			bfs_log(LOG_ERR, "local store '%s': cannot read %s: %s",
				p->name, srcwhat,
				rc ? strerror(rc) : "shorter than its size");
			rc = EIO;
			goto out;
		}
		if (md)
			md5_update(md, buf, got);
		rc = bfs_pwrite_all(dst, buf, got, doff + (off_t)done, NULL);
		if (rc != 0) {
			rc = sys_err(p, "cannot write", "tmp", rc);
			goto out;
		}
		done += got;
	}
out:
	free(buf);
	return rc;
}

/* fsync a directory under objects/; failure is logged, not returned:
 * the rename it makes durable has happened already. */
void sync_dir(struct local_priv *p, const char *rel)
{
	int fd = openat(p->obj_fd, rel_or_dot(rel),
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fsync(fd) != 0)
		bfs_log(LOG_WARNING, "local store '%s': fsync 'objects/%s': %s",
			p->name, rel, strerror(errno));
	close(fd);
}

/* Write seg as the "%name" file of the hashed directory rel. */
static int ensure_segname(struct local_priv *p, const char *rel,
			  const char *seg, size_t len)
{
	char *path = rel_join(rel, SEGNAME);
	char tmp[64];
	int fd = -1, rc = 0;

	if (faccessat(p->obj_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		goto out;
	rc = tmp_open(p, p->tmp_fd, tmp, &fd);
	if (rc != 0)
		goto out;
	rc = bfs_pwrite_all(fd, seg, len, 0, NULL);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (rc == 0 && renameat(p->tmp_fd, tmp, p->obj_fd, path) != 0)
		rc = errno;
	if (rc != 0) {
		unlinkat(p->tmp_fd, tmp, 0);
		rc = sys_err(p, "cannot write", path, rc);
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/*
 * Create the directories of key's prefixes; p->ns_lock held.
 * @param created set when a directory was made (its parent needs fsync).
 */
static int make_parents(struct local_priv *p, const char *key, bool *created)
{
	const char *s = key, *slash;
	char rel[REL_MAX], name[NAME_ROOM + 1];
	size_t o = 0;
	int rc;

	rel[0] = '\0';
	while ((slash = strchr(s, '/')) != NULL) {
		size_t len = (size_t)(slash - s);

		seg_name(s, len, 'p', name);
		rc = rel_add(rel, &o, name);
		if (rc != 0)
			return rc;
		if (mkdirat(p->obj_fd, rel, 0700) == 0)
			*created = true;
		else if (errno != EEXIST)
			return sys_err(p, "cannot create directory", rel,
				       errno);
		if (name_hashed(name)) {
			rc = ensure_segname(p, rel, s, len);
			if (rc != 0)
				return rc;
		}
		s = slash + 1;
	}
	return 0;
}

/* Sync every directory from rel's parent up to the objects root. */
static void sync_parents(struct local_priv *p, const char *rel, bool all)
{
	char *d = bfs_xstrdup(rel);
	char *slash;

	for (;;) {
		slash = strrchr(d, '/');
		if (slash)
			*slash = '\0';
		else
			d[0] = '\0';
		sync_dir(p, d);
		if (!all || d[0] == '\0')
			break;
	}
	free(d);
}

/*
 * Check put conditions against key's current object; p->ns_lock held.
 * A damaged object counts as existing with an ETag nobody holds.
 */
static int check_cond(struct local_priv *p, const char *key,
		      const char *if_match, bool if_none_match)
{
	struct obj_hdr h;
	bool exists;
	int rc;

	rc = obj_open(p, key, false, &h, NULL);
	if (rc != 0 && rc != ENOENT && rc != EIO)
		return rc;
	exists = rc != ENOENT;
	if (if_none_match && exists)
		rc = EEXIST;
	else if (if_match && (rc != 0 || strcmp(h.etag, if_match) != 0))
		rc = ESTALE;
	else
		rc = 0;
	hdr_release(&h);
	return rc;
}

/*
 * Move the finished temporary file tmp (in tmp/) to key, honouring the
 * conditions. The temporary file is removed on failure.
 * @return 0, ESTALE, EEXIST, EACCES, EIO, ENOSPC.
 */
int commit(struct local_priv *p, const char *tmp, const char *key,
	   const char *if_match, bool if_none_match)
{
	char rel[REL_MAX];
	bool created = false;
	int rc = key_path(key, rel);

	if (rc != 0)
		goto fail;
	ns_lock(p);
	if (if_match || if_none_match)
		rc = check_cond(p, key, if_match, if_none_match);
	if (rc == 0)
		rc = make_parents(p, key, &created);
	if (rc == 0 && renameat(p->tmp_fd, tmp, p->obj_fd, rel) != 0)
		rc = sys_err(p, "cannot rename a temporary file to", rel,
			     errno);
	ns_unlock(p);
	if (rc == 0) {
		sync_parents(p, rel, created);
		return 0;
	}
fail:
	unlinkat(p->tmp_fd, tmp, 0);
	return rc;
}

/*
 * Write a header for h (key, etag, size, ctype set; mtime set here) at
 * the start of fd. hlen must match what was reserved.
 */
int write_hdr(struct local_priv *p, int fd, struct obj_hdr *h,
	      const struct bfs_meta_list *meta, uint32_t want_hlen)
{
	unsigned char *b;
	size_t len;
	int rc;

	clock_gettime(CLOCK_REALTIME, &h->mtime);
	b = hdr_encode(h, meta, &len);
	if (want_hlen != 0 && len != want_hlen)
		BFS_BUG("header length changed: %zu != %u", len, want_hlen);
	rc = bfs_pwrite_all(fd, b, len, 0, NULL);
	free(b);
	if (rc != 0)
		return sys_err(p, "cannot write", "tmp", rc);
	return 0;
}

/* Length of the header for h with an ETag of etag_len bytes. */
uint32_t hdr_len(struct obj_hdr *h, const struct bfs_meta_list *meta,
		 size_t etag_len)
{
	char save[BFS_ETAG_MAX];
	unsigned char *b;
	size_t len;

	memcpy(save, h->etag, sizeof(save));
	memset(h->etag, 'x', etag_len);
	h->etag[etag_len] = '\0';
	b = hdr_encode(h, meta, &len);
	free(b);
	memcpy(h->etag, save, sizeof(save));
	return (uint32_t)len;
}

int sync_fd(struct local_priv *p, int fd)
{
	if (fsync(fd) != 0)
		return sys_err(p, "cannot fsync", "tmp", errno);
	return 0;
}
