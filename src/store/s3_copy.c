/*
 * s3_copy.c - server-side copy of the S3 driver: CopyObject, and
 * UploadPartCopy for objects over the single-copy limit.
 */
#include "compat.h"

#include "store/s3_priv.h"

/* ---- copy ---- */

static void copy_source(struct s3_priv *p, struct s3_op *op, const char *src)
{
	char *enc = bfs_sigv4_uri_encode(src, true);
	char *v = bfs_xasprintf("%s%s", p->copy_prefix, enc);

	bfs_http_headers_add(&op->hdrs, "x-amz-copy-source", v);
	free(v);
	free(enc);
}

static int copy_multipart(struct s3_priv *p, const char *src, const char *dst,
			  const struct bfs_obj_info *si,
			  const struct bfs_meta_list *meta,
			  const char *content_type, char *etag_out)
{
	uint64_t part = p->conf.copy_part_size ? p->conf.copy_part_size
					       : (512ULL << 20);
	struct bfs_part *parts = NULL;
	char *upload_id = NULL;
	size_t nparts;
	int rc;

	while ((si->size + part - 1) / part > MAX_PARTS)
		part *= 2;
	nparts = (size_t)((si->size + part - 1) / part);
	rc = mpu_begin_op(p, dst, meta, content_type, &upload_id);
	if (rc)
		return rc;
	parts = bfs_xcalloc(nparts, sizeof(*parts));
	for (size_t i = 0; i < nparts && rc == 0; i++) {
		struct s3_op op = {.opname = "COPY-PART",
				   .method = "PUT",
				   .key = dst,
				   .embeds_error = true};
		struct bfs_http_resp resp = {0};
		uint64_t a = i * part, b = BFS_MIN(a + part, si->size) - 1;
		char range[64], err[200], *q, *etq;

		q = part_query((int)i + 1, upload_id);
		op.query = q;
		copy_source(p, &op, src);
		snprintf(range, sizeof(range), "bytes=%llu-%llu",
			 (unsigned long long)a, (unsigned long long)b);
		bfs_http_headers_add(&op.hdrs, "x-amz-copy-source-range",
				     range);
		/* every part from the same version of the source */
		etq = bfs_xasprintf("\"%s\"", si->etag);
		bfs_http_headers_add(&op.hdrs, "x-amz-copy-source-if-match",
				     etq);
		free(etq);
		option_headers(p, &op, OPT_SSEC | OPT_SSEC_SRC);
		rc = s3_run(p, &op, &resp);
		if (rc == 0) {
			parts[i].number = (int)i + 1;
			rc = bfs_s3_xml_etag(resp.body, resp.body_len,
					     "CopyPartResult", parts[i].etag,
					     err, sizeof(err));
			if (rc)
				s3_fail(p, &op, rc, LOG_ERR, resp.status,
					BFS_HTTP_OK, NULL, err, NULL, NULL,
					NULL, 0);
		}
		free(q);
		op_release(&op);
		bfs_http_resp_release(&resp);
	}
	if (rc == 0)
		rc = mpu_complete_op(p, dst, upload_id, parts, nparts, NULL,
				     false, etag_out, NULL);
	if (rc != 0) {
		struct bfs_store *s = &p->store;

		if (s3_mpu_abort(s, dst, upload_id) != 0)
			bfs_log(LOG_WARNING,
				"%s: cannot abort the multipart copy to "
				"'%.200s': the upload is left for a lifecycle "
				"rule",
				p->name, dst);
	}
	free(parts);
	free(upload_id);
	return rc;
}

int s3_copy(struct bfs_store *s, const char *src, const char *dst,
	    const struct bfs_meta_list *meta, const char *if_match,
	    char *etag_out)
{
	struct s3_priv *p = s->priv;
	uint64_t threshold = p->conf.multipart_copy_threshold
				     ? p->conf.multipart_copy_threshold
				     : MAX_COPY_SIZE;
	/*
	 * A copy of any version that keeps the source's metadata (a
	 * rename) is sent at once: its HEAD cost a round trip per rename,
	 * for a size that matters only past 5 GiB, where the server
	 * refuses CopyObject (InvalidRequest) and the copy goes multipart
	 * after a HEAD. A copy pinned to an ETag checks it with the HEAD
	 * (RGW ignores x-amz-copy-source-if-match).
	 */
	bool head = meta != NULL || if_match != NULL ||
		    p->conf.multipart_copy_threshold != 0;
	struct s3_op op;
	struct bfs_http_resp resp = {0};
	struct bfs_obj_info si = {0};
	char *ctype = NULL, etag[BFS_ETAG_MAX], err[200];
	int rc;

	if ((rc = check_key(src)) || (rc = check_key(dst)))
		return rc;
again:
	op = (struct s3_op){.opname = "COPY",
			    .method = "PUT",
			    .key = dst,
			    .embeds_error = true};
	if (head) {
		/* size (CopyObject stops at 5 GiB), content type, ETag */
		rc = s3_head_op(p, src, &si, &ctype);
		if (rc)
			goto out;
		if (if_match && strcmp(si.etag, if_match) != 0) {
			rc = ESTALE;
			goto out;
		}
		if (si.size > threshold) {
			rc = copy_multipart(p, src, dst, &si,
					    meta ? meta : &si.meta, ctype,
					    etag_out);
			goto out;
		}
	} else {
		op.quiet_err = EINVAL; /* too large: asked again below */
	}
	copy_source(p, &op, src);
	option_headers(p, &op, OPT_WRITE | OPT_SSEC | OPT_SSEC_SRC);
	if (if_match) {
		char *q = bfs_xasprintf("\"%s\"", if_match);

		bfs_http_headers_add(&op.hdrs, "x-amz-copy-source-if-match", q);
		free(q);
	}
	if (meta) {
		bfs_http_headers_add(&op.hdrs, "x-amz-metadata-directive",
				     "REPLACE");
		bfs_http_headers_add(&op.hdrs, "content-type",
				     ctype ? ctype : DEFAULT_CONTENT_TYPE);
		rc = add_meta(&op.hdrs, meta);
		if (rc)
			goto out;
	}
	rc = s3_run(p, &op, &resp);
	if (!head && (rc == EINVAL || rc == EFBIG)) {
		op_release(&op);
		bfs_http_resp_release(&resp);
		memset(&resp, 0, sizeof(resp));
		head = true;
		goto again;
	}
	if (rc)
		goto out;
	rc = bfs_s3_xml_etag(resp.body, resp.body_len, "CopyObjectResult", etag,
			     err, sizeof(err));
	if (rc) {
		s3_fail(p, &op, rc, LOG_ERR, resp.status, BFS_HTTP_OK, NULL,
			err, NULL, NULL, NULL, 0);
		goto out;
	}
	if (!etag[0])
		rc = current_etag(p, dst, etag);
	if (rc == 0 && etag_out)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
out:
	free(ctype);
	bfs_obj_info_release(&si);
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}
