/*
 * log.h - the one logging entry point of bucketfs.
 *
 * Levels are syslog's. Output goes to stderr in the foreground and to
 * syslog or a file (log_file=) when the daemon has detached; a daemon
 * that is still starting writes its warnings to stderr as well, so that the
 * mount command shows why a mount failed. Debug output is enabled per subsystem
 * (`-o debug=http,sigv4,meta,fs`). Never pass a secret to these functions: log
 * lines are for the operator and may be shipped.
 */
#ifndef BFS_LOG_H
#define BFS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

/* Debug subsystems, a bit each. */
enum bfs_dbg {
	BFS_DBG_FS = 1 << 0,
	BFS_DBG_HTTP = 1 << 1,
	BFS_DBG_SIGV4 = 1 << 2,
	BFS_DBG_META = 1 << 3,
	BFS_DBG_STORE = 1 << 4,
	BFS_DBG_CATALOG = 1 << 5,
};

/* Log at a syslog level (LOG_ERR ... LOG_DEBUG). */
void bfs_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bfs_vlog(int level, const char *fmt, va_list ap);

/* Debug line for one subsystem; cheap when the subsystem is off. */
#define bfs_dbg(sub, ...)                                                      \
	do {                                                                   \
		if (bfs_log_debug_mask & (sub))                                \
			bfs_log(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

extern unsigned bfs_log_debug_mask;

/* Most verbose level printed (default LOG_INFO). */
void bfs_log_set_level(int level);
/*
 * Parse "http,sigv4,fs" or "all" into the debug mask.
 * @return 0, or EINVAL on an unknown subsystem name.
 */
int bfs_log_set_debug(const char *list);
/* Send further lines to syslog with this ident instead of stderr. */
void bfs_log_to_syslog(const char *ident);
/*
 * Send further lines to the file at path (appended, created 0640)
 * instead of stderr or syslog. @return 0 or the errno of open.
 */
int bfs_log_to_file(const char *path);
/* While on, warnings and errors sent to syslog or a file go to stderr
 * too. */
void bfs_log_tee_stderr(bool on);
/* Install bfs_log as libfuse's log function. */
void bfs_log_install_fuse(void);
/*
 * Parse a level name (err, warning, notice, info, debug).
 * @return the syslog level or -1.
 */
int bfs_log_parse_level(const char *name);

#endif
