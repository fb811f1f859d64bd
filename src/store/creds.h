/*
 * creds.h - where a store's signing keys come from, and their refresh.
 *
 * A struct bfs_creds is a source of credentials: fixed keys (the
 * encrypted keys of the config file, or AWS_* from the environment), a
 * source that always fails with one message (a bucket that has none:
 * its directory fails, the rest of the lake works), or a fetch function
 * (the AWS default provider chain, creds_chain.h) whose temporary keys
 * expire and are fetched again before they do.
 *
 * A struct bfs_cred_set is one generation of keys: access key id,
 * secret, optional session token and expiry, in one page of memory that
 * is locked, kept out of core dumps and wiped when the last reference
 * goes. A request takes a reference for the time it signs, so a refresh
 * never pulls keys from under a request that is using them.
 *
 * Refresh: keys with an expiry are fetched again once less than
 * min(5 min, half their lifetime) remains. One caller fetches while the
 * others go on signing with the current keys; only when the keys have
 * expired (or there are none yet) do callers wait for the fetch. A
 * failed refresh keeps the current keys until they expire and is tried
 * again after a pause. The fetch runs with no lock held.
 *
 * Invariants:
 * - Thread-safe. No secret is ever logged or written into err.
 * - Each failure is logged once (LOG_ERR, naming the cause and the fix)
 *   until a fetch succeeds again.
 */
#ifndef BFS_STORE_CREDS_H
#define BFS_STORE_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* One generation of keys. Read-only once made; refcounted. */
struct bfs_cred_set {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL when none */
	time_t expiration;	   /* 0: does not expire */
	/* private */
	int refs;
	char *page;
	size_t page_len;
};

/*
 * New keys in locked memory, with one reference.
 * @param session_token NULL or "" for none.
 * @param expiration 0 for keys that do not expire.
 * @return the set, or NULL with errno EINVAL (empty id or secret) or
 *         ENOMEM.
 */
struct bfs_cred_set *bfs_cred_set_new(const char *access_key_id,
				      const char *secret_access_key,
				      const char *session_token,
				      time_t expiration);

/* Drop a reference; the last one wipes and frees. NULL is a no-op. */
void bfs_cred_set_put(struct bfs_cred_set *s);

/*
 * Fetch fresh keys (runs with no lock held, possibly in several threads
 * of different sources at once, never twice at once for one source).
 * @param out receives a set with one reference on success.
 * @param err one line: the cause and the fix, never a secret.
 * @return 0, or an errno (EACCES: no credentials or refused; ETIMEDOUT,
 *         EIO: the credential service is unreachable).
 */
typedef int (*bfs_creds_fetch_fn)(void *arg, struct bfs_cred_set **out,
				  char *err, size_t errlen);

struct bfs_creds;

/*
 * A source that fetches with fetch(arg) and refreshes as described
 * above. free_arg(arg), when not NULL, runs at bfs_creds_free().
 * @param name for log lines ("bucket 'lake'").
 */
struct bfs_creds *bfs_creds_create(const char *name, bfs_creds_fetch_fn fetch,
				   void *arg, void (*free_arg)(void *));

/*
 * A source of fixed keys (copied into locked memory).
 * @return the source, or NULL with errno EINVAL or ENOMEM.
 */
struct bfs_creds *bfs_creds_fixed(const char *name, const char *access_key_id,
				  const char *secret_access_key,
				  const char *session_token);

/*
 * A source that always fails with errno rc and message msg (logged once
 * at the first use): a bucket whose keys are missing or do not decrypt.
 */
struct bfs_creds *bfs_creds_failing(const char *name, int rc, const char *msg);

/*
 * The current keys, fetched or refreshed first when needed.
 * @param out receives a reference (bfs_cred_set_put()).
 * @param err when not NULL, the cause on failure (never a secret).
 * @return 0, or the errno of the fetch (EACCES, ETIMEDOUT, EIO, ...).
 */
int bfs_creds_get(struct bfs_creds *c, struct bfs_cred_set **out, char *err,
		  size_t errlen);

/*
 * The server refused keys this source gave (ExpiredToken and the like):
 * fetch anew at the next bfs_creds_get() unless a newer set than used
 * has arrived meanwhile. Fixed keys ignore it.
 */
void bfs_creds_invalidate(struct bfs_creds *c, const struct bfs_cred_set *used);

/*
 * Make c give what `with` gives from now on (the configuration changed
 * under a running mount: new keys, another profile, chain instead of
 * keys). Requests signing now finish with the keys they hold; a fetch
 * of the old source that is running is thrown away when it ends. with
 * is consumed (freed).
 */
void bfs_creds_replace(struct bfs_creds *c, struct bfs_creds *with);

/* True when the keys can change (a fetching source). */
bool bfs_creds_refreshes(const struct bfs_creds *c);

/* Counters for tests and `cache stats`. */
struct bfs_creds_stats {
	unsigned long fetches;	/* successful fetches */
	unsigned long failures; /* failed fetches */
};
void bfs_creds_get_stats(struct bfs_creds *c, struct bfs_creds_stats *out);

/* Free the source (no bfs_creds_get() may be running). NULL is a no-op. */
void bfs_creds_free(struct bfs_creds *c);

/*
 * Parse an ISO 8601 UTC time as credential services write it
 * ("2026-12-06T15:00:00Z", fractions and "+00:00" accepted).
 * @return 0 or EINVAL.
 */
int bfs_creds_parse_time(const char *s, time_t *out);

#endif
