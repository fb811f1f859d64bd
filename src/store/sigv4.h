/*
 * sigv4.h - AWS Signature Version 4: canonical request, string to sign,
 * signing key, Authorization header, and query-string presigning.
 *
 * Pure functions of their inputs (the clock is an argument), so the unit
 * tests replay the public test vectors byte for byte. No function here
 * logs; secrets pass through only as arguments and are never copied into
 * anything but the caller's output buffers and wiped locals.
 */
#ifndef BFS_SIGV4_H
#define BFS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* One HTTP header as the caller will send it. */
struct bfs_sigv4_header {
	const char *name;
	const char *value;
};

struct bfs_sigv4_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL if none */
};

struct bfs_sigv4_req {
	const char *method; /* "GET" */
	/*
	 * Path as sent on the wire, already percent-encoded by the caller
	 * (S3: each key byte encoded except unreserved and '/'). Without
	 * normalize_path it is signed as given, except that a byte outside
	 * unreserved, '/' and %XX escapes is encoded (a raw path signs as
	 * its single encoding). "" signs as "/".
	 */
	const char *path;
	/* raw query string without '?', as sent; NULL or "" for none */
	const char *query;
	const struct bfs_sigv4_header *headers; /* must include host */
	size_t nheaders;
	/* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
	const char *payload_hash;
	const char *region;  /* "us-east-1" */
	const char *service; /* "s3" */
	time_t now;	     /* signing time (UTC) */
	/*
	 * Generic AWS services normalise the path (remove dot segments,
	 * merge slashes) and encode it a second time ('%' too); S3 does
	 * neither.
	 */
	bool normalize_path;
};

/* Sizes of output buffers. */
#define BFS_SIGV4_DATE_LEN 17	/* "20150830T123600Z" + NUL */
#define BFS_SIGV4_HEX_LEN  65	/* SHA-256 in hex + NUL */
#define BFS_SIGV4_AUTH_MAX 1024 /* Authorization header value */

/* "20150830T123600Z" for t. */
void bfs_sigv4_amz_date(time_t t, char out[BFS_SIGV4_DATE_LEN]);

/* Hex SHA-256 of a buffer. */
void bfs_sigv4_sha256_hex(const void *data, size_t len,
			  char out[BFS_SIGV4_HEX_LEN]);

/*
 * Percent-encode s the S3 way into a malloc'd string: every byte but
 * A-Z a-z 0-9 - _ . ~ is %XX (upper-case hex); '/' is kept when keep_slash.
 */
char *bfs_sigv4_uri_encode(const char *s, bool keep_slash);

/*
 * The canonical request (malloc'd; caller frees) and the semicolon-joined
 * list of signed headers (malloc'd; signed_headers may be NULL) for req:
 * every header given is signed. Header names are lower-cased, values
 * trimmed with inner whitespace runs (line folds too) made one space,
 * and repeated names joined with ',' in the order given. Query names and
 * values are decoded, encoded again (every byte but unreserved ones) and
 * sorted by name, then value.
 * @return 0 or EINVAL (no host header, a header without a name, a
 *         malformed %-escape in the query, no method/path/payload_hash).
 */
int bfs_sigv4_canonical_request(const struct bfs_sigv4_req *req, char **creq,
				char **signed_headers);

/*
 * String to sign (malloc'd) for a canonical request.
 * @return the string, or NULL with errno EINVAL (no region or service).
 */
char *bfs_sigv4_string_to_sign(const struct bfs_sigv4_req *req,
			       const char *creq);

/*
 * Signature of req (hex) and the Authorization header value
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
 * @param auth BFS_SIGV4_AUTH_MAX bytes, or NULL.
 * @param signature BFS_SIGV4_HEX_LEN bytes, or NULL.
 * @return 0, EINVAL (bad request) or ENAMETOOLONG (auth does not fit).
 */
int bfs_sigv4_sign(const struct bfs_sigv4_req *req,
		   const struct bfs_sigv4_creds *creds, char *auth,
		   char *signature);

/*
 * The query string that presigning signs: req->query, then
 * X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-Security-Token (when creds has one) and X-Amz-SignedHeaders
 * (every header of req), values encoded; malloc'd. bfs_sigv4_presign()
 * signs a request with this query and appends X-Amz-Signature, so the
 * canonical request of a presigned URL is bfs_sigv4_canonical_request()
 * of req with this query.
 * @return the query string, or NULL with errno EINVAL (no host header,
 *         no credentials, expires not in 1..604800).
 */
char *bfs_sigv4_presign_query(const struct bfs_sigv4_req *req,
			      const struct bfs_sigv4_creds *creds,
			      unsigned expires);

/*
 * Presign req for expires seconds: the full query string to send
 * (req->query plus X-Amz-Algorithm ... X-Amz-Signature), malloc'd.
 * req->payload_hash is normally "UNSIGNED-PAYLOAD".
 * @return the query string, or NULL with errno EINVAL (as for
 *         bfs_sigv4_presign_query(), or a malformed query).
 */
char *bfs_sigv4_presign(const struct bfs_sigv4_req *req,
			const struct bfs_sigv4_creds *creds, unsigned expires);

#endif
