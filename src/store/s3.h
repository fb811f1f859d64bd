/*
 * s3.h - the S3 store driver: every operation of store.h over the S3 REST
 * API (SigV4-signed, path-style or virtual-host addressing), for Amazon
 * S3, Cloudflare R2, Google Cloud Storage (XML API with HMAC keys), Ceph
 * RGW, MinIO, s3rver and any other S3-compatible server.
 *
 * Invariants:
 * - bfs_s3_create() copies everything it keeps. The keys come from a
 *   credential source (creds.h): locked memory, excluded from core dumps,
 *   wiped when dropped; each attempt of a request signs with the current
 *   keys, so temporary keys are refreshed under running requests, and an
 *   ExpiredToken answer fetches new keys and retries. Keys appear in no
 *   log line and no error message.
 * - No network and no threads before start(): the HTTP client is built
 *   there (or on first use if the caller never calls start).
 * - Every S3 error code is translated to an errno in one table in s3_errors.c
 *   (listed in doc/internals/s3.md); each failure is logged once, one line
 *   naming the cause, and kept as the store's last error for
 *   bfs_s3_last_error().
 * - Requests are retried (capped exponential backoff with jitter,
 *   Retry-After honoured) on 5xx, 429, SlowDown, RequestTimeout, resets
 *   and timeouts; bodies are file regions or memory, so every retry sends
 *   the same bytes, signed anew.
 */
#ifndef BFS_STORE_S3_H
#define BFS_STORE_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "store/creds.h"
#include "store/store.h"

struct bfs_s3_conf {
	const char *name; /* connection name for log lines ("lake") */
	/*
	 * Where requests go: "scheme://authority" with no path, e.g.
	 * "http://127.0.0.1:9000" (path style) or
	 * "https://lake.s3.eu-west-1.amazonaws.com" (virtual-host style:
	 * the bucket is already in the host name).
	 */
	const char *base_url;
	/* Host header (and the host SigV4 signs); NULL: base_url's authority */
	const char *host;
	const char *bucket;
	const char *region; /* signing region; NULL: "us-east-1" */
	bool path_style;    /* keys at /bucket/key rather than /key */
	/*
	 * Where the keys come from: a source of creds.h (the store owns it
	 * from bfs_s3_create() on, also when that fails), else the fixed
	 * keys below; NULL creds and NULL access_key_id: anonymous,
	 * unsigned requests (public buckets).
	 */
	struct bfs_creds *creds;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* or NULL */
	unsigned connections;	   /* HTTP pool size; 0: 16 */
	double connect_timeout;	   /* seconds; 0: 10 */
	double request_timeout;	   /* seconds without progress; 0: 30 */
	double op_timeout;	   /* deadline of a request; 0: 30 */
	unsigned retries;	   /* retries after the first attempt */
	unsigned max_keys;	   /* listing page size when the request has
				      none; 0: 1000 */
	double backoff_base;	   /* seconds; 0: 0.1 */
	double backoff_max;	   /* seconds; 0: 20 */
	const char *ca_file;	   /* TLS CA bundle, or NULL for the system's */
	/* send x-amz-content-sha256: UNSIGNED-PAYLOAD instead of hashing
	 * every body first (saves a read of each upload; TLS only) */
	bool unsigned_payload;
	/* the server ignores If-Match / If-None-Match on PUT (s3rver): do
	 * not advertise BFS_CAP_IF_MATCH / BFS_CAP_IF_NONE_MATCH */
	bool no_conditional_put;
	/* before the first conditional write, check with a probe object
	 * whether the server honours If-None-Match, and emulate conditions
	 * with a HEAD when it does not (s3rver); the mount sets it */
	bool probe_conditional_put;
	/* copies larger than this use UploadPartCopy; 0: 5 GiB (the S3
	 * limit of CopyObject) */
	uint64_t multipart_copy_threshold;
	/* part size of such copies, grown to stay within 10,000 parts;
	 * 0: 512 MiB */
	uint64_t copy_part_size;
	/* forward proxy of every request (http.h), or NULL */
	const char *proxy;
	/*
	 * The options of a bucket, sent as the headers S3 documents (all
	 * signed): sse "AES256" or "aws:kms" (x-amz-server-side-encryption,
	 * with sse_kms_key_id) on PutObject, CreateMultipartUpload and
	 * CopyObject; sse_customer_key, the base64 of an SSE-C key (copied
	 * into locked memory), with its algorithm and MD5 on every request
	 * that writes or reads an object, and as the copy source's key on
	 * copies; storage_class on the requests that create objects;
	 * requester_pays on every request. NULL / false: not sent.
	 */
	const char *sse;
	const char *sse_kms_key_id;
	const char *sse_customer_key;
	/* the SSE-C key could not be had (it does not decrypt): every
	 * request fails with EACCES and this cause, logged once */
	const char *sse_key_error;
	const char *storage_class;
	bool requester_pays;
};

/*
 * Create an S3 store. No network I/O happens here.
 * @param err receives a one-line message on failure.
 * @return the store (destroy with s->destroy(s)), or NULL with errno set:
 *         EINVAL (missing base_url or bucket, bad URL, a secret without
 *         an access key id), ENOMEM.
 */
struct bfs_store *bfs_s3_create(const struct bfs_s3_conf *conf, char *err,
				size_t errlen);

/* The last failure of an S3 store, for `bucketfs bucket test`. */
struct bfs_s3_error {
	int err;     /* the errno the operation returned */
	long status; /* HTTP status; 0 when no response arrived */
	enum bfs_http_fail transport; /* why no response arrived */
	char op[16];		      /* "HEAD", "GET", "PUT", "LIST", ... */
	char code[64];	    /* S3 error code; "" when the body had none */
	char message[256];  /* server message or transport error, one line */
	char hint[160];	    /* cause and fix from the mapping table, or "" */
	char region[64];    /* region the server names for the bucket */
	char endpoint[256]; /* endpoint the server redirects to */
};

/*
 * Copy the last failure recorded by the S3 store of the stack s tops
 * (s itself or a layer under it; any thread) into out.
 * @return 0, ENOENT (no failure yet), EINVAL (no S3 store in the stack).
 */
int bfs_s3_last_error(struct bfs_store *s, struct bfs_s3_error *out);

/* Forget the recorded failure of the S3 store of the stack s tops
 * (before a step of a connection test). */
void bfs_s3_clear_error(struct bfs_store *s);

/*
 * Create the bucket (PUT Bucket, with a LocationConstraint unless the
 * region is us-east-1). A bucket that exists and is ours is success.
 * @return 0, EEXIST (owned by someone else), EACCES, EIO, ETIMEDOUT.
 */
int bfs_s3_create_bucket(struct bfs_store *s);

/*
 * Delete many keys with DeleteObjects (1,000 per request); keys that
 * cannot travel in XML are deleted one by one. Missing keys succeed.
 * @param errs if not NULL, n errnos, one per key (0 = deleted).
 * @return 0 when every key was deleted, else the first errno.
 */
int bfs_s3_delete_objects(struct bfs_store *s, const char *const *keys,
			  size_t n, int *errs);

#endif
