/*
 * recover.c - `bucketfs recover list|restore ID PATH|discard ID`: the
 * writes a daemon could not upload before it stopped, which the next
 * start moved to <cache_dir>/lost+found/ID.data with an ID.key sidecar
 * ("bucket\nkey\n...", see fs/recovery.c).
 *
 * restore copies the data to a PATH the operator names (typically the
 * object's path inside a mount, so that the mount uploads it under its
 * usual rules) and only then removes the entry: bucketfs never writes
 * a lost+found file over the object by itself, since the bucket may
 * hold a newer version by now.
 */
#include "compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_priv.h"
#include "conf.h"

/* "bucket" and "key" of a sidecar, or "?" when unreadable. */
static void read_sidecar(const char *path, char *bucket, size_t blen, char *key,
			 size_t klen)
{
	char buf[4200] = "";
	FILE *f = fopen(path, "re");
	size_t n = 0;
	char *nl;

	snprintf(bucket, blen, "?");
	snprintf(key, klen, "?");
	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl == NULL)
		return;
	*nl = '\0';
	snprintf(bucket, blen, "%s", buf);
	snprintf(key, klen, "%.*s", (int)strcspn(nl + 1, "\n"), nl + 1);
}

static int cmd_list(const char *lf)
{
	DIR *d = opendir(lf);
	struct dirent *de;
	unsigned count = 0;

	if (d == NULL) {
		if (errno != ENOENT) {
			bfs_cli_error("cannot read '%s': %s", lf,
				      strerror(errno));
			return 1;
		}
		printf("lost+found is empty (%s)\n", lf);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char bucket[256], key[4096], when[32];
		char *data, *side;
		struct stat st;
		struct tm tm;

		if (n < 6 || strcmp(de->d_name + n - 5, ".data") != 0)
			continue;
		data = bfs_xasprintf("%s/%s", lf, de->d_name);
		side = bfs_xasprintf("%s/%.*s.key", lf, (int)(n - 5),
				     de->d_name);
		read_sidecar(side, bucket, sizeof(bucket), key, sizeof(key));
		if (stat(data, &st) == 0) {
			if (count++ == 0)
				printf("%-28s %-14s %12s %-20s %s\n", "ID",
				       "BUCKET", "BYTES", "SAVED (UTC)", "KEY");
			gmtime_r(&st.st_mtime, &tm);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
			printf("%-28.*s %-14s %12lld %-20s %s\n", (int)(n - 5),
			       de->d_name, bucket, (long long)st.st_size, when,
			       key);
		}
		free(data);
		free(side);
	}
	closedir(d);
	if (count == 0)
		printf("lost+found is empty (%s)\n", lf);
	return 0;
}

static int check_id(const char *id)
{
	if (id[0] == '\0' || id[0] == '.' || strchr(id, '/')) {
		bfs_cli_error("bad id '%s' (see 'bucketfs recover list')", id);
		return EINVAL;
	}
	return 0;
}

/* Copy src to a new file dst (never over an existing one). */
static int copy_new(const char *src, const char *dst)
{
	char buf[1 << 16];
	int in, out, rc = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n && rc == 0;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0)
				rc = errno;
			else
				off += w;
		}
		if (rc)
			break;
	}
	if (n < 0 && rc == 0)
		rc = errno;
	close(in);
	/* on a mount, close is where the upload happens and fails */
	if (close(out) != 0 && rc == 0)
		rc = errno;
	if (rc)
		unlink(dst);
	return rc;
}

static int cmd_entry(const char *lf, const char *verb, const char *id,
		     const char *path)
{
	char *data = bfs_xasprintf("%s/%s.data", lf, id);
	char *side = bfs_xasprintf("%s/%s.key", lf, id);
	int rc = 0;

	if (access(data, F_OK) != 0) {
		bfs_cli_error("no entry '%s' in %s (see 'bucketfs recover "
			      "list')",
			      id, lf);
		rc = ENOENT;
		goto out;
	}
	if (strcmp(verb, "restore") == 0) {
		rc = copy_new(data, path);
		if (rc != 0) {
			bfs_cli_error("cannot restore '%s' to '%s': %s%s", id,
				      path, strerror(rc),
				      rc == EEXIST ? " (remove it or choose "
						     "another path)"
						   : "");
			goto out;
		}
		printf("restored '%s' to '%s'\n", id, path);
	} else {
		printf("discarded '%s'\n", id);
	}
	if (unlink(data) != 0)
		rc = errno;
	unlink(side);
out:
	free(data);
	free(side);
	return rc;
}

int bfs_cli_recover(int argc, char **argv)
{
	const char *given = NULL, *pos[3] = {NULL, NULL, NULL};
	struct bfs_config cfg = {0};
	char *lf = NULL;
	int npos = 0, rc = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			given = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			given = argv[i] + 9;
		} else if (argv[i][0] == '-' || npos == 3) {
			bfs_cli_error("unexpected argument '%s'", argv[i]);
			bfs_cli_help(stderr, "recover");
			return 2;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos == 0 || !((strcmp(pos[0], "list") == 0 && npos == 1) ||
			   (strcmp(pos[0], "discard") == 0 && npos == 2) ||
			   (strcmp(pos[0], "restore") == 0 && npos == 3))) {
		bfs_cli_help(stderr, "recover");
		return 2;
	}
	if (npos >= 2 && check_id(pos[1]) != 0)
		return 2;
	if (bfs_cli_config_load(given, &cfg) != 0)
		return 1;
	lf = bfs_xasprintf("%s/lost+found", cfg.opts.cache_dir);
	if (npos == 1)
		rc = cmd_list(lf);
	else
		rc = cmd_entry(lf, pos[0], pos[1], pos[2]);
	free(lf);
	bfs_config_release(&cfg);
	return rc ? 1 : 0;
}
