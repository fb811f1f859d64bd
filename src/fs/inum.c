/*
 * inum.c - the numbers of forgotten inodes (see inum.h): a hash of
 * (parent, name) with its entries in a list, oldest first, so the
 * memory stays bounded.
 */
#include "compat.h"

#include "fs/inum.h"

/* chains of 4 when full */
#define BFS_INUM_BUCKETS (BFS_INUM_MAX / 4)

struct bfs_inum {
	fuse_ino_t parent, ino;
	enum bfs_node_type type;
	uint64_t broken; /* see bfs_inums_put */
	char *name;
	struct bfs_inum *next_hash;
	struct bfs_inum *older, *newer;
};

static size_t bucket_of(fuse_ino_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29)) & (BFS_INUM_BUCKETS - 1);
}

void bfs_inums_init(struct bfs_inums *m)
{
	memset(m, 0, sizeof(*m));
	m->buckets = bfs_xcalloc(BFS_INUM_BUCKETS, sizeof(*m->buckets));
}

void bfs_inums_release(struct bfs_inums *m)
{
	struct bfs_inum *e = m->oldest;

	while (e) {
		struct bfs_inum *next = e->newer;

		free(e->name);
		free(e);
		e = next;
	}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

/* The entry of parent/name, unlinked from its bucket and from the list. */
static struct bfs_inum *unhook(struct bfs_inums *m, fuse_ino_t parent,
			       const char *name)
{
	struct bfs_inum **pp = &m->buckets[bucket_of(parent, name)], *e;

	while (*pp &&
	       !((*pp)->parent == parent && strcmp((*pp)->name, name) == 0))
		pp = &(*pp)->next_hash;
	e = *pp;
	if (e == NULL)
		return NULL;
	*pp = e->next_hash;
	if (e->older)
		e->older->newer = e->newer;
	else
		m->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		m->newest = e->older;
	m->count--;
	return e;
}

static void hook(struct bfs_inums *m, struct bfs_inum *e)
{
	size_t b = bucket_of(e->parent, e->name);

	e->next_hash = m->buckets[b];
	m->buckets[b] = e;
	e->newer = NULL;
	e->older = m->newest;
	if (m->newest)
		m->newest->newer = e;
	else
		m->oldest = e;
	m->newest = e;
	m->count++;
}

static void free_inum(struct bfs_inum *e)
{
	if (e) {
		free(e->name);
		free(e);
	}
}

void bfs_inums_put(struct bfs_inums *m, fuse_ino_t parent, const char *name,
		   enum bfs_node_type type, fuse_ino_t ino, uint64_t broken)
{
	struct bfs_inum *e = unhook(m, parent, name);

	if (e == NULL) {
		if (m->count >= BFS_INUM_MAX) /* the oldest goes */
			free_inum(
				unhook(m, m->oldest->parent, m->oldest->name));
		e = bfs_xcalloc(1, sizeof(*e));
		e->parent = parent;
		e->name = bfs_xstrdup(name);
	}
	e->type = type;
	e->ino = ino;
	e->broken = broken;
	hook(m, e);
}

fuse_ino_t bfs_inums_take(struct bfs_inums *m, fuse_ino_t parent,
			  const char *name, enum bfs_node_type type,
			  uint64_t *broken)
{
	struct bfs_inum *e = unhook(m, parent, name);
	fuse_ino_t ino = e && e->type == type ? e->ino : 0;

	if (broken)
		*broken = ino ? e->broken : 0;
	free_inum(e);
	return ino;
}

void bfs_inums_drop(struct bfs_inums *m, fuse_ino_t parent, const char *name)
{
	free_inum(unhook(m, parent, name));
}

void bfs_inums_move(struct bfs_inums *m, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname)
{
	struct bfs_inum *e = unhook(m, parent, name);

	bfs_inums_drop(m, newparent, newname);
	if (e == NULL)
		return;
	free(e->name);
	e->parent = newparent;
	e->name = bfs_xstrdup(newname);
	hook(m, e);
}
