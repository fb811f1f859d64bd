/*
 * dirops.c - changes to the namespace: mkdir (a `dir/` marker), unlink,
 * rmdir (only when empty), rename (copy + delete, per object for a
 * directory).
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"
#include "log.h"

void bfs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode)
{
	/* the marker carries the creator's mode and owner (s3fs's names) */
	const struct bfs_new_node nn = {.type = BFS_NODE_DIR,
					.mode = S_IFDIR | (mode & 07777),
					.fd = -1,
					.what = "mkdir"};
	struct fuse_entry_param e;
	int rc = bfs_fs_make_node(bfs_fs(req), req, parent, name, &nn, &e);

	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		fuse_reply_entry(req, &e);
}

/*
 * Files still open keep their content after unlink, as on a local disk:
 * stage what the store holds before the object goes.
 */
static int keep_open_content(struct bfs_fs *fs, fuse_ino_t parent,
			     const char *name)
{
	struct bfs_itable *t = &fs->itable;
	struct bfs_inode *in = bfs_inode_find(t, parent, name);
	struct bfs_staged *st;
	int rc = 0;

	if (in == NULL)
		return 0;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	/* waits for an upload of in in progress: the delete comes after */
	bfs_inode_busy_begin(in);
	if (in->nopen > 0 && in->staged == NULL && in->node.have_info &&
	    in->node.type == BFS_NODE_FILE) {
		char *key = bfs_xstrdup(in->node.key);
		char etag[BFS_ETAG_MAX];
		uint64_t size = in->node.info.size;

		snprintf(etag, sizeof(etag), "%s", in->node.info.etag);
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		st = bfs_staged_create(fs->staging_dir, in->node.store->name,
				       key);
		if (st == NULL)
			rc = errno;
		else
			rc = bfs_staged_fill(st, in->node.store, key, size,
					     etag);
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		free(key);
		if (rc == 0) {
			in->staged = st;
		} else if (st) {
			bfs_staged_free(st, true);
		}
	}
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_put(t, in);
	return rc == ESTALE ? 0 : rc;
}

void bfs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_node dir = {0}, child = {0};
	int rc;

	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc == 0)
		rc = fs->opts->ro ? EROFS
				  : bfs_ns_make_child(&dir, name, BFS_NODE_FILE,
						      &child);
	if (rc == 0)
		rc = keep_open_content(fs, parent, name);
	if (rc == 0)
		rc = child.store->del(child.store, child.key);
	if (rc == 0) {
		bfs_inode_unlink_name(&fs->itable, parent, name);
		bfs_fs_dir_changed(fs, parent);
	} else {
		bfs_log(LOG_ERR, "%s: unlink '%s' failed: %s",
			dir.store ? dir.store->name : "?",
			child.key ? child.key : name, strerror(rc));
	}
	fuse_reply_err(req, rc);
	bfs_node_release(&dir);
	bfs_node_release(&child);
}

/* Does prefix hold any key but skip? */
static int prefix_has_other(struct bfs_store *s, const char *prefix,
			    const char *skip, bool *other)
{
	struct bfs_list_req lr = {.prefix = prefix, .max_keys = 2};
	struct bfs_list_result res = {0};
	int rc;

	*other = false;
	rc = s->list(s, &lr, &res);
	for (size_t i = 0; rc == 0 && i < res.nobjs; i++)
		if (strcmp(res.objs[i].key, skip) != 0)
			*other = true;
	bfs_list_result_release(&res);
	return rc;
}

void bfs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_node dir = {0}, child = {0};
	bool other = false;
	int rc;

	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc == 0)
		rc = fs->opts->ro ? EROFS
				  : bfs_ns_make_child(&dir, name, BFS_NODE_DIR,
						      &child);
	if (rc == 0)
		rc = prefix_has_other(child.store, child.key, child.key,
				      &other);
	if (rc == 0 && other)
		rc = ENOTEMPTY;
	if (rc == 0)
		rc = child.store->del(child.store, child.key);
	if (rc == 0) {
		bfs_inode_unlink_name(&fs->itable, parent, name);
		bfs_fs_dir_changed(fs, parent);
	}
	fuse_reply_err(req, rc);
	bfs_node_release(&dir);
	bfs_node_release(&child);
}

struct rename_ctx {
	struct bfs_store *s;
	const char *from;
	const char *to;
	size_t nfrom;
	char **done; /* keys copied, deleted once all copies succeeded */
	size_t ndone;
};

static int copy_one(void *arg, const struct bfs_obj_info *obj,
		    const char *prefix)
{
	struct rename_ctx *c = arg;
	char *dst;
	int rc;

	if (obj == NULL)
		return 0;
	dst = bfs_xasprintf("%s%s", c->to, obj->key + c->nfrom);
	rc = c->s->copy(c->s, obj->key, dst, NULL, NULL, NULL);
	free(dst);
	if (rc != 0) {
		bfs_log(LOG_ERR, "%s: rename: copy of '%s' failed: %s",
			c->s->name, obj->key, strerror(rc));
		return rc;
	}
	c->done = bfs_xrealloc(c->done, (c->ndone + 1) * sizeof(char *));
	c->done[c->ndone++] = bfs_xstrdup(obj->key);
	return 0;
}

/*
 * Rename every key under from to under to: copy all first, then delete
 * the sources, so a failure midway leaves both trees rather than
 * neither.
 */
static int rename_prefix(struct bfs_store *s, const char *from, const char *to)
{
	struct rename_ctx c = {
		.s = s, .from = from, .to = to, .nfrom = strlen(from)};
	int rc;

	rc = bfs_store_list_all(s, from, NULL, copy_one, &c);
	for (size_t i = 0; i < c.ndone; i++) {
		if (rc == 0)
			rc = s->del(s, c.done[i]);
		free(c.done[i]);
	}
	free(c.done);
	return rc;
}

/*
 * Find the node of parent/name: the inode table first, then the store.
 * A linked inode that knows its object (the kernel looked it up, or we
 * made it) is taken as it is: asking the bucket again cost a LIST per
 * rename; if another client removed it meanwhile, the copy says ENOENT.
 */
static int find_child(struct bfs_fs *fs, fuse_ino_t parent,
		      const struct bfs_node *dir, const char *name,
		      struct bfs_node *out, struct bfs_inode **inp)
{
	struct bfs_inode *in = bfs_inode_find(&fs->itable, parent, name);

	*inp = NULL;
	if (in) {
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		bool known = !in->unlinked && !in->node.broken &&
			     (in->staged != NULL || in->node.have_info ||
			      in->node.type == BFS_NODE_DIR);

		if (known)
			bfs_node_copy(out, &in->node);
		BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		*inp = in;
		if (known)
			return 0;
	}
	return dir->ns->ops->lookup(dir->ns, dir, name, out);
}

void bfs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		   fuse_ino_t newparent, const char *newname,
		   unsigned int flags)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_node dir = {0}, newdir = {0}, src = {0}, dst = {0};
	struct bfs_node existing = {0};
	struct bfs_inode *in = NULL, *victim = NULL;
	int rc;

	if (flags & RENAME_EXCHANGE) {
		rc = EINVAL;
		goto out;
	}
	rc = bfs_fs_dir_node(fs, parent, &dir);
	if (rc == 0)
		rc = bfs_fs_dir_node(fs, newparent, &newdir);
	if (rc == 0 && (fs->opts->ro || !dir.writable || !newdir.writable))
		rc = EROFS;
	if (rc == 0 && dir.store != newdir.store)
		rc = EXDEV;
	if (rc == 0)
		rc = find_child(fs, parent, &dir, name, &src, &in);
	if (rc != 0)
		goto out;
	rc = bfs_ns_make_child(&newdir, newname, src.type, &dst);
	if (rc != 0)
		goto out;
	if (find_child(fs, newparent, &newdir, newname, &existing, &victim) ==
	    0) {
		if (flags & RENAME_NOREPLACE)
			rc = EEXIST;
		else if (existing.type == BFS_NODE_DIR &&
			 src.type != BFS_NODE_DIR)
			rc = EISDIR;
		else if (existing.type != BFS_NODE_DIR &&
			 src.type == BFS_NODE_DIR)
			rc = ENOTDIR;
		else if (existing.type == BFS_NODE_DIR) {
			bool other;

			rc = prefix_has_other(existing.store, existing.key,
					      existing.key, &other);
			if (rc == 0 && other)
				rc = ENOTEMPTY;
		}
		if (rc != 0)
			goto out;
	}
	if (src.type == BFS_NODE_DIR) {
		if (strncmp(dst.key, src.key, strlen(src.key)) == 0) {
			rc = EINVAL; /* into itself */
			goto out;
		}
		rc = rename_prefix(src.store, src.key, dst.key);
	} else {
		if (in) {
			/* the copy must carry what was written so far */
			BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
			bfs_inode_busy_begin(in);
			rc = bfs_fs_upload_locked(fs, in);
			bfs_inode_busy_end(in);
			BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
		}
		if (rc == 0)
			rc = src.store->copy(src.store, src.key, dst.key, NULL,
					     NULL, NULL);
		if (rc == 0)
			rc = src.store->del(src.store, src.key);
	}
	if (rc != 0) {
		bfs_log(LOG_ERR, "%s: rename '%s' -> '%s' failed: %s",
			src.store->name, src.key, dst.key, strerror(rc));
		goto out;
	}
	if (victim) {
		/* its old content is gone: never upload it over ours */
		BFS_LOCK(&victim->lock, BFS_LK_FS_INODE);
		victim->unlinked = true;
		BFS_UNLOCK(&victim->lock, BFS_LK_FS_INODE);
	}
	bfs_inode_rename(&fs->itable, parent, name, newparent, newname, src.key,
			 dst.key);
	bfs_fs_dir_changed(fs, parent);
	if (newparent != parent)
		bfs_fs_dir_changed(fs, newparent);
out:
	if (in)
		bfs_inode_put(&fs->itable, in);
	if (victim)
		bfs_inode_put(&fs->itable, victim);
	fuse_reply_err(req, rc);
	bfs_node_release(&dir);
	bfs_node_release(&newdir);
	bfs_node_release(&src);
	bfs_node_release(&dst);
	bfs_node_release(&existing);
}
