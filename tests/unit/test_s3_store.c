/*
 * test_s3_store.c - the S3 store driver against a live S3 server (Ceph
 * RGW, s3rver), and, with the argument "faults", against the fault proxy
 * in front of one. tests/integration/s3_store.sh and s3_faults.sh start
 * the servers and run this; by hand:
 *
 *   BFS_S3_URL=http://127.0.0.1:PORT BFS_S3_BUCKET=b BFS_S3_ACCESS=...
 *   BFS_S3_SECRET=... [BFS_S3_REGION=us-east-1] [BFS_S3_FLAGS=f1,f2]
 *   tests/unit/test_s3_store [store|faults|mkbucket|tls|scripted]
 *
 * Without arguments and without BFS_S3_URL (how tests/run starts every
 * unit program) it runs the scripted-server cases of s3_scripted.c.
 *
 * BFS_S3_FLAGS names what the server cannot do; those cases are left
 * out (and said so in a diagnostic), never counted as passes:
 *   no-conditional  If-Match / If-None-Match on PUT are ignored
 *   no-long-keys    key segments over ~200 bytes fail
 *   lax-auth        any signature is accepted
 *   no-part-copy    UploadPartCopy is not implemented
 *   lax-multipart   AbortMultipartUpload is not implemented and unknown
 *                   upload ids are accepted
 *   no-conformance  the store conformance battery is not run (s3rver
 *                   lists a key and a "directory" of the same name out of
 *                   byte order and pages them wrongly, and cannot abort)
 * BFS_S3_FOREIGN_KEY / BFS_S3_FOREIGN_META ("name=value,...") name an
 * object another client wrote, whose metadata must read back the same.
 * BFS_FAULT_CONTROL is the fault proxy's control file ("faults" suite);
 * BFS_S3_CA_FILE the CA of an https server ("tls" suite).
 */
#include "compat.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/blockcache.h"
#include "cache/metacache.h"
#include "cache/prefetch.h"
#include "log.h"
#include "store/s3.h"
#include "s3_scripted.h"
#include "store/store.h"
#include "store_conformance.h"

/* the TAP state lives in store_conformance.c: one counter per program */
#define tap_ok	 bfs_conformance_ok
#define tap_diag bfs_conformance_diag
#define tap_done bfs_conformance_done

static const char *env_url, *env_bucket, *env_access, *env_secret, *env_region,
	*env_flags;
static char prefix[64];

static bool flag(const char *name)
{
	const char *p = env_flags;
	size_t n = strlen(name);

	while (p && *p) {
		size_t l = strcspn(p, ",");

		if (l == n && strncmp(p, name, n) == 0)
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

static void excluded(const char *what, const char *why)
{
	tap_diag("excluded on this server (%s): %s", why, what);
}

static struct bfs_s3_conf base_conf(void)
{
	struct bfs_s3_conf c = {
		.name = "test",
		.base_url = env_url,
		.bucket = env_bucket,
		.region = env_region,
		.path_style = true,
		.access_key_id = env_access,
		.secret_access_key = env_secret,
		.connections = 8,
		.connect_timeout = 5,
		.request_timeout = 20,
		.retries = 3,
		.backoff_base = 0.05,
		.backoff_max = 1,
		.no_conditional_put = flag("no-conditional"),
	};
	return c;
}

static struct bfs_store *open_store(const struct bfs_s3_conf *c)
{
	char err[256] = "";
	struct bfs_store *s = bfs_s3_create(c, err, sizeof(err));

	if (!s) {
		tap_diag("bfs_s3_create: %s", err);
		return NULL;
	}
	if (s->start && s->start(s) != 0) {
		s->destroy(s);
		return NULL;
	}
	return s;
}

static char *key_of(const char *name)
{
	return bfs_xasprintf("%s%s", prefix, name);
}

/* Deterministic bytes for object contents. */
static void fill(unsigned char *b, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
}

/* A temporary file holding data; returns its fd (unlinked). */
static int tmpfd(const void *data, size_t n)
{
	char path[] = "/tmp/bfs-s3-test-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		abort();
	unlink(path);
	if (n && write(fd, data, n) != (ssize_t)n)
		abort();
	return fd;
}

static int put_buf(struct bfs_store *s, const char *key, const void *data,
		   size_t n, const struct bfs_meta_list *meta,
		   const char *if_match, bool if_none_match, char *etag)
{
	int fd = tmpfd(data, n);
	struct bfs_put_req r = {.key = key,
				.fd = fd,
				.offset = 0,
				.size = n,
				.meta = meta,
				.if_match = if_match,
				.if_none_match = if_none_match};
	int rc = s->put(s, &r, etag);

	close(fd);
	return rc;
}

/* Read the whole object into a malloc'd buffer. */
static int get_all(struct bfs_store *s, const char *key, unsigned char **out,
		   size_t *n)
{
	struct bfs_obj_info info = {0};
	int rc = s->head(s, key, &info);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	*out = bfs_xmalloc(info.size + 1);
	rc = bfs_store_read_full(s, key, 0, info.size, *out, n, NULL);
	bfs_obj_info_release(&info);
	return rc;
}

static bool same_content(struct bfs_store *s, const char *key,
			 const unsigned char *want, size_t n)
{
	unsigned char *got;
	size_t gn;
	int rc = get_all(s, key, &got, &gn);
	bool ok = rc == 0 && gn == n && memcmp(got, want, n) == 0;

	if (!ok)
		tap_diag("read back '%s': rc %d, %zu bytes (want %zu)", key, rc,
			 gn, n);
	free(got);
	return ok;
}

static bool key_listed(struct bfs_store *s, const char *key)
{
	struct bfs_list_req lr = {.prefix = key};
	struct bfs_list_result res = {0};
	bool found = false;

	if (s->list(s, &lr, &res) != 0)
		return false;
	for (size_t i = 0; i < res.nobjs; i++)
		if (strcmp(res.objs[i].key, key) == 0)
			found = true;
	bfs_list_result_release(&res);
	return found;
}

/* ---- the store suite ---- */

static void t_roundtrip(struct bfs_store *s)
{
	struct bfs_meta_list m = {0}, *got;
	struct bfs_obj_info info = {0};
	char etag[BFS_ETAG_MAX] = "";
	char *k = key_of("plain.txt");
	const char *body = "hello, bucket\n";
	int rc;

	bfs_meta_set(&m, "mode", "33188");
	bfs_meta_set(&m, "Uid", "1000");
	rc = put_buf(s, k, body, strlen(body), &m, NULL, false, etag);
	tap_ok(rc == 0 && etag[0], "put: small object with metadata (%s)",
	       strerror(rc));
	rc = s->head(s, k, &info);
	got = &info.meta;
	tap_ok(rc == 0 && info.size == strlen(body) &&
		       strcmp(info.etag, etag) == 0 &&
		       info.mtime.tv_sec > 1600000000,
	       "head: size, etag and mtime");
	tap_ok(rc == 0 && bfs_meta_get(got, "mode") &&
		       strcmp(bfs_meta_get(got, "mode"), "33188") == 0 &&
		       bfs_meta_get(got, "uid") &&
		       strcmp(bfs_meta_get(got, "uid"), "1000") == 0,
	       "head: metadata names come back lower case");
	tap_ok(same_content(s, k, (const unsigned char *)body, strlen(body)),
	       "get: content read back");
	bfs_obj_info_release(&info);
	bfs_meta_list_release(&m);

	rc = s->head(s, "no/such/key/at/all", &info);
	tap_ok(rc == ENOENT, "head: missing key is ENOENT (%d)", rc);
	{
		char buf[8];
		size_t n;

		rc = s->get_range(s, "no/such/key/at/all", 0, sizeof(buf), buf,
				  &n, NULL);
		tap_ok(rc == ENOENT, "get: missing key is ENOENT (%d)", rc);
	}
	tap_ok(s->del(s, k) == 0 && s->head(s, k, &info) == ENOENT,
	       "delete: object gone");
	tap_ok(s->del(s, k) == 0, "delete: missing key succeeds");
	free(k);
}

static void t_odd_keys(struct bfs_store *s)
{
	static const char *const names[] = {
		"with space.txt",
		"plus+sign",
		"percent%20literal",
		"question?mark",
		"hash#tag",
		"equals=sign&amp",
		"unicode-\xc3\xa9\xe2\x82\xac\xf0\x9f\x93\x81",
		"dir with space/sub+dir/file",
		"tilde~star*paren(1)",
		"semi;colon,comma:colon@at$dollar!bang'quote",
	};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(names); i++) {
		char *k = key_of(names[i]);
		char etag[BFS_ETAG_MAX];
		struct bfs_obj_info info = {0};
		int rc = put_buf(s, k, names[i], strlen(names[i]), NULL, NULL,
				 false, etag);
		bool ok = rc == 0 && s->head(s, k, &info) == 0 &&
			  info.size == strlen(names[i]) &&
			  same_content(s, k, (const void *)names[i],
				       strlen(names[i])) &&
			  key_listed(s, k);

		tap_ok(ok, "odd key: '%s' put, head, get, listed (rc %d)",
		       names[i], rc);
		bfs_obj_info_release(&info);
		s->del(s, k);
		free(k);
	}
}

static void t_long_keys(struct bfs_store *s)
{
	char name[BFS_KEY_MAX + 2];
	size_t plen = strlen(prefix);
	char etag[BFS_ETAG_MAX];
	int rc;

	if (flag("no-long-keys")) {
		excluded("keys of 1024 bytes with 250-byte segments",
			 "no-long-keys");
	} else {
		/* 1024 bytes in total, segments of 250 */
		memcpy(name, prefix, plen);
		for (size_t i = plen; i < BFS_KEY_MAX; i++)
			name[i] = (i - plen) % 251 == 250 ? '/' : 'a' + i % 26;
		name[BFS_KEY_MAX] = '\0';
		rc = put_buf(s, name, "x", 1, NULL, NULL, false, etag);
		tap_ok(rc == 0 && same_content(s, name, (const void *)"x", 1) &&
			       key_listed(s, name),
		       "long key: 1024 bytes put, read, listed (rc %d)", rc);
		s->del(s, name);
	}
	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	rc = put_buf(s, name, "x", 1, NULL, NULL, false, etag);
	tap_ok(rc == ENAMETOOLONG, "long key: 1025 bytes refused locally");
}

static void t_pagination(struct bfs_store *s)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_store *small;
	char *pre = key_of("pages/"), etag[BFS_ETAG_MAX];
	const char *names[] = {"a", "b", "c", "d/1", "d/2", "e", "f/x"};
	size_t seen = 0, pages = 0, seen_pfx = 0;
	bool order_ok = true, page_ok = true;
	char *token = NULL, last[BFS_KEY_MAX + 1] = "";
	int rc = 0;

	c.max_keys = 2;
	small = open_store(&c);
	if (!small) {
		tap_ok(0, "pagination: store with max_keys=2");
		return;
	}
	for (size_t i = 0; i < BFS_ARRAY_SIZE(names); i++) {
		char *k = bfs_xasprintf("%s%s", pre, names[i]);

		rc |= put_buf(s, k, "p", 1, NULL, NULL, false, etag);
		free(k);
	}
	/* flat listing: 7 keys in pages of 2 */
	do {
		struct bfs_list_req lr = {.prefix = pre, .token = token};
		struct bfs_list_result res = {0};

		rc = small->list(small, &lr, &res);
		free(token);
		token = NULL;
		if (rc)
			break;
		pages++;
		if (res.nobjs > 2)
			page_ok = false;
		for (size_t i = 0; i < res.nobjs; i++) {
			if (strcmp(res.objs[i].key, last) <= 0)
				order_ok = false;
			snprintf(last, sizeof(last), "%s", res.objs[i].key);
			seen++;
		}
		token = res.next_token;
		res.next_token = NULL;
		bfs_list_result_release(&res);
	} while (token && pages < 20);
	tap_ok(rc == 0 && seen == 7 && pages >= 4 && page_ok && order_ok,
	       "pagination: 7 keys in %zu pages of at most 2, in order", pages);
	free(token);
	token = NULL;

	/* with a delimiter: a, b, c, d/, e, f/ */
	seen = pages = 0;
	do {
		struct bfs_list_req lr = {
			.prefix = pre, .delimiter = "/", .token = token};
		struct bfs_list_result res = {0};

		rc = small->list(small, &lr, &res);
		free(token);
		token = NULL;
		if (rc)
			break;
		pages++;
		seen += res.nobjs;
		seen_pfx += res.nprefixes;
		token = res.next_token;
		res.next_token = NULL;
		bfs_list_result_release(&res);
	} while (token && pages < 20);
	/* S3 counts prefixes toward max-keys, s3rver does not: both page */
	tap_ok(rc == 0 && seen == 4 && seen_pfx == 2 && pages >= 2,
	       "pagination: delimiter gives 4 files and 2 prefixes over %zu "
	       "pages",
	       pages);
	free(token);

	{
		char *after = bfs_xasprintf("%sc", pre);
		struct bfs_list_req lr = {
			.prefix = pre, .start_after = after, .max_keys = 100};
		struct bfs_list_result res = {0};

		rc = s->list(s, &lr, &res);
		tap_ok(rc == 0 && res.nobjs == 4 &&
			       strcmp(res.objs[0].key + strlen(pre), "d/1") ==
				       0,
		       "list: start-after skips to the next key");
		bfs_list_result_release(&res);
		free(after);
	}
	for (size_t i = 0; i < BFS_ARRAY_SIZE(names); i++) {
		char *k = bfs_xasprintf("%s%s", pre, names[i]);

		s->del(s, k);
		free(k);
	}
	small->destroy(small);
	free(pre);
}

static void t_ranges(struct bfs_store *s)
{
	size_t n = 1000003;
	unsigned char *data = bfs_xmalloc(n), buf[4096];
	char *k = key_of("ranges.bin"), *e = key_of("empty"),
	     etag[BFS_ETAG_MAX], etag2[BFS_ETAG_MAX];
	static const struct {
		uint64_t off;
		size_t len;
	} v[] = {{0, 1},	 {1, 4095},    {12345, 777},
		 {999999, 4096}, {1000002, 1}, {524287, 2}};
	bool ok = true;
	size_t got;
	int rc;

	fill(data, n, 7);
	rc = put_buf(s, k, data, n, NULL, NULL, false, etag);
	tap_ok(rc == 0, "ranges: 1000003-byte object written");
	for (size_t i = 0; i < BFS_ARRAY_SIZE(v); i++) {
		size_t want = (size_t)BFS_MIN((uint64_t)v[i].len, n - v[i].off);

		rc = s->get_range(s, k, v[i].off, v[i].len, buf, &got, etag);
		if (rc || got != want || memcmp(buf, data + v[i].off, want)) {
			tap_diag("range %llu+%zu: rc %d got %zu",
				 (unsigned long long)v[i].off, v[i].len, rc,
				 got);
			ok = false;
		}
	}
	tap_ok(ok, "ranges: %zu reads at odd offsets, pinned to the ETag",
	       BFS_ARRAY_SIZE(v));
	rc = s->get_range(s, k, n, 10, buf, &got, NULL);
	tap_ok(rc == 0 && got == 0, "ranges: read at the end is 0 bytes (%d)",
	       rc);
	rc = s->get_range(s, k, n + 1, 10, buf, &got, NULL);
	tap_ok(rc == ERANGE, "ranges: read past the end is ERANGE (%d)", rc);
	rc = s->get_range(s, k, n + 1, 0, buf, &got, NULL);
	tap_ok(rc == ERANGE, "ranges: empty read past the end is ERANGE");

	rc = put_buf(s, e, "", 0, NULL, NULL, false, etag2);
	tap_ok(rc == 0, "ranges: empty object written");
	rc = s->get_range(s, e, 0, 10, buf, &got, NULL);
	tap_ok(rc == 0 && got == 0, "ranges: empty object reads 0 bytes (%d)",
	       rc);
	rc = s->get_range(s, e, 1, 10, buf, &got, NULL);
	tap_ok(rc == ERANGE, "ranges: empty object at 1 is ERANGE (%d)", rc);

	/* a new version: reads pinned to the old ETag must fail */
	data[0] ^= 1;
	rc = put_buf(s, k, data, n, NULL, NULL, false, etag2);
	rc = rc ? rc : s->get_range(s, k, 10, 10, buf, &got, etag);
	tap_ok(rc == ESTALE,
	       "ranges: read pinned to an old ETag is ESTALE "
	       "(%d)",
	       rc);
	s->del(s, k);
	s->del(s, e);
	free(k);
	free(e);
	free(data);
}

struct par_arg {
	struct bfs_store *s;
	const char *key;
	const unsigned char *data;
	size_t n;
	int id;
	bool ok;
};

static void *par_reader(void *v)
{
	struct par_arg *a = v;
	unsigned char buf[65536];

	a->ok = true;
	for (int i = 0; i < 20; i++) {
		uint64_t off =
			((uint64_t)a->id * 7919 + (uint64_t)i * 104729) % a->n;
		size_t got;
		int rc = a->s->get_range(a->s, a->key, off, sizeof(buf), buf,
					 &got, NULL);
		size_t want = (size_t)BFS_MIN(sizeof(buf), a->n - off);

		if (rc || got != want || memcmp(buf, a->data + off, want))
			a->ok = false;
	}
	return NULL;
}

static void t_parallel(struct bfs_store *s)
{
	size_t n = 3 << 20;
	unsigned char *data = bfs_xmalloc(n);
	char *k = key_of("parallel.bin"), etag[BFS_ETAG_MAX];
	struct par_arg a[12];
	pthread_t th[12];
	bool ok;

	fill(data, n, 11);
	ok = put_buf(s, k, data, n, NULL, NULL, false, etag) == 0;
	for (int i = 0; i < 12; i++) {
		a[i] = (struct par_arg){s, k, data, n, i, false};
		BFS_PCHECK(pthread_create(&th[i], NULL, par_reader, &a[i]));
	}
	for (int i = 0; i < 12; i++) {
		BFS_PCHECK(pthread_join(th[i], NULL));
		ok = ok && a[i].ok;
	}
	tap_ok(ok, "parallel: 12 threads x 20 ranged reads over 8 "
		   "connections");
	s->del(s, k);
	free(k);
	free(data);
}

static void t_conditional(struct bfs_store *s)
{
	char *k = key_of("cond.txt"), etag[BFS_ETAG_MAX], etag2[BFS_ETAG_MAX];
	int rc;

	if (!(s->caps & BFS_CAP_IF_NONE_MATCH)) {
		excluded("If-None-Match / If-Match on PUT", "no-conditional");
		free(k);
		return;
	}
	s->del(s, k);
	rc = put_buf(s, k, "one", 3, NULL, NULL, true, etag);
	tap_ok(rc == 0, "conditional: If-None-Match creates (%d)", rc);
	rc = put_buf(s, k, "two", 3, NULL, NULL, true, etag2);
	tap_ok(rc == EEXIST,
	       "conditional: If-None-Match on an existing key "
	       "is EEXIST (%d)",
	       rc);
	rc = put_buf(s, k, "three", 5, NULL, etag, false, etag2);
	tap_ok(rc == 0 && strcmp(etag, etag2) != 0,
	       "conditional: If-Match with the current ETag replaces (%d)", rc);
	rc = put_buf(s, k, "four", 4, NULL, etag, false, etag);
	tap_ok(rc == ESTALE,
	       "conditional: If-Match with an old ETag is "
	       "ESTALE (%d)",
	       rc);
	tap_ok(same_content(s, k, (const void *)"three", 5),
	       "conditional: the lost race wrote nothing");
	s->del(s, k);
	free(k);
}

static int upload_parts(struct bfs_store *s, const char *key, int fd, size_t n,
			size_t part, char *etag, bool abort_it)
{
	struct bfs_put_req r = {.key = key, .fd = fd, .size = n};
	struct bfs_part parts[16];
	size_t np = (n + part - 1) / part;
	char *id = NULL;
	int rc;

	rc = s->mpu_begin(s, &r, &id);
	if (rc)
		return rc;
	for (size_t i = 0; i < np && rc == 0; i++) {
		parts[i].number = (int)i + 1;
		rc = s->mpu_part(s, key, id, (int)i + 1, fd, (off_t)(i * part),
				 BFS_MIN(part, n - i * part), parts[i].etag);
	}
	if (rc == 0 && !abort_it)
		rc = s->mpu_complete(s, &r, id, parts, np, etag);
	else {
		int arc = s->mpu_abort(s, key, id);

		if (rc == 0)
			rc = arc;
		if (abort_it && rc == 0) {
			/* a second abort finds no upload */
			rc = s->mpu_abort(s, key, id) == ENOENT ? 0 : EIO;
		}
	}
	free(id);
	return rc;
}

static void t_multipart(struct bfs_store *s)
{
	size_t part = 5 << 20, n = 2 * part + 123457;
	unsigned char *data = bfs_xmalloc(n);
	char *k = key_of("multi.bin"), *k2 = key_of("aborted.bin");
	char etag[BFS_ETAG_MAX] = "";
	struct bfs_obj_info info = {0};
	int fd, rc;

	fill(data, n, 3);
	fd = tmpfd(data, n);
	rc = upload_parts(s, k, fd, n, part, etag, false);
	tap_ok(rc == 0 && etag[0],
	       "multipart: 3 parts of 5 MiB completed, "
	       "ETag '%s' (%d)",
	       etag, rc);
	tap_ok(s->head(s, k, &info) == 0 && info.size == n &&
		       strcmp(info.etag, etag) == 0,
	       "multipart: head agrees on size and ETag");
	bfs_obj_info_release(&info);
	tap_ok(same_content(s, k, data, n), "multipart: read back identical");

	if (flag("lax-multipart")) {
		excluded("abort, and a part of an unknown upload",
			 "lax-multipart");
	} else {
		char pe[BFS_ETAG_MAX];

		rc = upload_parts(s, k2, fd, part + 10, part, etag, true);
		tap_ok(rc == 0 && s->head(s, k2, &info) == ENOENT,
		       "multipart: aborted upload leaves no object, second "
		       "abort ENOENT (%d)",
		       rc);
		rc = s->mpu_part(s, k, "no-such-upload-id", 1, fd, 0, 10, pe);
		tap_ok(rc == ENOENT,
		       "multipart: part of an unknown upload is "
		       "ENOENT (%d)",
		       rc);
	}
	{
		char pe[BFS_ETAG_MAX];

		rc = s->mpu_part(s, k, "x", 10001, fd, 0, 10, pe);
		tap_ok(rc == EINVAL, "multipart: part number 10001 is EINVAL");
	}
	close(fd);
	s->del(s, k);
	free(k);
	free(k2);
	free(data);
}

static void t_copy(struct bfs_store *s)
{
	char *a = key_of("copy-src"), *b = key_of("copy dst+1"),
	     *c = key_of("copy-replaced");
	char etag[BFS_ETAG_MAX], etag2[BFS_ETAG_MAX];
	struct bfs_meta_list m = {0}, m2 = {0};
	struct bfs_obj_info info = {0};
	int rc;

	bfs_meta_set(&m, "mode", "33261");
	rc = put_buf(s, a, "copy me", 7, &m, NULL, false, etag);
	rc = rc ? rc : s->copy(s, a, b, NULL, NULL, etag2);
	tap_ok(rc == 0 && same_content(s, b, (const void *)"copy me", 7),
	       "copy: content copied (%d)", rc);
	rc = s->head(s, b, &info);
	tap_ok(rc == 0 && bfs_meta_get(&info.meta, "mode") &&
		       strcmp(bfs_meta_get(&info.meta, "mode"), "33261") == 0,
	       "copy: metadata kept without a new list");
	bfs_obj_info_release(&info);

	bfs_meta_set(&m2, "mode", "33188");
	bfs_meta_set(&m2, "mtime", "1700000000");
	rc = s->copy(s, a, c, &m2, etag, NULL);
	tap_ok(rc == 0 && s->head(s, c, &info) == 0 &&
		       strcmp(bfs_meta_get(&info.meta, "mode"), "33188") == 0 &&
		       bfs_meta_get(&info.meta, "mtime"),
	       "copy: metadata replaced (REPLACE directive) (%d)", rc);
	bfs_obj_info_release(&info);
	rc = s->copy(s, a, c, &m2, c, NULL);
	tap_ok(rc == ESTALE, "copy: wrong source ETag is ESTALE (%d)", rc);
	rc = s->copy(s, "no/such/source", c, NULL, NULL, NULL);
	tap_ok(rc == ENOENT, "copy: missing source is ENOENT (%d)", rc);
	/* a copy onto itself with new metadata is how chmod works */
	rc = s->copy(s, c, c, &m, NULL, NULL);
	tap_ok(rc == 0 && s->head(s, c, &info) == 0 &&
		       strcmp(bfs_meta_get(&info.meta, "mode"), "33261") == 0,
	       "copy: onto itself with new metadata (%d)", rc);
	bfs_obj_info_release(&info);
	s->del(s, a);
	s->del(s, b);
	s->del(s, c);
	bfs_meta_list_release(&m);
	bfs_meta_list_release(&m2);
	free(a);
	free(b);
	free(c);
}

static void t_part_copy(void)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_store *s;
	size_t n = (11 << 20) + 4321;
	unsigned char *data;
	char *a = key_of("big-src"), *b = key_of("big-dst"), etag[BFS_ETAG_MAX];
	struct bfs_meta_list m = {0};
	struct bfs_obj_info info = {0};
	int fd, rc;

	if (flag("no-part-copy")) {
		excluded("UploadPartCopy", "no-part-copy");
		free(a);
		free(b);
		return;
	}
	c.multipart_copy_threshold = 5 << 20;
	c.copy_part_size = 5 << 20;
	s = open_store(&c);
	data = bfs_xmalloc(n);
	fill(data, n, 5);
	bfs_meta_set(&m, "mode", "33152");
	fd = tmpfd(data, n);
	{
		struct bfs_put_req r = {
			.key = a, .fd = fd, .size = n, .meta = &m};

		rc = s ? s->put(s, &r, etag) : EIO;
	}
	close(fd);
	rc = rc ? rc : s->copy(s, a, b, NULL, NULL, NULL);
	tap_ok(rc == 0 && same_content(s, b, data, n),
	       "copy: 11 MiB through UploadPartCopy, identical (%d)", rc);
	tap_ok(rc == 0 && s->head(s, b, &info) == 0 &&
		       bfs_meta_get(&info.meta, "mode") &&
		       strcmp(bfs_meta_get(&info.meta, "mode"), "33152") == 0,
	       "copy: multipart copy keeps metadata");
	bfs_obj_info_release(&info);
	if (s) {
		s->del(s, a);
		s->del(s, b);
		s->destroy(s);
	}
	bfs_meta_list_release(&m);
	free(data);
	free(a);
	free(b);
}

static void t_delete_many(struct bfs_store *s)
{
	const char *names[] = {"dm/1", "dm/2", "dm/a&b<c>", "dm/q\"'",
			       "dm/missing"};
	const char *keys[5];
	int errs[5] = {-1, -1, -1, -1, -1};
	char etag[BFS_ETAG_MAX];
	struct bfs_list_req lr = {0};
	struct bfs_list_result res = {0};
	char *pre = key_of("dm/");
	int rc;

	for (size_t i = 0; i < 5; i++) {
		keys[i] = key_of(names[i]);
		if (i < 4)
			put_buf(s, keys[i], "d", 1, NULL, NULL, false, etag);
	}
	rc = bfs_s3_delete_objects(s, keys, 5, errs);
	tap_ok(rc == 0 && !errs[0] && !errs[1] && !errs[2] && !errs[3] &&
		       !errs[4],
	       "delete_objects: 4 keys (XML specials) and a missing one (%d)",
	       rc);
	lr.prefix = pre;
	rc = s->list(s, &lr, &res);
	tap_ok(rc == 0 && res.nobjs == 0, "delete_objects: nothing left");
	bfs_list_result_release(&res);
	for (size_t i = 0; i < 5; i++)
		free((char *)keys[i]);
	free(pre);
}

static void t_foreign(struct bfs_store *s)
{
	const char *key = getenv("BFS_S3_FOREIGN_KEY");
	const char *want = getenv("BFS_S3_FOREIGN_META");
	struct bfs_obj_info info = {0};
	bool ok;
	int rc;

	if (!key || !want) {
		tap_ok(0, "foreign: BFS_S3_FOREIGN_KEY/META not set");
		return;
	}
	rc = s->head(s, key, &info);
	ok = rc == 0;
	for (const char *p = want; ok && *p;) {
		size_t l = strcspn(p, ","), eq = strcspn(p, "=");
		char *name, *val;
		const char *got;

		if (eq > l) {
			ok = false;
			break;
		}
		name = bfs_xstrndup(p, eq);
		val = bfs_xstrndup(p + eq + 1, l - eq - 1);
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		got = bfs_meta_get(&info.meta, name);
		if (!got || strcmp(got, val) != 0) {
			tap_diag("meta '%s': got '%s', want '%s'", name,
				 got ? got : "(none)", val);
			ok = false;
		}
		free(name);
		free(val);
		p += l + (p[l] == ',');
	}
	tap_ok(ok, "foreign: metadata written by awscli reads back (%d)", rc);
	bfs_obj_info_release(&info);
}

static void t_errors(void)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_s3_error e;
	struct bfs_list_req lr = {0};
	struct bfs_list_result res = {0};
	struct bfs_store *s;
	int rc;

	c.retries = 0;
	c.bucket = "no-such-bucket-bfs";
	s = open_store(&c);
	rc = s ? s->list(s, &lr, &res) : EIO;
	tap_ok(rc == ENXIO && bfs_s3_last_error(s, &e) == 0 &&
		       strcmp(e.code, "NoSuchBucket") == 0 && e.status == 404,
	       "errors: unknown bucket is ENXIO, NoSuchBucket (%d)", rc);
	if (s)
		s->destroy(s);

	c = base_conf();
	c.retries = 0;
	c.secret_access_key = "wrong-secret-0123456789";
	if (flag("lax-auth")) {
		excluded("SignatureDoesNotMatch", "lax-auth");
	} else {
		s = open_store(&c);
		rc = s ? s->list(s, &lr, &res) : EIO;
		tap_ok(rc == EACCES && bfs_s3_last_error(s, &e) == 0 &&
			       strcmp(e.code, "SignatureDoesNotMatch") == 0 &&
			       strstr(e.hint, "secret") &&
			       !strstr(e.message, "wrong-secret"),
		       "errors: wrong secret is EACCES, SignatureDoesNotMatch "
		       "(%d)",
		       rc);
		if (s)
			s->destroy(s);
	}
	{
		c.access_key_id = "NOSUCHACCESSKEYID";
		s = open_store(&c);
		rc = s ? s->list(s, &lr, &res) : EIO;
		tap_ok(rc == EACCES && bfs_s3_last_error(s, &e) == 0 &&
			       strcmp(e.code, "InvalidAccessKeyId") == 0,
		       "errors: unknown access key is EACCES, "
		       "InvalidAccessKeyId (%d)",
		       rc);
		if (s)
			s->destroy(s);
	}

	c = base_conf();
	c.retries = 1;
	c.base_url = "http://127.0.0.1:9"; /* discard: nothing listens */
	s = open_store(&c);
	rc = s ? s->list(s, &lr, &res) : EIO;
	tap_ok(rc == EIO && bfs_s3_last_error(s, &e) == 0 && e.status == 0 &&
		       e.transport == BFS_HTTP_CONNECT,
	       "errors: refused connection is EIO, transport CONNECT (%d)", rc);
	if (s) {
		struct bfs_store_stats st;

		s->get_stats(s, &st);
		tap_ok(st.retries == 1 && st.errors == 1,
		       "errors: the retry and the error are counted");
		s->destroy(s);
	}
	{
		char err[256];

		c = base_conf();
		c.base_url = "ftp://x";
		tap_ok(bfs_s3_create(&c, err, sizeof(err)) == NULL &&
			       errno == EINVAL && strstr(err, "http"),
		       "errors: a non-http endpoint is refused at create");
	}
}

static void t_unsigned_payload(void)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_store *s;
	char *k = key_of("unsigned"), etag[BFS_ETAG_MAX];
	int rc;

	c.unsigned_payload = true;
	s = open_store(&c);
	rc = s ? put_buf(s, k, "unsigned body", 13, NULL, NULL, false, etag)
	       : EIO;
	tap_ok(rc == 0 && same_content(s, k, (const void *)"unsigned body", 13),
	       "unsigned payload: accepted over http (%d)", rc);
	if (s) {
		s->del(s, k);
		s->destroy(s);
	}
	free(k);
}

static int suite_store(void)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_store *s = open_store(&c);
	struct bfs_store_stats st;

	if (!tap_ok(s != NULL, "store: created and started"))
		return tap_done();
	if (flag("no-conformance")) {
		excluded("the store conformance battery", "no-conformance");
	} else {
		/* the battery every store passes, under its own prefix */
		char *cp = key_of("conformance/");

		bfs_store_conformance_flags(
			s, cp,
			flag("no-long-keys") ? BFS_CONFORMANCE_NO_LONG_KEYS
					     : 0);
		free(cp);
	}
	t_roundtrip(s);
	t_odd_keys(s);
	t_long_keys(s);
	t_pagination(s);
	t_ranges(s);
	t_parallel(s);
	t_conditional(s);
	t_multipart(s);
	t_copy(s);
	t_part_copy();
	t_delete_many(s);
	t_foreign(s);
	t_errors();
	t_unsigned_payload();
	s->get_stats(s, &st);
	tap_ok(st.requests > 50 && st.bytes_out > (10u << 20) &&
		       st.bytes_in > (10u << 20),
	       "stats: %llu requests, %llu bytes out, %llu in",
	       (unsigned long long)st.requests,
	       (unsigned long long)st.bytes_out,
	       (unsigned long long)st.bytes_in);
	s->destroy(s);
	return tap_done();
}

/* ---- the fault suite (through tests/tools/faultproxy.py) ---- */

static const char *control;
static unsigned generation;

/* Tell the proxy: the next count requests of method get fault mode. */
static void fault(const char *mode, int count, const char *method)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", control);
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fprintf(f, "%u %s %d %s\n", ++generation, mode, count, method);
	fclose(f);
	if (rename(tmp, control) != 0)
		abort();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int suite_faults(void)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_store *s;
	struct bfs_store_stats st0, st1;
	struct bfs_obj_info info = {0};
	struct bfs_s3_error e;
	size_t n = 300000, got;
	unsigned char *data = bfs_xmalloc(n), *buf = bfs_xmalloc(n);
	char *k = key_of("fault.bin"), *k2 = key_of("fault-new.bin"),
	     *k3 = key_of("fault-cond.bin"), *k4 = key_of("fault-mpu.bin");
	char etag[BFS_ETAG_MAX];
	struct bfs_list_req lr = {.prefix = prefix};
	struct bfs_list_result res = {0};
	double t0;
	int rc;

	control = getenv("BFS_FAULT_CONTROL");
	if (!control) {
		tap_ok(0, "faults: BFS_FAULT_CONTROL not set");
		return tap_done();
	}
	c.request_timeout = 2;
	c.connect_timeout = 2;
	c.retries = 3;
	c.backoff_base = 0.05;
	c.backoff_max = 0.5;
	s = open_store(&c);
	if (!tap_ok(s != NULL, "faults: store created"))
		return tap_done();
	fill(data, n, 9);
	fault("none", 0, "*");
	rc = put_buf(s, k, data, n, NULL, NULL, false, etag);
	tap_ok(rc == 0, "faults: setup object written (%d)", rc);

	s->get_stats(s, &st0);
	fault("slowdown", 2, "GET");
	rc = s->get_range(s, k, 0, n, buf, &got, NULL);
	s->get_stats(s, &st1);
	tap_ok(rc == 0 && got == n && !memcmp(buf, data, n) &&
		       st1.retries - st0.retries == 2,
	       "faults: GET after two 503 SlowDown succeeds, 2 retries "
	       "counted (%d)",
	       rc);

	fault("reset", 1, "GET");
	rc = s->get_range(s, k, 100, n - 100, buf, &got, etag);
	tap_ok(rc == 0 && got == n - 100 && !memcmp(buf, data + 100, got),
	       "faults: GET reset mid-body is retried (%d)", rc);

	fault("stall", 1, "GET");
	t0 = now_s();
	rc = s->get_range(s, k, 0, 1000, buf, &got, NULL);
	tap_ok(rc == 0 && got == 1000 && now_s() - t0 < 10,
	       "faults: GET stalled past the timeout is retried in %.1f s "
	       "(%d)",
	       now_s() - t0, rc);

	fault("stall", 10, "HEAD");
	t0 = now_s();
	rc = s->head(s, k, &info);
	tap_ok(rc == ETIMEDOUT && now_s() - t0 < 15 &&
		       bfs_s3_last_error(s, &e) == 0 &&
		       e.transport == BFS_HTTP_TIMEOUT,
	       "faults: a server that never answers is ETIMEDOUT after %.1f s "
	       "(%d)",
	       now_s() - t0, rc);
	bfs_obj_info_release(&info);

	fault("500", 1, "PUT");
	rc = put_buf(s, k2, data, n, NULL, NULL, false, etag);
	tap_ok(rc == 0 && same_content(s, k2, data, n),
	       "faults: PUT after a 500 succeeds once, content whole (%d)", rc);
	s->del(s, k2);

	fault("reset-request", 1, "PUT");
	rc = put_buf(s, k2, data, n, NULL, NULL, false, etag);
	tap_ok(rc == 0 && same_content(s, k2, data, n),
	       "faults: PUT reset mid-body is replayed from the file (%d)", rc);
	s->del(s, k2);

	fault("slowdown", 100, "PUT");
	rc = put_buf(s, k2, data, n, NULL, NULL, false, etag);
	fault("none", 0, "*");
	tap_ok(rc == EIO && bfs_s3_last_error(s, &e) == 0 &&
		       strcmp(e.code, "SlowDown") == 0 &&
		       s->head(s, k2, &info) == ENOENT,
	       "faults: PUT throttled past the retries fails with SlowDown, "
	       "nothing written (%d)",
	       rc);

	fault("reset-request", 100, "PUT");
	rc = put_buf(s, k2, data, n, NULL, NULL, false, etag);
	fault("none", 0, "*");
	tap_ok(rc == EIO && s->head(s, k2, &info) == ENOENT,
	       "faults: PUT reset every time fails, no half object (%d)", rc);

	if (s->caps & BFS_CAP_IF_NONE_MATCH) {
		/* the server stores the object, the answer is lost, and the
		 * retry meets our own object: If-None-Match must not fail */
		s->del(s, k3);
		fault("lose-response", 1, "PUT");
		rc = put_buf(s, k3, data, n, NULL, NULL, true, etag);
		tap_ok(rc == 0 && same_content(s, k3, data, n),
		       "faults: If-None-Match PUT whose answer was lost "
		       "succeeds on retry (%d)",
		       rc);
		s->del(s, k3);
	} else {
		excluded("lost answer of an If-None-Match PUT",
			 "no-conditional");
	}

	{
		size_t part = 5 << 20, big = part + 1000;
		unsigned char *bd = bfs_xmalloc(big);
		int fd;

		fill(bd, big, 13);
		fd = tmpfd(bd, big);
		fault("reset-request", 1, "PUT");
		rc = upload_parts(s, k4, fd, big, part, etag, false);
		fault("none", 0, "*");
		tap_ok(rc == 0 && same_content(s, k4, bd, big),
		       "faults: multipart part reset mid-body is replayed (%d)",
		       rc);
		s->del(s, k4);
		fault("lose-response", 1, "POST:uploadId=");
		rc = upload_parts(s, k4, fd, big, part, etag, false);
		fault("none", 0, "*");
		tap_ok(rc == 0 && same_content(s, k4, bd, big),
		       "faults: multipart complete whose answer was lost "
		       "succeeds (%d)",
		       rc);
		fault("500", 1, "POST:uploadId=");
		rc = upload_parts(s, k4, fd, big, part, etag, false);
		fault("none", 0, "*");
		tap_ok(rc == 0 && same_content(s, k4, bd, big),
		       "faults: multipart complete after a 500 succeeds (%d)",
		       rc);
		close(fd);
		free(bd);
		s->del(s, k4);
	}

	fault("badxml", 1, "GET");
	rc = s->list(s, &lr, &res);
	tap_ok(rc == EIO && bfs_s3_last_error(s, &e) == 0 &&
		       strstr(e.message, "XML"),
	       "faults: malformed listing XML is EIO: %s", e.message);
	bfs_list_result_release(&res);
	rc = s->list(s, &lr, &res);
	tap_ok(rc == 0 && res.nobjs >= 1, "faults: next listing is fine");
	bfs_list_result_release(&res);

	fault("slowdown-retry-after", 1, "HEAD");
	t0 = now_s();
	rc = s->head(s, k, &info);
	tap_ok(rc == 0 && now_s() - t0 >= 0.9,
	       "faults: Retry-After: 1 is honoured (%.2f s)", now_s() - t0);
	bfs_obj_info_release(&info);

	fault("none", 0, "*");
	s->del(s, k);
	s->destroy(s);
	free(k);
	free(k2);
	free(k3);
	free(k4);
	free(data);
	free(buf);
	return tap_done();
}

/* Over https: BFS_S3_CA_FILE names the CA the server's certificate is
 * signed with (a self-signed one in the tests). */
static int suite_tls(void)
{
	struct bfs_s3_conf c = base_conf();
	const char *ca = getenv("BFS_S3_CA_FILE");
	struct bfs_store *s;
	struct bfs_s3_error e;
	struct bfs_list_req lr = {0};
	struct bfs_list_result res = {0};
	size_t n = 2 << 20;
	unsigned char *data = bfs_xmalloc(n);
	char *k = key_of("tls.bin"), etag[BFS_ETAG_MAX];
	int rc;

	if (!ca || strncmp(env_url, "https://", 8) != 0) {
		tap_ok(0, "tls: BFS_S3_URL is https and BFS_S3_CA_FILE is set");
		free(k);
		free(data);
		return tap_done();
	}
	fill(data, n, 21);
	c.ca_file = ca;
	s = open_store(&c);
	rc = s ? put_buf(s, k, data, n, NULL, NULL, false, etag) : EIO;
	tap_ok(rc == 0 && same_content(s, k, data, n),
	       "tls: 2 MiB put and read back over https (%d)", rc);
	if (s) {
		struct par_arg a[4];
		pthread_t th[4];
		bool ok = true;

		for (int i = 0; i < 4; i++) {
			a[i] = (struct par_arg){s, k, data, n, i, false};
			BFS_PCHECK(pthread_create(&th[i], NULL, par_reader,
						  &a[i]));
		}
		for (int i = 0; i < 4; i++) {
			BFS_PCHECK(pthread_join(th[i], NULL));
			ok = ok && a[i].ok;
		}
		tap_ok(ok, "tls: 4 threads of ranged reads share TLS sessions");
		s->del(s, k);
		s->destroy(s);
	}

	c.ca_file = NULL; /* the system's CAs do not know this server */
	c.retries = 0;
	s = open_store(&c);
	rc = s ? s->list(s, &lr, &res) : EIO;
	tap_ok(rc == EIO && bfs_s3_last_error(s, &e) == 0 &&
		       e.transport == BFS_HTTP_TLS_VERIFY && e.status == 0,
	       "tls: an unknown certificate is refused, transport "
	       "TLS_VERIFY (%d): %s",
	       rc, s && bfs_s3_last_error(s, &e) == 0 ? e.message : "");
	if (s)
		s->destroy(s);
	free(k);
	free(data);
	return tap_done();
}

/* Create the bucket (idempotent): how the integration scripts make one. */
static int suite_mkbucket(void)
{
	struct bfs_s3_conf c = base_conf();
	struct bfs_store *s = open_store(&c);
	int rc;

	rc = s ? bfs_s3_create_bucket(s) : EIO;
	tap_ok(rc == 0, "create bucket '%s' (%d)", env_bucket, rc);
	rc = s ? bfs_s3_create_bucket(s) : EIO;
	tap_ok(rc == 0, "create bucket '%s' again: ours already (%d)",
	       env_bucket, rc);
	if (s)
		s->destroy(s);
	return tap_done();
}

/*
 * The battery over the stack a bucket builds over the driver: block
 * cache, metadata cache and prefetcher, in a cache dir of its own.
 */
static int suite_stack(void)
{
	char dir[] = "/tmp/bfs-test-s3-stack.XXXXXX";
	struct bfs_s3_conf c = base_conf();
	struct bfs_blockcache_conf bconf = {
		.cache_dir = dir,
		.bucket = "s3",
		.block_size = 256 * 1024,
		.size = 256 << 20,
	};
	struct bfs_metacache_conf mconf = {
		.cache_dir = dir,
		.bucket = "s3",
		.attr_ttl = 60,
		.dir_ttl = 60,
		.neg_ttl = 60,
	};
	struct bfs_prefetch_conf pconf = {.cache_dir = dir, .bucket = "s3"};
	char err[256] = "", *cp;
	struct bfs_store *s;

	if (!tap_ok(mkdtemp(dir) != NULL, "stack: a cache dir"))
		return tap_done();
	s = bfs_s3_create(&c, err, sizeof(err));
	if (s)
		s = bfs_blockcache_create(&bconf, s);
	if (s)
		s = bfs_metacache_create(&mconf, s);
	if (s)
		s = bfs_prefetch_create(&pconf, s);
	if (!tap_ok(s && s->start(s) == 0,
		    "stack: caches over the driver built and started %s", err))
		return tap_done();
	cp = key_of("conformance-stack/");
	bfs_store_conformance_flags(
		s, cp,
		BFS_CONFORMANCE_CACHED_VERSIONS |
			(flag("no-long-keys") ? BFS_CONFORMANCE_NO_LONG_KEYS
					      : 0));
	free(cp);
	{
		struct bfs_s3_error e;
		int rc = bfs_s3_last_error(s, &e);

		tap_ok(rc == 0 || rc == ENOENT,
		       "stack: the driver's last error is found through the "
		       "stack (%s)",
		       strerror(rc));
	}
	s->shutdown(s);
	s->destroy(s);
	{
		char *cmd = bfs_xasprintf("rm -rf '%s'", dir);

		tap_ok(system(cmd) == 0, "stack: cache dir removed");
		free(cmd);
	}
	return tap_done();
}

int main(int argc, char **argv)
{
	const char *suite = argc > 1 ? argv[1] : "store";

	signal(SIGPIPE, SIG_IGN);

	env_url = getenv("BFS_S3_URL");
	env_bucket = getenv("BFS_S3_BUCKET");
	env_access = getenv("BFS_S3_ACCESS");
	env_secret = getenv("BFS_S3_SECRET");
	env_region = getenv("BFS_S3_REGION");
	env_flags = getenv("BFS_S3_FLAGS");
	if (getenv("BFS_S3_DEBUG")) {
		/* debug lines exercise the redaction of secrets */
		bfs_log_set_level(LOG_DEBUG);
		bfs_log_set_debug(getenv("BFS_S3_DEBUG"));
	}
	if (strcmp(suite, "scripted") == 0 || (argc < 2 && !env_url)) {
		/* what tests/run starts: no live server, a scripted one */
		if (!env_url)
			tap_diag("no live server (BFS_S3_URL): scripted server "
				 "cases only; tests/integration/s3_store.sh "
				 "runs the live suites");
		s3_scripted_suite();
		return tap_done();
	}
	if (!env_url || !env_bucket) {
		tap_ok(0, "BFS_S3_URL and BFS_S3_BUCKET name a live server");
		return tap_done();
	}
	snprintf(prefix, sizeof(prefix), "t%ld-%ld/", (long)getpid(),
		 (long)time(NULL));
	if (strcmp(suite, "faults") == 0)
		return suite_faults();
	if (strcmp(suite, "mkbucket") == 0)
		return suite_mkbucket();
	if (strcmp(suite, "tls") == 0)
		return suite_tls();
	if (strcmp(suite, "stack") == 0)
		return suite_stack();
	return suite_store();
}
