/*
 * local.c - the local store (see local.h): one file per object under
 * DIR/.bucketfs/objects/, in a tree of encoded key segments, each file a
 * checksummed header (key, ETag, mtime, user metadata) followed by the
 * content. Owns the on-disk format, key <-> file name encoding, atomic
 * replace, S3-style listings over the tree and multipart uploads.
 *
 * On-disk layout (doc/internals/local-store.md has the full story):
 *
 *   DIR/.bucketfs/format         "bucketfs-local 1\n"
 *   DIR/.bucketfs/lock           flock()ed around namespace changes
 *   DIR/.bucketfs/tmp/           temporary files, renamed into objects/
 *   DIR/.bucketfs/uploads/ID/    info (a header only), part.00001 ...
 *   DIR/.bucketfs/objects/       key "a/b/c" -> "a%p/b%p/c%o"
 *
 * Each key segment is percent-encoded (only '%', '/', control bytes and
 * DEL are escaped, as %XX in upper case), then suffixed "%o" for the
 * last segment (an object) or "%p" for a segment followed by '/' (a
 * prefix, i.e. a directory). So `a` (a%o), `a/` (a%p/%o) and `a/b`
 * (a%p/b%o) coexist. A segment whose encoding would not fit in a file
 * name is stored as its first 200 encoded bytes, "%h", 32 hex digits of
 * its SHA-256 and the suffix; such a directory holds a file "%name" with
 * the raw segment, such an object names its key in its header.
 *
 * Object file (and uploads/ID/info, with no content):
 *
 *   0   8  magic "BFSLOBJ1"
 *   8   4  hlen: header bytes, content starts here (40 .. 1 MiB)
 *   12  4  CRC-32 (IEEE) of bytes 16 .. hlen
 *   16  8  content size; the file is exactly hlen + size bytes
 *   24  8  mtime seconds (Last-Modified)
 *   32  4  mtime nanoseconds
 *   36  4  flags, 0
 *   40     strings, each a 4-byte length and bytes without NUL:
 *          ETag, key, content type; then a 4-byte count of metadata
 *          pairs, each name and value as strings
 *   hlen   content
 *
 * All integers are little-endian.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "store/local.h"
#include "util.h"

#define LOCAL_FORMAT "bucketfs-local 1\n"
#define HDR_MAGIC    "BFSLOBJ1"
#define HDR_FIXED    40
#define HDR_MAX	     (1u << 20)
#define HDR_FIRST    4096
/* a file name: NAME_MAX on Linux */
#define NAME_ROOM 255
/* encoded bytes kept in front of the hash of a long segment */
#define ENC_HASHED_KEEP 200
#define HASH_HEX	32
#define SEGNAME		"%name"
/* the longest relative path of a key: 3 bytes per key byte and a suffix */
#define REL_MAX	       4096
#define IO_BUF	       (256 * 1024)
#define TMP_MAX_AGE    (24 * 3600)
#define UPLOAD_MAX_AGE (7 * 24 * 3600)
#define LIST_MAX_KEYS  1000
#define PART_MAX       10000
#define UPLOAD_ID_LEN  32
#define MD5_HEX	       32

struct local_priv {
	char *name;
	char *dir;
	int root_fd; /* DIR/.bucketfs */
	int obj_fd;  /* DIR/.bucketfs/objects */
	int tmp_fd;  /* DIR/.bucketfs/tmp */
	int up_fd;   /* DIR/.bucketfs/uploads */
	int lock_fd; /* DIR/.bucketfs/lock */
	/*
	 * Serializes namespace changes (condition check + rename, unlink +
	 * rmdir of empty parents) in this process; lock_fd's flock does it
	 * between processes.
	 */
	pthread_mutex_t ns_lock;
	pthread_mutex_t stats_lock;
	struct bfs_store_stats stats; /* protected by stats_lock */
	uint64_t tmp_seq;	      /* atomic */
};

/* What an object file's header holds. */
struct obj_hdr {
	uint32_t hlen;
	uint64_t size;
	struct timespec mtime;
	char etag[BFS_ETAG_MAX];
	char *key;
	char *ctype;
	struct bfs_meta_list meta;
};

static void hdr_release(struct obj_hdr *h)
{
	free(h->key);
	free(h->ctype);
	bfs_meta_list_release(&h->meta);
	memset(h, 0, sizeof(*h));
}

static struct local_priv *priv_of(struct bfs_store *s)
{
	return s->priv;
}

/* Count one request and its outcome; returns rc for tail calls. */
static int stat_done(struct local_priv *p, int rc, uint64_t in, uint64_t out)
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
static int sys_err(struct local_priv *p, const char *what, const char *rel,
		   int e)
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

static int damaged(struct local_priv *p, const char *rel, const char *why)
{
	bfs_log(LOG_ERR,
		"local store '%s': damaged entry 'objects/%s': %s "
		"(delete or overwrite the key to repair)",
		p->name, rel, why);
	return EIO;
}

static uint32_t crc32_ieee(const unsigned char *b, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static EVP_MD_CTX *md5_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)
		BFS_BUG("cannot set up MD5");
	return md;
}

/* Finish md into hex (MD5_HEX + 1 bytes) and the raw digest (16 bytes). */
static void md5_finish(EVP_MD_CTX *md, char *hex, unsigned char *raw)
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

static void md5_update(EVP_MD_CTX *md, const void *b, size_t n)
{
	if (EVP_DigestUpdate(md, b, n) != 1)
		BFS_BUG("cannot update MD5");
}

/* ---- key segments <-> file names ---- */

static bool enc_raw(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '%' && c != '/';
}

/* Canonical encoding of seg[0..len) into out (3 * len + 1 bytes). */
static size_t enc_seg(const char *seg, size_t len, char *out)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)seg[i];

		if (enc_raw(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hx[c >> 4];
			out[o++] = hx[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * File name of segment seg[0..len) as an object (type 'o') or as a
 * prefix directory (type 'p'). out has NAME_ROOM + 1 bytes.
 */
static void seg_name(const char *seg, size_t len, char type, char *out)
{
	char enc[3 * BFS_KEY_MAX + 1];
	unsigned char d[EVP_MAX_MD_SIZE];
	char hx[HASH_HEX + 1];
	unsigned n = 0;
	size_t elen, keep;

	assert(len <= BFS_KEY_MAX);
	elen = enc_seg(seg, len, enc);
	if (elen + 2 <= NAME_ROOM) {
		snprintf(out, NAME_ROOM + 1, "%s%%%c", enc, type);
		return;
	}
	/* do not cut an escape in half */
	keep = ENC_HASHED_KEEP;
	if (enc[keep - 1] == '%')
		keep -= 1;
	else if (enc[keep - 2] == '%')
		keep -= 2;
	if (EVP_Digest(seg, len, d, &n, EVP_sha256(), NULL) != 1)
		BFS_BUG("cannot compute SHA-256");
	bfs_hex_encode(d, HASH_HEX / 2, hx);
	snprintf(out, NAME_ROOM + 1, "%.*s%%h%s%%%c", (int)keep, enc, hx, type);
}

static bool name_hashed(const char *name)
{
	size_t n = strlen(name);

	return n >= 4 + HASH_HEX && name[n - 4 - HASH_HEX] == '%' &&
	       name[n - 3 - HASH_HEX] == 'h';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse a directory entry name. *type is 'o' or 'p'; *seg receives the
 * decoded segment (malloc'd) unless the name is hashed (then NULL).
 * @return 0, or EINVAL when the name is not one this store writes.
 */
static int parse_name(const char *name, char *type, char **seg)
{
	size_t n = strlen(name), b, o = 0;
	char *out;

	*seg = NULL;
	if (n < 2 || name[n - 2] != '%' ||
	    (name[n - 1] != 'o' && name[n - 1] != 'p'))
		return EINVAL;
	*type = name[n - 1];
	if (name_hashed(name))
		return 0;
	b = n - 2;
	out = bfs_xmalloc(b + 1);
	for (size_t i = 0; i < b; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= b)
				goto bad;
			hi = hexval(name[i + 1]);
			lo = hexval(name[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			/* canonical only: a name has one spelling */
			if (enc_raw(c) || c == '\0' || c == '/')
				goto bad;
			i += 2;
		} else if (!enc_raw(c)) {
			goto bad;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*seg = out;
	return 0;
bad:
	free(out);
	return EINVAL;
}

static int key_check(const char *key)
{
	if (key == NULL || key[0] == '\0')
		return EINVAL;
	if (strlen(key) > BFS_KEY_MAX)
		return ENAMETOOLONG;
	return 0;
}

/* Append "/name" (or "name" at the start) to rel. */
static int rel_add(char *rel, size_t *o, const char *name)
{
	size_t n = strlen(name);

	if (*o + n + 2 > REL_MAX)
		return ENAMETOOLONG;
	if (*o > 0)
		rel[(*o)++] = '/';
	memcpy(rel + *o, name, n);
	*o += n;
	rel[*o] = '\0';
	return 0;
}

/*
 * Path of key's file under objects/ (REL_MAX bytes).
 * @return 0, EINVAL (empty key), ENAMETOOLONG (over 1024 bytes).
 */
static int key_path(const char *key, char *rel)
{
	const char *s = key, *slash;
	char name[NAME_ROOM + 1];
	size_t o = 0;
	int rc = key_check(key);

	if (rc != 0)
		return rc;
	rel[0] = '\0';
	while ((slash = strchr(s, '/')) != NULL) {
		seg_name(s, (size_t)(slash - s), 'p', name);
		rc = rel_add(rel, &o, name);
		if (rc != 0)
			return rc;
		s = slash + 1;
	}
	seg_name(s, strlen(s), 'o', name);
	return rel_add(rel, &o, name);
}

/* rel, or "." for the objects root */
static const char *rel_or_dot(const char *rel)
{
	return rel[0] ? rel : ".";
}

static char *rel_join(const char *rel, const char *name)
{
	return rel[0] ? bfs_xasprintf("%s/%s", rel, name) : bfs_xstrdup(name);
}

/* ---- plain I/O ---- */

static int pread_full(int fd, void *buf, size_t n, off_t off, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done,
				  off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done,
				   off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno;
		done += (size_t)r;
	}
	return 0;
}

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
static unsigned char *hdr_encode(struct obj_hdr *h,
				 const struct bfs_meta_list *meta, size_t *len)
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
static int hdr_read(int fd, struct obj_hdr *h, bool want_meta, const char **why)
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
	if (pread_full(fd, first, sizeof(first), 0, &got) != 0) {
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
		if (pread_full(fd, buf, h->hlen, 0, &got) != 0 ||
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
static int obj_open_rel(struct local_priv *p, const char *rel, const char *key,
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

static int obj_open(struct local_priv *p, const char *key, bool want_meta,
		    struct obj_hdr *h, int *fdp)
{
	char rel[REL_MAX];
	int rc = key_path(key, rel);

	if (rc != 0)
		return rc;
	return obj_open_rel(p, rel, key, want_meta, h, fdp);
}

/* ---- writing ---- */

static void ns_lock(struct local_priv *p)
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

static void ns_unlock(struct local_priv *p)
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
static int tmp_open(struct local_priv *p, int dirfd, char *name, int *fdp)
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
static int copy_data(struct local_priv *p, int src, off_t soff, int dst,
		     off_t doff, uint64_t size, EVP_MD_CTX *md,
		     const char *srcwhat)
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

		rc = pread_full(src, buf, want, soff + (off_t)done, &got);
		if (rc != 0 || got != want) {
			bfs_log(LOG_ERR, "local store '%s': cannot read %s: %s",
				p->name, srcwhat,
				rc ? strerror(rc) : "shorter than its size");
			rc = EIO;
			goto out;
		}
		if (md)
			md5_update(md, buf, got);
		rc = pwrite_full(dst, buf, got, doff + (off_t)done);
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
static void sync_dir(struct local_priv *p, const char *rel)
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
	rc = pwrite_full(fd, seg, len, 0);
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
static int commit(struct local_priv *p, const char *tmp, const char *key,
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
static int write_hdr(struct local_priv *p, int fd, struct obj_hdr *h,
		     const struct bfs_meta_list *meta, uint32_t want_hlen)
{
	unsigned char *b;
	size_t len;
	int rc;

	clock_gettime(CLOCK_REALTIME, &h->mtime);
	b = hdr_encode(h, meta, &len);
	if (want_hlen != 0 && len != want_hlen)
		BFS_BUG("header length changed: %zu != %u", len, want_hlen);
	rc = pwrite_full(fd, b, len, 0);
	free(b);
	if (rc != 0)
		return sys_err(p, "cannot write", "tmp", rc);
	return 0;
}

/* Length of the header for h with an ETag of etag_len bytes. */
static uint32_t hdr_len(struct obj_hdr *h, const struct bfs_meta_list *meta,
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

static int sync_fd(struct local_priv *p, int fd)
{
	if (fsync(fd) != 0)
		return sys_err(p, "cannot fsync", "tmp", errno);
	return 0;
}

/* ---- operations ---- */

static int local_head(struct bfs_store *s, const char *key,
		      struct bfs_obj_info *out)
{
	struct local_priv *p = priv_of(s);
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
	struct local_priv *p = priv_of(s);
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
	rc = pread_full(fd, buf, want, (off_t)(h.hlen + off), &n);
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
	struct local_priv *p = priv_of(s);
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
	struct local_priv *p = priv_of(s);
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
	struct local_priv *p = priv_of(s);
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

/* ---- listing ---- */

/* One entry of a directory under objects/. */
struct lent {
	char *name; /* file name in the directory */
	char *sort; /* the key segment, plus '/' for a directory */
	bool dir;
};

/* One directory being walked. */
struct lframe {
	char *rel; /* under objects/, "" for the root */
	char *q;   /* key prefix of its entries */
	struct lent *ents;
	size_t n, i;
};

enum lbound { B_NONE, B_KEY, B_PREFIX };

struct lwalk {
	struct local_priv *p;
	const char *prefix;
	size_t plen;
	const char *delim; /* NULL: flat */
	size_t dlen;
	/* entries up to bound (B_KEY) or up to and under it (B_PREFIX) are
	 * done */
	enum lbound bmode;
	char *bound;
	size_t qlen0; /* length of the start frame's q */
	struct lframe *fr;
	size_t depth, cap;
};

static int lent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lent *)a)->sort,
		      ((const struct lent *)b)->sort);
}

static void frame_release(struct lframe *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->ents[i].name);
		free(f->ents[i].sort);
	}
	free(f->ents);
	free(f->rel);
	free(f->q);
	memset(f, 0, sizeof(*f));
}

/*
 * The segment behind a hashed name: from the object's header or the
 * directory's "%name" file. NULL (logged) if it cannot be trusted.
 */
static char *hashed_seg(struct local_priv *p, const char *rel, const char *name,
			char type, const char *q)
{
	char *path = rel_join(rel, name);
	char check[NAME_ROOM + 1];
	char *seg = NULL;

	if (type == 'o') {
		const char *why = NULL;
		struct obj_hdr h;
		int fd = openat(p->obj_fd, path,
				O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0)
			goto out;
		if (hdr_read(fd, &h, false, &why) != 0)
			damaged(p, path, why);
		else if (strncmp(h.key, q, strlen(q)) != 0 ||
			 strchr(h.key + strlen(q), '/') != NULL)
			damaged(p, path, "its header names another key");
		else
			seg = bfs_xstrdup(h.key + strlen(q));
		hdr_release(&h);
		close(fd);
	} else {
		char *sp = rel_join(path, SEGNAME);
		char buf[BFS_KEY_MAX + 1];
		size_t got = 0;
		int fd = openat(p->obj_fd, sp,
				O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd >= 0 && pread_full(fd, buf, sizeof(buf), 0, &got) == 0 &&
		    got < sizeof(buf) && memchr(buf, '\0', got) == NULL &&
		    memchr(buf, '/', got) == NULL)
			seg = bfs_xstrndup(buf, got);
		else
			damaged(p, sp, "missing or bad segment name file");
		if (fd >= 0)
			close(fd);
		free(sp);
	}
	if (seg) {
		seg_name(seg, strlen(seg), type, check);
		if (strcmp(check, name) != 0) {
			damaged(p, path, "name does not match its segment");
			free(seg);
			seg = NULL;
		}
	}
out:
	free(path);
	return seg;
}

/*
 * Read and sort the entries of directory rel (key prefix q) into f.
 * A missing directory is an empty frame.
 */
static int frame_load(struct local_priv *p, char *rel, char *q,
		      struct lframe *f)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int fd;

	memset(f, 0, sizeof(*f));
	f->rel = rel;
	f->q = q;
	fd = openat(p->obj_fd, rel_or_dot(rel),
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP) {
			damaged(p, rel, "not a directory");
			return 0;
		}
		return sys_err(p, "cannot open directory", rel, errno);
	}
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;

		close(fd);
		return sys_err(p, "cannot read directory", rel, e);
	}
	while ((de = readdir(d)) != NULL) {
		char type = 0, *seg = NULL;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SEGNAME) == 0)
			continue;
		if (parse_name(de->d_name, &type, &seg) != 0) {
			char *path = rel_join(rel, de->d_name);

			bfs_log(LOG_WARNING,
				"local store '%s': skipping 'objects/%s': not "
				"a name this store writes",
				p->name, path);
			free(path);
			continue;
		}
		if (seg == NULL) {
			seg = hashed_seg(p, rel, de->d_name, type, q);
			if (seg == NULL)
				continue;
		}
		if (f->n == cap) {
			cap = cap ? 2 * cap : 16;
			f->ents = bfs_xrealloc(f->ents, cap * sizeof(*f->ents));
		}
		f->ents[f->n].name = bfs_xstrdup(de->d_name);
		f->ents[f->n].dir = type == 'p';
		f->ents[f->n].sort = type == 'p' ? bfs_xasprintf("%s/", seg)
						 : bfs_xstrdup(seg);
		f->n++;
		free(seg);
	}
	closedir(d);
	if (f->n > 1)
		qsort(f->ents, f->n, sizeof(*f->ents), lent_cmp);
	return 0;
}

static bool starts_with(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

static bool key_after_bound(const struct lwalk *w, const char *k)
{
	switch (w->bmode) {
	case B_NONE:
		return true;
	case B_KEY:
		return strcmp(k, w->bound) > 0;
	default:
		return strcmp(k, w->bound) > 0 && !starts_with(k, w->bound);
	}
}

/*
 * Where the keys under prefix r (a directory) lie against the bound:
 * -1 all done already, 0 some may be after it, 1 all after it.
 */
static int range_vs_bound(const struct lwalk *w, const char *r)
{
	if (w->bmode == B_NONE)
		return 1;
	if (w->bmode == B_PREFIX && starts_with(r, w->bound))
		return -1;
	if (starts_with(w->bound, r))
		return 0;
	return strcmp(r, w->bound) < 0 ? -1 : 1;
}

/*
 * Length of the common prefix shared by every key under directory
 * prefix r, when r alone decides it; 0 when it does not.
 */
static size_t range_cp(const struct lwalk *w, const char *r)
{
	size_t rlen = strlen(r);
	const char *d;

	if (w->delim == NULL || rlen < w->plen)
		return 0;
	d = memmem(r + w->plen, rlen - w->plen, w->delim, w->dlen);
	return d ? (size_t)(d - r) + w->dlen : 0;
}

/* Check an object file for a listing; damaged ones are logged. */
static int load_obj(struct local_priv *p, const char *rel, const char *name,
		    const char *key, struct obj_hdr *h)
{
	char *path = rel_join(rel, name);
	int rc = obj_open_rel(p, path, key, false, h, NULL);

	free(path);
	return rc;
}

/*
 * Whether the tree at rel (key prefix q) holds a valid object, without
 * reading more of it than needed.
 * @return 0 (yes), ENOENT (no), or an errno.
 */
static int tree_has_object(struct local_priv *p, const char *rel, const char *q)
{
	char **dirs = NULL;
	size_t ndirs = 0;
	struct dirent *de;
	int fd, rc = ENOENT;
	DIR *d;

	fd = openat(p->obj_fd, rel_or_dot(rel),
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP
			       ? ENOENT
			       : sys_err(p, "cannot open directory", rel,
					 errno);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return sys_err(p, "cannot read directory", rel, errno);
	}
	while (rc == ENOENT && (de = readdir(d)) != NULL) {
		char type = 0, *seg = NULL;

		if (parse_name(de->d_name, &type, &seg) != 0)
			continue;
		if (type == 'p') {
			dirs = bfs_xrealloc(dirs, (ndirs + 1) * sizeof(*dirs));
			dirs[ndirs++] = bfs_xstrdup(de->d_name);
		} else {
			if (seg == NULL)
				seg = hashed_seg(p, rel, de->d_name, type, q);
			if (seg) {
				struct obj_hdr h;
				char *key = bfs_xasprintf("%s%s", q, seg);

				if (load_obj(p, rel, de->d_name, key, &h) == 0)
					rc = 0;
				hdr_release(&h);
				free(key);
			}
		}
		free(seg);
	}
	closedir(d);
	for (size_t i = 0; i < ndirs; i++) {
		if (rc == ENOENT) {
			char type = 0, *seg = NULL;

			parse_name(dirs[i], &type, &seg);
			if (seg == NULL)
				seg = hashed_seg(p, rel, dirs[i], type, q);
			if (seg) {
				char *sub = rel_join(rel, dirs[i]);
				char *sq = bfs_xasprintf("%s%s/", q, seg);

				rc = tree_has_object(p, sub, sq);
				free(sub);
				free(sq);
			}
			free(seg);
		}
		free(dirs[i]);
	}
	free(dirs);
	return rc;
}

static int walk_push(struct lwalk *w, char *rel, char *q)
{
	if (w->depth == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 8;
		w->fr = bfs_xrealloc(w->fr, w->cap * sizeof(*w->fr));
	}
	w->depth++;
	return frame_load(w->p, rel, q, &w->fr[w->depth - 1]);
}

enum litem { I_END, I_OBJ, I_PREFIX };

/*
 * The next object (with its header in h) or common prefix after the
 * bound, in byte order. *key is malloc'd.
 */
static int walk_next(struct lwalk *w, enum litem *kind, char **key,
		     struct obj_hdr *h)
{
	*kind = I_END;
	while (w->depth > 0) {
		struct lframe *f = &w->fr[w->depth - 1];
		struct lent *e;
		size_t cplen;
		char *k;
		int rc, cls;

		if (f->i == f->n) {
			frame_release(f);
			w->depth--;
			continue;
		}
		e = &f->ents[f->i++];
		/* in the start frame only entries extending the prefix */
		if (w->depth == 1 && strncmp(e->sort, w->prefix + w->qlen0,
					     w->plen - w->qlen0) != 0)
			continue;
		k = bfs_xasprintf("%s%s", f->q, e->sort);
		if (!e->dir) {
			if (!key_after_bound(w, k)) {
				free(k);
				continue;
			}
			rc = load_obj(w->p, f->rel, e->name, k, h);
			if (rc == 0) {
				*kind = I_OBJ;
				*key = k;
				return 0;
			}
			free(k);
			if (rc == ENOENT || rc == EIO)
				continue; /* deleted meanwhile, or logged */
			return rc;
		}
		cls = range_vs_bound(w, k);
		if (cls < 0) {
			free(k);
			continue;
		}
		cplen = cls > 0 ? range_cp(w, k) : 0;
		if (cplen > 0) {
			/* the whole directory is one common prefix: is there
			 * anything in it? */
			char *sub = rel_join(f->rel, e->name);

			rc = tree_has_object(w->p, sub, k);
			free(sub);
			if (rc == 0) {
				k[cplen] = '\0';
				*kind = I_PREFIX;
				*key = k;
				return 0;
			}
			free(k);
			if (rc == ENOENT)
				continue;
			return rc;
		}
		rc = walk_push(w, rel_join(f->rel, e->name), k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void walk_release(struct lwalk *w)
{
	while (w->depth > 0)
		frame_release(&w->fr[--w->depth]);
	free(w->fr);
	free(w->bound);
}

static void set_bound(struct lwalk *w, enum lbound mode, const char *s)
{
	free(w->bound);
	w->bmode = mode;
	w->bound = bfs_xstrdup(s);
}

static int local_list(struct bfs_store *s, const struct bfs_list_req *req,
		      struct bfs_list_result *out)
{
	struct local_priv *p = priv_of(s);
	struct lwalk w = {0};
	unsigned max = req->max_keys ? req->max_keys : LIST_MAX_KEYS;
	char rel[REL_MAX], name[NAME_ROOM + 1];
	const char *seg, *slash;
	enum lbound last = B_NONE;
	unsigned count = 0;
	size_t o = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	max = BFS_MIN(max, LIST_MAX_KEYS);
	w.p = p;
	w.prefix = req->prefix ? req->prefix : "";
	w.plen = strlen(w.prefix);
	if (req->delimiter && req->delimiter[0]) {
		w.delim = req->delimiter;
		w.dlen = strlen(w.delim);
	}
	if (req->token) {
		if (req->token[0] != 'K' && req->token[0] != 'P') {
			rc = EINVAL;
			goto out;
		}
		set_bound(&w, req->token[0] == 'K' ? B_KEY : B_PREFIX,
			  req->token + 1);
	} else if (req->start_after && req->start_after[0]) {
		set_bound(&w, B_KEY, req->start_after);
	}
	if (w.plen > BFS_KEY_MAX)
		goto out;
	/* start in the directory of the prefix's whole segments */
	rel[0] = '\0';
	for (seg = w.prefix; (slash = strchr(seg, '/')) != NULL;
	     seg = slash + 1) {
		seg_name(seg, (size_t)(slash - seg), 'p', name);
		if (rel_add(rel, &o, name) != 0)
			goto out;
	}
	w.qlen0 = (size_t)(seg - w.prefix);
	rc = walk_push(&w, bfs_xstrdup(rel), bfs_xstrndup(w.prefix, w.qlen0));
	while (rc == 0) {
		struct obj_hdr h = {0};
		enum litem kind;
		char *key = NULL;
		const char *d;

		rc = walk_next(&w, &kind, &key, &h);
		if (rc != 0 || kind == I_END)
			break;
		if (kind == I_OBJ && w.delim &&
		    (d = strstr(key + w.plen, w.delim)) != NULL) {
			key[d - key + (ptrdiff_t)w.dlen] = '\0';
			kind = I_PREFIX;
		}
		if (count == max) {
			out->next_token = bfs_xasprintf(
				"%c%s", last == B_KEY ? 'K' : 'P', w.bound);
			free(key);
			hdr_release(&h);
			break;
		}
		count++;
		if (kind == I_OBJ) {
			struct bfs_obj_info *oi;

			out->objs = bfs_xrealloc(
				out->objs, (out->nobjs + 1) * sizeof(*oi));
			oi = &out->objs[out->nobjs++];
			memset(oi, 0, sizeof(*oi));
			oi->key = key;
			oi->size = h.size;
			oi->mtime = h.mtime;
			snprintf(oi->etag, sizeof(oi->etag), "%s", h.etag);
			set_bound(&w, B_KEY, key);
			last = B_KEY;
		} else {
			out->prefixes = bfs_xrealloc(out->prefixes,
						     (out->nprefixes + 1) *
							     sizeof(char *));
			out->prefixes[out->nprefixes++] = key;
			set_bound(&w, B_PREFIX, key);
			last = B_PREFIX;
		}
		hdr_release(&h);
	}
out:
	walk_release(&w);
	if (rc != 0)
		bfs_list_result_release(out);
	return stat_done(p, rc, 0, 0);
}

/* ---- multipart uploads ---- */

static bool upload_id_ok(const char *id)
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
static void upload_remove(struct local_priv *p, const char *id)
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

static int local_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			   char **upload_id)
{
	struct local_priv *p = priv_of(s);
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

static int local_mpu_part(struct bfs_store *s, const char *key,
			  const char *upload_id, int number, int fd, off_t off,
			  size_t len, char *etag_out)
{
	struct local_priv *p = priv_of(s);
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

static int local_mpu_complete(struct bfs_store *s,
			      const struct bfs_put_req *req,
			      const char *upload_id,
			      const struct bfs_part *parts, size_t nparts,
			      char *etag_out)
{
	struct local_priv *p = priv_of(s);
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

static int local_mpu_abort(struct bfs_store *s, const char *key,
			   const char *upload_id)
{
	struct local_priv *p = priv_of(s);
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

/* ---- life cycle ---- */

static void local_get_stats(struct bfs_store *s, struct bfs_store_stats *out)
{
	struct local_priv *p = priv_of(s);

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
	priv_free(priv_of(s));
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
			rc = pwrite_full(fd, LOCAL_FORMAT, strlen(LOCAL_FORMAT),
					 0);
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
	rc = pread_full(fd, buf, sizeof(buf) - 1, 0, &got);
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
