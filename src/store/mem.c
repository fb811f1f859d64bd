/*
 * mem.c - the in-memory store (see mem.h): a sorted array of objects
 * under one lock. Multipart parts are kept per upload until complete.
 */
#include "compat.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "store/mem.h"

struct mem_obj {
	char *key;
	char *data;
	size_t size;
	char etag[BFS_ETAG_MAX];
	struct timespec mtime;
	struct bfs_meta_list meta;
};

struct mem_part {
	char *data;
	size_t size;
};

struct mem_upload {
	char *id;
	char *key;
	struct bfs_meta_list meta;
	struct mem_part parts[64];
};

struct mem_priv {
	pthread_mutex_t lock;
	/* protected by lock */
	struct mem_obj *objs; /* sorted by key */
	size_t n, cap;
	struct mem_upload *uploads;
	size_t nuploads;
	uint64_t version;
	struct bfs_store_stats stats;
	char *name;
};

static struct mem_priv *priv_of(struct bfs_store *s)
{
	return s->priv;
}

/* Index of key, or where it would go with *found false. */
static size_t find(struct mem_priv *p, const char *key, bool *found)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->objs[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void fill_info(const struct mem_obj *o, struct bfs_obj_info *out,
		      bool with_meta)
{
	memset(out, 0, sizeof(*out));
	out->size = o->size;
	snprintf(out->etag, sizeof(out->etag), "%s", o->etag);
	out->mtime = o->mtime;
	if (with_meta)
		bfs_meta_list_copy(&out->meta, &o->meta);
}

static int mem_head(struct bfs_store *s, const char *key,
		    struct bfs_obj_info *out)
{
	struct mem_priv *p = priv_of(s);
	bool found;
	size_t i;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	i = find(p, key, &found);
	if (found) {
		fill_info(&p->objs[i], out, true);
		out->answered = time(NULL); /* as a server's Date */
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return found ? 0 : ENOENT;
}

static int mem_get_range(struct bfs_store *s, const char *key, uint64_t off,
			 size_t len, void *buf, size_t *got,
			 const char *if_match)
{
	struct mem_priv *p = priv_of(s);
	int rc = 0;
	bool found;
	size_t i;

	*got = 0;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	i = find(p, key, &found);
	if (!found)
		rc = ENOENT;
	else if (if_match && strcmp(if_match, p->objs[i].etag) != 0)
		rc = ESTALE;
	else if (off > p->objs[i].size)
		rc = ERANGE;
	else {
		*got = (size_t)BFS_MIN((uint64_t)len, p->objs[i].size - off);
		memcpy(buf, p->objs[i].data + off, *got);
		p->stats.bytes_in += *got;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return rc;
}

/* As the s3 driver's: one request answers the head and the first bytes
 * (tail false) or the last ones (buf NULL: a HEAD). */
static int ranged_head(struct bfs_store *s, const char *key, bool tail,
		       struct bfs_obj_info *out, void *buf, size_t len,
		       size_t *got)
{
	struct mem_priv *p = priv_of(s);
	bool found;
	size_t i;

	*got = 0;
	if (buf == NULL || len == 0)
		return mem_head(s, key, out);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	i = find(p, key, &found);
	if (found) {
		fill_info(&p->objs[i], out, true);
		out->answered = time(NULL);
		*got = (size_t)BFS_MIN((uint64_t)len, p->objs[i].size);
		memcpy(buf,
		       p->objs[i].data + (tail ? p->objs[i].size - *got : 0),
		       *got);
		p->stats.bytes_in += *got;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return found ? 0 : ENOENT;
}

static int mem_head_read(struct bfs_store *s, const char *key,
			 const char *known, struct bfs_obj_info *out, void *buf,
			 size_t len, size_t *got)
{
	size_t n;
	int rc;

	(void)known; /* no cache here */
	rc = ranged_head(s, key, false, out, buf, len, &n);
	if (got)
		*got = n;
	return rc;
}

static int mem_tail_read(struct bfs_store *s, const char *key,
			 struct bfs_obj_info *out, void *buf, size_t len,
			 size_t *got)
{
	return ranged_head(s, key, true, out, buf, len, got);
}

/* Check put conditions against the current object; p->lock held. */
static int check_cond(struct mem_priv *p, const char *key, const char *if_match,
		      bool if_none_match)
{
	bool found;
	size_t i = find(p, key, &found);

	if (if_none_match && found)
		return EEXIST;
	if (if_match && (!found || strcmp(p->objs[i].etag, if_match) != 0))
		return ESTALE;
	return 0;
}

/* Store data as key (takes ownership of data); p->lock held. */
static void store_obj(struct mem_priv *p, const char *key, char *data,
		      size_t size, const struct bfs_meta_list *meta,
		      char *etag_out)
{
	bool found;
	size_t i = find(p, key, &found);
	struct mem_obj *o;

	if (!found) {
		if (p->n == p->cap) {
			/* doubling: tests put 10,000 keys, and growing by one
			 * copied the array at each (minutes under ASan) */
			p->cap = p->cap ? 2 * p->cap : 16;
			p->objs = bfs_xrealloc(p->objs,
					       p->cap * sizeof(*p->objs));
		}
		memmove(&p->objs[i + 1], &p->objs[i],
			(p->n - i) * sizeof(*p->objs));
		p->n++;
		o = &p->objs[i];
		memset(o, 0, sizeof(*o));
		o->key = bfs_xstrdup(key);
	} else {
		o = &p->objs[i];
		free(o->data);
		bfs_meta_list_release(&o->meta);
	}
	o->data = data;
	o->size = size;
	if (meta)
		bfs_meta_list_copy(&o->meta, meta);
	clock_gettime(CLOCK_REALTIME, &o->mtime);
	snprintf(o->etag, sizeof(o->etag), "mem-%llu",
		 (unsigned long long)++p->version);
	if (etag_out)
		snprintf(etag_out, BFS_ETAG_MAX, "%s", o->etag);
}

static int read_fd(int fd, off_t off, size_t len, char **out)
{
	char *buf = bfs_xmalloc(len);
	size_t done = 0;

	while (done < len) {
		ssize_t n =
			pread(fd, buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int rc = n < 0 ? errno : EIO;

			free(buf);
			return rc;
		}
		done += (size_t)n;
	}
	*out = buf;
	return 0;
}

static int mem_put(struct bfs_store *s, const struct bfs_put_req *req,
		   char *etag_out)
{
	struct mem_priv *p = priv_of(s);
	char *data;
	int rc;

	rc = read_fd(req->fd, req->offset, (size_t)req->size, &data);
	if (rc != 0)
		return rc;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	rc = check_cond(p, req->key, req->if_match, req->if_none_match);
	if (rc == 0) {
		store_obj(p, req->key, data, (size_t)req->size, req->meta,
			  etag_out);
		p->stats.bytes_out += req->size;
		data = NULL;
		if (req->answered)
			*req->answered = time(NULL); /* as a server's Date */
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	free(data);
	return rc;
}

static void remove_at(struct mem_priv *p, size_t i)
{
	free(p->objs[i].key);
	free(p->objs[i].data);
	bfs_meta_list_release(&p->objs[i].meta);
	memmove(&p->objs[i], &p->objs[i + 1],
		(p->n - i - 1) * sizeof(*p->objs));
	p->n--;
}

static int mem_del(struct bfs_store *s, const char *key)
{
	struct mem_priv *p = priv_of(s);
	bool found;
	size_t i;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	i = find(p, key, &found);
	if (found)
		remove_at(p, i);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return 0;
}

static int mem_copy(struct bfs_store *s, const char *src, const char *dst,
		    const struct bfs_meta_list *meta, const char *if_match,
		    char *etag_out)
{
	struct mem_priv *p = priv_of(s);
	struct bfs_meta_list keep = {0};
	char *data;
	bool found;
	size_t i, size;
	int rc = 0;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	i = find(p, src, &found);
	if (!found) {
		rc = ENOENT;
	} else if (if_match && strcmp(if_match, p->objs[i].etag) != 0) {
		rc = ESTALE;
	} else {
		size = p->objs[i].size;
		data = bfs_xmalloc(size);
		memcpy(data, p->objs[i].data, size);
		if (meta == NULL) {
			bfs_meta_list_copy(&keep, &p->objs[i].meta);
			meta = &keep;
		}
		store_obj(p, dst, data, size, meta, etag_out);
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	bfs_meta_list_release(&keep);
	return rc;
}

static void add_prefix(struct bfs_list_result *out, const char *key, size_t len)
{
	if (out->nprefixes > 0 &&
	    strlen(out->prefixes[out->nprefixes - 1]) == len &&
	    strncmp(out->prefixes[out->nprefixes - 1], key, len) == 0)
		return;
	out->prefixes = bfs_xrealloc(out->prefixes,
				     (out->nprefixes + 1) * sizeof(char *));
	out->prefixes[out->nprefixes++] = bfs_xstrndup(key, len);
}

static int mem_list(struct bfs_store *s, const struct bfs_list_req *req,
		    struct bfs_list_result *out)
{
	struct mem_priv *p = priv_of(s);
	const char *prefix = req->prefix ? req->prefix : "";
	const char *after = req->token ? req->token : req->start_after;
	unsigned max = req->max_keys ? req->max_keys : 1000;
	size_t plen = strlen(prefix);
	unsigned count = 0;
	const char *last = NULL;
	bool found;
	size_t i, cap = 0;

	memset(out, 0, sizeof(*out));
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->stats.requests++;
	i = find(p, after && strcmp(after, prefix) > 0 ? after : prefix,
		 &found);
	/* the token is the last key or common prefix returned: skip it,
	 * and every key the prefix rolled up */
	while (after && i < p->n &&
	       (strcmp(p->objs[i].key, after) <= 0 ||
		(req->delimiter && strlen(after) > 0 &&
		 strncmp(p->objs[i].key, after, strlen(after)) == 0 &&
		 after[strlen(after) - 1] == req->delimiter[0])))
		i++;
	for (; i < p->n; i++) {
		const char *key = p->objs[i].key;
		const char *d;

		if (strncmp(key, prefix, plen) != 0)
			break;
		if (count == max) {
			out->next_token = bfs_xstrdup(last);
			break;
		}
		d = req->delimiter ? strstr(key + plen, req->delimiter) : NULL;
		if (d) {
			size_t len = (size_t)(d - key) + strlen(req->delimiter);
			size_t before = out->nprefixes;

			add_prefix(out, key, len);
			if (out->nprefixes != before) {
				count++;
				last = out->prefixes[out->nprefixes - 1];
			}
			continue;
		}
		if (out->nobjs == cap) {
			cap = cap ? 2 * cap : 64;
			out->objs = bfs_xrealloc(out->objs,
						 cap * sizeof(*out->objs));
		}
		fill_info(&p->objs[i], &out->objs[out->nobjs], false);
		out->objs[out->nobjs].key = bfs_xstrdup(key);
		last = out->objs[out->nobjs].key;
		out->nobjs++;
		count++;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return 0;
}

static struct mem_upload *find_upload(struct mem_priv *p, const char *id)
{
	for (size_t i = 0; i < p->nuploads; i++)
		if (strcmp(p->uploads[i].id, id) == 0)
			return &p->uploads[i];
	return NULL;
}

static int mem_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			 char **upload_id)
{
	struct mem_priv *p = priv_of(s);
	struct mem_upload *u;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->uploads = bfs_xrealloc(p->uploads,
				  (p->nuploads + 1) * sizeof(*p->uploads));
	u = &p->uploads[p->nuploads++];
	memset(u, 0, sizeof(*u));
	u->id = bfs_xasprintf("upload-%llu", (unsigned long long)++p->version);
	u->key = bfs_xstrdup(req->key);
	if (req->meta)
		bfs_meta_list_copy(&u->meta, req->meta);
	*upload_id = bfs_xstrdup(u->id);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return 0;
}

static int mem_mpu_part(struct bfs_store *s, const char *key,
			const char *upload_id, int number, int fd, off_t off,
			size_t len, char *etag_out)
{
	struct mem_priv *p = priv_of(s);
	struct mem_upload *u;
	char *data;
	int rc;

	if (number < 1 || number > (int)BFS_ARRAY_SIZE(u->parts))
		return EINVAL;
	rc = read_fd(fd, off, len, &data);
	if (rc != 0)
		return rc;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	u = find_upload(p, upload_id);
	if (u == NULL) {
		rc = ENOENT;
	} else {
		free(u->parts[number - 1].data);
		u->parts[number - 1].data = data;
		u->parts[number - 1].size = len;
		data = NULL;
		snprintf(etag_out, BFS_ETAG_MAX, "part-%d", number);
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	free(data);
	return rc;
}

static void drop_upload(struct mem_priv *p, struct mem_upload *u)
{
	for (size_t i = 0; i < BFS_ARRAY_SIZE(u->parts); i++)
		free(u->parts[i].data);
	free(u->id);
	free(u->key);
	bfs_meta_list_release(&u->meta);
	*u = p->uploads[--p->nuploads];
}

static int mem_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			    const char *upload_id, const struct bfs_part *parts,
			    size_t nparts, char *etag_out)
{
	struct mem_priv *p = priv_of(s);
	struct mem_upload *u;
	size_t total = 0, off = 0;
	char *data;
	int rc = 0;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	u = find_upload(p, upload_id);
	if (u == NULL) {
		rc = ENOENT;
		goto out;
	}
	for (size_t i = 0; i < nparts; i++) {
		int n = parts[i].number;

		if (n < 1 || n > (int)BFS_ARRAY_SIZE(u->parts) ||
		    u->parts[n - 1].data == NULL) {
			rc = EINVAL;
			goto out;
		}
		total += u->parts[n - 1].size;
	}
	rc = check_cond(p, req->key, req->if_match, req->if_none_match);
	if (rc != 0)
		goto out;
	data = bfs_xmalloc(total);
	for (size_t i = 0; i < nparts; i++) {
		struct mem_part *part = &u->parts[parts[i].number - 1];

		memcpy(data + off, part->data, part->size);
		off += part->size;
	}
	store_obj(p, u->key, data, total, &u->meta, etag_out);
	drop_upload(p, u);
	if (req->answered)
		*req->answered = time(NULL);
out:
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return rc;
}

static int mem_mpu_abort(struct bfs_store *s, const char *key,
			 const char *upload_id)
{
	struct mem_priv *p = priv_of(s);
	struct mem_upload *u;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	u = find_upload(p, upload_id);
	if (u)
		drop_upload(p, u);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return u ? 0 : ENOENT;
}

static void mem_get_stats(struct bfs_store *s, struct bfs_store_stats *out)
{
	struct mem_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	*out = p->stats;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

static void mem_destroy(struct bfs_store *s)
{
	struct mem_priv *p = priv_of(s);

	while (p->n > 0)
		remove_at(p, p->n - 1);
	while (p->nuploads > 0)
		drop_upload(p, &p->uploads[0]);
	free(p->objs);
	free(p->uploads);
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p->name);
	free(p);
	free(s);
}

struct bfs_store *bfs_mem_create(const char *name)
{
	struct bfs_store *s = bfs_xcalloc(1, sizeof(*s));
	struct mem_priv *p = bfs_xcalloc(1, sizeof(*p));

	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	p->name = bfs_xstrdup(name);
	s->priv = p;
	s->name = p->name;
	s->kind = BFS_STORE_KIND_MEM;
	s->caps = BFS_CAP_IF_MATCH | BFS_CAP_IF_NONE_MATCH | BFS_CAP_MULTIPART;
	s->head = mem_head;
	s->get_range = mem_get_range;
	s->head_read = mem_head_read;
	s->tail_read = mem_tail_read;
	s->put = mem_put;
	s->del = mem_del;
	s->copy = mem_copy;
	s->list = mem_list;
	s->mpu_begin = mem_mpu_begin;
	s->mpu_part = mem_mpu_part;
	s->mpu_complete = mem_mpu_complete;
	s->mpu_abort = mem_mpu_abort;
	s->get_stats = mem_get_stats;
	s->destroy = mem_destroy;
	return s;
}
