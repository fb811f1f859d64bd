/*
 * glob.c - pattern matching for Bucket Tables (see glob.h).
 */
#include "compat.h"

#include "catalog/glob.h"

bool bfs_glob_has_wildcard(const char *p)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '*' || *p == '?' || *p == '[')
			return true;
	}
	return false;
}

int bfs_glob_check(const char *pattern, char *err, size_t errlen)
{
	const char *p = pattern;

	if (*p == '\0') {
		snprintf(err, errlen, "empty pattern");
		return EINVAL;
	}
	if (*p == '/') {
		snprintf(err, errlen,
			 "pattern '%s' starts with '/': keys never do",
			 pattern);
		return EINVAL;
	}
	for (; *p; p++) {
		if (*p == '\\') {
			if (p[1] == '\0') {
				snprintf(err, errlen,
					 "pattern '%s' ends with '\\'",
					 pattern);
				return EINVAL;
			}
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;

			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']' && *q != '/')
				q++;
			if (*q != ']') {
				snprintf(err, errlen,
					 "pattern '%s': unclosed '['", pattern);
				return EINVAL;
			}
			p = q;
		} else if (p[0] == '*' && p[1] == '*') {
			bool start = p == pattern || p[-1] == '/';
			bool end = p[2] == '\0' || p[2] == '/';

			if (!start || !end) {
				snprintf(err, errlen,
					 "pattern '%s': '**' must be a whole "
					 "path segment",
					 pattern);
				return EINVAL;
			}
			p++;
		}
	}
	return 0;
}

size_t bfs_glob_fixed_len(const char *pattern)
{
	size_t last_slash = 0;
	const char *p;

	for (p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '*' || *p == '?' || *p == '[')
			return last_slash;
		if (*p == '/')
			last_slash = (size_t)(p - pattern) + 1;
	}
	return (size_t)(p - pattern);
}

/* Match one character class at *pp against c; advance *pp past ']'. */
static bool match_class(const char **pp, char c)
{
	const char *p = *pp + 1;
	bool neg = false, hit = false;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	if (*p == ']') {
		hit = c == ']';
		p++;
	}
	while (*p && *p != ']') {
		if (p[1] == '-' && p[2] && p[2] != ']') {
			if ((unsigned char)c >= (unsigned char)p[0] &&
			    (unsigned char)c <= (unsigned char)p[2])
				hit = true;
			p += 3;
		} else {
			if (*p == c)
				hit = true;
			p++;
		}
	}
	*pp = *p ? p + 1 : p;
	return hit != neg;
}

static bool match(const char *p, const char *k)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			/* "**" or "**" + "/rest": any number of segments */
			const char *rest = p[2] == '/' ? p + 3 : p + 2;

			if (*rest == '\0')
				return true;
			for (const char *s = k;; s++) {
				if ((s == k || s[-1] == '/') && match(rest, s))
					return true;
				if (*s == '\0')
					return false;
			}
		}
		if (*p == '*') {
			for (const char *s = k;; s++) {
				if (match(p + 1, s))
					return true;
				if (*s == '\0' || *s == '/')
					return false;
			}
		}
		if (*k == '\0')
			return false;
		if (*p == '?') {
			if (*k == '/')
				return false;
			p++;
		} else if (*p == '[') {
			if (*k == '/' || !match_class(&p, *k))
				return false;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *k)
				return false;
			p++;
		}
		k++;
	}
	return *k == '\0';
}

bool bfs_glob_match(const char *pattern, const char *key)
{
	size_t n;

	if (bfs_glob_has_wildcard(pattern) || strchr(pattern, '\\'))
		return match(pattern, key);
	/* a plain prefix: the key itself or anything below it */
	n = strlen(pattern);
	if (strncmp(pattern, key, n) != 0)
		return false;
	return key[n] == '\0' || pattern[n - 1] == '/' || key[n] == '/';
}
