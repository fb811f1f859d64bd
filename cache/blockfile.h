/*
 * blockfile.h - one cached block on disk: a checksummed header that
 * names the block (object, ETag, block number), then the data. The
 * format is drawn at the top of blockfile.c.
 *
 * Invariants:
 * - A file is written completely before the index points at it, and
 *   never changed afterwards; a file whose header or data does not check
 *   out is never served (bfs_blockfile_read() and bfs_blockfile_verify()
 *   say EBADMSG).
 * - bfs_blockfile_open() checks the header only; a caller serves ranges
 *   with bfs_blockfile_pread() only after bfs_blockfile_verify() passed
 *   on that very file, or after bfs_blockfile_write() made it from the
 *   data it checksummed (same identity, struct bfs_blockfile):
 *   blockcache.c remembers which files it verified or wrote.
 * - Integers on disk are little-endian.
 */
#ifndef BFS_CACHE_BLOCKFILE_H
#define BFS_CACHE_BLOCKFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Size of the version-1 header (the data starts right after it). */
#define BFS_BLOCKFILE_HDR_SIZE 160
/* Largest header a reader accepts (later versions may grow it). */
#define BFS_BLOCKFILE_HDR_MAX 4096

/* What a block file must say it holds. */
struct bfs_blockfile_id {
	uint8_t key_hash[32]; /* SHA-256 of bucket NUL key */
	char etag[BFS_ETAG_MAX];
	uint64_t block;
};

/* A decoded header. */
struct bfs_blockfile_hdr {
	unsigned version;
	size_t hdr_size;
	struct bfs_blockfile_id id;
	uint32_t len;	   /* data bytes after the header */
	uint32_t data_crc; /* CRC32C of the data */
};

/* CRC32C (Castagnoli) of buf, continuing from crc (start with 0). */
uint32_t bfs_crc32c(uint32_t crc, const void *buf, size_t len);

/* A block file opened by bfs_blockfile_open(), its header checked. */
struct bfs_blockfile {
	int fd;
	size_t hdr_size;
	uint32_t len;	   /* data bytes after the header */
	uint32_t data_crc; /* CRC32C of the data, from the header */
	/* what identifies this file on disk: an in-place change to it
	 * changes the size or the change time (ctime cannot be set by
	 * callers of utimensat); a file from bfs_blockfile_write() also
	 * changes its mtime on any later write (see there) */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

/*
 * Write a new block file at path (created exclusively, mode 0600) with
 * the header for id and len bytes of data.
 * @param made NULL, or receives the new file's identity (fd -1): its
 *        mtime is set 1 ns before the stamp of its writes, so that any
 *        later write to it changes the mtime, even within the clock tick
 *        it was written in. The data was checksummed from data itself:
 *        a caller may then serve ranges of the file unchecked while its
 *        identity is this one (as after bfs_blockfile_verify()).
 * @return 0, EEXIST, ENOSPC, EIO or another errno of
 *         open/write/futimens; on failure no file is left behind.
 */
int bfs_blockfile_write(const char *path, const struct bfs_blockfile_id *id,
			const void *data, size_t len,
			struct bfs_blockfile *made);

/*
 * Read the block file at path into buf and check it: magic, version,
 * header checksum, that it names id, that it holds want_len bytes, and
 * the data checksum.
 * @param buf at least want_len bytes.
 * @param why what was wrong, for the log, on EBADMSG.
 * @return 0, ENOENT (no file), EBADMSG (damaged or not this block), EIO.
 */
int bfs_blockfile_read(const char *path, const struct bfs_blockfile_id *id,
		       void *buf, size_t want_len, char *why, size_t whylen);

/*
 * Open the block file at path and check its header: magic, version,
 * header checksum, that it names id, that it holds want_len bytes and
 * that the file is exactly that long. The data is not read.
 * @param why what was wrong, for the log, on EBADMSG.
 * @return 0 (bf open: close it), ENOENT (no file), EBADMSG, EIO or
 *         another errno of open/read; on failure nothing is open.
 */
int bfs_blockfile_open(const char *path, const struct bfs_blockfile_id *id,
		       size_t want_len, struct bfs_blockfile *bf, char *why,
		       size_t whylen);

/*
 * Read all bf->len data bytes into buf and check the data checksum.
 * @param buf at least bf->len bytes.
 * @return 0, EBADMSG (checksum mismatch, truncated), EIO.
 */
int bfs_blockfile_verify(const struct bfs_blockfile *bf, void *buf, char *why,
			 size_t whylen);

/*
 * Read data bytes [off, off+len) of bf into buf, unchecked: only for a
 * file whose data bfs_blockfile_verify() checked before.
 * @return 0, EINVAL (past bf->len), EBADMSG (truncated meanwhile), EIO.
 */
int bfs_blockfile_pread(const struct bfs_blockfile *bf, void *buf, size_t len,
			uint64_t off, char *why, size_t whylen);

/* Close bf; a closed or never opened one (fd -1) is fine. */
void bfs_blockfile_close(struct bfs_blockfile *bf);

/*
 * Decode and check a header from the first len bytes of a file (the
 * header checksum, magic, version and sizes; not the data).
 * @return 0, or EBADMSG with the reason in why.
 */
int bfs_blockfile_parse_header(const void *buf, size_t len,
			       struct bfs_blockfile_hdr *out, char *why,
			       size_t whylen);

#endif
