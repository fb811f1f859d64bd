/*
 * read_reply.c - the answer to a FUSE read: the bytes the block cache
 * left in its block files (store.h, struct bfs_file_parts) go to the
 * kernel with splice(2), or from a mapping of the files when the reply
 * is too large for a pipe; the others from the read's buffer.
 *
 * Without it every byte of a cached block was copied twice in the
 * daemon: pread into a buffer, then writev of that buffer to /dev/fuse
 * (which pins the buffer's pages first). libfuse splices a reply with
 * file buffers through a pipe of its own per thread: the block file's
 * pages are referenced, not copied, and the kernel copies them once
 * into the reader's pages.
 *
 * libfuse sizes that pipe to the whole reply and falls back to reading
 * the files into a buffer of its own when it cannot grow it (beyond
 * /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE). So a reply
 * larger than what the probe at mount found possible is sent from
 * read-only mappings of the parts instead: writev copies the mapped
 * page cache pages, once, as a splice would.
 */
#include "compat.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fs/fs_priv.h"
#include "metrics.h"
#include "util.h"

/* libfuse's estimate of the pipe a reply needs is its length plus a
 * page per buffer and two more: at most 2 * BFS_FILE_PARTS_MAX + 1
 * buffers. */
#define PIPE_SLACK ((2 * BFS_FILE_PARTS_MAX + 4) * 4096)

/* Largest read the kernel sends us (max_pages follows max_write). */
#define READ_MAX (1u << 20)

size_t bfs_read_reply_probe(void)
{
	size_t max = 0;
	uint64_t v = 0;
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return 0;
	if (fcntl(pfd[0], F_SETPIPE_SZ, (int)(READ_MAX + PIPE_SLACK)) >= 0) {
		max = READ_MAX;
		goto out;
	}
	/* no CAP_SYS_RESOURCE: the system's limit for everyone */
	if (bfs_read_u64_file("/proc/sys/fs/pipe-max-size", &v) == 0 &&
	    v > PIPE_SLACK)
		max = (size_t)(v - PIPE_SLACK);
out:
	close(pfd[0]);
	close(pfd[1]);
	return max;
}

/*
 * The answer when the pipe cannot hold it: each part mapped, so that
 * the kernel copies the block file's pages straight into the reply (one
 * copy, as a splice's; pread made two). A part that cannot be mapped is
 * read into buf.
 */
static void reply_mapped(fuse_req_t req, char *buf, size_t got,
			 struct bfs_file_parts *parts)
{
	struct iovec iov[2 * BFS_FILE_PARTS_MAX + 1];
	void *map[BFS_FILE_PARTS_MAX];
	size_t span[BFS_FILE_PARTS_MAX];
	size_t pos = 0, page = (size_t)sysconf(_SC_PAGESIZE), mapped = 0;
	int n = 0, rc = 0;

	for (unsigned i = 0; i < parts->n; i++) {
		const struct bfs_file_part *fp = &parts->v[i];
		uint64_t base = fp->off & ~(uint64_t)(page - 1);
		size_t got_part = 0;

		if (fp->at > pos)
			iov[n++] = (struct iovec){buf + pos, fp->at - pos};
		span[i] = (size_t)(fp->off - base) + fp->len;
		map[i] = mmap(NULL, span[i], PROT_READ,
			      MAP_SHARED | MAP_POPULATE, fp->fd, (off_t)base);
		if (map[i] != MAP_FAILED) {
			iov[n++] = (struct iovec){
				(char *)map[i] + (fp->off - base), fp->len};
			mapped += fp->len;
		} else if (rc == 0) {
			rc = bfs_pread_full(fp->fd, buf + fp->at, fp->len,
					    (off_t)fp->off, &got_part);
			if (rc == 0 && got_part != fp->len)
				rc = EIO;
			iov[n++] = (struct iovec){buf + fp->at, fp->len};
		}
		pos = fp->at + fp->len;
	}
	if (got > pos)
		iov[n++] = (struct iovec){buf + pos, got - pos};
	if (rc != 0) {
		fuse_reply_err(req, rc);
	} else {
		fuse_reply_iov(req, iov, n);
		bfs_metrics_fs_add(BFS_MFS_READ_MAPPED_BYTES, (int64_t)mapped);
	}
	for (unsigned i = 0; i < parts->n; i++)
		if (map[i] != MAP_FAILED)
			munmap(map[i], span[i]);
}

void bfs_read_reply(fuse_req_t req, char *buf, size_t got, size_t splice_max,
		    struct bfs_file_parts *parts)
{
	struct fuse_bufvec *bv;
	size_t pos = 0, spliced = 0;

	if (parts->n == 0) {
		fuse_reply_buf(req, buf, got);
		return;
	}
	if (got > splice_max) {
		reply_mapped(req, buf, got, parts);
		bfs_file_parts_close(parts);
		return;
	}
	/* a part and the bytes before it each, and the bytes after */
	bv = bfs_xcalloc(1, sizeof(*bv) + 2 * BFS_FILE_PARTS_MAX *
						  sizeof(bv->buf[0]));
	for (unsigned i = 0; i < parts->n; i++) {
		const struct bfs_file_part *fp = &parts->v[i];

		if (fp->at > pos)
			bv->buf[bv->count++] = (struct fuse_buf){
				.size = fp->at - pos,
				.mem = (char *)buf + pos,
			};
		bv->buf[bv->count++] = (struct fuse_buf){
			.size = fp->len,
			.flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK,
			.fd = fp->fd,
			.pos = (off_t)fp->off,
		};
		pos = fp->at + fp->len;
		spliced += fp->len;
	}
	if (got > pos)
		bv->buf[bv->count++] = (struct fuse_buf){
			.size = got - pos,
			.mem = (char *)buf + pos,
		};
	fuse_reply_data(req, bv, 0);
	bfs_metrics_fs_add(BFS_MFS_READ_SPLICED_BYTES, (int64_t)spliced);
	bfs_file_parts_close(parts);
	free(bv);
}
