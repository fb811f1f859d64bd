/*
 * metacache.c - the metadata cache store (see metacache.h): head and
 * list answers kept in LMDB with wall-clock stamps, dropped by our own
 * writes, confirmed by listings.
 *
 * The LMDB tables (cache/index.h) it owns:
 *   head: bucket hash (8) | SHA-256(bucket NUL key)[0..24] → entry
 *   list: bucket hash (8) | fnv(prefix) (8) | fnv(delimiter NUL token
 *         NUL start_after NUL max_keys) (8) → page
 * bucket hash = SHA-256(bucket)[0..8]. Hashes keep keys under LMDB's
 * 511-byte limit; each value repeats what it answers (the key, the
 * request), which is compared on every hit, so a hash collision is a
 * miss, never a wrong answer. Hashing the prefix on its own lets a
 * write drop the pages of every prefix of its key with one range delete
 * per prefix length.
 *
 * Values (native byte order; the index never leaves the machine):
 *   entry: u8 version 1 | u8 negative | u64 stamp (ns, wall clock) |
 *          str key | [u64 size | str etag | i64 sec | i64 nsec |
 *          u32 n | n × (str name | str value)]
 *   page:  u8 version 1 | u8 0 | u64 stamp | str prefix | str delimiter
 *          | str token | str start_after | u32 max_keys | u32 n | n ×
 *          (str key | u64 size | str etag | i64 sec | i64 nsec) | u32 m
 *          | m × str prefix | str next_token
 *   str:   u32 length (0xffffffff: NULL) | bytes
 */
#include "compat.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <time.h>

#include "cache/index.h"
#include "cache/metacache.h"
#include "cache/metacache_dir.h"
#include "cache/stats.h"
#include "log.h"

#define RECORD_VERSION	1
#define HKEY_LEN	32
#define LKEY_LEN	24
#define STAMP_OFF	2
#define NULL_STR	0xffffffffu
#define SWEEP_TICKS	600	      /* about every ten minutes */
#define SWEEP_MAX	10000	      /* entries dropped per sweep */
#define HEAD_KEEP	(7 * 86400.0) /* unconfirmed head entries */
#define LIST_KEEP	86400.0	      /* listing pages */
#define ERROR_LOG_EVERY 1000
#define FNV_OFFSET	0xcbf29ce484222325ull
#define FNV_PRIME	0x100000001b3ull

/* A directory's listing being fetched again for refresh_small callers:
 * the first sends the request, the others wait until done. Freed by
 * the last of them (refs); protected by mc_priv.lock. */
struct mc_relist {
	uint8_t lk[LKEY_LEN];
	unsigned refs;
	bool done;
	struct mc_relist *next;
};

struct mc_priv {
	struct bfs_store store;
	struct bfs_store *inner;
	char *meta_dir;
	char *bucket;
	uint8_t bucket_hash[8];
	double attr_ttl, dir_ttl, neg_ttl;
	uint64_t (*clock)(void); /* NULL: the real clock */
	struct bfs_metadb *db;	 /* set by start, cleared by stop */
	time_t started;
	unsigned ticks;
	/* bumped by every invalidation; an answer fetched across a bump is
	 * not stored */
	uint64_t epoch;

	pthread_mutex_t lock;
	/* protected by lock */
	struct bfs_metacache_stats st;
	struct mc_relist *relists; /* re-lists in flight (relist()) */
	pthread_cond_t relisted;   /* one of them ended */
	/* the tick's (under the index's tick lock): what the record says */
	struct bfs_metacache_stats published;
	uint64_t answered;
	bool announced; /* a record was written */
};

static struct mc_priv *priv_of(const struct bfs_store *s)
{
	return s->priv;
}

static uint64_t real_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The time entries are stamped and judged by: the conf's clock (tests
 * move it), else the real one. */
static uint64_t now_ns(const struct mc_priv *p)
{
	return p->clock ? p->clock() : real_now_ns();
}

static bool fresh(const struct mc_priv *p, uint64_t stamp, double ttl)
{
	uint64_t now = now_ns(p);

	if (ttl <= 0 || stamp > now + 1000000000ull)
		return false;
	return now < stamp || (double)(now - stamp) < ttl * 1e9;
}

static uint64_t fnv(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

static void bucket_hash(const char *bucket, uint8_t out[8])
{
	uint8_t h[32];

	SHA256((const unsigned char *)bucket, strlen(bucket), h);
	memcpy(out, h, 8);
}

static void head_key(const struct mc_priv *p, const char *key, uint8_t *out)
{
	size_t bl = strlen(p->bucket), kl = strlen(key);
	char *buf = bfs_xmalloc(bl + kl + 1);
	uint8_t h[32];

	memcpy(buf, p->bucket, bl + 1);
	memcpy(buf + bl + 1, key, kl);
	SHA256((unsigned char *)buf, bl + 1 + kl, h);
	free(buf);
	memcpy(out, p->bucket_hash, 8);
	memcpy(out + 8, h, 24);
}

static void put_u64_raw(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint64_t str_hash(uint64_t h, const char *s)
{
	static const uint8_t nul = 0, null_mark = 1;

	if (s == NULL)
		return fnv(h, &null_mark, 1);
	h = fnv(h, s, strlen(s));
	return fnv(h, &nul, 1);
}

static void list_key(const struct mc_priv *p, const struct bfs_list_req *r,
		     uint8_t *out)
{
	uint64_t hp = fnv(FNV_OFFSET, r->prefix, strlen(r->prefix));
	uint64_t hr = FNV_OFFSET;

	hr = str_hash(hr, r->delimiter);
	hr = str_hash(hr, r->token);
	hr = str_hash(hr, r->start_after);
	hr = fnv(hr, &r->max_keys, sizeof(r->max_keys));
	memcpy(out, p->bucket_hash, 8);
	put_u64_raw(out + 8, hp);
	put_u64_raw(out + 16, hr);
}

/* A cache I/O failure: counted, logged now and then; never fatal. */
static void cache_error(struct mc_priv *p, const char *what, int rc)
{
	uint64_t n;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	n = p->st.errors++;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (n % ERROR_LOG_EVERY == 0)
		bfs_log(LOG_ERR,
			"%s: metadata cache in '%s': %s: %s (answers come "
			"from the bucket)",
			p->bucket, p->meta_dir, what, strerror(rc));
}

#define COUNT(p, field)                                                        \
	do {                                                                   \
		BFS_PCHECK(pthread_mutex_lock(&(p)->lock));                    \
		(p)->st.field++;                                               \
		BFS_PCHECK(pthread_mutex_unlock(&(p)->lock));                  \
	} while (0)

/* ---- encoding -------------------------------------------------------------
 */

struct wbuf {
	uint8_t *d;
	size_t n, cap;
};

static void w_bytes(struct wbuf *w, const void *p, size_t len)
{
	if (w->n + len > w->cap) {
		w->cap = BFS_MAX(w->cap * 2, w->n + len + 256);
		w->d = bfs_xrealloc(w->d, w->cap);
	}
	memcpy(w->d + w->n, p, len);
	w->n += len;
}

static void w_u8(struct wbuf *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u32(struct wbuf *w, uint32_t v)
{
	w_bytes(w, &v, sizeof(v));
}

static void w_u64(struct wbuf *w, uint64_t v)
{
	w_bytes(w, &v, sizeof(v));
}

static void w_i64(struct wbuf *w, int64_t v)
{
	w_bytes(w, &v, sizeof(v));
}

static void w_str(struct wbuf *w, const char *s)
{
	if (s == NULL) {
		w_u32(w, NULL_STR);
		return;
	}
	w_u32(w, (uint32_t)strlen(s));
	w_bytes(w, s, strlen(s));
}

struct rbuf {
	const uint8_t *d;
	size_t n, pos;
	bool bad;
};

static bool r_bytes(struct rbuf *r, void *out, size_t len)
{
	if (r->bad || r->n - r->pos < len) {
		r->bad = true;
		memset(out, 0, len);
		return false;
	}
	memcpy(out, r->d + r->pos, len);
	r->pos += len;
	return true;
}

static uint8_t r_u8(struct rbuf *r)
{
	uint8_t v;

	r_bytes(r, &v, 1);
	return v;
}

static uint32_t r_u32(struct rbuf *r)
{
	uint32_t v;

	r_bytes(r, &v, sizeof(v));
	return v;
}

static uint64_t r_u64(struct rbuf *r)
{
	uint64_t v;

	r_bytes(r, &v, sizeof(v));
	return v;
}

static int64_t r_i64(struct rbuf *r)
{
	int64_t v;

	r_bytes(r, &v, sizeof(v));
	return v;
}

/* A malloc'd string, or NULL (a NULL string, or r went bad). */
static char *r_str(struct rbuf *r)
{
	uint32_t len = r_u32(r);
	char *s;

	if (r->bad || len == NULL_STR)
		return NULL;
	if (r->n - r->pos < len || memchr(r->d + r->pos, '\0', len)) {
		r->bad = true;
		return NULL;
	}
	s = bfs_xstrndup((const char *)r->d + r->pos, len);
	r->pos += len;
	return s;
}

/* Does the next string equal s (NULL included)? Consumes it. */
static bool r_str_eq(struct rbuf *r, const char *s)
{
	uint32_t len = r_u32(r);
	bool eq;

	if (r->bad)
		return false;
	if (len == NULL_STR)
		return s == NULL;
	if (r->n - r->pos < len) {
		r->bad = true;
		return false;
	}
	eq = s && strlen(s) == len && memcmp(r->d + r->pos, s, len) == 0;
	r->pos += len;
	return eq;
}

/* Head entry flags (a byte after the answer's date). */
enum {
	/* made by our own put: the size, ETag and metadata are what we
	 * sent, answered the server's Date of the put, and mtime that date
	 * too, the object's Last-Modified being at most it */
	HEAD_FROM_PUT = 1 << 0,
};

static void encode_head(struct wbuf *w, uint64_t now, const char *key, int rc,
			const struct bfs_obj_info *info, uint8_t flags)
{
	w_u8(w, RECORD_VERSION);
	w_u8(w, rc == ENOENT);
	w_u64(w, now);
	w_str(w, key);
	if (rc == ENOENT)
		return;
	w_u64(w, info->size);
	w_str(w, info->etag);
	w_i64(w, info->mtime.tv_sec);
	w_i64(w, info->mtime.tv_nsec);
	w_u32(w, (uint32_t)info->meta.n);
	for (size_t i = 0; i < info->meta.n; i++) {
		w_str(w, info->meta.items[i].name);
		w_str(w, info->meta.items[i].value);
	}
	w_i64(w, info->answered);
	w_u8(w, flags);
}

/*
 * Decode a head entry for key. @return 0 (found, *negative says which),
 * or EBADMSG (damaged, or another key's).
 */
static int decode_head(const void *v, size_t vlen, const char *key,
		       uint64_t *stamp, bool *negative,
		       struct bfs_obj_info *out, uint8_t *flags)
{
	struct rbuf r = {v, vlen, 0, false};
	char *etag;
	uint32_t n;

	memset(out, 0, sizeof(*out));
	if (r_u8(&r) != RECORD_VERSION)
		return EBADMSG;
	*negative = r_u8(&r) != 0;
	*stamp = r_u64(&r);
	if (!r_str_eq(&r, key))
		return EBADMSG;
	if (*negative)
		return r.bad ? EBADMSG : 0;
	out->size = r_u64(&r);
	etag = r_str(&r);
	if (etag) {
		snprintf(out->etag, sizeof(out->etag), "%s", etag);
		free(etag);
	}
	out->mtime.tv_sec = (time_t)r_i64(&r);
	out->mtime.tv_nsec = (long)r_i64(&r);
	n = r_u32(&r);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		char *name = r_str(&r), *value = r_str(&r);

		if (name && value)
			bfs_meta_set(&out->meta, name, value);
		else
			r.bad = true;
		free(name);
		free(value);
	}
	/* entries written before the answer's date was kept end here */
	if (!r.bad && r.pos < r.n)
		out->answered = (time_t)r_i64(&r);
	/* and those written before the flags were, here */
	if (flags)
		*flags = !r.bad && r.pos < r.n ? r_u8(&r) : 0;
	if (r.bad) {
		bfs_obj_info_release(out);
		return EBADMSG;
	}
	return 0;
}

static void encode_page(struct wbuf *w, uint64_t now,
			const struct bfs_list_req *req,
			const struct bfs_list_result *res)
{
	w_u8(w, RECORD_VERSION);
	w_u8(w, 0);
	w_u64(w, now);
	w_str(w, req->prefix);
	w_str(w, req->delimiter);
	w_str(w, req->token);
	w_str(w, req->start_after);
	w_u32(w, req->max_keys);
	w_u32(w, (uint32_t)res->nobjs);
	for (size_t i = 0; i < res->nobjs; i++) {
		const struct bfs_obj_info *o = &res->objs[i];

		w_str(w, o->key);
		w_u64(w, o->size);
		w_str(w, o->etag);
		w_i64(w, o->mtime.tv_sec);
		w_i64(w, o->mtime.tv_nsec);
	}
	w_u32(w, (uint32_t)res->nprefixes);
	for (size_t i = 0; i < res->nprefixes; i++)
		w_str(w, res->prefixes[i]);
	w_str(w, res->next_token);
}

/* Decode a page answering req. @return 0 or EBADMSG. */
static int decode_page(const void *v, size_t vlen,
		       const struct bfs_list_req *req, uint64_t *stamp,
		       struct bfs_list_result *out)
{
	struct rbuf r = {v, vlen, 0, false};
	uint32_t n;

	memset(out, 0, sizeof(*out));
	if (r_u8(&r) != RECORD_VERSION)
		return EBADMSG;
	r_u8(&r);
	*stamp = r_u64(&r);
	if (!r_str_eq(&r, req->prefix) || !r_str_eq(&r, req->delimiter) ||
	    !r_str_eq(&r, req->token) || !r_str_eq(&r, req->start_after) ||
	    r_u32(&r) != req->max_keys)
		return EBADMSG;
	n = r_u32(&r);
	/* each object takes at least 32 bytes: a bound before allocating */
	if (r.bad || n > vlen / 32)
		return EBADMSG;
	out->objs = bfs_xcalloc(BFS_MAX(n, 1), sizeof(*out->objs));
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		struct bfs_obj_info *o = &out->objs[i];
		char *etag;

		out->nobjs++;
		o->key = r_str(&r);
		o->size = r_u64(&r);
		etag = r_str(&r);
		if (etag)
			snprintf(o->etag, sizeof(o->etag), "%s", etag);
		free(etag);
		o->mtime.tv_sec = (time_t)r_i64(&r);
		o->mtime.tv_nsec = (long)r_i64(&r);
		if (o->key == NULL)
			r.bad = true;
	}
	n = r_u32(&r);
	if (!r.bad && n > vlen / 4)
		r.bad = true;
	if (!r.bad)
		out->prefixes =
			bfs_xcalloc(BFS_MAX(n, 1), sizeof(*out->prefixes));
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		out->prefixes[i] = r_str(&r);
		if (out->prefixes[i] == NULL)
			r.bad = true;
		else
			out->nprefixes++;
	}
	out->next_token = r_str(&r);
	if (r.bad) {
		bfs_list_result_release(out);
		return EBADMSG;
	}
	return 0;
}

/* ---- store operations ---------------------------------------------------- */

static uint64_t epoch_now(struct mc_priv *p)
{
	return __atomic_load_n(&p->epoch, __ATOMIC_ACQUIRE);
}

/* Put key → val unless an invalidation ran since epoch0. */
static void store_entry(struct mc_priv *p, enum bfs_metadb_table t,
			const uint8_t *key, size_t klen, const struct wbuf *w,
			uint64_t epoch0)
{
	struct bfs_metadb_txn *txn;
	int rc;

	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		goto fail;
	/* invalidations bump the epoch before their transaction: if it is
	 * unchanged here, theirs comes after ours */
	if (epoch_now(p) != epoch0) {
		bfs_metadb_abort(txn);
		return;
	}
	rc = bfs_metadb_put(txn, t, key, klen, w->d, w->n);
	if (rc == 0)
		rc = bfs_metadb_commit(txn);
	else
		bfs_metadb_abort(txn);
fail:
	if (rc != 0)
		cache_error(p, "cannot store an entry", rc);
}

/*
 * head, or head_read (hint, buf, len, got; got NULL for head): a fresh entry
 * answers without a request (and without bytes); otherwise the answer
 * of the layer below, a HEAD's or a ranged GET's, is kept as a HEAD's.
 */
static int head_any(struct bfs_store *s, const char *key, const char *hint,
		    struct bfs_obj_info *out, void *buf, size_t len,
		    size_t *got)
{
	char known[BFS_ETAG_MAX] = "";
	struct mc_priv *p = priv_of(s);
	struct bfs_metadb_txn *txn;
	uint8_t hk[HKEY_LEN];
	uint64_t epoch0, stamp;
	struct wbuf w = {0};
	bool negative;
	void *v;
	size_t vlen;
	int rc;

	if (p->db == NULL || (p->attr_ttl <= 0 && p->neg_ttl <= 0))
		return got ? bfs_store_head_read(p->inner, key, hint, out, buf,
						 len, got)
			   : p->inner->head(p->inner, key, out);
	head_key(p, key, hk);
	rc = bfs_metadb_begin(p->db, true, &txn);
	if (rc == 0) {
		rc = bfs_metadb_get(txn, BFS_METADB_HEAD, hk, sizeof(hk), &v,
				    &vlen);
		bfs_metadb_abort(txn);
	}
	if (rc == 0) {
		struct bfs_obj_info info;

		rc = decode_head(v, vlen, key, &stamp, &negative, &info, NULL);
		free(v);
		if (rc == 0 && negative && fresh(p, stamp, p->neg_ttl)) {
			COUNT(p, neg_hits);
			return ENOENT;
		}
		if (rc == 0 && !negative && fresh(p, stamp, p->attr_ttl)) {
			COUNT(p, head_hits);
			*out = info;
			return 0;
		}
		if (rc == 0 && !negative) /* the version last seen */
			snprintf(known, sizeof(known), "%s", info.etag);
		if (rc == 0)
			bfs_obj_info_release(&info);
	} else if (rc != ENOENT) {
		cache_error(p, "cannot read an entry", rc);
	}
	COUNT(p, head_misses);
	epoch0 = epoch_now(p);
	rc = got ? bfs_store_head_read(p->inner, key, known[0] ? known : hint,
				       out, buf, len, got)
		 : p->inner->head(p->inner, key, out);
	if ((rc == 0 && p->attr_ttl > 0) || (rc == ENOENT && p->neg_ttl > 0)) {
		encode_head(&w, now_ns(p), key, rc, out, 0);
		store_entry(p, BFS_METADB_HEAD, hk, sizeof(hk), &w, epoch0);
		free(w.d);
	}
	return rc;
}

static int mc_head(struct bfs_store *s, const char *key,
		   struct bfs_obj_info *out)
{
	return head_any(s, key, NULL, out, NULL, 0, NULL);
}

static int mc_head_read(struct bfs_store *s, const char *key, const char *known,
			struct bfs_obj_info *out, void *buf, size_t len,
			size_t *got)
{
	size_t n = 0;
	int rc;

	/* its stale entry's ETag, if any, else the caller's */
	rc = head_any(s, key, known, out, buf, len, &n);

	if (got)
		*got = n;
	return rc;
}

/*
 * head is what a HEAD said of the version listed shows: the same ETag,
 * size and Last-Modified second (listings give milliseconds, HEAD whole
 * seconds; a metadata-only replace keeps the ETag but not the date).
 * Two versions may share a second, so the HEAD must have been answered
 * after that second ended (the server's Date): then any later version
 * has a later Last-Modified.
 */
static bool same_version(const struct bfs_obj_info *head, uint8_t flags,
			 const struct bfs_obj_info *listed)
{
	if (head->size != listed->size || strcmp(head->etag, listed->etag))
		return false;
	/*
	 * Our own put: its answer has no Last-Modified, but the version
	 * it made was modified before the server answered, give or take
	 * the second (Ceph RGW dates an answer when the request came: a
	 * put that crossed a second boundary has a Last-Modified one
	 * second after its Date). Another client's version of the very
	 * same bytes would have to land within that second to be taken
	 * for ours (doc/internals/cache.md).
	 */
	if (flags & HEAD_FROM_PUT)
		return head->answered > 0 &&
		       listed->mtime.tv_sec <= head->answered + 1;
	return head->mtime.tv_sec == listed->mtime.tv_sec &&
	       head->answered > head->mtime.tv_sec;
}

/* Hand head's user metadata to the listed entry of the same version. */
static void recall_meta(struct bfs_obj_info *listed, struct bfs_obj_info *head)
{
	bfs_meta_list_release(&listed->meta);
	listed->meta = head->meta;
	memset(&head->meta, 0, sizeof(head->meta));
	listed->meta_known = true;
}

/*
 * The head entries of the objects a page shows. An entry of the listed
 * version gives the object its user metadata, whatever the entry's age:
 * the metadata of a version does not change, so metadata=objects needs
 * no HEAD for it (ls -l after attr_ttl, after a restart). A page fresh
 * from the bucket (confirmed not NULL; txn a write transaction) also
 * stamps that entry fresh again and drops an entry of another version.
 */
static int match_page(struct mc_priv *p, struct bfs_metadb_txn *txn,
		      struct bfs_list_result *res, uint64_t *confirmed)
{
	uint64_t now = now_ns(p);
	int rc = 0;

	for (size_t i = 0; i < res->nobjs && rc == 0; i++) {
		struct bfs_obj_info *o = &res->objs[i];
		struct bfs_obj_info info;
		uint8_t hk[HKEY_LEN];
		uint64_t stamp;
		bool negative;
		uint8_t *v, flags;
		size_t vlen;

		head_key(p, o->key, hk);
		if (bfs_metadb_get(txn, BFS_METADB_HEAD, hk, sizeof(hk),
				   (void **)&v, &vlen) != 0)
			continue;
		if (decode_head(v, vlen, o->key, &stamp, &negative, &info,
				&flags) == 0) {
			bool same = !negative && same_version(&info, flags, o);

			if (same && confirmed) {
				memcpy(v + STAMP_OFF, &now, sizeof(now));
				rc = bfs_metadb_put(txn, BFS_METADB_HEAD, hk,
						    sizeof(hk), v, vlen);
				(*confirmed)++;
			} else if (confirmed) {
				rc = bfs_metadb_del(txn, BFS_METADB_HEAD, hk,
						    sizeof(hk));
			}
			if (same)
				recall_meta(o, &info);
			bfs_obj_info_release(&info);
		}
		free(v);
	}
	return rc;
}

/* The request of page token of directory dir's listing, as readdir
 * asks it (bfs_store_list_all: delimiter "/", the store's page size). */
static struct bfs_list_req dir_page_req(const char *dir, const char *token)
{
	return (struct bfs_list_req){
		.prefix = dir, .delimiter = "/", .token = token};
}

static bool page_fresh(const struct mc_priv *p, uint64_t stamp,
		       const struct bfs_list_result *r)
{
	bool empty = r->nobjs == 0 && r->nprefixes == 0;

	return fresh(p, stamp, empty ? p->neg_ttl : p->dir_ttl);
}

/*
 * The cached listing of directory dir, page after page as long as they
 * are cached. @return whether it is complete and every page fresh.
 */
static bool chain_read(struct mc_priv *p, struct bfs_metadb_txn *txn,
		       const char *dir, struct bfs_mc_chain *c)
{
	bool ok = true;

	for (unsigned n = 0; n < BFS_LIST_MAX_PAGES; n++) {
		const char *token = n ? c->pages[n - 1].next_token : NULL;
		struct bfs_list_req r = dir_page_req(dir, token);
		struct bfs_list_result page;
		uint8_t lk[LKEY_LEN];
		uint64_t stamp;
		void *v;
		size_t vlen;
		int rc;

		list_key(p, &r, lk);
		if (bfs_metadb_get(txn, BFS_METADB_LIST, lk, sizeof(lk), &v,
				   &vlen) != 0)
			return false;
		rc = decode_page(v, vlen, &r, &stamp, &page);
		free(v);
		if (rc != 0)
			return false;
		ok = ok && page_fresh(p, stamp, &page);
		/* a token that names its own page: a loop, not a listing */
		if (page.next_token && token && !strcmp(page.next_token, token))
			ok = false;
		bfs_mc_chain_add(c, &page, token, stamp);
		if (!ok || c->pages[n].next_token == NULL)
			return ok;
	}
	return false;
}

/* Store the pages of directory dir's listing, each with its own stamp. */
static int chain_write(struct mc_priv *p, struct bfs_metadb_txn *txn,
		       const char *dir, const struct bfs_mc_chain *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->n && rc == 0; i++) {
		struct bfs_list_req r = dir_page_req(dir, c->tokens[i]);
		uint8_t lk[LKEY_LEN];
		struct wbuf w = {0};

		list_key(p, &r, lk);
		encode_page(&w, c->stamps[i], &r, &c->pages[i]);
		rc = bfs_metadb_put(txn, BFS_METADB_LIST, lk, sizeof(lk), w.d,
				    w.n);
		free(w.d);
	}
	return rc;
}

/*
 * Is req answered "nothing" by the listing of the directory its prefix
 * names a child of? A prefix "dir/name..." (no '/' after dir/) that
 * starts no name of a complete, fresh listing of dir/ starts no key at
 * all: a lookup of a name the directory does not hold costs no request
 * (a create's, a mkdir's, a rename target's). neg_ttl 0 asks for every
 * "no" to come from the bucket.
 */
static bool derived_empty_in(struct mc_priv *p, struct bfs_metadb_txn *txn,
			     const struct bfs_list_req *req, uint64_t *oldest)
{
	struct bfs_mc_chain c = {0};
	const char *slash;
	char *dir;
	bool none;

	if (p->dir_ttl <= 0 || p->neg_ttl <= 0 || req->token ||
	    req->start_after || req->prefix[0] == '\0' ||
	    (req->delimiter && strcmp(req->delimiter, "/") != 0))
		return false;
	slash = strrchr(req->prefix, '/');
	if (slash && slash[1] == '\0')
		return false; /* a directory's own listing */
	dir = bfs_xstrndup(req->prefix,
			   slash ? (size_t)(slash - req->prefix) + 1 : 0);
	none = chain_read(p, txn, dir, &c) &&
	       !bfs_mc_chain_has_prefix(&c, req->prefix);
	for (size_t i = 0; none && oldest && i < c.n; i++)
		if (i == 0 || c.stamps[i] < *oldest)
			*oldest = c.stamps[i];
	bfs_mc_chain_release(&c);
	free(dir);
	return none;
}

static bool derived_empty(struct mc_priv *p, const struct bfs_list_req *req)
{
	struct bfs_metadb_txn *txn;
	bool none = false;

	if (bfs_metadb_begin(p->db, true, &txn) == 0) {
		none = derived_empty_in(p, txn, req, NULL);
		bfs_metadb_abort(txn);
	}
	return none;
}

/*
 * The cached page answering req, into *out, if it is fresh. *small says
 * whether a page was cached, fresh or not, that ends the listing (no
 * next token) with at most BFS_MC_RELIST_MAX entries.
 */
static bool cached_page(struct mc_priv *p, const struct bfs_list_req *req,
			const uint8_t *lk, struct bfs_list_result *out,
			bool *small)
{
	struct bfs_metadb_txn *txn;
	struct bfs_list_result page;
	uint64_t stamp;
	void *v;
	size_t vlen;
	int rc;

	*small = false;
	rc = bfs_metadb_begin(p->db, true, &txn);
	if (rc == 0) {
		rc = bfs_metadb_get(txn, BFS_METADB_LIST, lk, LKEY_LEN, &v,
				    &vlen);
		bfs_metadb_abort(txn);
	}
	if (rc != 0) {
		if (rc != ENOENT)
			cache_error(p, "cannot read an entry", rc);
		return false;
	}
	rc = decode_page(v, vlen, req, &stamp, &page);
	free(v);
	if (rc != 0)
		return false;
	*small = page.next_token == NULL &&
		 page.nobjs + page.nprefixes <= BFS_MC_RELIST_MAX;
	if (!page_fresh(p, stamp, &page)) {
		bfs_list_result_release(&page);
		return false;
	}
	COUNT(p, list_hits);
	if (p->attr_ttl > 0 && page.nobjs > 0 &&
	    bfs_metadb_begin(p->db, true, &txn) == 0) {
		match_page(p, txn, &page, NULL);
		bfs_metadb_abort(txn);
	}
	*out = page;
	return true;
}

/* Ask the bucket for req, and keep the answer unless one of our writes
 * ran meanwhile. */
static int fetch_page(struct mc_priv *p, const struct bfs_list_req *req,
		      const uint8_t *lk, struct bfs_list_result *out)
{
	struct bfs_list_req r = *req;
	struct bfs_metadb_txn *txn;
	uint64_t epoch0, confirmed = 0;
	struct wbuf w = {0};
	bool empty;
	int rc;

	r.cached_only = r.refresh_small = false;
	COUNT(p, list_misses);
	epoch0 = epoch_now(p);
	rc = p->inner->list(p->inner, &r, out);
	if (rc != 0)
		return rc;
	empty = out->nobjs == 0 && out->nprefixes == 0;
	if ((empty ? p->neg_ttl : p->dir_ttl) <= 0 && p->attr_ttl <= 0)
		return 0;
	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		goto fail;
	if (epoch_now(p) != epoch0) {
		bfs_metadb_abort(txn);
		return 0;
	}
	if ((empty ? p->neg_ttl : p->dir_ttl) > 0) {
		encode_page(&w, now_ns(p), req, out);
		rc = bfs_metadb_put(txn, BFS_METADB_LIST, lk, LKEY_LEN, w.d,
				    w.n);
		free(w.d);
	}
	if (rc == 0 && p->attr_ttl > 0)
		rc = match_page(p, txn, out, &confirmed);
	if (rc == 0)
		rc = bfs_metadb_commit(txn);
	else
		bfs_metadb_abort(txn);
	if (confirmed) {
		BFS_PCHECK(pthread_mutex_lock(&p->lock));
		p->st.revalidated += confirmed;
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	}
fail:
	if (rc != 0)
		cache_error(p, "cannot store a listing", rc);
	return 0;
}

/* Is req the first page of a directory's listing, as readdir asks it
 * (dir_page_req)? */
static bool dir_first_page(const struct bfs_list_req *req)
{
	size_t len = strlen(req->prefix);

	return req->delimiter && strcmp(req->delimiter, "/") == 0 &&
	       !req->token && !req->start_after && req->max_keys == 0 &&
	       (len == 0 || req->prefix[len - 1] == '/');
}

/*
 * List a small directory again (req->refresh_small; the cached page was
 * small and has expired), once for every caller that asks at once: the
 * first sends the request, the others wait for it and then read what it
 * stored. @return as list; EAGAIN to a caller that waited for a fetch
 * whose answer was not kept (it failed, or one of our writes ran).
 */
static int relist(struct mc_priv *p, const struct bfs_list_req *req,
		  const uint8_t *lk, struct bfs_list_result *out)
{
	struct mc_relist *f;
	bool small;
	int rc;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (f = p->relists; f && memcmp(f->lk, lk, LKEY_LEN); f = f->next)
		;
	if (f) {
		p->st.relist_shared++;
		f->refs++;
		while (!f->done)
			BFS_PCHECK(pthread_cond_wait(&p->relisted, &p->lock));
		if (--f->refs == 0)
			free(f);
		BFS_PCHECK(pthread_mutex_unlock(&p->lock));
		return cached_page(p, req, lk, out, &small) ? 0 : EAGAIN;
	}
	f = bfs_xcalloc(1, sizeof(*f));
	memcpy(f->lk, lk, LKEY_LEN);
	f->refs = 1;
	f->next = p->relists;
	p->relists = f;
	p->st.relists++;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));

	rc = fetch_page(p, req, lk, out);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (struct mc_relist **pp = &p->relists; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	f->done = true;
	BFS_PCHECK(pthread_cond_broadcast(&p->relisted));
	if (--f->refs == 0)
		free(f);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return rc;
}

static int mc_list(struct bfs_store *s, const struct bfs_list_req *req,
		   struct bfs_list_result *out)
{
	struct mc_priv *p = priv_of(s);
	uint8_t lk[LKEY_LEN];
	bool small;

	if (p->db == NULL || (p->dir_ttl <= 0 && p->neg_ttl <= 0))
		return p->inner->list(p->inner, req, out);
	list_key(p, req, lk);
	if (cached_page(p, req, lk, out, &small))
		return 0;
	if (derived_empty(p, req)) {
		COUNT(p, neg_hits);
		memset(out, 0, sizeof(*out));
		return 0;
	}
	/* a miss: the layers below are remote (the cache is stacked over a
	 * remote driver only), so the answer needs a request */
	if (req->cached_only && req->refresh_small && small && p->dir_ttl > 0 &&
	    p->neg_ttl > 0 && dir_first_page(req))
		return relist(p, req, lk, out);
	if (req->cached_only)
		return EAGAIN;
	return fetch_page(p, req, lk, out);
}

/* What empty_before looks for: a fresh page that found nothing. */
struct empty_scan {
	struct mc_priv *p;
	const char *prefix;
	bool found;
	uint64_t stamp;
};

/*
 * A page of the listing table that asked prefix from its start (no
 * token, no start_after; any delimiter and page size) and found
 * nothing, fresh by neg_ttl: no key started with prefix when it was
 * fetched.
 */
static int empty_page(void *arg, const void *key, size_t klen, const void *val,
		      size_t vlen)
{
	struct empty_scan *e = arg;
	struct rbuf r = {val, vlen, 0, false};
	uint64_t stamp;
	char *delim;
	bool ok;

	if (r_u8(&r) != RECORD_VERSION)
		return 0;
	r_u8(&r);
	stamp = r_u64(&r);
	if (!r_str_eq(&r, e->prefix))
		return 0;
	delim = r_str(&r);
	free(delim);
	ok = r_str_eq(&r, NULL) && r_str_eq(&r, NULL);
	r_u32(&r); /* max_keys */
	ok = ok && r_u32(&r) == 0 && r_u32(&r) == 0 && !r.bad &&
	     fresh(e->p, stamp, e->p->neg_ttl);
	if (ok && (!e->found || stamp < e->stamp)) {
		e->found = true;
		e->stamp = stamp;
	}
	return 0;
}

/*
 * Did the cache know, before our put of the marker dirkey ("a/b/")
 * made the directory, that nothing was under it? From a fresh empty
 * page of a/b (the lookup before mkdir asks it) or of a/b/, or a
 * complete fresh listing of a/ without b. @return whether it did, and
 * in *stamp when that was known (the oldest answer it rests on).
 */
static bool empty_before(struct mc_priv *p, struct bfs_metadb_txn *txn,
			 const char *dirkey, uint64_t *stamp)
{
	char *name = bfs_xstrndup(dirkey, strlen(dirkey) - 1);
	struct bfs_list_req probe = {.prefix = name};
	struct empty_scan e = {.p = p};
	uint8_t pk[16];

	if (p->dir_ttl <= 0 || p->neg_ttl <= 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		e.prefix = i == 0 ? name : dirkey;
		memcpy(pk, p->bucket_hash, 8);
		put_u64_raw(pk + 8,
			    fnv(FNV_OFFSET, e.prefix, strlen(e.prefix)));
		if (bfs_metadb_scan(txn, BFS_METADB_LIST, pk, sizeof(pk),
				    empty_page, &e) != 0)
			e.found = false;
	}
	if (!e.found && derived_empty_in(p, txn, &probe, &e.stamp))
		e.found = true;
out:
	free(name);
	*stamp = e.stamp;
	return e.found;
}

/*
 * The listing of the directory whose marker our put just made, known to
 * hold that marker alone: the creates that follow in it look their
 * names up without a request (derived_empty). Stamped with the answer
 * that said the directory was empty, so it is trusted no longer than a
 * listing fetched then would be.
 */
static int new_dir_listing(struct mc_priv *p, struct bfs_metadb_txn *txn,
			   const char *dirkey,
			   const struct bfs_obj_info *marker, uint64_t stamp)
{
	struct bfs_list_req r = dir_page_req(dirkey, NULL);
	struct bfs_list_result page = {0};
	struct wbuf w = {0};
	uint8_t lk[LKEY_LEN];
	int rc;

	page.objs = bfs_xcalloc(1, sizeof(*page.objs));
	page.nobjs = 1;
	page.objs[0].key = bfs_xstrdup(dirkey);
	page.objs[0].size = marker->size;
	snprintf(page.objs[0].etag, sizeof(page.objs[0].etag), "%s",
		 marker->etag);
	page.objs[0].mtime = marker->mtime;
	list_key(p, &r, lk);
	encode_page(&w, stamp, &r, &page);
	rc = bfs_metadb_put(txn, BFS_METADB_LIST, lk, sizeof(lk), w.d, w.n);
	free(w.d);
	bfs_list_result_release(&page);
	return rc;
}

/*
 * Drop what a write to key makes stale: its head entry (replaced by
 * entry when not NULL: what our own put made) and the pages of every
 * prefix of it ("", "a", "a/", "a/b" ... key itself). When the outcome
 * is known (known: the key now holds made, or with made NULL is gone),
 * the complete, fresh listings of the directories above the key are
 * amended instead, keeping their stamps: a lookup of a name they do not
 * show still costs no request after our own creates, renames and
 * removes, and what other clients did is seen once dir_ttl runs out,
 * as before. A directory marker made (key "a/b/", size 0) where the
 * cache knew nothing was leaves the new directory's listing too, in the
 * same transaction, so no other write can come between.
 */
static void invalidate(struct mc_priv *p, const char *key,
		       const struct wbuf *entry, bool known,
		       const struct bfs_obj_info *made)
{
	struct bfs_metadb_txn *txn;
	uint8_t hk[HKEY_LEN], pk[16];
	size_t len = strlen(key);
	uint64_t h = FNV_OFFSET, empty_stamp = 0;
	bool new_dir = false;
	int rc;

	if (p->db == NULL)
		return;
	__atomic_add_fetch(&p->epoch, 1, __ATOMIC_ACQ_REL);
	COUNT(p, invalidations);
	head_key(p, key, hk);
	rc = bfs_metadb_begin(p->db, false, &txn);
	if (rc != 0)
		goto fail;
	if (entry)
		rc = bfs_metadb_put(txn, BFS_METADB_HEAD, hk, sizeof(hk),
				    entry->d, entry->n);
	else
		rc = bfs_metadb_del(txn, BFS_METADB_HEAD, hk, sizeof(hk));
	if (rc == ENOENT)
		rc = 0;
	if (made && made->size == 0 && len > 1 && key[len - 1] == '/')
		new_dir = empty_before(p, txn, key, &empty_stamp);
	memcpy(pk, p->bucket_hash, 8);
	for (size_t i = 0; i <= len && rc == 0; i++) {
		struct bfs_mc_chain c = {0};
		char *dir = NULL;
		bool keep = false;

		if (i > 0)
			h = fnv(h, key + i - 1, 1);
		if (known && (i == 0 || key[i - 1] == '/')) {
			dir = bfs_xstrndup(key, i);
			/* an expired small listing is amended too, and
			 * stays expired: it answers nothing, but tells the
			 * next lookup in dir that it may list it again */
			keep = (chain_read(p, txn, dir, &c) ||
				bfs_mc_chain_small(&c)) &&
			       bfs_mc_chain_amend(&c, dir, key, made);
		}
		put_u64_raw(pk + 8, h);
		rc = bfs_metadb_del_prefix(txn, BFS_METADB_LIST, pk, sizeof(pk),
					   NULL, NULL, NULL);
		if (rc == 0 && keep)
			rc = chain_write(p, txn, dir, &c);
		bfs_mc_chain_release(&c);
		free(dir);
	}
	if (rc == 0 && new_dir)
		rc = new_dir_listing(p, txn, key, made, empty_stamp);
	if (rc == 0)
		rc = bfs_metadb_commit(txn);
	else
		bfs_metadb_abort(txn);
fail:
	if (rc != 0)
		cache_error(p, "cannot drop stale entries", rc);
}

/*
 * After our own write of req (rc its outcome, etag and answered what the
 * server said): drop what it made stale and, when the server told its
 * Date, keep what we know of the new version as its head entry, so that
 * neither a stat nor the listing of metadata=objects HEADs an object we
 * have just written. A directory's marker made where nothing was also
 * leaves the new directory's listing (new_dir_listing).
 */
static void wrote(struct mc_priv *p, const struct bfs_put_req *req, int rc,
		  const char *etag, time_t answered)
{
	struct bfs_obj_info info = {0};
	struct wbuf w = {0};
	bool known = rc == 0 && etag[0];

	info.size = req->size;
	snprintf(info.etag, sizeof(info.etag), "%s", etag);
	/* what a listing would show, the version's Last-Modified being at
	 * most the answer's date (same_version) */
	info.mtime.tv_sec = answered > 0 ? answered : time(NULL);
	if (known && answered > 0 && p->attr_ttl > 0) {
		info.answered = answered;
		if (req->meta)
			info.meta = *req->meta; /* borrowed for the encoding */
		encode_head(&w, now_ns(p), req->key, 0, &info, HEAD_FROM_PUT);
	}
	invalidate(p, req->key, w.d ? &w : NULL, known, known ? &info : NULL);
	free(w.d);
}

static int mc_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	struct mc_priv *p = priv_of(s);
	struct bfs_put_req r = *req;
	char etag[BFS_ETAG_MAX] = "";
	time_t answered = 0;
	int rc;

	r.answered = &answered;
	rc = p->inner->put(p->inner, &r, etag);
	if (etag_out && rc == 0)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
	if (req->answered)
		*req->answered = answered;
	wrote(p, req, rc, etag, answered);
	return rc;
}

static int mc_del(struct bfs_store *s, const char *key)
{
	struct mc_priv *p = priv_of(s);
	int rc = p->inner->del(p->inner, key);

	/* ENOENT: gone all the same */
	invalidate(p, key, NULL, rc == 0 || rc == ENOENT, NULL);
	return rc;
}

/*
 * The size of the version of src a copy just read, if the cache knows
 * it: a fresh head entry, or a complete, fresh listing of its directory.
 */
static bool known_size(struct mc_priv *p, const char *src, uint64_t *size)
{
	struct bfs_metadb_txn *txn;
	struct bfs_mc_chain c = {0};
	const struct bfs_obj_info *o;
	const char *slash = strrchr(src, '/');
	uint8_t hk[HKEY_LEN];
	bool found = false;
	char *dir;
	void *v;
	size_t vlen;

	if (bfs_metadb_begin(p->db, true, &txn) != 0)
		return false;
	head_key(p, src, hk);
	if (bfs_metadb_get(txn, BFS_METADB_HEAD, hk, sizeof(hk), &v, &vlen) ==
	    0) {
		struct bfs_obj_info info;
		uint64_t stamp;
		bool negative;

		if (decode_head(v, vlen, src, &stamp, &negative, &info, NULL) ==
		    0) {
			found = !negative && fresh(p, stamp, p->attr_ttl);
			*size = info.size;
			bfs_obj_info_release(&info);
		}
		free(v);
	}
	dir = bfs_xstrndup(src, slash ? (size_t)(slash - src) + 1 : 0);
	if (!found && chain_read(p, txn, dir, &c) &&
	    (o = bfs_mc_chain_find(&c, src)) != NULL) {
		*size = o->size;
		found = true;
	}
	bfs_metadb_abort(txn);
	bfs_mc_chain_release(&c);
	free(dir);
	return found;
}

static int mc_copy(struct bfs_store *s, const char *src, const char *dst,
		   const struct bfs_meta_list *meta, const char *if_match,
		   char *etag_out)
{
	struct mc_priv *p = priv_of(s);
	struct bfs_obj_info made = {0};
	char etag[BFS_ETAG_MAX] = "";
	bool known;
	int rc;

	rc = p->inner->copy(p->inner, src, dst, meta, if_match, etag);
	if (etag_out && rc == 0)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
	/* a rename (copy + delete) keeps the listing of its target */
	known = rc == 0 && etag[0] && p->db && known_size(p, src, &made.size);
	snprintf(made.etag, sizeof(made.etag), "%s", etag);
	made.mtime.tv_sec = time(NULL);
	invalidate(p, dst, NULL, known, known ? &made : NULL);
	return rc;
}

static int mc_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, char *etag_out)
{
	struct mc_priv *p = priv_of(s);
	struct bfs_put_req r = *req;
	char etag[BFS_ETAG_MAX] = "";
	time_t answered = 0;
	int rc;

	r.answered = &answered;
	rc = p->inner->mpu_complete(p->inner, &r, upload_id, parts, nparts,
				    etag);
	if (etag_out && rc == 0)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
	if (req->answered)
		*req->answered = answered;
	/* a caller that did not give the size: nothing to keep */
	wrote(p, req, req->size > 0 ? rc : EINVAL, etag, answered);
	return rc;
}

void bfs_metacache_get_stats(struct bfs_store *s,
			     struct bfs_metacache_stats *out)
{
	struct mc_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	*out = p->st;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

/* ---- housekeeping
 * ------------------------------------------------------------ */

struct old {
	const struct mc_priv *p;
	double keep;
	uint8_t (*keys)[HKEY_LEN];
	size_t n;
};

static int find_old(void *arg, const void *key, size_t klen, const void *val,
		    size_t vlen)
{
	struct old *o = arg;
	uint64_t stamp;

	if (klen > HKEY_LEN || vlen < STAMP_OFF + sizeof(stamp))
		return 0;
	memcpy(&stamp, (const uint8_t *)val + STAMP_OFF, sizeof(stamp));
	if (fresh(o->p, stamp, o->keep))
		return 0;
	o->keys = bfs_xrealloc(o->keys, (o->n + 1) * sizeof(*o->keys));
	memcpy(o->keys[o->n++], key, klen);
	return o->n >= SWEEP_MAX ? -1 : 0;
}

/* Drop this bucket's entries nobody has confirmed for a long time. */
static void sweep(struct mc_priv *p, enum bfs_metadb_table t, size_t klen,
		  double keep)
{
	struct bfs_metadb_txn *txn;
	struct old o = {p, keep, NULL, 0};
	int rc;

	rc = bfs_metadb_begin(p->db, true, &txn);
	if (rc != 0)
		return;
	bfs_metadb_scan(txn, t, p->bucket_hash, sizeof(p->bucket_hash),
			find_old, &o);
	bfs_metadb_abort(txn);
	if (o.n == 0)
		goto out;
	rc = bfs_metadb_begin(p->db, false, &txn);
	for (size_t i = 0; rc == 0 && i < o.n; i++) {
		rc = bfs_metadb_del(txn, t, o.keys[i], klen);
		if (rc == ENOENT)
			rc = 0;
	}
	if (rc == 0)
		rc = bfs_metadb_commit(txn);
	else
		bfs_metadb_abort(txn);
out:
	free(o.keys);
}

/* The stats record, when it would say something new (stats.h); the
 * metadata cache runs nothing in the background: nothing is pending. */
static void publish(void *arg)
{
	struct mc_priv *p = arg;
	struct bfs_metacache_stats st;
	/* the ask first: the counters that answer it are taken after it */
	struct bfs_stats_state ss = {bfs_stats_asked(p->db), 0};

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	st = p->st;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	if (p->announced && ss.answered == p->answered &&
	    memcmp(&st, &p->published, sizeof(st)) == 0)
		return;
	{
		const struct bfs_stats_counter c[] = {
			{"head_hits", st.head_hits},
			{"head_misses", st.head_misses},
			{"neg_hits", st.neg_hits},
			{"list_hits", st.list_hits},
			{"list_misses", st.list_misses},
			{"invalidations", st.invalidations},
			{"revalidated", st.revalidated},
			{"relists", st.relists},
			{"relist_shared", st.relist_shared},
			{"errors", st.errors},
		};

		if (bfs_stats_publish(p->db, p->bucket, BFS_STATS_LAYER_META,
				      p->started, &ss, c,
				      BFS_ARRAY_SIZE(c)) == 0) {
			p->published = st;
			p->answered = ss.answered;
			p->announced = true;
		}
	}
}

static void mc_tick(void *arg)
{
	struct mc_priv *p = arg;

	if (p->ticks++ % SWEEP_TICKS == 0) {
		sweep(p, BFS_METADB_HEAD, HKEY_LEN, HEAD_KEEP);
		sweep(p, BFS_METADB_LIST, LKEY_LEN, LIST_KEEP);
	}
	publish(p);
}

static int mc_start(struct bfs_store *s)
{
	struct mc_priv *p = priv_of(s);
	int rc = bfs_store_start_inner(s);

	if (rc != 0)
		return rc;
	p->started = time(NULL);
	rc = bfs_metadb_attach(p->meta_dir, mc_tick, p, &p->db);
	if (rc != 0)
		return rc;
	/* a record from the start, so a reader that asks knows this daemon */
	bfs_metadb_tick_run(p->db, publish, p);
	return 0;
}

static void mc_shutdown(struct bfs_store *s)
{
	struct mc_priv *p = priv_of(s);

	bfs_metadb_detach(&p->db, mc_tick, p);
	bfs_store_shutdown_inner(s);
}

static void mc_destroy(struct bfs_store *s)
{
	struct mc_priv *p = priv_of(s);

	bfs_metadb_detach(&p->db, mc_tick, p);
	bfs_store_undecorate(s);
	BFS_PCHECK(pthread_cond_destroy(&p->relisted));
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p->meta_dir);
	free(p->bucket);
	free(p);
}

struct bfs_store *bfs_metacache_create(const struct bfs_metacache_conf *conf,
				       struct bfs_store *inner)
{
	struct mc_priv *p;
	struct bfs_store *s;

	if (conf->cache_dir == NULL || conf->cache_dir[0] == '\0' ||
	    conf->bucket == NULL || conf->bucket[0] == '\0' || inner == NULL) {
		errno = EINVAL;
		return NULL;
	}
	p = bfs_xcalloc(1, sizeof(*p));
	p->inner = inner;
	p->meta_dir = bfs_xasprintf("%s/meta", conf->cache_dir);
	p->bucket = bfs_xstrdup(conf->bucket);
	bucket_hash(conf->bucket, p->bucket_hash);
	p->attr_ttl = conf->attr_ttl;
	p->dir_ttl = conf->dir_ttl;
	p->neg_ttl = conf->neg_ttl;
	p->clock = conf->clock;
	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&p->relisted, NULL));

	s = &p->store;
	s->start = mc_start;
	s->head = mc_head;
	s->head_read = mc_head_read;
	s->put = mc_put;
	s->del = mc_del;
	s->copy = mc_copy;
	s->list = mc_list;
	/* a completed upload replaces the key; the rest passes through */
	s->mpu_complete = mc_mpu_complete;
	s->shutdown = mc_shutdown;
	s->destroy = mc_destroy;
	bfs_store_decorate(s, p, inner, BFS_STORE_KIND_METACACHE, "meta");
	return s;
}

/* ---- the cache dir, for `bucketfs cache` ------------------------------- */

static int count_one(void *arg, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*(uint64_t *)arg)++;
	return 0;
}

int bfs_metacache_usage(const char *cache_dir, const char *bucket,
			uint64_t *heads, uint64_t *lists)
{
	struct bfs_metadb_txn *txn;
	struct bfs_metadb *db;
	uint8_t bh[8];
	char err[512];
	int rc;

	*heads = *lists = 0;
	db = bfs_metadb_open_existing(cache_dir, err, sizeof(err));
	if (db == NULL)
		return errno;
	if (bucket)
		bucket_hash(bucket, bh);
	rc = bfs_metadb_begin(db, true, &txn);
	if (rc == 0) {
		rc = bfs_metadb_scan(txn, BFS_METADB_HEAD, bh,
				     bucket ? sizeof(bh) : 0, count_one, heads);
		if (rc == 0)
			rc = bfs_metadb_scan(txn, BFS_METADB_LIST, bh,
					     bucket ? sizeof(bh) : 0, count_one,
					     lists);
		bfs_metadb_abort(txn);
	}
	bfs_metadb_close(db);
	return rc;
}

int bfs_metacache_clear(const char *cache_dir, const char *bucket, uint64_t *n,
			char *err, size_t errlen)
{
	struct bfs_metadb_txn *txn;
	struct bfs_metadb *db;
	size_t nh = 0, nl = 0;
	uint8_t bh[8];
	int rc;

	if (n)
		*n = 0;
	db = bfs_metadb_open_existing(cache_dir, err, errlen);
	if (db == NULL)
		return errno;
	if (bucket)
		bucket_hash(bucket, bh);
	rc = bfs_metadb_begin(db, false, &txn);
	if (rc == 0) {
		rc = bfs_metadb_del_prefix(txn, BFS_METADB_HEAD, bh,
					   bucket ? sizeof(bh) : 0, NULL, NULL,
					   &nh);
		if (rc == 0)
			rc = bfs_metadb_del_prefix(txn, BFS_METADB_LIST, bh,
						   bucket ? sizeof(bh) : 0,
						   NULL, NULL, &nl);
		if (rc == 0)
			rc = bfs_metadb_commit(txn);
		else
			bfs_metadb_abort(txn);
	}
	if (rc != 0)
		snprintf(err, errlen, "cannot clear the cache in '%s': %s",
			 cache_dir, strerror(rc));
	else if (n)
		*n = nh + nl;
	bfs_metadb_close(db);
	return rc;
}
