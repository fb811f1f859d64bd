/*
 * banned.h - functions that must not be used in bucketfs.
 *
 * Each is unsafe (no bounds), not thread-safe (static buffers) or silently
 * wrong on bad input. Included last by compat.h so that any use is a
 * compile error. Use snprintf, gmtime_r, localtime_r, strtol with checks.
 */
#ifndef BFS_BANNED_H
#define BFS_BANNED_H

#define BFS_BANNED(func) sorry_##func##_is_banned_in_bucketfs

#undef strcpy
#define strcpy(x, y) BFS_BANNED(strcpy)
#undef strcat
#define strcat(x, y) BFS_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BFS_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BFS_BANNED(strncat)
#undef sprintf
#define sprintf(...) BFS_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BFS_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BFS_BANNED(strtok)
#undef gmtime
#define gmtime(t) BFS_BANNED(gmtime)
#undef localtime
#define localtime(t) BFS_BANNED(localtime)
#undef ctime
#define ctime(t) BFS_BANNED(ctime)
#undef asctime
#define asctime(t) BFS_BANNED(asctime)
#undef mktemp
#define mktemp(x) BFS_BANNED(mktemp)
#undef atoi
#define atoi(x) BFS_BANNED(atoi)

#endif
