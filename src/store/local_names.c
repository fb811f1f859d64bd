/*
 * local_names.c - key segments <-> file names of the local store (see
 * local_priv.h for the encoding): percent-encoding, the %o/%p suffixes,
 * hashed names of long segments and the path of a key under objects/.
 */
#include "compat.h"

#include "store/local_priv.h"

/* ---- key segments <-> file names ---- */

static bool enc_raw(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '%' && c != '/';
}

/* Canonical encoding of seg[0..len) into out (3 * len + 1 bytes). */
static size_t enc_seg(const char *seg, size_t len, char *out)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)seg[i];

		if (enc_raw(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hx[c >> 4];
			out[o++] = hx[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * File name of segment seg[0..len) as an object (type 'o') or as a
 * prefix directory (type 'p'). out has NAME_ROOM + 1 bytes.
 */
void seg_name(const char *seg, size_t len, char type, char *out)
{
	char enc[3 * BFS_KEY_MAX + 1];
	unsigned char d[EVP_MAX_MD_SIZE];
	char hx[HASH_HEX + 1];
	unsigned n = 0;
	size_t elen, keep;

	assert(len <= BFS_KEY_MAX);
	elen = enc_seg(seg, len, enc);
	if (elen + 2 <= NAME_ROOM) {
		snprintf(out, NAME_ROOM + 1, "%s%%%c", enc, type);
		return;
	}
	/* do not cut an escape in half */
	keep = ENC_HASHED_KEEP;
	if (enc[keep - 1] == '%')
		keep -= 1;
	else if (enc[keep - 2] == '%')
		keep -= 2;
	if (EVP_Digest(seg, len, d, &n, EVP_sha256(), NULL) != 1)
		BFS_BUG("cannot compute SHA-256");
	bfs_hex_encode(d, HASH_HEX / 2, hx);
	snprintf(out, NAME_ROOM + 1, "%.*s%%h%s%%%c", (int)keep, enc, hx, type);
}

bool name_hashed(const char *name)
{
	size_t n = strlen(name);

	return n >= 4 + HASH_HEX && name[n - 4 - HASH_HEX] == '%' &&
	       name[n - 3 - HASH_HEX] == 'h';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse a directory entry name. *type is 'o' or 'p'; *seg receives the
 * decoded segment (malloc'd) unless the name is hashed (then NULL).
 * @return 0, or EINVAL when the name is not one this store writes.
 */
int parse_name(const char *name, char *type, char **seg)
{
	size_t n = strlen(name), b, o = 0;
	char *out;

	*seg = NULL;
	if (n < 2 || name[n - 2] != '%' ||
	    (name[n - 1] != 'o' && name[n - 1] != 'p'))
		return EINVAL;
	*type = name[n - 1];
	if (name_hashed(name))
		return 0;
	b = n - 2;
	out = bfs_xmalloc(b + 1);
	for (size_t i = 0; i < b; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= b)
				goto bad;
			hi = hexval(name[i + 1]);
			lo = hexval(name[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			/* canonical only: a name has one spelling */
			if (enc_raw(c) || c == '\0' || c == '/')
				goto bad;
			i += 2;
		} else if (!enc_raw(c)) {
			goto bad;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*seg = out;
	return 0;
bad:
	free(out);
	return EINVAL;
}

int key_check(const char *key)
{
	if (key == NULL || key[0] == '\0')
		return EINVAL;
	if (strlen(key) > BFS_KEY_MAX)
		return ENAMETOOLONG;
	return 0;
}

/* Append "/name" (or "name" at the start) to rel. */
int rel_add(char *rel, size_t *o, const char *name)
{
	size_t n = strlen(name);

	if (*o + n + 2 > REL_MAX)
		return ENAMETOOLONG;
	if (*o > 0)
		rel[(*o)++] = '/';
	memcpy(rel + *o, name, n);
	*o += n;
	rel[*o] = '\0';
	return 0;
}

/*
 * Path of key's file under objects/ (REL_MAX bytes).
 * @return 0, EINVAL (empty key), ENAMETOOLONG (over 1024 bytes).
 */
int key_path(const char *key, char *rel)
{
	const char *s = key, *slash;
	char name[NAME_ROOM + 1];
	size_t o = 0;
	int rc = key_check(key);

	if (rc != 0)
		return rc;
	rel[0] = '\0';
	while ((slash = strchr(s, '/')) != NULL) {
		seg_name(s, (size_t)(slash - s), 'p', name);
		rc = rel_add(rel, &o, name);
		if (rc != 0)
			return rc;
		s = slash + 1;
	}
	seg_name(s, strlen(s), 'o', name);
	return rel_add(rel, &o, name);
}

/* rel, or "." for the objects root */
const char *rel_or_dot(const char *rel)
{
	return rel[0] ? rel : ".";
}

char *rel_join(const char *rel, const char *name)
{
	return rel[0] ? bfs_xasprintf("%s/%s", rel, name) : bfs_xstrdup(name);
}
