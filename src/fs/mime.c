/*
 * mime.c - extension → MIME type from /etc/mime.types (mime.h): loaded
 * on first use into a sorted table, looked up with bsearch.
 */
#include "compat.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>

#include "fs/mime.h"

#define MIME_TYPES_FILE "/etc/mime.types"
/* Debian's file has about 2,000 extensions: a bound, not a target */
#define MIME_MAX 16384

struct mime_ext {
	char *ext; /* lower case, no dot */
	char *type;
	size_t line; /* order in the file */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct mime_ext *table; /* set once, read-only after */
static size_t ntable;

static int cmp_ext(const void *a, const void *b)
{
	return strcmp(((const struct mime_ext *)a)->ext,
		      ((const struct mime_ext *)b)->ext);
}

static int cmp_ext_line(const void *a, const void *b)
{
	const struct mime_ext *x = a, *y = b;
	int c = strcmp(x->ext, y->ext);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void load(void)
{
	FILE *f = fopen(MIME_TYPES_FILE, "re");
	char line[1024];
	size_t cap = 0, n = 0;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) && ntable < MIME_MAX) {
		char *save = NULL, *type, *ext;

		if (line[0] == '#')
			continue;
		type = strtok_r(line, " \t\r\n", &save);
		if (type == NULL)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n", &save)) &&
		       ntable < MIME_MAX) {
			if (ntable == cap) {
				cap = cap ? cap * 2 : 512;
				table = bfs_xrealloc(table,
						     cap * sizeof(*table));
			}
			table[ntable].ext = bfs_xstrdup(ext);
			lower(table[ntable].ext);
			table[ntable].type = bfs_xstrdup(type);
			table[ntable].line = ntable;
			ntable++;
		}
	}
	fclose(f);
	/* the first line naming an extension wins: sort by extension and
	 * order, then drop the later ones */
	qsort(table, ntable, sizeof(*table), cmp_ext_line);
	for (size_t i = 0; i < ntable; i++) {
		if (n > 0 && strcmp(table[n - 1].ext, table[i].ext) == 0) {
			free(table[i].ext);
			free(table[i].type);
			continue;
		}
		table[n++] = table[i];
	}
	ntable = n;
}

const char *bfs_mime_type(const char *key)
{
	const char *dot, *slash;
	struct mime_ext want, *hit;
	char ext[64];

	BFS_PCHECK(pthread_once(&once, load));
	dot = strrchr(key, '.');
	slash = strrchr(key, '/');
	if (dot == NULL || (slash && dot < slash) || dot[1] == '\0' ||
	    strlen(dot + 1) >= sizeof(ext))
		return NULL;
	snprintf(ext, sizeof(ext), "%s", dot + 1);
	lower(ext);
	want.ext = ext;
	hit = bsearch(&want, table, ntable, sizeof(*table), cmp_ext);
	return hit ? hit->type : NULL;
}
