/*
 * parquet.h - the column chunks of a Parquet file, read from its footer
 * (the Thrift compact encoding of FileMetaData), for the prefetcher's
 * plan: a reader that starts a column chunk will read it whole, and a
 * reader of one column in one row group will read that column in the
 * next ones (a projection), so those byte ranges are worth fetching
 * ahead (prefetch.h).
 *
 * Invariants:
 * - Only a hint: any footer that does not parse (not Parquet, damaged,
 *   a field of an unexpected type, nesting deeper than 32, more than
 *   BFS_PARQUET_CHUNKS_MAX chunks) yields EINVAL and no plan; a read
 *   never depends on it. Unknown fields are skipped.
 * - Chunks are sorted by start; each is [start, end) of the file, where
 *   start is the lower of its dictionary and data page offsets and end
 *   is start + total_compressed_size. A chunk that reaches past the
 *   file, is empty or overlaps the previous one makes the footer bad.
 */
#ifndef BFS_CACHE_PARQUET_H
#define BFS_CACHE_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#define BFS_PARQUET_CHUNKS_MAX 65536
/* The last 8 bytes of a Parquet file: the footer's length (4 bytes,
 * little endian) and the magic. */
#define BFS_PARQUET_TAIL 8

struct bfs_parquet_chunk {
	uint64_t start, end;
	uint32_t row_group;
	uint32_t column;
};

/*
 * The footer's length from the last BFS_PARQUET_TAIL bytes of a file.
 * @return 0 (*len set), or EINVAL (no Parquet magic).
 */
int bfs_parquet_footer_len(const uint8_t tail[BFS_PARQUET_TAIL], uint32_t *len);

/*
 * Parse a footer (FileMetaData, without the 8-byte tail) of a file of
 * file_size bytes.
 * @param out receives a sorted array the caller frees; *n its length.
 * @return 0, or EINVAL (see above).
 */
int bfs_parquet_chunks(const uint8_t *footer, size_t len, uint64_t file_size,
		       struct bfs_parquet_chunk **out, size_t *n);

/* The index of the chunk holding off, or -1. */
long bfs_parquet_find(const struct bfs_parquet_chunk *c, size_t n,
		      uint64_t off);

/* The index of the first chunk that starts in [lo, hi), or -1. */
long bfs_parquet_starting(const struct bfs_parquet_chunk *c, size_t n,
			  uint64_t lo, uint64_t hi);

#endif
