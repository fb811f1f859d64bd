/*
 * conntest.c - the connection test of a bucket (see conntest.h): runs
 * the steps against the S3 store built as a mount builds it, but with
 * no retries, and turns each failure into one line of cause and fix.
 * Owns the table of those lines.
 */
#include "compat.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "catalog/stack_s3.h"
#include "secret.h"
#include "cli/cli_priv.h"
#include "cli/conntest.h"
#include "log.h"
#include "store/providers.h"

#define PROBE_SIZE 256

static const char *const step_names[BFS_CT_NSTEPS] = {
	[BFS_CT_DNS] = "endpoint resolved (DNS)",
	[BFS_CT_CONNECT] = "TCP/TLS connected",
	[BFS_CT_AUTH] = "request signed and accepted",
	[BFS_CT_BUCKET] = "bucket exists",
	[BFS_CT_LIST] = "list allowed",
	[BFS_CT_PUT] = "probe object put",
	[BFS_CT_GET] = "probe object read back",
	[BFS_CT_DELETE] = "probe object deleted",
};

const char *bfs_conntest_step_name(enum bfs_conntest_step step)
{
	return (size_t)step < BFS_CT_NSTEPS ? step_names[step] : "?";
}

/* ---- causes and fixes -------------------------------------------------- */

static bool is_code(const struct bfs_s3_error *e, const char *code)
{
	return strcmp(e->code, code) == 0;
}

/* What a step needs permission for, in words and as an IAM action. */
static const char *permission(enum bfs_conntest_step step)
{
	switch (step) {
	case BFS_CT_PUT:
		return "write objects (s3:PutObject)";
	case BFS_CT_GET:
	case BFS_CT_AUTH:
		return "read objects (s3:GetObject)";
	case BFS_CT_DELETE:
		return "delete objects (s3:DeleteObject)";
	default:
		return "list the bucket (s3:ListBucket)";
	}
}

static void region_fix(const struct bfs_bucket_conf *b,
		       const struct bfs_conntest_conf *tc, const char *region,
		       char *buf, size_t len)
{
	if (tc->saved)
		snprintf(buf, len, "set 'region = %s' in [bucket %s]", region,
			 b->name);
	else
		snprintf(buf, len, "use --region %s", region);
}

static void explain_probe(const struct bfs_conntest_failure *f, char *out,
			  size_t len)
{
	const struct bfs_probe_result *p = f->probe;
	const char *addr = p->ip[0] ? p->ip : p->host;

	if (p->failed == BFS_PROBE_DNS && p->fail == BFS_HTTP_TIMEOUT) {
		snprintf(out, len,
			 "timeout: the DNS lookup of '%s' did not finish "
			 "within connect_timeout (%g s); fix: check the name "
			 "servers in /etc/resolv.conf, or raise "
			 "connect_timeout in [bucketfs]",
			 p->host, f->connect_timeout);
	} else if (p->failed == BFS_PROBE_DNS) {
		snprintf(out, len,
			 "cannot resolve host '%s' (DNS): %s; fix: check the "
			 "endpoint, region or account id (they make the host "
			 "name) and this machine's DNS (/etc/resolv.conf)",
			 p->host, p->error);
	} else if (p->failed == BFS_PROBE_TCP && p->fail == BFS_HTTP_TIMEOUT) {
		snprintf(out, len,
			 "timeout: no answer from %s port %ld within "
			 "connect_timeout (%g s), so a firewall drops the "
			 "packets or the host is down; fix: check the "
			 "endpoint's host and port and the network path, or "
			 "raise connect_timeout in [bucketfs]",
			 addr, p->port, f->connect_timeout);
	} else if (p->failed == BFS_PROBE_TCP &&
		   (p->os_errno == ECONNREFUSED ||
		    strstr(p->error, "refused"))) {
		snprintf(out, len,
			 "connection refused by %s port %ld: nothing listens "
			 "there; fix: check the endpoint's host and port, and "
			 "that the server is running",
			 addr, p->port);
	} else if (p->failed == BFS_PROBE_TCP) {
		snprintf(out, len,
			 "cannot connect to %s port %ld: %s; fix: check the "
			 "endpoint, the routes and the firewall",
			 addr, p->port, p->error);
	} else if (p->fail == BFS_HTTP_TLS_VERIFY) {
		snprintf(out, len,
			 "certificate not trusted: %s; fix: use the host "
			 "name the certificate is for, or if the server uses "
			 "a private CA add it to the system's trust store "
			 "(/usr/local/share/ca-certificates, then "
			 "update-ca-certificates)",
			 p->error);
	} else if (p->fail == BFS_HTTP_TIMEOUT) {
		snprintf(out, len,
			 "timeout: the TLS handshake with %s port %ld did not "
			 "finish within connect_timeout (%g s); fix: check "
			 "that this port speaks https, or raise "
			 "connect_timeout in [bucketfs]",
			 addr, p->port, f->connect_timeout);
	} else {
		snprintf(out, len,
			 "TLS handshake with %s port %ld failed: %s; fix: "
			 "check that this port speaks https (a plain-http "
			 "server needs an http:// endpoint)",
			 addr, p->port, p->error);
	}
}

/* A request that got no HTTP response after the probe had passed. */
static void explain_transport(const struct bfs_conntest_failure *f, char *out,
			      size_t len)
{
	const struct bfs_s3_error *e = f->s3;

	switch (e->transport) {
	case BFS_HTTP_TIMEOUT:
		snprintf(out, len,
			 "timeout: %s accepted the connection but sent no "
			 "answer within request_timeout (%g s); fix: check "
			 "that the endpoint is an S3 server that is not "
			 "overloaded (and http:// or https:// as its port "
			 "expects), or raise request_timeout in [bucketfs]",
			 f->base_url, f->request_timeout);
		break;
	case BFS_HTTP_RESET:
		snprintf(out, len,
			 "%s closed the connection without an answer (%s); "
			 "fix: check that the endpoint is an S3 server and "
			 "that http:// or https:// matches its port",
			 f->base_url, e->message);
		break;
	case BFS_HTTP_TLS_VERIFY:
		snprintf(out, len,
			 "certificate not trusted: %s; fix: add the server's "
			 "CA to the system's trust store "
			 "(update-ca-certificates)",
			 e->message);
		break;
	default:
		snprintf(out, len,
			 "no answer from %s: %s; fix: check the endpoint and "
			 "the network, then run the test again",
			 f->base_url, e->message[0] ? e->message : "unknown");
		break;
	}
}

static void explain_s3(const struct bfs_bucket_conf *b,
		       const struct bfs_conntest_failure *f, char *out,
		       size_t len)
{
	const struct bfs_s3_error *e = f->s3;
	const struct bfs_conntest_conf *tc = f->tc;
	const char *keys_fix = tc->keys_fix && tc->keys_fix[0]
				       ? tc->keys_fix
				       : "give the right keys";
	char fix[256];

	if (e->status == 0) {
		explain_transport(f, out, len);
		return;
	}
	if (is_code(e, "SignatureDoesNotMatch")) {
		snprintf(out, len,
			 "wrong secret (SignatureDoesNotMatch): the server "
			 "knows the access key id but the secret access key "
			 "does not match it; fix: %s",
			 keys_fix);
	} else if (is_code(e, "InvalidAccessKeyId")) {
		snprintf(out, len,
			 "unknown access key id (InvalidAccessKeyId): the "
			 "server has no such key; fix: check the access key "
			 "id (and that it belongs to this provider and "
			 "account), then %s",
			 keys_fix);
	} else if (is_code(e, "RequestTimeTooSkewed")) {
		snprintf(out, len,
			 "clock skew (RequestTimeTooSkewed): this machine's "
			 "clock is more than 15 minutes off the server's; "
			 "fix: set the clock right (timedatectl set-ntp true, "
			 "or chronyc makestep) and run the test again");
	} else if (is_code(e, "ExpiredToken") || is_code(e, "InvalidToken")) {
		snprintf(out, len, "%s: %s; fix: %s", e->code,
			 e->hint[0] ? e->hint : "the session token is refused",
			 keys_fix);
	} else if (e->err == EREMOTE || e->status == 301 || e->status == 307) {
		if (e->region[0] && strcmp(e->region, f->region) != 0) {
			region_fix(b, tc, e->region, fix, sizeof(fix));
			snprintf(out, len,
				 "wrong region (%s): bucket '%s' is in region "
				 "%s, not %s; fix: %s",
				 e->code[0] ? e->code : "redirect", b->bucket,
				 e->region, f->region, fix);
		} else if (e->endpoint[0]) {
			snprintf(out, len,
				 "wrong endpoint (%s): bucket '%s' is served "
				 "by %s; fix: use the bucket's region, or "
				 "that endpoint",
				 e->code[0] ? e->code : "redirect", b->bucket,
				 e->endpoint);
		} else {
			snprintf(out, len,
				 "wrong region or endpoint (%s) and the server "
				 "did not name the right one; fix: look up the "
				 "bucket's region in the provider's console "
				 "and set it",
				 e->code[0] ? e->code : "redirect");
		}
	} else if (e->err == ENXIO || is_code(e, "NoSuchBucket")) {
		snprintf(out, len,
			 "no such bucket (NoSuchBucket): '%s' does not exist "
			 "at %s; fix: check the bucket name (it is "
			 "case-sensitive) and the endpoint or account, or "
			 "create the bucket",
			 b->bucket, f->base_url);
	} else if (e->status == 401) {
		snprintf(out, len,
			 "the server refused the credentials (HTTP 401%s%s); "
			 "fix: %s",
			 e->code[0] ? ", " : "", e->code, keys_fix);
	} else if (is_code(e, "AccessDenied") ||
		   (e->err == EACCES && !e->code[0]) || e->status == 403) {
		snprintf(out, len,
			 "access denied (%s, HTTP %ld): the keys are valid "
			 "but may not %s in bucket '%s'; fix: grant that "
			 "permission to this key in the provider's access "
			 "policy",
			 e->code[0] ? e->code : "Forbidden", e->status,
			 permission(f->step), b->bucket);
	} else {
		snprintf(out, len, "%s (HTTP %ld)%s%s; fix: %s",
			 e->code[0] ? e->code : "error", e->status,
			 e->message[0] ? ": " : "", e->message,
			 e->hint[0] ? e->hint
				    : "see the server's documentation of "
				      "this error");
	}
}

void bfs_conntest_explain(const struct bfs_bucket_conf *b,
			  const struct bfs_conntest_failure *f, char *out,
			  size_t outlen)
{
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (f->step <= BFS_CT_CONNECT && f->probe)
		explain_probe(f, out, outlen);
	else if (f->s3)
		explain_s3(b, f, out, outlen);
	else
		snprintf(out, outlen, "the step failed; fix: run it again");
}

/* ---- running the steps ------------------------------------------------- */

struct run {
	const struct bfs_config *cfg;
	const struct bfs_bucket_conf *b;
	const struct bfs_conntest_conf *tc;
	FILE *out;
	struct bfs_endpoint ep;
	struct bfs_store *s;
	struct bfs_probe_result probe;
	char key[BFS_KEY_MAX];
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void step_line(struct run *r, enum bfs_conntest_step step, bool ok,
		      uint64_t us, const char *detail)
{
	fprintf(r->out, "  %-28s %-4s %6llu ms  %s\n",
		bfs_conntest_step_name(step), ok ? "ok" : "FAIL",
		(unsigned long long)((us + 500) / 1000), detail ? detail : "");
}

static void failure_line(struct run *r, enum bfs_conntest_step step,
			 const struct bfs_s3_error *e)
{
	struct bfs_conntest_failure f = {
		.step = step,
		.probe = &r->probe,
		.s3 = e,
		.base_url = r->ep.base_url,
		.region = r->ep.region,
		.connect_timeout = r->cfg->opts.connect_timeout,
		.request_timeout = r->cfg->opts.request_timeout,
		.tc = r->tc,
	};
	char line[1024];

	bfs_conntest_explain(r->b, &f, line, sizeof(line));
	fprintf(r->out, "    error: %s\n", line);
}

/* The store's record of the failure of the last operation. */
static void last_error(struct run *r, int rc, struct bfs_s3_error *e)
{
	if (bfs_s3_last_error(r->s, e) == 0)
		return;
	memset(e, 0, sizeof(*e));
	e->err = rc;
	e->status = rc == ETIMEDOUT ? 0 : 500;
	e->transport = rc == ETIMEDOUT ? BFS_HTTP_TIMEOUT : BFS_HTTP_OTHER;
	snprintf(e->message, sizeof(e->message), "%s", strerror(rc));
}

/* S3 fail detail for a step line: "SignatureDoesNotMatch (HTTP 403)". */
static void s3_detail(const struct bfs_s3_error *e, char *buf, size_t len)
{
	if (e->status)
		snprintf(buf, len, "%s (HTTP %ld)",
			 e->code[0] ? e->code : "error", e->status);
	else
		snprintf(buf, len, "no answer");
}

static int fail_s3(struct run *r, enum bfs_conntest_step step, int rc,
		   uint64_t us)
{
	struct bfs_s3_error e;
	char detail[128];

	last_error(r, rc, &e);
	s3_detail(&e, detail, sizeof(detail));
	step_line(r, step, false, us, detail);
	failure_line(r, step, &e);
	return rc;
}

/* Steps 1 and 2. */
static int run_probe(struct run *r)
{
	struct bfs_probe_result *p = &r->probe;
	char detail[384];
	int rc;

	rc = bfs_probe_connect(r->ep.base_url, r->cfg->opts.connect_timeout,
			       r->b->ca_bundle, r->b->proxy, p);
	if (p->failed == BFS_PROBE_DNS) {
		step_line(r, BFS_CT_DNS, false, 0, p->host);
		failure_line(r, BFS_CT_DNS, NULL);
		return rc ? rc : EIO;
	}
	if (p->ip[0] && strcmp(p->ip, p->host) != 0)
		snprintf(detail, sizeof(detail), "%s -> %s", p->host, p->ip);
	else
		snprintf(detail, sizeof(detail), "%s", p->host);
	step_line(r, BFS_CT_DNS, true, p->dns_us, detail);
	if (p->failed != BFS_PROBE_DONE) {
		snprintf(detail, sizeof(detail), "%s port %ld",
			 p->ip[0] ? p->ip : p->host, p->port);
		step_line(r, BFS_CT_CONNECT, false, p->tcp_us + p->tls_us,
			  detail);
		failure_line(r, BFS_CT_CONNECT, NULL);
		return rc ? rc : EIO;
	}
	if (p->tls)
		snprintf(detail, sizeof(detail),
			 "%s port %ld, TLS certificate verified (TCP %llu ms, "
			 "TLS %llu ms)",
			 p->ip, p->port,
			 (unsigned long long)((p->tcp_us + 500) / 1000),
			 (unsigned long long)((p->tls_us + 500) / 1000));
	else
		snprintf(detail, sizeof(detail), "%s port %ld, plain http",
			 p->ip, p->port);
	step_line(r, BFS_CT_CONNECT, true, p->tcp_us + p->tls_us, detail);
	return 0;
}

static int open_store(struct run *r, const char *akid, const char *secret)
{
	struct bfs_s3_conf conf;
	struct bfs_secret *ssec = NULL;
	char err[512] = "", why[512] = "";
	int rc;

	bfs_stack_s3_conf(r->cfg, r->b, &r->ep, akid, secret, &conf);
	bfs_stack_s3_sse_key(r->cfg, r->b, &conf, &ssec, why, sizeof(why));
	conf.session_token = akid ? r->tc->session_token : NULL;
	/* one answer per step, within the timeouts: no retries */
	conf.retries = 0;
	conf.connections = 1;
	r->s = bfs_s3_create(&conf, err, sizeof(err));
	bfs_secret_free(ssec);
	if (!r->s) {
		rc = errno ? errno : EINVAL;
		bfs_cli_error("bucket '%s': %s", r->b->name, err);
		return rc;
	}
	if (r->s->start) {
		rc = r->s->start(r->s);
		if (rc != 0) {
			bfs_cli_error("bucket '%s': cannot start the S3 "
				      "client: %s",
				      r->b->name, strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* Steps 3, 4 and 5. */
static int run_read_steps(struct run *r)
{
	struct bfs_list_req lreq = {.prefix = r->b->prefix ? r->b->prefix : "",
				    .delimiter = "/",
				    .max_keys = 1};
	struct bfs_list_result lres = {0};
	struct bfs_s3_error e;
	bool bucket_known = false;
	char detail[256], byte;
	uint64_t t, us;
	size_t got = 0;
	int rc;

	/* 3 + 4: GET of a key that does not exist */
	bfs_s3_clear_error(r->s);
	t = now_us();
	rc = r->s->get_range(r->s, r->key, 0, 1, &byte, &got, NULL);
	us = now_us() - t;
	if (rc == 0 || rc == ENOENT || rc == ENXIO) {
		step_line(r, BFS_CT_AUTH, true, us, "");
		if (rc == ENXIO)
			return fail_s3(r, BFS_CT_BUCKET, rc, us);
		step_line(r, BFS_CT_BUCKET, true, us, r->b->bucket);
		bucket_known = true;
	} else {
		last_error(r, rc, &e);
		if (!is_code(&e, "AccessDenied"))
			return fail_s3(r, BFS_CT_AUTH, rc, us);
		/* the signature passed; the key may not read: step 5 tells
		 * whether the bucket exists */
		step_line(r, BFS_CT_AUTH, true, us, "(reads denied)");
	}

	/* 5: one page of the listing */
	bfs_s3_clear_error(r->s);
	t = now_us();
	rc = r->s->list(r->s, &lreq, &lres);
	us = now_us() - t;
	if (rc != 0) {
		if (!bucket_known)
			return fail_s3(r, BFS_CT_BUCKET, rc, us);
		return fail_s3(r, BFS_CT_LIST, rc, us);
	}
	if (!bucket_known)
		step_line(r, BFS_CT_BUCKET, true, us, r->b->bucket);
	snprintf(detail, sizeof(detail), "prefix '%s': %s", lreq.prefix,
		 lres.nobjs + lres.nprefixes ? "not empty" : "empty");
	bfs_list_result_release(&lres);
	step_line(r, BFS_CT_LIST, true, us, detail);
	return 0;
}

/* Steps 6, 7 and 8. */
static int run_write_steps(struct run *r)
{
	unsigned char data[PROBE_SIZE], back[2 * PROBE_SIZE];
	struct bfs_put_req put = {.key = r->key, .size = PROBE_SIZE};
	uint64_t t, us;
	size_t got = 0;
	int fd, rc, drc;

	if (getrandom(data, sizeof(data), 0) != (ssize_t)sizeof(data)) {
		rc = errno ? errno : EIO;
		bfs_cli_error("cannot make probe data: %s", strerror(rc));
		return rc;
	}
	fd = memfd_create("bucketfs-probe", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
		rc = errno ? errno : EIO;
		bfs_cli_error("cannot stage probe data: %s", strerror(rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	put.fd = fd;
	bfs_s3_clear_error(r->s);
	t = now_us();
	rc = r->s->put(r->s, &put, NULL);
	us = now_us() - t;
	close(fd);
	if (rc != 0)
		return fail_s3(r, BFS_CT_PUT, rc, us);
	step_line(r, BFS_CT_PUT, true, us, r->key);

	bfs_s3_clear_error(r->s);
	t = now_us();
	rc = bfs_store_read_full(r->s, r->key, 0, sizeof(back), back, &got,
				 NULL);
	us = now_us() - t;
	if (rc != 0) {
		fail_s3(r, BFS_CT_GET, rc, us);
	} else if (got != sizeof(data) || memcmp(back, data, got) != 0) {
		char detail[128];

		snprintf(detail, sizeof(detail),
			 "%zu bytes back, %zu written: they differ", got,
			 sizeof(data));
		step_line(r, BFS_CT_GET, false, us, detail);
		fprintf(r->out,
			"    error: the object read back is not the one "
			"written; fix: something between here and the "
			"server alters data (a proxy?), or the endpoint is "
			"not the server it should be\n");
		rc = EBADMSG;
	} else {
		step_line(r, BFS_CT_GET, true, us, "256 bytes, identical");
	}

	/* delete even after a failed read: leave nothing behind */
	bfs_s3_clear_error(r->s);
	t = now_us();
	drc = r->s->del(r->s, r->key);
	us = now_us() - t;
	if (rc != 0) {
		if (drc != 0)
			fprintf(r->out,
				"    (the probe object '%s' could not be "
				"deleted: remove it by hand)\n",
				r->key);
		return rc;
	}
	if (drc != 0)
		return fail_s3(r, BFS_CT_DELETE, drc, us);
	step_line(r, BFS_CT_DELETE, true, us, "");
	return 0;
}

int bfs_conntest_run(const struct bfs_config *cfg,
		     const struct bfs_bucket_conf *b, const char *access_key_id,
		     const char *secret_access_key,
		     const struct bfs_conntest_conf *tc)
{
	struct run r = {.cfg = cfg, .b = b, .tc = tc};
	unsigned char rnd[8];
	char err[512] = "", hex[17];
	int rc;

	r.out = tc->out ? tc->out : stdout;
	if (b->provider == BFS_PROVIDER_LOCAL) {
		bfs_cli_error("bucket '%s' is a local directory: there is no "
			      "connection to test",
			      b->name);
		return EINVAL;
	}
	rc = bfs_provider_resolve(b, &r.ep, err, sizeof(err));
	if (rc != 0) {
		bfs_cli_error("%s", err);
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(r.key, sizeof(r.key), "%s.bucketfs-test-%s",
		 b->prefix ? b->prefix : "", hex);

	fprintf(r.out,
		"testing bucket '%s': %s, bucket '%s' at %s (region %s, %s "
		"style)\n",
		b->name, bfs_provider_name(b->provider), b->bucket,
		r.ep.base_url, r.ep.region,
		r.ep.path_style ? "path" : "virtual-host");
	fflush(r.out);
	rc = run_probe(&r);
	if (rc != 0)
		goto out;
	/* the store logs each failure; here the step lines say it all */
	bfs_log_set_level(LOG_CRIT);
	rc = open_store(&r, access_key_id, secret_access_key);
	if (rc == 0)
		rc = run_read_steps(&r);
	if (rc == 0 && tc->write)
		rc = run_write_steps(&r);
	bfs_log_set_level(LOG_INFO);
out:
	if (r.s) {
		if (r.s->shutdown)
			r.s->shutdown(r.s);
		r.s->destroy(r.s);
	}
	bfs_endpoint_release(&r.ep);
	if (rc == 0)
		fprintf(r.out, "connection test passed (%d steps)\n",
			tc->write ? 8 : 5);
	fflush(r.out);
	return rc;
}
