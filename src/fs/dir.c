/*
 * dir.c - directory listing: opendir snapshots the namespace's entries
 * (plus files being written that the store does not show yet), readdir
 * and readdirplus serve that snapshot by offset.
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"
#include "log.h"

struct dir_entry {
	char *name;
	struct bfs_node node;
};

struct dir_handle {
	struct dir_entry *ents;
	size_t n;
};

static void add_entry(struct dir_handle *d, const char *name,
		      const struct bfs_node *node)
{
	d->ents = bfs_xrealloc(d->ents, (d->n + 1) * sizeof(*d->ents));
	d->ents[d->n].name = bfs_xstrdup(name);
	bfs_node_copy(&d->ents[d->n].node, node);
	d->n++;
}

static int collect(void *arg, const char *name, const struct bfs_node *node)
{
	add_entry(arg, name, node);
	return 0;
}

static bool has_entry(const struct dir_handle *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->ents[i].name, name) == 0)
			return true;
	return false;
}

/*
 * The children of dir being written and not uploaded, each with a
 * reference taken (put with bfs_inode_put_all). Taken before the
 * listing: a file whose upload ends while the listing runs (a release
 * uploads after close() has returned) is then in the listing or here.
 */
static size_t staged_kids(struct bfs_fs *fs, fuse_ino_t dir,
			  struct bfs_inode ***out)
{
	struct bfs_inode **kids;
	size_t n = bfs_inode_children(&fs->itable, dir, &kids), k = 0;

	for (size_t i = 0; i < n; i++) {
		struct bfs_inode *in = kids[i];
		bool staged;

		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		staged = in->staged && !in->unlinked;
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		if (staged)
			kids[k++] = in;
		else
			bfs_inode_put(&fs->itable, in);
	}
	*out = kids;
	return k;
}

static bool in_list(struct bfs_inode *const *v, size_t n,
		    const struct bfs_inode *in)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == in)
			return true;
	return false;
}

/*
 * Show what the listing could not: children of dir staged now, or staged
 * before the listing began (before[0, nbefore)) and neither removed nor
 * moved away since.
 */
static void add_staged(struct bfs_fs *fs, fuse_ino_t dir, struct dir_handle *d,
		       struct bfs_inode *const *before, size_t nbefore)
{
	struct bfs_inode **kids;
	size_t n = bfs_inode_children(&fs->itable, dir, &kids);

	for (size_t i = 0; i < n; i++) {
		struct bfs_inode *in = kids[i];
		bool was = in_list(before, nbefore, in);
		/* a rename in another thread renames or moves it meanwhile */
		char *name = bfs_inode_name_in(&fs->itable, in, dir);

		if (name == NULL)
			continue;
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		if ((in->staged || was) && !in->unlinked && !has_entry(d, name))
			add_entry(d, name, &in->node);
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		free(name);
	}
	bfs_inode_put_all(&fs->itable, kids, n);
}

struct meta_job {
	struct bfs_fs *fs;
	struct dir_handle *d;
	pthread_mutex_t lock;
	size_t next; /* protected by lock */
};

static void *meta_worker(void *arg)
{
	struct meta_job *j = arg;

	for (;;) {
		struct bfs_node *node;
		struct bfs_obj_info info = {0};
		size_t i;

		BFS_PCHECK(pthread_mutex_lock(&j->lock));
		i = j->next++;
		BFS_PCHECK(pthread_mutex_unlock(&j->lock));
		if (i >= j->d->n)
			return NULL;
		node = &j->d->ents[i].node;
		if (node->type == BFS_NODE_DIR) {
			/* a marker may carry the directory's mode and owner */
			bfs_fs_dir_meta(j->fs, node);
			continue;
		}
		/* meta_known: the metadata cache recalled this version's */
		if (node->type != BFS_NODE_FILE || node->store == NULL ||
		    node->info.meta_known)
			continue;
		/* a failed HEAD leaves the listing's facts: the entry is
		 * still listed, with the mount's default owner and mode */
		if (node->store->head(node->store, node->key, &info) == 0) {
			bfs_obj_info_release(&node->info);
			node->info = info;
			node->have_info = true;
		}
	}
}

/* HEADs are short and the server is the bottleneck: one thread per
 * kept-alive connection, up to this many */
#define META_THREADS_MAX 64

/*
 * metadata=objects: listings carry no user metadata, so fetch it with
 * parallel HEADs before the entries are shown; ls -l then agrees with
 * stat.
 */
static void fetch_meta(struct bfs_fs *fs, struct dir_handle *d,
		       unsigned connections)
{
	struct meta_job j = {.fs = fs, .d = d};
	pthread_t threads[META_THREADS_MAX];
	size_t n = BFS_MIN(BFS_MIN((size_t)META_THREADS_MAX, d->n),
			   (size_t)BFS_MAX(connections, 1u));

	BFS_PCHECK(pthread_mutex_init(&j.lock, NULL));
	for (size_t i = 0; i < n; i++)
		BFS_PCHECK(pthread_create(&threads[i], NULL, meta_worker, &j));
	for (size_t i = 0; i < n; i++)
		BFS_PCHECK(pthread_join(threads[i], NULL));
	BFS_PCHECK(pthread_mutex_destroy(&j.lock));
}

/* The newest entry tells a directory without a marker its mtime. */
static void note_newest(struct bfs_fs *fs, fuse_ino_t ino,
			const struct dir_handle *d)
{
	struct timespec newest = {0};

	for (size_t i = 0; i < d->n; i++) {
		const struct bfs_node *n = &d->ents[i].node;

		if (n->have_info && bfs_ts_before(newest, n->info.mtime))
			newest = n->info.mtime;
	}
	if (newest.tv_sec != 0)
		bfs_fs_dir_listed(fs, ino, &newest);
}

static void free_handle(struct dir_handle *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->ents[i].name);
		bfs_node_release(&d->ents[i].node);
	}
	free(d->ents);
	free(d);
}

void bfs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct dir_handle *d = bfs_xcalloc(1, sizeof(*d));
	struct bfs_node dir = {0};
	struct bfs_inode **before;
	size_t nbefore;
	int rc;

	nbefore = staged_kids(fs, ino, &before);
	rc = bfs_fs_dir_node(fs, ino, &dir);
	if (rc == 0)
		rc = dir.ns->ops->readdir(dir.ns, &dir, collect, d);
	if (rc != 0) {
		bfs_log(LOG_ERR, "cannot list '%s': %s",
			dir.key	 ? dir.key
			: dir.ns ? dir.ns->name
				 : "?",
			strerror(rc));
		bfs_inode_put_all(&fs->itable, before, nbefore);
		bfs_node_release(&dir);
		free_handle(d);
		fuse_reply_err(req, rc);
		return;
	}
	if (bfs_fs_objects_mode(fs, &dir) && dir.store)
		fetch_meta(fs, d, fs->opts->connections);
	add_staged(fs, ino, d, before, nbefore);
	bfs_inode_put_all(&fs->itable, before, nbefore);
	note_newest(fs, ino, d);
	bfs_node_release(&dir);
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT)
		free_handle(d);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	char *buf = bfs_xmalloc(size);
	size_t used = 0;

	/* offsets: 0 → ".", 1 → "..", 2+i → ents[i] */
	for (size_t i = (size_t)off; i < d->n + 2; i++) {
		struct fuse_entry_param e;
		struct bfs_inode *in = NULL;
		const char *name;
		size_t len;

		memset(&e, 0, sizeof(e));
		if (i < 2) {
			name = i == 0 ? "." : "..";
			e.attr.st_ino = i == 0 ? ino : FUSE_ROOT_ID;
			e.attr.st_mode = S_IFDIR;
		} else {
			name = d->ents[i - 2].name;
			if (plus) {
				in = bfs_inode_link(&fs->itable, ino, name,
						    &d->ents[i - 2].node);
				bfs_fs_fill_entry(fs, in, &e);
			} else {
				e.attr.st_ino = (1ull << 62) + i;
				e.attr.st_mode =
					d->ents[i - 2].node.type == BFS_NODE_DIR
						? S_IFDIR
						: S_IFREG;
			}
		}
		if (plus)
			len = fuse_add_direntry_plus(req, buf + used,
						     size - used, name, &e,
						     (off_t)i + 1);
		else
			len = fuse_add_direntry(req, buf + used, size - used,
						name, &e.attr, (off_t)i + 1);
		if (len > size - used) {
			/* did not fit: the kernel never sees this lookup */
			if (in)
				bfs_inode_forget(&fs->itable, in->ino, 1);
			if (in)
				bfs_inode_put(&fs->itable, in);
			break;
		}
		if (in)
			bfs_inode_put(&fs->itable, in);
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

void bfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void bfs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void bfs_ll_releasedir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	free_handle((struct dir_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}
