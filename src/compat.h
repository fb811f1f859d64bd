/*
 * compat.h - the first include of every bucketfs .c file.
 *
 * Pulls in autoconf's config.h (the build directory's; bucketfs's own
 * configuration is conf.h) and the system headers every module uses, a few
 * portable helpers, and banned.h last so banned calls fail to compile.
 */
#ifndef BFS_COMPAT_H
#define BFS_COMPAT_H

#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define BFS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BFS_MIN(a, b)	  ((a) < (b) ? (a) : (b))
#define BFS_MAX(a, b)	  ((a) > (b) ? (a) : (b))

/* A programmer error: log file:line and abort (git's BUG()). */
#define BFS_BUG(...) bfs_bug(__FILE__, __LINE__, __VA_ARGS__)
void bfs_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* Check a pthread return: those calls fail only on programmer error. */
#define BFS_PCHECK(call)                                                       \
	do {                                                                   \
		int bfs_pcheck_rc_ = (call);                                   \
		if (bfs_pcheck_rc_ != 0)                                       \
			BFS_BUG("%s: %s", #call, strerror(bfs_pcheck_rc_));    \
	} while (0)

/* malloc family that abort on exhaustion: a FUSE daemon cannot go on. */
void *bfs_xmalloc(size_t n);
void *bfs_xcalloc(size_t n, size_t size);
void *bfs_xrealloc(void *p, size_t n);
char *bfs_xstrdup(const char *s);
char *bfs_xstrndup(const char *s, size_t n);
char *bfs_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#include "banned.h"

#endif
