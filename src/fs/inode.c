/*
 * inode.c - the inode table (see inode.h): three chained hash indexes,
 * by number, by (parent, name) and by parent (a directory's children),
 * under one lock; and the busy state of an inode.
 */
#include "compat.h"

#include "lockorder.h"

#include <time.h>

#include "fs/inode.h"
#include "fs/staging.h"

static size_t hash_ino(fuse_ino_t ino, size_t n)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 20) & (n - 1);
}

static size_t hash_name(fuse_ino_t parent, const char *name, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29)) & (n - 1);
}

static void index_ino(struct bfs_itable *t, struct bfs_inode *in)
{
	size_t b = hash_ino(in->ino, t->nbuckets);

	in->next_ino = t->by_ino[b];
	t->by_ino[b] = in;
}

static void index_name(struct bfs_itable *t, struct bfs_inode *in)
{
	size_t b = hash_name(in->parent, in->name, t->nbuckets);
	struct bfs_inode **head =
		&t->by_parent[hash_ino(in->parent, t->nbuckets)];

	in->next_name = t->by_name[b];
	t->by_name[b] = in;
	in->next_sib = *head;
	if (*head)
		(*head)->pprev_sib = &in->next_sib;
	*head = in;
	in->pprev_sib = head;
	in->linked = true;
}

static void unindex_name(struct bfs_itable *t, struct bfs_inode *in)
{
	struct bfs_inode **pp;

	if (!in->linked)
		return;
	pp = &t->by_name[hash_name(in->parent, in->name, t->nbuckets)];
	while (*pp && *pp != in)
		pp = &(*pp)->next_name;
	if (*pp)
		*pp = in->next_name;
	*in->pprev_sib = in->next_sib;
	if (in->next_sib)
		in->next_sib->pprev_sib = in->pprev_sib;
	in->next_sib = NULL;
	in->pprev_sib = NULL;
	in->linked = false;
}

static void unindex_ino(struct bfs_itable *t, struct bfs_inode *in)
{
	struct bfs_inode **pp = &t->by_ino[hash_ino(in->ino, t->nbuckets)];

	while (*pp && *pp != in)
		pp = &(*pp)->next_ino;
	if (*pp)
		*pp = in->next_ino;
}

static void grow(struct bfs_itable *t)
{
	struct bfs_inode **old = t->by_ino;
	size_t oldn = t->nbuckets;

	t->nbuckets *= 2;
	t->by_ino = bfs_xcalloc(t->nbuckets, sizeof(*t->by_ino));
	free(t->by_name);
	t->by_name = bfs_xcalloc(t->nbuckets, sizeof(*t->by_name));
	free(t->by_parent);
	t->by_parent = bfs_xcalloc(t->nbuckets, sizeof(*t->by_parent));
	for (size_t i = 0; i < oldn; i++) {
		struct bfs_inode *in = old[i];

		while (in) {
			struct bfs_inode *next = in->next_ino;

			index_ino(t, in);
			if (in->linked)
				index_name(t, in);
			in = next;
		}
	}
	free(old);
}

static struct bfs_inode *new_inode(struct bfs_itable *t, fuse_ino_t ino,
				   fuse_ino_t parent, const char *name,
				   const struct bfs_node *node)
{
	struct bfs_inode *in = bfs_xcalloc(1, sizeof(*in));

	in->ino = ino;
	in->parent = parent;
	in->name = bfs_xstrdup(name);
	BFS_PCHECK(pthread_mutex_init(&in->lock, NULL));
	BFS_PCHECK(pthread_cond_init(&in->idle, NULL));
	bfs_node_copy(&in->node, node);
	if (t->count + 1 > t->nbuckets)
		grow(t);
	index_ino(t, in);
	t->count++;
	return in;
}

static void free_inode(struct bfs_inode *in)
{
	if (in->staged)
		bfs_staged_free(in->staged,
				in->unlinked || !bfs_staged_dirty(in->staged));
	bfs_node_release(&in->node);
	assert(!in->busy);
	BFS_PCHECK(pthread_cond_destroy(&in->idle));
	BFS_PCHECK(pthread_mutex_destroy(&in->lock));
	free(in->name);
	free(in);
}

void bfs_itable_init(struct bfs_itable *t, const struct bfs_node *root)
{
	struct bfs_inode *in;

	memset(t, 0, sizeof(*t));
	BFS_PCHECK(pthread_mutex_init(&t->lock, NULL));
	t->nbuckets = 1024;
	t->by_ino = bfs_xcalloc(t->nbuckets, sizeof(*t->by_ino));
	t->by_name = bfs_xcalloc(t->nbuckets, sizeof(*t->by_name));
	t->by_parent = bfs_xcalloc(t->nbuckets, sizeof(*t->by_parent));
	t->next_ino = FUSE_ROOT_ID + 1;
	t->generation = (uint64_t)time(NULL);
	bfs_inums_init(&t->gone);
	in = new_inode(t, FUSE_ROOT_ID, 0, "", root);
	in->nlookup = 1; /* the kernel's implicit reference to the root */
}

void bfs_itable_release(struct bfs_itable *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct bfs_inode *in = t->by_ino[i];

		while (in) {
			struct bfs_inode *next = in->next_ino;

			free_inode(in);
			in = next;
		}
	}
	free(t->by_ino);
	free(t->by_name);
	free(t->by_parent);
	bfs_inums_release(&t->gone);
	BFS_PCHECK(pthread_mutex_destroy(&t->lock));
}

static struct bfs_inode *find_ino(struct bfs_itable *t, fuse_ino_t ino)
{
	struct bfs_inode *in = t->by_ino[hash_ino(ino, t->nbuckets)];

	while (in && in->ino != ino)
		in = in->next_ino;
	return in;
}

/* Free in if nothing holds it any more; called with t->lock held. */
static void maybe_free(struct bfs_itable *t, struct bfs_inode *in)
{
	if (in->nlookup > 0 || in->refs > 0 || in->ino == FUSE_ROOT_ID)
		return;
	if (in->linked) /* forgotten, not removed: its name keeps the number */
		bfs_inums_put(&t->gone, in->parent, in->name, in->node.type,
			      in->ino,
			      in->node.broken && in->node.exact &&
					      in->node.error == EIO
				      ? in->node.exact_obj + 1
				      : 0);
	unindex_name(t, in);
	unindex_ino(t, in);
	t->count--;
	free_inode(in);
}

struct bfs_inode *bfs_inode_get(struct bfs_itable *t, fuse_ino_t ino)
{
	struct bfs_inode *in;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	in = find_ino(t, ino);
	if (in)
		in->refs++;
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	return in;
}

void bfs_inode_put(struct bfs_itable *t, struct bfs_inode *in)
{
	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	assert(in->refs > 0);
	in->refs--;
	maybe_free(t, in);
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
}

static struct bfs_inode *find_name(struct bfs_itable *t, fuse_ino_t parent,
				   const char *name)
{
	struct bfs_inode *in = t->by_name[hash_name(parent, name, t->nbuckets)];

	while (in && !(in->parent == parent && strcmp(in->name, name) == 0))
		in = in->next_name;
	return in;
}

struct bfs_inode *bfs_inode_link(struct bfs_itable *t, fuse_ino_t parent,
				 const char *name, const struct bfs_node *node)
{
	struct bfs_inode *in;
	bool found;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	in = find_name(t, parent, name);
	if (in && in->node.type != node->type) {
		/* another type under this name now: a new inode */
		unindex_name(t, in);
		in = NULL;
	}
	found = in != NULL;
	if (in == NULL) {
		uint64_t broken;
		fuse_ino_t ino = bfs_inums_take(&t->gone, parent, name,
						node->type, &broken);

		in = new_inode(t, ino ? ino : t->next_ino++, parent, name,
			       node);
		if (broken && node->exact && node->exact_obj + 1 == broken) {
			/* the same listing of an object found replaced:
			 * EIO at once, as the forgotten inode said */
			in->node.broken = true;
			in->node.error = EIO;
		}
		index_name(t, in);
	}
	in->nlookup++;
	in->refs++;
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	if (found && node->have_info) {
		/* fresh facts, unless ours are newer: staged, or being
		 * uploaded or fetched right now */
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		if (in->staged == NULL && !in->busy) {
			bfs_obj_info_release(&in->node.info);
			bfs_obj_info_copy(&in->node.info, &node->info);
			in->node.have_info = true;
		}
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	}
	return in;
}

struct bfs_inode *bfs_inode_find(struct bfs_itable *t, fuse_ino_t parent,
				 const char *name)
{
	struct bfs_inode *in;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	in = find_name(t, parent, name);
	if (in)
		in->refs++;
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	return in;
}

/* Append in to *v (n entries, room for *cap) with a reference taken. */
static void push_ref(struct bfs_inode ***v, size_t *n, size_t *cap,
		     struct bfs_inode *in)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = bfs_xrealloc(*v, *cap * sizeof(**v));
	}
	in->refs++;
	(*v)[(*n)++] = in;
}

size_t bfs_inode_children(struct bfs_itable *t, fuse_ino_t parent,
			  struct bfs_inode ***out)
{
	size_t n = 0, cap = 0;

	*out = NULL;
	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	for (struct bfs_inode *in = t->by_parent[hash_ino(parent, t->nbuckets)];
	     in; in = in->next_sib)
		if (in->parent == parent)
			push_ref(out, &n, &cap, in);
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	return n;
}

char *bfs_inode_name_in(struct bfs_itable *t, struct bfs_inode *in,
			fuse_ino_t parent)
{
	char *name = NULL;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	if (in->parent == parent && in->name)
		name = bfs_xstrdup(in->name);
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	return name;
}

size_t bfs_inode_all(struct bfs_itable *t, struct bfs_inode ***out)
{
	size_t n = 0, cap = 0;

	*out = NULL;
	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct bfs_inode *in = t->by_ino[i]; in; in = in->next_ino)
			push_ref(out, &n, &cap, in);
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	return n;
}

void bfs_inode_put_all(struct bfs_itable *t, struct bfs_inode **v, size_t n)
{
	if (n > 0) {
		BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
		for (size_t i = 0; i < n; i++) {
			assert(v[i]->refs > 0);
			v[i]->refs--;
			maybe_free(t, v[i]);
		}
		BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	}
	free(v);
}

void bfs_inode_busy_begin(struct bfs_inode *in)
{
	while (in->busy)
		BFS_COND_WAIT(&in->idle, &in->lock, BFS_LK_FS_INODE);
	in->busy = true;
}

void bfs_inode_busy_end(struct bfs_inode *in)
{
	assert(in->busy);
	in->busy = false;
	BFS_PCHECK(pthread_cond_broadcast(&in->idle));
}

void bfs_inode_forget(struct bfs_itable *t, fuse_ino_t ino, uint64_t n)
{
	struct bfs_inode *in;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	in = find_ino(t, ino);
	if (in) {
		assert(in->nlookup >= n);
		in->nlookup -= BFS_MIN(n, in->nlookup);
		maybe_free(t, in);
	}
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
}

void bfs_inode_unlink_name(struct bfs_itable *t, fuse_ino_t parent,
			   const char *name)
{
	struct bfs_inode *in;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	bfs_inums_drop(&t->gone, parent, name);
	in = find_name(t, parent, name);
	if (in) {
		unindex_name(t, in);
		in->refs++;
	}
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	if (in == NULL)
		return;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	in->unlinked = true;
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(t, in);
}

/* Rewrite in's key from old_key... to new_key...; in->lock not held. */
static void rekey(struct bfs_inode *in, const char *old_key,
		  const char *new_key)
{
	size_t n = strlen(old_key);
	char *key;

	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (in->node.key && strncmp(in->node.key, old_key, n) == 0) {
		key = bfs_xasprintf("%s%s", new_key, in->node.key + n);
		free(in->node.key);
		in->node.key = key;
	}
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
}

void bfs_inode_rename(struct bfs_itable *t, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      const char *old_key, const char *new_key)
{
	struct bfs_inode *in, *victim, **all = NULL;
	bool is_dir = old_key[0] && old_key[strlen(old_key) - 1] == '/';
	size_t n = 0;

	BFS_LOCK(&t->lock, BFS_LK_FS_ITABLE);
	/* a forgotten source keeps its number; a target's is gone */
	bfs_inums_move(&t->gone, parent, name, newparent, newname);
	victim = find_name(t, newparent, newname);
	if (victim)
		unindex_name(t, victim);
	in = find_name(t, parent, name);
	if (in) {
		unindex_name(t, in);
		free(in->name);
		in->name = bfs_xstrdup(newname);
		in->parent = newparent;
		index_name(t, in);
		in->refs++;
	}
	BFS_UNLOCK(&t->lock, BFS_LK_FS_ITABLE);
	if (in == NULL)
		return;
	rekey(in, old_key, new_key);
	if (is_dir) {
		/* every inode below the directory carries the old prefix */
		n = bfs_inode_all(t, &all);
		for (size_t i = 0; i < n; i++)
			if (all[i] != in && all[i]->node.store &&
			    all[i]->node.store == in->node.store)
				rekey(all[i], old_key, new_key);
		bfs_inode_put_all(t, all, n);
	}
	bfs_inode_put(t, in);
}
