/*
 * s3_xml.h - parsers (expat) for the XML bodies S3 answers with.
 *
 * Every parser takes the whole body (len bytes, need not be
 * NUL-terminated), fills its result only on success, and returns 0 or
 * EIO with a one-line reason in err ("malformed XML at line 3: unclosed
 * token", "unexpected root element 'Error', expected 'ListBucketResult'").
 * Garbage, truncated, oversized or hostile input (DOCTYPE, entities) is
 * EIO, never a crash. Element names are matched without their namespace.
 * The parsers hold no state: all are thread-safe.
 */
#ifndef BFS_STORE_S3_XML_H
#define BFS_STORE_S3_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Longest text of one element accepted (keys are 1 KiB, url-encoded 3x). */
#define BFS_S3_XML_TEXT_MAX (64 * 1024)

/* <Error>: every field malloc'd, NULL when absent. */
struct bfs_s3_xml_error {
	char *code;
	char *message;
	char *region;	/* AuthorizationHeaderMalformed, PermanentRedirect */
	char *endpoint; /* PermanentRedirect */
	char *bucket_region; /* some servers: <BucketRegion> */
	char *request_id;
};

void bfs_s3_xml_error_release(struct bfs_s3_xml_error *e);

/*
 * Whether the root element of body is <Error>: S3 may answer 200 to
 * CompleteMultipartUpload and CopyObject and put an error in the body.
 */
bool bfs_s3_xml_is_error(const char *body, size_t len);

/* Parse an <Error> body. @return 0 or EIO. */
int bfs_s3_xml_error(const char *body, size_t len, struct bfs_s3_xml_error *out,
		     char *err, size_t errlen);

/*
 * Parse a ListObjectsV2 <ListBucketResult> into out (release it with
 * bfs_list_result_release). When the body says
 * <EncodingType>url</EncodingType>, keys and prefixes are percent-decoded
 * ('+' is a space, as AWS encodes it); a server that ignores
 * encoding-type=url (s3rver) sends raw keys and no EncodingType, and
 * those are kept as they are.
 * @return 0 or EIO (also for a truncated page without a continuation
 *         token, or a key that decodes to an empty string or holds NUL).
 */
int bfs_s3_xml_list(const char *body, size_t len, struct bfs_list_result *out,
		    char *err, size_t errlen);

/* <InitiateMultipartUploadResult>: the UploadId (malloc'd). */
int bfs_s3_xml_upload_id(const char *body, size_t len, char **upload_id,
			 char *err, size_t errlen);

/*
 * <CompleteMultipartUploadResult>, <CopyObjectResult> or <CopyPartResult>:
 * the ETag without quotes into etag (BFS_ETAG_MAX bytes; "" when the
 * element is empty or absent, as RGW sends after a multipart upload).
 * @param root the expected root element name.
 */
int bfs_s3_xml_etag(const char *body, size_t len, const char *root, char *etag,
		    char *err, size_t errlen);

/* One failed key of a DeleteObjects request. */
struct bfs_s3_delete_error {
	char *key;
	char *code;
	char *message;
};

/* <DeleteResult>. */
struct bfs_s3_delete_result {
	size_t ndeleted;
	struct bfs_s3_delete_error *errors;
	size_t nerrors;
};

int bfs_s3_xml_delete_result(const char *body, size_t len,
			     struct bfs_s3_delete_result *out, char *err,
			     size_t errlen);
void bfs_s3_delete_result_release(struct bfs_s3_delete_result *r);

/*
 * Percent-decode s (n bytes) into a malloc'd string; '+' becomes a space
 * when plus_is_space. @return NULL on a bad escape or an embedded NUL.
 */
char *bfs_s3_url_decode(const char *s, size_t n, bool plus_is_space);

/*
 * Parse an ISO 8601 UTC time as S3 writes it ("2024-01-02T03:04:05.678Z").
 * @return 0 or EINVAL.
 */
int bfs_s3_parse_iso8601(const char *s, struct timespec *out);

/*
 * Strip the quotes around an ETag into out (BFS_ETAG_MAX bytes).
 * @return 0 or ENAMETOOLONG.
 */
int bfs_s3_etag_unquote(const char *s, char *out);

#endif
