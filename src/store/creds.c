/*
 * creds.c - credential sources and the refresh of temporary keys (see
 * creds.h).
 */
#include "compat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "store/creds.h"
#include "util.h"

/* refresh when less than this remains (and less than half the life) */
#define REFRESH_BEFORE 300
/* a failed refresh of keys still valid is tried again after this */
#define RETRY_PAUSE 5

struct bfs_creds {
	char *name;
	bfs_creds_fetch_fn fetch;
	void *arg;
	void (*free_arg)(void *);
	bool fixed;
	/* sources replaced by bfs_creds_replace() while a fetch of theirs
	 * may run: freed with this one */
	struct bfs_creds *retired;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct bfs_cred_set *cur; /* protected by lock */
	time_t fetched_at;	  /* protected by lock */
	time_t retry_at;	  /* protected by lock: no refresh before */
	bool fetching;		  /* protected by lock */
	int last_rc;		  /* protected by lock: of the last fetch */
	char last_err[512];	  /* protected by lock */
	bool logged;		  /* protected by lock: last_err was logged */
	unsigned long fetches, failures; /* protected by lock */
	/* protected by lock: raised by bfs_creds_replace(), so a fetch of
	 * the replaced source that ends afterwards is thrown away */
	unsigned generation;
};

struct bfs_cred_set *bfs_cred_set_new(const char *access_key_id,
				      const char *secret_access_key,
				      const char *session_token,
				      time_t expiration)
{
	size_t la, ls, lt, maplen;
	struct bfs_cred_set *s;
	char *m;

	if (!access_key_id || !access_key_id[0] || !secret_access_key ||
	    !secret_access_key[0]) {
		errno = EINVAL;
		return NULL;
	}
	la = strlen(access_key_id) + 1;
	ls = strlen(secret_access_key) + 1;
	lt = session_token && session_token[0] ? strlen(session_token) + 1 : 0;
	/* a failed lock (RLIMIT_MEMLOCK) leaves the keys swappable and is
	 * logged once per process, not for every refresh */
	m = bfs_locked_alloc(la + ls + lt, &maplen);
	if (!m)
		return NULL;
	s = bfs_xcalloc(1, sizeof(*s));
	s->page = m;
	s->page_len = maplen;
	memcpy(m, access_key_id, la);
	s->access_key_id = m;
	memcpy(m + la, secret_access_key, ls);
	s->secret_access_key = m + la;
	if (lt) {
		memcpy(m + la + ls, session_token, lt);
		s->session_token = m + la + ls;
	}
	s->expiration = expiration;
	s->refs = 1;
	return s;
}

void bfs_cred_set_put(struct bfs_cred_set *s)
{
	if (!s || atomic_fetch_sub_explicit((_Atomic int *)&s->refs, 1,
					    memory_order_acq_rel) != 1)
		return;
	bfs_locked_free(s->page, s->page_len);
	free(s);
}

static struct bfs_cred_set *set_get(struct bfs_cred_set *s)
{
	atomic_fetch_add_explicit((_Atomic int *)&s->refs, 1,
				  memory_order_relaxed);
	return s;
}

static struct bfs_creds *creds_new(const char *name)
{
	struct bfs_creds *c = bfs_xcalloc(1, sizeof(*c));

	c->name = bfs_xstrdup(name ? name : "credentials");
	BFS_PCHECK(pthread_mutex_init(&c->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&c->cond, NULL));
	return c;
}

struct bfs_creds *bfs_creds_create(const char *name, bfs_creds_fetch_fn fetch,
				   void *arg, void (*free_arg)(void *))
{
	struct bfs_creds *c = creds_new(name);

	c->fetch = fetch;
	c->arg = arg;
	c->free_arg = free_arg;
	return c;
}

struct bfs_creds *bfs_creds_fixed(const char *name, const char *access_key_id,
				  const char *secret_access_key,
				  const char *session_token)
{
	struct bfs_cred_set *s;
	struct bfs_creds *c;

	s = bfs_cred_set_new(access_key_id, secret_access_key, session_token,
			     0);
	if (!s)
		return NULL;
	c = creds_new(name);
	c->fixed = true;
	c->cur = s;
	return c;
}

struct bfs_creds *bfs_creds_failing(const char *name, int rc, const char *msg)
{
	struct bfs_creds *c = creds_new(name);

	c->fixed = true;
	c->last_rc = rc ? rc : EACCES;
	snprintf(c->last_err, sizeof(c->last_err), "%s", msg);
	return c;
}

bool bfs_creds_refreshes(const struct bfs_creds *c)
{
	return c && c->fetch;
}

/* Whether s should be fetched again at now (lock held). */
static bool stale(const struct bfs_creds *c, time_t now)
{
	time_t life, margin;

	if (!c->cur)
		return true;
	if (!c->cur->expiration)
		return false;
	life = c->cur->expiration - c->fetched_at;
	margin = life / 2 < REFRESH_BEFORE ? life / 2 : REFRESH_BEFORE;
	return now >= c->cur->expiration - margin;
}

static bool usable(const struct bfs_creds *c, time_t now)
{
	return c->cur && (!c->cur->expiration || now < c->cur->expiration);
}

/* One fetch by this thread; called and returns with the lock held. */
static void fetch_locked(struct bfs_creds *c)
{
	struct bfs_cred_set *s = NULL;
	unsigned gen = c->generation;
	bfs_creds_fetch_fn fetch = c->fetch;
	void *arg = c->arg;
	char err[512] = "";
	int rc;

	c->fetching = true;
	BFS_PCHECK(pthread_mutex_unlock(&c->lock));
	rc = fetch(arg, &s, err, sizeof(err));
	if (rc == 0 && !s)
		rc = EIO;
	BFS_PCHECK(pthread_mutex_lock(&c->lock));
	if (gen != c->generation) {
		/* the source was replaced meanwhile: its keys are not ours,
		 * and `fetching` now belongs to the new source */
		bfs_cred_set_put(s);
		return;
	}
	c->fetching = false;
	if (rc == 0) {
		bfs_cred_set_put(c->cur);
		c->cur = s;
		c->fetched_at = time(NULL);
		c->retry_at = 0;
		c->fetches++;
		if (c->last_rc)
			bfs_log(LOG_NOTICE, "%s: credentials available again",
				c->name);
		c->last_rc = 0;
		c->last_err[0] = '\0';
		c->logged = false;
	} else {
		c->failures++;
		c->retry_at = time(NULL) + RETRY_PAUSE;
		if (!err[0])
			snprintf(err, sizeof(err), "cannot get credentials: %s",
				 strerror(rc));
		if (!c->logged || strcmp(err, c->last_err) != 0) {
			bfs_log(c->cur ? LOG_WARNING : LOG_ERR, "%s: %s%s",
				c->name, err,
				c->cur ? " (the current keys are used until "
					 "they expire)"
				       : "");
			c->logged = true;
		}
		c->last_rc = rc;
		snprintf(c->last_err, sizeof(c->last_err), "%s", err);
	}
	BFS_PCHECK(pthread_cond_broadcast(&c->cond));
}

int bfs_creds_get(struct bfs_creds *c, struct bfs_cred_set **out, char *err,
		  size_t errlen)
{
	time_t now = time(NULL);
	int rc = 0;

	*out = NULL;
	BFS_PCHECK(pthread_mutex_lock(&c->lock));
	if (c->fixed) {
		if (c->cur) {
			*out = set_get(c->cur);
		} else {
			rc = c->last_rc;
			if (!c->logged) {
				bfs_log(LOG_ERR, "%s: %s", c->name,
					c->last_err);
				c->logged = true;
			}
		}
		goto out;
	}
	if (stale(c, now) && !c->fetching && now >= c->retry_at) {
		fetch_locked(c);
		now = time(NULL);
	}
	/* keys still valid: use them while another thread refreshes */
	while (!usable(c, now) && c->fetching) {
		BFS_PCHECK(pthread_cond_wait(&c->cond, &c->lock));
		now = time(NULL);
	}
	if (usable(c, now)) {
		*out = set_get(c->cur);
		goto out;
	}
	if (now >= c->retry_at) {
		/* expired, and no failed fetch in the last pause: try now */
		fetch_locked(c);
		now = time(NULL);
		if (usable(c, now)) {
			*out = set_get(c->cur);
			goto out;
		}
	}
	rc = c->last_rc ? c->last_rc : EACCES;
out:
	if (rc && err && errlen)
		snprintf(err, errlen, "%s", c->last_err);
	BFS_PCHECK(pthread_mutex_unlock(&c->lock));
	return rc;
}

void bfs_creds_invalidate(struct bfs_creds *c, const struct bfs_cred_set *used)
{
	if (!c || c->fixed)
		return;
	BFS_PCHECK(pthread_mutex_lock(&c->lock));
	if (c->cur == used && !c->fetching) {
		bfs_log(LOG_NOTICE,
			"%s: the server refused the temporary keys; fetching "
			"new ones",
			c->name);
		bfs_cred_set_put(c->cur);
		c->cur = NULL;
		c->retry_at = 0;
	}
	BFS_PCHECK(pthread_mutex_unlock(&c->lock));
}

void bfs_creds_get_stats(struct bfs_creds *c, struct bfs_creds_stats *out)
{
	BFS_PCHECK(pthread_mutex_lock(&c->lock));
	out->fetches = c->fetches;
	out->failures = c->failures;
	BFS_PCHECK(pthread_mutex_unlock(&c->lock));
}

void bfs_creds_replace(struct bfs_creds *c, struct bfs_creds *with)
{
	struct bfs_creds *old = bfs_xcalloc(1, sizeof(*old));

	BFS_PCHECK(pthread_mutex_lock(&with->lock));
	BFS_PCHECK(pthread_mutex_lock(&c->lock));
	/* c's current source moves into a shell kept until c is freed: a
	 * fetch of it may still be running with its arg */
	old->fetch = c->fetch;
	old->arg = c->arg;
	old->free_arg = c->free_arg;
	old->cur = c->cur;
	old->retired = c->retired;
	c->retired = old;
	c->fetch = with->fetch;
	c->arg = with->arg;
	c->free_arg = with->free_arg;
	c->fixed = with->fixed;
	c->cur = with->cur;
	c->fetched_at = with->fetched_at;
	c->retry_at = 0;
	c->fetching = false;
	c->last_rc = with->last_rc;
	snprintf(c->last_err, sizeof(c->last_err), "%s", with->last_err);
	c->logged = false;
	c->generation++;
	with->fetch = NULL;
	with->arg = NULL;
	with->free_arg = NULL;
	with->cur = NULL;
	/* waiters for the old source's fetch look again at the new one */
	BFS_PCHECK(pthread_cond_broadcast(&c->cond));
	BFS_PCHECK(pthread_mutex_unlock(&c->lock));
	BFS_PCHECK(pthread_mutex_unlock(&with->lock));
	bfs_creds_free(with);
}

void bfs_creds_free(struct bfs_creds *c)
{
	if (!c)
		return;
	while (c->retired) {
		struct bfs_creds *r = c->retired;

		c->retired = r->retired;
		bfs_cred_set_put(r->cur);
		if (r->free_arg)
			r->free_arg(r->arg);
		free(r);
	}
	bfs_cred_set_put(c->cur);
	if (c->free_arg)
		c->free_arg(c->arg);
	BFS_PCHECK(pthread_cond_destroy(&c->cond));
	BFS_PCHECK(pthread_mutex_destroy(&c->lock));
	free(c->name);
	free(c);
}

int bfs_creds_parse_time(const char *s, time_t *out)
{
	struct tm tm = {0};
	int n = 0;
	time_t t;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return EINVAL;
	s += n;
	if (*s == '.')
		while (*++s >= '0' && *s <= '9')
			;
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0 &&
	    strcmp(s, "UTC") != 0 && *s)
		return EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return EINVAL;
	*out = t;
	return 0;
}
