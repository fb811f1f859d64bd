/*
 * test_meta_upload.c - the write path builds a file's metadata only for
 * the write that begins a streamed upload (issue 15, a hot path):
 * bfs_upload_feed_starts says which write that is, and a stream begun
 * with the metadata given to that write alone needs no copy onto itself
 * at close. Over the mem store, under the slow layer that counts calls.
 */
#include "compat.h"

#include <unistd.h>

#include "store/mem.h"
#include "store/slow.h"
#include "store/upload.h"
#include "tests/unit/tap.h"

#define MIB (1024u * 1024u)

static const struct bfs_upload_conf UCONF = {
	.threshold = 5 * MIB, .part_size = 5 * MIB, .parallel = 2};

/* A temporary file of size bytes of a pattern. */
static int make_file(size_t size)
{
	char path[] = "/tmp/bfs-meta-upload-XXXXXX";
	char *buf = bfs_xmalloc(size);
	int fd = mkstemp(path);

	if (fd < 0)
		BFS_BUG("mkstemp: %s", strerror(errno));
	unlink(path);
	for (size_t i = 0; i < size; i++)
		buf[i] = (char)(i * 7 + 3);
	if (pwrite(fd, buf, size, 0) != (ssize_t)size)
		BFS_BUG("pwrite");
	free(buf);
	return fd;
}

/*
 * Feed size bytes as writes of chunk bytes in order, giving the
 * metadata only to the writes that bfs_upload_feed_starts names.
 * @return how many it named; *begun the mpu_begin calls that followed a
 * write it named, *others those that followed one it did not.
 */
static unsigned feed(struct bfs_store *s, struct bfs_upload_feed **f,
		     const struct bfs_meta_list *meta, int fd, uint64_t size,
		     uint64_t chunk, unsigned *begun, unsigned *others)
{
	unsigned named = 0;

	*begun = *others = 0;
	for (uint64_t off = 0; off < size;) {
		uint64_t n = BFS_MIN(chunk, size - off);
		struct bfs_put_req req = {.key = "obj", .fd = fd};
		unsigned before = bfs_slow_count(s, "mpu_begin", "");
		bool starts;

		starts = bfs_upload_feed_starts(*f, s, &UCONF, off, n, off + n);
		if (starts) {
			named++;
			req.meta = meta;
		}
		bfs_upload_feed_wrote(f, s, &UCONF, &req, fd, off, n, off + n,
				      "/nonexistent/note");
		if (bfs_slow_count(s, "mpu_begin", "") > before)
			*(starts ? begun : others) += 1;
		off += n;
	}
	return named;
}

int main(void)
{
	struct bfs_store *s = bfs_slow_create(bfs_mem_create("mem"));
	struct bfs_meta_list meta = {0};
	struct bfs_upload_feed *f = NULL;
	struct bfs_obj_info info = {0};
	struct bfs_put_req req;
	uint64_t size = 12 * MIB + 5;
	unsigned named, begun, others;
	char etag[BFS_ETAG_MAX];
	const char *mode;
	int fd = make_file(size), rc;

	bfs_meta_set(&meta, "mode", "33188");
	bfs_meta_set(&meta, "uid", "1000");

	named = feed(s, &f, &meta, fd, size, MIB, &begun, &others);
	tap_ok(named == 1 && begun == 1 && others == 0,
	       "in order: one write is named the stream's start, and the "
	       "stream begins there (named %u, begun %u, elsewhere %u)",
	       named, begun, others);
	req = (struct bfs_put_req){
		.key = "obj", .fd = fd, .size = size, .meta = &meta};
	bfs_slow_forget(s);
	rc = bfs_upload_file(s, &UCONF, &req, &f, etag);
	tap_ok(rc == 0 && bfs_slow_count(s, "mpu_complete", "obj") == 1,
	       "the stream completes the upload (%s)", strerror(rc));
	tap_ok(bfs_slow_count(s, "copy", "obj") == 0,
	       "no copy onto itself: the stream began with the metadata");
	rc = s->head(s, "obj", &info);
	mode = rc == 0 ? bfs_meta_get(&info.meta, "mode") : NULL;
	tap_ok(mode && strcmp(mode, "33188") == 0 && info.size == size,
	       "the object has the file's size and mode (%s)",
	       mode ? mode : "none");
	bfs_obj_info_release(&info);

	named = feed(s, &f, &meta, fd, 3 * MIB, MIB, &begun, &others);
	tap_ok(named == 0 && others == 0,
	       "below the threshold: no write named, no stream");
	bfs_upload_feed_abort(&f);

	bfs_meta_list_release(&meta);
	close(fd);
	s->destroy(s);
	return tap_done();
}
