/*
 * slow.c - the slow store layer (see slow.h): rules that delay or hold
 * matching calls, and the list of every call passed down.
 */
#include "compat.h"

#include <pthread.h>
#include <time.h>

#include "store/slow.h"

/* Calls written down at most: a test counts windows of a few hundred;
 * a soak that never counts stops recording here. */
#define LOG_MAX (1u << 20)

struct slow_rule {
	bool active;
	bool gate;
	char op[16];
	char *prefix;
	unsigned delay_ms;
	unsigned held; /* calls waiting at the gate */
	uint64_t gen;  /* bumped when opened: what held calls wait for */
};

struct slow_call {
	const char *op; /* a string constant */
	char *key;
	char *key2; /* a copy's source, else NULL */
};

struct slow_priv {
	struct bfs_store store;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a gate opened, a call arrived at one */
	/* protected by lock */
	struct slow_rule rules[BFS_SLOW_RULES];
	struct slow_call *log;
	size_t nlog, cap;
	uint64_t unlogged; /* calls past LOG_MAX */
};

static struct slow_priv *priv_of(struct bfs_store *s)
{
	return s->priv;
}

static bool starts(const char *key, const char *prefix)
{
	return key && strncmp(key, prefix, strlen(prefix)) == 0;
}

static bool op_is(const char *want, const char *op)
{
	return strcmp(want, "*") == 0 || strcmp(want, op) == 0;
}

static struct timespec deadline_in(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Wait on changed until the deadline; lock held. @return whether it
 * passed. */
static bool wait_until(struct slow_priv *p, const struct timespec *until)
{
	int rc = pthread_cond_timedwait(&p->changed, &p->lock, until);

	if (rc != 0 && rc != ETIMEDOUT)
		BFS_BUG("pthread_cond_timedwait: %s", strerror(rc));
	return rc == ETIMEDOUT;
}

static void note(struct slow_priv *p, const char *op, const char *key,
		 const char *key2)
{
	struct slow_call *c;

	if (p->nlog == LOG_MAX) {
		p->unlogged++;
		return;
	}
	if (p->nlog == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->log = bfs_xrealloc(p->log, p->cap * sizeof(*p->log));
	}
	c = &p->log[p->nlog++];
	c->op = op;
	c->key = bfs_xstrdup(key ? key : "");
	c->key2 = key2 ? bfs_xstrdup(key2) : NULL;
}

/*
 * What every call does before it goes down: wait as the first rule that
 * matches says, then write the call down.
 */
static void enter(struct bfs_store *s, const char *op, const char *key,
		  const char *key2)
{
	struct slow_priv *p = priv_of(s);
	struct slow_rule *r = NULL;
	struct timespec until;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (int i = 0; i < BFS_SLOW_RULES && !r; i++) {
		struct slow_rule *c = &p->rules[i];

		if (c->active && op_is(c->op, op) &&
		    (starts(key, c->prefix) || starts(key2, c->prefix)))
			r = c;
	}
	if (r && r->delay_ms) {
		until = deadline_in(r->delay_ms);
		while (!wait_until(p, &until))
			;
	}
	if (r && r->gate && r->active) {
		uint64_t gen = r->gen;

		r->held++;
		BFS_PCHECK(pthread_cond_broadcast(&p->changed));
		while (r->gen == gen)
			BFS_PCHECK(pthread_cond_wait(&p->changed, &p->lock));
	}
	note(p, op, key, key2);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

static int sl_head(struct bfs_store *s, const char *key,
		   struct bfs_obj_info *out)
{
	enter(s, "head", key, NULL);
	return s->inner->head(s->inner, key, out);
}

static int sl_tail_read(struct bfs_store *s, const char *key,
			struct bfs_obj_info *out, void *buf, size_t len,
			size_t *got)
{
	enter(s, "tail_read", key, NULL);
	return s->inner->tail_read(s->inner, key, out, buf, len, got);
}

static int sl_get_range(struct bfs_store *s, const char *key, uint64_t off,
			size_t len, void *buf, size_t *got,
			const char *if_match)
{
	enter(s, "get_range", key, NULL);
	return s->inner->get_range(s->inner, key, off, len, buf, got, if_match);
}

static int sl_put(struct bfs_store *s, const struct bfs_put_req *req,
		  char *etag_out)
{
	enter(s, "put", req->key, NULL);
	return s->inner->put(s->inner, req, etag_out);
}

static int sl_del(struct bfs_store *s, const char *key)
{
	enter(s, "del", key, NULL);
	return s->inner->del(s->inner, key);
}

static int sl_copy(struct bfs_store *s, const char *src, const char *dst,
		   const struct bfs_meta_list *meta, const char *if_match,
		   char *etag_out)
{
	enter(s, "copy", dst, src);
	return s->inner->copy(s->inner, src, dst, meta, if_match, etag_out);
}

static int sl_list(struct bfs_store *s, const struct bfs_list_req *req,
		   struct bfs_list_result *out)
{
	enter(s, "list", req->prefix, NULL);
	return s->inner->list(s->inner, req, out);
}

static int sl_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
			char **upload_id)
{
	enter(s, "mpu_begin", req->key, NULL);
	return s->inner->mpu_begin(s->inner, req, upload_id);
}

static int sl_mpu_part(struct bfs_store *s, const char *key,
		       const char *upload_id, int number, int fd, off_t off,
		       size_t len, char *etag_out)
{
	enter(s, "mpu_part", key, NULL);
	return s->inner->mpu_part(s->inner, key, upload_id, number, fd, off,
				  len, etag_out);
}

static int sl_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
			   const char *upload_id, const struct bfs_part *parts,
			   size_t nparts, char *etag_out)
{
	enter(s, "mpu_complete", req->key, NULL);
	return s->inner->mpu_complete(s->inner, req, upload_id, parts, nparts,
				      etag_out);
}

static int sl_mpu_abort(struct bfs_store *s, const char *key,
			const char *upload_id)
{
	enter(s, "mpu_abort", key, NULL);
	return s->inner->mpu_abort(s->inner, key, upload_id);
}

static int sl_warm(struct bfs_store *s, const char *key, const char *etag,
		   uint64_t off, uint64_t len)
{
	enter(s, "warm", key, NULL);
	return s->inner->warm(s->inner, key, etag, off, len);
}

static void forget_locked(struct slow_priv *p)
{
	for (size_t i = 0; i < p->nlog; i++) {
		free(p->log[i].key);
		free(p->log[i].key2);
	}
	p->nlog = 0;
	p->unlogged = 0;
}

static void sl_destroy(struct bfs_store *s)
{
	struct slow_priv *p = priv_of(s);

	bfs_store_undecorate(s);
	forget_locked(p);
	free(p->log);
	for (int i = 0; i < BFS_SLOW_RULES; i++)
		free(p->rules[i].prefix);
	BFS_PCHECK(pthread_cond_destroy(&p->changed));
	BFS_PCHECK(pthread_mutex_destroy(&p->lock));
	free(p);
}

struct bfs_store *bfs_slow_create(struct bfs_store *inner)
{
	struct slow_priv *p = bfs_xcalloc(1, sizeof(*p));
	struct bfs_store *s = &p->store;
	pthread_condattr_t ca;

	BFS_PCHECK(pthread_mutex_init(&p->lock, NULL));
	BFS_PCHECK(pthread_condattr_init(&ca));
	BFS_PCHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
	BFS_PCHECK(pthread_cond_init(&p->changed, &ca));
	BFS_PCHECK(pthread_condattr_destroy(&ca));
	s->head = sl_head;
	if (inner->tail_read)
		s->tail_read = sl_tail_read;
	s->get_range = sl_get_range;
	s->put = sl_put;
	s->del = sl_del;
	s->copy = sl_copy;
	s->list = sl_list;
	s->mpu_begin = sl_mpu_begin;
	s->mpu_part = sl_mpu_part;
	s->mpu_complete = sl_mpu_complete;
	s->mpu_abort = sl_mpu_abort;
	if (inner->warm)
		s->warm = sl_warm;
	s->destroy = sl_destroy;
	bfs_store_decorate(s, p, inner, BFS_STORE_KIND_SLOW, "slow");
	return s;
}

int bfs_slow_rule(struct bfs_store *s, const char *op, const char *prefix,
		  unsigned delay_ms, bool gate)
{
	struct slow_priv *p = priv_of(s);
	int id = -1;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	for (int i = 0; i < BFS_SLOW_RULES && id < 0; i++) {
		struct slow_rule *r = &p->rules[i];

		if (r->active)
			continue;
		snprintf(r->op, sizeof(r->op), "%s", op);
		free(r->prefix);
		r->prefix = bfs_xstrdup(prefix);
		r->delay_ms = delay_ms;
		r->gate = gate;
		r->active = true;
		id = i;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return id;
}

void bfs_slow_open(struct bfs_store *s, int rule)
{
	struct slow_priv *p = priv_of(s);
	struct slow_rule *r;

	if (rule < 0 || rule >= BFS_SLOW_RULES)
		BFS_BUG("no slow rule %d", rule);
	r = &p->rules[rule];
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	r->active = false;
	r->gen++;
	r->held = 0;
	BFS_PCHECK(pthread_cond_broadcast(&p->changed));
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}

int bfs_slow_wait_held(struct bfs_store *s, int rule, unsigned n,
		       unsigned timeout_ms)
{
	struct slow_priv *p = priv_of(s);
	struct timespec until = deadline_in(timeout_ms);
	int rc = 0;

	if (rule < 0 || rule >= BFS_SLOW_RULES)
		BFS_BUG("no slow rule %d", rule);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	while (p->rules[rule].held < n && rc == 0)
		if (wait_until(p, &until) && p->rules[rule].held < n)
			rc = ETIMEDOUT;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return rc;
}

unsigned bfs_slow_held(struct bfs_store *s, int rule)
{
	struct slow_priv *p = priv_of(s);
	unsigned n;

	if (rule < 0 || rule >= BFS_SLOW_RULES)
		BFS_BUG("no slow rule %d", rule);
	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	n = p->rules[rule].held;
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return n;
}

unsigned bfs_slow_count(struct bfs_store *s, const char *op, const char *prefix)
{
	struct slow_priv *p = priv_of(s);
	unsigned n = 0;

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	if (p->unlogged)
		BFS_BUG("slow layer: counting after %llu calls went unlogged",
			(unsigned long long)p->unlogged);
	for (size_t i = 0; i < p->nlog; i++) {
		const struct slow_call *c = &p->log[i];

		if (op_is(op, c->op) &&
		    (starts(c->key, prefix) || starts(c->key2, prefix)))
			n++;
	}
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
	return n;
}

void bfs_slow_forget(struct bfs_store *s)
{
	struct slow_priv *p = priv_of(s);

	BFS_PCHECK(pthread_mutex_lock(&p->lock));
	forget_locked(p);
	BFS_PCHECK(pthread_mutex_unlock(&p->lock));
}
