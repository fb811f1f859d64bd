/*
 * times.c - the table of times this mount knows but has not stored
 * (times.h): a chained hash of (store, key) with a noted atime, mtime
 * and ctime each.
 */
#include "compat.h"

#include "fs/times.h"

struct bfs_times_entry {
	struct bfs_times_entry *next;
	const struct bfs_store *store;
	char *key;
	unsigned which; /* the BFS_TIME_* noted */
	struct timespec t[3];
};

static bool ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static size_t hash(const struct bfs_store *s, const char *key, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)s;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ull;
	return (size_t)(h % n);
}

void bfs_times_init(struct bfs_times *t)
{
	memset(t, 0, sizeof(*t));
	BFS_PCHECK(pthread_mutex_init(&t->lock, NULL));
	t->nbuckets = 4096;
	t->buckets = bfs_xcalloc(t->nbuckets, sizeof(*t->buckets));
}

/* Free every entry; t->lock held (or no other user). */
static void clear(struct bfs_times *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		while (t->buckets[i]) {
			struct bfs_times_entry *e = t->buckets[i];

			t->buckets[i] = e->next;
			free(e->key);
			free(e);
		}
	}
	t->count = 0;
}

void bfs_times_release(struct bfs_times *t)
{
	clear(t);
	free(t->buckets);
	BFS_PCHECK(pthread_mutex_destroy(&t->lock));
}

static struct bfs_times_entry *find(struct bfs_times *t,
				    const struct bfs_node *node, size_t *slot)
{
	struct bfs_times_entry *e;

	*slot = hash(node->store, node->key, t->nbuckets);
	for (e = t->buckets[*slot]; e; e = e->next)
		if (e->store == node->store && strcmp(e->key, node->key) == 0)
			return e;
	return NULL;
}

void bfs_times_note(struct bfs_times *t, const struct bfs_node *node,
		    unsigned which, const struct timespec *ts)
{
	struct bfs_times_entry *e;
	size_t slot;

	if (node->store == NULL || node->key == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&t->lock));
	e = find(t, node, &slot);
	if (e == NULL) {
		if (t->count >= BFS_TIMES_MAX)
			clear(t); /* bounded memory; the bucket's times stand */
		e = bfs_xcalloc(1, sizeof(*e));
		e->store = node->store;
		e->key = bfs_xstrdup(node->key);
		e->next = t->buckets[slot];
		t->buckets[slot] = e;
		t->count++;
	}
	for (unsigned i = 0; i < 3; i++) {
		if (!(which & (1u << i)))
			continue;
		if (!(e->which & (1u << i)) || ts_before(e->t[i], *ts))
			e->t[i] = *ts;
		e->which |= 1u << i;
	}
	BFS_PCHECK(pthread_mutex_unlock(&t->lock));
}

void bfs_times_forget(struct bfs_times *t, const struct bfs_node *node,
		      unsigned which)
{
	struct bfs_times_entry *e;
	size_t slot;

	if (node->store == NULL || node->key == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&t->lock));
	e = find(t, node, &slot);
	if (e)
		e->which &= ~which;
	BFS_PCHECK(pthread_mutex_unlock(&t->lock));
}

void bfs_times_apply(struct bfs_times *t, const struct bfs_node *node,
		     struct stat *st)
{
	struct timespec *dst[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
	struct bfs_times_entry *e;
	size_t slot;

	if (node->store == NULL || node->key == NULL)
		return;
	BFS_PCHECK(pthread_mutex_lock(&t->lock));
	e = find(t, node, &slot);
	for (unsigned i = 0; e && i < 3; i++)
		if ((e->which & (1u << i)) && ts_before(*dst[i], e->t[i]))
			*dst[i] = e->t[i];
	BFS_PCHECK(pthread_mutex_unlock(&t->lock));
}
