/*
 * conf_values.c - one value of a key (see conf_priv.h): the parsers of
 * booleans, sizes, durations, modes and numbers, the checks of text
 * values (levels, endpoints, bucket names, secrets, paths), and
 * set_value(), which stores a checked value into its field.
 */
#include "compat.h"

#include "conf_priv.h"

/* ---- value parsers ----------------------------------------------------- */

#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS	"0123456789"

/* Say what was expected (never quoting the value) and refuse it. */
static int expected(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return EINVAL;
}

/* Whether v is 1 to max bytes long, each of them one of set. */
static bool only_of(const char *v, size_t max, const char *set)
{
	size_t n = strlen(v);

	return n > 0 && n <= max && strspn(v, set) == n;
}

/* Whether v is 1 to max printable characters, no space, none of except. */
static bool printable(const char *v, size_t max, const char *except)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~' || strchr(except, v[i]))
			return false;
	return n > 0 && n <= max;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < BFS_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return EINVAL;
}

/* "123", "64M", "64MiB", "64MB", "1G" (all binary multiples). */
static int parse_size(const char *v, uint64_t *out)
{
	static const char units[] = "kmgtp";
	unsigned long long n;
	const char *u;
	char *end;
	unsigned shift = 0;

	if (!isdigit((unsigned char)v[0]))
		return EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return EINVAL;
	u = end;
	if (*u) {
		const char *p = strchr(units, tolower((unsigned char)*u));

		if (p && *u) {
			shift = 10 * (unsigned)(p - units + 1);
			u++;
			if (*u == 'i' || *u == 'I')
				u++;
		}
		if (*u == 'b' || *u == 'B')
			u++;
		if (*u)
			return EINVAL;
	}
	if (shift && n > (UINT64_MAX >> shift))
		return EINVAL;
	*out = (uint64_t)n << shift;
	return 0;
}

/* "1.5", "1.5s", "500ms", "2m", "1h"; plain numbers are seconds. */
static int parse_duration(const char *v, double *out)
{
	double d, mul = 1;
	char *end;

	if (!isdigit((unsigned char)v[0]) && v[0] != '.')
		return EINVAL;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || !isfinite(d))
		return EINVAL;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mul = 1;
	else if (strcmp(end, "ms") == 0)
		mul = 0.001;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mul = 60;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else
		return EINVAL;
	*out = d * mul;
	return 0;
}

static int parse_octal(const char *v, unsigned long *out)
{
	if (!only_of(v, 6, "01234567"))
		return EINVAL;
	*out = strtoul(v, NULL, 8);
	return 0;
}

static int parse_uint(const char *v, unsigned long long *out)
{
	if (!only_of(v, 19, DIGITS))
		return EINVAL;
	*out = strtoull(v, NULL, 10);
	return 0;
}

static void fmt_size(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	int u = -1;

	while (n >= 1024 && n % 1024 == 0 && u < 4) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)n);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)n, units[u]);
}

/* ---- checks of text values -------------------------------------------- */

int check_level(const char *v, char *why, size_t whylen)
{
	if (bfs_log_parse_level(v) >= 0)
		return 0;
	return expected(why, whylen,
			"expected err, warning, notice, info or debug");
}

int check_log_file(const char *v, char *why, size_t whylen)
{
	if (v[0] == '\0' || v[0] == '/' || strcmp(v, "syslog") == 0)
		return 0;
	return expected(why, whylen,
			"expected an absolute file name or syslog");
}

/* A light check, so a typo fails at parse time with file:line; the
 * address is resolved and bound when the mount starts. */
int check_metrics(const char *v, char *why, size_t whylen)
{
	const char *port = strrchr(v, ':');
	char *end;
	long n;

	if (v[0] == '\0' || (v[0] == '/' && strlen(v) < 108))
		return 0;
	port = port ? port + 1 : v;
	errno = 0;
	n = strtol(port, &end, 10);
	if (*port && *end == '\0' && errno == 0 && n >= 0 && n <= 65535)
		return 0;
	return expected(why, whylen,
			"expected [HOST:]PORT or the absolute path of a unix "
			"socket (at most 107 bytes)");
}

int check_debug(const char *v, char *why, size_t whylen)
{
	static const char *const subs[] = {"fs",    "http",    "sigv4", "meta",
					   "store", "catalog", "all"};
	const char *p = v;

	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = n == 0;

		for (size_t i = 0; i < BFS_ARRAY_SIZE(subs); i++)
			if (strlen(subs[i]) == n && strncmp(p, subs[i], n) == 0)
				found = true;
		if (!found) {
			return expected(
				why, whylen,
				"expected a comma-separated list of fs, "
				"http, sigv4, meta, store, catalog or all");
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int check_token(const char *v, char *why, size_t whylen)
{
	if (!only_of(v, 64, LETTERS DIGITS "-_"))
		return expected(why, whylen,
				"expected letters, digits, '-' and '_' (such "
				"as us-east-1)");
	return 0;
}

int check_kms_key(const char *v, char *why, size_t whylen)
{
	if (!printable(v, 2048, ""))
		return expected(why, whylen,
				"expected a KMS key id, ARN or alias/NAME "
				"(printable, no spaces)");
	return 0;
}

int check_storage_class(const char *v, char *why, size_t whylen)
{
	if (!only_of(v, 64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "_"))
		return expected(why, whylen,
				"expected a storage class in capitals, such "
				"as STANDARD_IA");
	return 0;
}

int check_proxy(const char *v, char *why, size_t whylen)
{
	static const char *const schemes[] = {"http://", "https://",
					      "socks5://", "socks5h://"};
	bool ok = false;

	for (size_t i = 0; i < BFS_ARRAY_SIZE(schemes); i++)
		if (strncmp(v, schemes[i], strlen(schemes[i])) == 0 &&
		    strlen(v) > strlen(schemes[i]))
			ok = true;
	if (!ok || !printable(v, 1024, ""))
		return expected(why, whylen,
				"expected a proxy URL such as "
				"http://HOST:PORT (http, https, socks5 or "
				"socks5h)");
	return 0;
}

int check_profile(const char *v, char *why, size_t whylen)
{
	if (!printable(v, 128, "[]"))
		return expected(why, whylen,
				"expected a profile name: 1 to 128 printable "
				"characters, no spaces or brackets");
	return 0;
}

int check_bucket(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (!only_of(v, 255, LETTERS DIGITS "-_."))
		return expected(why, whylen,
				"a bucket name has only letters, digits, '.', "
				"'_' and '-' (a prefix goes in prefix =)");
	/* "..", "." and "a..b" would reach the server as a path, not a
	 * bucket (S3 names never hold two dots in a row or start or end
	 * with one) */
	if (v[0] == '.' || v[n - 1] == '.' || strstr(v, ".."))
		return expected(why, whylen,
				"a bucket name neither starts nor ends with "
				"'.' nor holds '..'");
	return 0;
}

int check_account(const char *v, char *why, size_t whylen)
{
	if (strlen(v) != 32 || !only_of(v, 32, DIGITS "abcdefABCDEF"))
		return expected(why, whylen,
				"expected 32 hexadecimal digits (Cloudflare "
				"dashboard, R2, Account ID)");
	return 0;
}

int check_endpoint(const char *v, char *why, size_t whylen)
{
	struct bfs_url u;

	if (bfs_endpoint_parse(v, &u) != 0) {
		return expected(why, whylen,
				"expected http(s)://host[:port] with no path");
	}
	return 0;
}

int check_ref(const char *v, char *why, size_t whylen)
{
	return bfs_config_check_name(v, why, whylen);
}

int check_secret(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0) {
		return expected(
			why, whylen,
			"empty; remove the line to use AWS_ACCESS_KEY_ID "
			"and AWS_SECRET_ACCESS_KEY from the environment");
	}
	if (strncmp(v, "enc:", 4) == 0) {
		if (strncmp(v, "enc:v1:", 7) != 0) {
			return expected(why, whylen,
					"unsupported encrypted format (this "
					"bucketfs reads enc:v1)");
		}
		if (n == 7 || strspn(v + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "abcdefghijklmnopqrstuvwxyz"
					    "0123456789+/=") != n - 7) {
			return expected(why, whylen,
					"not valid enc:v1 text (truncated or "
					"altered)");
		}
	}
	return 0;
}

/* "/a//b/" → "a/b/"; rejects "." and ".." segments. */
static int normalize_prefix(const char *v, char **out, char *why, size_t whylen)
{
	const char *p = v;
	size_t n;
	char *r;

	while (*p == '/')
		p++;
	n = strlen(p);
	r = bfs_xmalloc(n + 2);
	memcpy(r, p, n + 1);
	for (const char *s = r; *s;) {
		size_t seg = strcspn(s, "/");

		if ((seg == 1 && s[0] == '.') ||
		    (seg == 2 && s[0] == '.' && s[1] == '.') ||
		    (seg == 0 && s[0] == '/')) {
			snprintf(why, whylen,
				 "a prefix has no empty, '.' or '..' "
				 "segments");
			free(r);
			return EINVAL;
		}
		s += seg;
		if (*s == '/')
			s++;
	}
	if (n > 0 && r[n - 1] != '/') {
		r[n] = '/';
		r[n + 1] = '\0';
	}
	*out = r;
	return 0;
}

static int expand_path(const char *v, char **out, char *why, size_t whylen)
{
	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
		char *home = home_dir();

		*out = bfs_xasprintf("%s%s", home, v + 1);
		free(home);
		return 0;
	}
	if (v[0] != '/') {
		return expected(why, whylen, "expected an absolute path");
	}
	*out = bfs_xstrdup(v);
	return 0;
}

/*
 * Parse v into the field of k in base.
 * @return 0, or EINVAL with the reason in why (never quoting v).
 */
int set_value(const struct key_def *k, void *base, const char *v, char *why,
	      size_t whylen)
{
	char *field = (char *)base + k->off;
	char buf[32], buf2[32];

	switch (k->type) {
	case KT_STR:
	case KT_SECRET:
		if (k->check && k->check(v, why, whylen) != 0)
			return EINVAL;
		replace_str((char **)field, v);
		return 0;
	case KT_PATH: {
		char *p;

		if (expand_path(v, &p, why, whylen) != 0)
			return EINVAL;
		free(*(char **)field);
		*(char **)field = p;
		return 0;
	}
	case KT_PREFIX: {
		char *p;

		if (normalize_prefix(v, &p, why, whylen) != 0)
			return EINVAL;
		free(*(char **)field);
		*(char **)field = p;
		return 0;
	}
	case KT_BOOL:
	case KT_TRISTATE: {
		bool b;

		if (parse_bool(v, &b) != 0) {
			return expected(why, whylen, "expected true or false");
		}
		if (k->type == KT_BOOL)
			*(bool *)field = b;
		else
			*(int *)field = b;
		return 0;
	}
	case KT_SIZE: {
		uint64_t n;

		if (parse_size(v, &n) != 0) {
			return expected(
				why, whylen,
				"expected a size such as 4096, 64M or 20G");
		}
		if ((double)n < k->min || (double)n > k->max) {
			fmt_size((uint64_t)k->min, buf, sizeof(buf));
			fmt_size((uint64_t)k->max, buf2, sizeof(buf2));
			snprintf(why, whylen, "must be between %s and %s", buf,
				 buf2);
			return EINVAL;
		}
		*(uint64_t *)field = n;
		return 0;
	}
	case KT_DURATION: {
		double d;

		if (parse_duration(v, &d) != 0) {
			return expected(
				why, whylen,
				"expected a duration such as 1s, 500ms or "
				"2m");
		}
		if (d < k->min || d > k->max) {
			snprintf(why, whylen, "must be between %gs and %gs",
				 k->min, k->max);
			return EINVAL;
		}
		*(double *)field = d;
		return 0;
	}
	case KT_MODE: {
		unsigned long m;

		if (parse_octal(v, &m) != 0 || m > (unsigned long)k->max) {
			snprintf(why, whylen,
				 "expected an octal mode no larger than %04o",
				 (unsigned)k->max);
			return EINVAL;
		}
		*(mode_t *)field = (mode_t)m;
		return 0;
	}
	case KT_UINT: {
		unsigned long long n;

		if (parse_uint(v, &n) != 0 || (double)n < k->min ||
		    (double)n > k->max) {
			snprintf(why, whylen,
				 "expected a whole number from %.0f to %.0f",
				 k->min, k->max);
			return EINVAL;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case KT_UID: {
		unsigned long long n;
		struct passwd pw, *res = NULL;
		char pbuf[4096];

		if (parse_uint(v, &n) == 0) {
			if (n >= (uid_t)-1)
				goto bad_uid;
			*(uid_t *)field = (uid_t)n;
			return 0;
		}
		if (getpwnam_r(v, &pw, pbuf, sizeof(pbuf), &res) != 0 || !res)
			goto bad_uid;
		*(uid_t *)field = res->pw_uid;
		return 0;
	bad_uid:
		return expected(why, whylen,
				"expected a user id or an existing "
				"user name");
	}
	case KT_GID: {
		unsigned long long n;
		struct group gr, *res = NULL;
		char gbuf[4096];

		if (parse_uint(v, &n) == 0) {
			if (n >= (gid_t)-1)
				goto bad_gid;
			*(gid_t *)field = (gid_t)n;
			return 0;
		}
		if (getgrnam_r(v, &gr, gbuf, sizeof(gbuf), &res) != 0 || !res)
			goto bad_gid;
		*(gid_t *)field = res->gr_gid;
		return 0;
	bad_gid:
		return expected(why, whylen,
				"expected a group id or an existing "
				"group name");
	}
	case KT_ENUM: {
		size_t len = 0;

		for (int i = 0; k->names[i]; i++) {
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		len += (size_t)snprintf(why, whylen, "expected ");
		for (int i = 0; k->names[i] && len < whylen; i++)
			len += (size_t)snprintf(why + len, whylen - len, "%s%s",
						i == 0		  ? ""
						: k->names[i + 1] ? ", "
								  : " or ",
						k->names[i]);
		return EINVAL;
	}
	}
	BFS_BUG("key type %d", (int)k->type);
}
