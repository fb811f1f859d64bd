/*
 * local_mpu.c - multipart uploads of the local store: uploads/ID/ with an
 * info header and one file per part, completed into one object.
 */
#include "compat.h"

#include "store/local_priv.h"

/* ---- multipart uploads ---- */

bool upload_id_ok(const char *id)
{
	if (id == NULL || strlen(id) != UPLOAD_ID_LEN)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/*
 * Open upload id of key: its directory fd and its info header.
 * @return 0, ENOENT (no such upload for this key), EIO.
 */
static int upload_open(struct local_priv *p, const char *key, const char *id,
		       struct obj_hdr *info, int *dfdp)
{
	const char *why = NULL;
	char rel[UPLOAD_ID_LEN + 16];
	int dfd, fd, rc;

	memset(info, 0, sizeof(*info));
	if (!upload_id_ok(id) || key == NULL)
		return ENOENT;
	dfd = openat(p->up_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT
			       ? ENOENT
			       : sys_err(p, "cannot open upload", id, errno);
	fd = openat(dfd, "info", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = errno == ENOENT
			     ? ENOENT
			     : sys_err(p, "cannot open upload", id, errno);
		close(dfd);
		return rc;
	}
	rc = hdr_read(fd, info, true, &why);
	close(fd);
	snprintf(rel, sizeof(rel), "uploads/%s/info", id);
	if (rc != 0) {
		bfs_log(LOG_ERR, "local store '%s': damaged '%s': %s", p->name,
			rel, why);
		close(dfd);
		return EIO;
	}
	if (strcmp(info->key, key) != 0) {
		hdr_release(info);
		close(dfd);
		return ENOENT;
	}
	*dfdp = dfd;
	return 0;
}

/* Remove an upload directory and everything in it. */
void upload_remove(struct local_priv *p, const char *id)
{
	for (int tries = 0; tries < 3; tries++) {
		int dfd = openat(p->up_fd, id,
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct dirent *de;
		DIR *d;

		if (dfd < 0)
			return;
		d = fdopendir(dfd);
		if (d == NULL) {
			close(dfd);
			return;
		}
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
		if (unlinkat(p->up_fd, id, AT_REMOVEDIR) == 0 ||
		    errno == ENOENT)
			return;
	}
	bfs_log(LOG_WARNING, "local store '%s': cannot remove 'uploads/%s': %s",
		p->name, id, strerror(errno));
}

int local_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
		    char **upload_id)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr h = {0};
	unsigned char rnd[UPLOAD_ID_LEN / 2];
	char id[UPLOAD_ID_LEN + 1];
	int dfd = -1, fd = -1, rc;

	*upload_id = NULL;
	rc = key_check(req->key);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	for (int tries = 0;; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return stat_done(p, sys_err(p, "getrandom", "", errno),
					 0, 0);
		bfs_hex_encode(rnd, sizeof(rnd), id);
		if (mkdirat(p->up_fd, id, 0700) == 0)
			break;
		if (errno != EEXIST || tries == 10)
			return stat_done(
				p,
				sys_err(p, "cannot create upload", id, errno),
				0, 0);
	}
	dfd = openat(p->up_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = sys_err(p, "cannot open upload", id, errno);
		goto out;
	}
	fd = openat(dfd, "info", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = sys_err(p, "cannot create upload", id, errno);
		goto out;
	}
	h.key = bfs_xstrdup(req->key);
	h.ctype = bfs_xstrdup(req->content_type ? req->content_type : "");
	rc = write_hdr(p, fd, &h, req->meta, 0);
	if (rc == 0)
		rc = sync_fd(p, fd);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	hdr_release(&h);
	if (rc != 0)
		upload_remove(p, id);
	else
		*upload_id = bfs_xstrdup(id);
	return stat_done(p, rc, 0, 0);
}

int local_mpu_part(struct bfs_store *s, const char *key, const char *upload_id,
		   int number, int fd, off_t off, size_t len, char *etag_out)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr info;
	char tmp[64], part[32], hex[MD5_HEX + 1];
	EVP_MD_CTX *md;
	int dfd = -1, tfd = -1, rc;

	if (number < 1 || number > PART_MAX)
		return stat_done(p, EINVAL, 0, 0);
	rc = upload_open(p, key, upload_id, &info, &dfd);
	hdr_release(&info);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	rc = tmp_open(p, dfd, tmp, &tfd);
	if (rc != 0)
		goto out;
	md = md5_new();
	rc = copy_data(p, fd, off, tfd, 0, len, md, "the body of a part");
	md5_finish(md, hex, NULL);
	if (rc == 0)
		rc = sync_fd(p, tfd);
	snprintf(part, sizeof(part), "part.%05d", number);
	if (rc == 0 && renameat(dfd, tmp, dfd, part) != 0)
		rc = sys_err(p, "cannot store part in upload", upload_id,
			     errno);
	if (rc != 0)
		unlinkat(dfd, tmp, 0);
	else if (etag_out)
		snprintf(etag_out, BFS_ETAG_MAX, "%s", hex);
out:
	if (tfd >= 0)
		close(tfd);
	close(dfd);
	return stat_done(p, rc, 0, rc == 0 ? len : 0);
}

int local_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
		       const char *upload_id, const struct bfs_part *parts,
		       size_t nparts, char *etag_out)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr info, h = {0};
	EVP_MD_CTX *all = NULL;
	char tmp[64], hex[MD5_HEX + 1];
	uint64_t total = 0;
	int dfd = -1, fd = -1, rc;

	if (nparts == 0 || nparts > PART_MAX)
		return stat_done(p, EINVAL, 0, 0);
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].number < 1 || parts[i].number > PART_MAX ||
		    (i > 0 && parts[i].number <= parts[i - 1].number))
			return stat_done(p, EINVAL, 0, 0);
	rc = upload_open(p, req->key, upload_id, &info, &dfd);
	if (rc != 0)
		return stat_done(p, rc, 0, 0);
	rc = tmp_open(p, p->tmp_fd, tmp, &fd);
	if (rc != 0)
		goto out;
	h.key = bfs_xstrdup(info.key);
	h.ctype = bfs_xstrdup(info.ctype);
	/* the size is known only at the end; it has a fixed width */
	h.hlen = hdr_len(&h, &info.meta,
			 MD5_HEX + (size_t)snprintf(NULL, 0, "-%zu", nparts));
	all = md5_new();
	for (size_t i = 0; i < nparts && rc == 0; i++) {
		char name[32];
		unsigned char raw[16];
		struct stat st;
		EVP_MD_CTX *md;
		int pfd;

		snprintf(name, sizeof(name), "part.%05d", parts[i].number);
		pfd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (pfd < 0) {
			rc = errno == ENOENT ? EINVAL
					     : sys_err(p, "cannot open part",
						       name, errno);
			break;
		}
		if (fstat(pfd, &st) != 0) {
			rc = sys_err(p, "cannot stat part", name, errno);
			close(pfd);
			break;
		}
		md = md5_new();
		rc = copy_data(p, pfd, 0, fd, (off_t)(h.hlen + total),
			       (uint64_t)st.st_size, md, "a part");
		md5_finish(md, hex, raw);
		close(pfd);
		if (rc == 0 && strcasecmp(hex, parts[i].etag) != 0)
			rc = EINVAL; /* S3's InvalidPart */
		md5_update(all, raw, sizeof(raw));
		total += (uint64_t)st.st_size;
	}
	md5_finish(all, hex, NULL);
	if (rc != 0) {
		unlinkat(p->tmp_fd, tmp, 0);
		goto out;
	}
	snprintf(h.etag, sizeof(h.etag), "%s-%zu", hex, nparts);
	h.size = total;
	rc = write_hdr(p, fd, &h, &info.meta, h.hlen);
	if (rc == 0)
		rc = sync_fd(p, fd);
	if (rc != 0) {
		unlinkat(p->tmp_fd, tmp, 0);
		goto out;
	}
	/* a failed condition keeps the upload, as S3 does */
	rc = commit(p, tmp, req->key, req->if_match, req->if_none_match);
	if (rc == 0) {
		upload_remove(p, upload_id);
		if (etag_out)
			snprintf(etag_out, BFS_ETAG_MAX, "%s", h.etag);
	}
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	hdr_release(&info);
	hdr_release(&h);
	return stat_done(p, rc, 0, 0);
}

int local_mpu_abort(struct bfs_store *s, const char *key, const char *upload_id)
{
	struct local_priv *p = local_priv_of(s);
	struct obj_hdr info;
	int dfd = -1, rc;

	rc = upload_open(p, key, upload_id, &info, &dfd);
	hdr_release(&info);
	if (rc == 0) {
		close(dfd);
		upload_remove(p, upload_id);
	}
	return stat_done(p, rc, 0, 0);
}
