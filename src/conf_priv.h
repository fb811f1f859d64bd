/*
 * conf_priv.h - what the files of the configuration share (not for other
 * layers: they include conf.h). The configuration is split by job:
 *   conf_keys.c    the tables that describe every key of [bucketfs],
 *                  [bucket NAME] and [catalog NAME] (name, type, field
 *                  offset, default, limits, help)
 *   conf_util.c    key lookup, the config and state paths, names of enums
 *   conf_values.c  parsers and checks of single values
 *   conf.c         the inih handler and line reader that fill struct
 *                  bfs_config from a buffer with file:line errors
 *   conf_file.c    discovery and reading of the file, its permission
 *                  checks, -o, and releasing a config
 *   conf_doc.c     --help, the sample file and the man page text,
 *                  generated from the same tables
 */
#ifndef BFS_CONF_PRIV_H
#define BFS_CONF_PRIV_H

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
#include "endpoint.h"
#include "log.h"

_Static_assert(sizeof(enum bfs_provider) == sizeof(int), "enum size");
_Static_assert(sizeof(enum bfs_metadata_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum bfs_catalog_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum bfs_sse) == sizeof(int), "enum size");

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
	BK_SSE,
	BK_SSE_KMS_KEY_ID,
	BK_SSE_CUSTOMER_KEY,
	BK_STORAGE_CLASS,
	BK_REQUESTER_PAYS,
	BK_CA_BUNDLE,
	BK_PROXY,
	BK_COUNT
};

enum { CK_TYPE, CK_BUCKET, CK_PREFIX, CK_COUNT };

#define TABLE_KEY     "table."
#define TABLE_KEY_LEN 6
#define TABLE_KEY_HELP                                                         \
	"bucket-tables: table NAME shows the keys PATTERN matches (a "         \
	"prefix, or a glob with *, ?, [...] and **), read-only, below the "    \
	"pattern's fixed part."

/* conf_keys.c */
extern const char *const credentials_names[];
extern const char *const sse_names[];
#define OPT_KEY_COUNT 29 /* checked in conf_keys.c */
extern const struct key_def opt_keys[OPT_KEY_COUNT];
extern const struct key_def bucket_keys[BK_COUNT];
extern const struct key_def catalog_keys[CK_COUNT];

/* conf_util.c */
void replace_str(char **slot, const char *v);
size_t edit_distance(const char *a, const char *b);
const char *closest_key(const struct key_def *keys, size_t n, const char *name);
const struct key_def *find_key(const struct key_def *keys, size_t n,
			       const char *name);
char *home_dir(void);
char *xdg_dir(const char *var, const char *fallback);

/* conf_values.c */
int check_level(const char *v, char *why, size_t whylen);
int check_log_file(const char *v, char *why, size_t whylen);
int check_metrics(const char *v, char *why, size_t whylen);
int check_debug(const char *v, char *why, size_t whylen);
int check_token(const char *v, char *why, size_t whylen);
int check_profile(const char *v, char *why, size_t whylen);
int check_kms_key(const char *v, char *why, size_t whylen);
int check_storage_class(const char *v, char *why, size_t whylen);
int check_proxy(const char *v, char *why, size_t whylen);
int check_bucket(const char *v, char *why, size_t whylen);
int check_account(const char *v, char *why, size_t whylen);
int check_endpoint(const char *v, char *why, size_t whylen);
int check_ref(const char *v, char *why, size_t whylen);
int check_secret(const char *v, char *why, size_t whylen);
int set_value(const struct key_def *k, void *base, const char *v, char *why,
	      size_t whylen);

/* conf.c */
void config_init(struct bfs_config *cfg);
int parse_buffer(const char *name, const char *buf, size_t len,
		 struct bfs_config *cfg, bool *has_credentials, char *err,
		 size_t errlen);

#endif
