/*
 * xattr.c - extended attributes. Names a namespace adds to its nodes
 * (user.iceberg.* of Iceberg files) come from the namespace; `user.*`
 * attributes of files in a bucket live in the object's metadata in
 * s3fs's format, so both tools see the same attributes: one metadata
 * entry `xattr` holding a percent-encoded JSON object whose values are
 * base64. Other namespaces (security.*, system.*, trusted.*) are not
 * stored: get gives ENODATA, set ENOTSUP.
 *
 * The mount root answers one more name, user.bucketfs.metrics (not
 * listed, like Ceph's virtual xattrs): the daemon's metrics in the
 * Prometheus text format, read by `bucketfs stats MOUNTPOINT`.
 */
#include "compat.h"

#include "lockorder.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <linux/limits.h>
#include <sys/xattr.h>

#include "fs/fs_priv.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define XATTR_META	"xattr"
#define XATTR_VALUE_MAX 4096

static bool is_user(const char *name)
{
	return strncmp(name, "user.", 5) == 0 && name[5] != '\0';
}

/* The attributes of a node as a JSON object (new reference). */
static json_t *load_xattrs(const struct bfs_node *node)
{
	const char *enc = bfs_meta_get(&node->info.meta, XATTR_META);
	char *dec;
	size_t n = 0;
	json_t *obj;

	if (enc == NULL || *enc == '\0')
		return json_object();
	dec = bfs_xmalloc(strlen(enc) + 1);
	for (const char *p = enc; *p; p++) {
		if (p[0] == '%' && bfs_hex_val(p[1]) >= 0 &&
		    bfs_hex_val(p[2]) >= 0) {
			dec[n++] = (char)(bfs_hex_val(p[1]) * 16 +
					  bfs_hex_val(p[2]));
			p += 2;
		} else {
			dec[n++] = *p;
		}
	}
	obj = json_loadb(dec, n, 0, NULL);
	free(dec);
	if (!json_is_object(obj)) {
		bfs_log(LOG_WARNING, "'%s': unreadable xattr metadata ignored",
			node->key);
		json_decref(obj);
		return json_object();
	}
	return obj;
}

static void store_xattrs(struct bfs_node *node, json_t *obj)
{
	char *js = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n = strlen(js);
	char *enc = bfs_xmalloc(n * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)js[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~", c)) {
			enc[o++] = (char)c;
		} else {
			snprintf(enc + o, 4, "%%%02X", c);
			o += 3;
		}
	}
	enc[o] = '\0';
	if (json_object_size(obj) == 0)
		bfs_meta_remove(&node->info.meta, XATTR_META);
	else
		bfs_meta_set(&node->info.meta, XATTR_META, enc);
	free(enc);
	free(js);
}

/* Make sure in's metadata came from a HEAD; in->lock held, in busy. */
static int need_meta(struct bfs_fs *fs, struct bfs_inode *in)
{
	if (in->node.store == NULL)
		return ENODATA;
	if (in->staged)
		return 0; /* the metadata we will upload is ours */
	return bfs_fs_refresh_locked(in);
}

static void reply_value(fuse_req_t req, const void *buf, size_t len,
			size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, len);
}

static struct bfs_inode *get_inode(fuse_req_t req, fuse_ino_t ino)
{
	struct bfs_inode *in = bfs_inode_get(&bfs_fs(req)->itable, ino);

	if (in == NULL)
		fuse_reply_err(req, ENOENT);
	return in;
}

/* Ask the node's namespace first: catalogs add their own attributes. */
static int ns_getxattr(struct bfs_inode *in, const char *name, char *buf,
		       size_t size, size_t *len)
{
	struct bfs_node node = {0};
	int rc = ENODATA;

	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_node_copy(&node, &in->node);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (node.ns && node.ns->ops->getxattr)
		rc = node.ns->ops->getxattr(node.ns, &node, name, buf, size,
					    len);
	bfs_node_release(&node);
	return rc;
}

/* The metrics text, within what one xattr value may hold. */
static void reply_metrics(fuse_req_t req, size_t size)
{
	size_t len;
	char *text = bfs_metrics_render(true, &len);

	if (len > XATTR_SIZE_MAX) {
		/* many buckets: the latency buckets go, _sum/_count stay */
		free(text);
		text = bfs_metrics_render(false, &len);
	}
	if (len > XATTR_SIZE_MAX)
		fuse_reply_err(req, E2BIG);
	else
		reply_value(req, text, len, size);
	free(text);
}

void bfs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     size_t size)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = get_inode(req, ino);
	unsigned char *val = NULL;
	char *buf = NULL;
	size_t len = 0;
	json_t *obj = NULL;
	int rc;

	if (in == NULL)
		return;
	if (ino == FUSE_ROOT_ID && strcmp(name, BFS_METRICS_XATTR) == 0) {
		bfs_inode_put(&fs->itable, in);
		reply_metrics(req, size);
		return;
	}
	buf = size ? bfs_xmalloc(size) : NULL;
	rc = ns_getxattr(in, name, buf, size, &len);
	if (rc != ENODATA || !is_user(name))
		goto out;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	rc = need_meta(fs, in);
	if (rc == 0)
		obj = load_xattrs(&in->node);
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (rc != 0)
		goto out;
	{
		const char *b64 = json_string_value(json_object_get(obj, name));
		int n;

		if (b64 == NULL) {
			rc = ENODATA;
			goto out;
		}
		val = bfs_xmalloc(strlen(b64) + 4);
		n = EVP_DecodeBlock(val, (const unsigned char *)b64,
				    (int)strlen(b64));
		if (n < 0) {
			rc = EIO;
			goto out;
		}
		/* EVP_DecodeBlock counts the padding as data */
		for (const char *p = b64 + strlen(b64); p > b64 && p[-1] == '=';
		     p--)
			n--;
		free(buf);
		buf = (char *)val;
		val = NULL;
		len = (size_t)n;
	}
out:
	json_decref(obj);
	bfs_inode_put(&fs->itable, in);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		reply_value(req, buf, len, size);
	free(buf);
	free(val);
}

void bfs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = get_inode(req, ino);
	struct bfs_node node = {0};
	char *buf = NULL;
	size_t len = 0, cap = 0;
	json_t *obj = NULL;
	const char *key;
	json_t *v;
	int rc = 0;

	if (in == NULL)
		return;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	bfs_node_copy(&node, &in->node);
	if (in->node.store && in->node.writable && need_meta(fs, in) == 0)
		obj = load_xattrs(&in->node);
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	if (node.ns && node.ns->ops->listxattr) {
		rc = node.ns->ops->listxattr(node.ns, &node, NULL, 0, &cap);
		if (rc == 0) {
			buf = bfs_xmalloc(cap + 1);
			rc = node.ns->ops->listxattr(node.ns, &node, buf, cap,
						     &len);
		}
	}
	json_object_foreach(obj, key, v)
	{
		size_t n = strlen(key) + 1;

		buf = bfs_xrealloc(buf, len + n);
		memcpy(buf + len, key, n);
		len += n;
	}
	json_decref(obj);
	bfs_node_release(&node);
	bfs_inode_put(&fs->itable, in);
	if (rc != 0)
		fuse_reply_err(req, rc);
	else
		reply_value(req, buf, len, size);
	free(buf);
}

/* Set (value != NULL) or remove an attribute of in and store it. */
static int change_xattr(struct bfs_fs *fs, struct bfs_inode *in,
			const char *name, const char *value, size_t size,
			int flags)
{
	json_t *obj;
	bool exists;
	int rc;

	if (!is_user(name))
		return ENOTSUP;
	if (size > XATTR_VALUE_MAX)
		return E2BIG;
	BFS_LOCK(&in->lock, BFS_LK_FS_INODE);
	bfs_inode_busy_begin(in);
	if (!in->node.writable || fs->opts->ro || in->node.store == NULL) {
		rc = in->node.store ? EROFS : ENOTSUP;
		goto out_unlock;
	}
	rc = need_meta(fs, in);
	if (rc != 0)
		goto out_unlock;
	obj = load_xattrs(&in->node);
	exists = json_object_get(obj, name) != NULL;
	if (value == NULL && !exists)
		rc = ENODATA;
	else if ((flags & XATTR_CREATE) && exists)
		rc = EEXIST;
	else if ((flags & XATTR_REPLACE) && !exists)
		rc = ENODATA;
	if (rc == 0) {
		if (value) {
			char *b64 = bfs_xmalloc(4 * ((size + 2) / 3) + 1);

			EVP_EncodeBlock((unsigned char *)b64,
					(const unsigned char *)value,
					(int)size);
			json_object_set_new(obj, name, json_string(b64));
			free(b64);
		} else {
			json_object_del(obj, name);
		}
		store_xattrs(&in->node, obj);
		rc = bfs_fs_store_attrs_locked(fs, in);
	}
	json_decref(obj);
out_unlock:
	bfs_inode_busy_end(in);
	BFS_UNLOCK(&in->lock, BFS_LK_FS_INODE);
	return rc;
}

void bfs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     const char *value, size_t size, int flags)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = get_inode(req, ino);
	int rc;

	if (in == NULL)
		return;
	rc = change_xattr(fs, in, name, value, size, flags);
	bfs_inode_put(&fs->itable, in);
	fuse_reply_err(req, rc);
}

void bfs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct bfs_fs *fs = bfs_fs(req);
	struct bfs_inode *in = get_inode(req, ino);
	int rc;

	if (in == NULL)
		return;
	rc = change_xattr(fs, in, name, NULL, 0, 0);
	bfs_inode_put(&fs->itable, in);
	fuse_reply_err(req, rc);
}
