/*
 * ice_avro.h - the framing of an Avro object container file, read by us
 * so that every codec the Avro specification allows works, and so that
 * the file's key/value metadata (Iceberg puts the partition spec and the
 * schema there) is available.
 *
 * avro-c decodes records but knows only null, deflate, snappy and lzma
 * (and only those it was built with); Iceberg writers use zstd by
 * default. So a container is rewritten once, in memory, into the same
 * container with codec "null": every block decompressed, the header and
 * the sync marker kept. avro-c then reads that.
 *
 * Layout (Avro 1.11 spec, "Object Container Files"):
 *   "Obj" 0x01 | metadata: map<bytes> | sync: 16 bytes
 *   then blocks: count: long | size: long | data[size] | sync
 * longs are zig-zag varints; a map is blocks of entries ending with a
 * zero count (a negative count is followed by the block's byte size).
 */
#ifndef BFS_CATALOG_ICE_AVRO_H
#define BFS_CATALOG_ICE_AVRO_H

#include <stddef.h>

/* One entry of the container's metadata; value is NUL-terminated too. */
struct bfs_ice_avro_kv {
	char *key;
	char *value;
	size_t len;
};

struct bfs_ice_avro_meta {
	struct bfs_ice_avro_kv *kv;
	size_t n;
	char codec[32]; /* as written; "null" when absent */
};

/*
 * Rewrite the container in buf (named key, for messages) with codec
 * "null", decoding blocks coded with null, deflate, snappy, zstandard,
 * bzip2 or xz.
 * @param max upper bound of the decoded size
 * @param out receives the rewritten container (malloc'd), *outlen its size
 * @param meta receives the header metadata (release with
 *        bfs_ice_avro_meta_release()); may be NULL
 * @return 0, or EIO with err saying why (bad framing, an unknown codec
 *         named, a block that does not decode, over max).
 */
int bfs_ice_avro_plain(const char *key, const char *buf, size_t len, size_t max,
		       char **out, size_t *outlen,
		       struct bfs_ice_avro_meta *meta, char *err,
		       size_t errlen);

/* The value of metadata key name, or NULL. */
const char *bfs_ice_avro_meta_get(const struct bfs_ice_avro_meta *meta,
				  const char *name);

void bfs_ice_avro_meta_release(struct bfs_ice_avro_meta *meta);

#endif
