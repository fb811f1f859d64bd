/*
 * creds_chain.h - the AWS default credential provider chain, in the
 * order the SDKs document, as a refreshing source of creds.h:
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN;
 *   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      (+ AWS_ROLE_SESSION_NAME) through STS AssumeRoleWithWebIdentity;
 *   3. the shared files AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
 *      and AWS_CONFIG_FILE (~/.aws/config), profile `profile =` of the
 *      bucket, else AWS_PROFILE, else "default": static keys,
 *      credential_process, role_arn with source_profile or
 *      credential_source through STS AssumeRole, role_arn with
 *      web_identity_token_file;
 *   4. container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI or
 *      http://169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
 *      with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
 *   5. IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT or
 *      http://169.254.169.254 (unless AWS_EC2_METADATA_DISABLED=true).
 *
 * The first source that is configured answers, as in the SDKs: a
 * configured source that fails is an error, not a reason to try the
 * next. STS is at AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the
 * regional endpoint of the profile's or bucket's region.
 *
 * Invariants:
 * - The environment is read once per process, by bfs_creds_env_capture()
 *   (the mount calls it before it wipes AWS_* from its environment);
 *   secrets from it live in locked memory.
 * - Files (shared files, token files) are read at every fetch, so a
 *   rotated token file or edited profile is picked up at the refresh.
 */
#ifndef BFS_STORE_CREDS_CHAIN_H
#define BFS_STORE_CREDS_CHAIN_H

#include "store/creds.h"

struct bfs_chain_conf {
	const char *name;	/* for log lines: "bucket 'lake'" */
	const char *profile;	/* NULL: AWS_PROFILE, else "default" */
	const char *region;	/* STS region when no profile/env gives one */
	const char *ca_file;	/* for https credential services; NULL system */
	double connect_timeout; /* seconds; 0: 2 (IMDS: at most 1) */
	double request_timeout; /* seconds; 0: 10 */
};

/*
 * Read the AWS_* variables the chain uses, once per process (later
 * calls do nothing). Call before bfs_secret_scrub_environment().
 */
void bfs_creds_env_capture(void);

/*
 * The keys AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN held when bfs_creds_env_capture() ran (it runs now
 * if it has not).
 * @return 0 with a reference in *out; ENOENT (not set); EINVAL (only
 *         one of the two set: err says which).
 */
int bfs_creds_env_keys(struct bfs_cred_set **out, char *err, size_t errlen);

/*
 * The chain as a refreshing source. No I/O happens here.
 * @return the source (bfs_creds_free()); never NULL.
 */
struct bfs_creds *bfs_creds_chain(const struct bfs_chain_conf *conf);

/*
 * Resolve the chain once, now (`bucketfs bucket test`).
 * @param source receives a short name of the source that answered
 *        ("environment", "profile 'dev'", "IMDSv2", ...), or NULL.
 * @return as bfs_creds_fetch_fn.
 */
int bfs_creds_chain_resolve(const struct bfs_chain_conf *conf,
			    struct bfs_cred_set **out, char *source,
			    size_t sourcelen, char *err, size_t errlen);

#endif
