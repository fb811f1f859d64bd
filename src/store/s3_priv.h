/*
 * s3_priv.h - what the files of the S3 store driver share (see s3.h for
 * its interface). The driver is split by job:
 *   s3.c          the driver's state, creation, start, stats, shutdown
 *   s3_errors.c   the one table that maps S3 errors to errnos
 *   s3_request.c  one request: building, signing, sending, retrying and
 *                 checking the answer
 *   s3_helpers.c  keys, query strings, user metadata headers, digests
 *   s3_object.c   head, get_range, put and delete of one object
 *   s3_mpu.c      multipart uploads
 *   s3_copy.c     server-side copy, multipart for big objects
 *   s3_list.c     ListObjectsV2
 *   s3_bucket.c   bucket-level extras: create a bucket, delete in batches
 */
#ifndef BFS_STORE_S3_PRIV_H
#define BFS_STORE_S3_PRIV_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "net/http.h"
#include "store/creds.h"
#include "store/s3.h"
#include "store/s3_xml.h"
#include "store/sigv4.h"
#include "util.h"

#define EMPTY_SHA256                                                           \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_PARTS	     10000
#define MAX_COPY_SIZE	     (5ULL << 30)
#define LIST_BODY_MAX	     (8u << 20)
#define DELETE_BATCH	     1000
#define DEFAULT_CONTENT_TYPE "application/octet-stream"

struct s3_priv {
	struct bfs_store store;
	char *name;	 /* "s3:NAME" */
	char *base_url;	 /* scheme://authority, no trailing '/' */
	char *base_path; /* path under the authority, "" or "/x" */
	char *host;	 /* Host header */
	char *bucket;
	char *region;
	char *path_prefix; /* base_path + "/bucket" (path style) */
	char *copy_prefix; /* "/bucket/" for x-amz-copy-source */
	char *ca_file;
	char *proxy;
	/* the bucket's options (s3.h), sent by option_headers() */
	char *sse, *sse_kms_key_id, *storage_class;
	/* SSE-C: the key's base64 as access_key_id and its MD5's base64 as
	 * secret_access_key of a set of creds.h: locked memory, wiped */
	struct bfs_cred_set *ssec;
	char *sse_key_error;	 /* the key could not be had: every request
				    fails with EACCES */
	struct bfs_s3_conf conf; /* numbers and flags; strings not kept */
	struct bfs_metrics_bucket *metrics; /* this bucket's counters */

	/* where the keys come from (creds.h); NULL: anonymous requests */
	struct bfs_creds *creds;

	pthread_mutex_t lock;
	struct bfs_http *http;	     /* protected by lock until set */
	struct bfs_s3_error last;    /* protected by lock */
	bool have_last;		     /* protected by lock */
	atomic_bool if_match_broken; /* server 412s a matching If-Match */
	/* conditional PUT probed once: 0 not yet, 1 honoured, 2 ignored
	 * (s3rver) */
	atomic_int cond_put;
	/* the server fails truncated ListObjectsV2 pages (s3rver): page
	 * with ListObjects v1 and markers instead */
	atomic_bool list_v1;
	/* a truncated v2 page has been answered: a 500 is a fault here */
	atomic_bool list_v2_pages;
	/* the server reads a suffix range "bytes=-N" as "bytes=0-N"
	 * (s3rver): tail_read is a HEAD */
	atomic_bool no_suffix;
	/* seconds to add to the local clock when signing, learnt from the
	 * Date of a RequestTimeTooSkewed answer */
	_Atomic int64_t clock_offset;
	_Atomic uint64_t errors;
};

/* ---- the S3 error table: the one place codes become errnos ---- */

struct s3_code {
	const char *code;
	int err;
	int level; /* syslog level of the log line */
	bool retry;
	const char *hint;
};

/* ---- one request ---- */

struct s3_op {
	/* set by s3_prepare: no keys to sign with (the credential source
	 * logged why, once); the cause, for bfs_s3_last_error() */
	bool no_creds;
	char creds_err[256];
	const char *opname; /* for log lines: "HEAD", "LIST", ... */
	const char *method;
	const char *key;	      /* NULL: the bucket itself */
	const char *logkey;	      /* named in log lines when key is NULL */
	const char *query;	      /* raw, encoded, sorted; or NULL */
	struct bfs_http_headers hdrs; /* extra headers, all signed */
	const char *payload_hash;     /* NULL: hash of the empty body */
	struct bfs_http_body body;
	void *buf;
	size_t buf_size;
	size_t max_body;
	bool truncate;	      /* see bfs_http_req */
	uint64_t skip_if_200; /* see bfs_http_req */
	bool idempotent;      /* a POST that may be sent twice */
	bool embeds_error;    /* a 200 may carry <Error> (copy, complete) */
	int quiet_err;	      /* an errno that is an answer here (debug) */
	int err_412;	      /* errno for 412 (ESTALE or EEXIST) */
	bool answer_500;      /* no retries on 500: the caller falls back */
	char *path;	      /* encoded path, built by s3_do */
	uint64_t t0_usec;     /* when the first attempt started (metrics) */
	uint64_t bytes_in, bytes_out; /* over every s3_do of the op */
	/* see bfs_http_req */
	void (*on_body)(void *arg, const struct bfs_http_resp *resp);
	void *on_body_arg;
	size_t ring; /* see bfs_http_req */
	const size_t *ring_done;
};

struct digests {
	char sha256[BFS_SIGV4_HEX_LEN]; /* hex, or "UNSIGNED-PAYLOAD" */
	char md5_hex[33];
	char md5_b64[25];
};

/* s3.c */
struct s3_priv *s3_priv_of(struct bfs_store *s);

/* s3_errors.c */
const struct s3_code *find_code(const char *code);
/* The errno, log level and name of an HTTP status without an S3 code. */
struct s3_status {
	long status;
	int err;
	int level;
	const char *name;
};
const struct s3_status *find_status(long status);

/* s3_request.c */
void op_release(struct s3_op *op);
struct bfs_http *s3_http(struct s3_priv *p, int *rc);
int s3_do(struct s3_priv *p, struct s3_op *op, struct bfs_http_resp *resp);
void clean(char *dst, size_t dstlen, const char *s, size_t max);
int s3_fail(struct s3_priv *p, const struct s3_op *op, int err, int level,
	    long status, enum bfs_http_fail transport, const char *code,
	    const char *message, const char *hint, const char *region,
	    const char *endpoint, unsigned retries);
int s3_check(struct s3_priv *p, struct s3_op *op, struct bfs_http_resp *resp,
	     int rc);
int s3_run(struct s3_priv *p, struct s3_op *op, struct bfs_http_resp *resp);

/* s3_helpers.c */
int check_key(const char *key);
void qadd(char **q, const char *name, const char *value);
int add_meta(struct bfs_http_headers *h, const struct bfs_meta_list *m);
void etag_from_headers(const struct bfs_http_resp *resp, char *etag);
/* The answer's Date into *out when out is not NULL (0 if none). */
void date_from_headers(const struct bfs_http_resp *resp, time_t *out);
void digest_mem(const void *data, size_t len, struct digests *d);
int digest_fd(struct s3_priv *p, int fd, off_t off, uint64_t len,
	      struct digests *d);
void check_given_md5(struct s3_priv *p, const struct bfs_put_req *req,
		     const struct digests *d, const char *etag);
void digest_given(struct s3_priv *p, const unsigned char *md5,
		  const unsigned char *sha256, struct digests *d);
void xml_escape_append(char **buf, size_t *len, size_t *cap, const char *s);
void str_append(char **buf, size_t *len, size_t *cap, const char *s);

/* s3_object.c */
int s3_head_op(struct s3_priv *p, const char *key, struct bfs_obj_info *out,
	       char **content_type);
int s3_head(struct bfs_store *s, const char *key, struct bfs_obj_info *out);
int s3_head_read(struct bfs_store *s, const char *key, const char *known,
		 struct bfs_obj_info *out, void *buf, size_t len, size_t *got);
int s3_tail_read(struct bfs_store *s, const char *key, struct bfs_obj_info *out,
		 void *buf, size_t len, size_t *got);
int s3_get_range(struct bfs_store *s, const char *key, uint64_t off, size_t len,
		 void *buf, size_t *got, const char *if_match);
int s3_get_range_sink(struct bfs_store *s, const char *key, uint64_t off,
		      size_t len, void *buf, size_t *got, const char *if_match,
		      const struct bfs_range_sink *sink);
void cond_headers(struct s3_op *op, const char *if_match, bool if_none_match);
int current_etag(struct s3_priv *p, const char *key, char *etag);
/*
 * A write's conditions checked before it is sent, for servers that
 * ignore them (one HEAD): 0 when they hold, EEXIST (if_none_match and the
 * key exists), ESTALE (if_match and another ETag, or no object), or the
 * HEAD's errno.
 */
int check_cond_first(struct s3_priv *p, const char *key, const char *if_match,
		     bool if_none_match);
int s3_put(struct bfs_store *s, const struct bfs_put_req *req, char *etag_out);
int s3_del(struct bfs_store *s, const char *key);

/* s3_mpu.c */
int mpu_begin_op(struct s3_priv *p, const char *key,
		 const struct bfs_meta_list *meta, const char *content_type,
		 char **upload_id);
int s3_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
		 char **upload_id);
char *part_query(int number, const char *upload_id);
int s3_mpu_part(struct bfs_store *s, const char *key, const char *upload_id,
		int number, int fd, off_t off, size_t len, char *etag_out);
int mpu_complete_op(struct s3_priv *p, const char *key, const char *upload_id,
		    const struct bfs_part *parts, size_t nparts,
		    const char *if_match, bool if_none_match, char *etag_out,
		    time_t *answered);
int s3_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
		    const char *upload_id, const struct bfs_part *parts,
		    size_t nparts, char *etag_out);
int s3_mpu_abort(struct bfs_store *s, const char *key, const char *upload_id);

/* s3_copy.c */
int s3_copy(struct bfs_store *s, const char *src, const char *dst,
	    const struct bfs_meta_list *meta, const char *if_match,
	    char *etag_out);

/* s3_list.c */
int s3_list(struct bfs_store *s, const struct bfs_list_req *req,
	    struct bfs_list_result *out);

/* s3_request.c: the bucket's options as headers (s3.h) */
enum {
	OPT_WRITE = 1u,	   /* creates an object: SSE, storage class */
	OPT_SSEC = 2u,	   /* writes or reads an object: its SSE-C key */
	OPT_SSEC_SRC = 4u, /* copies from an object: the source's key */
};
void option_headers(struct s3_priv *p, struct s3_op *op, unsigned what);
bool etag_is_md5(const struct s3_priv *p);

#endif
