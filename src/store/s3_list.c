/*
 * s3_list.c - listing of the S3 driver: ListObjectsV2 with
 * prefix, delimiter and continuation.
 */
#include "compat.h"

#include "store/s3_priv.h"

/* ---- list ---- */

/*
 * A 200 that is not S3's XML says more about the server than the XML
 * parser's message does: name an HTML page or junk for what it is.
 */
static void explain_not_xml(const struct bfs_http_resp *resp, char *err,
			    size_t errlen)
{
	const char *b = resp->body ? resp->body : "";
	const char *ct = bfs_http_headers_get(&resp->headers, "content-type");
	char ctype[64];

	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	clean(ctype, sizeof(ctype), ct ? ct : "none", 60);
	if (strncasecmp(b, "<!doctype html", 14) == 0 ||
	    strncasecmp(b, "<html", 5) == 0)
		snprintf(err, errlen,
			 "the server answered an HTML page (Content-Type %s), "
			 "not S3 XML: is a web server or a portal in front of "
			 "the endpoint?",
			 ctype);
	else if (*b != '<')
		snprintf(err, errlen,
			 "the server answered %zu bytes that are not XML "
			 "(Content-Type %s): not an S3 server?",
			 resp->body_len, ctype);
}

int s3_list(struct bfs_store *s, const struct bfs_list_req *req,
	    struct bfs_list_result *out)
{
	struct s3_priv *p = s->priv;
	/* log lines name the listed prefix; "/" is the bucket's root */
	const char *logkey = req->prefix && req->prefix[0] ? req->prefix : "/";
	struct s3_op op = {.opname = "LIST",
			   .method = "GET",
			   .key = NULL,
			   .logkey = logkey,
			   .max_body = LIST_BODY_MAX};
	struct bfs_http_resp resp = {0};
	unsigned max = req->max_keys	  ? req->max_keys
		       : p->conf.max_keys ? p->conf.max_keys
					  : 1000;
	char num[16], err[200], *q = NULL;
	bool v1;
	int rc;

	if (req->cached_only)
		return EAGAIN;
again:
	/* parameters in byte order, as SigV4 wants them */
	v1 = atomic_load(&p->list_v1);
	if (req->token && !v1)
		qadd(&q, "continuation-token", req->token);
	if (req->delimiter && req->delimiter[0])
		qadd(&q, "delimiter", req->delimiter);
	qadd(&q, "encoding-type", "url");
	if (!v1)
		qadd(&q, "list-type", "2");
	if (v1 && (req->token || req->start_after))
		qadd(&q, "marker", req->token ? req->token : req->start_after);
	snprintf(num, sizeof(num), "%u", max);
	qadd(&q, "max-keys", num);
	if (req->prefix && req->prefix[0])
		qadd(&q, "prefix", req->prefix);
	if (!v1 && req->start_after && req->start_after[0])
		qadd(&q, "start-after", req->start_after);
	op.query = q;
	/* until a truncated v2 page has worked, a 500 is tried with v1 at
	 * once rather than after the retries' back-off */
	op.answer_500 = !v1 && !req->token && !atomic_load(&p->list_v2_pages);
	rc = s3_run(p, &op, &resp);
	if (rc && !v1 && !req->token && resp.status == 500) {
		/* s3rver answers 500 to every truncated v2 page; v1 works */
		bfs_log(LOG_NOTICE,
			"%s: ListObjectsV2 fails here (HTTP 500): listing with "
			"ListObjects v1 from now on",
			p->name);
		atomic_store(&p->list_v1, true);
		free(q);
		q = NULL;
		bfs_http_resp_release(&resp);
		memset(&resp, 0, sizeof(resp));
		op_release(&op);
		op = (struct s3_op){.opname = "LIST",
				    .method = "GET",
				    .logkey = logkey,
				    .max_body = LIST_BODY_MAX};
		goto again;
	}
	if (rc)
		goto out;
	rc = bfs_s3_xml_list(resp.body, resp.body_len, out, err, sizeof(err));
	if (rc)
		explain_not_xml(&resp, err, sizeof(err));
	if (rc == 0 && !v1 && out->next_token)
		atomic_store(&p->list_v2_pages, true);
	if (rc)
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
out:
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}
