/*
 * trace.c - the trace store layer (see trace.h): every operation logged
 * with its key, result and duration, then passed down unchanged.
 */
#include "compat.h"

#include <stdatomic.h>
#include <time.h>

#include "log.h"
#include "store/trace.h"

struct trace_priv {
	struct bfs_store store;
	_Atomic uint64_t calls;
	_Atomic uint64_t errors;
};

static struct trace_priv *priv_of(struct bfs_store *s)
{
	return s->priv;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Count and log one call that began at t0; returns rc. */
static int done(struct bfs_store *s, const char *op, const char *key, double t0,
		int rc)
{
	struct trace_priv *p = priv_of(s);

	atomic_fetch_add_explicit(&p->calls, 1, memory_order_relaxed);
	if (rc != 0)
		atomic_fetch_add_explicit(&p->errors, 1, memory_order_relaxed);
	bfs_dbg(BFS_DBG_STORE, "store %s: %s '%s': %s (%.1f ms)", s->name, op,
		key ? key : "", rc ? strerror(rc) : "ok", now_ms() - t0);
	return rc;
}

static int tr_head(struct bfs_store *s, const char *key,
		   struct bfs_obj_info *out)
{
	double t0 = now_ms();

	return done(s, "head", key, t0, s->inner->head(s->inner, key, out));
}

static int tr_head_read(struct bfs_store *s, const char *key, const char *known,
			struct bfs_obj_info *out, void *buf, size_t len,
			size_t *got)
{
	double t0 = now_ms();
	size_t n = 0;
	int rc = s->inner->head_read(s->inner, key, known, out, buf, len, &n);

	bfs_dbg(BFS_DBG_STORE, "store %s: head_read '%s' 0+%zu: %zu bytes",
		s->name, key, len, n);
	if (got)
		*got = n;
	return done(s, "head_read", key, t0, rc);
}

/* The line and the count of a range read, with or without a sink. */
static int range_done(struct bfs_store *s, const char *key, uint64_t off,
		      size_t len, const size_t *got, double t0, int rc)
{
	bfs_dbg(BFS_DBG_STORE, "store %s: get_range '%s' %llu+%zu: %zu bytes",
		s->name, key, (unsigned long long)off, len, rc ? 0 : *got);
	return done(s, "get_range", key, t0, rc);
}

static int tr_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	double t0 = now_ms();
	int rc = s->inner->get_range(s->inner, key, off, len, buf, got,
				     if_match);

	return range_done(s, key, off, len, got, t0, rc);
}

static int tr_get_range_sink(struct bfs_store *s, const char *key, uint64_t off,
			     size_t len, void *buf, size_t *got,
			     const char *if_match,
			     const struct bfs_range_sink *sink)
{
	double t0 = now_ms();
	int rc = s->inner->get_range_sink(s->inner, key, off, len, buf, got,
					  if_match, sink);

	return range_done(s, key, off, len, got, t0, rc);
}

static int tr_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	double t0 = now_ms();

	return done(s, "put", req->key, t0,
		    s->inner->put(s->inner, req, etag_out));
}

static int tr_del(struct bfs_store *s, const char *key)
{
	double t0 = now_ms();

	return done(s, "del", key, t0, s->inner->del(s->inner, key));
}

static int tr_copy(struct bfs_store *s, const char *src, const char *dst,
		   const struct bfs_meta_list *meta, const char *if_match,
		   char *etag_out)
{
	double t0 = now_ms();

	return done(
		s, "copy", dst, t0,
		s->inner->copy(s->inner, src, dst, meta, if_match, etag_out));
}

static int tr_list(struct bfs_store *s, const struct bfs_list_req *req,
		   struct bfs_list_result *out)
{
	double t0 = now_ms();

	if (req->cached_only) /* asks whether a request is needed */
		return s->inner->list(s->inner, req, out);
	return done(s, "list", req->prefix, t0,
		    s->inner->list(s->inner, req, out));
}

static int tr_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			char **upload_id)
{
	double t0 = now_ms();

	return done(s, "mpu_begin", req->key, t0,
		    s->inner->mpu_begin(s->inner, req, upload_id));
}

static int tr_mpu_part(struct bfs_store *s, const char *key,
		       const char *upload_id, int number, int fd, off_t off,
		       size_t len, char *etag_out)
{
	double t0 = now_ms();

	return done(s, "mpu_part", key, t0,
		    s->inner->mpu_part(s->inner, key, upload_id, number, fd,
				       off, len, etag_out));
}

static int tr_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, char *etag_out)
{
	double t0 = now_ms();

	return done(s, "mpu_complete", req->key, t0,
		    s->inner->mpu_complete(s->inner, req, upload_id, parts,
					   nparts, etag_out));
}

static int tr_mpu_abort(struct bfs_store *s, const char *key,
			const char *upload_id)
{
	double t0 = now_ms();

	return done(s, "mpu_abort", key, t0,
		    s->inner->mpu_abort(s->inner, key, upload_id));
}

static int tr_warm(struct bfs_store *s, const char *key, const char *etag,
		   uint64_t off, uint64_t len)
{
	double t0 = now_ms();

	return done(s, "warm", key, t0,
		    s->inner->warm(s->inner, key, etag, off, len));
}

static void tr_destroy(struct bfs_store *s)
{
	bfs_store_undecorate(s);
	free(priv_of(s));
}

struct bfs_store *bfs_trace_create(struct bfs_store *inner)
{
	struct trace_priv *p = bfs_xcalloc(1, sizeof(*p));
	struct bfs_store *s = &p->store;

	s->head = tr_head;
	if (inner->head_read)
		s->head_read = tr_head_read;
	s->get_range = tr_get_range;
	if (inner->get_range_sink)
		s->get_range_sink = tr_get_range_sink;
	s->put = tr_put;
	s->del = tr_del;
	s->copy = tr_copy;
	s->list = tr_list;
	s->mpu_begin = tr_mpu_begin;
	s->mpu_part = tr_mpu_part;
	s->mpu_complete = tr_mpu_complete;
	s->mpu_abort = tr_mpu_abort;
	if (inner->warm)
		s->warm = tr_warm;
	s->destroy = tr_destroy;
	bfs_store_decorate(s, p, inner, BFS_STORE_KIND_TRACE, "trace");
	return s;
}

void bfs_trace_get_stats(struct bfs_store *s, struct bfs_trace_stats *out)
{
	struct trace_priv *p = priv_of(s);

	out->calls = atomic_load_explicit(&p->calls, memory_order_relaxed);
	out->errors = atomic_load_explicit(&p->errors, memory_order_relaxed);
}
