/*
 * s3fs_meta.c - owner, mode and times of objects as s3fs stores them in user
 * metadata (x-amz-meta-mode, -uid, -gid decimal; -mtime, -ctime, -atime
 * as seconds, with nanoseconds after a '.' when not zero), so a bucket
 * written by one tool shows the same attributes in the other.
 */
#include "compat.h"

#include "lockorder.h"

#include <sys/stat.h>

#include "fs/fs_priv.h"
#include "log.h"

void bfs_fs_meta_set_time(struct bfs_meta_list *m, const char *name,
			  const struct timespec *ts)
{
	char num[48];

	if (ts->tv_nsec != 0)
		snprintf(num, sizeof(num), "%lld.%09ld", (long long)ts->tv_sec,
			 (long)ts->tv_nsec);
	else
		snprintf(num, sizeof(num), "%lld", (long long)ts->tv_sec);
	bfs_meta_set(m, name, num);
}

bool bfs_fs_meta_time(const struct bfs_node *node, const char *name,
		      struct timespec *out)
{
	const char *v = bfs_meta_get(&node->info.meta, name);
	long long sec;
	long nsec = 0, scale = 100000000;
	char *end;

	if (v == NULL || *v == '\0')
		return false;
	errno = 0;
	sec = strtoll(v, &end, 10);
	if (errno != 0 || end == v)
		return false;
	if (*end == '.') {
		/* rclone writes fewer digits than nine: a decimal fraction */
		for (end++; *end >= '0' && *end <= '9'; end++) {
			nsec += (*end - '0') * scale;
			scale /= 10;
		}
	}
	if (*end != '\0')
		return false;
	out->tv_sec = (time_t)sec;
	out->tv_nsec = nsec;
	return true;
}

void bfs_fs_build_meta(struct bfs_fs *fs, struct bfs_inode *in,
		       struct bfs_meta_list *out)
{
	struct stat st;
	char num[32];

	bfs_meta_list_copy(out, &in->node.info.meta);
	bfs_fs_fill_attr(fs, in, &st);
	snprintf(num, sizeof(num), "%u", (unsigned)st.st_mode);
	bfs_meta_set(out, "mode", num);
	snprintf(num, sizeof(num), "%u", (unsigned)st.st_uid);
	bfs_meta_set(out, "uid", num);
	snprintf(num, sizeof(num), "%u", (unsigned)st.st_gid);
	bfs_meta_set(out, "gid", num);
	bfs_fs_meta_set_time(out, "mtime", &st.st_mtim);
	bfs_fs_meta_set_time(out, "ctime", &st.st_ctim);
	bfs_fs_meta_set_time(out, "atime", &st.st_atim);
}

int bfs_fs_store_attrs_locked(struct bfs_fs *fs, struct bfs_inode *in)
{
	struct bfs_store *s = in->node.store;
	struct bfs_meta_list meta = {0};
	struct bfs_obj_info info = {0};
	char etag[BFS_ETAG_MAX] = "";
	char *key;
	int rc;

	assert(in->busy);
	if (s == NULL || !in->node.writable || fs->opts->ro)
		return EROFS;
	if (in->staged && bfs_staged_dirty(in->staged))
		return 0; /* the coming upload carries them */
	/* the caller refreshed in's metadata before changing it; the HEAD
	 * here only pins the copy to the version it read */
	bfs_fs_build_meta(fs, in, &meta);
	key = bfs_xstrdup(in->node.key);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	rc = s->head(s, key, &info);
	if (rc == ENOENT && in->node.type == BFS_NODE_DIR) {
		/* an implicit directory: give it a marker to hold them */
		struct bfs_put_req put = {
			.key = key, .fd = fs->empty_fd, .meta = &meta};

		rc = s->put(s, &put, etag);
		BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
		goto out;
	}
	if (rc == 0)
		rc = s->copy(s, key, key, &meta, info.etag, etag);
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	if (rc == 0) {
		bfs_meta_list_release(&in->node.info.meta);
		in->node.info.meta = meta;
		meta.items = NULL;
		meta.n = 0;
		if (etag[0])
			snprintf(in->node.info.etag, sizeof(in->node.info.etag),
				 "%s", etag);
		if (in->staged)
			snprintf(in->staged->base_etag,
				 sizeof(in->staged->base_etag), "%s",
				 in->node.info.etag);
	} else {
		bfs_log(LOG_ERR, "%s: cannot update attributes of '%s': %s",
			s->name, key, strerror(rc));
	}
out:
	free(key);
	bfs_meta_list_release(&meta);
	bfs_obj_info_release(&info);
	return rc;
}

void bfs_fs_dir_meta(struct bfs_fs *fs, struct bfs_node *node)
{
	struct bfs_obj_info info = {0};

	if (node->type != BFS_NODE_DIR || node->store == NULL ||
	    node->have_info || node->key == NULL || node->key[0] == '\0' ||
	    !bfs_fs_objects_mode(fs, node))
		return;
	/* an implicit directory has no marker: the mount's defaults */
	if (node->store->head(node->store, node->key, &info) != 0)
		return;
	bfs_obj_info_release(&node->info);
	node->info = info;
	node->have_info = true;
}
