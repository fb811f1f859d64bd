/*
 * creds_remote.c - IMDSv2, container credentials and STS (see
 * creds_remote.h).
 */
#include "compat.h"

#include <expat.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "net/http.h"
#include "store/creds_remote.h"
#include "store/sigv4.h"
#include "util.h"

#define STS_VERSION "2011-06-15"
#define FORM_TYPE   "application/x-www-form-urlencoded; charset=utf-8"

/* ---- an allocator that wipes what it frees ------------------------- */

static void wipe_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void *wipe_realloc(void *p, size_t n)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q;

	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	q = malloc(n);
	if (q && p)
		memcpy(q, p, old < n ? old : n);
	if (q)
		wipe_free(p);
	return q;
}

static const XML_Memory_Handling_Suite wipe_suite = {malloc, wipe_realloc,
						     wipe_free};

static void wiping_init_once(void)
{
	json_set_alloc_funcs(malloc, wipe_free);
}

void bfs_creds_wiping_alloc_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	BFS_PCHECK(pthread_once(&once, wiping_init_once));
}

/* ---- HTTP ---------------------------------------------------------- */

struct call {
	const char *method;
	const char *url;
	struct bfs_http_headers headers;
	const char *body; /* or NULL */
	size_t body_len;
	/* SigV4 for STS AssumeRole */
	const struct bfs_cred_set *sign;
	const char *region;
	const char *host;
};

static int sts_prepare(void *arg, const struct bfs_http_req *req,
		       struct bfs_http_headers *out)
{
	const struct call *c = arg;
	struct bfs_sigv4_header sh[4];
	struct bfs_sigv4_creds cr;
	struct bfs_sigv4_req sr;
	char date[BFS_SIGV4_DATE_LEN], hash[BFS_SIGV4_HEX_LEN];
	char auth[BFS_SIGV4_AUTH_MAX];
	time_t now = time(NULL);
	size_t n = 0;
	int rc;

	(void)req;
	if (!c->sign)
		return 0;
	bfs_sigv4_amz_date(now, date);
	bfs_sigv4_sha256_hex(c->body, c->body_len, hash);
	sh[n++] = (struct bfs_sigv4_header){"host", c->host};
	sh[n++] = (struct bfs_sigv4_header){"content-type", FORM_TYPE};
	sh[n++] = (struct bfs_sigv4_header){"x-amz-date", date};
	if (c->sign->session_token)
		sh[n++] = (struct bfs_sigv4_header){"x-amz-security-token",
						    c->sign->session_token};
	sr = (struct bfs_sigv4_req){
		.method = "POST",
		.path = "/",
		.headers = sh,
		.nheaders = n,
		.payload_hash = hash,
		.region = c->region,
		.service = "sts",
		.now = now,
		.normalize_path = true,
	};
	cr = (struct bfs_sigv4_creds){c->sign->access_key_id,
				      c->sign->secret_access_key,
				      c->sign->session_token};
	rc = bfs_sigv4_sign(&sr, &cr, auth, NULL);
	if (rc == 0) {
		bfs_http_headers_add(out, "x-amz-date", date);
		if (c->sign->session_token)
			bfs_http_headers_add(out, "x-amz-security-token",
					     c->sign->session_token);
		bfs_http_headers_add(out, "authorization", auth);
	}
	explicit_bzero(auth, sizeof(auth));
	return rc;
}

/* One request; resp is the caller's to wipe (wipe_resp). */
static int do_call(const struct bfs_creds_net *net, struct call *c,
		   struct bfs_http_resp *resp, char *err, size_t errlen)
{
	struct bfs_http_conf hc = {
		.connections = 1,
		.connect_timeout = net->connect_timeout,
		.request_timeout = net->request_timeout,
		.retries = 2,
		.backoff_base = 0.2,
		.backoff_max = 1,
		.ca_file = net->ca_file,
		.name = "credentials",
	};
	struct bfs_http_req req = {
		.method = c->method,
		.url = c->url,
		.headers = &c->headers,
		.idempotent = true,
		.prepare = sts_prepare,
		.arg = c,
		.max_body = 256 * 1024,
	};
	struct bfs_http *h;
	char herr[256] = "";
	int rc;

	if (c->body) {
		req.body.kind = BFS_HTTP_BODY_MEM;
		req.body.mem = c->body;
		req.body.len = c->body_len;
	}
	h = bfs_http_create(&hc, herr, sizeof(herr));
	if (!h) {
		snprintf(err, errlen, "cannot reach %s: %s", c->url, herr);
		return errno ? errno : EIO;
	}
	rc = bfs_http_do(h, &req, resp);
	bfs_http_destroy(h);
	if (rc != 0)
		snprintf(err, errlen, "cannot reach %s: %s", c->url,
			 resp->error[0] ? resp->error : strerror(rc));
	return rc;
}

static void wipe_resp(struct bfs_http_resp *resp)
{
	if (resp->body)
		explicit_bzero(resp->body, resp->body_len);
	bfs_http_resp_release(resp);
	memset(resp, 0, sizeof(*resp));
}

/* ---- JSON answers -------------------------------------------------- */

int bfs_creds_parse_json(const char *body, size_t len, const char *what,
			 struct bfs_cred_set **out, char *err, size_t errlen)
{
	const char *id, *sk, *tok, *exp, *code;
	time_t t = 0;
	json_t *j;
	int rc = 0;

	bfs_creds_wiping_alloc_init();
	j = json_loadb(body, len, 0, NULL);
	if (!j || !json_is_object(j)) {
		snprintf(err, errlen, "%s did not answer a JSON object", what);
		rc = EPROTO;
		goto out;
	}
	code = json_string_value(json_object_get(j, "Code"));
	if (code && strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "%s answered Code '%.64s'", what, code);
		rc = EACCES;
		goto out;
	}
	id = json_string_value(json_object_get(j, "AccessKeyId"));
	sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	tok = json_string_value(json_object_get(j, "Token"));
	if (!tok)
		tok = json_string_value(json_object_get(j, "SessionToken"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (!id || !sk || !id[0] || !sk[0]) {
		snprintf(err, errlen,
			 "%s answered no AccessKeyId or SecretAccessKey", what);
		rc = EPROTO;
		goto out;
	}
	if (exp && bfs_creds_parse_time(exp, &t) != 0) {
		snprintf(err, errlen,
			 "%s answered an Expiration that is not "
			 "an ISO 8601 time",
			 what);
		rc = EPROTO;
		goto out;
	}
	*out = bfs_cred_set_new(id, sk, tok, t);
	if (!*out)
		rc = errno;
out:
	json_decref(j);
	return rc;
}

/* ---- IMDSv2 and containers ----------------------------------------- */

static int status_errno(long status)
{
	if (status == 401 || status == 403)
		return EACCES;
	if (status == 404)
		return ENOENT;
	return EPROTO;
}

int bfs_creds_imds(const char *endpoint, const struct bfs_creds_net *net,
		   struct bfs_cred_set **out, char *err, size_t errlen)
{
	struct bfs_http_resp resp = {0};
	struct call c = {0};
	char *url = NULL, *token = NULL, *role = NULL;
	size_t elen = strlen(endpoint);
	int rc;

	while (elen && endpoint[elen - 1] == '/')
		elen--;
	url = bfs_xasprintf("%.*s/latest/api/token", (int)elen, endpoint);
	c = (struct call){
		.method = "PUT", .url = url, .body = "", .body_len = 0};
	bfs_http_headers_add(&c.headers, "x-aws-ec2-metadata-token-ttl-seconds",
			     "21600");
	rc = do_call(net, &c, &resp, err, errlen);
	bfs_http_headers_release(&c.headers);
	if (rc == 0 && resp.status != 200) {
		snprintf(err, errlen,
			 "instance metadata at %.*s refused a session token "
			 "(HTTP %ld)",
			 (int)elen, endpoint, resp.status);
		rc = status_errno(resp.status);
	}
	if (rc != 0)
		goto out;
	token = bfs_xstrndup(resp.body, strcspn(resp.body, "\r\n"));
	wipe_resp(&resp);

	free(url);
	url = bfs_xasprintf("%.*s/latest/meta-data/iam/security-credentials/",
			    (int)elen, endpoint);
	c = (struct call){.method = "GET", .url = url};
	bfs_http_headers_add(&c.headers, "x-aws-ec2-metadata-token", token);
	rc = do_call(net, &c, &resp, err, errlen);
	if (rc == 0 && (resp.status != 200 || !resp.body_len)) {
		snprintf(err, errlen,
			 "instance metadata at %.*s has no IAM role for this "
			 "instance (HTTP %ld): attach an instance profile",
			 (int)elen, endpoint, resp.status);
		rc = resp.status == 200 ? ENOENT : status_errno(resp.status);
	}
	if (rc != 0) {
		bfs_http_headers_release(&c.headers);
		goto out;
	}
	{
		size_t rl = strcspn(resp.body, "\r\n");
		char *name = bfs_xstrndup(resp.body, rl);

		role = bfs_sigv4_uri_encode(name, false);
		free(name);
	}
	wipe_resp(&resp);
	free(url);
	url = bfs_xasprintf("%.*s/latest/meta-data/iam/security-credentials/%s",
			    (int)elen, endpoint, role);
	c.url = url;
	rc = do_call(net, &c, &resp, err, errlen);
	bfs_http_headers_release(&c.headers);
	if (rc == 0 && resp.status != 200) {
		snprintf(err, errlen,
			 "instance metadata at %.*s did not give the keys of "
			 "role '%s' (HTTP %ld)",
			 (int)elen, endpoint, role, resp.status);
		rc = status_errno(resp.status);
	}
	if (rc == 0)
		rc = bfs_creds_parse_json(resp.body, resp.body_len,
					  "instance metadata", out, err,
					  errlen);
out:
	wipe_resp(&resp);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(role);
	free(url);
	return rc;
}

int bfs_creds_container(const char *url, const char *auth,
			const struct bfs_creds_net *net,
			struct bfs_cred_set **out, char *err, size_t errlen)
{
	struct bfs_http_resp resp = {0};
	struct call c = {.method = "GET", .url = url};
	int rc;

	if (auth && auth[0])
		bfs_http_headers_add(&c.headers, "authorization", auth);
	rc = do_call(net, &c, &resp, err, errlen);
	bfs_http_headers_release(&c.headers);
	if (rc == 0 && resp.status != 200) {
		snprintf(err, errlen,
			 "container credentials at %s answered HTTP %ld%s", url,
			 resp.status,
			 resp.status == 401 || resp.status == 403
				 ? ": check AWS_CONTAINER_AUTHORIZATION_TOKEN"
				   "(_FILE)"
				 : "");
		rc = status_errno(resp.status);
	}
	if (rc == 0)
		rc = bfs_creds_parse_json(resp.body, resp.body_len,
					  "the container credentials service",
					  out, err, errlen);
	wipe_resp(&resp);
	return rc;
}

/* ---- STS ----------------------------------------------------------- */

enum sts_field { F_NONE, F_ID, F_SECRET, F_TOKEN, F_EXP, F_CODE, F_MSG, NF };

/* Parse state in one locked page: the text of the fields we want. */
struct sts_parse {
	enum sts_field in;
	bool overflow;
	size_t len[NF];
	char text[NF][2048];
};

static enum sts_field field_of(const char *name)
{
	static const char *const names[NF] = {
		NULL,	      "AccessKeyId", "SecretAccessKey", "SessionToken",
		"Expiration", "Code",	     "Message"};

	for (int i = 1; i < NF; i++)
		if (strcmp(name, names[i]) == 0)
			return (enum sts_field)i;
	return F_NONE;
}

static void XMLCALL sts_start(void *ud, const XML_Char *name,
			      const XML_Char **attrs)
{
	struct sts_parse *p = ud;

	(void)attrs;
	p->in = field_of(name);
	if (p->in)
		p->len[p->in] = 0;
}

static void XMLCALL sts_end(void *ud, const XML_Char *name)
{
	(void)name;
	((struct sts_parse *)ud)->in = F_NONE;
}

static void XMLCALL sts_text(void *ud, const XML_Char *s, int len)
{
	struct sts_parse *p = ud;
	size_t *l = &p->len[p->in];

	if (!p->in)
		return;
	if (*l + (size_t)len >= sizeof(p->text[0])) {
		p->overflow = true;
		return;
	}
	memcpy(p->text[p->in] + *l, s, (size_t)len);
	*l += (size_t)len;
	p->text[p->in][*l] = '\0';
}

static int sts_answer(const struct bfs_http_resp *resp, const char *action,
		      struct bfs_cred_set **out, char *err, size_t errlen)
{
	struct sts_parse *p;
	size_t maplen;
	XML_Parser x;
	time_t t = 0;
	int rc = 0;

	p = bfs_locked_alloc(sizeof(*p), &maplen);
	if (!p)
		return ENOMEM;
	x = XML_ParserCreate_MM(NULL, &wipe_suite, NULL);
	if (!x) {
		rc = ENOMEM;
		goto out;
	}
	XML_SetUserData(x, p);
	XML_SetElementHandler(x, sts_start, sts_end);
	XML_SetCharacterDataHandler(x, sts_text);
	if (!resp->body || XML_Parse(x, resp->body, (int)resp->body_len,
				     XML_TRUE) != XML_STATUS_OK)
		p->overflow = true;
	XML_ParserFree(x);
	if (resp->status != 200) {
		snprintf(err, errlen,
			 "STS %s refused (HTTP %ld%s%.64s%s%.200s)", action,
			 resp->status, p->len[F_CODE] ? " " : "",
			 p->text[F_CODE], p->len[F_MSG] ? ": " : "",
			 p->text[F_MSG]);
		rc = resp->status >= 500 ? EIO : EACCES;
		goto out;
	}
	if (p->overflow || !p->len[F_ID] || !p->len[F_SECRET] ||
	    !p->len[F_TOKEN]) {
		snprintf(err, errlen,
			 "STS %s answered no credentials it could be read",
			 action);
		rc = EPROTO;
		goto out;
	}
	if (p->len[F_EXP] && bfs_creds_parse_time(p->text[F_EXP], &t) != 0) {
		snprintf(err, errlen, "STS %s answered a bad Expiration",
			 action);
		rc = EPROTO;
		goto out;
	}
	*out = bfs_cred_set_new(p->text[F_ID], p->text[F_SECRET],
				p->text[F_TOKEN], t);
	if (!*out)
		rc = errno;
out:
	bfs_locked_free(p, maplen);
	return rc;
}

/* "k=v&" with v encoded, appended to a growing form body. */
static void form_add(char **body, size_t *len, const char *k, const char *v)
{
	char *e = bfs_sigv4_uri_encode(v, false);
	size_t kl = strlen(k), el = strlen(e);
	char *b = bfs_xmalloc(*len + kl + el + 3);

	if (*body)
		memcpy(b, *body, *len);
	snprintf(b + *len, kl + el + 3, "%s%s=%s", *len ? "&" : "", k, e);
	if (*body) {
		explicit_bzero(*body, *len);
		free(*body);
	}
	*len += kl + el + (*len ? 2 : 1);
	*body = b;
	explicit_bzero(e, el);
	free(e);
}

static int sts_call(const char *sts_url, const char *action, char *body,
		    size_t body_len, const struct bfs_cred_set *sign,
		    const char *region, const struct bfs_creds_net *net,
		    struct bfs_cred_set **out, char *err, size_t errlen)
{
	struct bfs_http_resp resp = {0};
	struct call c = {0};
	const char *auth = strstr(sts_url, "://");
	char *host, *url;
	size_t ul = strlen(sts_url);
	int rc;

	while (ul && sts_url[ul - 1] == '/')
		ul--;
	auth = auth ? auth + 3 : sts_url;
	host = bfs_xstrndup(auth, strcspn(auth, "/"));
	url = bfs_xasprintf("%.*s/", (int)ul, sts_url);
	c = (struct call){.method = "POST",
			  .url = url,
			  .body = body,
			  .body_len = body_len,
			  .sign = sign,
			  .region = region && region[0] ? region : "us-east-1",
			  .host = host};
	bfs_http_headers_add(&c.headers, "content-type", FORM_TYPE);
	rc = do_call(net, &c, &resp, err, errlen);
	bfs_http_headers_release(&c.headers);
	if (rc == 0)
		rc = sts_answer(&resp, action, out, err, errlen);
	wipe_resp(&resp);
	free(host);
	free(url);
	return rc;
}

int bfs_creds_sts_web_identity(const char *sts_url, const char *role_arn,
			       const char *session_name, const char *token,
			       const struct bfs_creds_net *net,
			       struct bfs_cred_set **out, char *err,
			       size_t errlen)
{
	char *body = NULL;
	size_t len = 0;
	int rc;

	form_add(&body, &len, "Action", "AssumeRoleWithWebIdentity");
	form_add(&body, &len, "Version", STS_VERSION);
	form_add(&body, &len, "RoleArn", role_arn);
	form_add(&body, &len, "RoleSessionName", session_name);
	form_add(&body, &len, "WebIdentityToken", token);
	rc = sts_call(sts_url, "AssumeRoleWithWebIdentity", body, len, NULL,
		      NULL, net, out, err, errlen);
	explicit_bzero(body, len);
	free(body);
	return rc;
}

int bfs_creds_sts_assume_role(const char *sts_url, const char *region,
			      const struct bfs_cred_set *src,
			      const char *role_arn, const char *session_name,
			      const char *external_id, const char *duration,
			      const struct bfs_creds_net *net,
			      struct bfs_cred_set **out, char *err,
			      size_t errlen)
{
	char *body = NULL;
	size_t len = 0;
	int rc;

	form_add(&body, &len, "Action", "AssumeRole");
	form_add(&body, &len, "Version", STS_VERSION);
	form_add(&body, &len, "RoleArn", role_arn);
	form_add(&body, &len, "RoleSessionName", session_name);
	if (external_id)
		form_add(&body, &len, "ExternalId", external_id);
	if (duration)
		form_add(&body, &len, "DurationSeconds", duration);
	rc = sts_call(sts_url, "AssumeRole", body, len, src, region, net, out,
		      err, errlen);
	explicit_bzero(body, len);
	free(body);
	return rc;
}
