/*
 * ns.c - helpers on namespace nodes shared by every namespace and by the
 * filesystem layer.
 */
#include "compat.h"

#include "catalog/ns.h"
#include "log.h"

void bfs_node_release(struct bfs_node *node)
{
	free(node->key);
	bfs_obj_info_release(&node->info);
	memset(node, 0, sizeof(*node));
}

void bfs_node_copy(struct bfs_node *dst, const struct bfs_node *src)
{
	*dst = *src;
	dst->key = src->key ? bfs_xstrdup(src->key) : NULL;
	bfs_obj_info_copy(&dst->info, &src->info);
}

int bfs_ns_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strchr(name, '/') != NULL)
		return EINVAL;
	if (n > 255)
		return ENAMETOOLONG;
	return 0;
}

int bfs_ns_make_child(const struct bfs_node *dir, const char *name,
		      enum bfs_node_type type, struct bfs_node *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (dir->type != BFS_NODE_DIR || dir->store == NULL || !dir->writable) {
		bfs_log(LOG_NOTICE,
			"'%s' is read-only: cannot create or remove '%s'",
			dir->ns ? dir->ns->name : "?", name);
		return EROFS;
	}
	rc = bfs_ns_name_valid(name);
	if (rc != 0)
		return rc;
	out->key = bfs_xasprintf("%s%s%s", dir->key ? dir->key : "", name,
				 type == BFS_NODE_DIR ? "/" : "");
	if (strlen(out->key) > BFS_KEY_MAX) {
		free(out->key);
		out->key = NULL;
		return ENAMETOOLONG;
	}
	out->ns = dir->ns;
	out->store = dir->store;
	out->type = type;
	out->writable = true;
	return 0;
}
