/*
 * providers.h - where a [bucket NAME] section's requests go: the
 * provider table of DESIGN.md ("Buckets (connections)").
 *
 *   s3      https://s3.<region>.amazonaws.com, region required
 *   r2      https://<account_id>.r2.cloudflarestorage.com, region "auto"
 *   gcs     https://storage.googleapis.com, region "auto"
 *   custom  the endpoint given, path style, region "us-east-1"
 *
 * An explicit endpoint replaces the derived one for every provider.
 * s3, r2 and gcs use virtual-host addressing (the bucket in the host
 * name) unless path_style = true or the bucket name is not DNS-safe
 * (dots, upper case, ...), which forces path style; custom uses path
 * style unless path_style = false. Plain http:// is accepted only for
 * loopback hosts (127.0.0.0/8, ::1, localhost) or with allow_insecure.
 *
 * Invariant of a resolved endpoint: base_url is "scheme://" + host, with
 * no path and no trailing slash; for virtual-host addressing host already
 * starts with "<bucket>.". So a request URL is always base_url + the path
 * from bfs_endpoint_object_path(), and what the S3 store needs is
 * base_url, host, region and path_style (struct bfs_s3_conf).
 */
#ifndef BFS_PROVIDERS_H
#define BFS_PROVIDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct bfs_endpoint {
	char *base_url; /* scheme://host[:port], no trailing slash */
	char *host;	/* Host header value (":port" included if given) */
	char *region;	/* signing region */
	bool path_style;
	bool tls;
	/* what bfs_endpoint_set_region() rebuilds from */
	enum bfs_provider provider;
	char *bucket;
	bool derived; /* host from the provider's rule, not an endpoint key */
};

/*
 * Resolve the endpoint of a remote bucket.
 * @param b a parsed [bucket] section (provider s3, r2, gcs or custom).
 * @param out filled on success; release with bfs_endpoint_release().
 * @param err on failure, one line naming the bucket and the config key
 *        at fault ("bucket 'lake': provider s3 needs region (such as
 *        us-east-1)").
 * @return 0, or EINVAL (missing or malformed region, account_id,
 *         endpoint or bucket; plain http:// to a host that is not
 *         loopback without allow_insecure; path_style = false with an IP
 *         address; provider local).
 */
int bfs_provider_resolve(const struct bfs_bucket_conf *b,
			 struct bfs_endpoint *out, char *err, size_t errlen);

/* Free what e owns and zero it; a zeroed e is fine. */
void bfs_endpoint_release(struct bfs_endpoint *e);

/*
 * The URL path of one object: "/<bucket>/<key>" in path style, "/<key>"
 * in virtual-host style, the key percent-encoded the S3 way ('/' kept)
 * and the bucket encoded whole. A NULL or empty key gives the bucket
 * itself ("/<bucket>" or "/"), for listings and bucket requests.
 * @return a malloc'd string; the caller frees it.
 */
char *bfs_endpoint_object_path(const struct bfs_endpoint *e, const char *bucket,
			       const char *key);

/*
 * base_url + bfs_endpoint_object_path(e, bucket, key), malloc'd.
 */
char *bfs_endpoint_object_url(const struct bfs_endpoint *e, const char *bucket,
			      const char *key);

/*
 * Take the region S3 names in a redirect or an
 * AuthorizationHeaderMalformed error: the signing region becomes region
 * and, for s3 without an endpoint key, host and base_url move to
 * s3.<region>.amazonaws.com. Other endpoints keep their host.
 * @return 0, or EINVAL (region is empty or not [A-Za-z0-9_-]); e is
 *         unchanged then.
 */
int bfs_endpoint_set_region(struct bfs_endpoint *e, const char *region);

#endif
