/*
 * creds_remote.h - the credential services the chain asks over HTTP:
 * IMDSv2, container credentials (ECS/EKS), and STS AssumeRole /
 * AssumeRoleWithWebIdentity. Private to creds_chain.c.
 *
 * Every answer is parsed into a struct bfs_cred_set (locked memory);
 * response bodies are wiped before they are freed and the JSON and XML
 * parsers free through a wiping allocator, so no secret lingers in the
 * heap after a fetch.
 */
#ifndef BFS_STORE_CREDS_REMOTE_H
#define BFS_STORE_CREDS_REMOTE_H

#include "store/creds.h"

struct bfs_creds_net {
	const char *ca_file;
	double connect_timeout;
	double request_timeout;
};

/*
 * Make jansson and expat free through explicit_bzero (once per
 * process; call before threads start).
 */
void bfs_creds_wiping_alloc_init(void);

/*
 * IMDSv2: PUT /latest/api/token, then the role under
 * /latest/meta-data/iam/security-credentials/ and its keys.
 * @param endpoint "http://169.254.169.254" or the override.
 * @return 0, ENOENT (no role attached), ETIMEDOUT/EIO (unreachable),
 *         EACCES (refused), EPROTO (bad answer).
 */
int bfs_creds_imds(const char *endpoint, const struct bfs_creds_net *net,
		   struct bfs_cred_set **out, char *err, size_t errlen);

/*
 * Container credentials: GET url with Authorization: auth when given.
 * @return as bfs_creds_imds().
 */
int bfs_creds_container(const char *url, const char *auth,
			const struct bfs_creds_net *net,
			struct bfs_cred_set **out, char *err, size_t errlen);

/*
 * STS AssumeRoleWithWebIdentity (unsigned) at sts_url.
 * @return 0, EACCES (refused: err has STS's code and message), EIO,
 *         ETIMEDOUT, EPROTO.
 */
int bfs_creds_sts_web_identity(const char *sts_url, const char *role_arn,
			       const char *session_name, const char *token,
			       const struct bfs_creds_net *net,
			       struct bfs_cred_set **out, char *err,
			       size_t errlen);

/*
 * STS AssumeRole, signed (SigV4, service sts) with src.
 * @param external_id, duration NULL when not given.
 * @return as bfs_creds_sts_web_identity().
 */
int bfs_creds_sts_assume_role(const char *sts_url, const char *region,
			      const struct bfs_cred_set *src,
			      const char *role_arn, const char *session_name,
			      const char *external_id, const char *duration,
			      const struct bfs_creds_net *net,
			      struct bfs_cred_set **out, char *err,
			      size_t errlen);

/*
 * Parse the JSON credentials object of IMDS, container services and
 * credential_process (AccessKeyId, SecretAccessKey, Token or
 * SessionToken, Expiration).
 * @return 0, or EPROTO with err saying what is missing.
 */
int bfs_creds_parse_json(const char *body, size_t len, const char *what,
			 struct bfs_cred_set **out, char *err, size_t errlen);

#endif
