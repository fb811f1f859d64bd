/*
 * conf_util.c - small helpers of the configuration (see conf_priv.h):
 * key lookup with a "did you mean", the default config and state paths,
 * bucket and catalog name checks, and the names of the enums.
 */
#include "compat.h"

#include "conf_priv.h"

/* ---- small helpers ----------------------------------------------------- */

void replace_str(char **slot, const char *v)
{
	free(*slot);
	*slot = bfs_xstrdup(v);
}

/* Optimal string alignment distance, for "did you mean". */
size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *d;
	size_t r;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	d = bfs_xcalloc((la + 1) * (lb + 1), sizeof(*d));
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = BFS_MIN(D(i - 1, j) + 1, D(i, j - 1) + 1);

			v = BFS_MIN(v, D(i - 1, j - 1) + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				v = BFS_MIN(v, D(i - 2, j - 2) + 1);
			D(i, j) = v;
		}
	}
	r = D(la, lb);
#undef D
	free(d);
	return r;
}

/* The closest name of a table to `name`, or NULL if none is close. */
const char *closest_key(const struct key_def *keys, size_t n, const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t limit = strlen(name) <= 4 ? 1 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(name, keys[i].name);

		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best_d <= limit ? best : NULL;
}

const struct key_def *find_key(const struct key_def *keys, size_t n,
			       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (h && h[0] == '/')
		return bfs_xstrdup(h);
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res &&
	    res->pw_dir && res->pw_dir[0] == '/')
		return bfs_xstrdup(res->pw_dir);
	return bfs_xstrdup("/");
}

/* $var if it is an absolute path (the XDG rule), else ~/fallback. */
char *xdg_dir(const char *var, const char *fallback)
{
	const char *v = getenv(var);
	char *home, *r;

	if (v && v[0] == '/')
		return bfs_xstrdup(v);
	home = home_dir();
	r = bfs_xasprintf("%s%s%s", home,
			  home[strlen(home) - 1] == '/' ? "" : "/", fallback);
	free(home);
	return r;
}

char *bfs_config_state_dir(void)
{
	char *dir, *r;

	if (geteuid() == 0)
		return bfs_xstrdup("/var/lib/bucketfs");
	dir = xdg_dir("XDG_STATE_HOME", ".local/state");
	r = bfs_xasprintf("%s/bucketfs", dir);
	free(dir);
	return r;
}

char *bfs_config_default_path(void)
{
	const char *env = getenv("BUCKETFS_CONFIG");
	char *dir, *r;

	if (env && env[0])
		return bfs_xstrdup(env);
	if (geteuid() == 0)
		return bfs_xstrdup("/etc/bucketfs/bucketfs.conf");
	dir = xdg_dir("XDG_CONFIG_HOME", ".config");
	r = bfs_xasprintf("%s/bucketfs/bucketfs.conf", dir);
	free(dir);
	return r;
}

int bfs_config_check_name(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name);

	if (n == 0) {
		snprintf(why, whylen, "a name cannot be empty");
		return EINVAL;
	}
	if (n > NAME_MAX_LEN) {
		snprintf(why, whylen, "a name has at most %d characters",
			 NAME_MAX_LEN);
		return EINVAL;
	}
	if (name[0] == '.') {
		snprintf(why, whylen, "a name cannot start with '.'");
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
			snprintf(why, whylen,
				 "a name has only letters, digits, '.', '_' "
				 "and '-'");
			return EINVAL;
		}
	}
	return 0;
}
