/*
 * providers.c - the provider table: from a [bucket] section to the base
 * URL, Host header, signing region and addressing style of its requests,
 * and the URL path of each object.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include "endpoint.h"
#include "store/providers.h"
#include "store/sigv4.h"

static const char *provider_name(enum bfs_provider p)
{
	switch (p) {
	case BFS_PROVIDER_LOCAL:
		return "local";
	case BFS_PROVIDER_S3:
		return "s3";
	case BFS_PROVIDER_R2:
		return "r2";
	case BFS_PROVIDER_GCS:
		return "gcs";
	case BFS_PROVIDER_CUSTOM:
		return "custom";
	}
	return "unknown";
}

static bool region_ok(const char *r)
{
	return r && r[0] && strlen(r) <= 64 &&
	       strspn(r, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == strlen(r);
}

/*
 * Usable as a DNS label for virtual-host addressing: 3-63 of [a-z0-9-],
 * starting and ending with a letter or digit. Dots would break the TLS
 * wildcard certificate, upper case is not allowed in host names by S3.
 */
static bool bucket_dns_ok(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63 ||
	    strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return false;
	return b[0] != '-' && b[n - 1] != '-';
}

/* host: a name, or an IP literal (IPv6 in brackets), without port. */
static bool host_is_ip(const char *host, size_t n)
{
	char buf[64];
	unsigned char addr[sizeof(struct in6_addr)];

	if (n == 0 || n >= sizeof(buf))
		return false;
	if (host[0] == '[')
		return true;
	memcpy(buf, host, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1;
}

static void set_host(struct bfs_endpoint *e, const char *authority,
		     size_t authlen)
{
	free(e->host);
	free(e->base_url);
	if (e->path_style)
		e->host = bfs_xstrndup(authority, authlen);
	else
		e->host = bfs_xasprintf("%s.%.*s", e->bucket, (int)authlen,
					authority);
	e->base_url =
		bfs_xasprintf("%s://%s", e->tls ? "https" : "http", e->host);
}

int bfs_provider_resolve(const struct bfs_bucket_conf *b,
			 struct bfs_endpoint *out, char *err, size_t errlen)
{
	const char *name = b->name ? b->name : "?";
	const char *pname = provider_name(b->provider);
	const char *region = b->region;
	char *derived = NULL;
	const char *endpoint = b->endpoint;
	struct bfs_url u;
	int rc = EINVAL;

	memset(out, 0, sizeof(*out));
	if (b->provider == BFS_PROVIDER_LOCAL ||
	    b->provider > BFS_PROVIDER_CUSTOM) {
		snprintf(err, errlen,
			 "bucket '%s': provider %s has no network endpoint",
			 name, pname);
		return EINVAL;
	}
	if (!b->bucket || !b->bucket[0]) {
		snprintf(err, errlen,
			 "bucket '%s': provider %s needs bucket (the name of "
			 "the bucket at the provider)",
			 name, pname);
		return EINVAL;
	}
	if (strpbrk(b->bucket, "/?#%\\ \t\r\n")) {
		snprintf(err, errlen,
			 "bucket '%s': bucket '%.100s' is not a bucket name",
			 name, b->bucket);
		return EINVAL;
	}
	if (region && !region_ok(region)) {
		snprintf(err, errlen,
			 "bucket '%s': region '%.64s' is not a region name "
			 "(such as eu-west-1)",
			 name, region);
		return EINVAL;
	}

	switch (b->provider) {
	case BFS_PROVIDER_S3:
		if (!region) {
			snprintf(err, errlen,
				 "bucket '%s': provider s3 needs region (such "
				 "as us-east-1)",
				 name);
			return EINVAL;
		}
		derived = bfs_xasprintf("https://s3.%s.amazonaws.com", region);
		break;
	case BFS_PROVIDER_R2:
		if (!b->account_id || strlen(b->account_id) != 32 ||
		    strspn(b->account_id, "0123456789abcdefABCDEF") != 32) {
			snprintf(err, errlen,
				 "bucket '%s': provider r2 needs account_id, "
				 "32 hexadecimal digits (Cloudflare dashboard, "
				 "R2, Account ID)",
				 name);
			return EINVAL;
		}
		derived = bfs_xasprintf("https://%s.r2.cloudflarestorage.com",
					b->account_id);
		for (char *c = derived; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c - 'A' + 'a');
		if (!region)
			region = "auto";
		break;
	case BFS_PROVIDER_GCS:
		derived = bfs_xstrdup("https://storage.googleapis.com");
		if (!region)
			region = "auto";
		break;
	case BFS_PROVIDER_CUSTOM:
		if (!endpoint) {
			snprintf(err, errlen,
				 "bucket '%s': provider custom needs endpoint "
				 "(such as https://s3.example.com)",
				 name);
			return EINVAL;
		}
		if (!region)
			region = "us-east-1";
		break;
	default:
		break;
	}
	if (!endpoint)
		endpoint = derived;
	if (bfs_endpoint_parse(endpoint, &u) != 0) {
		snprintf(err, errlen,
			 "bucket '%s': endpoint '%.200s' is not "
			 "http(s)://host[:port] with no path",
			 name, endpoint);
		goto out;
	}
	if (!u.tls && !b->allow_insecure &&
	    !bfs_host_is_loopback(u.host, u.hostlen)) {
		snprintf(err, errlen,
			 "bucket '%s': endpoint '%.200s' is plain http:// to "
			 "a host that is not loopback: use https://, or set "
			 "allow_insecure = true",
			 name, endpoint);
		goto out;
	}

	out->provider = b->provider;
	out->derived = endpoint == derived;
	out->tls = u.tls;
	out->bucket = bfs_xstrdup(b->bucket);
	out->region = bfs_xstrdup(region);
	if (b->path_style >= 0)
		out->path_style = b->path_style != 0;
	else
		out->path_style = b->provider == BFS_PROVIDER_CUSTOM;
	if (!out->path_style && !bucket_dns_ok(b->bucket))
		out->path_style = true;
	if (!out->path_style && host_is_ip(u.host, u.hostlen)) {
		snprintf(err, errlen,
			 "bucket '%s': path_style = false needs a host name, "
			 "but endpoint '%.200s' is an IP address",
			 name, endpoint);
		bfs_endpoint_release(out);
		goto out;
	}
	set_host(out, u.host, u.authlen);
	rc = 0;
out:
	free(derived);
	return rc;
}

void bfs_endpoint_release(struct bfs_endpoint *e)
{
	free(e->base_url);
	free(e->host);
	free(e->region);
	free(e->bucket);
	memset(e, 0, sizeof(*e));
}

char *bfs_endpoint_object_path(const struct bfs_endpoint *e, const char *bucket,
			       const char *key)
{
	char *b = NULL, *k = NULL, *path;

	if (key && key[0])
		k = bfs_sigv4_uri_encode(key, true);
	if (e->path_style) {
		b = bfs_sigv4_uri_encode(bucket, false);
		path = k ? bfs_xasprintf("/%s/%s", b, k)
			 : bfs_xasprintf("/%s", b);
	} else {
		path = bfs_xasprintf("/%s", k ? k : "");
	}
	free(b);
	free(k);
	return path;
}

char *bfs_endpoint_object_url(const struct bfs_endpoint *e, const char *bucket,
			      const char *key)
{
	char *path = bfs_endpoint_object_path(e, bucket, key);
	char *url = bfs_xasprintf("%s%s", e->base_url, path);

	free(path);
	return url;
}

int bfs_endpoint_set_region(struct bfs_endpoint *e, const char *region)
{
	if (!region_ok(region))
		return EINVAL;
	free(e->region);
	e->region = bfs_xstrdup(region);
	if (e->provider == BFS_PROVIDER_S3 && e->derived) {
		char *a = bfs_xasprintf("s3.%s.amazonaws.com", region);

		set_host(e, a, strlen(a));
		free(a);
	}
	return 0;
}
