/*
 * test_store_local.c - the local store: the store conformance battery on
 * a temporary directory, then what only a local store has: create-time
 * checks, persistence across destroy/create, damaged and stray files,
 * atomic replace under concurrent readers, listings against a reference
 * model over random keys, multipart edge cases, two instances on one
 * directory, crash leftovers.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/local.h"
#include "store_conformance.h"

#define OK(...) bfs_conformance_ok(__VA_ARGS__)

static char *root; /* the temporary directory of this run */

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_of(const char *rel)
{
	return bfs_xasprintf("%s/%s", root, rel);
}

static struct bfs_store *open_store(const char *dir)
{
	char err[512] = "";
	struct bfs_store *s = bfs_local_create("test", dir, err, sizeof(err));

	if (s == NULL)
		BFS_BUG("cannot open local store: %s", err);
	return s;
}

static int body_fd(const void *data, size_t n)
{
	char *path = bfs_xasprintf("%s/body-XXXXXX", root);
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		BFS_BUG("body file: %s", strerror(errno));
	unlink(path);
	free(path);
	return fd;
}

static int put(struct bfs_store *s, const char *key, const void *data, size_t n,
	       const struct bfs_meta_list *meta, const char *if_match,
	       bool if_none_match, char *etag)
{
	int fd = body_fd(data, n);
	struct bfs_put_req req = {.key = key,
				  .fd = fd,
				  .size = n,
				  .meta = meta,
				  .if_match = if_match,
				  .if_none_match = if_none_match};
	int rc = s->put(s, &req, etag);

	close(fd);
	return rc;
}

static int put_str(struct bfs_store *s, const char *key, const char *data)
{
	return put(s, key, data, strlen(data), NULL, NULL, false, NULL);
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		BFS_BUG("write %s: %s", path, strerror(errno));
	close(fd);
}

/* ---- create ---- */

static void test_create(void)
{
	char err[512] = "";
	char *dir = path_of("new/nested/bucket");
	char *file = path_of("a-file");
	char *fmt;
	struct bfs_store *s;
	struct stat st;

	s = bfs_local_create("t", dir, err, sizeof(err));
	OK(s != NULL && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		   (st.st_mode & 0777) == 0700,
	   "create: a missing directory and its parents are made, mode 0700");
	if (s)
		s->destroy(s);
	OK(s != NULL && (s = bfs_local_create("t", dir, err, sizeof(err))) &&
		   s->caps == (BFS_CAP_IF_MATCH | BFS_CAP_IF_NONE_MATCH |
			       BFS_CAP_MULTIPART | BFS_CAP_LOCAL),
	   "create: opening it again works; caps are all four");
	if (s)
		s->destroy(s);

	write_file(file, "x", 1);
	err[0] = '\0';
	errno = 0;
	s = bfs_local_create("t", file, err, sizeof(err));
	OK(s == NULL && errno == ENOTDIR && strstr(err, "a-file"),
	   "create: a regular file is ENOTDIR with a message ('%s')", err);
	errno = 0;
	s = bfs_local_create("t", "", err, sizeof(err));
	OK(s == NULL && errno == EINVAL, "create: an empty path is EINVAL");

	fmt = bfs_xasprintf("%s/.bucketfs/format", dir);
	write_file(fmt, "bucketfs-local 99\n", 18);
	errno = 0;
	s = bfs_local_create("t", dir, err, sizeof(err));
	OK(s == NULL && errno == EPROTO && strstr(err, "bucketfs-local 99"),
	   "create: an unknown format is EPROTO ('%s')", err);
	free(fmt);

	if (geteuid() == 0) {
		bfs_conformance_diag("running as root: the not-writable case "
				     "cannot be staged and is not checked");
	} else {
		char *ro = path_of("read-only");

		mkdir(ro, 0500);
		errno = 0;
		s = bfs_local_create("t", ro, err, sizeof(err));
		OK(s == NULL && errno == EACCES,
		   "create: a read-only directory is EACCES ('%s')", err);
		chmod(ro, 0700);
		free(ro);
	}
	free(dir);
	free(file);
}

/* ---- persistence ---- */

static void test_persistence(void)
{
	char *dir = path_of("persist");
	struct bfs_store *s = open_store(dir);
	struct bfs_meta_list meta = {0};
	struct bfs_obj_info a = {0}, b = {0};
	char etag[BFS_ETAG_MAX], buf[32];
	size_t got = 0;
	int rc;

	bfs_meta_set(&meta, "uid", "1000");
	rc = put(s, "keep/me", "persistent", 10, &meta, NULL, false, etag);
	rc = rc ? rc : s->head(s, "keep/me", &a);
	s->destroy(s);
	s = open_store(dir);
	rc = rc ? rc : s->head(s, "keep/me", &b);
	OK(rc == 0 && strcmp(a.etag, b.etag) == 0 && a.size == b.size &&
		   a.mtime.tv_sec == b.mtime.tv_sec &&
		   a.mtime.tv_nsec == b.mtime.tv_nsec &&
		   bfs_meta_get(&b.meta, "uid") &&
		   strcmp(bfs_meta_get(&b.meta, "uid"), "1000") == 0,
	   "persistence: ETag, size, mtime and metadata survive "
	   "destroy/create");
	rc = bfs_store_read_full(s, "keep/me", 0, sizeof(buf), buf, &got, etag);
	OK(rc == 0 && got == 10 && memcmp(buf, "persistent", 10) == 0,
	   "persistence: content survives, pinned to the old ETag");
	/* MD5 of the content, as S3 gives for a single put */
	rc = put(s, "md5", "hello\n", 6, NULL, NULL, false, etag);
	OK(rc == 0 && strcmp(etag, "b1946ac92492d2347c6235b4d2611184") == 0,
	   "etag: a put's ETag is the MD5 of the content ('%s')", etag);
	bfs_obj_info_release(&a);
	bfs_obj_info_release(&b);
	bfs_meta_list_release(&meta);
	s->destroy(s);
	free(dir);
}

/* ---- damaged entries ---- */

static size_t list_keys(struct bfs_store *s, const char *prefix,
			const char *delim, char *out, size_t outlen)
{
	struct bfs_list_req req = {.prefix = prefix, .delimiter = delim};
	struct bfs_list_result res = {0};
	size_t n = 0, o = 0;

	out[0] = '\0';
	if (s->list(s, &req, &res) != 0) {
		snprintf(out, outlen, "(error)");
		return 0;
	}
	for (size_t i = 0; i < res.nobjs; i++, n++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? " " : "",
				      res.objs[i].key);
	for (size_t i = 0; i < res.nprefixes; i++, n++)
		o += (size_t)snprintf(out + o, outlen - o, "%sP:%s",
				      o ? " " : "", res.prefixes[i]);
	bfs_list_result_release(&res);
	return n;
}

static void test_damaged(void)
{
	char *dir = path_of("damaged");
	struct bfs_store *s = open_store(dir);
	struct bfs_obj_info info = {0};
	char got[512], buf[16], *p, *q;
	size_t n;
	int rc;

	put_str(s, "bad/w", "www");
	put_str(s, "bad/x", "xxx");
	put_str(s, "bad/y", "yyy");
	put_str(s, "bad/z", "zzz");
	put_str(s, "bad/sub/ok", "ok");

	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/y%%o", dir);
	write_file(p, "garbage, not a header at all", 28);
	rc = s->head(s, "bad/y", &info);
	OK(rc == EIO, "damaged: garbage object file: head is EIO (rc %d)", rc);
	bfs_obj_info_release(&info);
	rc = s->get_range(s, "bad/y", 0, sizeof(buf), buf, &n, NULL);
	OK(rc == EIO, "damaged: garbage object file: get_range is EIO");
	list_keys(s, "bad/", "/", got, sizeof(got));
	OK(strcmp(got, "bad/w bad/x bad/z P:bad/sub/") == 0,
	   "damaged: listing skips it ('%s')", got);
	rc = put(s, "bad/y", "x", 1, NULL, NULL, true, NULL);
	OK(rc == EEXIST, "damaged: counts as existing for if_none_match");
	rc = put_str(s, "bad/y", "repaired");
	OK(rc == 0 && s->head(s, "bad/y", &info) == 0 && info.size == 8,
	   "damaged: a put over it repairs the key");
	bfs_obj_info_release(&info);
	free(p);

	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/z%%o", dir);
	OK(truncate(p, 40) == 0 && s->head(s, "bad/z", &info) == EIO,
	   "damaged: a truncated object file is EIO");
	bfs_obj_info_release(&info);
	free(p);

	/* a bit flip in the metadata area: the checksum catches it */
	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/w%%o", dir);
	{
		int fd = open(p, O_RDWR);
		unsigned char c = 0;

		if (fd < 0 || pread(fd, &c, 1, 44) != 1)
			BFS_BUG("open %s", p);
		c ^= 1;
		if (pwrite(fd, &c, 1, 44) != 1)
			BFS_BUG("pwrite %s", p);
		close(fd);
	}
	OK(s->head(s, "bad/w", &info) == EIO,
	   "damaged: a flipped header bit is EIO");
	bfs_obj_info_release(&info);
	free(p);

	/* a valid file under the wrong name: its header names bad/x */
	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/x%%o", dir);
	q = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/v%%o", dir);
	if (link(p, q) != 0)
		BFS_BUG("link %s", q);
	OK(s->head(s, "bad/v", &info) == EIO,
	   "damaged: a file holding another key is EIO");
	bfs_obj_info_release(&info);
	free(p);
	free(q);

	/* stray things dropped into the tree */
	p = bfs_xasprintf("%s/.bucketfs/objects/stray.txt", dir);
	write_file(p, "hi", 2);
	free(p);
	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/%%41%%o", dir);
	write_file(p, "non-canonical name", 18);
	free(p);
	p = bfs_xasprintf("%s/.bucketfs/objects/plaindir", dir);
	mkdir(p, 0700);
	free(p);
	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/dirobj%%o", dir);
	mkdir(p, 0700);
	free(p);
	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/link%%o", dir);
	if (symlink("x%o", p) != 0)
		BFS_BUG("symlink %s", p);
	free(p);
	p = bfs_xasprintf("%s/.bucketfs/objects/bad%%p/filedir%%p", dir);
	write_file(p, "a file where a directory belongs", 32);
	free(p);
	/* a hashed directory without its "%name" file */
	p = bfs_xasprintf("%s/.bucketfs/objects/%0200d%%h"
			  "0123456789abcdef0123456789abcdef%%p",
			  dir, 0);
	mkdir(p, 0700);
	q = bfs_xasprintf("%s/y%%o", p);
	write_file(q, "y", 1);
	free(q);
	free(p);
	p = bfs_xasprintf("%s/stray-beside-.bucketfs", dir);
	write_file(p, "not part of the bucket", 22);
	free(p);

	list_keys(s, "", NULL, got, sizeof(got));
	OK(strcmp(got, "bad/sub/ok bad/x bad/y") == 0,
	   "damaged: a flat listing skips every stray entry ('%s')", got);
	list_keys(s, "bad/", "/", got, sizeof(got));
	OK(strcmp(got, "bad/x bad/y P:bad/sub/") == 0,
	   "damaged: a delimited listing too ('%s')", got);
	OK(s->head(s, "bad/link", &info) == EIO,
	   "damaged: a symbolic link is EIO, not followed");
	bfs_obj_info_release(&info);
	OK(s->head(s, "bad/dirobj", &info) == EIO,
	   "damaged: a directory where an object belongs is EIO");
	bfs_obj_info_release(&info);
	OK(s->head(s, "stray.txt", &info) == ENOENT,
	   "damaged: files dropped in by hand are not objects");
	bfs_obj_info_release(&info);
	rc = s->del(s, "bad/z");
	OK(rc == 0 && s->head(s, "bad/z", &info) == ENOENT,
	   "damaged: delete removes a damaged key");
	bfs_obj_info_release(&info);
	s->destroy(s);
	free(dir);
}

/* ---- atomic replace ---- */

#define AR_SIZE	    (192 * 1024)
#define AR_VERSIONS 40

struct ar {
	struct bfs_store *s;
	volatile int done;
	int mixed, reads, stale;
};

static bool uniform(const unsigned char *b, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (b[i] != b[0])
			return false;
	return true;
}

static void *ar_reader(void *arg)
{
	struct ar *a = arg;
	unsigned char *buf = bfs_xmalloc(AR_SIZE);

	while (!__atomic_load_n(&a->done, __ATOMIC_ACQUIRE)) {
		struct bfs_obj_info info = {0};
		size_t got = 0;
		int rc;

		/* one call reads one version */
		rc = a->s->get_range(a->s, "ar/obj", 0, AR_SIZE, buf, &got,
				     NULL);
		if (rc == 0 && (got != AR_SIZE || !uniform(buf, got)))
			__atomic_add_fetch(&a->mixed, 1, __ATOMIC_RELAXED);
		/* a read pinned to an ETag never mixes versions */
		if (a->s->head(a->s, "ar/obj", &info) == 0) {
			size_t half = AR_SIZE / 2;

			rc = a->s->get_range(a->s, "ar/obj", 0, half, buf, &got,
					     info.etag);
			if (rc == 0)
				rc = a->s->get_range(a->s, "ar/obj", half,
						     AR_SIZE - half, buf + half,
						     &got, info.etag);
			if (rc == ESTALE)
				__atomic_add_fetch(&a->stale, 1,
						   __ATOMIC_RELAXED);
			else if (rc != 0 || !uniform(buf, AR_SIZE))
				__atomic_add_fetch(&a->mixed, 1,
						   __ATOMIC_RELAXED);
		}
		bfs_obj_info_release(&info);
		__atomic_add_fetch(&a->reads, 1, __ATOMIC_RELAXED);
	}
	free(buf);
	return NULL;
}

static void test_atomic_replace(void)
{
	char *dir = path_of("atomic");
	unsigned char *data = bfs_xmalloc(AR_SIZE);
	struct ar a = {0};
	pthread_t th[3];
	int bad = 0;

	a.s = open_store(dir);
	memset(data, 0, AR_SIZE);
	put(a.s, "ar/obj", data, AR_SIZE, NULL, NULL, false, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, ar_reader, &a);
	for (int v = 1; v <= AR_VERSIONS; v++) {
		memset(data, v, AR_SIZE);
		if (put(a.s, "ar/obj", data, AR_SIZE, NULL, NULL, false,
			NULL) != 0)
			bad++;
	}
	__atomic_store_n(&a.done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	OK(bad == 0 && a.mixed == 0 && a.reads > 0,
	   "atomic replace: %d overwrites under 3 readers: no read mixed two "
	   "versions (%d reads, %d ESTALE, %d mixed)",
	   AR_VERSIONS, a.reads, a.stale, a.mixed);
	a.s->destroy(a.s);
	free(data);
	free(dir);
}

/* ---- listings against a model ---- */

struct model {
	char **keys; /* sorted, unique */
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void model_add(struct model *m, char *key)
{
	m->keys = bfs_xrealloc(m->keys, (m->n + 1) * sizeof(char *));
	m->keys[m->n++] = key;
}

static void model_sort(struct model *m)
{
	size_t o = 0;

	qsort(m->keys, m->n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < m->n; i++) {
		if (o > 0 && strcmp(m->keys[o - 1], m->keys[i]) == 0) {
			free(m->keys[i]);
			continue;
		}
		m->keys[o++] = m->keys[i];
	}
	m->n = o;
}

/* What ListObjectsV2 gives over all pages, as one string. */
static void model_list(const struct model *m, const char *prefix,
		       const char *delim, const char *after, char **out)
{
	size_t plen = strlen(prefix);
	char *last_cp = NULL;
	char *objs = bfs_xstrdup(""), *pfx = bfs_xstrdup("");

	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->keys[i];
		const char *d;
		char *t;

		if (strncmp(k, prefix, plen) != 0)
			continue;
		if (after && strcmp(k, after) <= 0)
			continue;
		d = delim ? strstr(k + plen, delim) : NULL;
		if (d) {
			size_t len = (size_t)(d - k) + strlen(delim);

			if (last_cp && strlen(last_cp) == len &&
			    strncmp(last_cp, k, len) == 0)
				continue;
			free(last_cp);
			last_cp = bfs_xstrndup(k, len);
			t = bfs_xasprintf("%s[%s]", pfx, last_cp);
			free(pfx);
			pfx = t;
		} else {
			t = bfs_xasprintf("%s[%s]", objs, k);
			free(objs);
			objs = t;
		}
	}
	free(last_cp);
	*out = bfs_xasprintf("O%s P%s", objs, pfx);
	free(objs);
	free(pfx);
}

/* The same from the store, page by page; pages over max are an error. */
static int store_list(struct bfs_store *s, const char *prefix,
		      const char *delim, const char *after, unsigned max,
		      char **out)
{
	char *objs = bfs_xstrdup(""), *pfx = bfs_xstrdup(""), *token = NULL;
	int rc = 0, pages = 0;

	do {
		struct bfs_list_req req = {.prefix = prefix,
					   .delimiter = delim,
					   .token = token,
					   .start_after = after,
					   .max_keys = max};
		struct bfs_list_result res = {0};

		rc = s->list(s, &req, &res);
		free(token);
		token = NULL;
		if (rc != 0)
			break;
		if (max && res.nobjs + res.nprefixes > max)
			rc = E2BIG;
		for (size_t i = 0; i < res.nobjs; i++) {
			char *t =
				bfs_xasprintf("%s[%s]", objs, res.objs[i].key);

			free(objs);
			objs = t;
		}
		for (size_t i = 0; i < res.nprefixes; i++) {
			char *t = bfs_xasprintf("%s[%s]", pfx, res.prefixes[i]);

			free(pfx);
			pfx = t;
		}
		if (res.next_token)
			token = bfs_xstrdup(res.next_token);
		bfs_list_result_release(&res);
	} while (token && ++pages < 10000);
	free(token);
	*out = bfs_xasprintf("O%s P%s", objs, pfx);
	free(objs);
	free(pfx);
	return rc;
}

static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static char *random_key(void)
{
	static const char *const atoms[] = {"a", "b", "/",	  "/", "!",
					    "0", "~", "\xc3\xa9", " ", "%"};
	char buf[BFS_KEY_MAX + 1];
	size_t o = 0, n = 1 + rnd() % 7;

	for (size_t i = 0; i < n; i++) {
		const char *a = atoms[rnd() % BFS_ARRAY_SIZE(atoms)];

		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s", a);
	}
	/* now and then a segment too long for a file name */
	if (rnd() % 12 == 0) {
		char c = "ab"[rnd() % 2];

		for (int i = 0; i < 260 && o < 400; i++)
			buf[o++] = c;
		buf[o] = '\0';
		if (rnd() % 2)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "/%s",
					      atoms[rnd() % 3]);
	}
	return bfs_xstrdup(buf);
}

/* One listing of the store against the model. */
static bool check_one(struct bfs_store *s, const struct model *m,
		      const char *prefix, const char *delim, const char *after,
		      unsigned max, int *shown)
{
	char *want, *got;
	bool same;
	int rc;

	model_list(m, prefix, delim, after, &want);
	rc = store_list(s, prefix, delim, after, max, &got);
	same = rc == 0 && strcmp(want, got) == 0;
	if (!same && (*shown)++ < 3) {
		bfs_conformance_diag(
			"prefix '%s' delim '%s' after '%s' max %u: "
			"rc %d",
			prefix, delim ? delim : "-", after ? after : "-", max,
			rc);
		bfs_conformance_diag("want %s", want);
		bfs_conformance_diag("got  %s", got);
	}
	free(want);
	free(got);
	return same;
}

static int check_model(struct bfs_store *s, struct model *m, int *cases)
{
	static const char *const prefixes[] = {"",  "a",   "a/",   "a/b",  "b/",
					       "!", "a//", "\xc3", "aaaa", "/"};
	static const char *const delims[] = {NULL, "/", "a", "/b", "\xc3\xa9"};
	static const unsigned maxes[] = {0, 1, 3, 7};
	const char *afters[] = {NULL, "a/", "b", m->n ? m->keys[m->n / 2] : ""};
	int bad = 0, shown = 0;

	for (size_t pi = 0; pi < BFS_ARRAY_SIZE(prefixes); pi++) {
		for (size_t di = 0; di < BFS_ARRAY_SIZE(delims); di++) {
			for (size_t ai = 0; ai < BFS_ARRAY_SIZE(afters); ai++) {
				for (size_t mi = 0; mi < BFS_ARRAY_SIZE(maxes);
				     mi++) {
					(*cases)++;
					if (!check_one(s, m, prefixes[pi],
						       delims[di], afters[ai],
						       maxes[mi], &shown))
						bad++;
				}
			}
		}
	}
	return bad;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			bfs_conformance_diag("left in %s: '%s'", path,
					     de->d_name);
			n++;
		}
	closedir(d);
	return n == 0;
}

static void test_model(void)
{
	char *dir = path_of("model");
	char *objs = bfs_xasprintf("%s/.bucketfs/objects", dir);
	struct bfs_store *s = open_store(dir);
	struct model m = {0};
	int bad = 0, cases = 0, putbad = 0;
	size_t o = 0;

	for (int i = 0; i < 220; i++) {
		char *k = random_key();

		if (k[0] == '/' || put_str(s, k, "") != 0) {
			if (k[0] != '/')
				putbad++;
			free(k);
			continue;
		}
		model_add(&m, k);
	}
	model_sort(&m);
	OK(putbad == 0, "model: put %zu random keys (%d failed)", m.n, putbad);
	bad = check_model(s, &m, &cases);
	OK(bad == 0,
	   "model: %d listings (prefix x delimiter x start_after x max_keys) "
	   "equal the model (%d differ)",
	   cases, bad);

	/* delete every other key: empty directories must not show */
	for (size_t i = 0; i < m.n; i++) {
		if (i % 2 == 0) {
			if (s->del(s, m.keys[i]) != 0)
				putbad++;
			free(m.keys[i]);
		} else {
			m.keys[o++] = m.keys[i];
		}
	}
	m.n = o;
	cases = 0;
	bad = check_model(s, &m, &cases);
	OK(bad == 0 && putbad == 0,
	   "model: after deleting half, %d listings equal the model "
	   "(%d differ)",
	   cases, bad);
	for (size_t i = 0; i < m.n; i++) {
		if (s->del(s, m.keys[i]) != 0)
			putbad++;
		free(m.keys[i]);
	}
	free(m.keys);
	OK(putbad == 0 && dir_empty(objs),
	   "model: deleting every key leaves no directory behind");
	s->destroy(s);
	free(objs);
	free(dir);
}

/* ---- keys and tokens ---- */

static void test_args(void)
{
	char *dir = path_of("args");
	struct bfs_store *s = open_store(dir);
	char key[BFS_KEY_MAX + 2];
	struct bfs_list_req req = {.prefix = "", .token = "garbage"};
	struct bfs_list_result res = {0};
	struct bfs_obj_info info = {0};
	char *p;
	int rc;

	OK(put_str(s, "", "x") == EINVAL, "args: an empty key is EINVAL");
	memset(key, 'k', sizeof(key));
	key[BFS_KEY_MAX + 1] = '\0';
	OK(put_str(s, key, "x") == ENAMETOOLONG,
	   "args: a 1025-byte key is ENAMETOOLONG");
	OK(s->head(s, key, &info) == ENAMETOOLONG,
	   "args: head of a 1025-byte key is ENAMETOOLONG");
	key[BFS_KEY_MAX] = '\0';
	memset(key, '/', 512);
	rc = put_str(s, key, "deep");
	OK(rc == 0 && s->head(s, key, &info) == 0 && info.size == 4,
	   "args: a key of 512 slashes and 512 bytes works (rc %d)", rc);
	bfs_obj_info_release(&info);
	rc = s->del(s, key);
	p = bfs_xasprintf("%s/.bucketfs/objects", dir);
	OK(rc == 0 && dir_empty(p),
	   "args: deleting it removes all 512 directories");
	free(p);
	rc = s->list(s, &req, &res);
	OK(rc == EINVAL, "args: a garbage continuation token is EINVAL");
	bfs_list_result_release(&res);
	rc = put(s, "cond/missing", "x", 1, NULL, "abc", false, NULL);
	OK(rc == ESTALE, "args: if_match on a missing key is ESTALE");
	{
		struct bfs_store_stats st = {0};

		s->get_stats(s, &st);
		OK(st.requests >= 6 && st.bytes_out >= 4,
		   "stats: requests and bytes are counted (%llu, %llu)",
		   (unsigned long long)st.requests,
		   (unsigned long long)st.bytes_out);
	}
	s->destroy(s);
	free(dir);
}

/* ---- multipart ---- */

struct part_job {
	struct bfs_store *s;
	const char *id;
	int number, fd;
	off_t off;
	size_t size;
	struct bfs_part out;
	int rc;
};

static void *part_thread(void *arg)
{
	struct part_job *j = arg;

	j->out.number = j->number;
	j->rc = j->s->mpu_part(j->s, "mp/obj", j->id, j->number, j->fd, j->off,
			       j->size, j->out.etag);
	return NULL;
}

static void test_multipart(void)
{
	char *dir = path_of("multipart");
	struct bfs_store *s = open_store(dir);
	const size_t psize = 100000, total = 4 * psize - 777;
	unsigned char *data = bfs_xmalloc(total), *buf = bfs_xmalloc(total);
	struct bfs_put_req req = {.key = "mp/obj", .fd = -1};
	struct part_job jobs[4];
	struct bfs_part parts[4], swapped[2];
	pthread_t th[4];
	char etag[BFS_ETAG_MAX] = "", *id = NULL, *p;
	size_t got = 0;
	int fd, rc;

	for (size_t i = 0; i < total; i++)
		data[i] = (unsigned char)(i * 31 + i / 1000);
	fd = body_fd(data, total);
	rc = s->mpu_begin(s, &req, &id);
	OK(rc == 0 && id && strlen(id) == 32, "mpu: begin gives a 32-hex id");
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct part_job){.s = s,
					    .id = id,
					    .number = i + 1,
					    .fd = fd,
					    .off = (off_t)(i * psize),
					    .size = i == 3 ? total - 3 * psize
							   : psize};
		pthread_create(&th[i], NULL, part_thread, &jobs[i]);
	}
	rc = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		rc = rc ? rc : jobs[i].rc;
		parts[i] = jobs[i].out;
	}
	OK(rc == 0, "mpu: four parts from four threads at once (rc %d)", rc);
	rc = s->mpu_part(s, "mp/obj", id, 0, fd, 0, 10, etag);
	OK(rc == EINVAL, "mpu: part number 0 is EINVAL");
	rc = s->mpu_part(s, "mp/obj", id, 10001, fd, 0, 10, etag);
	OK(rc == EINVAL, "mpu: part number 10001 is EINVAL");
	rc = s->mpu_part(s, "mp/other", id, 1, fd, 0, 10, etag);
	OK(rc == ENOENT, "mpu: a part for another key is ENOENT");
	rc = s->mpu_part(s, "mp/obj", "../../../../etc", 1, fd, 0, 10, etag);
	OK(rc == ENOENT, "mpu: a malformed upload id is ENOENT");
	rc = s->mpu_part(s, "mp/obj", "0123456789abcdef0123456789abcdef", 1, fd,
			 0, 10, etag);
	OK(rc == ENOENT, "mpu: an unknown upload id is ENOENT");
	swapped[0] = parts[1];
	swapped[1] = parts[0];
	rc = s->mpu_complete(s, &req, id, swapped, 2, etag);
	OK(rc == EINVAL, "mpu: parts out of order are EINVAL");
	swapped[0] = parts[0];
	swapped[1] = parts[1];
	snprintf(swapped[1].etag, sizeof(swapped[1].etag), "%s", parts[2].etag);
	rc = s->mpu_complete(s, &req, id, swapped, 2, etag);
	OK(rc == EINVAL, "mpu: a wrong part ETag is EINVAL");
	rc = s->mpu_complete(s, &req, id, parts, 0, etag);
	OK(rc == EINVAL, "mpu: no parts is EINVAL");
	rc = s->mpu_abort(s, "mp/other", id);
	OK(rc == ENOENT, "mpu: abort for another key is ENOENT");
	rc = s->mpu_complete(s, &req, id, parts, 4, etag);
	OK(rc == 0 && strlen(etag) == 34 && strcmp(etag + 32, "-4") == 0,
	   "mpu: complete; the ETag is S3's md5-4 form ('%s')", etag);
	rc = bfs_store_read_full(s, "mp/obj", 0, total, buf, &got, etag);
	OK(rc == 0 && got == total && memcmp(buf, data, total) == 0,
	   "mpu: the parts were joined in order");
	p = bfs_xasprintf("%s/.bucketfs/uploads", dir);
	OK(dir_empty(p), "mpu: complete removed the upload's files");
	free(p);
	rc = s->mpu_abort(s, "mp/obj", id);
	OK(rc == ENOENT, "mpu: abort after complete is ENOENT");
	free(id);
	id = NULL;

	/* a failed conditional complete keeps the upload */
	rc = s->mpu_begin(s, &req, &id);
	rc = rc ? rc
		: s->mpu_part(s, "mp/obj", id, 1, fd, 0, 10, parts[0].etag);
	parts[0].number = 1;
	req.if_match = "not-the-etag";
	rc = rc ? rc : s->mpu_complete(s, &req, id, parts, 1, NULL);
	OK(rc == ESTALE,
	   "mpu: complete with a wrong if_match is ESTALE (rc %d)", rc);
	req.if_match = etag;
	rc = s->mpu_complete(s, &req, id, parts, 1, etag);
	OK(rc == 0 &&
		   bfs_store_read_full(s, "mp/obj", 0, 100, buf, &got, NULL) ==
			   0 &&
		   got == 10,
	   "mpu: ... and a retry with the right if_match completes it");
	free(id);
	s->destroy(s);
	close(fd);
	free(data);
	free(buf);
	free(dir);
}

/* ---- two instances on one directory ---- */

struct racer {
	struct bfs_store *s;
	pthread_barrier_t *bar;
	int wins;
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 30; i++) {
		char key[32];

		snprintf(key, sizeof(key), "race/%d", i);
		pthread_barrier_wait(r->bar);
		if (put(r->s, key, "me", 2, NULL, NULL, true, NULL) == 0)
			r->wins++;
	}
	return NULL;
}

static void test_two_instances(void)
{
	char *dir = path_of("shared");
	struct racer r[4];
	pthread_barrier_t bar;
	pthread_t th[4];
	int wins = 0;

	pthread_barrier_init(&bar, NULL, 4);
	for (int i = 0; i < 4; i++) {
		/* two threads on each of two instances */
		r[i] = (struct racer){.s = i < 2 ? open_store(dir) : r[i - 2].s,
				      .bar = &bar};
		pthread_create(&th[i], NULL, race_thread, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		wins += r[i].wins;
	}
	OK(wins == 30,
	   "two instances: 30 if_none_match races on one directory, one "
	   "winner each (%d wins)",
	   wins);
	r[0].s->destroy(r[0].s);
	r[1].s->destroy(r[1].s);
	pthread_barrier_destroy(&bar);
	free(dir);
}

/* ---- what a crash leaves ---- */

static void test_leftovers(void)
{
	char *dir = path_of("leftovers");
	struct bfs_store *s = open_store(dir);
	struct timespec old[2] = {{.tv_sec = time(NULL) - 8 * 24 * 3600},
				  {.tv_sec = time(NULL) - 8 * 24 * 3600}};
	char *t_old = bfs_xasprintf("%s/.bucketfs/tmp/t.old", dir);
	char *t_new = bfs_xasprintf("%s/.bucketfs/tmp/t.new", dir);
	char *u_old = bfs_xasprintf(
		"%s/.bucketfs/uploads/00000000000000000000000000000000", dir);
	char *u_file = bfs_xasprintf("%s/part.00001", u_old);

	s->destroy(s);
	write_file(t_old, "old", 3);
	write_file(t_new, "new", 3);
	mkdir(u_old, 0700);
	write_file(u_file, "part", 4);
	utimensat(AT_FDCWD, t_old, old, 0);
	utimensat(AT_FDCWD, u_old, old, 0);
	s = open_store(dir);
	OK(access(t_old, F_OK) != 0 && access(t_new, F_OK) == 0,
	   "leftovers: an old temporary file is removed, a new one kept");
	OK(access(u_old, F_OK) != 0,
	   "leftovers: an upload untouched for 8 days is removed");
	s->destroy(s);
	free(t_old);
	free(t_new);
	free(u_old);
	free(u_file);
	free(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = bfs_xasprintf("%s/bfs-local-XXXXXX", tmp ? tmp : "/tmp");
	struct bfs_store *s;
	char *dir;

	root = mkdtemp(tmpl);
	if (root == NULL)
		BFS_BUG("mkdtemp: %s", strerror(errno));
	/* damaged entries log errors by design; keep the output readable */
	bfs_log_set_level(getenv("BFS_TEST_LOG") ? LOG_DEBUG : LOG_CRIT);

	dir = path_of("conformance");
	s = open_store(dir);
	bfs_store_conformance(s, "");
	bfs_store_conformance(s, "deep/er/prefix/");
	s->destroy(s);
	free(dir);

	test_create();
	test_persistence();
	test_damaged();
	test_atomic_replace();
	test_model();
	test_args();
	test_multipart();
	test_two_instances();
	test_leftovers();

	rm_rf(root);
	free(tmpl);
	return bfs_conformance_done();
}
