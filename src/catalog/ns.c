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

size_t bfs_ns_utf8_seq(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, C0/C1 or past U+10FFFF */
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

int bfs_ns_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strchr(name, '/') != NULL)
		return EINVAL;
	if (n > 255)
		return ENAMETOOLONG;
	for (const char *p = name; *p;) {
		size_t l = bfs_ns_utf8_seq(p);

		if (l == 0)
			return EILSEQ;
		p += l;
	}
	return 0;
}

void bfs_ns_name_printable(const char *name, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (const char *p = name; *p && o + 1 < outlen;) {
		size_t l = bfs_ns_utf8_seq(p);
		unsigned char c = (unsigned char)*p;

		if (l > 1 || (l == 1 && c >= 0x20 && c != 0x7f && c != '\\')) {
			if (o + l >= outlen)
				break;
			memcpy(out + o, p, l);
			o += l;
			p += l;
			continue;
		}
		if (o + 4 >= outlen)
			break;
		snprintf(out + o, outlen - o, "\\x%02x", c);
		o += 4;
		p++;
	}
	out[o] = '\0';
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
	if (rc == EILSEQ) {
		char shown[1100];

		bfs_ns_name_printable(name, shown, sizeof(shown));
		bfs_log(LOG_NOTICE,
			"'%s': cannot create '%s': the name is not valid "
			"UTF-8, "
			"and object keys are UTF-8",
			dir->ns ? dir->ns->name : "?", shown);
	}
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
