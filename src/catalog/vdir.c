/*
 * vdir.c - virtual directories of the lake (see vdir.h).
 */
#include "compat.h"

#include <pthread.h>

#include "catalog/vdir.h"

struct vdir_child {
	char *name;
	struct bfs_node node;
};

struct bfs_vdir {
	struct bfs_ns ns; /* first: the ns pointer is the vdir pointer */
	char *name;
	pthread_rwlock_t lock;
	struct vdir_child *children; /* protected by lock */
	size_t nchildren;	     /* protected by lock */
};

static struct bfs_vdir *vdir_of(struct bfs_ns *ns)
{
	return (struct bfs_vdir *)ns;
}

static int vdir_lookup(struct bfs_ns *ns, const struct bfs_node *dir,
		       const char *name, struct bfs_node *out)
{
	struct bfs_vdir *d = vdir_of(ns);
	int rc = ENOENT;

	(void)dir;
	BFS_PCHECK(pthread_rwlock_rdlock(&d->lock));
	for (size_t i = 0; i < d->nchildren; i++) {
		if (strcmp(d->children[i].name, name) == 0) {
			bfs_node_copy(out, &d->children[i].node);
			rc = 0;
			break;
		}
	}
	BFS_PCHECK(pthread_rwlock_unlock(&d->lock));
	return rc;
}

static int vdir_readdir(struct bfs_ns *ns, const struct bfs_node *dir,
			bfs_ns_dirent_fn fn, void *arg)
{
	struct bfs_vdir *d = vdir_of(ns);
	int rc = 0;

	(void)dir;
	/* fn only fills a reply buffer: it never comes back here */
	BFS_PCHECK(pthread_rwlock_rdlock(&d->lock));
	for (size_t i = 0; i < d->nchildren && rc == 0; i++)
		rc = fn(arg, d->children[i].name, &d->children[i].node);
	BFS_PCHECK(pthread_rwlock_unlock(&d->lock));
	return rc;
}

static void vdir_destroy(struct bfs_ns *ns)
{
	struct bfs_vdir *d = vdir_of(ns);

	for (size_t i = 0; i < d->nchildren; i++) {
		free(d->children[i].name);
		bfs_node_release(&d->children[i].node);
	}
	free(d->children);
	BFS_PCHECK(pthread_rwlock_destroy(&d->lock));
	free(d->name);
	free(d);
}

static const struct bfs_ns_ops vdir_ops = {
	.lookup = vdir_lookup,
	.readdir = vdir_readdir,
	.destroy = vdir_destroy,
};

struct bfs_vdir *bfs_vdir_create(const char *name)
{
	struct bfs_vdir *d = bfs_xcalloc(1, sizeof(*d));

	d->name = bfs_xstrdup(name);
	BFS_PCHECK(pthread_rwlock_init(&d->lock, NULL));
	d->ns.ops = &vdir_ops;
	d->ns.name = d->name;
	return d;
}

void bfs_vdir_add(struct bfs_vdir *d, const char *name,
		  const struct bfs_node *child)
{
	struct bfs_node copy;

	bfs_node_copy(&copy, child);
	BFS_PCHECK(pthread_rwlock_wrlock(&d->lock));
	for (size_t i = 0; i < d->nchildren; i++) {
		if (strcmp(d->children[i].name, name) == 0) {
			struct bfs_node old = d->children[i].node;

			d->children[i].node = copy;
			BFS_PCHECK(pthread_rwlock_unlock(&d->lock));
			bfs_node_release(&old);
			return;
		}
	}
	d->children = bfs_xrealloc(d->children,
				   (d->nchildren + 1) * sizeof(*d->children));
	d->children[d->nchildren].name = bfs_xstrdup(name);
	d->children[d->nchildren].node = copy;
	d->nchildren++;
	BFS_PCHECK(pthread_rwlock_unlock(&d->lock));
}

int bfs_vdir_remove(struct bfs_vdir *d, const char *name)
{
	struct vdir_child gone = {0};

	BFS_PCHECK(pthread_rwlock_wrlock(&d->lock));
	for (size_t i = 0; i < d->nchildren; i++) {
		if (strcmp(d->children[i].name, name) == 0) {
			gone = d->children[i];
			/* keep the order: readdir shows the config's order */
			memmove(&d->children[i], &d->children[i + 1],
				(d->nchildren - i - 1) * sizeof(gone));
			d->nchildren--;
			break;
		}
	}
	BFS_PCHECK(pthread_rwlock_unlock(&d->lock));
	if (!gone.name)
		return ENOENT;
	free(gone.name);
	bfs_node_release(&gone.node);
	return 0;
}

size_t bfs_vdir_count(struct bfs_vdir *d)
{
	size_t n;

	BFS_PCHECK(pthread_rwlock_rdlock(&d->lock));
	n = d->nchildren;
	BFS_PCHECK(pthread_rwlock_unlock(&d->lock));
	return n;
}

void bfs_vdir_node(struct bfs_vdir *d, struct bfs_node *out)
{
	memset(out, 0, sizeof(*out));
	out->ns = &d->ns;
	out->type = BFS_NODE_DIR;
}

struct bfs_ns *bfs_vdir_ns(struct bfs_vdir *d)
{
	return &d->ns;
}
