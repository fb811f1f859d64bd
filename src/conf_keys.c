/*
 * conf_keys.c - the tables of keys (see conf_priv.h): one entry per key of
 * [bucketfs] and -o, [bucket NAME] and [catalog NAME], with its type,
 * field offset, default, limits and help. Everything else in the
 * configuration (the parser, -o, --help, the sample file and the man
 * page) is driven by these tables.
 */
#include "compat.h"

#include "conf_priv.h"

#define PROV(x)	    (1u << BFS_PROVIDER_##x)
#define PROV_REMOTE (PROV(S3) | PROV(R2) | PROV(GCS) | PROV(CUSTOM))

static const char *const metadata_names[] = {"default", "listing", "objects",
					     NULL};
static const char *const provider_names[] = {"local", "s3",	"r2",
					     "gcs",   "custom", NULL};
static const char *const catalog_names[] = {"managed", "bucket-tables",
					    "iceberg", NULL};
const char *const credentials_names[] = {"default", "keys", "chain",
					 "anonymous", NULL};
const char *const sse_names[] = {"none", "s3", "kms", "c", NULL};

#define MiB (1024.0 * 1024.0)
#define GiB (1024.0 * MiB)

/* ---- [bucketfs] and -o: the one table of struct bfs_options ---------- */

#define OPT(f) offsetof(struct bfs_options, f)
const struct key_def opt_keys[] = {
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
	{.name = "metrics",
	 .type = KT_STR,
	 .off = OPT(metrics),
	 .def = "",
	 .example = "127.0.0.1:9180",
	 .def_doc = "off",
	 .check = check_metrics,
	 .help = "Serve the metrics in the Prometheus text format at "
		 "/metrics over HTTP: [HOST:]PORT (HOST 127.0.0.1 when "
		 "left out) or the absolute path of a unix socket. "
		 "`bucketfs stats` reads them without it."},
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
	 .help = "How long a directory listing is reused; within it a name "
		 "the listing does not show does not exist, without asking "
		 "the bucket."},
	{.name = "neg_ttl",
	 .type = KT_DURATION,
	 .off = OPT(neg_ttl),
	 .def = "1s",
	 .min = 0,
	 .max = 86400,
	 .help = "How long the kernel remembers that a name does not "
		 "exist; 0 disables it, and has every name a listing does "
		 "not show asked of the bucket."},
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
	 .def = "32",
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
_Static_assert(OPT_KEY_COUNT == BFS_ARRAY_SIZE(opt_keys),
	       "OPT_KEY_COUNT in conf_priv.h");

/* ---- [bucket NAME] ----------------------------------------------------- */

#define BKT(f) offsetof(struct bfs_bucket_conf, f)
const struct key_def bucket_keys[] = {
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
	{.name = "sse",
	 .type = KT_ENUM,
	 .off = BKT(sse),
	 .names = sse_names,
	 .def = "none",
	 .providers = PROV_REMOTE,
	 .help = "Server-side encryption of the objects written: none (the "
		 "bucket's default), s3 (AES256 with keys the provider "
		 "manages), kms (aws:kms, see sse_kms_key_id) or c (a "
		 "customer key, sse_customer_key, sent with every request "
		 "that writes or reads an object; https or loopback only)."},
	{.name = "sse_kms_key_id",
	 .example = "arn:aws:kms:us-east-1:123456789012:key/...",
	 .type = KT_STR,
	 .off = BKT(sse_kms_key_id),
	 .check = check_kms_key,
	 .providers = PROV_REMOTE,
	 .def_doc = "the account's aws/s3 key",
	 .help = "sse = kms: id, ARN or alias of the KMS key."},
	{.name = "sse_customer_key",
	 .example = "enc:v1:...",
	 .type = KT_SECRET,
	 .off = BKT(sse_customer_key),
	 .check = check_secret,
	 .providers = PROV_REMOTE,
	 .def_doc = "none (required for sse = c)",
	 .help = "sse = c: the 256-bit key, encrypted like the keys (as "
		 "written by 'bucketfs bucket connect --sse c "
		 "--sse-customer-key-file FILE'). Objects written with it "
		 "cannot be read without it."},
	{.name = "storage_class",
	 .example = "STANDARD_IA",
	 .type = KT_STR,
	 .off = BKT(storage_class),
	 .check = check_storage_class,
	 .providers = PROV_REMOTE,
	 .def_doc = "the bucket's default (STANDARD)",
	 .help = "Storage class of the objects written (uploads and the "
		 "copies of a rename), such as STANDARD_IA or "
		 "INTELLIGENT_TIERING."},
	{.name = "requester_pays",
	 .type = KT_BOOL,
	 .off = BKT(requester_pays),
	 .def = "false",
	 .providers = PROV_REMOTE,
	 .help = "Send x-amz-request-payer: requester with every request, "
		 "to use a Requester Pays bucket (this account pays for "
		 "the requests and the transfer)."},
	{.name = "ca_bundle",
	 .example = "/etc/bucketfs/ca.pem",
	 .type = KT_PATH,
	 .off = BKT(ca_bundle),
	 .providers = PROV_REMOTE,
	 .def_doc = "the system's CAs",
	 .help = "PEM file of the CAs that verify the endpoint's TLS "
		 "certificate, instead of the system's (a private CA)."},
	{.name = "proxy",
	 .example = "http://proxy.example.com:3128",
	 .type = KT_STR,
	 .off = BKT(proxy),
	 .check = check_proxy,
	 .providers = PROV_REMOTE,
	 .def_doc = "http_proxy, HTTPS_PROXY and NO_PROXY of the "
		    "environment",
	 .help = "Forward proxy of every request of this bucket "
		 "(http://HOST:PORT; https endpoints go through a CONNECT "
		 "tunnel); NO_PROXY does not apply to it."},
};
#undef BKT
_Static_assert(BK_COUNT == BFS_ARRAY_SIZE(bucket_keys), "bucket keys");

/* ---- [catalog NAME] ---------------------------------------------------- */

#define CAT(f) offsetof(struct bfs_catalog_conf, f)
const struct key_def catalog_keys[] = {
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
_Static_assert(CK_COUNT == BFS_ARRAY_SIZE(catalog_keys), "catalog keys");

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

const char *bfs_sse_name(enum bfs_sse v)
{
	if ((unsigned)v < BFS_ARRAY_SIZE(sse_names) - 1)
		return sse_names[v];
	return "?";
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
