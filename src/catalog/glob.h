/*
 * glob.h - the patterns of Bucket Tables: `*` (any run of characters
 * but '/'), `?` (one character but '/'), `[...]` (a class, `[!...]`
 * negated, ranges a-z), `**` as a whole segment (any number of
 * segments, none included), `\` escapes. A pattern without wildcards
 * names a prefix: it matches the key itself and every key below it.
 */
#ifndef BFS_CATALOG_GLOB_H
#define BFS_CATALOG_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Check a pattern. @return 0, or EINVAL with a reason in err (an
 * unclosed `[`, `**` not a whole segment, a leading '/').
 */
int bfs_glob_check(const char *pattern, char *err, size_t errlen);

/* Whether key matches pattern (checked by bfs_glob_check). */
bool bfs_glob_match(const char *pattern, const char *key);

/*
 * Length of the fixed part of pattern: up to and including the last '/'
 * before the first wildcard (for a pattern without wildcards: the whole
 * pattern, plus the '/' it implies). Listing that prefix finds every
 * match; paths are shown relative to it.
 */
size_t bfs_glob_fixed_len(const char *pattern);

/* Whether pattern holds any wildcard. */
bool bfs_glob_has_wildcard(const char *pattern);

#endif
