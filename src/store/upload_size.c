/*
 * upload_size.c - how an object goes up: single put or multipart, and
 * the size and count of its parts (see upload.h). The rules: at most
 * BFS_UPLOAD_MAX_PARTS parts (S3), every part but the last of one size
 * (R2), parts in whole MiB.
 */
#include "compat.h"

#include "store/upload.h"

#define MIB (1024ull * 1024ull)

uint64_t bfs_upload_part_size(uint64_t size, uint64_t want)
{
	uint64_t need =
		(size + BFS_UPLOAD_MAX_PARTS - 1) / BFS_UPLOAD_MAX_PARTS;
	uint64_t ps = BFS_MAX(want, need);

	return (ps + MIB - 1) / MIB * MIB;
}

void bfs_upload_plan(const struct bfs_store *s, const struct bfs_upload_conf *c,
		     uint64_t size, struct bfs_upload_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (!(s->caps & BFS_CAP_MULTIPART) || s->mpu_begin == NULL ||
	    size == 0 || size < c->threshold)
		return;
	out->multipart = true;
	out->part_size = bfs_upload_part_size(size, c->part_size);
	out->nparts = (size_t)((size + out->part_size - 1) / out->part_size);
}
