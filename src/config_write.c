/*
 * config_write.c - line-preserving, atomic edits of the config file
 * (see config_write.h). The text is held as an array of lines; only the
 * lines an edit names are touched.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "config_write.h"
#include "util.h"

#define EDIT_MAX_BYTES (1u << 20)
/* What inih reads of one line (INI_MAX_LINE of the Debian build - 2). */
#define EDIT_MAX_LINE 198

struct bfs_config_edit {
	char *path;
	char **lines; /* without their '\n' */
	size_t nlines;
	bool existed;
	struct stat st; /* of the file as opened, when it existed */
};

static bool is_blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	return *s == '\0';
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool is_comment(const char *s)
{
	s = skip_blanks(s);
	return *s == ';' || *s == '#';
}

/*
 * "kind name" of a header line ("[bucket   lake] ; x" → "bucket lake"),
 * or false if the line is not a header.
 */
static bool header_of(const char *line, char *out, size_t outlen)
{
	const char *s = skip_blanks(line), *end;
	size_t n = 0;

	if (*s != '[')
		return false;
	end = strchr(s, ']');
	if (!end)
		return false;
	s++;
	while (s < end && n + 1 < outlen) {
		if (isspace((unsigned char)*s)) {
			while (s < end && isspace((unsigned char)*s))
				s++;
			if (n > 0 && s < end)
				out[n++] = ' ';
			continue;
		}
		out[n++] = *s++;
	}
	out[n] = '\0';
	return true;
}

/* The key of a "key = value" line and its length, or 0. */
static size_t key_of(const char *line, const char **key)
{
	const char *s = skip_blanks(line);
	size_t n;

	if (*s == '[' || *s == ';' || *s == '#' || *s == '\0')
		return 0;
	n = strcspn(s, "=:");
	if (s[n] == '\0')
		return 0;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*key = s;
	return n;
}

static bool key_is(const char *line, const char *key)
{
	const char *k;
	size_t n = key_of(line, &k);

	return n && n == strlen(key) && strncmp(k, key, n) == 0;
}

static bool valid_key(const char *key)
{
	size_t n = strlen(key);

	return n > 0 && strspn(key, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_.-") == n;
}

/* "bucketfs", "bucket NAME" or "catalog NAME", exactly. */
static bool valid_section(const char *section)
{
	const char *sp = strchr(section, ' ');
	char why[128];

	if (strcmp(section, "bucketfs") == 0)
		return true;
	if (!sp)
		return false;
	if (!((sp - section == 6 && strncmp(section, "bucket", 6) == 0) ||
	      (sp - section == 7 && strncmp(section, "catalog", 7) == 0)))
		return false;
	return bfs_config_check_name(sp + 1, why, sizeof(why)) == 0;
}

static bool valid_value(const char *key, const char *value)
{
	size_t n = strlen(value);

	if (strlen(key) + 3 + n > EDIT_MAX_LINE)
		return false;
	if (strpbrk(value, "\n\r"))
		return false;
	if (n > 0 && (isspace((unsigned char)value[0]) ||
		      isspace((unsigned char)value[n - 1])))
		return false;
	for (size_t i = 1; i < n; i++)
		if (value[i] == ';' && isspace((unsigned char)value[i - 1]))
			return false;
	return true;
}

/* [start, end) of section's lines (header included), or false. */
static bool find_section(const struct bfs_config_edit *e, const char *section,
			 size_t *start, size_t *end)
{
	char name[256];
	size_t i;

	for (i = 0; i < e->nlines; i++)
		if (header_of(e->lines[i], name, sizeof(name)) &&
		    strcmp(name, section) == 0)
			break;
	if (i == e->nlines)
		return false;
	*start = i;
	for (i++; i < e->nlines; i++)
		if (header_of(e->lines[i], name, sizeof(name)))
			break;
	*end = i;
	return true;
}

static void insert_line(struct bfs_config_edit *e, size_t at, char *line)
{
	e->lines = bfs_xrealloc(e->lines, (e->nlines + 1) * sizeof(*e->lines));
	memmove(&e->lines[at + 1], &e->lines[at],
		(e->nlines - at) * sizeof(*e->lines));
	e->lines[at] = line;
	e->nlines++;
}

static void delete_lines(struct bfs_config_edit *e, size_t at, size_t n)
{
	for (size_t i = at; i < at + n; i++)
		free(e->lines[i]);
	memmove(&e->lines[at], &e->lines[at + n],
		(e->nlines - at - n) * sizeof(*e->lines));
	e->nlines -= n;
}

int bfs_config_edit_open(const char *path, struct bfs_config_edit **edit,
			 char *err, size_t errlen)
{
	struct bfs_config_edit *e = bfs_xcalloc(1, sizeof(*e));
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	*edit = NULL;
	e->path = bfs_xstrdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		*edit = e;
		return 0;
	}
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open config file '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	if (fstat(fd, &e->st) != 0 || !S_ISREG(e->st.st_mode)) {
		rc = EINVAL;
		snprintf(err, errlen, "config file '%s' is not a regular file",
			 path);
		goto out;
	}
	e->existed = true;
	rc = bfs_read_max(fd, EDIT_MAX_BYTES, &buf, &len);
	if (rc == EFBIG) {
		snprintf(err, errlen, "config file '%s' is too large", path);
		goto out;
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot read config file '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	for (size_t pos = 0; pos < len;) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		insert_line(e, e->nlines, bfs_xstrndup(s, n));
		pos += n + (nl ? 1 : 0);
	}
	*edit = e;
	e = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	bfs_config_edit_free(e);
	return rc;
}

int bfs_config_edit_set(struct bfs_config_edit *e, const char *section,
			const char *key, const char *value)
{
	size_t start, end, at;
	char *line;

	if (!valid_section(section) || !valid_key(key) ||
	    !valid_value(key, value))
		return EINVAL;
	line = bfs_xasprintf("%s = %s", key, value);
	if (!find_section(e, section, &start, &end)) {
		if (e->nlines > 0 && !is_blank(e->lines[e->nlines - 1]))
			insert_line(e, e->nlines, bfs_xstrdup(""));
		insert_line(e, e->nlines, bfs_xasprintf("[%s]", section));
		insert_line(e, e->nlines, line);
		return 0;
	}
	at = start + 1;
	for (size_t i = start + 1; i < end; i++) {
		if (key_is(e->lines[i], key)) {
			free(e->lines[i]);
			e->lines[i] = line;
			return 0;
		}
		if (key_of(e->lines[i], &(const char *){NULL}))
			at = i + 1;
	}
	insert_line(e, at, line);
	return 0;
}

int bfs_config_edit_unset(struct bfs_config_edit *e, const char *section,
			  const char *key)
{
	size_t start, end;
	bool found = false;

	if (!valid_section(section) || !valid_key(key))
		return EINVAL;
	if (!find_section(e, section, &start, &end))
		return ENOENT;
	for (size_t i = start + 1; i < end;) {
		if (key_is(e->lines[i], key)) {
			delete_lines(e, i, 1);
			end--;
			found = true;
		} else {
			i++;
		}
	}
	return found ? 0 : ENOENT;
}

int bfs_config_edit_remove_section(struct bfs_config_edit *e,
				   const char *section)
{
	size_t start, end;

	if (!valid_section(section))
		return EINVAL;
	if (!find_section(e, section, &start, &end))
		return ENOENT;
	/* comments right above the next header belong to it */
	if (end < e->nlines)
		while (end - 1 > start && is_comment(e->lines[end - 1]))
			end--;
	/* comments right above ours belong to ours */
	while (start > 0 && is_comment(e->lines[start - 1]))
		start--;
	delete_lines(e, start, end - start);
	/* do not leave two blank lines where the section was */
	if (start > 0 && start < e->nlines && is_blank(e->lines[start - 1]) &&
	    is_blank(e->lines[start]))
		delete_lines(e, start, 1);
	while (e->nlines > 0 && is_blank(e->lines[e->nlines - 1]))
		delete_lines(e, e->nlines - 1, 1);
	return 0;
}

bool bfs_config_edit_has_section(const struct bfs_config_edit *e,
				 const char *section)
{
	size_t start, end;

	return find_section(e, section, &start, &end);
}

char *bfs_config_edit_text(const struct bfs_config_edit *e)
{
	size_t len = 0, pos = 0;
	char *text;

	for (size_t i = 0; i < e->nlines; i++)
		len += strlen(e->lines[i]) + 1;
	text = bfs_xmalloc(len + 1);
	for (size_t i = 0; i < e->nlines; i++) {
		size_t n = strlen(e->lines[i]);

		memcpy(text + pos, e->lines[i], n);
		pos += n;
		text[pos++] = '\n';
	}
	text[pos] = '\0';
	return text;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int bfs_config_edit_commit(struct bfs_config_edit *e, char *err, size_t errlen)
{
	char *text = bfs_config_edit_text(e);
	size_t len = strlen(text), done = 0;
	char *copy = bfs_xstrdup(e->path);
	char *dir = bfs_xstrdup(dirname(copy));
	char *tmp = bfs_xasprintf("%s.tmpXXXXXX", e->path);
	struct bfs_config cfg = {0};
	char why[1024];
	struct stat now;
	int fd = -1, rc;

	rc = bfs_config_load_buffer(e->path, text, len, &cfg, why, sizeof(why));
	bfs_config_release(&cfg);
	if (rc != 0) {
		snprintf(err, errlen,
			 "the edited configuration is not valid, nothing "
			 "written: %s",
			 why);
		goto out;
	}
	if (stat(e->path, &now) == 0 ? !e->existed || !same_file(&now, &e->st)
				     : e->existed) {
		rc = EAGAIN;
		snprintf(err, errlen,
			 "config file '%s' changed while it was being edited; "
			 "try again",
			 e->path);
		goto out;
	}
	rc = bfs_mkdir_p(dir, 0700);
	if (rc != 0) {
		snprintf(err, errlen, "cannot create directory '%s': %s", dir,
			 strerror(rc));
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot create a file in '%s': %s", dir,
			 strerror(rc));
		goto out;
	}
	if (fchmod(fd, 0600) != 0)
		rc = errno;
	if (rc == 0 && e->existed && e->st.st_uid != geteuid() &&
	    fchown(fd, e->st.st_uid, e->st.st_gid) != 0)
		rc = errno;
	while (rc == 0 && done < len) {
		ssize_t r = write(fd, text + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = errno;
		else
			done += (size_t)r;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	fd = -1;
	if (rc == 0 && rename(tmp, e->path) != 0)
		rc = errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write config file '%s': %s",
			 e->path, strerror(rc));
		unlink(tmp);
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
		fd = -1;
	}
	if (stat(e->path, &e->st) == 0)
		e->existed = true;
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dir);
	free(copy);
	free(text);
	return rc;
}

void bfs_config_edit_free(struct bfs_config_edit *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nlines; i++)
		free(e->lines[i]);
	free(e->lines);
	free(e->path);
	free(e);
}
