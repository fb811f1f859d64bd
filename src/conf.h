/*
 * conf.h - the configuration of bucketfs: one INI file (inih) with
 * [bucketfs], [bucket NAME] and [catalog NAME] sections, plus `-o`
 * options on the command line, all described by one table of keys in
 * conf_keys.c (name, type, default, limits, help) from which the INI
 * handler, the -o parser, --help and the sample config are generated.
 *
 * Precedence: built-in defaults < config file < -o / command line.
 * Every error names file:line and what is wrong.
 *
 * This header is plain data: every layer may include it.
 */
#ifndef BFS_CONF_H
#define BFS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum bfs_provider {
	BFS_PROVIDER_LOCAL,
	BFS_PROVIDER_S3,
	BFS_PROVIDER_R2,
	BFS_PROVIDER_GCS,
	BFS_PROVIDER_CUSTOM,
};

enum bfs_metadata_mode {
	BFS_METADATA_DEFAULT, /* objects for rw bucket mounts, else listing */
	BFS_METADATA_LISTING,
	BFS_METADATA_OBJECTS,
};

/* credentials = of a bucket: where its keys come from */
enum bfs_credentials {
	BFS_CREDENTIALS_DEFAULT, /* keys when stored, else chain */
	BFS_CREDENTIALS_KEYS,	 /* the stored keys, else AWS_* env */
	BFS_CREDENTIALS_CHAIN,	 /* the AWS default provider chain */
	BFS_CREDENTIALS_ANONYMOUS,
};

/* sse = of a bucket: how the objects it writes are encrypted at rest */
enum bfs_sse {
	BFS_SSE_NONE, /* the bucket's default encryption */
	BFS_SSE_S3,   /* AES256, keys managed by the provider */
	BFS_SSE_KMS,  /* aws:kms, with sse_kms_key_id or the aws/s3 key */
	BFS_SSE_C,    /* a customer key sent with every request */
};

/* [bucket NAME] */
struct bfs_bucket_conf {
	char *name;
	enum bfs_provider provider;
	char *bucket;	  /* provider bucket name */
	char *region;	  /* NULL: provider default */
	char *endpoint;	  /* custom: scheme://host[:port] */
	char *account_id; /* r2 */
	char *prefix;	  /* only keys under it are shown; "" for all */
	char *dir;	  /* local: the directory */
	int path_style;	  /* -1 unset (provider default), 0, 1 */
	bool allow_insecure;
	bool allow_plaintext_credentials;
	/* as written in the file: "enc:v1:..." or plaintext or NULL (then
	 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) */
	char *access_key_id;
	char *secret_access_key;
	enum bfs_credentials credentials;
	char *profile; /* credentials = chain: the AWS profile, or NULL */
	enum bfs_sse sse;
	char *sse_kms_key_id; /* sse = kms: the key; NULL: aws/s3 */
	/* sse = c: the key's base64, encrypted like the keys */
	char *sse_customer_key;
	char *storage_class; /* x-amz-storage-class of new objects, or NULL */
	bool requester_pays; /* x-amz-request-payer: requester */
	char *ca_bundle;     /* PEM CAs to trust; NULL: the system's */
	char *proxy;	     /* forward proxy URL; NULL: the environment's */
	int line;	     /* line of the section header, 0 for builtin */
};

enum bfs_catalog_type {
	BFS_CATALOG_MANAGED,
	BFS_CATALOG_BUCKET_TABLES,
	BFS_CATALOG_ICEBERG,
};

/* table.NAME = PATTERN in a bucket-tables catalog */
struct bfs_table_conf {
	char *name;
	char *pattern;
	int line;
};

/* [catalog NAME] */
struct bfs_catalog_conf {
	char *name;
	enum bfs_catalog_type type;
	char *bucket; /* name of a [bucket] section or builtin */
	char *prefix; /* "" or ending in '/' */
	struct bfs_table_conf *tables;
	size_t ntables;
	int line;
};

/* Options of [bucketfs] and -o, generated from the tables in conf_keys.c. */
struct bfs_options {
	char *builtin_dir;
	char *cache_dir;
	uint64_t cache_size; /* bytes; 0 = automatic */
	char *log_level;     /* err ... debug */
	char *debug;	     /* "http,fs" */
	char *log_file;	     /* "", "syslog" or an absolute path */
	char *metrics;	     /* "", [HOST:]PORT or a socket path */
	enum bfs_metadata_mode metadata;
	double attr_ttl; /* seconds */
	double dir_ttl;
	double neg_ttl;
	uid_t uid; /* owner of objects without metadata */
	gid_t gid;
	mode_t umask;
	mode_t file_mode;
	mode_t dir_mode;
	bool ro;
	uint64_t multipart_threshold; /* bytes */
	uint64_t part_size;	      /* bytes */
	unsigned connections;	      /* keep-alive pool size */
	unsigned upload_parallel;
	double connect_timeout;
	double request_timeout;
	double op_timeout; /* deadline of one request, retries included */
	unsigned retries;
	unsigned max_keys; /* listing page size, for tests */
	uint64_t max_inflight;
	uint64_t block_size; /* block cache */
	uint64_t readahead;  /* the kernel's, bytes; 0: its default */
};

struct bfs_config {
	char *path; /* the file read, or NULL when none exists */
	struct bfs_options opts;
	struct bfs_bucket_conf *buckets; /* buckets[0] is always builtin */
	size_t nbuckets;
	struct bfs_catalog_conf *catalogs;
	size_t ncatalogs;
};

/*
 * Find and read the configuration.
 * @param path --config FILE, or NULL to search $BUCKETFS_CONFIG, then
 *        /etc/bucketfs/bucketfs.conf (root) or
 *        $XDG_CONFIG_HOME/bucketfs/bucketfs.conf; a missing default file
 *        is not an error (defaults and builtin only), a missing explicit
 *        one is.
 * @param err message "FILE:LINE: what is wrong" on failure.
 * @return 0, ENOENT (explicit file missing), EINVAL (bad content),
 *         EACCES (unreadable or too open).
 */
int bfs_config_load(const char *path, struct bfs_config *cfg, char *err,
		    size_t errlen);

/*
 * Apply one "key=value" (or "key") -o option over the loaded file.
 * @return 0, ENOENT (not a bucketfs option: the caller passes it to
 *         FUSE), EINVAL (bad value, message in err).
 */
int bfs_config_set_option(struct bfs_config *cfg, const char *opt, char *err,
			  size_t errlen);

/* Free everything cfg owns. */
void bfs_config_release(struct bfs_config *cfg);

/* Bucket or catalog by name, or NULL. */
const struct bfs_bucket_conf *bfs_config_bucket(const struct bfs_config *cfg,
						const char *name);
const struct bfs_catalog_conf *bfs_config_catalog(const struct bfs_config *cfg,
						  const char *name);

/* Print the option table as --help text to f. */
void bfs_config_print_help(FILE *f);
/* Print the -o options as troff .TP paragraphs (for bucketfs(8)). */
void bfs_config_print_man_options(FILE *f);

/*
 * Parse configuration text from memory, as bfs_config_load() parses a
 * file but without looking at permissions (the fuzzer, the CLI checking
 * an edit before it writes it).
 * @param name what messages call the text ("FILE:LINE: ...").
 * @return 0, or EINVAL with "NAME:LINE: what is wrong" in err; on
 *         failure cfg is left empty (bfs_config_release() is harmless).
 */
int bfs_config_load_buffer(const char *name, const char *buf, size_t len,
			   struct bfs_config *cfg, char *err, size_t errlen);

/*
 * The file bfs_config_load(NULL, ...) reads, whether or not it exists:
 * $BUCKETFS_CONFIG, else /etc/bucketfs/bucketfs.conf (root), else
 * $XDG_CONFIG_HOME/bucketfs/bucketfs.conf. The CLI creates it there.
 * @return a malloc'd path; the caller frees it.
 */
char *bfs_config_default_path(void);

/*
 * The directory of a daemon's state outside the cache (its default log
 * file): /var/lib/bucketfs for root, else $XDG_STATE_HOME/bucketfs
 * (~/.local/state/bucketfs). @return a malloc'd path.
 */
char *bfs_config_state_dir(void);

/*
 * Check a bucket, catalog or table name: 1 to 128 of [A-Za-z0-9._-],
 * not starting with '.'.
 * @return 0, or EINVAL with the rule in why.
 */
int bfs_config_check_name(const char *name, char *why, size_t whylen);

/* Names as written in the file ("r2", "bucket-tables", "listing"). */
const char *bfs_provider_name(enum bfs_provider p);
const char *bfs_catalog_type_name(enum bfs_catalog_type t);
const char *bfs_metadata_mode_name(enum bfs_metadata_mode m);
const char *bfs_credentials_name(enum bfs_credentials c);
const char *bfs_sse_name(enum bfs_sse s);

/* credentials = of b with the default resolved (never _DEFAULT). */
enum bfs_credentials
bfs_bucket_credentials_mode(const struct bfs_bucket_conf *b);

/*
 * Print a fully commented sample config file (every key, its help and
 * its default, from the same table) to f: `bucketfs config sample`, and
 * doc/bucketfs.conf.sample.
 */
void bfs_config_print_sample(FILE *f);

/* Print the key reference of bucketfs.conf(5), in troff, to f. */
void bfs_config_print_man(FILE *f);

#endif
