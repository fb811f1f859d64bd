/*
 * fault.c - the fault store layer (see fault.h): armed errors and short
 * reads, counted; everything else goes down unchanged.
 */
#include "compat.h"

#include <pthread.h>

#include "store/fault.h"

struct fault_priv {
	struct bfs_store store;
	pthread_mutex_t lock;
	/* protected by lock */
	char op[16];
	int err;
	unsigned n;
	size_t short_max;
	unsigned short_n;
	uint64_t injected;
};

static struct fault_priv *priv_of(struct bfs_store *s)
{
	return s->priv;
}

/* The errno to inject into this call of op, or 0 (and count it). */
static int take(struct bfs_store *s, const char *op)
{
	struct fault_priv *p = priv_of(s);
	int err = 0;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (p->n > 0 && (strcmp(p->op, "*") == 0 || strcmp(p->op, op) == 0)) {
		p->n--;
		p->injected++;
		err = p->err;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return err;
}

static int ft_head(struct bfs_store *s, const char *key,
		   struct bfs_obj_info *out)
{
	int err = take(s, "head");

	return err ? err : s->inner->head(s->inner, key, out);
}

static int ft_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	struct fault_priv *p = priv_of(s);
	int err = take(s, "get_range");

	if (err)
		return err;
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (p->short_n > 0 && len > p->short_max) {
		p->short_n--;
		p->injected++;
		len = p->short_max;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return s->inner->get_range(s->inner, key, off, len, buf, got, if_match);
}

static int ft_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	int err = take(s, "put");

	return err ? err : s->inner->put(s->inner, req, etag_out);
}

static int ft_del(struct bfs_store *s, const char *key)
{
	int err = take(s, "del");

	return err ? err : s->inner->del(s->inner, key);
}

static int ft_copy(struct bfs_store *s, const char *src, const char *dst,
		   const struct bfs_meta_list *meta, const char *if_match,
		   char *etag_out)
{
	int err = take(s, "copy");

	return err ? err
		   : s->inner->copy(s->inner, src, dst, meta, if_match,
				    etag_out);
}

static int ft_list(struct bfs_store *s, const struct bfs_list_req *req,
		   struct bfs_list_result *out)
{
	/* a cached_only listing sends nothing: no fault to take */
	int err = req->cached_only ? 0 : take(s, "list");

	return err ? err : s->inner->list(s->inner, req, out);
}

static int ft_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			char **upload_id)
{
	int err = take(s, "mpu_begin");

	return err ? err : s->inner->mpu_begin(s->inner, req, upload_id);
}

static int ft_mpu_part(struct bfs_store *s, const char *key,
		       const char *upload_id, int number, int fd, off_t off,
		       size_t len, char *etag_out)
{
	int err = take(s, "mpu_part");

	return err ? err
		   : s->inner->mpu_part(s->inner, key, upload_id, number, fd,
					off, len, etag_out);
}

static int ft_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, char *etag_out)
{
	int err = take(s, "mpu_complete");

	return err ? err
		   : s->inner->mpu_complete(s->inner, req, upload_id, parts,
					    nparts, etag_out);
}

static int ft_mpu_abort(struct bfs_store *s, const char *key,
			const char *upload_id)
{
	int err = take(s, "mpu_abort");

	return err ? err : s->inner->mpu_abort(s->inner, key, upload_id);
}

static int ft_warm(struct bfs_store *s, const char *key, const char *etag,
		   uint64_t off, uint64_t len)
{
	int err = take(s, "warm");

	return err ? err : s->inner->warm(s->inner, key, etag, off, len);
}

static void ft_destroy(struct bfs_store *s)
{
	struct fault_priv *p = priv_of(s);

	bfs_store_undecorate(s);
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p);
}

struct bfs_store *bfs_fault_create(struct bfs_store *inner)
{
	struct fault_priv *p = bfs_xcalloc(1, sizeof(*p));
	struct bfs_store *s = &p->store;

	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	s->head = ft_head;
	s->get_range = ft_get_range;
	s->put = ft_put;
	s->del = ft_del;
	s->copy = ft_copy;
	s->list = ft_list;
	s->mpu_begin = ft_mpu_begin;
	s->mpu_part = ft_mpu_part;
	s->mpu_complete = ft_mpu_complete;
	s->mpu_abort = ft_mpu_abort;
	if (inner->warm)
		s->warm = ft_warm;
	s->destroy = ft_destroy;
	bfs_store_decorate(s, p, inner, BFS_STORE_KIND_FAULT, "fault");
	return s;
}

void bfs_fault_arm(struct bfs_store *s, const char *op, int err, unsigned n)
{
	struct fault_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	snprintf(p->op, sizeof(p->op), "%s", op);
	p->err = err;
	p->n = n;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

void bfs_fault_short_reads(struct bfs_store *s, size_t max, unsigned n)
{
	struct fault_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	p->short_max = max;
	p->short_n = n;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

uint64_t bfs_fault_injected(struct bfs_store *s)
{
	struct fault_priv *p = priv_of(s);
	uint64_t n;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	n = p->injected;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return n;
}
