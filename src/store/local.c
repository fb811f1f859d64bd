/*
 * local.c - the local store (see local.h, local_priv.h): the store
 * operations head, get_range, put, delete and copy over one file per
 * object, and the life cycle: creating the store over DIR (format check,
 * sweep of old temporary files and uploads), stats and destruction.
 */
#include "compat.h"

#include "store/local_priv.h"

void hdr_release(struct obj_hdr *h)
{
	free(h->key);
	free(h->ctype);
	bfs_meta_list_release(&h->meta);
	memset(h, 0, sizeof(*h));
}

struct local_priv *local_priv_of(struct bfs_store *s)
{
	return s->priv;
}

/* Count one request and its outcome; returns rc for tail calls. */
int stat_done(struct local_priv *p, int rc, uint64_t in, uint64_t out)
{
	BFS_PCHECK(pthread_mutex_lock(&p->stats_lock));
	p->stats.requests++;
	if (rc != 0 && rc != ENOENT && rc != ESTALE && rc != EEXIST &&
	    rc != ERANGE && rc != EINVAL)
		p->stats.errors++;
	p->stats.bytes_in += in;
	p->stats.bytes_out += out;
	BFS_PCHECK(pthread_mutex_unlock(&p->stats_lock));
	return rc;
}

/*
 * Translate a failed system call into a store errno, logging what is
 * not the caller's business.
 */
int sys_err(struct local_priv *p, const char *what, const char *rel, int e)
{
	bfs_log(LOG_ERR, "local store '%s': %s '%s': %s", p->name, what, rel,
		strerror(e));
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return ENOSPC;
	case EACCES:
	case EPERM:
	case EROFS:
		return EACCES;
	default:
		return EIO;
	}
}

int damaged(struct local_priv *p, const char *rel, const char *why)
{
	bfs_log(LOG_ERR,
		"local store '%s': damaged entry 'objects/%s': %s "
		"(delete or overwrite the key to repair)",
		p->name, rel, why);
	return EIO;
}

uint32_t crc32_ieee(const unsigned char *b, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

EVP_MD_CTX *md5_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)
		BFS_BUG("cannot set up MD5");
	return md;
}

/* Finish md into hex (MD5_HEX + 1 bytes) and the raw digest (16 bytes). */
void md5_finish(EVP_MD_CTX *md, char *hex, unsigned char *raw)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 16)
		BFS_BUG("cannot finish MD5");
	bfs_hex_encode(d, 16, hex);
	if (raw)
		memcpy(raw, d, 16);
	EVP_MD_CTX_free(md);
}

void md5_update(EVP_MD_CTX *md, const void *b, size_t n)
{
	if (EVP_DigestUpdate(md, b, n) != 1)
		BFS_BUG("cannot update MD5");
}

/* ---- operations ---- */

static int local_head(struct bfs_store *s, const char *key,
		      struct bfs_obj_info *out)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr h;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = obj_open(p, key, true, &h, NULL);
	if (rc == 0) {
		out->size = h.size;
		snprintf(out->etag, sizeof(out->etag), "%s", h.etag);
		out->mtime = h.mtime;
		out->meta = h.meta;
		h.meta.items = NULL;
		h.meta.n = 0;
		hdr_release(&h);
	}
	return stat_done(p, rc, 0, 0);
}

static int local_get_range(struct bfs_store *s, const char *key, uint64_t off,
			   size_t len, void *buf, size_t *got,
			   const char *if_match)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr h;
	size_t want, n = 0;
	int fd = -1, rc;

	*got = 0;
	rc = obj_open(p, key, false, &h, &fd);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	if (if_match && strcmp(if_match, h.etag) != 0) {
		rc = ESTALE;
		goto out;
	}
	if (off > h.size) {
		rc = ERANGE;
		goto out;
	}
	want = (size_t)BFS_MIN((uint64_t)len, h.size - off);
	rc = bfs_pread_full(fd, buf, want, (off_t)(h.hlen + off), &n);
	if (rc != 0 || n != want) {
		char rel[REL_MAX];

		key_path(key, rel);
		rc = rc ? sys_err(p, "cannot read", rel, rc)
			: damaged(p, rel, "content shorter than its header");
		n = 0;
		goto out;
	}
	*got = n;
out:
	close(fd);
	hdr_release(&h);
	return stat_done(p, rc, n, 0);
}

static int local_put(struct bfs_store *s, const struct bfs_put_req *req,
		     char *etag_out)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr h = {0};
	EVP_MD_CTX *md = NULL;
	char tmp[64];
	int fd = -1, rc;

	rc = key_check(req->key);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	rc = tmp_open(p, p->tmp_fd, tmp, &fd);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	h.key = bfs_xstrdup(req->key);
	h.ctype = bfs_xstrdup(req->content_type ? req->content_type : "");
	h.size = req->size;
	h.hlen = hdr_len(&h, req->meta, MD5_HEX);
	md = md5_new();
	rc = copy_data(p, req->fd, req->offset, fd, (off_t)h.hlen, req->size,
		       md, "the body of a put");
	md5_finish(md, h.etag, NULL);
	if (rc == 0)
		rc = write_hdr(p, fd, &h, req->meta, h.hlen);
	if (rc == 0)
		rc = sync_fd(p, fd);
	close(fd);
	if (rc == 0)
		rc = commit(p, tmp, req->key, req->if_match,
			    req->if_none_match);
	else
		unlinkat(p->tmp_fd, tmp, 0);
	if (rc == 0 && etag_out)
		snprintf(etag_out, BFS_ETAG_MAX, "%s", h.etag);
	hdr_release(&h);
	return stat_done(p, rc, 0, rc == 0 ? req->size : 0);
}

/* Whether the hashed directory rel holds nothing but its "%name". */
static bool only_segname(struct local_priv *p, const char *rel)
{
	int fd = openat(p->obj_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool only = true;
	DIR *d;

	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SEGNAME) == 0)
			continue;
		only = false;
		break;
	}
	closedir(d);
	return only;
}

/* Remove the empty directories above rel; p->ns_lock held. Returns the
 * deepest directory left, to be synced (malloc'd). */
static char *prune_parents(struct local_priv *p, const char *rel)
{
	char *d = bfs_xstrdup(rel);
	char *slash;

	while ((slash = strrchr(d, '/')) != NULL) {
		const char *base;

		*slash = '\0';
		base = strrchr(d, '/');
		base = base ? base + 1 : d;
		if (unlinkat(p->obj_fd, d, AT_REMOVEDIR) == 0)
			continue;
		if (errno == ENOTEMPTY && name_hashed(base) &&
		    only_segname(p, d)) {
			char *seg = rel_join(d, SEGNAME);

			unlinkat(p->obj_fd, seg, 0);
			free(seg);
			if (unlinkat(p->obj_fd, d, AT_REMOVEDIR) == 0)
				continue;
		}
		return d;
	}
	d[0] = '\0';
	return d;
}

static int local_del(struct bfs_store *s, const char *key)
{
	struct local_priv *p = local_priv_of(s);
	char rel[REL_MAX];
	char *left = NULL;
	int rc = key_path(key, rel);

	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	ns_lock(p);
	if (unlinkat(p->obj_fd, rel, 0) == 0)
		left = prune_parents(p, rel);
	else if (errno != ENOENT && errno != ENOTDIR)
		rc = sys_err(p, "cannot delete", rel, errno);
	ns_unlock(p);
	if (left) {
		sync_dir(p, left);
		free(left);
	}
	return stat_done(p, rc, 0, 0);
}

static int local_copy(struct bfs_store *s, const char *src, const char *dst,
		      const struct bfs_meta_list *meta, const char *if_match,
		      char *etag_out)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr sh, h = {0};
	char tmp[64];
	int sfd = -1, fd = -1, rc;

	rc = key_check(dst);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	rc = obj_open(p, src, true, &sh, &sfd);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	if (if_match && strcmp(if_match, sh.etag) != 0) {
		rc = ESTALE;
		goto out;
	}
	rc = tmp_open(p, p->tmp_fd, tmp, &fd);
	if (rc != 0)
		goto out;
	h.key = bfs_xstrdup(dst);
	h.ctype = bfs_xstrdup(sh.ctype);
	h.size = sh.size;
	/* S3 keeps the ETag: it is the content's, and the content is */
	snprintf(h.etag, sizeof(h.etag), "%s", sh.etag);
	if (meta == NULL)
		meta = &sh.meta;
	h.hlen = hdr_len(&h, meta, strlen(h.etag));
	rc = copy_data(p, sfd, (off_t)sh.hlen, fd, (off_t)h.hlen, sh.size, NULL,
		       "the source of a copy");
	if (rc == 0)
		rc = write_hdr(p, fd, &h, meta, h.hlen);
	if (rc == 0)
		rc = sync_fd(p, fd);
	close(fd);
	if (rc == 0)
		rc = commit(p, tmp, dst, NULL, false);
	else
		unlinkat(p->tmp_fd, tmp, 0);
	if (rc == 0 && etag_out)
		snprintf(etag_out, BFS_ETAG_MAX, "%s", h.etag);
out:
	close(sfd);
	hdr_release(&sh);
	hdr_release(&h);
	return stat_done(p, rc, 0, 0);
}

/* ---- life cycle ---- */

static void local_get_stats(struct bfs_store *s, struct bfs_store_stats *out)
{
	struct local_priv *p = local_priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->stats_lock));
	*out = p->stats;
	BFS_PCHECK(pthread_mutex_unlock(&p->stats_lock));
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void priv_free(struct local_priv *p)
{
	close_fd(&p->obj_fd);
	close_fd(&p->tmp_fd);
	close_fd(&p->up_fd);
	close_fd(&p->lock_fd);
	close_fd(&p->root_fd);
	BFS_PCHECK(pthread_mutex_destroy(&p->ns_lock));
	BFS_PCHECK(pthread_mutex_destroy(&p->stats_lock));
	free(p->name);
	free(p->dir);
	free(p);
}

static void local_destroy(struct bfs_store *s)
{
	priv_free(local_priv_of(s));
	free(s);
}

/* Remove what a crash left behind: old temporary files, old uploads. */
static void sweep(struct local_priv *p, int dirfd, const char *what,
		  time_t max_age, bool uploads)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    now - st.st_mtime < max_age)
			continue;
		bfs_log(LOG_NOTICE,
			"local store '%s': removing stale %s '%s' left by an "
			"earlier run",
			p->name, what, de->d_name);
		if (uploads && S_ISDIR(st.st_mode) && upload_id_ok(de->d_name))
			upload_remove(p, de->d_name);
		else
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

static int open_sub(int dirfd, const char *name, int *out)
{
	if (mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
		return errno;
	*out = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *out < 0 ? errno : 0;
}

/* Check DIR/.bucketfs/format, writing it in a new store. */
static int check_format(struct local_priv *p, char *err, size_t errlen)
{
	char buf[64];
	size_t got = 0;
	int fd, rc = 0;

	fd = openat(p->root_fd, "format", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = openat(p->root_fd, "format",
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			rc = bfs_pwrite_all(fd, LOCAL_FORMAT,
					    strlen(LOCAL_FORMAT), 0, NULL);
			if (rc == 0 && fsync(fd) != 0)
				rc = errno;
			close(fd);
			if (rc != 0)
				snprintf(err, errlen,
					 "cannot write '%s/.bucketfs/format': "
					 "%s",
					 p->dir, strerror(rc));
			return rc;
		}
		if (errno == EEXIST)
			fd = openat(p->root_fd, "format", O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open '%s/.bucketfs/format': %s",
			 p->dir, strerror(rc));
		return rc;
	}
	rc = bfs_pread_full(fd, buf, sizeof(buf) - 1, 0, &got);
	close(fd);
	buf[got] = '\0';
	if (rc == 0 && strcmp(buf, LOCAL_FORMAT) != 0) {
		snprintf(err, errlen,
			 "'%s/.bucketfs' holds a store format this version "
			 "does not know (format file says '%.*s')",
			 p->dir, (int)strcspn(buf, "\n"), buf);
		return EPROTO;
	}
	if (rc != 0)
		snprintf(err, errlen, "cannot read '%s/.bucketfs/format': %s",
			 p->dir, strerror(rc));
	return rc;
}

struct bfs_store *bfs_local_create(const char *name, const char *dir, char *err,
				   size_t errlen)
{
	struct local_priv *p;
	struct bfs_store *s;
	struct stat st;
	int dfd = -1, rc = 0;

	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, errlen, "local store '%s': no directory given",
			 name);
		errno = EINVAL;
		return NULL;
	}
	p = bfs_xcalloc(1, sizeof(*p));
	p->root_fd = p->obj_fd = p->tmp_fd = p->up_fd = p->lock_fd = -1;
	BFS_PCHECK(pthread_mutex_init(&p->ns_lock, NULL));
	BFS_PCHECK(pthread_mutex_init(&p->stats_lock, NULL));
	p->name = bfs_xstrdup(name);
	p->dir = bfs_xstrdup(dir);
	if (stat(dir, &st) != 0) {
		rc = errno;
		if (rc == ENOENT) {
			rc = bfs_mkdir_p(dir, 0700);
			if (rc == 0)
				bfs_log(LOG_NOTICE,
					"local store '%s': created directory "
					"'%s'",
					name, dir);
		}
		if (rc != 0) {
			snprintf(err, errlen,
				 "cannot create local store directory '%s': "
				 "%s",
				 dir, strerror(rc));
			goto fail;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		rc = ENOTDIR;
		snprintf(err, errlen, "cannot open local store '%s': %s", dir,
			 strerror(rc));
		goto fail;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		rc = errno;
		snprintf(err, errlen,
			 "cannot use local store '%s': %s (the daemon needs "
			 "write access)",
			 dir, strerror(rc));
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (rc = open_sub(dfd, ".bucketfs", &p->root_fd)) != 0) {
		rc = rc ? rc : errno;
		snprintf(err, errlen, "cannot open local store '%s': %s", dir,
			 strerror(rc));
		goto fail;
	}
	rc = check_format(p, err, errlen);
	if (rc != 0)
		goto fail;
	if ((rc = open_sub(p->root_fd, "objects", &p->obj_fd)) != 0 ||
	    (rc = open_sub(p->root_fd, "tmp", &p->tmp_fd)) != 0 ||
	    (rc = open_sub(p->root_fd, "uploads", &p->up_fd)) != 0) {
		snprintf(err, errlen, "cannot open local store '%s': %s", dir,
			 strerror(rc));
		goto fail;
	}
	p->lock_fd = openat(p->root_fd, "lock",
			    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p->lock_fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open '%s/.bucketfs/lock': %s",
			 dir, strerror(rc));
		goto fail;
	}
	sweep(p, p->tmp_fd, "temporary file", TMP_MAX_AGE, false);
	sweep(p, p->up_fd, "multipart upload", UPLOAD_MAX_AGE, true);
	close(dfd);

	s = bfs_xcalloc(1, sizeof(*s));
	s->priv = p;
	s->name = p->name;
	s->kind = BFS_STORE_KIND_LOCAL;
	s->caps = BFS_CAP_IF_MATCH | BFS_CAP_IF_NONE_MATCH | BFS_CAP_MULTIPART |
		  BFS_CAP_LOCAL;
	s->head = local_head;
	s->get_range = local_get_range;
	s->put = local_put;
	s->del = local_del;
	s->copy = local_copy;
	s->list = local_list;
	s->mpu_begin = local_mpu_begin;
	s->mpu_part = local_mpu_part;
	s->mpu_complete = local_mpu_complete;
	s->mpu_abort = local_mpu_abort;
	s->get_stats = local_get_stats;
	s->destroy = local_destroy;
	return s;
fail:
	if (dfd >= 0)
		close(dfd);
	priv_free(p);
	errno = rc;
	return NULL;
}
