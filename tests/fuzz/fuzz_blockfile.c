/*
 * fuzz_blockfile.c - libFuzzer target: the block file header
 * (cache/blockfile.c). The first input byte chooses what to repair
 * before parsing, so that the fuzzer gets past the checks random bytes
 * never pass: bit 0 writes the magic and version, bit 1 the checksum
 * algorithm, bit 2 the header checksum (the layout is the one
 * blockfile.c's comment draws). A header that parses must say what the
 * format allows; one that does not must be EBADMSG with a reason.
 */
#include "compat.h"

#include "cache/blockfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bfs_blockfile_hdr hdr;
	char why[128] = "";
	uint8_t *b;
	size_t n, h;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1;
	b = bfs_xmalloc(n + 1);
	memcpy(b, data + 1, n);
	if (n >= BFS_BLOCKFILE_HDR_SIZE) {
		if (data[0] & 1) {
			memcpy(b, "BFSBLOCK", 8);
			put16(b + 8, 1);
		}
		if (data[0] & 2)
			put32(b + 12, 1);
		h = (size_t)b[10] | (size_t)b[11] << 8;
		if ((data[0] & 4) && h >= BFS_BLOCKFILE_HDR_SIZE && h <= n)
			put32(b + h - 4, bfs_crc32c(0, b, h - 4));
	}
	rc = bfs_blockfile_parse_header(b, n, &hdr, why, sizeof(why));
	if (rc == 0) {
		if (hdr.version != 1 || hdr.hdr_size < BFS_BLOCKFILE_HDR_SIZE ||
		    hdr.hdr_size > BFS_BLOCKFILE_HDR_MAX || hdr.hdr_size > n ||
		    !memchr(hdr.id.etag, '\0', sizeof(hdr.id.etag)))
			abort();
	} else if (rc != EBADMSG || why[0] == '\0') {
		abort();
	}
	free(b);
	return 0;
}
