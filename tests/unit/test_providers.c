/*
 * test_providers.c - the provider table, case by case: endpoint, Host,
 * region and addressing of s3, r2, gcs and custom buckets, object paths
 * and URLs, the region redirect fix-up, and every error (with the config
 * key its message must name).
 */
#include "compat.h"

#include "conf.h"
#include "store/providers.h"
#include "tap.h"

#define ACCT "0123456789abcdef0123456789abcdef"

struct pcase {
	const char *name;
	/* input */
	enum bfs_provider provider;
	const char *bucket, *region, *endpoint, *account_id;
	int path_style; /* -1 unset */
	bool allow_insecure;
	/* expected */
	int rc;
	const char *base_url, *host, *region_out;
	bool path_style_out, tls;
	const char *path; /* object path of key "dir/a b+c.txt" */
	const char *errsub;
};

static const struct pcase cases[] = {
	/* s3 */
	{"s3: virtual host", BFS_PROVIDER_S3, "lake", "eu-west-1", NULL, NULL,
	 -1, false, 0, "https://lake.s3.eu-west-1.amazonaws.com",
	 "lake.s3.eu-west-1.amazonaws.com", "eu-west-1", false, true,
	 "/dir/a%20b%2Bc.txt", NULL},
	{"s3: path_style = true", BFS_PROVIDER_S3, "lake", "us-east-1", NULL,
	 NULL, 1, false, 0, "https://s3.us-east-1.amazonaws.com",
	 "s3.us-east-1.amazonaws.com", "us-east-1", true, true,
	 "/lake/dir/a%20b%2Bc.txt", NULL},
	{"s3: path_style = false", BFS_PROVIDER_S3, "lake-2", "us-west-2", NULL,
	 NULL, 0, false, 0, "https://lake-2.s3.us-west-2.amazonaws.com",
	 "lake-2.s3.us-west-2.amazonaws.com", "us-west-2", false, true,
	 "/dir/a%20b%2Bc.txt", NULL},
	{"s3: bucket with dots forces path style", BFS_PROVIDER_S3,
	 "my.lake.example", "eu-central-1", NULL, NULL, -1, false, 0,
	 "https://s3.eu-central-1.amazonaws.com",
	 "s3.eu-central-1.amazonaws.com", "eu-central-1", true, true,
	 "/my.lake.example/dir/a%20b%2Bc.txt", NULL},
	{"s3: upper-case bucket forces path style", BFS_PROVIDER_S3, "Lake",
	 "eu-west-1", NULL, NULL, 0, false, 0,
	 "https://s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com",
	 "eu-west-1", true, true, "/Lake/dir/a%20b%2Bc.txt", NULL},
	{"s3: underscore bucket forces path style", BFS_PROVIDER_S3, "old_lake",
	 "us-east-1", NULL, NULL, -1, false, 0,
	 "https://s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com",
	 "us-east-1", true, true, "/old_lake/dir/a%20b%2Bc.txt", NULL},
	{"s3: endpoint override", BFS_PROVIDER_S3, "lake", "us-east-1",
	 "https://s3-fips.us-east-1.amazonaws.com/", NULL, -1, false, 0,
	 "https://lake.s3-fips.us-east-1.amazonaws.com",
	 "lake.s3-fips.us-east-1.amazonaws.com", "us-east-1", false, true,
	 "/dir/a%20b%2Bc.txt", NULL},
	{"s3: no region", BFS_PROVIDER_S3, "lake", NULL, NULL, NULL, -1, false,
	 EINVAL, NULL, NULL, NULL, false, false, NULL,
	 "provider s3 needs region"},
	{"s3: bad region", BFS_PROVIDER_S3, "lake", "eu west", NULL, NULL, -1,
	 false, EINVAL, NULL, NULL, NULL, false, false, NULL,
	 "region 'eu west'"},
	{"s3: empty region", BFS_PROVIDER_S3, "lake", "", NULL, NULL, -1, false,
	 EINVAL, NULL, NULL, NULL, false, false, NULL, "region"},
	{"s3: no bucket", BFS_PROVIDER_S3, NULL, "us-east-1", NULL, NULL, -1,
	 false, EINVAL, NULL, NULL, NULL, false, false, NULL, "needs bucket"},
	{"s3: bucket with a slash", BFS_PROVIDER_S3, "a/b", "us-east-1", NULL,
	 NULL, -1, false, EINVAL, NULL, NULL, NULL, false, false, NULL,
	 "is not a bucket name"},

	/* r2 */
	{"r2: virtual host, region auto", BFS_PROVIDER_R2, "lake-prod", NULL,
	 NULL, ACCT, -1, false, 0,
	 "https://lake-prod." ACCT ".r2.cloudflarestorage.com",
	 "lake-prod." ACCT ".r2.cloudflarestorage.com", "auto", false, true,
	 "/dir/a%20b%2Bc.txt", NULL},
	{"r2: path style, upper-case account id", BFS_PROVIDER_R2, "lake-prod",
	 NULL, NULL, "0123456789ABCDEF0123456789ABCDEF", 1, false, 0,
	 "https://" ACCT ".r2.cloudflarestorage.com",
	 ACCT ".r2.cloudflarestorage.com", "auto", true, true,
	 "/lake-prod/dir/a%20b%2Bc.txt", NULL},
	{"r2: jurisdiction endpoint", BFS_PROVIDER_R2, "lake", NULL,
	 "https://" ACCT ".eu.r2.cloudflarestorage.com", ACCT, 1, false, 0,
	 "https://" ACCT ".eu.r2.cloudflarestorage.com",
	 ACCT ".eu.r2.cloudflarestorage.com", "auto", true, true,
	 "/lake/dir/a%20b%2Bc.txt", NULL},
	{"r2: no account_id", BFS_PROVIDER_R2, "lake", NULL, NULL, NULL, -1,
	 false, EINVAL, NULL, NULL, NULL, false, false, NULL,
	 "needs account_id"},
	{"r2: short account_id", BFS_PROVIDER_R2, "lake", NULL, NULL,
	 "0123456789abcdef", -1, false, EINVAL, NULL, NULL, NULL, false, false,
	 NULL, "account_id, 32 hexadecimal"},
	{"r2: non-hex account_id", BFS_PROVIDER_R2, "lake", NULL, NULL,
	 "0123456789abcdef0123456789abcdeg", -1, false, EINVAL, NULL, NULL,
	 NULL, false, false, NULL, "account_id"},

	/* gcs */
	{"gcs: virtual host, region auto", BFS_PROVIDER_GCS, "lake", NULL, NULL,
	 NULL, -1, false, 0, "https://lake.storage.googleapis.com",
	 "lake.storage.googleapis.com", "auto", false, true,
	 "/dir/a%20b%2Bc.txt", NULL},
	{"gcs: path style", BFS_PROVIDER_GCS, "lake", NULL, NULL, NULL, 1,
	 false, 0, "https://storage.googleapis.com", "storage.googleapis.com",
	 "auto", true, true, "/lake/dir/a%20b%2Bc.txt", NULL},
	{"gcs: endpoint and region overridden", BFS_PROVIDER_GCS, "lake",
	 "europe-west1", "https://gcs.example.com:8443", NULL, 1, false, 0,
	 "https://gcs.example.com:8443", "gcs.example.com:8443", "europe-west1",
	 true, true, "/lake/dir/a%20b%2Bc.txt", NULL},

	/* custom */
	{"custom: loopback http, path style, us-east-1", BFS_PROVIDER_CUSTOM,
	 "scratch", NULL, "http://127.0.0.1:9000", NULL, -1, false, 0,
	 "http://127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", true, false,
	 "/scratch/dir/a%20b%2Bc.txt", NULL},
	{"custom: 127.0.0.0/8 is loopback", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "http://127.1.2.3:8080/", NULL, -1, false, 0, "http://127.1.2.3:8080",
	 "127.1.2.3:8080", "us-east-1", true, false, "/s/dir/a%20b%2Bc.txt",
	 NULL},
	{"custom: localhost", BFS_PROVIDER_CUSTOM, "s", "garage",
	 "http://LocalHost:3900", NULL, -1, false, 0, "http://LocalHost:3900",
	 "LocalHost:3900", "garage", true, false, "/s/dir/a%20b%2Bc.txt", NULL},
	{"custom: ::1", BFS_PROVIDER_CUSTOM, "s", NULL, "http://[::1]:7480",
	 NULL, -1, false, 0, "http://[::1]:7480", "[::1]:7480", "us-east-1",
	 true, false, "/s/dir/a%20b%2Bc.txt", NULL},
	{"custom: https, virtual host on request", BFS_PROVIDER_CUSTOM, "data",
	 "de-fra", "https://s3.example.com", NULL, 0, false, 0,
	 "https://data.s3.example.com", "data.s3.example.com", "de-fra", false,
	 true, "/dir/a%20b%2Bc.txt", NULL},
	{"custom: bucket with dots stays path style", BFS_PROVIDER_CUSTOM,
	 "a.b.c", NULL, "https://s3.example.com", NULL, -1, false, 0,
	 "https://s3.example.com", "s3.example.com", "us-east-1", true, true,
	 "/a.b.c/dir/a%20b%2Bc.txt", NULL},
	{"custom: plain http off loopback", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "http://10.0.0.5:9000", NULL, -1, false, EINVAL, NULL, NULL, NULL,
	 false, false, NULL, "allow_insecure"},
	{"custom: plain http to a name", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "http://minio.lan", NULL, -1, false, EINVAL, NULL, NULL, NULL, false,
	 false, NULL, "allow_insecure = true"},
	{"custom: 128.0.0.1 is not loopback", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "http://128.0.0.1", NULL, -1, false, EINVAL, NULL, NULL, NULL, false,
	 false, NULL, "allow_insecure"},
	{"custom: localhost.evil.com is not loopback", BFS_PROVIDER_CUSTOM, "s",
	 NULL, "http://localhost.evil.com", NULL, -1, false, EINVAL, NULL, NULL,
	 NULL, false, false, NULL, "allow_insecure"},
	{"custom: plain http with allow_insecure", BFS_PROVIDER_CUSTOM, "s",
	 NULL, "http://10.0.0.5:9000", NULL, -1, true, 0,
	 "http://10.0.0.5:9000", "10.0.0.5:9000", "us-east-1", true, false,
	 "/s/dir/a%20b%2Bc.txt", NULL},
	{"custom: no endpoint", BFS_PROVIDER_CUSTOM, "s", NULL, NULL, NULL, -1,
	 false, EINVAL, NULL, NULL, NULL, false, false, NULL,
	 "provider custom needs endpoint"},
	{"custom: endpoint with a path", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "https://s3.example.com/bucket", NULL, -1, false, EINVAL, NULL, NULL,
	 NULL, false, false, NULL, "endpoint 'https://s3.example.com/bucket'"},
	{"custom: endpoint without scheme", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "s3.example.com", NULL, -1, false, EINVAL, NULL, NULL, NULL, false,
	 false, NULL, "http(s)://host[:port]"},
	{"custom: ftp endpoint", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "ftp://s3.example.com", NULL, -1, false, EINVAL, NULL, NULL, NULL,
	 false, false, NULL, "endpoint"},
	{"custom: port 0", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "https://s3.example.com:0", NULL, -1, false, EINVAL, NULL, NULL, NULL,
	 false, false, NULL, "endpoint"},
	{"custom: port 65536", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "https://s3.example.com:65536", NULL, -1, false, EINVAL, NULL, NULL,
	 NULL, false, false, NULL, "endpoint"},
	{"custom: user info", BFS_PROVIDER_CUSTOM, "s", NULL,
	 "https://user:pw@s3.example.com", NULL, -1, false, EINVAL, NULL, NULL,
	 NULL, false, false, NULL, "endpoint"},
	{"custom: virtual host on an IP address", BFS_PROVIDER_CUSTOM, "data",
	 NULL, "http://127.0.0.1:9000", NULL, 0, false, EINVAL, NULL, NULL,
	 NULL, false, false, NULL, "path_style = false"},
	{"local: no endpoint", BFS_PROVIDER_LOCAL, "x", NULL, NULL, NULL, -1,
	 false, EINVAL, NULL, NULL, NULL, false, false, NULL, "provider local"},
};

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void run_case(const struct pcase *c)
{
	struct bfs_bucket_conf b = {
		.name = (char *)"t",
		.provider = c->provider,
		.bucket = (char *)c->bucket,
		.region = (char *)c->region,
		.endpoint = (char *)c->endpoint,
		.account_id = (char *)c->account_id,
		.prefix = (char *)"",
		.path_style = c->path_style,
		.allow_insecure = c->allow_insecure,
	};
	struct bfs_endpoint e;
	char err[512] = "";
	char *path = NULL, *url = NULL, *want_url = NULL;
	bool ok;
	int rc;

	rc = bfs_provider_resolve(&b, &e, err, sizeof(err));
	if (c->rc) {
		ok = rc == c->rc && strstr(err, c->errsub) &&
		     strstr(err, "bucket 't'") && !e.base_url && !e.host;
		if (!tap_ok(ok, "%s: error", c->name))
			tap_diag("rc %d, message '%s' (want '%s')", rc, err,
				 c->errsub);
		bfs_endpoint_release(&e);
		return;
	}
	if (rc == 0) {
		path = bfs_endpoint_object_path(&e, c->bucket, "dir/a b+c.txt");
		url = bfs_endpoint_object_url(&e, c->bucket, "dir/a b+c.txt");
		want_url = bfs_xasprintf("%s%s", c->base_url, c->path);
	}
	ok = rc == 0 && streq(e.base_url, c->base_url) &&
	     streq(e.host, c->host) && streq(e.region, c->region_out) &&
	     e.path_style == c->path_style_out && e.tls == c->tls;
	if (!tap_ok(ok, "%s: endpoint", c->name))
		tap_diag("rc %d '%s': base_url %s host %s region %s path %d "
			 "tls %d",
			 rc, err, e.base_url ? e.base_url : "-",
			 e.host ? e.host : "-", e.region ? e.region : "-",
			 e.path_style, e.tls);
	if (!tap_ok(streq(path, c->path) && streq(url, want_url),
		    "%s: object path and url", c->name))
		tap_diag("path %s url %s", path ? path : "-", url ? url : "-");
	free(path);
	free(url);
	free(want_url);
	bfs_endpoint_release(&e);
}

static struct bfs_bucket_conf conf(enum bfs_provider p, const char *bucket,
				   const char *region, const char *endpoint,
				   int path_style)
{
	return (struct bfs_bucket_conf){
		.name = (char *)"t",
		.provider = p,
		.bucket = (char *)bucket,
		.region = (char *)region,
		.endpoint = (char *)endpoint,
		.path_style = path_style,
	};
}

static void test_paths(void)
{
	struct bfs_bucket_conf b;
	struct bfs_endpoint e;
	char err[256], *p;

	b = conf(BFS_PROVIDER_CUSTOM, "my bucket", NULL,
		 "https://s3.example.com", -1);
	tap_ok(bfs_provider_resolve(&b, &e, err, sizeof(err)) == EINVAL,
	       "paths: bucket with a space is refused");
	bfs_endpoint_release(&e);

	b = conf(BFS_PROVIDER_CUSTOM, "b.1", NULL, "https://s3.example.com", 1);
	if (bfs_provider_resolve(&b, &e, err, sizeof(err)) != 0)
		BFS_BUG("resolve: %s", err);
	p = bfs_endpoint_object_path(&e, "b.1", NULL);
	tap_ok(streq(p, "/b.1"), "paths: path-style bucket root %s", p);
	free(p);
	p = bfs_endpoint_object_path(&e, "b.1", "");
	tap_ok(streq(p, "/b.1"), "paths: empty key is the bucket %s", p);
	free(p);
	p = bfs_endpoint_object_path(&e, "b.1", "d/");
	tap_ok(streq(p, "/b.1/d/"), "paths: directory marker %s", p);
	free(p);
	p = bfs_endpoint_object_path(&e, "b.1", "%/?#=&\xc3\xa9~");
	tap_ok(streq(p, "/b.1/%25/%3F%23%3D%26%C3%A9~"),
	       "paths: reserved and UTF-8 bytes encoded %s", p);
	free(p);
	p = bfs_endpoint_object_path(&e, "b.1", "a//b");
	tap_ok(streq(p, "/b.1/a//b"), "paths: double slash kept %s", p);
	free(p);
	bfs_endpoint_release(&e);

	b = conf(BFS_PROVIDER_S3, "lake", "us-east-1", NULL, -1);
	if (bfs_provider_resolve(&b, &e, err, sizeof(err)) != 0)
		BFS_BUG("resolve: %s", err);
	p = bfs_endpoint_object_path(&e, "lake", NULL);
	tap_ok(streq(p, "/"), "paths: virtual-host bucket root %s", p);
	free(p);
	p = bfs_endpoint_object_url(&e, "lake", NULL);
	tap_ok(streq(p, "https://lake.s3.us-east-1.amazonaws.com/"),
	       "paths: virtual-host bucket url %s", p);
	free(p);
	bfs_endpoint_release(&e);
}

static void test_set_region(void)
{
	struct bfs_bucket_conf b;
	struct bfs_endpoint e;
	char err[256];

	b = conf(BFS_PROVIDER_S3, "lake", "us-east-1", NULL, -1);
	if (bfs_provider_resolve(&b, &e, err, sizeof(err)) != 0)
		BFS_BUG("resolve: %s", err);
	tap_ok(bfs_endpoint_set_region(&e, "eu-west-1") == 0 &&
		       streq(e.region, "eu-west-1") &&
		       streq(e.host, "lake.s3.eu-west-1.amazonaws.com") &&
		       streq(e.base_url,
			     "https://lake.s3.eu-west-1.amazonaws.com"),
	       "set_region: s3 virtual host moves to the new region");
	tap_ok(bfs_endpoint_set_region(&e, "bad/region") == EINVAL &&
		       streq(e.region, "eu-west-1") &&
		       streq(e.host, "lake.s3.eu-west-1.amazonaws.com"),
	       "set_region: a bad region is refused, nothing changes");
	tap_ok(bfs_endpoint_set_region(&e, NULL) == EINVAL &&
		       bfs_endpoint_set_region(&e, "") == EINVAL,
	       "set_region: NULL and empty are refused");
	bfs_endpoint_release(&e);

	b = conf(BFS_PROVIDER_S3, "my.lake", "us-east-1", NULL, -1);
	if (bfs_provider_resolve(&b, &e, err, sizeof(err)) != 0)
		BFS_BUG("resolve: %s", err);
	tap_ok(bfs_endpoint_set_region(&e, "ap-south-1") == 0 &&
		       streq(e.host, "s3.ap-south-1.amazonaws.com") &&
		       streq(e.base_url,
			     "https://s3.ap-south-1.amazonaws.com") &&
		       e.path_style,
	       "set_region: s3 path style moves to the new region");
	bfs_endpoint_release(&e);

	b = conf(BFS_PROVIDER_S3, "lake", "us-east-1",
		 "https://s3-fips.us-east-1.amazonaws.com", 1);
	if (bfs_provider_resolve(&b, &e, err, sizeof(err)) != 0)
		BFS_BUG("resolve: %s", err);
	tap_ok(bfs_endpoint_set_region(&e, "us-east-2") == 0 &&
		       streq(e.region, "us-east-2") &&
		       streq(e.host, "s3-fips.us-east-1.amazonaws.com"),
	       "set_region: an explicit endpoint keeps its host");
	bfs_endpoint_release(&e);

	b = conf(BFS_PROVIDER_CUSTOM, "s", NULL, "http://127.0.0.1:9000", -1);
	if (bfs_provider_resolve(&b, &e, err, sizeof(err)) != 0)
		BFS_BUG("resolve: %s", err);
	tap_ok(bfs_endpoint_set_region(&e, "eu-1") == 0 &&
		       streq(e.region, "eu-1") &&
		       streq(e.base_url, "http://127.0.0.1:9000"),
	       "set_region: custom changes the signing region only");
	bfs_endpoint_release(&e);
}

/*
 * `config check` and the mount read an endpoint with one parser: what
 * the check accepts, the store resolves, and both agree on which plain
 * http hosts are loopback (they used two parsers, and `http://.x`
 * passed the check only to fail at mount).
 */
static void test_check_agrees_with_mount(void)
{
	/* the endpoint; whether it is good without allow_insecure, with */
	static const struct {
		const char *ep;
		bool plain, insecure;
	} eps[] = {
		{"http://.x", false, false},
		{"http://-x:9000", false, false},
		{"http://[zz::1]", false, false},
		{"http://[::ffff:127.0.0.1]:9000", true, true},
		{"http://127.0.0.1:9000/", true, true},
		{"http://127.1.2.3", true, true},
		{"http://localhost", true, true},
		{"http://10.0.0.1", false, true},
		{"https://s3.example.com:443", true, true},
		{"https://s3.example.com/path", false, false},
		{"http://host:0", false, false},
	};

	for (size_t i = 0; i < 2 * BFS_ARRAY_SIZE(eps); i++) {
		const char *ep = eps[i / 2].ep;
		bool insecure = i % 2;
		bool want = insecure ? eps[i / 2].insecure : eps[i / 2].plain;
		char *text = bfs_xasprintf(
			"[bucket t]\nprovider = custom\n"
			"bucket = s\nendpoint = %s\n%s",
			ep, insecure ? "allow_insecure = true\n" : "");
		struct bfs_config cfg;
		struct bfs_endpoint e;
		char err[512] = "", err2[512] = "";
		int rc, rc2 = -1;

		rc = bfs_config_load_buffer("t", text, strlen(text), &cfg, err,
					    sizeof(err));
		if (rc == 0 && bfs_config_bucket(&cfg, "t")) {
			rc2 = bfs_provider_resolve(bfs_config_bucket(&cfg, "t"),
						   &e, err2, sizeof(err2));
			bfs_endpoint_release(&e);
		}
		if (!tap_ok((rc == 0) == want && (rc == 0) == (rc2 == 0),
			    "%s%s: config check and mount %s it", ep,
			    insecure ? " (allow_insecure)" : "",
			    want ? "accept" : "refuse"))
			tap_diag("check %d '%s', resolve %d '%s'", rc, err, rc2,
				 err2);
		if (rc == 0)
			bfs_config_release(&cfg);
		free(text);
	}
}

int main(void)
{
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	test_paths();
	test_set_region();
	test_check_agrees_with_mount();
	return tap_done();
}
