/*
 * s3_object.c - the object operations of the S3 driver:
 * head, get_range (with Content-Range checks), head_read and tail_read (a
 * HEAD's answer and the first or last bytes from one ranged GET), put
 * (conditional, with digests) and delete.
 */
#include "compat.h"

#include "store/s3_priv.h"

/* ---- head ---- */

/* What a HEAD's or a GET's answer says of the object, but its size:
 * ETag, Last-Modified, Date, user metadata. */
static void info_from_headers(struct bfs_http_resp *resp,
			      struct bfs_obj_info *info)
{
	const char *v;
	time_t t;

	etag_from_headers(resp, info->etag);
	v = bfs_http_headers_get(&resp->headers, "last-modified");
	if (v && bfs_http_parse_date(v, &t) == 0)
		info->mtime.tv_sec = t;
	v = bfs_http_headers_get(&resp->headers, "date");
	if (v && bfs_http_parse_date(v, &t) == 0)
		info->answered = t;
	for (size_t i = 0; i < resp->headers.n; i++) {
		const char *n = resp->headers.v[i].name;

		if (strncmp(n, "x-amz-meta-", 11) == 0 && n[11])
			bfs_meta_set(&info->meta, n + 11,
				     resp->headers.v[i].value);
	}
}

int s3_head_op(struct s3_priv *p, const char *key, struct bfs_obj_info *out,
	       char **content_type)
{
	struct s3_op op = {.opname = "HEAD",
			   .method = "HEAD",
			   .key = key,
			   .quiet_err = ENOENT};
	struct bfs_http_resp resp = {0};
	struct bfs_obj_info info = {0};
	const char *v;
	char *end;
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	option_headers(p, &op, OPT_SSEC);
	rc = s3_run(p, &op, &resp);
	if (rc)
		goto out;
	v = bfs_http_headers_get(&resp.headers, "content-length");
	errno = 0;
	if (!v || (info.size = strtoull(v, &end, 10), errno || *end)) {
		op.quiet_err = 0;
		rc = s3_fail(p, &op, EIO, LOG_WARNING, resp.status, BFS_HTTP_OK,
			     NULL,
			     "HEAD response without a valid Content-Length",
			     NULL, NULL, NULL, 0);
		goto out;
	}
	info_from_headers(&resp, &info);
	if (content_type) {
		v = bfs_http_headers_get(&resp.headers, "content-type");
		*content_type = v ? bfs_xstrdup(v) : NULL;
	}
	*out = info;
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int s3_head(struct bfs_store *s, const char *key, struct bfs_obj_info *out)
{
	return s3_head_op(s->priv, key, out, NULL);
}

/* ---- get_range ---- */

/* "bytes a-b/n" or "bytes * /n" (no space): the parts present. */
static bool parse_content_range(const char *v, uint64_t *start, uint64_t *total)
{
	unsigned long long a, b, n;

	if (!v)
		return false;
	if (sscanf(v, "bytes %llu-%llu/%llu", &a, &b, &n) == 3) {
		*start = a;
		*total = n;
		return true;
	}
	if (sscanf(v, "bytes */%llu", &n) == 1) {
		*start = UINT64_MAX;
		*total = n;
		return true;
	}
	return false;
}

/* A GET of key into buf, at most len bytes; a 404 is ENOENT, quietly. */
static struct s3_op get_op(const char *key, void *buf, size_t len)
{
	return (struct s3_op){.opname = "GET",
			      .method = "GET",
			      .key = key,
			      .buf = buf,
			      .buf_size = len,
			      .quiet_err = ENOENT};
}

/* A ranged read's answer as it arrives, for a sink (bfs_range_sink). */
struct landing {
	uint64_t off;
	const char *if_match;
	const struct bfs_range_sink *sink;
	size_t told; /* the largest n the sink was given */
	size_t done; /* of a ring: bytes consumed (told, whole steps) */
};

/*
 * on_body of a read with a sink: bytes are passed on only from a 206
 * that starts at the offset asked for and names the pinned ETag, checked
 * on every call that has something to tell, since a retry is a new
 * answer. Anything else (a 200 to
 * a Range, no ETag, another one) is left to the checks at the end.
 */
static void range_landed(void *arg, const struct bfs_http_resp *resp)
{
	struct landing *l = arg;
	size_t step = l->sink->step ? l->sink->step : 1;
	char etag[BFS_ETAG_MAX];
	uint64_t start, total;

	/* the checks cost a parse of the headers: not for every piece
	 * curl hands over (16 KiB), only when there is something to tell */
	if (resp->status != 206 || resp->got / step <= l->told / step)
		return;
	if (!parse_content_range(
		    bfs_http_headers_get(&resp->headers, "content-range"),
		    &start, &total) ||
	    start != l->off)
		return;
	if (l->if_match) {
		etag_from_headers(resp, etag);
		if (strcmp(etag, l->if_match) != 0)
			return;
	}
	l->told = resp->got;
	l->sink->landed(l->sink->arg, resp->got);
	l->done = resp->got / step * step;
}

int s3_get_range_sink(struct bfs_store *s, const char *key, uint64_t off,
		      size_t len, void *buf, size_t *got, const char *if_match,
		      const struct bfs_range_sink *sink)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = get_op(key, buf, len);
	struct landing landing = {
		.off = off, .if_match = if_match, .sink = sink};
	struct bfs_http_resp resp = {0};
	char range[64], etag[BFS_ETAG_MAX];
	uint64_t start, total;
	int rc;

	*got = 0;
	rc = check_key(key);
	if (rc)
		return rc;
	if (len == 0) {
		struct bfs_obj_info info = {0};

		rc = s3_head_op(p, key, &info, NULL);
		if (rc == 0 && if_match && strcmp(info.etag, if_match) != 0)
			rc = ESTALE;
		else if (rc == 0 && off > info.size)
			rc = ERANGE;
		bfs_obj_info_release(&info);
		return rc;
	}
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
		 (unsigned long long)off, (unsigned long long)(off + len - 1));
	bfs_http_headers_add(&op.hdrs, "range", range);
	option_headers(p, &op, OPT_SSEC);
	if (if_match) {
		char *q = bfs_xasprintf("\"%s\"", if_match);

		bfs_http_headers_add(&op.hdrs, "if-match", q);
		free(q);
	}
	/* a server that ignores part of the Range (s3rver reads "bytes=0-0"
	 * as "bytes=0-") sends more: cut it; one that ignores all of it
	 * sends 200: skip to off */
	op.truncate = true;
	op.skip_if_200 = off;
	if (sink) {
		op.on_body = range_landed;
		op.on_body_arg = &landing;
		op.ring = sink->ring;
		op.ring_done = &landing.done;
	}
	rc = s3_do(p, &op, &resp);
	if (rc == 0 && resp.status == 416) {
		/* a read at the end is 0 bytes, not an error */
		const char *cr =
			bfs_http_headers_get(&resp.headers, "content-range");

		if (parse_content_range(cr, &start, &total)) {
			rc = off == total ? 0 : ERANGE;
		} else {
			struct bfs_obj_info info = {0};

			rc = s3_head_op(p, key, &info, NULL);
			if (rc == 0)
				rc = off == info.size ? 0 : ERANGE;
			bfs_obj_info_release(&info);
		}
		goto out;
	}
	rc = s3_check(p, &op, &resp, rc);
	if (rc)
		goto out;
	if (if_match) {
		etag_from_headers(&resp, etag);
		if (etag[0] && strcmp(etag, if_match) != 0) {
			rc = ESTALE; /* a server that ignores If-Match */
			goto out;
		}
	}
	if (resp.status == 206) {
		if (!parse_content_range(bfs_http_headers_get(&resp.headers,
							      "content-range"),
					 &start, &total) ||
		    (start != off && !(total == 0 && off == 0))) {
			rc = s3_fail(p, &op, EIO, LOG_ERR, resp.status,
				     BFS_HTTP_OK, NULL,
				     "206 response with a wrong Content-Range",
				     NULL, NULL, NULL, 0);
			goto out;
		}
	} else if (off > 0) {
		/* the whole object came: its length tells where off was */
		const char *cl =
			bfs_http_headers_get(&resp.headers, "content-length");
		unsigned long long size = cl ? strtoull(cl, NULL, 10) : 0;

		if (off > size)
			rc = ERANGE;
	}
	*got = resp.got;
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int s3_get_range(struct bfs_store *s, const char *key, uint64_t off, size_t len,
		 void *buf, size_t *got, const char *if_match)
{
	return s3_get_range_sink(s, key, off, len, buf, got, if_match, NULL);
}

/* ---- head_read, tail_read ---- */

/* Tell once that the server does not honour suffix ranges. */
static void no_suffix(struct s3_priv *p)
{
	if (!atomic_exchange(&p->no_suffix, true))
		bfs_log(LOG_NOTICE,
			"%s: the server answers a suffix range (bytes=-N) "
			"with the object's first bytes: the head of a file "
			"read from its end is a HEAD from now on",
			p->name);
}

/*
 * A HEAD's answer from one GET of the first len bytes of key (tail
 * false) or of its last len bytes (a suffix range), which go into buf.
 */
static int ranged_head(struct s3_priv *p, const char *key, bool tail,
		       struct bfs_obj_info *out, void *buf, size_t len,
		       size_t *got)
{
	struct s3_op op = get_op(key, buf, len);
	struct bfs_http_resp resp = {0};
	struct bfs_obj_info info = {0};
	uint64_t start, total;
	char range[64];
	const char *cl;
	int rc;

	*got = 0;
	rc = check_key(key);
	if (rc)
		return rc;
	if (tail)
		snprintf(range, sizeof(range), "bytes=-%zu", len);
	else
		snprintf(range, sizeof(range), "bytes=0-%zu", len - 1);
	bfs_http_headers_add(&op.hdrs, "range", range);
	option_headers(p, &op, OPT_SSEC);
	op.truncate = true; /* a server that ignores the Range sends all */
	rc = s3_do(p, &op, &resp);
	if (rc == 0 && resp.status == 416) {
		/* an empty object has no byte 0, and the answer says too
		 * little of it (no ETag): ask again, as HEAD */
		op_release(&op);
		bfs_http_resp_release(&resp);
		return s3_head_op(p, key, out, NULL);
	}
	rc = s3_check(p, &op, &resp, rc);
	if (rc)
		goto out;
	if (resp.status == 206) {
		bool ok = parse_content_range(
			bfs_http_headers_get(&resp.headers, "content-range"),
			&start, &total);

		if (ok && tail && start == 0 && resp.got < total) {
			/* the server read the suffix as a prefix */
			no_suffix(p);
			resp.got = 0;
		} else if (!ok ||
			   (tail ? start > total || total - start != resp.got
				 : start != 0)) {
			/* not the bytes asked for: from 0, or up to the end */
			rc = s3_fail(p, &op, EIO, LOG_ERR, resp.status,
				     BFS_HTTP_OK, NULL,
				     "206 response with a wrong Content-Range",
				     NULL, NULL, NULL, 0);
			goto out;
		}
		info.size = total;
	} else {
		/* the whole object came (cut at len): its length is the
		 * object's */
		cl = bfs_http_headers_get(&resp.headers, "content-length");
		info.size = cl ? strtoull(cl, NULL, 10) : resp.got;
		/* its first bytes, which are its last ones only when they
		 * are all of it */
		if (tail && info.size != resp.got)
			resp.got = 0;
	}
	info_from_headers(&resp, &info);
	*out = info;
	*got = resp.got;
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

int s3_head_read(struct bfs_store *s, const char *key, const char *known,
		 struct bfs_obj_info *out, void *buf, size_t len, size_t *got)
{
	size_t n = 0;
	int rc;

	(void)known; /* no cache here */
	if (got)
		*got = 0;
	if (buf == NULL || len == 0) /* nobody keeps the bytes */
		return s3_head_op(s->priv, key, out, NULL);
	rc = ranged_head(s->priv, key, false, out, buf, len, &n);
	if (got)
		*got = n;
	return rc;
}

int s3_tail_read(struct bfs_store *s, const char *key, struct bfs_obj_info *out,
		 void *buf, size_t len, size_t *got)
{
	struct s3_priv *p = s->priv;

	*got = 0;
	if (buf == NULL || len == 0 || atomic_load(&p->no_suffix))
		return s3_head_op(p, key, out, NULL);
	return ranged_head(p, key, true, out, buf, len, got);
}

/* ---- put ---- */

void cond_headers(struct s3_op *op, const char *if_match, bool if_none_match)
{
	if (if_match) {
		char *q = bfs_xasprintf("\"%s\"", if_match);

		bfs_http_headers_add(&op->hdrs, "if-match", q);
		free(q);
	}
	if (if_none_match) {
		bfs_http_headers_add(&op->hdrs, "if-none-match", "*");
		op->err_412 = EEXIST;
	}
}

/* The current ETag of key into etag ("" if absent). @return 0 or errno. */
int current_etag(struct s3_priv *p, const char *key, char *etag)
{
	struct bfs_obj_info info = {0};
	int rc = s3_head_op(p, key, &info, NULL);

	etag[0] = '\0';
	if (rc == 0)
		memcpy(etag, info.etag, BFS_ETAG_MAX);
	bfs_obj_info_release(&info);
	return rc;
}

int check_cond_first(struct s3_priv *p, const char *key, const char *if_match,
		     bool if_none_match)
{
	char cur[BFS_ETAG_MAX];
	int rc = current_etag(p, key, cur);

	if (rc != 0 && rc != ENOENT)
		return rc;
	if (if_none_match && rc == 0)
		return EEXIST;
	if (if_match && (rc == ENOENT || strcmp(cur, if_match) != 0))
		return ESTALE;
	return 0;
}

/*
 * The end of a put that succeeded (rc 0) or not: the ETag asked for when
 * the answer had none (RGW), the caller's MD5 checked, etag_out set.
 */
static int put_done(struct s3_priv *p, const struct bfs_put_req *req,
		    const struct digests *d, int rc, char *etag, char *etag_out)
{
	if (rc == 0 && !etag[0])
		rc = current_etag(p, req->key, etag);
	if (rc == 0)
		check_given_md5(p, req, d, etag);
	if (rc == 0 && etag_out)
		memcpy(etag_out, etag, BFS_ETAG_MAX);
	return rc;
}

static int put_once(struct s3_priv *p, const struct bfs_put_req *req,
		    const struct digests *d, bool send_if_match, char *etag)
{
	struct s3_op op = {.opname = "PUT", .method = "PUT", .key = req->key};
	struct bfs_http_resp resp = {0};
	int rc;

	op.payload_hash = d->sha256;
	op.body = (struct bfs_http_body){.kind = BFS_HTTP_BODY_FD,
					 .fd = req->fd,
					 .off = req->offset,
					 .len = req->size};
	bfs_http_headers_add(&op.hdrs, "content-type",
			     req->content_type ? req->content_type
					       : DEFAULT_CONTENT_TYPE);
	bfs_http_headers_add(&op.hdrs, "content-md5", d->md5_b64);
	option_headers(p, &op, OPT_WRITE | OPT_SSEC);
	rc = add_meta(&op.hdrs, req->meta);
	if (rc)
		goto out;
	cond_headers(&op, send_if_match ? req->if_match : NULL,
		     req->if_none_match);
	rc = s3_run(p, &op, &resp);
	if (rc == 0) {
		etag_from_headers(&resp, etag);
		date_from_headers(&resp, req->answered);
	}
out:
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}

/*
 * Does the server honour If-None-Match on PUT? Some (s3rver) ignore every
 * condition and overwrite; learn it once, with a probe object written
 * twice, so conditional writes can be emulated there.
 */
static bool cond_put_ignored(struct bfs_store *s)
{
	struct s3_priv *p = s->priv;
	struct bfs_put_req req = {0};
	struct digests d;
	char key[96], etag[BFS_ETAG_MAX];
	int state = atomic_load(&p->cond_put);
	int fd, rc;

	if (state != 0)
		return state == 2;
	if (!p->conf.probe_conditional_put)
		return false;
	fd = memfd_create("bucketfs-probe", MFD_CLOEXEC);
	if (fd < 0 || write(fd, "p", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	snprintf(key, sizeof(key), ".bucketfs-condprobe-%ld-%lx",
		 (long)getpid(), (unsigned long)random());
	req.key = key;
	req.fd = fd;
	req.size = 1;
	rc = digest_fd(p, fd, 0, 1, &d);
	if (rc == 0)
		rc = put_once(p, &req, &d, false, etag);
	if (rc == 0) {
		req.if_none_match = true;
		rc = put_once(p, &req, &d, false, etag);
		state = rc == 0 ? 2 : (rc == EEXIST || rc == ESTALE) ? 1 : 0;
		s3_del(s, key);
	}
	close(fd);
	if (state == 2)
		bfs_log(LOG_NOTICE,
			"%s: the server ignores conditional PUTs: comparing "
			"ETags with a HEAD before each conditional write "
			"instead (a small race remains)",
			p->name);
	if (state != 0)
		atomic_store(&p->cond_put, state);
	return state == 2;
}

int s3_put(struct bfs_store *s, const struct bfs_put_req *req, char *etag_out)
{
	struct s3_priv *p = s->priv;
	char etag[BFS_ETAG_MAX] = "", cur[BFS_ETAG_MAX];
	bool send_if_match = req->if_match != NULL;
	struct digests d;
	int rc;

	rc = check_key(req->key);
	if (rc)
		return rc;
	if (req->md5 && req->sha256)
		digest_given(p, req->md5, req->sha256, &d);
	else
		rc = digest_fd(p, req->fd, req->offset, req->size, &d);
	if (rc) {
		bfs_log(LOG_ERR,
			"%s: PUT '%.200s': cannot read the data to "
			"upload: %s",
			p->name, req->key, strerror(rc));
		return rc;
	}
	if ((req->if_match || req->if_none_match) && cond_put_ignored(s)) {
		/* emulated: check, then write (a small race, documented) */
		struct bfs_put_req plain = *req;

		rc = check_cond_first(p, req->key, req->if_match,
				      req->if_none_match);
		if (rc)
			return rc;
		plain.if_match = NULL;
		plain.if_none_match = false;
		rc = put_once(p, &plain, &d, false, etag);
		return put_done(p, req, &d, rc, etag, etag_out);
	}
	if (req->if_match && atomic_load(&p->if_match_broken)) {
		/* emulated: check, then write (a small race, documented) */
		rc = check_cond_first(p, req->key, req->if_match, false);
		if (rc)
			return rc;
		send_if_match = false;
	}
	rc = put_once(p, req, &d, send_if_match, etag);
	if ((rc == ESTALE || rc == EEXIST) &&
	    current_etag(p, req->key, cur) == 0) {
		if (strcmp(cur, d.md5_hex) == 0) {
			/*
			 * The key holds exactly our bytes: an earlier attempt
			 * landed and its answer was lost (libcurl also replays
			 * a request on a kept-alive connection that died, so
			 * the retry may not be ours to count).
			 */
			memcpy(etag, cur, sizeof(cur));
			rc = 0;
		} else if (rc == ESTALE && req->if_match &&
			   strcmp(cur, req->if_match) == 0) {
			if (!atomic_exchange(&p->if_match_broken, true))
				bfs_log(LOG_NOTICE,
					"%s: the server refuses a matching "
					"If-Match on PUT (Ceph before 17): "
					"checking the ETag before each "
					"conditional write instead",
					p->name);
			rc = put_once(p, req, &d, false, etag);
		}
	}
	return put_done(p, req, &d, rc, etag, etag_out);
}

/* ---- delete ---- */

int s3_del(struct bfs_store *s, const char *key)
{
	struct s3_priv *p = s->priv;
	struct s3_op op = {.opname = "DELETE",
			   .method = "DELETE",
			   .key = key,
			   .quiet_err = ENOENT};
	struct bfs_http_resp resp = {0};
	int rc;

	rc = check_key(key);
	if (rc)
		return rc;
	rc = s3_run(p, &op, &resp);
	if (rc == ENOENT)
		rc = 0;
	op_release(&op);
	bfs_http_resp_release(&resp);
	return rc;
}
