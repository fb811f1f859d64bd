/*
 * s3_mpu.c - multipart uploads of the S3 driver: begin, part,
 * complete (with the multipart ETag check) and abort.
 */
#include "compat.h"

#include "store/s3_priv.h"

/* ---- multipart ---- */

int mpu_begin_op(struct s3_priv *p, const char *key,
		 const struct bfs_meta_list *meta, const char *content_type,
		 char **upload_id)
{
	struct s3_op op = {.opname = "MPU-BEGIN",
			   .method = "POST",
			   .key = key,
			   .query = "uploads=",
			   .idempotent = true};
	struct bfs_http_resp resp = {0};
	char err[200];
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	bfs_http_headers_add(&op.hdrs, "content-type",
			     content_type ? content_type
					  : DEFAULT_CONTENT_TYPE);
	option_headers(p, &op, OPT_WRITE | OPT_SSEC);
	rc = add_meta(&op.hdrs, meta);
	if (rc)
		goto out;
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	rc = bfs_s3_xml_upload_id(resp.body, resp.body_len, upload_id, err,
				  sizeof(err));
	if (rc)
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int s3_mpu_begin(struct bfs_store *s, const struct bfs_put_req *req,
		 char **upload_id)
{
	return mpu_begin_op(s->priv, req->key, req->meta, req->content_type,
			    upload_id);
}

char *part_query(int number, const char *upload_id)
{
	char num[16], *q = NULL;

	snprintf(num, sizeof(num), "%d", number);
	qadd(&q, "partNumber", num);
	qadd(&q, "uploadId", upload_id);
	return q;
}

int s3_mpu_part(struct bfs_store *s, const char *key, const char *upload_id,
		int number, int fd, off_t off, size_t len, char *etag_out)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {.opname = "MPU-PART", .method = "PUT", .key = key};
	struct bfs_http_resp resp = {0};
	struct digests d;
	char *q;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	if (number < 1 || number > MAX_PARTS || !upload_id)
		return EINVAL;
	rc = digest_fd(p, fd, off, len, &d);
	if (rc) {
		bfs_log(LOG_ERR,
			"%s: MPU-PART '%.200s' #%d: cannot read the "
			"data to upload: %s",
			p->name, key, number, strerror(rc));
		return rc;
	}
	q = part_query(number, upload_id);
	op.query = q;
	op.payload_hash = d.sha256;
	op.body = (struct bfs_http_body){
		.kind = BFS_HTTP_BODY_FD, .fd = fd, .off = off, .len = len};
	bfs_http_headers_add(&op.hdrs, "content-md5", d.md5_b64);
	option_headers(p, &op, OPT_SSEC);
	rc = s3_run(p, &op, &resp);
	if (rc == 0) {
		etag_from_headers(&resp, etag_out);
		if (!etag_out[0])
			rc = s3_fail(p, &op, EIO, LOG_ERR, resp.status,
				     BFS_HTTP_OK, NULL,
				     "UploadPart answer without an ETag", NULL,
				     NULL, NULL, 0);
	}
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/*
 * The ETag S3 gives a completed multipart upload: MD5 of the parts' binary
 * MD5s, "-", the part count. @return false if a part ETag is not an MD5.
 */
static bool multipart_etag(const struct bfs_part *parts, size_t n, char *out)
{
	EVP_MD_CTX *md5 = EVP_MD_CTX_new();
	unsigned char bin[16], m[EVP_MAX_MD_SIZE];
	unsigned ml = 0;
	bool ok = true;

	if (!md5)
		BFS_BUG("EVP_MD_CTX_new: out of memory");
	EVP_DigestInit_ex(md5, EVP_md5(), NULL);
	for (size_t i = 0; i < n && ok; i++) {
		if (strlen(parts[i].etag) != 32) {
			ok = false;
			break;
		}
		for (int j = 0; j < 16 && ok; j++) {
			int hi = bfs_hex_val(parts[i].etag[2 * j]);
			int lo = bfs_hex_val(parts[i].etag[2 * j + 1]);

			ok = hi >= 0 && lo >= 0;
			bin[j] = (unsigned char)(hi << 4 | lo);
		}
		EVP_DigestUpdate(md5, bin, sizeof(bin));
	}
	if (ok) {
		EVP_DigestFinal_ex(md5, m, &ml);
		bfs_hex_encode(m, 16, out);
		snprintf(out + 32, BFS_ETAG_MAX - 32, "-%zu", n);
	}
	EVP_MD_CTX_free(md5);
	return ok;
}

/*
 * Run op on the upload upload_id of its key: its query is
 * [name=value&]uploadId=ID, its answer only a status.
 * @return the request's errno.
 */
static int run_on_upload(struct s3_priv *p, struct s3_op *op, const char *name,
			 const char *value, const char *upload_id)
{
	struct bfs_http_resp resp = {0};
	char *q = NULL;
	int rc;

	if (name)
		qadd(&q, name, value);
	qadd(&q, "uploadId", upload_id);
	op->query = q;
	rc = s3_run(p, op, &resp);
	free(q);
	op_release(op);
	bfs_http_resp_release(&resp);
	return rc;
}

/* Whether an upload still exists (ListParts). @return 0, ENOENT, errno. */
static int upload_exists(struct s3_priv *p, const char *key,
			 const char *upload_id)
{
	struct s3_op op = {.opname = "MPU-LIST",
			   .method = "GET",
			   .key = key,
			   .quiet_err = ENOENT};

	return run_on_upload(p, &op, "max-parts", "1", upload_id);
}

int mpu_complete_op(struct s3_priv *p, const char *key, const char *upload_id,
		    const struct bfs_part *parts, size_t nparts,
		    const char *if_match, bool if_none_match, char *etag_out,
		    time_t *answered)
{
	struct s3_op op = {.opname = "MPU-COMPLETE",
			   .method = "POST",
			   .key = key,
			   .idempotent = true,
			   .embeds_error = true};
	struct bfs_http_resp resp = {0};
	char etag[BFS_ETAG_MAX] = "", want[BFS_ETAG_MAX], err[200];
	char *body = NULL, *q = NULL;
	size_t blen = 0, bcap = 0;
	struct digests d;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	if (nparts == 0 || nparts > MAX_PARTS || !upload_id)
		return EINVAL;
	str_append(&body, &blen, &bcap, "<CompleteMultipartUpload>");
	for (size_t i = 0; i < nparts; i++) {
		char num[64];

		if (parts[i].number < 1 || parts[i].number > MAX_PARTS ||
		    (i > 0 && parts[i].number <= parts[i - 1].number)) {
			rc = EINVAL;
			goto out;
		}
		snprintf(num, sizeof(num),
			 "<Part><PartNumber>%d</PartNumber><ETag>\"",
			 parts[i].number);
		str_append(&body, &blen, &bcap, num);
		xml_escape_append(&body, &blen, &bcap, parts[i].etag);
		str_append(&body, &blen, &bcap, "\"</ETag></Part>");
	}
	str_append(&body, &blen, &bcap, "</CompleteMultipartUpload>");
	digest_mem(body, blen, &d);
	qadd(&q, "uploadId", upload_id);
	op.query = q;
	op.payload_hash = d.sha256;
	op.body = (struct bfs_http_body){
		.kind = BFS_HTTP_BODY_MEM, .mem = body, .len = blen};
	bfs_http_headers_add(&op.hdrs, "content-type", "application/xml");
	option_headers(p, &op, OPT_SSEC);
	cond_headers(&op, if_match, if_none_match);
	rc = s3_run(p, &op, &resp);
	if ((rc == ENOENT || (rc == EIO && resp.status >= 500)) &&
	    multipart_etag(parts, nparts, want) &&
	    current_etag(p, key, etag) == 0 && strcmp(etag, want) == 0) {
		/* an earlier attempt completed it and its answer was lost: the
		 * object's ETag is the one these very parts make */
		bfs_log(LOG_NOTICE,
			"%s: MPU-COMPLETE '%.200s': completed by "
			"an earlier attempt",
			p->name, key);
		rc = 0;
		goto done;
	}
	if (rc == EIO && resp.status >= 500 &&
	    upload_exists(p, key, upload_id) == ENOENT) {
		/* RGW answers 500 "completion already in progress" for an
		 * aborted upload: the upload is gone, say so */
		rc = ENOENT;
	}
	if (rc)
		goto out;
	date_from_headers(&resp, answered);
	rc = bfs_s3_xml_etag(resp.body, resp.body_len,
			     "CompleteMultipartUploadResult", etag, err,
			     sizeof(err));
	if (rc) {
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
		goto out;
	}
	/* RGW answers an empty ETag: ask for it */
	if (!etag[0])
		rc = current_etag(p, key, etag);
done:
	if (rc == 0 && etag_out)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
out:
	free(body);
	free(q);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int s3_mpu_complete(struct bfs_store *s, const struct bfs_put_req *req,
		    const char *upload_id, const struct bfs_part *parts,
		    size_t nparts, char *etag_out)
{
	struct s3_priv *p = s->priv;
	const char *if_match = req->if_match;
	char cur[BFS_ETAG_MAX];
	int rc;

	/*
	 * Check the condition first: not every server honours conditions on
	 * CompleteMultipartUpload (Ceph 16 ignores If-None-Match there), and
	 * one HEAD is little next to a multipart upload. The headers still
	 * go along, so servers that honour them close the race.
	 */
	if (if_match || req->if_none_match) {
		rc = check_cond_first(p, req->key, if_match,
				      req->if_none_match);
		if (rc != 0)
			return rc;
	}
	if (if_match && atomic_load(&p->if_match_broken))
		if_match = NULL;
	rc = mpu_complete_op(p, req->key, upload_id, parts, nparts, if_match,
			     req->if_none_match, etag_out, req->answered);
	if (rc == ESTALE && if_match && current_etag(p, req->key, cur) == 0 &&
	    strcmp(cur, if_match) == 0) {
		if (!atomic_exchange(&p->if_match_broken, true))
			bfs_log(LOG_NOTICE,
				"%s: the server refuses a matching If-Match "
				"(Ceph before 17): checking the ETag before "
				"each conditional write instead",
				p->name);
		rc = mpu_complete_op(p, req->key, upload_id, parts, nparts,
				     NULL, req->if_none_match, etag_out,
				     req->answered);
	}
	return rc;
}

int s3_mpu_abort(struct bfs_store *s, const char *key, const char *upload_id)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {
		.opname = "MPU-ABORT", .method = "DELETE", .key = key};
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	if (!upload_id)
		return EINVAL;
	return run_on_upload(p, &op, NULL, NULL, upload_id);
}
