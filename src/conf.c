/*
 * conf.c - the configuration of bucketfs (see conf.h).
 *
 * Owns: the tables that describe every key of [bucketfs], [bucket NAME]
 * and [catalog NAME] (name, type, field offset, default, limits, help);
 * the inih handler and line reader that fill struct bfs_config from a
 * file with file:line errors; the -o parser; discovery of the file; the
 * permission checks on it; and the --help, sample file and man page text
 * generated from the same tables.
 *
 * inih is driven through ini_parse_stream() with our own reader, which
 * hands it one physical line at a time. That gives us exact line
 * numbers (the installed inih has no INI_HANDLER_LINENO), lets us see
 * section headers (inih does not report them, so duplicates and empty
 * sections would go unnoticed), and lets us strip leading blanks so an
 * indented key is a key, never an inih multi-line continuation.
 */
#include "compat.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

_Static_assert(sizeof(enum bfs_provider) == sizeof(int), "enum size");
_Static_assert(sizeof(enum bfs_metadata_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum bfs_catalog_type) == sizeof(int), "enum size");

/* A config file is small; anything bigger is a mistake (or an attack). */
#define CONFIG_MAX_BYTES (1u << 20)
#define NAME_MAX_LEN	 128

/* ---- value types ------------------------------------------------------ */

enum key_type {
	KT_STR,	     /* char *, validated by check() when set */
	KT_PATH,     /* char *, absolute path, "~/" expanded */
	KT_PREFIX,   /* char *, key prefix: "" or "a/b/" */
	KT_SECRET,   /* char *, never echoed in a message */
	KT_BOOL,     /* bool */
	KT_TRISTATE, /* int: -1 unset, 0, 1 */
	KT_SIZE,     /* uint64_t bytes, K/M/G/T suffixes (binary) */
	KT_DURATION, /* double seconds, ms/s/m/h suffixes */
	KT_MODE,     /* mode_t, octal */
	KT_UINT,     /* unsigned */
	KT_UID,	     /* uid_t, number or user name */
	KT_GID,	     /* gid_t, number or group name */
	KT_ENUM,     /* int: index into names[] */
};

#define PROV(x)	    (1u << BFS_PROVIDER_##x)
#define PROV_REMOTE (PROV(S3) | PROV(R2) | PROV(GCS) | PROV(CUSTOM))

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;
	const char *def;     /* default as written in the file, or NULL */
	const char *def_doc; /* what --help says when def is NULL */
	const char *example; /* value shown in the sample when def is NULL */
	double min, max;     /* numeric limits (sizes in bytes) */
	const char *const *names; /* KT_ENUM values, in enum order */
	int (*check)(const char *v, char *why, size_t whylen);
	unsigned providers; /* bucket keys: providers it applies to; 0 all */
	const char *help;
};

static int check_level(const char *v, char *why, size_t whylen);
static int check_debug(const char *v, char *why, size_t whylen);
static int check_token(const char *v, char *why, size_t whylen);
static int check_bucket(const char *v, char *why, size_t whylen);
static int check_account(const char *v, char *why, size_t whylen);
static int check_endpoint(const char *v, char *why, size_t whylen);
static int check_ref(const char *v, char *why, size_t whylen);
static int check_secret(const char *v, char *why, size_t whylen);
static int check_log_file(const char *v, char *why, size_t whylen);
static int check_profile(const char *v, char *why, size_t whylen);

static const char *const metadata_names[] = {"default", "listing", "objects",
					     NULL};
static const char *const provider_names[] = {"local", "s3",	"r2",
					     "gcs",   "custom", NULL};
static const char *const catalog_names[] = {"managed", "bucket-tables",
					    "iceberg", NULL};
static const char *const credentials_names[] = {"default", "keys", "chain",
						"anonymous", NULL};

#define MiB (1024.0 * 1024.0)
#define GiB (1024.0 * MiB)

/* ---- [bucketfs] and -o: the one table of struct bfs_options ---------- */

#define OPT(f) offsetof(struct bfs_options, f)
static const struct key_def opt_keys[] = {
	{.name = "builtin_dir",
	 .example = "/var/lib/bucketfs/builtin",
	 .type = KT_PATH,
	 .off = OPT(builtin_dir),
	 .def_doc = "$XDG_DATA_HOME/bucketfs/builtin "
		    "(~/.local/share/bucketfs/builtin); "
		    "/var/lib/bucketfs/builtin for root",
	 .help = "Directory that holds the builtin bucket."},
	{.name = "cache_dir",
	 .example = "/var/cache/bucketfs",
	 .type = KT_PATH,
	 .off = OPT(cache_dir),
	 .def_doc = "$XDG_CACHE_HOME/bucketfs (~/.cache/bucketfs); "
		    "/var/cache/bucketfs for root",
	 .help = "Directory of the metadata and block caches and of "
		 "staged writes."},
	{.name = "cache_size",
	 .type = KT_SIZE,
	 .off = OPT(cache_size),
	 .def = "0",
	 .min = 0,
	 .max = 1099511627776.0 * 1024, /* 1P */
	 .help = "Upper bound of the block cache on disk; 0 sizes it "
		 "automatically at each start: a tenth of the free space "
		 "(counting the cache itself), at most 20G."},
	{.name = "log_level",
	 .type = KT_STR,
	 .off = OPT(log_level),
	 .def = "info",
	 .check = check_level,
	 .help = "Most verbose level logged: err, warning, notice, info or "
		 "debug."},
	{.name = "debug",
	 .type = KT_STR,
	 .off = OPT(debug),
	 .def = "",
	 .check = check_debug,
	 .help = "Debug output of subsystems, comma separated: fs, http, "
		 "sigv4, meta, store, catalog, or all."},
	{.name = "log_file",
	 .type = KT_STR,
	 .off = OPT(log_file),
	 .def = "",
	 .example = "/var/lib/bucketfs/bucketfs.log",
	 .def_doc = "syslog when /dev/log exists, else "
		    "$XDG_STATE_HOME/bucketfs/bucketfs.log "
		    "(~/.local/state/bucketfs/bucketfs.log); "
		    "/var/lib/bucketfs/bucketfs.log for root",
	 .check = check_log_file,
	 .help = "Where a mount that runs in the background logs: an "
		 "absolute file name, or syslog. A mount in the foreground "
		 "(-f, systemd) logs to stderr."},
	{.name = "metadata",
	 .type = KT_ENUM,
	 .off = OPT(metadata),
	 .def = "default",
	 .names = metadata_names,
	 .help = "Where file attributes come from: listing (listings only; "
		 "owner and mode from uid, gid, file_mode, dir_mode) or "
		 "objects (s3fs-compatible object metadata, fetched with "
		 "HEAD and cached). default is objects for read-write "
		 "bucket mounts and listing for catalogs and read-only "
		 "mounts."},
	{.name = "attr_ttl",
	 .type = KT_DURATION,
	 .off = OPT(attr_ttl),
	 .def = "1s",
	 .min = 0,
	 .max = 86400,
	 .help = "How long the kernel and bucketfs trust the attributes of "
		 "a file before asking the bucket again."},
	{.name = "dir_ttl",
	 .type = KT_DURATION,
	 .off = OPT(dir_ttl),
	 .def = "5s",
	 .min = 0,
	 .max = 86400,
	 .help = "How long a directory listing is reused."},
	{.name = "neg_ttl",
	 .type = KT_DURATION,
	 .off = OPT(neg_ttl),
	 .def = "1s",
	 .min = 0,
	 .max = 86400,
	 .help = "How long the kernel remembers that a name does not "
		 "exist; 0 disables it."},
	{.name = "uid",
	 .example = "1000",
	 .type = KT_UID,
	 .off = OPT(uid),
	 .def_doc = "the mounting user",
	 .help = "Owner of files without owner metadata (number or user "
		 "name)."},
	{.name = "gid",
	 .example = "1000",
	 .type = KT_GID,
	 .off = OPT(gid),
	 .def_doc = "the mounting user's group",
	 .help = "Group of files without group metadata (number or group "
		 "name)."},
	{.name = "umask",
	 .type = KT_MODE,
	 .off = OPT(umask),
	 .def = "022",
	 .max = 0777,
	 .help = "Permission bits cleared from file_mode and dir_mode, "
		 "for objects without mode metadata (octal); a file made "
		 "through the mount gets its creator's umask instead."},
	{.name = "file_mode",
	 .type = KT_MODE,
	 .off = OPT(file_mode),
	 .def = "0644",
	 .max = 07777,
	 .help = "Permissions of files without mode metadata (octal)."},
	{.name = "dir_mode",
	 .type = KT_MODE,
	 .off = OPT(dir_mode),
	 .def = "0755",
	 .max = 07777,
	 .help = "Permissions of directories without mode metadata "
		 "(octal)."},
	{.name = "ro",
	 .type = KT_BOOL,
	 .off = OPT(ro),
	 .def = "false",
	 .help = "Mount read-only."},
	{.name = "multipart_threshold",
	 .type = KT_SIZE,
	 .off = OPT(multipart_threshold),
	 .def = "64M",
	 .min = 5 * MiB,
	 .max = 5 * GiB,
	 .help = "Files at least this large are uploaded in parts."},
	{.name = "part_size",
	 .type = KT_SIZE,
	 .off = OPT(part_size),
	 .def = "16M",
	 .min = 5 * MiB,
	 .max = 5 * GiB,
	 .help = "Size of each part of a multipart upload."},
	{.name = "connections",
	 .type = KT_UINT,
	 .off = OPT(connections),
	 .def = "16",
	 .min = 1,
	 .max = 1024,
	 .help = "HTTP connections kept alive per bucket; also the number "
		 "of requests in flight at once."},
	{.name = "upload_parallel",
	 .type = KT_UINT,
	 .off = OPT(upload_parallel),
	 .def = "4",
	 .min = 1,
	 .max = 256,
	 .help = "Parts of one file uploaded at once."},
	{.name = "connect_timeout",
	 .type = KT_DURATION,
	 .off = OPT(connect_timeout),
	 .def = "10s",
	 .min = 0.001,
	 .max = 600,
	 .help = "Time allowed to connect (TCP and TLS)."},
	{.name = "request_timeout",
	 .type = KT_DURATION,
	 .off = OPT(request_timeout),
	 .def = "10s",
	 .min = 0.001,
	 .max = 3600,
	 .help = "A request during which no byte moves for this long is "
		 "abandoned (and retried): a stalled transfer is found in "
		 "seconds."},
	{.name = "op_timeout",
	 .type = KT_DURATION,
	 .off = OPT(op_timeout),
	 .def = "30s",
	 .min = 0.1,
	 .max = 3600,
	 .help = "Deadline of each request to the server, retries and "
		 "waits included: past it no retry starts and a transfer "
		 "moving less than 16 KiB/s is cut, and the call fails with "
		 "ETIMEDOUT (a transfer still moving faster is never cut)."},
	{.name = "retries",
	 .type = KT_UINT,
	 .off = OPT(retries),
	 .def = "5",
	 .min = 0,
	 .max = 100,
	 .help = "Retries of a failed request, with capped exponential "
		 "backoff and jitter."},
	{.name = "max_keys",
	 .type = KT_UINT,
	 .off = OPT(max_keys),
	 .def = "1000",
	 .min = 1,
	 .max = 1000,
	 .help = "Keys asked for per listing request (smaller values are "
		 "for tests)."},
	{.name = "max_inflight",
	 .type = KT_SIZE,
	 .off = OPT(max_inflight),
	 .def = "64M",
	 .min = 1 * MiB,
	 .max = 64 * GiB,
	 .help = "Bytes of reads ahead and uploads held in memory at once."},
	{.name = "block_size",
	 .type = KT_SIZE,
	 .off = OPT(block_size),
	 .def = "1M",
	 .min = 64 * 1024,
	 .max = 64 * MiB,
	 .help = "Size of the blocks the block cache fetches and keeps; "
		 "the unit of ranged reads from the bucket."},
	{.name = "readahead",
	 .type = KT_SIZE,
	 .off = OPT(readahead),
	 .def = "1M",
	 .min = 0,
	 .max = 64 * MiB,
	 .help = "The kernel's read-ahead for the mount, and so the size "
		 "of the reads it sends to bucketfs (up to 1 MiB each); "
		 "0 keeps the kernel's 128 KiB. Set when mounting as "
		 "root."},
};
#undef OPT

/* ---- [bucket NAME] ----------------------------------------------------- */

#define BKT(f) offsetof(struct bfs_bucket_conf, f)
static const struct key_def bucket_keys[] = {
	{.name = "provider",
	 .example = "r2",
	 .type = KT_ENUM,
	 .off = BKT(provider),
	 .names = provider_names,
	 .def_doc = "none (required)",
	 .help = "s3 (Amazon S3), r2 (Cloudflare R2), gcs (Google Cloud "
		 "Storage, HMAC keys), custom (any S3-compatible server) or "
		 "local (a directory)."},
	{.name = "bucket",
	 .example = "lake-prod",
	 .type = KT_STR,
	 .off = BKT(bucket),
	 .check = check_bucket,
	 .providers = PROV_REMOTE,
	 .def_doc = "none (required)",
	 .help = "Name of the bucket at the provider."},
	{.name = "region",
	 .example = "us-east-1",
	 .type = KT_STR,
	 .off = BKT(region),
	 .check = check_token,
	 .providers = PROV_REMOTE,
	 .def_doc = "required for s3; auto for r2 and gcs; us-east-1 for "
		    "custom",
	 .help = "Region the bucket lives in."},
	{.name = "endpoint",
	 .example = "https://s3.example.com",
	 .type = KT_STR,
	 .off = BKT(endpoint),
	 .check = check_endpoint,
	 .providers = PROV_REMOTE,
	 .def_doc = "derived from the provider; required for custom",
	 .help = "scheme://host[:port] of the server. Plain http:// is "
		 "accepted for loopback hosts only, unless allow_insecure "
		 "is set."},
	{.name = "account_id",
	 .example = "0123456789abcdef0123456789abcdef",
	 .type = KT_STR,
	 .off = BKT(account_id),
	 .check = check_account,
	 .providers = PROV(R2),
	 .def_doc = "none (required for r2)",
	 .help = "Cloudflare account id, 32 hexadecimal digits (r2 only)."},
	{.name = "prefix",
	 .type = KT_PREFIX,
	 .off = BKT(prefix),
	 .def = "",
	 .help = "Show only the keys below this prefix, as if it were the "
		 "root of the bucket."},
	{.name = "dir",
	 .example = "/srv/bucketfs/scratch",
	 .type = KT_PATH,
	 .off = BKT(dir),
	 .providers = PROV(LOCAL),
	 .def_doc = "none (required for local)",
	 .help = "The directory of a local bucket (absolute path)."},
	{.name = "path_style",
	 .example = "false",
	 .type = KT_TRISTATE,
	 .off = BKT(path_style),
	 .providers = PROV_REMOTE,
	 .def_doc = "true for custom, false otherwise",
	 .help = "Address the bucket in the URL path (true) or in the host "
		 "name (false)."},
	{.name = "allow_insecure",
	 .type = KT_BOOL,
	 .off = BKT(allow_insecure),
	 .def = "false",
	 .providers = PROV_REMOTE,
	 .help = "Accept a plain http:// endpoint on a host that is not "
		 "loopback. Data and request signatures then cross the "
		 "network unencrypted (the secret itself never does)."},
	{.name = "allow_plaintext_credentials",
	 .type = KT_BOOL,
	 .off = BKT(allow_plaintext_credentials),
	 .def = "false",
	 .providers = PROV_REMOTE,
	 .help = "Accept unencrypted keys in this file. A warning is "
		 "logged each time they are used."},
	{.name = "access_key_id",
	 .example = "enc:v1:...",
	 .type = KT_SECRET,
	 .off = BKT(access_key_id),
	 .check = check_secret,
	 .providers = PROV_REMOTE,
	 .def_doc = "AWS_ACCESS_KEY_ID from the environment at mount time",
	 .help = "Access key id, encrypted (enc:v1:..., as written by "
		 "'bucketfs bucket connect')."},
	{.name = "secret_access_key",
	 .example = "enc:v1:...",
	 .type = KT_SECRET,
	 .off = BKT(secret_access_key),
	 .check = check_secret,
	 .providers = PROV_REMOTE,
	 .def_doc = "AWS_SECRET_ACCESS_KEY from the environment at mount "
		    "time",
	 .help = "Secret access key, encrypted (enc:v1:...)."},
	{.name = "credentials",
	 .example = "chain",
	 .type = KT_ENUM,
	 .off = BKT(credentials),
	 .names = credentials_names,
	 .providers = PROV_REMOTE,
	 .def_doc = "keys when keys are stored, else chain",
	 .help = "Where the keys come from: keys (access_key_id and "
		 "secret_access_key above, else AWS_ACCESS_KEY_ID, "
		 "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the "
		 "environment), chain (the AWS default provider chain: "
		 "environment, web identity, shared files and profiles, "
		 "container credentials, IMDSv2; temporary keys are "
		 "refreshed before they expire) or anonymous (unsigned "
		 "requests, for public buckets)."},
	{.name = "profile",
	 .example = "analytics",
	 .type = KT_STR,
	 .off = BKT(profile),
	 .check = check_profile,
	 .providers = PROV_REMOTE,
	 .def_doc = "AWS_PROFILE, else default",
	 .help = "Profile of ~/.aws/credentials and ~/.aws/config that the "
		 "chain reads (credentials = chain)."},
};
#undef BKT

enum {
	BK_PROVIDER,
	BK_BUCKET,
	BK_REGION,
	BK_ENDPOINT,
	BK_ACCOUNT_ID,
	BK_PREFIX,
	BK_DIR,
	BK_PATH_STYLE,
	BK_ALLOW_INSECURE,
	BK_ALLOW_PLAINTEXT,
	BK_ACCESS_KEY_ID,
	BK_SECRET_ACCESS_KEY,
	BK_CREDENTIALS,
	BK_PROFILE,
	BK_COUNT
};
_Static_assert(BK_COUNT == BFS_ARRAY_SIZE(bucket_keys), "bucket keys");

/* ---- [catalog NAME] ---------------------------------------------------- */

#define CAT(f) offsetof(struct bfs_catalog_conf, f)
static const struct key_def catalog_keys[] = {
	{.name = "type",
	 .example = "bucket-tables",
	 .type = KT_ENUM,
	 .off = CAT(type),
	 .names = catalog_names,
	 .def_doc = "none (required)",
	 .help = "managed (a read-write tree under bucket and prefix), "
		 "bucket-tables (tables of files that already live in a "
		 "bucket) or iceberg (Iceberg tables under a warehouse "
		 "prefix)."},
	{.name = "bucket",
	 .example = "lake",
	 .type = KT_STR,
	 .off = CAT(bucket),
	 .check = check_ref,
	 .def_doc = "none (required)",
	 .help = "Name of the [bucket] section it lives in, or builtin."},
	{.name = "prefix",
	 .type = KT_PREFIX,
	 .off = CAT(prefix),
	 .def = "",
	 .help = "managed: where its files land; bucket-tables: put before "
		 "every pattern; iceberg: the warehouse prefix."},
};
#undef CAT

enum { CK_TYPE, CK_BUCKET, CK_PREFIX, CK_COUNT };
_Static_assert(CK_COUNT == BFS_ARRAY_SIZE(catalog_keys), "catalog keys");

#define TABLE_KEY     "table."
#define TABLE_KEY_LEN 6
#define TABLE_KEY_HELP                                                         \
	"bucket-tables: table NAME shows the keys PATTERN matches (a "         \
	"prefix, or a glob with *, ?, [...] and **), read-only, below the "    \
	"pattern's fixed part."

/* ---- small helpers ----------------------------------------------------- */

static void replace_str(char **slot, const char *v)
{
	free(*slot);
	*slot = bfs_xstrdup(v);
}

static bool is_loopback_host(const char *host, size_t n)
{
	if ((n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	    (n == 5 && strncmp(host, "[::1]", 5) == 0))
		return true;
	if (n >= 4 && strncmp(host, "127.", 4) == 0) {
		for (size_t i = 4; i < n; i++)
			if (!isdigit((unsigned char)host[i]) && host[i] != '.')
				return false;
		return true;
	}
	return false;
}

/* Optimal string alignment distance, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *d;
	size_t r;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	d = bfs_xcalloc((la + 1) * (lb + 1), sizeof(*d));
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = BFS_MIN(D(i - 1, j) + 1, D(i, j - 1) + 1);

			v = BFS_MIN(v, D(i - 1, j - 1) + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				v = BFS_MIN(v, D(i - 2, j - 2) + 1);
			D(i, j) = v;
		}
	}
	r = D(la, lb);
#undef D
	free(d);
	return r;
}

/* The closest name of a table to `name`, or NULL if none is close. */
static const char *closest_key(const struct key_def *keys, size_t n,
			       const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t limit = strlen(name) <= 4 ? 1 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(name, keys[i].name);

		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best_d <= limit ? best : NULL;
}

static const struct key_def *find_key(const struct key_def *keys, size_t n,
				      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (h && h[0] == '/')
		return bfs_xstrdup(h);
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res &&
	    res->pw_dir && res->pw_dir[0] == '/')
		return bfs_xstrdup(res->pw_dir);
	return bfs_xstrdup("/");
}

/* $var if it is an absolute path (the XDG rule), else ~/fallback. */
static char *xdg_dir(const char *var, const char *fallback)
{
	const char *v = getenv(var);
	char *home, *r;

	if (v && v[0] == '/')
		return bfs_xstrdup(v);
	home = home_dir();
	r = bfs_xasprintf("%s%s%s", home,
			  home[strlen(home) - 1] == '/' ? "" : "/", fallback);
	free(home);
	return r;
}

char *bfs_config_state_dir(void)
{
	char *dir, *r;

	if (geteuid() == 0)
		return bfs_xstrdup("/var/lib/bucketfs");
	dir = xdg_dir("XDG_STATE_HOME", ".local/state");
	r = bfs_xasprintf("%s/bucketfs", dir);
	free(dir);
	return r;
}

char *bfs_config_default_path(void)
{
	const char *env = getenv("BUCKETFS_CONFIG");
	char *dir, *r;

	if (env && env[0])
		return bfs_xstrdup(env);
	if (geteuid() == 0)
		return bfs_xstrdup("/etc/bucketfs/bucketfs.conf");
	dir = xdg_dir("XDG_CONFIG_HOME", ".config");
	r = bfs_xasprintf("%s/bucketfs/bucketfs.conf", dir);
	free(dir);
	return r;
}

int bfs_config_check_name(const char *name, char *why, size_t whylen)
{
	size_t n = strlen(name);

	if (n == 0) {
		snprintf(why, whylen, "a name cannot be empty");
		return EINVAL;
	}
	if (n > NAME_MAX_LEN) {
		snprintf(why, whylen, "a name has at most %d characters",
			 NAME_MAX_LEN);
		return EINVAL;
	}
	if (name[0] == '.') {
		snprintf(why, whylen, "a name cannot start with '.'");
		return EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
			snprintf(why, whylen,
				 "a name has only letters, digits, '.', '_' "
				 "and '-'");
			return EINVAL;
		}
	}
	return 0;
}

const char *bfs_provider_name(enum bfs_provider p)
{
	if ((unsigned)p < BFS_ARRAY_SIZE(provider_names) - 1)
		return provider_names[p];
	return "?";
}

const char *bfs_catalog_type_name(enum bfs_catalog_type t)
{
	if ((unsigned)t < BFS_ARRAY_SIZE(catalog_names) - 1)
		return catalog_names[t];
	return "?";
}

enum bfs_credentials
bfs_bucket_credentials_mode(const struct bfs_bucket_conf *b)
{
	if (b->credentials != BFS_CREDENTIALS_DEFAULT)
		return b->credentials;
	return b->access_key_id ? BFS_CREDENTIALS_KEYS : BFS_CREDENTIALS_CHAIN;
}

const char *bfs_credentials_name(enum bfs_credentials c)
{
	if ((unsigned)c < BFS_ARRAY_SIZE(credentials_names) - 1)
		return credentials_names[c];
	return "?";
}

const char *bfs_metadata_mode_name(enum bfs_metadata_mode m)
{
	if ((unsigned)m < BFS_ARRAY_SIZE(metadata_names) - 1)
		return metadata_names[m];
	return "?";
}

/* ---- value parsers ----------------------------------------------------- */

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
	size_t n = strlen(v);

	if (n == 0 || n > 6 || strspn(v, "01234567") != n)
		return EINVAL;
	*out = strtoul(v, NULL, 8);
	return 0;
}

static int parse_uint(const char *v, unsigned long long *out)
{
	size_t n = strlen(v);

	if (n == 0 || n > 19 || strspn(v, "0123456789") != n)
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

static int check_level(const char *v, char *why, size_t whylen)
{
	if (bfs_log_parse_level(v) >= 0)
		return 0;
	snprintf(why, whylen, "expected err, warning, notice, info or debug");
	return EINVAL;
}

static int check_log_file(const char *v, char *why, size_t whylen)
{
	if (v[0] == '\0' || v[0] == '/' || strcmp(v, "syslog") == 0)
		return 0;
	snprintf(why, whylen, "expected an absolute file name or syslog");
	return EINVAL;
}

static int check_debug(const char *v, char *why, size_t whylen)
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
			snprintf(why, whylen,
				 "expected a comma-separated list of fs, "
				 "http, sigv4, meta, store, catalog or all");
			return EINVAL;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int check_token(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_") != n) {
		snprintf(why, whylen,
			 "expected letters, digits, '-' and '_' (such as "
			 "us-east-1)");
		return EINVAL;
	}
	return 0;
}

static int check_profile(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++) {
		if (v[i] <= ' ' || v[i] > '~' || v[i] == '[' || v[i] == ']') {
			n = 0;
			break;
		}
	}
	if (n == 0 || n > 128) {
		snprintf(why, whylen,
			 "expected a profile name: 1 to 128 printable "
			 "characters, no spaces or brackets");
		return EINVAL;
	}
	return 0;
}

static int check_bucket(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0 || n > 255 ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_.") != n) {
		snprintf(why, whylen,
			 "a bucket name has only letters, digits, '.', '_' "
			 "and '-' (a prefix goes in prefix =)");
		return EINVAL;
	}
	/* "..", "." and "a..b" would reach the server as a path, not a
	 * bucket (S3 names never hold two dots in a row or start or end
	 * with one) */
	if (v[0] == '.' || v[n - 1] == '.' || strstr(v, "..")) {
		snprintf(why, whylen,
			 "a bucket name neither starts nor ends with '.' nor "
			 "holds '..'");
		return EINVAL;
	}
	return 0;
}

static int check_account(const char *v, char *why, size_t whylen)
{
	if (strlen(v) != 32 || strspn(v, "0123456789abcdefABCDEF") != 32) {
		snprintf(why, whylen,
			 "expected 32 hexadecimal digits (Cloudflare "
			 "dashboard, R2, Account ID)");
		return EINVAL;
	}
	return 0;
}

/*
 * scheme://host[:port][/]: no path, query or user info, because the
 * bucket and keys are added by the store.
 */
static int parse_endpoint(const char *v, bool *https, const char **host,
			  size_t *hostlen)
{
	const char *h, *p;

	if (strncasecmp(v, "https://", 8) == 0) {
		*https = true;
		h = v + 8;
	} else if (strncasecmp(v, "http://", 7) == 0) {
		*https = false;
		h = v + 7;
	} else {
		return EINVAL;
	}
	if (*h == '[') {
		p = strchr(h, ']');
		if (!p || p == h + 1)
			return EINVAL;
		p++;
	} else {
		p = h + strspn(h, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (p == h)
			return EINVAL;
	}
	*host = h;
	*hostlen = (size_t)(p - h);
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");
		unsigned long port;

		if (n == 0 || n > 5)
			return EINVAL;
		port = strtoul(p + 1, NULL, 10);
		if (port == 0 || port > 65535)
			return EINVAL;
		p += 1 + n;
	}
	if (*p == '/')
		p++;
	return *p ? EINVAL : 0;
}

static int check_endpoint(const char *v, char *why, size_t whylen)
{
	bool https;
	const char *host;
	size_t n;

	if (parse_endpoint(v, &https, &host, &n) != 0) {
		snprintf(why, whylen,
			 "expected http(s)://host[:port] with no path");
		return EINVAL;
	}
	return 0;
}

static int check_ref(const char *v, char *why, size_t whylen)
{
	return bfs_config_check_name(v, why, whylen);
}

static int check_secret(const char *v, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n == 0) {
		snprintf(why, whylen,
			 "empty; remove the line to use AWS_ACCESS_KEY_ID "
			 "and AWS_SECRET_ACCESS_KEY from the environment");
		return EINVAL;
	}
	if (strncmp(v, "enc:", 4) == 0) {
		if (strncmp(v, "enc:v1:", 7) != 0) {
			snprintf(why, whylen,
				 "unsupported encrypted format (this "
				 "bucketfs reads enc:v1)");
			return EINVAL;
		}
		if (n == 7 || strspn(v + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "abcdefghijklmnopqrstuvwxyz"
					    "0123456789+/=") != n - 7) {
			snprintf(why, whylen,
				 "not valid enc:v1 text (truncated or "
				 "altered)");
			return EINVAL;
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
		snprintf(why, whylen, "expected an absolute path");
		return EINVAL;
	}
	*out = bfs_xstrdup(v);
	return 0;
}

/*
 * Parse v into the field of k in base.
 * @return 0, or EINVAL with the reason in why (never quoting v).
 */
static int set_value(const struct key_def *k, void *base, const char *v,
		     char *why, size_t whylen)
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
			snprintf(why, whylen, "expected true or false");
			return EINVAL;
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
			snprintf(why, whylen,
				 "expected a size such as 4096, 64M or 20G");
			return EINVAL;
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
			snprintf(why, whylen,
				 "expected a duration such as 1s, 500ms or "
				 "2m");
			return EINVAL;
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
		snprintf(why, whylen,
			 "expected a user id or an existing "
			 "user name");
		return EINVAL;
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
		snprintf(why, whylen,
			 "expected a group id or an existing "
			 "group name");
		return EINVAL;
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

/* ---- defaults ---------------------------------------------------------- */

static void options_defaults(struct bfs_options *o)
{
	char why[256];

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < BFS_ARRAY_SIZE(opt_keys); i++) {
		const struct key_def *k = &opt_keys[i];

		if (k->def && set_value(k, o, k->def, why, sizeof(why)) != 0)
			BFS_BUG("default of %s: %s", k->name, why);
	}
	if (geteuid() == 0) {
		o->builtin_dir = bfs_xstrdup("/var/lib/bucketfs/builtin");
		o->cache_dir = bfs_xstrdup("/var/cache/bucketfs");
	} else {
		char *d = xdg_dir("XDG_DATA_HOME", ".local/share");

		o->builtin_dir = bfs_xasprintf("%s/bucketfs/builtin", d);
		free(d);
		d = xdg_dir("XDG_CACHE_HOME", ".cache");
		o->cache_dir = bfs_xasprintf("%s/bucketfs", d);
		free(d);
	}
	o->uid = getuid();
	o->gid = getgid();
}

static struct bfs_bucket_conf *add_bucket(struct bfs_config *cfg,
					  const char *name, int line)
{
	struct bfs_bucket_conf *b;

	cfg->buckets = bfs_xrealloc(
		cfg->buckets, (cfg->nbuckets + 1) * sizeof(*cfg->buckets));
	b = &cfg->buckets[cfg->nbuckets++];
	memset(b, 0, sizeof(*b));
	b->name = bfs_xstrdup(name);
	b->prefix = bfs_xstrdup("");
	b->path_style = -1;
	b->line = line;
	b->provider = BFS_PROVIDER_LOCAL; /* required: finish_bucket checks */
	return b;
}

static void config_init(struct bfs_config *cfg)
{
	struct bfs_bucket_conf *b;

	memset(cfg, 0, sizeof(*cfg));
	options_defaults(&cfg->opts);
	b = add_bucket(cfg, "builtin", 0);
	b->provider = BFS_PROVIDER_LOCAL;
	b->dir = bfs_xstrdup(cfg->opts.builtin_dir);
}

/* ---- parsing ----------------------------------------------------------- */

enum section_kind { SEC_NONE, SEC_BUCKETFS, SEC_BUCKET, SEC_CATALOG };

/* Where each key of one [bucket] or [catalog] section was set. */
struct key_lines {
	int key[(int)BK_COUNT > (int)CK_COUNT ? (int)BK_COUNT : (int)CK_COUNT];
};

struct parse {
	const char *file; /* name used in messages */
	const char *buf;
	size_t len, pos;
	int lineno; /* the line the reader last returned */
	char *err;
	size_t errlen;
	bool failed;
	int err_line; /* line of the error in err */
	struct bfs_config *cfg;
	enum section_kind sec;
	size_t idx; /* bucket or catalog of the current section */
	int bucketfs_line;
	int opt_lines[BFS_ARRAY_SIZE(opt_keys)];
	struct key_lines *blines; /* parallel to cfg->buckets */
	struct key_lines *clines; /* parallel to cfg->catalogs */
	bool has_credentials;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (ps->failed)
		return 0;
	ps->failed = true;
	ps->err_line = line;
	n = (size_t)snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, line);
	if (n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static const char *section_label(struct parse *ps, char *buf, size_t len)
{
	switch (ps->sec) {
	case SEC_BUCKETFS:
		return "[bucketfs]";
	case SEC_BUCKET:
		snprintf(buf, len, "[bucket %s]",
			 ps->cfg->buckets[ps->idx].name);
		return buf;
	case SEC_CATALOG:
		snprintf(buf, len, "[catalog %s]",
			 ps->cfg->catalogs[ps->idx].name);
		return buf;
	case SEC_NONE:
		break;
	}
	return "(no section)";
}

static int unknown_key(struct parse *ps, const char *name,
		       const struct key_def *keys, size_t n)
{
	char label[NAME_MAX_LEN + 16];
	const char *where = section_label(ps, label, sizeof(label));
	const char *guess = closest_key(keys, n, name);
	const char *dot = strchr(name, '.');

	if (guess)
		return fail(ps, ps->lineno,
			    "unknown key '%s' in %s (did you mean '%s'?)", name,
			    where, guess);
	if (ps->sec == SEC_CATALOG && dot) {
		char head[16];
		size_t hn = (size_t)(dot - name);

		if (hn < sizeof(head)) {
			memcpy(head, name, hn);
			head[hn] = '\0';
			if (edit_distance(head, "table") <= 2)
				return fail(ps, ps->lineno,
					    "unknown key '%s' in %s (did you "
					    "mean 'table.%s'?)",
					    name, where, dot + 1);
		}
	}
	if (ps->sec != SEC_BUCKETFS &&
	    find_key(opt_keys, BFS_ARRAY_SIZE(opt_keys), name))
		return fail(ps, ps->lineno,
			    "unknown key '%s' in %s (it belongs in "
			    "[bucketfs])",
			    name, where);
	if (ps->sec != SEC_BUCKET &&
	    find_key(bucket_keys, BFS_ARRAY_SIZE(bucket_keys), name))
		return fail(ps, ps->lineno,
			    "unknown key '%s' in %s (it belongs in a "
			    "[bucket NAME] section)",
			    name, where);
	return fail(ps, ps->lineno, "unknown key '%s' in %s", name, where);
}

static int bad_value(struct parse *ps, const struct key_def *k, const char *v,
		     const char *why)
{
	if (k->type == KT_SECRET)
		return fail(ps, ps->lineno, "bad value for %s: %s", k->name,
			    why);
	return fail(ps, ps->lineno, "bad value '%s' for %s: %s", v, k->name,
		    why);
}

static int set_in_section(struct parse *ps, const struct key_def *keys,
			  size_t nkeys, int *lines, void *base,
			  const char *name, const char *value)
{
	const struct key_def *k = find_key(keys, nkeys, name);
	char why[256];
	size_t i;

	if (!k)
		return unknown_key(ps, name, keys, nkeys);
	i = (size_t)(k - keys);
	if (lines[i])
		return fail(ps, ps->lineno,
			    "duplicate key '%s' (first set at line %d)", name,
			    lines[i]);
	lines[i] = ps->lineno;
	if (set_value(k, base, value, why, sizeof(why)) != 0)
		return bad_value(ps, k, value, why);
	return 1;
}

static int add_table(struct parse *ps, struct bfs_catalog_conf *c,
		     const char *name, const char *pattern)
{
	char why[256];
	struct bfs_table_conf *t;

	if (bfs_config_check_name(name, why, sizeof(why)) != 0)
		return fail(ps, ps->lineno, "bad table name '%s': %s", name,
			    why);
	if (pattern[0] == '\0')
		return fail(ps, ps->lineno, "table '%s' has an empty pattern",
			    name);
	for (size_t i = 0; i < c->ntables; i++) {
		if (strcmp(c->tables[i].name, name) == 0)
			return fail(ps, ps->lineno,
				    "duplicate table '%s' (first set at line "
				    "%d)",
				    name, c->tables[i].line);
		if (strcasecmp(c->tables[i].name, name) == 0)
			return fail(ps, ps->lineno,
				    "table '%s' overlaps table '%s' (line %d): "
				    "names that differ only in case collide "
				    "on case-insensitive systems",
				    name, c->tables[i].name, c->tables[i].line);
	}
	c->tables =
		bfs_xrealloc(c->tables, (c->ntables + 1) * sizeof(*c->tables));
	t = &c->tables[c->ntables++];
	t->name = bfs_xstrdup(name);
	t->pattern = bfs_xstrdup(pattern);
	t->line = ps->lineno;
	return 1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *ps = user;
	struct bfs_config *cfg = ps->cfg;

	(void)section; /* the reader tracks sections itself */
	if (ps->failed)
		return 0;
	switch (ps->sec) {
	case SEC_NONE:
		return fail(ps, ps->lineno,
			    "key '%s' outside of a section (start with "
			    "[bucketfs], [bucket NAME] or [catalog NAME])",
			    name);
	case SEC_BUCKETFS:
		return set_in_section(ps, opt_keys, BFS_ARRAY_SIZE(opt_keys),
				      ps->opt_lines, &cfg->opts, name, value);
	case SEC_BUCKET: {
		struct bfs_bucket_conf *b = &cfg->buckets[ps->idx];

		if (ps->idx == 0 && strcmp(name, "provider") == 0 &&
		    strcmp(value, "local") != 0)
			return fail(ps, ps->lineno,
				    "the name 'builtin' is the local builtin "
				    "bucket: its provider cannot be '%s'",
				    value);
		if (ps->idx == 0 && strcmp(name, "dir") == 0)
			return fail(ps, ps->lineno,
				    "the directory of bucket 'builtin' is set "
				    "by builtin_dir in [bucketfs]");
		return set_in_section(ps, bucket_keys,
				      BFS_ARRAY_SIZE(bucket_keys),
				      ps->blines[ps->idx].key, b, name, value);
	}
	case SEC_CATALOG: {
		struct bfs_catalog_conf *c = &cfg->catalogs[ps->idx];

		if (strncmp(name, TABLE_KEY, TABLE_KEY_LEN) == 0)
			return add_table(ps, c, name + TABLE_KEY_LEN, value);
		return set_in_section(ps, catalog_keys,
				      BFS_ARRAY_SIZE(catalog_keys),
				      ps->clines[ps->idx].key, c, name, value);
	}
	}
	return 0;
}

static int finish_bucket(struct parse *ps, size_t idx)
{
	struct bfs_bucket_conf *b = &ps->cfg->buckets[idx];
	const int *lines = ps->blines[idx].key;
	bool https;
	const char *host;
	size_t hostlen;

	if (idx == 0)
		b->provider = BFS_PROVIDER_LOCAL;
	else if (!lines[BK_PROVIDER])
		return fail(ps, b->line,
			    "bucket '%s' has no provider (s3, r2, gcs, "
			    "custom or local)",
			    b->name);
	for (size_t i = 0; i < BK_COUNT; i++) {
		const struct key_def *k = &bucket_keys[i];

		if (lines[i] && k->providers &&
		    !(k->providers & (1u << b->provider)))
			return fail(ps, lines[i],
				    "key '%s' does not apply to provider %s "
				    "(bucket '%s')",
				    k->name, bfs_provider_name(b->provider),
				    b->name);
	}
	if (b->provider == BFS_PROVIDER_LOCAL) {
		if (idx != 0 && !b->dir)
			return fail(ps, b->line,
				    "bucket '%s': provider local needs dir",
				    b->name);
		return 1;
	}
	if (!b->bucket)
		return fail(ps, b->line,
			    "bucket '%s': provider %s needs bucket (the "
			    "name of the bucket at the provider)",
			    b->name, bfs_provider_name(b->provider));
	if (b->provider == BFS_PROVIDER_S3 && !b->region)
		return fail(ps, b->line,
			    "bucket '%s': provider s3 needs region (such as "
			    "us-east-1)",
			    b->name);
	if (b->provider == BFS_PROVIDER_R2 && !b->account_id)
		return fail(ps, b->line,
			    "bucket '%s': provider r2 needs account_id (the "
			    "Cloudflare account id)",
			    b->name);
	if (b->provider == BFS_PROVIDER_CUSTOM && !b->endpoint)
		return fail(ps, b->line,
			    "bucket '%s': provider custom needs endpoint "
			    "(such as https://s3.example.com)",
			    b->name);
	if (b->endpoint &&
	    parse_endpoint(b->endpoint, &https, &host, &hostlen) == 0 &&
	    !https && !b->allow_insecure && !is_loopback_host(host, hostlen))
		return fail(ps, lines[BK_ENDPOINT],
			    "endpoint of bucket '%s' is plain http:// to a "
			    "host that is not loopback: use https://, or set "
			    "allow_insecure = true",
			    b->name);
	if (!b->access_key_id != !b->secret_access_key)
		return fail(ps, b->line,
			    "bucket '%s' has %s but no %s (give both, or "
			    "neither to use AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY from the environment)",
			    b->name,
			    b->access_key_id ? "access_key_id"
					     : "secret_access_key",
			    b->access_key_id ? "secret_access_key"
					     : "access_key_id");
	if (b->access_key_id && (b->credentials == BFS_CREDENTIALS_CHAIN ||
				 b->credentials == BFS_CREDENTIALS_ANONYMOUS))
		return fail(ps, lines[BK_CREDENTIALS],
			    "bucket '%s' has stored keys but credentials = "
			    "%s: remove the keys or set credentials = keys",
			    b->name, credentials_names[b->credentials]);
	if (b->profile && b->credentials != BFS_CREDENTIALS_CHAIN &&
	    !(b->credentials == BFS_CREDENTIALS_DEFAULT && !b->access_key_id))
		return fail(ps, lines[BK_PROFILE],
			    "profile of bucket '%s' is read by credentials = "
			    "chain only",
			    b->name);
	for (int i = BK_ACCESS_KEY_ID; i <= BK_SECRET_ACCESS_KEY; i++) {
		const char *v = *(char **)((char *)b + bucket_keys[i].off);

		if (!v)
			continue;
		ps->has_credentials = true;
		if (strncmp(v, "enc:", 4) != 0 &&
		    !b->allow_plaintext_credentials)
			return fail(ps, lines[i],
				    "%s of bucket '%s' is not encrypted: store "
				    "the keys with 'bucketfs bucket connect "
				    "%s', or set allow_plaintext_credentials "
				    "= true",
				    bucket_keys[i].name, b->name, b->name);
	}
	return 1;
}

static int finish_catalog(struct parse *ps, size_t idx)
{
	struct bfs_catalog_conf *c = &ps->cfg->catalogs[idx];
	const int *lines = ps->clines[idx].key;

	if (!lines[CK_TYPE])
		return fail(ps, c->line,
			    "catalog '%s' has no type (managed, "
			    "bucket-tables or iceberg)",
			    c->name);
	if (!lines[CK_BUCKET])
		return fail(ps, c->line,
			    "catalog '%s' has no bucket (the name of a "
			    "[bucket] section, or builtin)",
			    c->name);
	if (c->ntables && c->type != BFS_CATALOG_BUCKET_TABLES)
		return fail(ps, c->tables[0].line,
			    "table.%s: tables are only for type = "
			    "bucket-tables (catalog '%s' is %s)",
			    c->tables[0].name, c->name,
			    bfs_catalog_type_name(c->type));
	return 1;
}

static int finish_section(struct parse *ps)
{
	switch (ps->sec) {
	case SEC_BUCKET:
		return finish_bucket(ps, ps->idx);
	case SEC_CATALOG:
		return finish_catalog(ps, ps->idx);
	default:
		return 1;
	}
}

/* A name already used by a bucket or catalog: its line, else -1. */
static int name_line(struct parse *ps, const char *name, const char **what)
{
	struct bfs_config *cfg = ps->cfg;

	for (size_t i = 0; i < cfg->nbuckets; i++) {
		if (strcmp(cfg->buckets[i].name, name) == 0) {
			*what = "bucket";
			return cfg->buckets[i].line;
		}
	}
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		if (strcmp(cfg->catalogs[i].name, name) == 0) {
			*what = "catalog";
			return cfg->catalogs[i].line;
		}
	}
	return -1;
}

/* text: what is between '[' and ']', NUL-terminated at text[n] */
static void start_section(struct parse *ps, const char *text, size_t n)
{
	struct bfs_config *cfg = ps->cfg;
	char kind[16], why[256];
	const char *what;
	size_t kn, i = 0;
	char *name;
	int prev;

	if (!finish_section(ps))
		return;
	ps->sec = SEC_NONE;
	while (i < n && isspace((unsigned char)text[i]))
		i++;
	while (n > i && isspace((unsigned char)text[n - 1]))
		n--;
	kn = strcspn(text + i, " \t");
	if (kn > n - i)
		kn = n - i;
	if (kn == 0 || kn >= sizeof(kind)) {
		fail(ps, ps->lineno,
		     "unknown section '[%.*s]' (expected [bucketfs], [bucket "
		     "NAME] or [catalog NAME])",
		     (int)BFS_MIN(n - i, 64u), text + i);
		return;
	}
	memcpy(kind, text + i, kn);
	kind[kn] = '\0';
	i += kn;
	while (i < n && isspace((unsigned char)text[i]))
		i++;
	name = bfs_xstrndup(text + i, n - i);
	if (strcmp(kind, "bucketfs") == 0) {
		if (name[0])
			fail(ps, ps->lineno,
			     "[bucketfs] takes no name (found '%s')", name);
		else if (ps->bucketfs_line)
			fail(ps, ps->lineno,
			     "duplicate section [bucketfs] (first at line %d)",
			     ps->bucketfs_line);
		ps->bucketfs_line = ps->lineno;
		ps->sec = SEC_BUCKETFS;
		goto out;
	}
	if (strcmp(kind, "bucket") != 0 && strcmp(kind, "catalog") != 0) {
		const char *kinds[] = {"bucketfs", "bucket", "catalog"};
		const char *guess = NULL;

		for (size_t k = 0; k < BFS_ARRAY_SIZE(kinds); k++)
			if (edit_distance(kind, kinds[k]) <= 2)
				guess = kinds[k];
		fail(ps, ps->lineno,
		     "unknown section '[%s%s%s]'%s%s%s (expected [bucketfs], "
		     "[bucket NAME] or [catalog NAME])",
		     kind, name[0] ? " " : "", name,
		     guess ? " (did you mean '" : "", guess ? guess : "",
		     guess ? "'?)" : "");
		goto out;
	}
	if (!name[0]) {
		fail(ps, ps->lineno, "[%s] needs a name: [%s NAME]", kind,
		     kind);
		goto out;
	}
	if (bfs_config_check_name(name, why, sizeof(why)) != 0) {
		fail(ps, ps->lineno, "bad %s name '%s': %s", kind, name, why);
		goto out;
	}
	if (strcmp(kind, "bucket") == 0 && strcmp(name, "builtin") == 0) {
		if (cfg->buckets[0].line) {
			fail(ps, ps->lineno,
			     "duplicate bucket 'builtin' (first at line %d)",
			     cfg->buckets[0].line);
			goto out;
		}
		cfg->buckets[0].line = ps->lineno;
		ps->sec = SEC_BUCKET;
		ps->idx = 0;
		goto out;
	}
	if (strcmp(name, "builtin") == 0) {
		fail(ps, ps->lineno,
		     "the name 'builtin' is reserved for the builtin bucket");
		goto out;
	}
	prev = name_line(ps, name, &what);
	if (prev >= 0) {
		fail(ps, ps->lineno,
		     "duplicate name '%s': already a %s (line %d)", name, what,
		     prev);
		goto out;
	}
	if (strcmp(kind, "bucket") == 0) {
		add_bucket(cfg, name, ps->lineno);
		ps->blines = bfs_xrealloc(ps->blines,
					  cfg->nbuckets * sizeof(*ps->blines));
		memset(&ps->blines[cfg->nbuckets - 1], 0, sizeof(*ps->blines));
		ps->sec = SEC_BUCKET;
		ps->idx = cfg->nbuckets - 1;
	} else {
		struct bfs_catalog_conf *c;

		cfg->catalogs = bfs_xrealloc(cfg->catalogs,
					     (cfg->ncatalogs + 1) *
						     sizeof(*cfg->catalogs));
		c = &cfg->catalogs[cfg->ncatalogs++];
		memset(c, 0, sizeof(*c));
		c->name = bfs_xstrdup(name);
		c->prefix = bfs_xstrdup("");
		c->line = ps->lineno;
		ps->clines = bfs_xrealloc(ps->clines,
					  cfg->ncatalogs * sizeof(*ps->clines));
		memset(&ps->clines[cfg->ncatalogs - 1], 0, sizeof(*ps->clines));
		ps->sec = SEC_CATALOG;
		ps->idx = cfg->ncatalogs - 1;
	}
out:
	free(name);
}

/*
 * A section header as inih reads it: '[' up to ']' or an inline comment
 * (';' after a blank). Anything but a comment after ']' is an error
 * here, where inih would silently drop it.
 */
static void section_line(struct parse *ps, const char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (s[i] == ']')
			break;
		if (s[i] == ';' && isspace((unsigned char)s[i - 1]))
			return; /* no ']': inih reports the syntax error */
	}
	if (i >= n)
		return;
	for (size_t j = i + 1; j < n; j++) {
		if (s[j] == ';' || s[j] == '#')
			break;
		if (!isspace((unsigned char)s[j])) {
			fail(ps, ps->lineno,
			     "text after ']' in a section header");
			return;
		}
	}
	{
		char *inner = bfs_xstrndup(s + 1, i - 1);

		start_section(ps, inner, strlen(inner));
		free(inner);
	}
}

static char *reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *s, *nl;
	size_t n;

	if (ps->failed || ps->pos >= ps->len || num < 3)
		return NULL;
	s = ps->buf + ps->pos;
	nl = memchr(s, '\n', ps->len - ps->pos);
	n = nl ? (size_t)(nl - s) : ps->len - ps->pos;
	ps->pos += n + (nl ? 1 : 0);
	ps->lineno++;
	if (memchr(s, '\0', n)) {
		fail(ps, ps->lineno, "NUL byte in line (is this a text file?)");
		return NULL;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (ps->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n + 2 > (size_t)num && (s[0] == ';' || s[0] == '#')) {
		/* inih would split a long comment into junk lines */
		s = "#";
		n = 1;
	} else if (n + 2 > (size_t)num) {
		fail(ps, ps->lineno, "line too long (at most %d characters)",
		     num - 2);
		return NULL;
	}
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	if (n > 0 && s[0] == '[')
		section_line(ps, s, n);
	if (ps->failed)
		return NULL;
	return str;
}

/* The text of line `line` of the buffer, for a syntax error message. */
static void describe_syntax_error(struct parse *ps, int line)
{
	const char *s = ps->buf, *end = ps->buf + ps->len;
	const char *e;

	for (int i = 1; i < line && s < end; i++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		s = nl ? nl + 1 : end;
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	e = memchr(s, '\n', (size_t)(end - s));
	if (!e)
		e = end;
	if (s < e && *s == '[')
		fail(ps, line, "syntax error: section header without ']'");
	else
		fail(ps, line,
		     "syntax error: expected 'key = value', '[section]' or "
		     "a comment");
}

static int finish_file(struct parse *ps)
{
	struct bfs_config *cfg = ps->cfg;

	if (!finish_section(ps))
		return 0;
	ps->sec = SEC_NONE;
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		struct bfs_catalog_conf *c = &cfg->catalogs[i];
		const char *guess = NULL;
		size_t best = 3;

		if (bfs_config_bucket(cfg, c->bucket))
			continue;
		for (size_t j = 0; j < cfg->nbuckets; j++) {
			size_t d =
				edit_distance(c->bucket, cfg->buckets[j].name);

			if (d < best) {
				best = d;
				guess = cfg->buckets[j].name;
			}
		}
		return fail(ps, ps->clines[i].key[CK_BUCKET],
			    "catalog '%s' names bucket '%s', which is not "
			    "defined%s%s%s",
			    c->name, c->bucket, guess ? " (did you mean '" : "",
			    guess ? guess : "", guess ? "'?)" : "");
	}
	free(cfg->buckets[0].dir);
	cfg->buckets[0].dir = bfs_xstrdup(cfg->opts.builtin_dir);
	return 1;
}

static int parse_buffer(const char *name, const char *buf, size_t len,
			struct bfs_config *cfg, bool *has_credentials,
			char *err, size_t errlen)
{
	struct parse ps = {
		.file = name,
		.buf = buf,
		.len = len,
		.err = err,
		.errlen = errlen,
		.cfg = cfg,
	};
	int rc;

	config_init(cfg);
	ps.blines = bfs_xcalloc(1, sizeof(*ps.blines));
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	/*
	 * inih reports its first syntax error only at the end; the earlier
	 * of it and ours is the one to show (ours may be a consequence of
	 * it, as keys after a broken header land in the previous section).
	 */
	if (rc > 0 && (!ps.failed || rc < ps.err_line)) {
		ps.failed = false;
		describe_syntax_error(&ps, rc);
	} else if (rc < 0 && !ps.failed)
		fail(&ps, ps.lineno, "cannot parse (out of memory)");
	if (!ps.failed)
		finish_file(&ps);
	free(ps.blines);
	free(ps.clines);
	if (ps.failed) {
		bfs_config_release(cfg);
		return EINVAL;
	}
	if (has_credentials)
		*has_credentials = ps.has_credentials;
	return 0;
}

int bfs_config_load_buffer(const char *name, const char *buf, size_t len,
			   struct bfs_config *cfg, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	return parse_buffer(name, buf, len, cfg, NULL, err, errlen);
}

/* ---- files ------------------------------------------------------------- */

static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return bfs_xstrdup(path);
	return bfs_xasprintf("%s/%s", cwd, path);
}

static int read_config_file(const char *path, char **out, size_t *outlen,
			    struct stat *st, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "cannot open config file '%s': %s", path,
			 strerror(rc));
		return rc;
	}
	if (fstat(fd, st) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot stat config file '%s': %s", path,
			 strerror(rc));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "config file '%s' is not a regular file",
			 path);
		rc = EINVAL;
		goto out;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(err, errlen,
			 "config file '%s' belongs to uid %u, neither you nor "
			 "root: refusing to trust it",
			 path, (unsigned)st->st_uid);
		rc = EACCES;
		goto out;
	}
	if (st->st_mode & 022) {
		snprintf(err, errlen,
			 "config file '%s' is writable by group or others "
			 "(mode %04o): run 'chmod 600 %s'",
			 path, (unsigned)(st->st_mode & 07777), path);
		rc = EACCES;
		goto out;
	}
	if (st->st_size > (off_t)CONFIG_MAX_BYTES) {
		snprintf(err, errlen,
			 "config file '%s' is too large (more than %u bytes)",
			 path, CONFIG_MAX_BYTES);
		rc = EFBIG;
		goto out;
	}
	buf = bfs_xmalloc(CONFIG_MAX_BYTES + 1);
	for (;;) {
		ssize_t r = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno;
			snprintf(err, errlen,
				 "cannot read config file '%s': %s", path,
				 strerror(rc));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_MAX_BYTES) {
			snprintf(err, errlen,
				 "config file '%s' is too large (more than "
				 "%u bytes)",
				 path, CONFIG_MAX_BYTES);
			rc = EFBIG;
			goto out;
		}
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int bfs_config_load(const char *path, struct bfs_config *cfg, char *err,
		    size_t errlen)
{
	bool is_explicit = path != NULL;
	char *def = NULL, *abs = NULL, *buf = NULL;
	bool has_credentials = false;
	struct stat st;
	size_t len = 0;
	int rc;

	if (errlen)
		err[0] = '\0';
	memset(cfg, 0, sizeof(*cfg));
	if (!path) {
		const char *env = getenv("BUCKETFS_CONFIG");

		is_explicit = env && env[0];
		path = def = bfs_config_default_path();
	}
	rc = read_config_file(path, &buf, &len, &st, err, errlen);
	if (rc == ENOENT && !is_explicit) {
		/* no file yet: defaults and builtin only */
		config_init(cfg);
		if (errlen)
			err[0] = '\0';
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	abs = absolute_path(path);
	rc = parse_buffer(abs, buf, len, cfg, &has_credentials, err, errlen);
	if (rc != 0)
		goto out;
	if (has_credentials && (st.st_mode & 044)) {
		snprintf(err, errlen,
			 "config file '%s' holds credentials and is readable "
			 "by group or others (mode %04o): run 'chmod 600 %s'",
			 abs, (unsigned)(st.st_mode & 07777), abs);
		bfs_config_release(cfg);
		rc = EACCES;
		goto out;
	}
	cfg->path = abs;
	abs = NULL;
out:
	free(buf);
	free(abs);
	free(def);
	return rc;
}

int bfs_config_set_option(struct bfs_config *cfg, const char *opt, char *err,
			  size_t errlen)
{
	const char *eq = strchr(opt, '=');
	size_t n = eq ? (size_t)(eq - opt) : strlen(opt);
	const struct key_def *k = NULL;
	char why[256];

	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; i < BFS_ARRAY_SIZE(opt_keys); i++)
		if (strlen(opt_keys[i].name) == n &&
		    strncmp(opt_keys[i].name, opt, n) == 0)
			k = &opt_keys[i];
	if (!k)
		return ENOENT;
	if (!eq && k->type != KT_BOOL) {
		snprintf(err, errlen, "option '%s' needs a value (-o %s=...)",
			 k->name, k->name);
		return EINVAL;
	}
	if (set_value(k, &cfg->opts, eq ? eq + 1 : "true", why, sizeof(why)) !=
	    0) {
		snprintf(err, errlen, "bad value '%s' for -o %s: %s", eq + 1,
			 k->name, why);
		return EINVAL;
	}
	if (k->off == offsetof(struct bfs_options, builtin_dir) &&
	    cfg->nbuckets > 0)
		replace_str(&cfg->buckets[0].dir, cfg->opts.builtin_dir);
	return 0;
}

void bfs_config_release(struct bfs_config *cfg)
{
	struct bfs_options *o = &cfg->opts;

	free(cfg->path);
	free(o->builtin_dir);
	free(o->cache_dir);
	free(o->log_level);
	free(o->log_file);
	free(o->debug);
	for (size_t i = 0; i < cfg->nbuckets; i++) {
		struct bfs_bucket_conf *b = &cfg->buckets[i];

		free(b->name);
		free(b->bucket);
		free(b->region);
		free(b->endpoint);
		free(b->account_id);
		free(b->prefix);
		free(b->dir);
		free(b->access_key_id);
		free(b->secret_access_key);
		free(b->profile);
	}
	free(cfg->buckets);
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		struct bfs_catalog_conf *c = &cfg->catalogs[i];

		free(c->name);
		free(c->bucket);
		free(c->prefix);
		for (size_t j = 0; j < c->ntables; j++) {
			free(c->tables[j].name);
			free(c->tables[j].pattern);
		}
		free(c->tables);
	}
	free(cfg->catalogs);
	memset(cfg, 0, sizeof(*cfg));
}

const struct bfs_bucket_conf *bfs_config_bucket(const struct bfs_config *cfg,
						const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < cfg->nbuckets; i++)
		if (strcmp(cfg->buckets[i].name, name) == 0)
			return &cfg->buckets[i];
	return NULL;
}

const struct bfs_catalog_conf *bfs_config_catalog(const struct bfs_config *cfg,
						  const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < cfg->ncatalogs; i++)
		if (strcmp(cfg->catalogs[i].name, name) == 0)
			return &cfg->catalogs[i];
	return NULL;
}

/* ---- text generated from the tables ----------------------------------- */

static const char *type_label(const struct key_def *k, char *buf, size_t len)
{
	switch (k->type) {
	case KT_PATH:
		return "PATH";
	case KT_PREFIX:
		return "PREFIX";
	case KT_SECRET:
		return "SECRET";
	case KT_BOOL:
	case KT_TRISTATE:
		return "BOOL";
	case KT_SIZE:
		return "SIZE";
	case KT_DURATION:
		return "DURATION";
	case KT_MODE:
		return "MODE";
	case KT_UINT:
		return "N";
	case KT_UID:
		return "USER";
	case KT_GID:
		return "GROUP";
	case KT_ENUM: {
		size_t n = 0;

		buf[0] = '\0';
		for (int i = 0; k->names[i] && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
					      i ? "|" : "", k->names[i]);
		return buf;
	}
	case KT_STR:
		break;
	}
	if (k->check == check_endpoint)
		return "URL";
	if (k->check == check_level)
		return "LEVEL";
	if (k->check == check_debug)
		return "LIST";
	if (k->check == check_ref)
		return "NAME";
	return "TEXT";
}

/* Write words of text wrapped at width, each line starting with lead. */
static void wrap(FILE *f, const char *lead, size_t width, const char *text)
{
	size_t col = 0;
	const char *p = text;

	while (*p) {
		size_t w;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w = strcspn(p, " ");
		if (col > 0 && col + 1 + w > width) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fputs(lead, f);
			col = strlen(lead);
		} else {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
	}
	if (col)
		fputc('\n', f);
}

static void default_text(const struct key_def *k, char *buf, size_t len)
{
	if (k->def_doc)
		snprintf(buf, len, "%s", k->def_doc);
	else if (k->def && k->def[0])
		snprintf(buf, len, "%s", k->def);
	else
		snprintf(buf, len, "empty");
}

void bfs_config_print_help(FILE *f)
{
	fprintf(f, "bucketfs options (-o NAME=VALUE, or NAME = VALUE in the "
		   "[bucketfs] section\nof the config file; see "
		   "bucketfs.conf(5)):\n");
	for (size_t i = 0; i < BFS_ARRAY_SIZE(opt_keys); i++) {
		const struct key_def *k = &opt_keys[i];
		char tbuf[64], dbuf[160], *text;

		fprintf(f, "  %s=%s\n", k->name,
			type_label(k, tbuf, sizeof(tbuf)));
		default_text(k, dbuf, sizeof(dbuf));
		text = bfs_xasprintf("%s Default: %s.", k->help, dbuf);
		wrap(f, "        ", 78, text);
		free(text);
	}
}

static void sample_keys(FILE *f, const struct key_def *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct key_def *k = &keys[i];
		const char *v = k->def ? k->def : k->example ? k->example : "";

		wrap(f, "# ", 76, k->help);
		if (k->def_doc) {
			char *d = bfs_xasprintf("Default: %s.", k->def_doc);

			wrap(f, "# ", 76, d);
			free(d);
		}
		fprintf(f, ";%s =%s%s\n\n", k->name, v[0] ? " " : "", v);
	}
}

void bfs_config_print_sample(FILE *f)
{
	fputs("# bucketfs.conf - sample configuration of bucketfs, generated "
	      "from the table\n"
	      "# of keys in src/config.c. See bucketfs.conf(5).\n"
	      "#\n"
	      "# Found by --config FILE (or -o config=FILE), else "
	      "$BUCKETFS_CONFIG, else\n"
	      "# /etc/bucketfs/bucketfs.conf for root and\n"
	      "# $XDG_CONFIG_HOME/bucketfs/bucketfs.conf "
	      "(~/.config/bucketfs/bucketfs.conf)\n"
	      "# for other users. Lines starting with ';' or '#' are "
	      "comments; so is the rest\n"
	      "# of a line after ' ;'. Every key below is commented out and "
	      "shows its\n"
	      "# default. Sizes take K, M, G, T (powers of 1024); durations "
	      "take ms, s, m, h\n"
	      "# (plain numbers are seconds); modes are octal.\n"
	      "\n"
	      "[bucketfs]\n"
	      "\n",
	      f);
	sample_keys(f, opt_keys, BFS_ARRAY_SIZE(opt_keys));
	fputs("# [bucket NAME]: a named connection to one bucket. NAME has "
	      "letters, digits,\n"
	      "# '.', '_' and '-'. Add one with 'bucketfs bucket connect NAME "
	      "--provider P',\n"
	      "# which tests it and writes the keys encrypted. Without keys "
	      "in the file, a\n"
	      "# bucket uses AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from "
	      "the environment\n"
	      "# of the mount. The bucket 'builtin' always exists (a local "
	      "directory,\n"
	      "# builtin_dir).\n"
	      "#\n"
	      ";[bucket lake]\n",
	      f);
	sample_keys(f, bucket_keys, BFS_ARRAY_SIZE(bucket_keys));
	fputs("# [catalog NAME]: a lakehouse view of a bucket.\n"
	      "#\n"
	      ";[catalog sales]\n",
	      f);
	sample_keys(f, catalog_keys, BFS_ARRAY_SIZE(catalog_keys));
	wrap(f, "# ", 76, TABLE_KEY_HELP);
	fputs(";table.orders = raw/orders/**/*.parquet\n"
	      ";table.customers = raw/customers/\n",
	      f);
}

/* troff text: escape '\' and '-', protect a leading '.' or '\''. */
static void man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_keys(FILE *f, const struct key_def *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct key_def *k = &keys[i];
		char tbuf[64], dbuf[160];

		fputs(".TP\n.BI \"", f);
		man_text(f, k->name);
		fputs(" = \" ", f);
		man_text(f, type_label(k, tbuf, sizeof(tbuf)));
		fputs("\n", f);
		man_text(f, k->help);
		fputs("\nDefault: ", f);
		default_text(k, dbuf, sizeof(dbuf));
		man_text(f, dbuf);
		fputs(".\n", f);
	}
}

void bfs_config_print_man_options(FILE *f)
{
	man_keys(f, opt_keys, BFS_ARRAY_SIZE(opt_keys));
}

void bfs_config_print_man(FILE *f)
{
	fputs(".SS \"[bucketfs]\"\n"
	      "Options of the whole installation and defaults of every "
	      "mount. Each can also be\ngiven as\n.BI \"\\-o \" NAME = VALUE\n"
	      "on the command line, which wins over the file.\n",
	      f);
	man_keys(f, opt_keys, BFS_ARRAY_SIZE(opt_keys));
	fputs(".SS \"[bucket NAME]\"\n", f);
	man_keys(f, bucket_keys, BFS_ARRAY_SIZE(bucket_keys));
	fputs(".SS \"[catalog NAME]\"\n", f);
	man_keys(f, catalog_keys, BFS_ARRAY_SIZE(catalog_keys));
	fputs(".TP\n.BI \"table.\" NAME \" = \" PATTERN\n", f);
	man_text(f, TABLE_KEY_HELP);
	fputs("\n", f);
}
