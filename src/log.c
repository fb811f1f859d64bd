/*
 * log.c - logging to stderr, a file or syslog, and the process-wide allocation
 * helpers declared in compat.h.
 */
#include "compat.h"

#include <fcntl.h>
#include <fuse_log.h>
#include <pthread.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

unsigned bfs_log_debug_mask;
static int log_level = LOG_INFO;
static bool log_syslog;
static int log_fd = -1;	    /* log_file=, when set */
static bool log_tee_stderr; /* a starting daemon: its warnings on stderr */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void bfs_log_set_level(int level)
{
	log_level = level;
}

int bfs_log_parse_level(const char *name)
{
	for (size_t i = 0; i < BFS_ARRAY_SIZE(level_names); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "error") == 0)
		return LOG_ERR;
	if (strcmp(name, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

int bfs_log_set_debug(const char *list)
{
	static const struct {
		const char *name;
		unsigned bit;
	} subs[] = {
		{"fs", BFS_DBG_FS},
		{"http", BFS_DBG_HTTP},
		{"sigv4", BFS_DBG_SIGV4},
		{"meta", BFS_DBG_META},
		{"store", BFS_DBG_STORE},
		{"catalog", BFS_DBG_CATALOG},
		{"all", ~0u},
	};
	unsigned mask = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;

		for (size_t i = 0; i < BFS_ARRAY_SIZE(subs); i++) {
			if (strlen(subs[i].name) == n &&
			    strncmp(p, subs[i].name, n) == 0) {
				mask |= subs[i].bit;
				found = true;
			}
		}
		if (!found && n > 0)
			return EINVAL;
		p += n;
		if (*p == ',')
			p++;
	}
	bfs_log_debug_mask = mask;
	if (mask)
		log_level = LOG_DEBUG;
	return 0;
}

void bfs_log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID, LOG_DAEMON);
	log_syslog = true;
}

int bfs_log_to_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return errno;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	log_syslog = false;
	return 0;
}

void bfs_log_tee_stderr(bool on)
{
	log_tee_stderr = on;
}

static const char *level_name(int level)
{
	return level >= 0 && level < (int)BFS_ARRAY_SIZE(level_names)
		       ? level_names[level]
		       : "?";
}

/* One write per line, so that daemons sharing a file do not interleave
 * inside a line (O_APPEND). */
static void file_line(int level, const char *line)
{
	char buf[2200];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(buf, sizeof(buf),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ bucketfs[%ld] %s: "
		     "%s\n",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid(),
		     level_name(level), line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		n = (int)sizeof(buf) - 1;
		buf[n - 1] = '\n';
	}
	if (write(log_fd, buf, (size_t)n) != n) {
		/* nowhere left to say it */
	}
}

void bfs_vlog(int level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_syslog)
		syslog(level, "%s", line);
	else if (log_fd >= 0)
		file_line(level, line);
	if ((log_syslog || log_fd >= 0) &&
	    (!log_tee_stderr || level > LOG_WARNING))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	BFS_PCHECK(pthread_mutex_lock(&log_lock));
	fprintf(stderr, "%02d:%02d:%02d.%03ld bucketfs[%s]: %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_name(level),
		line);
	BFS_PCHECK(pthread_mutex_unlock(&log_lock));
}

void bfs_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bfs_vlog(level, fmt, ap);
	va_end(ap);
}

static void fuse_log_to_bfs(enum fuse_log_level level, const char *fmt,
			    va_list ap)
{
	char line[2048];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	bfs_log((int)level, "fuse: %s", line);
}

void bfs_log_install_fuse(void)
{
	fuse_set_log_func(fuse_log_to_bfs);
}

void bfs_bug(const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bfs_log(LOG_CRIT, "BUG %s:%d: %s", file, line, msg);
	abort();
}

static void *oom(size_t n)
{
	bfs_log(LOG_CRIT, "out of memory allocating %zu bytes", n);
	abort();
}

void *bfs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	return p ? p : oom(n);
}

void *bfs_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	return p ? p : oom(n * size);
}

void *bfs_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	return q ? q : oom(n);
}

char *bfs_xstrdup(const char *s)
{
	char *p = strdup(s);

	return p ? p : oom(strlen(s));
}

char *bfs_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	return p ? p : oom(n);
}

char *bfs_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return oom(strlen(fmt));
	return p;
}
