/*
 * upload_stream.c - multipart uploads that start while a sequential
 * writer is still writing, so closing a large file waits only for its
 * last parts (see upload.h, bfs_upload_feed_wrote).
 *
 * A staged file that only ever grew at its end (the pattern of cp, dd, a
 * download) and passed the multipart threshold gets a multipart upload;
 * every time another part_size bytes are complete, that part goes to the
 * pool (at most upload_parallel of it at once: the writer waits for the
 * next). Any other write - before the end, a truncate, a second writer's
 * hole - marks the stream broken: it is aborted at the upload and the
 * file goes up whole, as without a stream. All parts but the last have
 * the same size (R2 requires it); a file that would need more than
 * BFS_UPLOAD_MAX_PARTS of them breaks the stream. The upload id is noted
 * in a file beside the staged file while the upload is open (recovery).
 * The upload begins with the file's metadata as it is then (mode, owner,
 * xattrs; not its times, which the writer is still moving: without them
 * the object's Last-Modified, the end of the upload, stands for them),
 * since completing a multipart upload cannot set metadata. Metadata that
 * changed after that (a chmod, cp -p's times before its close) is set
 * after the completion by a copy of the object onto itself.
 * The stream has no lock: its caller serialises its calls.
 */
#include "compat.h"

#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "store/upload_priv.h"

struct bfs_upload_stream {
	struct bfs_store *s;
	char *key;
	char *upload_id;
	char *note_path; /* the note of the open upload */
	uint64_t part_size;
	uint64_t seq_end; /* the writer's end: every byte below was written */
	bool broken;
	bool logged; /* a failed part was logged */
	struct bfs_part_set parts;
	struct bfs_meta_list begun; /* the metadata the upload began with */
};

static bool is_time(const char *name, bool with_mtime)
{
	return strcasecmp(name, "atime") == 0 ||
	       strcasecmp(name, "ctime") == 0 ||
	       (with_mtime && strcasecmp(name, "mtime") == 0);
}

/* Does the metadata to store differ from what the upload began with? */
static bool meta_changed(const struct bfs_upload_stream *st,
			 const struct bfs_put_req *req)
{
	size_t n = 0;

	if (req->meta == NULL)
		return false;
	for (size_t i = 0; i < req->meta->n; i++) {
		const struct bfs_user_meta *m = &req->meta->items[i];
		const char *was;

		if (is_time(m->name, req->times_implicit))
			continue;
		was = bfs_meta_get(&st->begun, m->name);
		if (was == NULL || strcmp(was, m->value) != 0)
			return true;
		n++;
	}
	return n != st->begun.n;
}

/* Note the open upload for a later start to abort if we die. */
static void write_note(struct bfs_upload_stream *st)
{
	FILE *f = fopen(st->note_path, "we");

	if (f == NULL)
		return;
	fprintf(f, "%s\n%s\n%s\n", st->s->name, st->key, st->upload_id);
	fclose(f);
}

/* A part failed: the stream is lost, the file goes up whole. */
static void part_failed(struct bfs_upload_stream *st, int rc)
{
	st->broken = true;
	if (st->logged)
		return;
	st->logged = true;
	BFS_PCHECK(pthread_mutex_lock(&st->parts.lock));
	bfs_log(LOG_WARNING,
		"%s: part %d of '%s' failed (%s): the file will be uploaded "
		"whole at close",
		st->s->name, st->parts.failed, st->key, strerror(rc));
	BFS_PCHECK(pthread_mutex_unlock(&st->parts.lock));
}

static struct bfs_upload_stream *stream_start(struct bfs_store *s,
					      const struct bfs_upload_conf *c,
					      const struct bfs_put_req *req,
					      int fd, const char *note_path)
{
	struct bfs_put_req begin = {.key = req->key,
				    .content_type = req->content_type};
	struct bfs_upload_stream *st = bfs_xcalloc(1, sizeof(*st));

	if (req->meta) {
		bfs_meta_list_copy(&st->begun, req->meta);
		bfs_meta_remove(&st->begun, "mtime");
		bfs_meta_remove(&st->begun, "ctime");
		bfs_meta_remove(&st->begun, "atime");
	}
	begin.meta = &st->begun;
	st->s = s;
	st->key = bfs_xstrdup(req->key);
	st->part_size = bfs_upload_part_size(0, c->part_size);
	if (s->mpu_begin(s, &begin, &st->upload_id) != 0) {
		bfs_meta_list_release(&st->begun);
		free(st->key);
		free(st);
		return NULL;
	}
	bfs_part_set_init(&st->parts, s, st->key, st->upload_id, fd,
			  c->parallel);
	st->note_path = bfs_xstrdup(note_path);
	write_note(st);
	bfs_dbg(BFS_DBG_FS, "'%s': streaming multipart upload started",
		req->key);
	return st;
}

/* Whether a write of len bytes at off (size after it) begins a stream
 * for a file that has none. */
static bool begins(const struct bfs_store *s, const struct bfs_upload_conf *c,
		   uint64_t off, uint64_t len, uint64_t size)
{
	/* only a file written from its start, in order, past the
	 * threshold is worth a stream */
	return (s->caps & BFS_CAP_MULTIPART) && s->mpu_begin != NULL &&
	       off + len == size && size >= c->threshold &&
	       size <= c->threshold + len;
}

bool bfs_upload_stream_begins(const struct bfs_upload_stream *st,
			      const struct bfs_store *s,
			      const struct bfs_upload_conf *c, uint64_t off,
			      uint64_t len, uint64_t size)
{
	return st == NULL && begins(s, c, off, len, size);
}

void bfs_upload_stream_wrote(struct bfs_upload_stream **sp, struct bfs_store *s,
			     const struct bfs_upload_conf *c,
			     const struct bfs_put_req *req, int fd,
			     uint64_t off, uint64_t len, uint64_t size,
			     const char *note_path)
{
	struct bfs_upload_stream *st = *sp;

	if (st == NULL) {
		if (!begins(s, c, off, len, size))
			return;
		st = stream_start(s, c, req, fd, note_path);
		if (st == NULL)
			return;
		st->seq_end = off + len;
		*sp = st;
	} else if (st->broken) {
		return;
	} else if (off != st->seq_end) {
		st->broken = true;
		return;
	} else {
		st->seq_end = off + len;
	}
	while (!st->broken && st->seq_end >= (uint64_t)(st->parts.nparts + 1) *
						     st->part_size) {
		uint64_t at = (uint64_t)st->parts.nparts * st->part_size;
		int rc;

		/* the last part must fit in the limit too */
		if (st->parts.nparts + 1 >= BFS_UPLOAD_MAX_PARTS) {
			st->broken = true;
			break;
		}
		rc = bfs_part_set_add(&st->parts, (off_t)at,
				      (size_t)st->part_size);
		if (rc != 0)
			part_failed(st, rc);
	}
}

void bfs_upload_stream_break(struct bfs_upload_stream *st)
{
	if (st)
		st->broken = true;
}

/* Wait for the parts in flight and free the stream (not its upload). */
static void stream_free(struct bfs_upload_stream *st)
{
	bfs_part_set_wait(&st->parts);
	bfs_part_set_release(&st->parts);
	if (st->note_path)
		unlink(st->note_path);
	free(st->note_path);
	free(st->upload_id);
	bfs_meta_list_release(&st->begun);
	free(st->key);
	free(st);
}

void bfs_upload_stream_abort(struct bfs_upload_stream **sp)
{
	struct bfs_upload_stream *st = *sp;

	if (st == NULL)
		return;
	bfs_part_set_wait(&st->parts);
	st->s->mpu_abort(st->s, st->key, st->upload_id);
	stream_free(st);
	*sp = NULL;
}

/* The object is complete but began with older metadata: copy it onto
 * itself with the metadata of now, pinned to the version just made. The
 * data is saved either way: a failed copy leaves the old metadata, with
 * a warning, rather than failing the close. */
static void set_meta(struct bfs_upload_stream *st,
		     const struct bfs_put_req *req, char *etag_out)
{
	char etag[BFS_ETAG_MAX] = "";
	int rc;

	rc = st->s->copy(st->s, st->key, st->key, req->meta, etag_out, etag);
	if (rc != 0) {
		bfs_log(LOG_WARNING,
			"%s: '%s' is saved, but its metadata changed while it "
			"was uploaded and cannot be set: %s",
			st->s->name, st->key, strerror(rc));
		return;
	}
	bfs_dbg(BFS_DBG_FS, "'%s': metadata changed while streaming, set",
		st->key);
	if (etag[0])
		snprintf(etag_out, BFS_ETAG_MAX, "%s", etag);
}

int bfs_upload_stream_finish(struct bfs_upload_stream **sp,
			     const struct bfs_put_req *req, char *etag_out,
			     bool *uploaded)
{
	struct bfs_upload_stream *st = *sp;
	uint64_t size = req->size;
	uint64_t done;
	size_t nparts;
	int rc;

	*uploaded = false;
	rc = bfs_part_set_wait(&st->parts);
	if (rc != 0)
		part_failed(st, rc);
	nparts = st->parts.nparts;
	done = (uint64_t)nparts * st->part_size;
	if (st->broken || size != st->seq_end || size < done) {
		bfs_dbg(BFS_DBG_FS,
			"'%s': streamed upload dropped, uploading whole",
			st->key);
		bfs_upload_stream_abort(sp);
		return 0;
	}
	if (size > done || nparts == 0) {
		/* the last part, smaller than the others */
		rc = bfs_part_set_add(&st->parts, (off_t)done,
				      (size_t)(size - done));
		if (rc == 0)
			rc = bfs_part_set_wait(&st->parts);
		if (rc != 0) {
			bfs_upload_stream_abort(sp);
			return 0;
		}
		nparts = st->parts.nparts;
	}
	rc = st->s->mpu_complete(st->s, req, st->upload_id, st->parts.parts,
				 nparts, etag_out);
	*uploaded = true; /* or failed for good: the error is the answer */
	bfs_dbg(BFS_DBG_FS, "'%s': streamed upload of %zu parts %s", st->key,
		nparts, rc == 0 ? "completed" : "failed");
	if (rc != 0)
		st->s->mpu_abort(st->s, st->key, st->upload_id);
	else if (meta_changed(st, req))
		set_meta(st, req, etag_out);
	stream_free(st);
	*sp = NULL;
	return rc;
}
