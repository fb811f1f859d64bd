/*
 * conf_file.c - the config file (see conf.h): finding and reading it with
 * its permission checks, -o options, lookups in a loaded config and
 * releasing it.
 */
#include "compat.h"

#include "conf_priv.h"
#include "util.h"

/* ---- files ------------------------------------------------------------- */

static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return bfs_xstrdup(path);
	return bfs_xasprintf("%s/%s", cwd, path);
}

static int read_config_file(const char *path, char **out, size_t *outlen,
			    struct stat *st, char *err, size_t errlen)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open config file '%s': %s", path,
			 strerror(rc));
		return rc;
	}
	if (fstat(fd, st) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot stat config file '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "config file '%s' is not a regular file",
			 path);
		rc = EINVAL;
		goto out;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(err, errlen,
			 "config file '%s' belongs to uid %u, neither you nor "
			 "root: refusing to trust it",
			 path, (unsigned)st->st_uid);
		rc = EACCES;
		goto out;
	}
	if (st->st_mode & 022) {
		snprintf(err, errlen,
			 "config file '%s' is writable by group or others "
			 "(mode %04o): run 'chmod 600 %s'",
			 path, (unsigned)(st->st_mode & 07777), path);
		rc = EACCES;
		goto out;
	}
	if (st->st_size > (off_t)CONFIG_MAX_BYTES) {
		snprintf(err, errlen,
			 "config file '%s' is too large (more than %u bytes)",
			 path, CONFIG_MAX_BYTES);
		rc = EFBIG;
		goto out;
	}
	rc = bfs_read_max(fd, CONFIG_MAX_BYTES, out, outlen);
	if (rc == EFBIG)
		snprintf(err, errlen,
			 "config file '%s' is too large (more than %u bytes)",
			 path, CONFIG_MAX_BYTES);
	else if (rc != 0)
		snprintf(err, errlen, "cannot read config file '%s': %s", path,
			 strerror(rc));
out:
	close(fd);
	return rc;
}

int bfs_config_load(const char *path, struct bfs_config *cfg, char *err,
		    size_t errlen)
{
	bool is_explicit = path != NULL;
	char *def = NULL, *abs = NULL, *buf = NULL;
	bool has_credentials = false;
	struct stat st;
	size_t len = 0;
	int rc;

	if (errlen)
		err[0] = '\0';
	memset(cfg, 0, sizeof(*cfg));
	if (!path) {
		const char *env = getenv("BUCKETFS_CONFIG");

		is_explicit = env && env[0];
		path = def = bfs_config_default_path();
	}
	rc = read_config_file(path, &buf, &len, &st, err, errlen);
	if (rc == ENOENT && !is_explicit) {
		/* no file yet: defaults and builtin only */
		config_init(cfg);
		if (errlen)
			err[0] = '\0';
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	abs = absolute_path(path);
	rc = parse_buffer(abs, buf, len, cfg, &has_credentials, err, errlen);
	if (rc != 0)
		goto out;
	if (has_credentials && (st.st_mode & 044)) {
		snprintf(err, errlen,
			 "config file '%s' holds credentials and is readable "
			 "by group or others (mode %04o): run 'chmod 600 %s'",
			 abs, (unsigned)(st.st_mode & 07777), abs);
		bfs_config_release(cfg);
		rc = EACCES;
		goto out;
	}
	cfg->path = abs;
	abs = NULL;
out:
	free(buf);
	free(abs);
	free(def);
	return rc;
}

int bfs_config_set_option(struct bfs_config *cfg, const char *opt, char *err,
			  size_t errlen)
{
	const char *eq = strchr(opt, '=');
	size_t n = eq ? (size_t)(eq - opt) : strlen(opt);
	const struct key_def *k = NULL;
	char why[256];

	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; i < BFS_ARRAY_SIZE(opt_keys); i++)
		if (strlen(opt_keys[i].name) == n &&
		    strncmp(opt_keys[i].name, opt, n) == 0)
			k = &opt_keys[i];
	if (!k)
		return ENOENT;
	if (!eq && k->type != KT_BOOL) {
		snprintf(err, errlen, "option '%s' needs a value (-o %s=...)",
			 k->name, k->name);
		return EINVAL;
	}
	if (set_value(k, &cfg->opts, eq ? eq + 1 : "true", why, sizeof(why)) !=
	    0) {
		snprintf(err, errlen, "bad value '%s' for -o %s: %s", eq + 1,
			 k->name, why);
		return EINVAL;
	}
	if (k->off == offsetof(struct bfs_options, builtin_dir) &&
	    cfg->nbuckets > 0)
		replace_str(&cfg->buckets[0].dir, cfg->opts.builtin_dir);
	return 0;
}

void bfs_config_release(struct bfs_config *cfg)
{
	struct bfs_options *o = &cfg->opts;

	free(cfg->path);
	free(o->builtin_dir);
	free(o->cache_dir);
	free(o->log_level);
	free(o->log_file);
	free(o->metrics);
	free(o->debug);
	for (size_t i = 0; i < cfg->nbuckets; i++) {
		struct bfs_bucket_conf *b = &cfg->buckets[i];

		free(b->name);
		free(b->bucket);
		free(b->region);
		free(b->endpoint);
		free(b->account_id);
		free(b->prefix);
		free(b->dir);
		free(b->access_key_id);
		free(b->secret_access_key);
		free(b->profile);
		free(b->sse_kms_key_id);
		free(b->sse_customer_key);
		free(b->storage_class);
		free(b->ca_bundle);
		free(b->proxy);
	}
	free(cfg->buckets);
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		struct bfs_catalog_conf *c = &cfg->catalogs[i];

		free(c->name);
		free(c->bucket);
		free(c->prefix);
		for (size_t j = 0; j < c->ntables; j++) {
			free(c->tables[j].name);
			free(c->tables[j].pattern);
		}
		free(c->tables);
	}
	free(cfg->catalogs);
	memset(cfg, 0, sizeof(*cfg));
}

const struct bfs_bucket_conf *bfs_config_bucket(const struct bfs_config *cfg,
						const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < cfg->nbuckets; i++)
		if (strcmp(cfg->buckets[i].name, name) == 0)
			return &cfg->buckets[i];
	return NULL;
}

const struct bfs_catalog_conf *bfs_config_catalog(const struct bfs_config *cfg,
						  const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < cfg->ncatalogs; i++)
		if (strcmp(cfg->catalogs[i].name, name) == 0)
			return &cfg->catalogs[i];
	return NULL;
}
