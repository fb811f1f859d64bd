/*
 * s3_errors.c - the S3 error table: the one place S3 error codes
 * and HTTP statuses become errnos, and whether each is retried.
 */
#include "compat.h"

#include "store/s3_priv.h"

static const struct s3_code s3_codes[] = {
	{"AccessDenied", EACCES, LOG_ERR, false,
	 "the credentials lack permission for this request"},
	{"AllAccessDisabled", EACCES, LOG_ERR, false,
	 "all access to this bucket has been disabled"},
	{"AccountProblem", EACCES, LOG_ERR, false,
	 "the provider account has a problem; see its console"},
	{"InvalidAccessKeyId", EACCES, LOG_ERR, false,
	 "unknown access key id: check access_key_id"},
	{"SignatureDoesNotMatch", EACCES, LOG_ERR, false,
	 "wrong secret access key for this access key id"},
	{"RequestTimeTooSkewed", EACCES, LOG_ERR, false,
	 "the local clock is off by more than 15 minutes and the server's "
	 "Date did not help: fix NTP"},
	{"ExpiredToken", EACCES, LOG_ERR, false,
	 "the session token has expired"},
	{"InvalidToken", EACCES, LOG_ERR, false,
	 "the session token is malformed or invalid"},
	{"TokenRefreshRequired", EACCES, LOG_ERR, false,
	 "the session token must be refreshed"},
	{"MissingSecurityHeader", EACCES, LOG_ERR, false,
	 "a required header is missing (x-amz-content-sha256?)"},
	{"AuthorizationHeaderMalformed", EREMOTE, LOG_ERR, false,
	 "wrong region for this bucket: set region to the one named"},
	{"PermanentRedirect", EREMOTE, LOG_ERR, false,
	 "the bucket lives at another endpoint or region: set region"},
	{"TemporaryRedirect", EREMOTE, LOG_ERR, false,
	 "the bucket is being moved; use the endpoint named"},
	{"IllegalLocationConstraintException", EREMOTE, LOG_ERR, false,
	 "the bucket is in another region: set region"},
	{"InvalidLocationConstraint", EINVAL, LOG_ERR, false,
	 "the server does not know this region: check region"},
	{"NoSuchBucket", ENXIO, LOG_ERR, false,
	 "the bucket does not exist: check the bucket name"},
	{"NoSuchKey", ENOENT, LOG_DEBUG, false, ""},
	{"NoSuchUpload", ENOENT, LOG_WARNING, false,
	 "the multipart upload was aborted or completed already"},
	{"NoSuchVersion", ENOENT, LOG_DEBUG, false, ""},
	{"PreconditionFailed", ESTALE, LOG_DEBUG, false, ""},
	{"ConditionalRequestConflict", ESTALE, LOG_INFO, false,
	 "another writer raced this conditional request"},
	{"InvalidRange", ERANGE, LOG_DEBUG, false, ""},
	{"SlowDown", EIO, LOG_WARNING, true,
	 "the server throttles requests: lower connections"},
	{"ServiceUnavailable", EIO, LOG_WARNING, true,
	 "the server is overloaded or down"},
	{"InternalError", EIO, LOG_WARNING, true, "the server failed"},
	{"RequestTimeout", EIO, LOG_WARNING, true,
	 "the body did not arrive in time"},
	{"BadDigest", EIO, LOG_WARNING, true,
	 "Content-MD5 mismatch: data changed in transit"},
	{"XAmzContentSHA256Mismatch", EIO, LOG_WARNING, true,
	 "payload hash mismatch: data changed in transit"},
	{"InvalidDigest", EIO, LOG_ERR, false, "the Content-MD5 is malformed"},
	{"IncompleteBody", EIO, LOG_WARNING, true,
	 "the body was shorter than Content-Length"},
	{"OperationAborted", EIO, LOG_WARNING, true,
	 "a conflicting operation is in progress"},
	{"InvalidObjectState", EIO, LOG_ERR, false,
	 "the object is archived: restore it first"},
	{"KeyTooLongError", ENAMETOOLONG, LOG_INFO, false,
	 "keys are limited to 1024 bytes"},
	{"EntityTooLarge", EFBIG, LOG_ERR, false,
	 "the object or part is larger than the server accepts"},
	{"EntityTooSmall", EINVAL, LOG_ERR, false,
	 "a multipart part is below the 5 MiB minimum"},
	{"InvalidPart", EINVAL, LOG_ERR, false,
	 "a part of the multipart upload is missing or its ETag is wrong"},
	{"InvalidPartOrder", EINVAL, LOG_ERR, false,
	 "multipart parts are not in ascending order"},
	{"InvalidBucketName", EINVAL, LOG_ERR, false,
	 "the bucket name is not valid"},
	{"InvalidArgument", EINVAL, LOG_ERR, false, ""},
	{"InvalidRequest", EINVAL, LOG_ERR, false, ""},
	{"MalformedXML", EINVAL, LOG_ERR, false, ""},
	{"MissingContentLength", EINVAL, LOG_ERR, false, ""},
	{"InvalidURI", EINVAL, LOG_ERR, false, ""},
	{"MethodNotAllowed", ENOTSUP, LOG_ERR, false,
	 "the server does not allow this request here"},
	{"NotImplemented", ENOTSUP, LOG_ERR, false,
	 "the server does not implement this request"},
	{"QuotaExceeded", EDQUOT, LOG_ERR, false, "the user's quota is full"},
	{"TooManyBuckets", EDQUOT, LOG_ERR, false,
	 "the account has too many buckets"},
	{"BucketAlreadyExists", EEXIST, LOG_ERR, false,
	 "the bucket name belongs to another account"},
	{"BucketAlreadyOwnedByYou", EEXIST, LOG_INFO, false, ""},
	{"BucketNotEmpty", ENOTEMPTY, LOG_ERR, false, ""},
};

/* A response without a known code: the status decides. */
static const struct s3_status s3_statuses[] = {
	{301, EREMOTE, LOG_ERR, "PermanentRedirect"},
	{307, EREMOTE, LOG_ERR, "TemporaryRedirect"},
	{400, EINVAL, LOG_ERR, "BadRequest"},
	{401, EACCES, LOG_ERR, "Unauthorized"},
	{403, EACCES, LOG_ERR, "Forbidden"},
	{404, ENOENT, LOG_DEBUG, "NotFound"},
	{405, ENOTSUP, LOG_ERR, "MethodNotAllowed"},
	{409, EBUSY, LOG_WARNING, "Conflict"},
	{411, EINVAL, LOG_ERR, "LengthRequired"},
	{412, ESTALE, LOG_DEBUG, "PreconditionFailed"},
	{416, ERANGE, LOG_DEBUG, "InvalidRange"},
	{429, EIO, LOG_WARNING, "TooManyRequests"},
	{500, EIO, LOG_WARNING, "InternalError"},
	{501, ENOTSUP, LOG_ERR, "NotImplemented"},
	{503, EIO, LOG_WARNING, "ServiceUnavailable"},
};

const struct s3_code *find_code(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(s3_codes); i++)
		if (strcmp(s3_codes[i].code, code) == 0)
			return &s3_codes[i];
	return NULL;
}

const struct s3_status *find_status(long status)
{
	const struct s3_status *found = NULL;

	/* the last entry of a status wins */
	for (size_t i = 0; i < BFS_ARRAY_SIZE(s3_statuses); i++)
		if (s3_statuses[i].status == status)
			found = &s3_statuses[i];
	return found;
}
