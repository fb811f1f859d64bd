/*
 * blockfile.c - the on-disk format of one cached block (see blockfile.h)
 * and the CRC32C that guards it.
 *
 * A block file, <cache_dir>/blocks/XX/ID.blk, version 1 (little-endian):
 *
 *  offset  size
 *       0     8  magic "BFSBLOCK"
 *       8     2  version (1)
 *      10     2  header size H (160 for version 1; readers accept
 *                160..4096 so later versions can append fields)
 *      12     4  flags: bits 0-3 data checksum algorithm (1 = CRC32C),
 *                the other bits 0
 *      16    32  key hash: SHA-256 of bucket NUL key
 *      48     8  block number (the data is bytes [N*bs, N*bs+len) of
 *                the object)
 *      56     4  data length len
 *      60     4  data checksum: CRC32C of the len data bytes
 *      64    80  ETag of the object version, NUL-padded
 *     144  H-148 reserved, zero
 *     H-4     4  header checksum: CRC32C of header bytes [0, H-4)
 *       H   len  data
 *
 *  +----------+---+---+-----+----------+----+---+---+--------+---+------+
 *  | BFSBLOCK | v | H |flags| key hash | N  |len|crc|  ETag  |res|hcrc  |
 *  +----------+---+---+-----+----------+----+---+---+--------+---+------+
 *  | data (len bytes) ...                                                |
 *  +---------------------------------------------------------------------+
 *
 * The file size must be exactly H + len. A reader checks, in order: the
 * magic, version, header size and checksum, that the header names the
 * block it wanted (key hash, ETag, number), the length the index
 * recorded, and the data checksum. Any mismatch is EBADMSG: the caller
 * drops the block and fetches it again.
 */
#include "compat.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/blockfile.h"
#include "util.h"

#define MAGIC		  "BFSBLOCK"
#define BLOCKFILE_VERSION 1
#define CSUM_CRC32C	  1
#define OFF_VERSION	  8
#define OFF_HDR_SIZE	  10
#define OFF_FLAGS	  12
#define OFF_KEY_HASH	  16
#define OFF_BLOCK	  48
#define OFF_LEN		  56
#define OFF_DATA_CRC	  60
#define OFF_ETAG	  64
#define OFF_RESERVED	  (OFF_ETAG + BFS_ETAG_MAX)
#define HDR_CRC_OFF(h)	  ((h)-4)

_Static_assert(OFF_RESERVED + 4 <= BFS_BLOCKFILE_HDR_SIZE, "header layout");

/* ---- CRC32C ------------------------------------------------------------ */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool have_hw;

static void crc_init(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	have_hw = __builtin_cpu_supports("sse4.2");
#endif
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] =
				(crc_table[t - 1][i] >> 8) ^
				crc_table[0][crc_table[t - 1][i] & 0xff];
}

/* Slicing-by-8: about 1-2 GB/s without special instructions. */
static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= crc;
		crc = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
		      crc_table[5][(w >> 16) & 0xff] ^
		      crc_table[4][(w >> 24) & 0xff] ^
		      crc_table[3][(w >> 32) & 0xff] ^
		      crc_table[2][(w >> 40) & 0xff] ^
		      crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* a*b modulo the CRC32C polynomial, bit-reflected as the register is
 * (x^0 is the top bit) */
static uint32_t crc_multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, prod = 0;

	for (; m; m >>= 1) {
		if (a & m)
			prod ^= b;
		b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
	}
	return prod;
}

/* x^(8n) modulo the polynomial: what n zero bytes do to the register */
static uint32_t crc_zeros(size_t n)
{
	uint32_t sq = 1u << 30, r = 1u << 31; /* x^1, x^0 */

	for (n *= 8; n; n >>= 1) {
		if (n & 1)
			r = crc_multmodp(sq, r);
		sq = crc_multmodp(sq, sq);
	}
	return r;
}

/* Below this a buffer is one lane: joining lanes costs ~1 us. */
#define CRC_LANES_MIN (64u << 10)

/* SSE4.2 has a CRC32C instruction: ~10 GB/s; still a whole 1 MiB block
 * per 4 KiB read was most of the CPU of random reads, so blockcache.c
 * checks a file's data once and then reads ranges. One chain of it
 * waits 3 cycles per 8 bytes while the CPU could start one a cycle, and
 * every fetched block is summed once: a large buffer goes in three
 * lanes at once, joined after (the first shifted over the second's
 * length, then xored with it; the same again with the third). The CRC
 * was 10% of the daemon's CPU in a cold read on RGW behind 20 ms. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	if (len >= CRC_LANES_MIN) {
		size_t lane = (len / 3) & ~(size_t)7;
		const uint8_t *p1 = p + lane, *p2 = p + 2 * lane;
		uint64_t c1 = 0, c2 = 0;
		uint32_t shift;

		for (size_t i = 0; i < lane; i += 8) {
			uint64_t w0, w1, w2;

			memcpy(&w0, p + i, 8);
			memcpy(&w1, p1 + i, 8);
			memcpy(&w2, p2 + i, 8);
			c = __builtin_ia32_crc32di(c, w0);
			c1 = __builtin_ia32_crc32di(c1, w1);
			c2 = __builtin_ia32_crc32di(c2, w2);
		}
		shift = crc_zeros(lane);
		c = crc_multmodp(shift, (uint32_t)c) ^ (uint32_t)c1;
		c = crc_multmodp(shift, (uint32_t)c) ^ (uint32_t)c2;
		p += 3 * lane;
		len -= 3 * lane;
	}
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}
#endif

uint32_t bfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	BFS_PCHECK(pthread_once(&crc_once, crc_init));
	crc = ~crc;
#if defined(__x86_64__) && defined(__GNUC__)
	if (have_hw)
		return ~crc_hw(crc, buf, len);
#endif
	return ~crc_soft(crc, buf, len);
}

/* ---- header -------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void encode(uint8_t *h, const struct bfs_blockfile_id *id,
		   const void *data, size_t len)
{
	size_t elen = strnlen(id->etag, BFS_ETAG_MAX - 1);

	memset(h, 0, BFS_BLOCKFILE_HDR_SIZE);
	memcpy(h, MAGIC, 8);
	put16(h + OFF_VERSION, BLOCKFILE_VERSION);
	put16(h + OFF_HDR_SIZE, BFS_BLOCKFILE_HDR_SIZE);
	put32(h + OFF_FLAGS, CSUM_CRC32C);
	memcpy(h + OFF_KEY_HASH, id->key_hash, 32);
	put64(h + OFF_BLOCK, id->block);
	put32(h + OFF_LEN, (uint32_t)len);
	put32(h + OFF_DATA_CRC, bfs_crc32c(0, data, len));
	memcpy(h + OFF_ETAG, id->etag, elen);
	put32(h + HDR_CRC_OFF(BFS_BLOCKFILE_HDR_SIZE),
	      bfs_crc32c(0, h, HDR_CRC_OFF(BFS_BLOCKFILE_HDR_SIZE)));
}

int bfs_blockfile_parse_header(const void *buf, size_t len,
			       struct bfs_blockfile_hdr *out, char *why,
			       size_t whylen)
{
	const uint8_t *h = buf;
	size_t hs;

	memset(out, 0, sizeof(*out));
	if (len < BFS_BLOCKFILE_HDR_SIZE) {
		snprintf(why, whylen, "file shorter than a header");
		return EBADMSG;
	}
	if (memcmp(h, MAGIC, 8) != 0) {
		snprintf(why, whylen, "bad magic");
		return EBADMSG;
	}
	out->version = get16(h + OFF_VERSION);
	if (out->version != BLOCKFILE_VERSION) {
		snprintf(why, whylen, "unknown version %u", out->version);
		return EBADMSG;
	}
	hs = get16(h + OFF_HDR_SIZE);
	if (hs < BFS_BLOCKFILE_HDR_SIZE || hs > BFS_BLOCKFILE_HDR_MAX ||
	    hs > len) {
		snprintf(why, whylen, "bad header size %zu", hs);
		return EBADMSG;
	}
	if (get32(h + HDR_CRC_OFF(hs)) != bfs_crc32c(0, h, HDR_CRC_OFF(hs))) {
		snprintf(why, whylen, "header checksum mismatch");
		return EBADMSG;
	}
	if ((get32(h + OFF_FLAGS) & 0xf) != CSUM_CRC32C) {
		snprintf(why, whylen, "unknown checksum algorithm");
		return EBADMSG;
	}
	if (memchr(h + OFF_ETAG, '\0', BFS_ETAG_MAX) == NULL) {
		snprintf(why, whylen, "ETag not terminated");
		return EBADMSG;
	}
	out->hdr_size = hs;
	memcpy(out->id.key_hash, h + OFF_KEY_HASH, 32);
	out->id.block = get64(h + OFF_BLOCK);
	memcpy(out->id.etag, h + OFF_ETAG, BFS_ETAG_MAX);
	out->len = get32(h + OFF_LEN);
	out->data_crc = get32(h + OFF_DATA_CRC);
	return 0;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void identify(struct bfs_blockfile *bf, const struct stat *st)
{
	bf->dev = (uint64_t)st->st_dev;
	bf->ino = (uint64_t)st->st_ino;
	bf->size = (uint64_t)st->st_size;
	bf->mtime_ns = ts_ns(&st->st_mtim);
	bf->ctime_ns = ts_ns(&st->st_ctim);
}

/*
 * Give the file just written at fd a modification time 1 ns before the
 * one its writes left, and fill made with its identity. The kernel
 * stamps every later write with the time then, never earlier than the
 * stamp it gave ours (nor than the ctime our futimens gets): so any
 * later write, even within the same clock tick, changes the mtime, and
 * the identity no longer matches (a fresh file's ctime alone would not:
 * a write within its tick keeps it).
 */
static int stamp(int fd, uint32_t len, uint32_t crc, struct bfs_blockfile *made)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}};
	struct stat st;

	if (fstat(fd, &st) != 0)
		return errno;
	ts[1] = st.st_mtim;
	if (ts[1].tv_nsec > 0) {
		ts[1].tv_nsec--;
	} else {
		ts[1].tv_sec--;
		ts[1].tv_nsec = 999999999;
	}
	if (futimens(fd, ts) != 0 || fstat(fd, &st) != 0)
		return errno;
	memset(made, 0, sizeof(*made));
	made->fd = -1;
	made->hdr_size = BFS_BLOCKFILE_HDR_SIZE;
	made->len = len;
	made->data_crc = crc;
	identify(made, &st);
	return 0;
}

int bfs_blockfile_write(const char *path, const struct bfs_blockfile_id *id,
			const void *data, size_t len,
			struct bfs_blockfile *made)
{
	uint8_t h[BFS_BLOCKFILE_HDR_SIZE];
	int fd, rc;

	if (len > UINT32_MAX)
		return EINVAL;
	encode(h, id, data, len);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	rc = bfs_write_all(fd, h, sizeof(h));
	if (rc == 0)
		rc = bfs_write_all(fd, data, len);
	if (rc == 0 && made)
		rc = stamp(fd, (uint32_t)len, get32(h + OFF_DATA_CRC), made);
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	if (rc != 0)
		unlink(path);
	return rc;
}

int bfs_blockfile_open(const char *path, const struct bfs_blockfile_id *id,
		       size_t want_len, struct bfs_blockfile *bf, char *why,
		       size_t whylen)
{
	uint8_t h[BFS_BLOCKFILE_HDR_MAX];
	struct bfs_blockfile_hdr hdr;
	struct stat st;
	size_t got;
	int rc;

	memset(bf, 0, sizeof(*bf));
	bf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (bf->fd < 0)
		return errno;
	if (fstat(bf->fd, &st) != 0) {
		rc = errno;
		goto out;
	}
	identify(bf, &st);
	rc = bfs_pread_full(bf->fd, h, BFS_MIN(sizeof(h), (size_t)st.st_size),
			    0, &got);
	if (rc != 0)
		goto out;
	rc = bfs_blockfile_parse_header(h, got, &hdr, why, whylen);
	if (rc != 0)
		goto out;
	rc = EBADMSG;
	if (memcmp(hdr.id.key_hash, id->key_hash, 32) != 0) {
		snprintf(why, whylen, "holds another object");
		goto out;
	}
	if (strcmp(hdr.id.etag, id->etag) != 0) {
		snprintf(why, whylen, "holds another version");
		goto out;
	}
	if (hdr.id.block != id->block) {
		snprintf(why, whylen, "holds block %llu",
			 (unsigned long long)hdr.id.block);
		goto out;
	}
	if (hdr.len != want_len ||
	    (uint64_t)st.st_size != hdr.hdr_size + (uint64_t)hdr.len) {
		snprintf(why, whylen, "length %llu, expected %zu",
			 (unsigned long long)st.st_size - hdr.hdr_size,
			 want_len);
		goto out;
	}
	bf->hdr_size = hdr.hdr_size;
	bf->len = hdr.len;
	bf->data_crc = hdr.data_crc;
	return 0;
out:
	bfs_blockfile_close(bf);
	return rc;
}

int bfs_blockfile_pread(const struct bfs_blockfile *bf, void *buf, size_t len,
			uint64_t off, char *why, size_t whylen)
{
	size_t got;
	int rc;

	if (off > bf->len || len > bf->len - off)
		return EINVAL;
	rc = bfs_pread_full(bf->fd, buf, len, (off_t)(bf->hdr_size + off),
			    &got);
	if (rc != 0)
		return rc;
	if (got != len) {
		snprintf(why, whylen, "truncated");
		return EBADMSG;
	}
	return 0;
}

int bfs_blockfile_verify(const struct bfs_blockfile *bf, void *buf, char *why,
			 size_t whylen)
{
	int rc = bfs_blockfile_pread(bf, buf, bf->len, 0, why, whylen);

	if (rc != 0)
		return rc;
	if (bfs_crc32c(0, buf, bf->len) != bf->data_crc) {
		snprintf(why, whylen, "data checksum mismatch");
		return EBADMSG;
	}
	return 0;
}

void bfs_blockfile_close(struct bfs_blockfile *bf)
{
	if (bf->fd >= 0)
		close(bf->fd);
	bf->fd = -1;
}

int bfs_blockfile_read(const char *path, const struct bfs_blockfile_id *id,
		       void *buf, size_t want_len, char *why, size_t whylen)
{
	struct bfs_blockfile bf;
	int rc;

	rc = bfs_blockfile_open(path, id, want_len, &bf, why, whylen);
	if (rc != 0)
		return rc;
	rc = bfs_blockfile_verify(&bf, buf, why, whylen);
	bfs_blockfile_close(&bf);
	return rc;
}
