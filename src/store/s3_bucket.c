/*
 * s3_bucket.c - bucket-level extras of the S3 driver: creating a
 * bucket and deleting objects in batches (DeleteObjects).
 */
#include "compat.h"

#include "store/s3_priv.h"

int bfs_s3_create_bucket(struct bfs_store *s)
{
	struct s3_priv *p = s3_priv_of(s);
	struct s3_op op = {.opname = "CREATE-BUCKET",
			   .method = "PUT",
			   .quiet_err = EEXIST};
	struct bfs_http_resp resp = {0};
	struct digests d;
	char *body = NULL;
	int rc;

	if (!p)
		return EINVAL;
	if (strcmp(p->region, "us-east-1") != 0) {
		body = bfs_xasprintf(
			"<CreateBucketConfiguration xmlns=\"http://s3."
			"amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
			"%s</LocationConstraint></CreateBucketConfiguration>",
			p->region);
		digest_mem(body, strlen(body), &d);
		op.payload_hash = d.sha256;
		op.body = (struct bfs_http_body){.kind = BFS_HTTP_BODY_MEM,
						 .mem = body,
						 .len = strlen(body)};
	}
	rc = s3_run(p, &op, &resp);
	if (rc == EEXIST) {
		/* ours if we may list it: some servers (s3rver) answer
		 * BucketAlreadyExists to its owner too */
		struct bfs_list_req lr = {.max_keys = 1};
		struct bfs_list_result res = {0};

		if (s3_list(s, &lr, &res) == 0) {
			bfs_s3_clear_error(s);
			rc = 0;
		}
		bfs_list_result_release(&res);
	}
	free(body);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* Whether key can travel inside XML 1.0 unchanged. */
static bool xml_safe_key(const char *k)
{
	for (; *k; k++)
		if ((unsigned char)*k < 0x20)
			return false;
	return true;
}

static int delete_batch(struct s3_priv *p, const char *const *keys, size_t n,
			int *errs)
{
	struct s3_op op = {.opname = "DELETE-MULTI",
			   .method = "POST",
			   .query = "delete=",
			   .idempotent = true};
	struct bfs_http_resp resp = {0};
	struct bfs_s3_delete_result dr = {0};
	char *body = NULL, err[200];
	size_t blen = 0, bcap = 0;
	struct digests d;
	int rc;

	str_append(&body, &blen, &bcap,
		   "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		   "<Quiet>true</Quiet>");
	for (size_t i = 0; i < n; i++) {
		str_append(&body, &blen, &bcap, "<Object><Key>");
		xml_escape_append(&body, &blen, &bcap, keys[i]);
		str_append(&body, &blen, &bcap, "</Key></Object>");
		errs[i] = 0;
	}
	str_append(&body, &blen, &bcap, "</Delete>");
	digest_mem(body, blen, &d);
	op.payload_hash = d.sha256;
	op.body = (struct bfs_http_body){
		.kind = BFS_HTTP_BODY_MEM, .mem = body, .len = blen};
	bfs_http_headers_add(&op.hdrs, "content-md5", d.md5_b64);
	bfs_http_headers_add(&op.hdrs, "content-type", "application/xml");
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	rc = bfs_s3_xml_delete_result(resp.body, resp.body_len, &dr, err,
				      sizeof(err));
	if (rc) {
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
		goto out;
	}
	for (size_t i = 0; i < dr.nerrors; i++) {
		const struct s3_code *c = find_code(dr.errors[i].code);
		int e = c ? c->err : EIO;

		if (e == ENOENT)
			continue;
		for (size_t j = 0; j < n; j++)
			if (strcmp(keys[j], dr.errors[i].key) == 0)
				errs[j] = e;
		op.key = dr.errors[i].key;
		s3_fail(p, &op, e, LOG_WARNING, resp.status, BFS_HTTP_OK,
			dr.errors[i].code, dr.errors[i].message,
			c ? c->hint : NULL, NULL, NULL, 0);
		op.key = NULL;
		if (rc == 0)
			rc = e;
	}
out:
	if (rc && dr.nerrors == 0)
		for (size_t i = 0; i < n; i++)
			errs[i] = rc;
	bfs_s3_delete_result_release(&dr);
	free(body);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int bfs_s3_delete_objects(struct bfs_store *s, const char *const *keys,
			  size_t n, int *errs)
{
	struct s3_priv *p = s3_priv_of(s);
	const char **batch;
	size_t *where, nb = 0;
	int *berrs, first = 0;

	if (!p)
		return EINVAL;
	batch = bfs_xcalloc(DELETE_BATCH, sizeof(*batch));
	where = bfs_xcalloc(DELETE_BATCH, sizeof(*where));
	berrs = bfs_xcalloc(DELETE_BATCH, sizeof(*berrs));
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			int e = check_key(keys[i]);

			if (e == 0 && !xml_safe_key(keys[i]))
				e = s3_del(s, keys[i]);
			else if (e == 0) {
				batch[nb] = keys[i];
				where[nb++] = i;
				continue;
			}
			if (errs)
				errs[i] = e;
			if (e && !first)
				first = e;
		}
		if (nb == DELETE_BATCH || (i == n && nb > 0)) {
			int e = delete_batch(p, batch, nb, berrs);

			if (e && !first)
				first = e;
			for (size_t j = 0; errs && j < nb; j++)
				errs[where[j]] = berrs[j];
			nb = 0;
		}
	}
	free(batch);
	free(where);
	free(berrs);
	return first;
}
