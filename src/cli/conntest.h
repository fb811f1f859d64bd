/*
 * conntest.h - the connection test of a bucket (`bucketfs bucket test`,
 * and `bucketfs bucket connect` before it saves): one line per step with
 * its result and time, and for a failure one line with its cause and
 * its fix.
 *
 * Steps, in order; the first failure ends the test:
 *   1. endpoint resolved      DNS lookup of the endpoint's host
 *   2. TCP/TLS connected      TCP connect, and the TLS handshake with
 *                             certificate verification for https
 *   3. request signed and     a signed GET of a key that does not exist:
 *      accepted               the server checks the signature, the key id
 *                             and the clock before it looks for the key
 *   4. bucket exists          the same answer: NoSuchKey means the bucket
 *                             is there; AccessDenied leaves it to step 5
 *   5. list allowed           one ListObjectsV2 page under the prefix
 *   with write:
 *   6. probe object put       a random object under the prefix
 *   7. probe object read back its bytes compared
 *   8. probe object deleted
 *
 * Invariants:
 * - Requests are not retried and each one ends within connect_timeout +
 *   request_timeout of [bucketfs], so the whole test ends within a few
 *   times those (the DNS/TCP/TLS probe within connect_timeout alone).
 * - The keys are only borrowed; nothing printed holds any part of the
 *   secret.
 */
#ifndef BFS_CLI_CONNTEST_H
#define BFS_CLI_CONNTEST_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "net/probe.h"
#include "store/s3.h"

enum bfs_conntest_step {
	BFS_CT_DNS,
	BFS_CT_CONNECT,
	BFS_CT_AUTH,
	BFS_CT_BUCKET,
	BFS_CT_LIST,
	BFS_CT_PUT,
	BFS_CT_GET,
	BFS_CT_DELETE,
	BFS_CT_NSTEPS
};

struct bfs_conntest_conf {
	bool write; /* steps 6-8 */
	/* the bucket is saved in the config file: fixes name the file's
	 * keys rather than command-line options */
	bool saved;
	/* how the user changes the keys, for the fix of a key failure
	 * ("run 'bucketfs bucket connect' again with the right keys") */
	const char *keys_fix;
	FILE *out; /* where the steps go; NULL: stdout */
	/* the session token of temporary keys (credentials = chain), or
	 * NULL */
	const char *session_token;
};

/*
 * Test bucket b of cfg with the given keys (both NULL: anonymous).
 * Uses connect_timeout and request_timeout of cfg->opts, no retries.
 * @return 0 when every step passed; else the errno of the failed step:
 *         EINVAL (the endpoint cannot be derived: message printed),
 *         ETIMEDOUT, EIO (DNS, TCP, TLS or a server failure), EACCES
 *         (keys, clock or permission), ENXIO (no such bucket), EREMOTE
 *         (wrong region or endpoint), EBADMSG (read back differs).
 */
int bfs_conntest_run(const struct bfs_config *cfg,
		     const struct bfs_bucket_conf *b, const char *access_key_id,
		     const char *secret_access_key,
		     const struct bfs_conntest_conf *tc);

/* What a failed step is explained from. */
struct bfs_conntest_failure {
	enum bfs_conntest_step step;
	/* steps 1-2: the probe; later steps: the S3 store's last error */
	const struct bfs_probe_result *probe;
	const struct bfs_s3_error *s3;
	const char *base_url;	/* the endpoint the test used */
	const char *region;	/* the signing region it used */
	double connect_timeout; /* seconds, as configured */
	double request_timeout; /* seconds, as configured */
	const struct bfs_conntest_conf *tc;
};

/*
 * One line "CAUSE; fix: FIX" for a failure (no newline).
 * @note exported for the unit test of the messages.
 */
void bfs_conntest_explain(const struct bfs_bucket_conf *b,
			  const struct bfs_conntest_failure *f, char *out,
			  size_t outlen);

/* The label of a step ("request signed and accepted"). */
const char *bfs_conntest_step_name(enum bfs_conntest_step step);

#endif
