/*
 * interrupt.c - FUSE INTERRUPT for the calls that only read: the kernel
 * sends it when the process blocked in such a call gets a signal (Ctrl-C,
 * a timer), and the call then returns EINTR at once instead of waiting
 * for a stalled server until op_timeout.
 *
 * Each wrapped handler marks its thread as serving an interruptible
 * request (src/cancel.h) and registers libfuse's interrupt callback; the
 * HTTP layer below sees the mark before and during each transfer, drops
 * the transfer and its connection, and the handler replies EINTR like any
 * other error. Only calls that change nothing in the bucket are wrapped:
 * stopping a rename between its copy and its delete, or an upload at
 * close, would leave something half done, so those run to their end (or
 * their op_timeout).
 */
#include "compat.h"

#include <pthread.h>

#include "cancel.h"
#include "fs/fs_priv.h"

static struct fuse_lowlevel_ops plain; /* the handlers wrapped */
static struct fuse_lowlevel_ops wrapped;
static const struct fuse_lowlevel_ops *plain_src;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* libfuse calls this from another worker thread, with the request's
 * lock held; possibly after the request was answered (a stale id). */
static void on_interrupt(fuse_req_t req, void *data)
{
	(void)req;
	bfs_cancel_fire((uint64_t)(uintptr_t)data);
}

/* The request is interruptible from now on, until intr_end(). */
static void intr_begin(fuse_req_t req)
{
	uint64_t id = bfs_cancel_begin();

	fuse_req_interrupt_func(req, on_interrupt, (void *)(uintptr_t)id);
}

/* After the handler replied: req is gone, the id goes stale. */
static void intr_end(void)
{
	bfs_cancel_end();
}

static void w_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	intr_begin(req);
	plain.lookup(req, parent, name);
	intr_end();
}

static void w_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	intr_begin(req);
	plain.getattr(req, ino, fi);
	intr_end();
}

static void w_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/* an open for writing may stage and truncate: not interrupted */
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		plain.open(req, ino, fi);
		return;
	}
	intr_begin(req);
	plain.open(req, ino, fi);
	intr_end();
}

static void w_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	intr_begin(req);
	plain.read(req, ino, size, off, fi);
	intr_end();
}

static void w_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	intr_begin(req);
	plain.opendir(req, ino, fi);
	intr_end();
}

static void w_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	intr_begin(req);
	plain.readdir(req, ino, size, off, fi);
	intr_end();
}

static void w_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	intr_begin(req);
	plain.readdirplus(req, ino, size, off, fi);
	intr_end();
}

static void w_readlink(fuse_req_t req, fuse_ino_t ino)
{
	intr_begin(req);
	plain.readlink(req, ino);
	intr_end();
}

static void w_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		       size_t size)
{
	intr_begin(req);
	plain.getxattr(req, ino, name, size);
	intr_end();
}

static void w_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	intr_begin(req);
	plain.listxattr(req, ino, size);
	intr_end();
}

static void build(void)
{
	plain = *plain_src;
	wrapped = plain;
#define WRAP(op)                                                               \
	do {                                                                   \
		if (plain.op)                                                  \
			wrapped.op = w_##op;                                   \
	} while (0)
	WRAP(lookup);
	WRAP(getattr);
	WRAP(open);
	WRAP(read);
	WRAP(opendir);
	WRAP(readdir);
	WRAP(readdirplus);
	WRAP(readlink);
	WRAP(getxattr);
	WRAP(listxattr);
#undef WRAP
}

const struct fuse_lowlevel_ops *
bfs_fs_interruptible(const struct fuse_lowlevel_ops *ops)
{
	plain_src = ops;
	BFS_PCHECK(pthread_once(&once, build));
	return &wrapped;
}
