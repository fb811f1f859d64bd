/*
 * upload_file.c - a staged file to one object: through its stream, else
 * a single put (with the digests its feed computed) or a multipart
 * upload whose parts the pool sends (see upload.h); and the feed's
 * calls, which hand a write to the stream and the hasher.
 */
#include "compat.h"

#include "log.h"
#include "store/upload_priv.h"

void bfs_upload_feed_wrote(struct bfs_upload_feed **fp, struct bfs_store *s,
			   const struct bfs_upload_conf *c,
			   const struct bfs_put_req *req, int fd, uint64_t off,
			   uint64_t len, uint64_t size, const char *note_path)
{
	struct bfs_upload_feed *f = *fp;

	if (f == NULL)
		f = *fp = bfs_xcalloc(1, sizeof(*f));
	bfs_seqhash_wrote(&f->hash, fd, off, len, size, c->threshold);
	bfs_upload_stream_wrote(&f->stream, s, c, req, fd, off, len, size,
				note_path);
}

bool bfs_upload_feed_starts(const struct bfs_upload_feed *f,
			    const struct bfs_store *s,
			    const struct bfs_upload_conf *c, uint64_t off,
			    uint64_t len, uint64_t size)
{
	return bfs_upload_stream_begins(f ? f->stream : NULL, s, c, off, len,
					size);
}

void bfs_upload_feed_break(struct bfs_upload_feed *f)
{
	if (f == NULL)
		return;
	bfs_upload_stream_break(f->stream);
	bfs_seqhash_break(&f->hash);
}

void bfs_upload_feed_abort(struct bfs_upload_feed **fp)
{
	struct bfs_upload_feed *f = *fp;

	if (f == NULL)
		return;
	bfs_upload_stream_abort(&f->stream);
	bfs_seqhash_break(&f->hash);
	free(f);
	*fp = NULL;
}

static int upload_multipart(struct bfs_store *s,
			    const struct bfs_upload_conf *c,
			    const struct bfs_upload_plan *plan,
			    const struct bfs_put_req *req, char *etag_out)
{
	struct bfs_part_set ps;
	char *upload_id = NULL;
	int rc;

	rc = s->mpu_begin(s, req, &upload_id);
	if (rc != 0)
		return rc;
	bfs_part_set_init(&ps, s, req->key, upload_id, req->fd, c->parallel);
	for (size_t i = 0; i < plan->nparts && rc == 0; i++) {
		uint64_t off = (uint64_t)i * plan->part_size;

		rc = bfs_part_set_add(
			&ps, req->offset + (off_t)off,
			(size_t)BFS_MIN(plan->part_size, req->size - off));
	}
	rc = bfs_part_set_wait(&ps);
	if (rc == 0)
		rc = s->mpu_complete(s, req, upload_id, ps.parts, ps.nparts,
				     etag_out);
	if (rc != 0) {
		int arc = s->mpu_abort(s, req->key, upload_id);

		if (arc != 0)
			bfs_log(LOG_WARNING,
				"%s: cannot abort multipart upload of '%s': "
				"%s",
				s->name, req->key, strerror(arc));
	}
	bfs_part_set_release(&ps);
	free(upload_id);
	return rc;
}

int bfs_upload_file(struct bfs_store *s, const struct bfs_upload_conf *c,
		    const struct bfs_put_req *in, struct bfs_upload_feed **fp,
		    char *etag_out)
{
	struct bfs_upload_feed *f = fp ? *fp : NULL;
	struct bfs_put_req req = *in;
	struct bfs_upload_plan plan;
	unsigned char md5[16], sha256[32];
	bool streamed = false;
	int rc = 0;

	if (fp)
		*fp = NULL;
	/* a condition the store ignores would be a false promise */
	if (!(req.if_match && req.if_match[0] && (s->caps & BFS_CAP_IF_MATCH)))
		req.if_match = NULL;
	if (!(s->caps & BFS_CAP_IF_NONE_MATCH))
		req.if_none_match = false;
	if (f && f->stream)
		rc = bfs_upload_stream_finish(&f->stream, &req, etag_out,
					      &streamed);
	if (streamed)
		goto out;
	bfs_upload_plan(s, c, req.size, &plan);
	if (plan.multipart) {
		rc = upload_multipart(s, c, &plan, &req, etag_out);
		goto out;
	}
	if (f && bfs_seqhash_finish(&f->hash, req.size, md5, sha256)) {
		req.md5 = md5;
		req.sha256 = sha256;
	}
	rc = s->put(s, &req, etag_out);
out:
	bfs_upload_feed_abort(&f);
	return rc;
}
