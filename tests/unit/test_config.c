/*
 * test_config.c - unit tests of src/conf*.c and src/config_write.c:
 * every broken file of tests/data/config gives its expected
 * "FILE:LINE: message"; good files parse to the right values; defaults,
 * discovery, precedence and -o; permission rules; line-preserving
 * atomic edits; the generated sample and man page are up to date.
 *
 * `test_config --print-sample` and `--print-man` print the generated
 * docs (make config-docs).
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "config_write.h"
#include "tests/unit/tap.h"

static char tmp[64];

static char *src_dir(void)
{
	const char *env = getenv("BFS_SRCDIR");
	char *p, *s;

	if (env && env[0])
		return bfs_xstrdup(env);
	/* tests/unit/test_config.c, compiled with its source path */
	p = bfs_xstrdup(__FILE__);
	for (int i = 0; i < 3; i++) {
		s = strrchr(p, '/');
		if (!s) {
			free(p);
			return bfs_xstrdup(".");
		}
		*s = '\0';
	}
	return p;
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = bfs_xmalloc(1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		BFS_BUG("cannot write %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) != 0)
		BFS_BUG("chmod %s: %s", path, strerror(errno));
	close(fd);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the broken (and good) files of tests/data/config ----------------- */

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int conf_only(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static void test_data_files(const char *src)
{
	char *dir = bfs_xasprintf("%s/tests/data/config", src);
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, conf_only, by_name);

	tap_ok(n >= 40, "tests/data/config has the broken files (%d)", n);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path = bfs_xasprintf("%s/%s", dir, name);
		char *copy = bfs_xasprintf("%s/%s", tmp, name);
		char *text = read_text(path, NULL);
		const char *expect, *eol;
		char *want = NULL, err[1024] = "";
		struct bfs_config cfg = {0};
		int rc;

		expect = text ? strstr(text, "; expect: ") : NULL;
		if (!expect) {
			tap_ok(0, "%s: has a '; expect:' first line", name);
			goto next;
		}
		expect += strlen("; expect: ");
		eol = expect + strcspn(expect, "\r\n");
		/* a copy at mode 0600: git checkouts are 0644 */
		write_text(copy, text, 0600);
		rc = bfs_config_load(copy, &cfg, err, sizeof(err));
		if ((size_t)(eol - expect) == 2 &&
		    strncmp(expect, "ok", 2) == 0) {
			if (!tap_ok(rc == 0, "%s: loads", name))
				tap_diag("error: %s", err);
		} else {
			want = bfs_xasprintf("%s:%.*s", copy,
					     (int)(eol - expect), expect);
			if (!tap_ok(rc == EINVAL && strstr(err, want) != NULL,
				    "%s: %.*s", name, (int)(eol - expect),
				    expect))
				tap_diag("rc %d, got: %s", rc, err);
			/* a failed load leaves nothing behind */
			if (!tap_ok(cfg.nbuckets == 0 && cfg.path == NULL,
				    "%s: failed load leaves cfg empty", name))
				tap_diag("nbuckets %zu", cfg.nbuckets);
		}
		bfs_config_release(&cfg);
	next:
		free(want);
		free(text);
		free(copy);
		free(path);
		free(ents[i]);
	}
	free(ents);
	free(dir);
}

/* ---- values of a good file --------------------------------------------- */

static const char good[] =
	"[bucketfs]\n"
	"builtin_dir = /srv/bfs/builtin\n"
	"cache_dir = ~/cache\n"
	"cache_size = 20G\n"
	"log_level = debug\n"
	"debug = http,fs\n"
	"metadata = objects\n"
	"attr_ttl = 250ms\n"
	"dir_ttl = 2m\n"
	"neg_ttl = 0\n"
	"uid = 1000\n"
	"gid = root\n"
	"umask = 027\n"
	"file_mode = 0600\n"
	"dir_mode = 700\n"
	"ro = yes\n"
	"multipart_threshold = 128MiB\n"
	"part_size = 8M\n"
	"connections = 32\n"
	"upload_parallel = 8\n"
	"connect_timeout = 1.5s\n"
	"request_timeout = 1m\n"
	"retries = 0\n"
	"max_keys = 10\n"
	"max_inflight = 1G\n"
	"\n"
	"[catalog sales]            ; before its bucket: fine\n"
	"type = bucket-tables\n"
	"bucket = lake\n"
	"prefix = /warehouse\n"
	"table.orders = raw/orders/**/*.parquet\n"
	"table.customers = raw/customers/\n"
	"\n"
	"[bucket lake]\n"
	"provider = r2\n"
	"account_id = 0123456789abcdef0123456789abcdef\n"
	"bucket = lake-prod\n"
	"prefix = data\n"
	"access_key_id = enc:v1:AAAA\n"
	"secret_access_key = enc:v1:BBBB\n"
	"\n"
	"[bucket minio]\n"
	"provider = custom\n"
	"endpoint = http://localhost:9000/\n"
	"bucket = scratch\n"
	"path_style = false\n"
	"\n"
	"[bucket far]\n"
	"provider = custom\n"
	"endpoint = http://10.1.2.3:9000\n"
	"allow_insecure = true\n"
	"bucket = b\n"
	"region = moon-1\n"
	"\n"
	"[bucket home]\n"
	"provider = local\n"
	"dir = /srv/home\n"
	"\n"
	"[catalog wh]\n"
	"type = iceberg\n"
	"bucket = builtin\n"
	"prefix = iceberg/\n";

static void test_good_values(void)
{
	struct bfs_config cfg = {0};
	const struct bfs_options *o = &cfg.opts;
	const struct bfs_bucket_conf *b;
	const struct bfs_catalog_conf *c;
	char err[1024] = "";
	char *home = getenv("HOME") ? bfs_xasprintf("%s/cache", getenv("HOME"))
				    : NULL;
	int rc;

	rc = bfs_config_load_buffer("good", good, strlen(good), &cfg, err,
				    sizeof(err));
	if (!tap_ok(rc == 0, "good config loads")) {
		tap_diag("%s", err);
		free(home);
		return;
	}
	tap_ok(strcmp(o->builtin_dir, "/srv/bfs/builtin") == 0 &&
		       (!home || strcmp(o->cache_dir, home) == 0),
	       "paths, with ~/ expanded");
	tap_ok(o->cache_size == 20ull << 30 &&
		       o->multipart_threshold == 128ull << 20 &&
		       o->part_size == 8ull << 20 &&
		       o->max_inflight == 1ull << 30,
	       "sizes with K/M/G suffixes");
	tap_ok(o->attr_ttl == 0.25 && o->dir_ttl == 120 && o->neg_ttl == 0 &&
		       o->connect_timeout == 1.5 && o->request_timeout == 60,
	       "durations in ms, s, m");
	tap_ok(o->uid == 1000 && o->gid == 0, "uid number and gid name");
	tap_ok(o->umask == 027 && o->file_mode == 0600 && o->dir_mode == 0700,
	       "octal modes");
	tap_ok(o->ro && o->connections == 32 && o->upload_parallel == 8 &&
		       o->retries == 0 && o->max_keys == 10,
	       "bool and numbers");
	tap_ok(strcmp(o->log_level, "debug") == 0 &&
		       strcmp(o->debug, "http,fs") == 0 &&
		       o->metadata == BFS_METADATA_OBJECTS,
	       "log_level, debug, metadata");
	tap_ok(cfg.nbuckets == 5 &&
		       strcmp(cfg.buckets[0].name, "builtin") == 0 &&
		       cfg.buckets[0].provider == BFS_PROVIDER_LOCAL &&
		       strcmp(cfg.buckets[0].dir, "/srv/bfs/builtin") == 0 &&
		       cfg.buckets[0].line == 0,
	       "buckets[0] is builtin in builtin_dir");
	b = bfs_config_bucket(&cfg, "lake");
	tap_ok(b && b->provider == BFS_PROVIDER_R2 &&
		       strcmp(b->account_id,
			      "0123456789abcdef0123456789abcdef") == 0 &&
		       strcmp(b->bucket, "lake-prod") == 0 &&
		       strcmp(b->prefix, "data/") == 0 && b->region == NULL &&
		       b->path_style == -1 && b->line == 34 &&
		       strcmp(b->access_key_id, "enc:v1:AAAA") == 0,
	       "r2 bucket, prefix gets its '/'");
	b = bfs_config_bucket(&cfg, "minio");
	tap_ok(b && b->provider == BFS_PROVIDER_CUSTOM && b->path_style == 0 &&
		       strcmp(b->endpoint, "http://localhost:9000/") == 0 &&
		       !b->allow_insecure && !b->access_key_id,
	       "custom bucket on loopback http without allow_insecure");
	b = bfs_config_bucket(&cfg, "far");
	tap_ok(b && b->allow_insecure && strcmp(b->region, "moon-1") == 0,
	       "non-loopback http with allow_insecure");
	b = bfs_config_bucket(&cfg, "home");
	tap_ok(b && b->provider == BFS_PROVIDER_LOCAL &&
		       strcmp(b->dir, "/srv/home") == 0,
	       "local bucket");
	c = bfs_config_catalog(&cfg, "sales");
	tap_ok(c && c->type == BFS_CATALOG_BUCKET_TABLES &&
		       strcmp(c->bucket, "lake") == 0 &&
		       strcmp(c->prefix, "warehouse/") == 0 &&
		       c->ntables == 2 &&
		       strcmp(c->tables[0].name, "orders") == 0 &&
		       strcmp(c->tables[0].pattern,
			      "raw/orders/**/*.parquet") == 0 &&
		       c->tables[0].line == 31 &&
		       strcmp(c->tables[1].name, "customers") == 0,
	       "bucket-tables catalog with its tables");
	c = bfs_config_catalog(&cfg, "wh");
	tap_ok(c && c->type == BFS_CATALOG_ICEBERG &&
		       strcmp(c->bucket, "builtin") == 0 &&
		       strcmp(c->prefix, "iceberg/") == 0,
	       "iceberg catalog on builtin");
	tap_ok(!bfs_config_bucket(&cfg, "nope") &&
		       !bfs_config_catalog(&cfg, "lake") &&
		       !bfs_config_bucket(&cfg, NULL),
	       "lookups of missing names");
	bfs_config_release(&cfg);
	bfs_config_release(&cfg); /* harmless twice */
	free(home);
}

static void test_defaults_and_options(void)
{
	struct bfs_config cfg = {0};
	const struct bfs_options *o = &cfg.opts;
	char err[1024] = "";
	const char *text = "[bucketfs]\nattr_ttl = 3s\nretries = 2\n";
	int rc;

	rc = bfs_config_load_buffer("empty", "", 0, &cfg, err, sizeof(err));
	tap_ok(rc == 0 && cfg.nbuckets == 1 && cfg.ncatalogs == 0,
	       "empty text: only builtin");
	tap_ok(o->attr_ttl == 1 && o->dir_ttl == 5 && o->neg_ttl == 1 &&
		       o->umask == 022 && o->file_mode == 0644 &&
		       o->dir_mode == 0755 && !o->ro &&
		       o->multipart_threshold == 64ull << 20 &&
		       o->part_size == 16ull << 20 && o->connections == 32 &&
		       o->upload_parallel == 4 && o->connect_timeout == 10 &&
		       o->request_timeout == 10 && o->retries == 5 &&
		       o->max_keys == 1000 && o->max_inflight == 64ull << 20 &&
		       o->metadata == BFS_METADATA_DEFAULT &&
		       o->cache_size == 0 &&
		       strcmp(o->log_level, "info") == 0 &&
		       strcmp(o->debug, "") == 0,
	       "documented defaults");
	tap_ok(o->uid == getuid() && o->gid == getgid(),
	       "uid and gid default to the mounting user");
	if (geteuid() == 0)
		tap_ok(strcmp(o->builtin_dir, "/var/lib/bucketfs/builtin") ==
				       0 &&
			       strcmp(o->cache_dir, "/var/cache/bucketfs") == 0,
		       "root: builtin_dir and cache_dir under /var");
	else
		tap_ok(strstr(o->builtin_dir, "/bucketfs/builtin") &&
			       o->builtin_dir[0] == '/' &&
			       strstr(o->cache_dir, "/bucketfs") &&
			       o->cache_dir[0] == '/',
		       "user: builtin_dir and cache_dir under XDG dirs");
	bfs_config_release(&cfg);

	/* precedence: defaults < file < -o */
	rc = bfs_config_load_buffer("p", text, strlen(text), &cfg, err,
				    sizeof(err));
	tap_ok(rc == 0 && o->attr_ttl == 3 && o->retries == 2 &&
		       o->dir_ttl == 5,
	       "file overrides defaults");
	rc = bfs_config_set_option(&cfg, "attr_ttl=500ms", err, sizeof(err));
	tap_ok(rc == 0 && o->attr_ttl == 0.5 && o->retries == 2,
	       "-o overrides the file");
	rc = bfs_config_set_option(&cfg, "ro", err, sizeof(err));
	tap_ok(rc == 0 && o->ro, "-o ro alone sets a bool");
	rc = bfs_config_set_option(&cfg, "ro=false", err, sizeof(err));
	tap_ok(rc == 0 && !o->ro, "-o ro=false");
	rc = bfs_config_set_option(&cfg, "allow_other", err, sizeof(err));
	tap_ok(rc == ENOENT, "-o of FUSE's is ENOENT");
	rc = bfs_config_set_option(&cfg, "attr_tt=1", err, sizeof(err));
	tap_ok(rc == ENOENT, "-o unknown is ENOENT");
	rc = bfs_config_set_option(&cfg, "attr_ttl=soon", err, sizeof(err));
	tap_ok(rc == EINVAL &&
		       strstr(err, "bad value 'soon' for -o attr_ttl") &&
		       o->attr_ttl == 0.5,
	       "-o bad value: EINVAL, value unchanged");
	rc = bfs_config_set_option(&cfg, "cache_size", err, sizeof(err));
	tap_ok(rc == EINVAL && strstr(err, "needs a value"),
	       "-o without value for a non-bool");
	rc = bfs_config_set_option(&cfg, "builtin_dir=/srv/x", err,
				   sizeof(err));
	tap_ok(rc == 0 && strcmp(cfg.buckets[0].dir, "/srv/x") == 0,
	       "-o builtin_dir moves the builtin bucket");
	rc = bfs_config_set_option(&cfg, "uid=root", err, sizeof(err));
	tap_ok(rc == 0 && o->uid == 0, "-o uid by name");
	rc = bfs_config_set_option(&cfg, "file_mode=0640", err, sizeof(err));
	tap_ok(rc == 0 && o->file_mode == 0640, "-o file_mode");
	rc = bfs_config_set_option(&cfg, "multipart_threshold=6g", err,
				   sizeof(err));
	tap_ok(rc == EINVAL && strstr(err, "between 5M and 5G"),
	       "-o out of range");
	bfs_config_release(&cfg);
}

/* Run in a child dropped to nobody: the non-root defaults. */
static int user_defaults_child(void)
{
	struct bfs_config cfg = {0};
	char err[512];
	char *p;
	int bad = 0;

	if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		return 100;
	unsetenv("BUCKETFS_CONFIG");
	setenv("XDG_CONFIG_HOME", "/nonexistent-bfs/cfg", 1);
	setenv("XDG_DATA_HOME", "/nonexistent-bfs/data", 1);
	setenv("XDG_CACHE_HOME", "relative/is/ignored", 1);
	setenv("HOME", "/nonexistent-bfs/home", 1);
	p = bfs_config_default_path();
	bad |= strcmp(p, "/nonexistent-bfs/cfg/bucketfs/bucketfs.conf") != 0;
	free(p);
	if (bfs_config_load(NULL, &cfg, err, sizeof(err)) != 0)
		return 101;
	bad |= (cfg.path != NULL) << 1;
	bad |= (strcmp(cfg.opts.builtin_dir,
		       "/nonexistent-bfs/data/bucketfs/builtin") != 0)
	       << 2;
	bad |= (strcmp(cfg.opts.cache_dir,
		       "/nonexistent-bfs/home/.cache/bucketfs") != 0)
	       << 3;
	bad |= (cfg.opts.uid != getuid()) << 4;
	bfs_config_release(&cfg);
	unsetenv("XDG_CONFIG_HOME");
	p = bfs_config_default_path();
	bad |= (strcmp(p, "/nonexistent-bfs/home/.config/bucketfs/"
			  "bucketfs.conf") != 0)
	       << 5;
	free(p);
	return bad;
}

static void test_discovery(void)
{
	char *path = bfs_xasprintf("%s/disc.conf", tmp);
	char *other = bfs_xasprintf("%s/other.conf", tmp);
	char *missing = bfs_xasprintf("%s/missing.conf", tmp);
	struct bfs_config cfg = {0};
	char err[1024];
	char *p;
	int rc, status = -1;
	pid_t pid;

	write_text(path, "[bucketfs]\nretries = 7\n", 0600);
	write_text(other, "[bucketfs]\nretries = 9\n", 0600);

	setenv("BUCKETFS_CONFIG", path, 1);
	p = bfs_config_default_path();
	tap_ok(strcmp(p, path) == 0, "$BUCKETFS_CONFIG is the default path");
	free(p);
	rc = bfs_config_load(NULL, &cfg, err, sizeof(err));
	tap_ok(rc == 0 && cfg.opts.retries == 7 && cfg.path &&
		       strcmp(cfg.path, path) == 0,
	       "$BUCKETFS_CONFIG is read");
	bfs_config_release(&cfg);
	rc = bfs_config_load(other, &cfg, err, sizeof(err));
	tap_ok(rc == 0 && cfg.opts.retries == 9,
	       "--config wins over $BUCKETFS_CONFIG");
	bfs_config_release(&cfg);
	setenv("BUCKETFS_CONFIG", missing, 1);
	rc = bfs_config_load(NULL, &cfg, err, sizeof(err));
	tap_ok(rc == ENOENT && strstr(err, "missing.conf"),
	       "missing $BUCKETFS_CONFIG is an error");
	unsetenv("BUCKETFS_CONFIG");
	rc = bfs_config_load(missing, &cfg, err, sizeof(err));
	tap_ok(rc == ENOENT && strstr(err, "cannot open config file"),
	       "missing --config file is ENOENT");
	if (geteuid() == 0) {
		p = bfs_config_default_path();
		tap_ok(strcmp(p, "/etc/bucketfs/bucketfs.conf") == 0,
		       "root: /etc/bucketfs/bucketfs.conf");
		free(p);
	} else {
		p = bfs_config_default_path();
		tap_ok(strstr(p, "/bucketfs/bucketfs.conf") && p[0] == '/' &&
			       strncmp(p, "/etc/", 5) != 0,
		       "user: XDG config path");
		free(p);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(user_defaults_child());
	waitpid(pid, &status, 0);
	if (!tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "user: XDG discovery and defaults, missing file is fine"))
		tap_diag("child status %d", status);
	{
		/* a relative path is kept absolute (the daemon chdirs) */
		char cwd[4096];

		if (getcwd(cwd, sizeof(cwd)) && chdir(tmp) == 0) {
			rc = bfs_config_load("disc.conf", &cfg, err,
					     sizeof(err));
			tap_ok(rc == 0 && strcmp(cfg.path, path) == 0,
			       "relative --config made absolute");
			bfs_config_release(&cfg);
			if (chdir(cwd) != 0)
				BFS_BUG("chdir back");
		}
	}
	free(path);
	free(other);
	free(missing);
}

static void test_permissions(void)
{
	char *path = bfs_xasprintf("%s/perm.conf", tmp);
	struct bfs_config cfg = {0};
	char err[1024];
	const char *plain = "[bucketfs]\nretries = 1\n";
	const char *secret = "[bucket g]\nprovider = gcs\nbucket = b\n"
			     "access_key_id = enc:v1:AAAA\n"
			     "secret_access_key = enc:v1:AAAA\n";
	int rc;

	write_text(path, plain, 0644);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == 0, "0644 without credentials is fine");
	bfs_config_release(&cfg);
	write_text(path, secret, 0644);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == EACCES && strstr(err, "holds credentials") &&
		       strstr(err, "chmod 600") && cfg.nbuckets == 0,
	       "0644 with credentials is refused");
	write_text(path, secret, 0600);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == 0, "0600 with credentials is fine");
	bfs_config_release(&cfg);
	write_text(path, plain, 0620);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == EACCES && strstr(err, "writable by group or others"),
	       "group-writable is refused");
	write_text(path, plain, 0602);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == EACCES, "world-writable is refused");
	rc = bfs_config_load(tmp, &cfg, err, sizeof(err));
	tap_ok(rc == EINVAL && strstr(err, "not a regular file"),
	       "a directory is refused");
	free(path);
}

/* A config file of n bytes: [bucketfs], then comment lines. */
static char *text_of_size(size_t n)
{
	char *t = bfs_xmalloc(n + 1);

	memset(t, '#', n);
	memcpy(t, "[bucketfs]\n", 11);
	for (size_t i = 11 + 63; i < n; i += 64)
		t[i] = '\n';
	t[n] = '\0';
	return t;
}

/* both readers of the config file stop at 1 MiB, loading and editing */
static void test_size_bound(void)
{
	char *path = bfs_xasprintf("%s/size.conf", tmp);
	char *at = text_of_size(1u << 20), *over = text_of_size((1u << 20) + 1);
	struct bfs_config_edit *e = NULL;
	struct bfs_config cfg = {0};
	char err[1024] = "";
	int rc;

	write_text(path, at, 0600);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == 0, "a config file of 1 MiB loads (%s)", err);
	bfs_config_release(&cfg);
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	tap_ok(rc == 0 && e, "edit: a config file of 1 MiB opens (%s)", err);
	bfs_config_edit_free(e);
	e = NULL;
	write_text(path, over, 0600);
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == EFBIG && strstr(err, "is too large (more than 1048576"),
	       "a config file of 1 MiB + 1 byte is refused (%s)", err);
	bfs_config_release(&cfg);
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	tap_ok(rc == EFBIG && !e && strstr(err, "is too large"),
	       "edit: a config file of 1 MiB + 1 byte is refused (%s)", err);
	free(at);
	free(over);
	free(path);
}

static void test_secrets_not_echoed(void)
{
	struct bfs_config cfg = {0};
	char err[1024];
	const char *text = "[bucket g]\nprovider = gcs\nbucket = b\n"
			   "access_key_id = AKIDPLAINTEXTVALUE\n"
			   "secret_access_key = SECRETPLAINTEXTVALUE\n";
	const char *bad = "[bucket g]\nprovider = gcs\nbucket = b\n"
			  "access_key_id = enc:v9:SECRETSECRET\n";
	const char *ok = "[bucket g]\nprovider = gcs\nbucket = b\n"
			 "allow_plaintext_credentials = true\n"
			 "access_key_id = AKIDPLAINTEXTVALUE\n"
			 "secret_access_key = SECRETPLAINTEXTVALUE\n";
	int rc;

	rc = bfs_config_load_buffer("s", text, strlen(text), &cfg, err,
				    sizeof(err));
	tap_ok(rc == EINVAL &&
		       strstr(err, "s:4: access_key_id of bucket "
				   "'g' is not encrypted") &&
		       !strstr(err, "PLAINTEXTVALUE"),
	       "plaintext refused without echoing it");
	rc = bfs_config_load_buffer("s", bad, strlen(bad), &cfg, err,
				    sizeof(err));
	tap_ok(rc == EINVAL && !strstr(err, "SECRET"),
	       "bad secret format not echoed");
	rc = bfs_config_load_buffer("s", ok, strlen(ok), &cfg, err,
				    sizeof(err));
	tap_ok(rc == 0 && cfg.buckets[1].allow_plaintext_credentials,
	       "plaintext allowed with allow_plaintext_credentials");
	bfs_config_release(&cfg);
}

/* ---- config_write ------------------------------------------------------ */

static const char edit_base[] = "# my bucketfs configuration\n"
				"\n"
				"[bucketfs]\n"
				"cache_size = 1G   ; keep it small\n"
				"\n"
				"; the lake, since 2024\n"
				"[bucket lake]\n"
				"provider = gcs\n"
				"bucket = lake-prod\n"
				"# trailing note of lake\n"
				"\n"
				"; scratch space\n"
				"[bucket  scratch]\n"
				"provider = local\n"
				"dir = /srv/scratch\n";

static void test_edit(void)
{
	char *path = bfs_xasprintf("%s/sub/dir/edit.conf", tmp);
	struct bfs_config_edit *e = NULL;
	struct bfs_config cfg = {0};
	struct stat st;
	char err[1024] = "", *text, *want;
	int rc;

	/* a new file, in a directory that does not exist yet */
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	tap_ok(rc == 0 && !bfs_config_edit_has_section(e, "bucket x"),
	       "edit: open a missing file");
	bfs_config_edit_set(e, "bucket x", "provider", "gcs");
	bfs_config_edit_set(e, "bucket x", "bucket", "bx");
	rc = bfs_config_edit_commit(e, err, sizeof(err));
	tap_ok(rc == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	       "edit: new file created with mode 0600");
	text = read_text(path, NULL);
	tap_ok(text && strcmp(text, "[bucket x]\nprovider = gcs\n"
				    "bucket = bx\n") == 0,
	       "edit: new file text");
	free(text);
	bfs_config_edit_free(e);

	/* edits of an existing file keep everything else */
	write_text(path, edit_base, 0644);
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	tap_ok(rc == 0 && bfs_config_edit_has_section(e, "bucket scratch") &&
		       bfs_config_edit_has_section(e, "bucketfs"),
	       "edit: sections found, blanks in headers ignored");
	rc = bfs_config_edit_set(e, "bucket lake", "bucket", "lake-v2");
	rc |= bfs_config_edit_set(e, "bucket lake", "prefix", "raw/");
	rc |= bfs_config_edit_set(e, "bucket r2", "provider", "r2");
	rc |= bfs_config_edit_set(e, "bucket r2", "bucket", "b");
	rc |= bfs_config_edit_set(e, "bucket r2", "account_id",
				  "0123456789abcdef0123456789abcdef");
	tap_ok(rc == 0, "edit: set keys");
	text = bfs_config_edit_text(e);
	want = "# my bucketfs configuration\n"
	       "\n"
	       "[bucketfs]\n"
	       "cache_size = 1G   ; keep it small\n"
	       "\n"
	       "; the lake, since 2024\n"
	       "[bucket lake]\n"
	       "provider = gcs\n"
	       "bucket = lake-v2\n"
	       "prefix = raw/\n"
	       "# trailing note of lake\n"
	       "\n"
	       "; scratch space\n"
	       "[bucket  scratch]\n"
	       "provider = local\n"
	       "dir = /srv/scratch\n"
	       "\n"
	       "[bucket r2]\n"
	       "provider = r2\n"
	       "bucket = b\n"
	       "account_id = 0123456789abcdef0123456789abcdef\n";
	if (!tap_ok(strcmp(text, want) == 0,
		    "edit: replace in place, add after the last key, append "
		    "a section"))
		tap_diag("got:\n%s", text);
	free(text);
	rc = bfs_config_edit_remove_section(e, "bucket lake");
	tap_ok(rc == 0, "edit: remove a section");
	rc = bfs_config_edit_unset(e, "bucketfs", "cache_size");
	tap_ok(rc == 0, "edit: unset a key");
	tap_ok(bfs_config_edit_unset(e, "bucketfs", "cache_size") == ENOENT &&
		       bfs_config_edit_remove_section(e, "bucket lake") ==
			       ENOENT &&
		       bfs_config_edit_unset(e, "bucket zz", "x") == ENOENT,
	       "edit: missing key or section is ENOENT");
	text = bfs_config_edit_text(e);
	want = "# my bucketfs configuration\n"
	       "\n"
	       "[bucketfs]\n"
	       "\n"
	       "; scratch space\n"
	       "[bucket  scratch]\n"
	       "provider = local\n"
	       "dir = /srv/scratch\n"
	       "\n"
	       "[bucket r2]\n"
	       "provider = r2\n"
	       "bucket = b\n"
	       "account_id = 0123456789abcdef0123456789abcdef\n";
	if (!tap_ok(strcmp(text, want) == 0,
		    "edit: removal takes the attached comments and keeps "
		    "the next section's"))
		tap_diag("got:\n%s", text);
	free(text);
	tap_ok(bfs_config_edit_set(e, "bucket r2", "region", "a\nb") ==
			       EINVAL &&
		       bfs_config_edit_set(e, "bucket r2", "region", "x ; y") ==
			       EINVAL &&
		       bfs_config_edit_set(e, "bucket r2", "region", " x") ==
			       EINVAL &&
		       bfs_config_edit_set(e, "bucket r2", "bad key", "x") ==
			       EINVAL &&
		       bfs_config_edit_set(e, "bucket .r2", "region", "x") ==
			       EINVAL &&
		       bfs_config_edit_set(e, "bukket r2", "region", "x") ==
			       EINVAL,
	       "edit: values and names that cannot be written are EINVAL");
	rc = bfs_config_edit_commit(e, err, sizeof(err));
	tap_ok(rc == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	       "edit: commit makes the file 0600");
	rc = bfs_config_load(path, &cfg, err, sizeof(err));
	tap_ok(rc == 0 && bfs_config_bucket(&cfg, "r2") &&
		       !bfs_config_bucket(&cfg, "lake"),
	       "edit: committed file loads");
	bfs_config_release(&cfg);

	/* an edit that would break the file is refused, nothing written */
	text = read_text(path, NULL);
	bfs_config_edit_set(e, "bucket r2", "provider", "azure");
	rc = bfs_config_edit_commit(e, err, sizeof(err));
	want = read_text(path, NULL);
	tap_ok(rc == EINVAL && strstr(err, "not valid") &&
		       strstr(err, "edit.conf:11: bad value 'azure'") &&
		       strcmp(text, want) == 0,
	       "edit: invalid result refused with file:line, file unchanged");
	free(text);
	free(want);
	bfs_config_edit_free(e);

	/* someone else changed the file meanwhile */
	rc = bfs_config_edit_open(path, &e, err, sizeof(err));
	bfs_config_edit_set(e, "bucketfs", "retries", "3");
	write_text(path, "[bucketfs]\nretries = 1\nconnections = 2\n", 0600);
	rc = bfs_config_edit_commit(e, err, sizeof(err));
	tap_ok(rc == EAGAIN && strstr(err, "changed"),
	       "edit: concurrent change is EAGAIN");
	bfs_config_edit_free(e);
	free(path);
}

static void test_no_temp_left(void)
{
	char *dir = bfs_xasprintf("%s/sub/dir", tmp);
	DIR *d = opendir(dir);
	struct dirent *de;
	int tmpfiles = 0;

	while (d && (de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp"))
			tmpfiles++;
	if (d)
		closedir(d);
	tap_ok(d && tmpfiles == 0, "edit: no temporary file left behind");
	free(dir);
}

/* ---- generated docs ---------------------------------------------------- */

static char *capture(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f);
	fclose(f);
	return buf;
}

static void test_generated_docs(const char *src)
{
	char *sample = capture(bfs_config_print_sample);
	char *man = capture(bfs_config_print_man);
	char *help = capture(bfs_config_print_help);
	char *path, *file;
	struct bfs_config cfg = {0};
	char err[1024];
	int rc;

	rc = bfs_config_load_buffer("sample", sample, strlen(sample), &cfg, err,
				    sizeof(err));
	if (!tap_ok(rc == 0, "the sample config loads"))
		tap_diag("%s", err);
	bfs_config_release(&cfg);
	tap_ok(strstr(sample, ";attr_ttl = 1s\n") &&
		       strstr(sample, ";provider = ") &&
		       strstr(sample, ";table.orders = "),
	       "the sample has every section");
	tap_ok(strstr(help, "  attr_ttl=DURATION\n") &&
		       strstr(help, "  max_inflight=SIZE\n") &&
		       strstr(help, "Default: 1s."),
	       "--help lists the options with defaults");
	path = bfs_xasprintf("%s/doc/bucketfs.conf.sample", src);
	file = read_text(path, NULL);
	if (!tap_ok(file && strcmp(file, sample) == 0,
		    "doc/bucketfs.conf.sample is up to date"))
		tap_diag("run: make config-docs");
	free(file);
	free(path);
	path = bfs_xasprintf("%s/doc/bucketfs.conf.5", src);
	file = read_text(path, NULL);
	if (!tap_ok(file && strstr(file, man) &&
			    strstr(file, ".\\\" BEGIN KEYS\n") &&
			    strstr(file, ".\\\" END KEYS\n"),
		    "doc/bucketfs.conf.5 key reference is up to date"))
		tap_diag("run: make config-docs");
	free(file);
	free(path);
	free(sample);
	free(man);
	free(help);
}

int main(int argc, char **argv)
{
	char *src;

	if (argc == 2 && strcmp(argv[1], "--print-sample") == 0) {
		bfs_config_print_sample(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--print-man") == 0) {
		bfs_config_print_man(stdout);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/bfs-test-config-XXXXXX");
	if (!mkdtemp(tmp))
		BFS_BUG("mkdtemp: %s", strerror(errno));
	unsetenv("BUCKETFS_CONFIG");
	src = src_dir();
	test_data_files(src);
	test_good_values();
	test_defaults_and_options();
	test_discovery();
	test_permissions();
	test_size_bound();
	test_secrets_not_echoed();
	test_edit();
	test_no_temp_left();
	test_generated_docs(src);
	free(src);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
