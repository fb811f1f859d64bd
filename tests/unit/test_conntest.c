/*
 * test_conntest.c - the connection test's cause-and-fix lines, one case
 * per failure it names (conntest.h), and the DNS/TCP probe (probe.h)
 * against sockets on loopback: refused, accepted, and a listener whose
 * full backlog drops the SYN (a connect timeout). No DNS case: a failing
 * lookup would leave loopback.
 */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/conntest.h"
#include "net/probe.h"
#include "tap.h"

/* conntest.c reports setup errors through the CLI's printer */
void bfs_cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct msg_case {
	const char *name;
	enum bfs_conntest_step step;
	/* probe failure (steps DNS, CONNECT) */
	enum bfs_probe_phase phase;
	enum bfs_http_fail fail;
	int os_errno;
	/* S3 failure (later steps) */
	long status;
	enum bfs_http_fail transport;
	const char *code;
	const char *region;
	const char *endpoint;
	bool saved;
	const char *want[3]; /* substrings the line must hold */
};

static const struct msg_case cases[] = {
	{"DNS failure names the host",
	 BFS_CT_DNS,
	 BFS_PROBE_DNS,
	 BFS_HTTP_DNS,
	 0,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"cannot resolve host 's3.example.invalid'", "resolv.conf"}},
	{"DNS timeout names connect_timeout",
	 BFS_CT_DNS,
	 BFS_PROBE_DNS,
	 BFS_HTTP_TIMEOUT,
	 0,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"timeout", "connect_timeout (2 s)"}},
	{"connection refused",
	 BFS_CT_CONNECT,
	 BFS_PROBE_TCP,
	 BFS_HTTP_CONNECT,
	 ECONNREFUSED,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"connection refused by 127.0.0.1 port 9", "server is running"}},
	{"connect timeout",
	 BFS_CT_CONNECT,
	 BFS_PROBE_TCP,
	 BFS_HTTP_TIMEOUT,
	 0,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"timeout: no answer from 127.0.0.1 port 9", "connect_timeout (2 s)"}},
	{"unreachable",
	 BFS_CT_CONNECT,
	 BFS_PROBE_TCP,
	 BFS_HTTP_CONNECT,
	 ENETUNREACH,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"cannot connect to 127.0.0.1 port 9", "firewall"}},
	{"certificate not trusted",
	 BFS_CT_CONNECT,
	 BFS_PROBE_TLS,
	 BFS_HTTP_TLS_VERIFY,
	 0,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"certificate not trusted", "update-ca-certificates"}},
	{"TLS handshake failure",
	 BFS_CT_CONNECT,
	 BFS_PROBE_TLS,
	 BFS_HTTP_TLS,
	 0,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 false,
	 {"TLS handshake with 127.0.0.1 port 9 failed", "http://"}},
	{"wrong secret",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 403,
	 BFS_HTTP_OK,
	 "SignatureDoesNotMatch",
	 NULL,
	 NULL,
	 false,
	 {"wrong secret (SignatureDoesNotMatch)", "fix: KEYS-FIX"}},
	{"unknown key id",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 403,
	 BFS_HTTP_OK,
	 "InvalidAccessKeyId",
	 NULL,
	 NULL,
	 false,
	 {"unknown access key id (InvalidAccessKeyId)", "KEYS-FIX"}},
	{"clock skew",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 403,
	 BFS_HTTP_OK,
	 "RequestTimeTooSkewed",
	 NULL,
	 NULL,
	 false,
	 {"clock skew (RequestTimeTooSkewed)", "set-ntp"}},
	{"no such bucket",
	 BFS_CT_BUCKET,
	 0,
	 0,
	 0,
	 404,
	 BFS_HTTP_OK,
	 "NoSuchBucket",
	 NULL,
	 NULL,
	 false,
	 {"no such bucket (NoSuchBucket): 'lake-prod' does not exist",
	  "create the bucket"}},
	{"list denied",
	 BFS_CT_LIST,
	 0,
	 0,
	 0,
	 403,
	 BFS_HTTP_OK,
	 "AccessDenied",
	 NULL,
	 NULL,
	 false,
	 {"access denied (AccessDenied", "s3:ListBucket"}},
	{"put denied",
	 BFS_CT_PUT,
	 0,
	 0,
	 0,
	 403,
	 BFS_HTTP_OK,
	 "AccessDenied",
	 NULL,
	 NULL,
	 false,
	 {"access denied", "s3:PutObject"}},
	{"delete denied",
	 BFS_CT_DELETE,
	 0,
	 0,
	 0,
	 403,
	 BFS_HTTP_OK,
	 "AccessDenied",
	 NULL,
	 NULL,
	 false,
	 {"s3:DeleteObject"}},
	{"wrong region, saved bucket",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 301,
	 BFS_HTTP_OK,
	 "PermanentRedirect",
	 "eu-west-1",
	 NULL,
	 true,
	 {"bucket 'lake-prod' is in region eu-west-1, not us-east-1",
	  "set 'region = eu-west-1' in [bucket lake]"}},
	{"wrong region at connect",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 400,
	 BFS_HTTP_OK,
	 "AuthorizationHeaderMalformed",
	 "eu-west-1",
	 NULL,
	 false,
	 {"wrong region (AuthorizationHeaderMalformed)",
	  "fix: use --region eu-west-1"}},
	{"redirect to an endpoint",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 301,
	 BFS_HTTP_OK,
	 "PermanentRedirect",
	 NULL,
	 "lake-prod.s3.amazonaws.com",
	 false,
	 {"served by lake-prod.s3.amazonaws.com"}},
	{"redirect naming nothing",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 301,
	 BFS_HTTP_OK,
	 "",
	 NULL,
	 NULL,
	 false,
	 {"wrong region or endpoint (redirect)"}},
	{"request timeout",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 0,
	 BFS_HTTP_TIMEOUT,
	 "",
	 NULL,
	 NULL,
	 false,
	 {"timeout", "request_timeout (3 s)"}},
	{"connection reset",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 0,
	 BFS_HTTP_RESET,
	 "",
	 NULL,
	 NULL,
	 false,
	 {"closed the connection without an answer"}},
	{"401 without a code",
	 BFS_CT_AUTH,
	 0,
	 0,
	 0,
	 401,
	 BFS_HTTP_OK,
	 "",
	 NULL,
	 NULL,
	 false,
	 {"refused the credentials (HTTP 401)", "KEYS-FIX"}},
	{"other error keeps code and hint",
	 BFS_CT_LIST,
	 0,
	 0,
	 0,
	 503,
	 BFS_HTTP_OK,
	 "SlowDown",
	 NULL,
	 NULL,
	 false,
	 {"SlowDown (HTTP 503)", "fix: THE-HINT"}},
};

static void run_msg_case(const struct msg_case *c)
{
	struct bfs_bucket_conf b = {.name = "lake",
				    .provider = BFS_PROVIDER_S3,
				    .bucket = "lake-prod",
				    .region = "us-east-1",
				    .prefix = ""};
	struct bfs_probe_result p = {.failed = c->phase,
				     .fail = c->fail,
				     .os_errno = c->os_errno,
				     .port = 9};
	struct bfs_s3_error e = {.status = c->status,
				 .transport = c->transport};
	struct bfs_conntest_conf tc = {.saved = c->saved,
				       .keys_fix = "KEYS-FIX"};
	struct bfs_conntest_failure f = {
		.step = c->step,
		.probe = &p,
		.s3 = &e,
		.base_url = "https://s3.us-east-1.amazonaws.com",
		.region = "us-east-1",
		.connect_timeout = 2,
		.request_timeout = 3,
		.tc = &tc,
	};
	char line[1024];
	bool ok = true;

	snprintf(p.host, sizeof(p.host), "s3.example.invalid");
	snprintf(p.ip, sizeof(p.ip), "127.0.0.1");
	snprintf(p.error, sizeof(p.error), "curl says no");
	if (c->code)
		snprintf(e.code, sizeof(e.code), "%s", c->code);
	if (c->region)
		snprintf(e.region, sizeof(e.region), "%s", c->region);
	if (c->endpoint)
		snprintf(e.endpoint, sizeof(e.endpoint), "%s", c->endpoint);
	snprintf(e.hint, sizeof(e.hint), "THE-HINT");
	if (c->code && (strcmp(c->code, "PermanentRedirect") == 0 ||
			strcmp(c->code, "AuthorizationHeaderMalformed") == 0))
		e.err = EREMOTE;
	else if (c->code && strcmp(c->code, "NoSuchBucket") == 0)
		e.err = ENXIO;
	else if (c->status == 0)
		e.err = c->transport == BFS_HTTP_TIMEOUT ? ETIMEDOUT : EIO;
	else
		e.err = EACCES;
	bfs_conntest_explain(&b, &f, line, sizeof(line));
	for (size_t i = 0; i < BFS_ARRAY_SIZE(c->want) && c->want[i]; i++)
		if (!strstr(line, c->want[i])) {
			tap_diag("missing '%s'", c->want[i]);
			ok = false;
		}
	if (!strstr(line, "; fix: ") || strchr(line, '\n')) {
		tap_diag("not one line with '; fix: '");
		ok = false;
	}
	if (!ok)
		tap_diag("line: %s", line);
	tap_ok(ok, "message: %s", c->name);
}

/* A listening socket on 127.0.0.1; its port in *port. */
static int listener(int backlog, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) != 0 ||
	    listen(fd, backlog) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void probe_cases(void)
{
	struct bfs_probe_result r;
	char url[64];
	int port = 0, fd, rc, filler = -1;
	double t;

	/* refused: a port that was just released */
	fd = listener(1, &port);
	if (fd >= 0)
		close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	rc = bfs_probe_connect(url, 2, NULL, NULL, &r);
	tap_ok(fd >= 0 && rc == EIO && r.failed == BFS_PROBE_TCP &&
		       r.fail == BFS_HTTP_CONNECT && r.os_errno == ECONNREFUSED,
	       "probe: closed port is refused at the TCP phase (rc %d, "
	       "phase %d, errno %d)",
	       rc, (int)r.failed, r.os_errno);

	/* accepted: the kernel completes the handshake of a listener */
	fd = listener(4, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ignored", port);
	rc = bfs_probe_connect(url, 2, NULL, NULL, &r);
	tap_ok(fd >= 0 && rc == 0 && r.failed == BFS_PROBE_DONE && !r.tls &&
		       strcmp(r.ip, "127.0.0.1") == 0 && r.port == port,
	       "probe: listening port connects (rc %d, ip '%s')", rc, r.ip);

	/* a full backlog drops SYNs: the connect times out, in time */
	if (fd >= 0)
		close(fd);
	fd = listener(0, &port);
	if (fd >= 0) {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_port = htons((uint16_t)port)};

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (filler >= 0 &&
		    connect(filler, (struct sockaddr *)&a, sizeof(a)) != 0) {
			close(filler);
			filler = -1;
		}
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	t = now();
	rc = bfs_probe_connect(url, 1, NULL, NULL, &r);
	t = now() - t;
	tap_ok(fd >= 0 && filler >= 0 && rc == ETIMEDOUT &&
		       r.failed == BFS_PROBE_TCP &&
		       r.fail == BFS_HTTP_TIMEOUT && t < 3,
	       "probe: dropped SYN times out at the TCP phase within "
	       "connect_timeout (rc %d, phase %d, %.1f s)",
	       rc, (int)r.failed, t);
	if (filler >= 0)
		close(filler);
	if (fd >= 0)
		close(fd);

	rc = bfs_probe_connect("ftp://127.0.0.1/", 1, NULL, NULL, &r);
	tap_ok(rc == EINVAL, "probe: ftp:// is refused (rc %d)", rc);
}

int main(void)
{
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cases); i++)
		run_msg_case(&cases[i]);
	tap_ok(strcmp(bfs_conntest_step_name(BFS_CT_AUTH),
		      "request signed and accepted") == 0,
	       "step names");
	probe_cases();
	return tap_done();
}
