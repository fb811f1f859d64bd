/*
 * local_format.c - the object file header of the local store (the
 * diagram is in local_priv.h): encoding and decoding of the checksummed
 * header, and opening an object by key.
 */
#include "compat.h"

#include "store/local_priv.h"

/* ---- header encoding ---- */

struct wbuf {
	unsigned char *b;
	size_t n, cap;
};

static void wb_put(struct wbuf *w, const void *d, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = BFS_MAX(w->cap * 2, w->n + n + 256);
		w->b = bfs_xrealloc(w->b, w->cap);
	}
	memcpy(w->b + w->n, d, n);
	w->n += n;
}

static void le_put(unsigned char *b, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le_get(const unsigned char *b, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void wb_int(struct wbuf *w, uint64_t v, int bytes)
{
	unsigned char b[8];

	le_put(b, v, bytes);
	wb_put(w, b, (size_t)bytes);
}

static void wb_str(struct wbuf *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	wb_int(w, n, 4);
	wb_put(w, s ? s : "", n);
}

/*
 * Encode a header; h->hlen is set. Returns the malloc'd bytes.
 */
unsigned char *hdr_encode(struct obj_hdr *h, const struct bfs_meta_list *meta,
			  size_t *len)
{
	struct wbuf w = {0};
	size_t nmeta = meta ? meta->n : 0;

	wb_put(&w, HDR_MAGIC, 8);
	wb_int(&w, 0, 4); /* hlen */
	wb_int(&w, 0, 4); /* crc */
	wb_int(&w, h->size, 8);
	wb_int(&w, (uint64_t)h->mtime.tv_sec, 8);
	wb_int(&w, (uint64_t)h->mtime.tv_nsec, 4);
	wb_int(&w, 0, 4); /* flags */
	wb_str(&w, h->etag);
	wb_str(&w, h->key);
	wb_str(&w, h->ctype);
	wb_int(&w, nmeta, 4);
	for (size_t i = 0; i < nmeta; i++) {
		wb_str(&w, meta->items[i].name);
		wb_str(&w, meta->items[i].value);
	}
	le_put(w.b + 8, w.n, 4);
	le_put(w.b + 12, crc32_ieee(w.b + 16, w.n - 16), 4);
	h->hlen = (uint32_t)w.n;
	*len = w.n;
	return w.b;
}

struct rbuf {
	const unsigned char *b;
	size_t n, off;
	bool bad;
};

static uint64_t rb_int(struct rbuf *r, int bytes)
{
	uint64_t v;

	if (r->bad || r->n - r->off < (size_t)bytes) {
		r->bad = true;
		return 0;
	}
	v = le_get(r->b + r->off, bytes);
	r->off += (size_t)bytes;
	return v;
}

/* A string from the header, malloc'd; NULL (and r->bad) if malformed. */
static char *rb_str(struct rbuf *r)
{
	uint64_t n = rb_int(r, 4);
	char *s;

	if (r->bad || r->n - r->off < n ||
	    memchr(r->b + r->off, '\0', (size_t)n) != NULL) {
		r->bad = true;
		return NULL;
	}
	s = bfs_xstrndup((const char *)r->b + r->off, (size_t)n);
	r->off += (size_t)n;
	return s;
}

/*
 * Read and check the header of an open object file.
 * @param why receives the reason when the file is damaged.
 * @return 0, or EIO (damaged, *why set).
 */
int hdr_read(int fd, struct obj_hdr *h, bool want_meta, const char **why)
{
	unsigned char first[HDR_FIRST], *buf = first;
	struct rbuf r = {0};
	struct stat st;
	uint64_t nmeta;
	size_t got;
	char *etag = NULL;
	int rc = EIO;

	memset(h, 0, sizeof(*h));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return EIO;
	}
	if (bfs_pread_full(fd, first, sizeof(first), 0, &got) != 0) {
		*why = "cannot read the header";
		return EIO;
	}
	if (got < HDR_FIXED || memcmp(first, HDR_MAGIC, 8) != 0) {
		*why = "no object header (not written by bucketfs)";
		return EIO;
	}
	h->hlen = (uint32_t)le_get(first + 8, 4);
	if (h->hlen < HDR_FIXED || h->hlen > HDR_MAX) {
		*why = "bad header length";
		return EIO;
	}
	if (h->hlen > got) {
		buf = bfs_xmalloc(h->hlen);
		if (bfs_pread_full(fd, buf, h->hlen, 0, &got) != 0 ||
		    got != h->hlen) {
			*why = "header cut short";
			goto out;
		}
	}
	if (crc32_ieee(buf + 16, h->hlen - 16) != le_get(buf + 12, 4)) {
		*why = "header checksum mismatch";
		goto out;
	}
	r.b = buf;
	r.n = h->hlen;
	r.off = 16;
	h->size = rb_int(&r, 8);
	h->mtime.tv_sec = (time_t)rb_int(&r, 8);
	h->mtime.tv_nsec = (long)rb_int(&r, 4);
	rb_int(&r, 4);
	etag = rb_str(&r);
	h->key = rb_str(&r);
	h->ctype = rb_str(&r);
	nmeta = rb_int(&r, 4);
	for (uint64_t i = 0; i < nmeta && !r.bad; i++) {
		char *name = rb_str(&r), *value = rb_str(&r);

		if (name && value && want_meta)
			bfs_meta_set(&h->meta, name, value);
		free(name);
		free(value);
	}
	if (r.bad || r.off != h->hlen || etag == NULL ||
	    strlen(etag) >= BFS_ETAG_MAX || h->mtime.tv_nsec < 0 ||
	    h->mtime.tv_nsec >= 1000000000L) {
		*why = "malformed header";
		goto out;
	}
	snprintf(h->etag, sizeof(h->etag), "%s", etag);
	if ((uint64_t)st.st_size != (uint64_t)h->hlen + h->size) {
		*why = "file size does not match the header";
		goto out;
	}
	rc = 0;
out:
	free(etag);
	if (buf != first)
		free(buf);
	if (rc != 0)
		hdr_release(h);
	return rc;
}

/*
 * Open the object file at rel (under objects/) that must hold key.
 * @param fdp receives the open file, or NULL to close it.
 * @return 0, ENOENT, EACCES, EIO (damaged, logged).
 */
int obj_open_rel(struct local_priv *p, const char *rel, const char *key,
		 bool want_meta, struct obj_hdr *h, int *fdp)
{
	const char *why = NULL;
	int fd, rc;

	memset(h, 0, sizeof(*h));
	fd = openat(p->obj_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ENOENT;
		if (errno == ELOOP)
			return damaged(p, rel, "a symbolic link");
		return sys_err(p, "cannot open", rel, errno);
	}
	rc = hdr_read(fd, h, want_meta, &why);
	if (rc != 0) {
		close(fd);
		return damaged(p, rel, why);
	}
	if (strcmp(h->key, key) != 0) {
		hdr_release(h);
		close(fd);
		return damaged(p, rel, "its header names another key");
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

int obj_open(struct local_priv *p, const char *key, bool want_meta,
	     struct obj_hdr *h, int *fdp)
{
	char rel[REL_MAX];
	int rc = key_path(key, rel);

	if (rc != 0)
		return rc;
	return obj_open_rel(p, rel, key, want_meta, h, fdp);
}
