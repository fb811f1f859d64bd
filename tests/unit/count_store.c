/*
 * count_store.c - the counting store and helpers of the cache tests
 * (see count_store.h).
 */
#include "compat.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <ftw.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/count_store.h"
#include "tests/unit/tap.h"

static struct cnt *cnt_of(struct bfs_store *s)
{
	return s->priv;
}

static int c_head(struct bfs_store *s, const char *key,
		  struct bfs_obj_info *out)
{
	struct cnt *c = cnt_of(s);

	__atomic_add_fetch(&c->heads, 1, __ATOMIC_SEQ_CST);
	return c->inner->head(c->inner, key, out);
}

static int c_get_range(struct bfs_store *s, const char *key, uint64_t off,
		       size_t len, void *buf, size_t *got, const char *if_match)
{
	struct cnt *c = cnt_of(s);
	bool fail = false;
	int rc;

	pthread_mutex_lock(&c->lock);
	if (c->gets < CNT_LENS) {
		c->lens[c->gets] = len;
		c->offs[c->gets] = off;
	}
	c->gets++;
	c->active++;
	c->peak = BFS_MAX(c->peak, c->active);
	if (c->fail_gets) {
		c->fail_gets--;
		fail = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (c->delay_us)
		usleep(c->delay_us);
	if (fail) {
		*got = 0;
		rc = EIO;
	} else {
		rc = c->inner->get_range(c->inner, key, off, len, buf, got,
					 if_match);
	}
	pthread_mutex_lock(&c->lock);
	c->active--;
	if (rc == 0)
		c->bytes += *got;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Copy [from, to) of data into the ring buf of ring bytes. */
static void ring_copy(char *buf, size_t ring, const char *data, size_t from,
		      size_t to)
{
	while (from < to) {
		size_t at = from % ring, k = BFS_MIN(to - from, ring - at);

		memcpy(buf + at, data + from, k);
		from += k;
	}
}

/* get_range, its bytes told to the sink land_step at a time as a
 * server's answer would come, stopping at hold after the first step;
 * through the sink's ring when it has one. */
static int c_get_range_sink(struct bfs_store *s, const char *key, uint64_t off,
			    size_t len, void *buf, size_t *got,
			    const char *if_match,
			    const struct bfs_range_sink *sink)
{
	struct cnt *c = cnt_of(s);
	char *data = sink->ring ? bfs_xmalloc(len) : buf;
	int rc = c_get_range(s, key, off, len, data, got, if_match);
	size_t step = c->land_step ? c->land_step
		      : sink->ring ? sink->step
				   : *got;
	size_t n = 0;

	pthread_mutex_lock(&c->lock);
	c->ring_seen = sink->ring;
	pthread_mutex_unlock(&c->lock);
	if (rc == 0 && sink->ring && c->untold && *got > sink->ring)
		rc = ENOBUFS;
	while (rc == 0 && n < *got) {
		size_t from = n;

		n = BFS_MIN(n + step, *got);
		if (sink->ring)
			ring_copy(buf, sink->ring, data, from, n);
		if (!c->untold)
			sink->landed(sink->arg, n);
		pthread_mutex_lock(&c->lock);
		if (c->hold && n < *got) {
			c->held++;
			pthread_cond_broadcast(&c->cond);
			while (c->hold)
				pthread_cond_wait(&c->cond, &c->lock);
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (data != buf)
		free(data);
	return rc;
}

void cnt_release(struct cnt *c)
{
	pthread_mutex_lock(&c->lock);
	c->hold = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

bool cnt_wait_held(struct cnt *c, unsigned n)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&c->lock);
	while (c->held < n &&
	       pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
		;
	ok = c->held >= n;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* One request, as a server sees it: counted as a GET of len when bytes
 * are asked for (a HEAD otherwise). */
static int c_head_read(struct bfs_store *s, const char *key, const char *known,
		       struct bfs_obj_info *out, void *buf, size_t len,
		       size_t *got)
{
	struct cnt *c = cnt_of(s);
	size_t n = 0;
	int rc;

	if (buf == NULL || len == 0)
		return c_head(s, key, out);
	pthread_mutex_lock(&c->lock);
	if (c->gets < CNT_LENS)
		c->lens[c->gets] = len;
	c->gets++;
	c->head_reads++;
	pthread_mutex_unlock(&c->lock);
	rc = bfs_store_head_read(c->inner, key, known, out, buf, len, &n);
	pthread_mutex_lock(&c->lock);
	if (rc == 0)
		c->bytes += n;
	pthread_mutex_unlock(&c->lock);
	if (got)
		*got = n;
	return rc;
}

static int c_put(struct bfs_store *s, const struct bfs_put_req *req,
		 char *etag_out)
{
	return cnt_of(s)->inner->put(cnt_of(s)->inner, req, etag_out);
}

static int c_del(struct bfs_store *s, const char *key)
{
	return cnt_of(s)->inner->del(cnt_of(s)->inner, key);
}

static int c_copy(struct bfs_store *s, const char *src, const char *dst,
		  const struct bfs_meta_list *meta, const char *if_match,
		  char *etag_out)
{
	struct bfs_store *in = cnt_of(s)->inner;

	return in->copy(in, src, dst, meta, if_match, etag_out);
}

static int c_list(struct bfs_store *s, const struct bfs_list_req *req,
		  struct bfs_list_result *out)
{
	struct cnt *c = cnt_of(s);

	__atomic_add_fetch(&c->lists, 1, __ATOMIC_SEQ_CST);
	return c->inner->list(c->inner, req, out);
}

static void c_destroy(struct bfs_store *s)
{
	struct cnt *c = cnt_of(s);

	if (c->own)
		c->inner->destroy(c->inner);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

struct cnt *cnt_new(struct bfs_store *inner, bool own)
{
	struct cnt *c = bfs_xcalloc(1, sizeof(*c));

	c->inner = inner;
	c->own = own;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->s.priv = c;
	c->s.name = "cnt";
	c->s.kind = "cnt";
	c->s.inner = inner;
	c->s.caps = inner->caps;
	c->s.head = c_head;
	c->s.get_range = c_get_range;
	/* the block cache's runs land through a sink: every cache test
	 * takes that way (the fs tests' stores have none) */
	c->s.get_range_sink = c_get_range_sink;
	if (inner->head_read)
		c->s.head_read = c_head_read;
	c->s.put = c_put;
	c->s.del = c_del;
	c->s.copy = c_copy;
	c->s.list = c_list;
	c->s.destroy = c_destroy;
	return c;
}

unsigned cnt_gets(struct cnt *c)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = c->gets;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void cnt_take(struct cnt *c, unsigned *gets, uint64_t *bytes)
{
	pthread_mutex_lock(&c->lock);
	*gets = c->gets;
	*bytes = c->bytes;
	c->gets = 0;
	c->bytes = 0;
	pthread_mutex_unlock(&c->lock);
}

int put_obj(struct bfs_store *s, const char *key, const char *data, size_t len,
	    char *etag)
{
	int fd = memfd_create("obj", 0);
	struct bfs_put_req req = {.key = key, .fd = fd, .size = len};
	int rc;

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		return EIO;
	}
	rc = s->put(s, &req, etag);
	close(fd);
	return rc;
}

void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 131 + seed * 7 + (i >> 12)) & 0xff);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *temp_cache_dir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = bfs_xasprintf("%s/bfs-test-%s.XXXXXX",
				  tmp && tmp[0] ? tmp : "/tmp", tag);

	if (mkdtemp(dir) != NULL)
		return dir;
	tap_ok(0, "make a temporary cache dir");
	free(dir);
	return NULL;
}

int cache_stack_open(struct cache_stack *st, struct bfs_store *inner,
		     const struct bfs_blockcache_conf *bconf,
		     const struct bfs_metacache_conf *mconf,
		     const struct bfs_prefetch_conf *pconf)
{
	struct bfs_store *s;

	memset(st, 0, sizeof(*st));
	st->cnt = cnt_new(inner, false);
	s = st->bc = bfs_blockcache_create(bconf, &st->cnt->s);
	if (s && mconf)
		s = bfs_metacache_create(mconf, s);
	if (s && pconf)
		s = st->pf = bfs_prefetch_create(pconf, s);
	st->top = s;
	if (s == NULL)
		return errno ? errno : EINVAL;
	return s->start(s);
}

void cache_stack_close(struct cache_stack *st)
{
	if (st->top == NULL)
		return;
	st->top->shutdown(st->top);
	st->top->destroy(st->top);
	st->top = NULL;
}
