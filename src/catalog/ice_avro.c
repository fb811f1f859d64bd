/*
 * ice_avro.c - Avro container framing and block codecs (see ice_avro.h):
 * deflate with zlib, snappy with libsnappy, zstandard with libzstd,
 * bzip2 with libbz2, xz with liblzma. Every decoder writes into one
 * buffer bounded by the caller's max, so a small file cannot expand
 * into unbounded memory.
 */
#include "compat.h"

#include <bzlib.h>
#include <lzma.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "catalog/ice_avro.h"

/* A growable output buffer with an upper bound. */
struct obuf {
	char *p;
	size_t len, cap, max;
};

static int ob_reserve(struct obuf *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 4096;

	if (more > o->max || o->len > o->max - more)
		return EFBIG;
	while (cap < o->len + more)
		cap *= 2;
	if (cap != o->cap) {
		o->p = bfs_xrealloc(o->p, cap);
		o->cap = cap;
	}
	return 0;
}

static int ob_put(struct obuf *o, const void *p, size_t n)
{
	int rc = ob_reserve(o, n);

	if (rc == 0 && n > 0) {
		memcpy(o->p + o->len, p, n);
		o->len += n;
	}
	return rc;
}

static int ob_long(struct obuf *o, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = z & 0x7f;
		z >>= 7;
		if (z)
			b[n] |= 0x80;
		n++;
	} while (z);
	return ob_put(o, b, n);
}

static int ob_bytes(struct obuf *o, const void *p, size_t n)
{
	int rc = ob_long(o, (int64_t)n);

	return rc ? rc : ob_put(o, p, n);
}

/* A reader over the input. */
struct in {
	const unsigned char *p;
	size_t len, off;
};

static bool in_long(struct in *r, int64_t *v)
{
	uint64_t z = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		unsigned char b;

		if (r->off >= r->len)
			return false;
		b = r->p[r->off++];
		z |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
			return true;
		}
	}
	return false;
}

/* A length-prefixed byte string; *p points into the input. */
static bool in_bytes(struct in *r, const unsigned char **p, size_t *n)
{
	int64_t l;

	if (!in_long(r, &l) || l < 0 || (uint64_t)l > r->len - r->off)
		return false;
	*p = r->p + r->off;
	*n = (size_t)l;
	r->off += (size_t)l;
	return true;
}

/* ---- codecs: each appends the decoded block to o ---- */

static int dec_deflate(const unsigned char *in, size_t n, struct obuf *o)
{
	z_stream z = {0};
	int zr = Z_OK, rc = 0;

	if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
		return EIO;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	while (zr == Z_OK) {
		rc = ob_reserve(o, 64 << 10);
		if (rc != 0)
			break;
		z.next_out = (Bytef *)o->p + o->len;
		z.avail_out = (uInt)(o->cap - o->len);
		zr = inflate(&z, Z_NO_FLUSH);
		o->len = o->cap - z.avail_out;
		if (zr == Z_BUF_ERROR && z.avail_in == 0)
			break;
		if (zr == Z_BUF_ERROR)
			zr = Z_OK; /* out of room: grow and go on */
	}
	inflateEnd(&z);
	if (rc == 0 && zr != Z_STREAM_END)
		rc = EIO;
	return rc;
}

/* snappy: the block, then a big-endian CRC-32 of the decoded bytes */
static int dec_snappy(const unsigned char *in, size_t n, struct obuf *o)
{
	size_t ulen;
	uint32_t crc;
	int rc;

	if (n < 4 || snappy_uncompressed_length((const char *)in, n - 4,
						&ulen) != SNAPPY_OK)
		return EIO;
	rc = ob_reserve(o, ulen);
	if (rc != 0)
		return rc;
	if (snappy_uncompress((const char *)in, n - 4, o->p + o->len, &ulen) !=
	    SNAPPY_OK)
		return EIO;
	crc = (uint32_t)in[n - 4] << 24 | (uint32_t)in[n - 3] << 16 |
	      (uint32_t)in[n - 2] << 8 | in[n - 1];
	if (crc32(0L, (const Bytef *)o->p + o->len, (uInt)ulen) != crc)
		return EIO;
	o->len += ulen;
	return 0;
}

static int dec_zstd(const unsigned char *in, size_t n, struct obuf *o)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer ib = {in, n, 0};
	size_t zr = 1;
	int rc = 0;

	if (z == NULL)
		return ENOMEM;
	/* until the input is used up and the last frame is complete */
	while (ib.pos < ib.size || zr != 0) {
		ZSTD_outBuffer ob;
		size_t before = ib.pos;

		rc = ob_reserve(o, 64 << 10);
		if (rc != 0)
			break;
		ob.dst = o->p + o->len;
		ob.size = o->cap - o->len;
		ob.pos = 0;
		zr = ZSTD_decompressStream(z, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(zr) ||
		    (ob.pos == 0 && ib.pos == before && ob.pos < ob.size)) {
			rc = EIO; /* an error, or a truncated frame */
			break;
		}
	}
	ZSTD_freeDStream(z);
	return rc;
}

static int dec_bzip2(const unsigned char *in, size_t n, struct obuf *o)
{
	bz_stream b = {0};
	int br = BZ_OK, rc = 0;

	if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
		return EIO;
	b.next_in = (char *)in;
	b.avail_in = (unsigned)n;
	while (br == BZ_OK) {
		unsigned before;

		rc = ob_reserve(o, 64 << 10);
		if (rc != 0)
			break;
		b.next_out = o->p + o->len;
		b.avail_out = before =
			(unsigned)BFS_MIN(o->cap - o->len, (size_t)UINT_MAX);
		br = BZ2_bzDecompress(&b);
		o->len += before - b.avail_out;
		if (br == BZ_OK && b.avail_in == 0 && b.avail_out == before)
			break; /* truncated: no progress possible */
	}
	BZ2_bzDecompressEnd(&b);
	if (rc == 0 && br != BZ_STREAM_END)
		rc = EIO;
	return rc;
}

static int dec_xz(const unsigned char *in, size_t n, struct obuf *o)
{
	lzma_stream x = LZMA_STREAM_INIT;
	lzma_ret xr = LZMA_OK;
	int rc = 0;

	if (lzma_stream_decoder(&x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return EIO;
	x.next_in = in;
	x.avail_in = n;
	while (xr == LZMA_OK) {
		size_t before;

		rc = ob_reserve(o, 64 << 10);
		if (rc != 0)
			break;
		x.next_out = (uint8_t *)o->p + o->len;
		x.avail_out = before = o->cap - o->len;
		xr = lzma_code(&x, x.avail_in ? LZMA_RUN : LZMA_FINISH);
		o->len += before - x.avail_out;
	}
	lzma_end(&x);
	if (rc == 0 && xr != LZMA_STREAM_END)
		rc = EIO;
	return rc;
}

typedef int (*dec_fn)(const unsigned char *in, size_t n, struct obuf *o);

static int dec_null(const unsigned char *in, size_t n, struct obuf *o)
{
	return ob_put(o, in, n);
}

static const struct {
	const char *name;
	dec_fn fn;
} codecs[] = {
	{"null", dec_null},	{"deflate", dec_deflate},
	{"snappy", dec_snappy}, {"zstandard", dec_zstd},
	{"bzip2", dec_bzip2},	{"xz", dec_xz},
};

/* ---- the container ---- */

static void add_kv(struct bfs_ice_avro_meta *m, const unsigned char *k,
		   size_t kn, const unsigned char *v, size_t vn)
{
	struct bfs_ice_avro_kv *e;

	m->kv = bfs_xrealloc(m->kv, (m->n + 1) * sizeof(*m->kv));
	e = &m->kv[m->n++];
	e->key = bfs_xstrndup((const char *)k, kn);
	e->value = bfs_xmalloc(vn + 1);
	memcpy(e->value, v, vn);
	e->value[vn] = '\0';
	e->len = vn;
}

int bfs_ice_avro_plain(const char *key, const char *buf, size_t len, size_t max,
		       char **out, size_t *outlen,
		       struct bfs_ice_avro_meta *meta, char *err, size_t errlen)
{
	struct bfs_ice_avro_meta m = {.codec = "null"};
	struct in r = {(const unsigned char *)buf, len, 4};
	struct obuf o = {.max = max};
	const unsigned char *sync;
	dec_fn dec = NULL;
	int64_t count;
	int rc = 0;

	*out = NULL;
	if (len < 4 || memcmp(buf, "Obj\x01", 4) != 0) {
		snprintf(err, errlen, "'%s' is not an Avro file (bad magic)",
			 key);
		return EIO;
	}
	/* the metadata map, re-emitted as one block with codec "null" */
	while (in_long(&r, &count) && count != 0) {
		int64_t bytes;

		if (count < 0) {
			count = -count;
			if (!in_long(&r, &bytes))
				goto bad;
		}
		for (int64_t i = 0; i < count; i++) {
			const unsigned char *k, *v;
			size_t kn, vn;

			if (!in_bytes(&r, &k, &kn) || !in_bytes(&r, &v, &vn))
				goto bad;
			if (kn == 10 && memcmp(k, "avro.codec", 10) == 0)
				snprintf(m.codec, sizeof(m.codec), "%.*s",
					 (int)BFS_MIN(vn, sizeof(m.codec) - 1),
					 (const char *)v);
			else
				add_kv(&m, k, kn, v, vn);
		}
	}
	if (r.off > r.len || r.len - r.off < 16)
		goto bad;
	sync = r.p + r.off;
	r.off += 16;
	for (size_t i = 0; i < BFS_ARRAY_SIZE(codecs); i++)
		if (strcmp(m.codec, codecs[i].name) == 0)
			dec = codecs[i].fn;
	if (dec == NULL) {
		snprintf(err, errlen,
			 "'%s': unknown Avro codec '%s' (known: null, "
			 "deflate, snappy, zstandard, bzip2, xz)",
			 key, m.codec);
		rc = EIO;
		goto out;
	}
	rc = ob_put(&o, "Obj\x01", 4);
	if (rc == 0)
		rc = ob_long(&o, (int64_t)m.n + 1);
	for (size_t i = 0; rc == 0 && i < m.n; i++) {
		rc = ob_bytes(&o, m.kv[i].key, strlen(m.kv[i].key));
		if (rc == 0)
			rc = ob_bytes(&o, m.kv[i].value, m.kv[i].len);
	}
	if (rc == 0)
		rc = ob_bytes(&o, "avro.codec", 10);
	if (rc == 0)
		rc = ob_bytes(&o, "null", 4);
	if (rc == 0)
		rc = ob_long(&o, 0);
	if (rc == 0)
		rc = ob_put(&o, sync, 16);
	while (rc == 0 && r.off < r.len) {
		const unsigned char *data;
		size_t n, at;
		int64_t objects;

		if (!in_long(&r, &objects) || objects < 0 ||
		    !in_bytes(&r, &data, &n) || r.len - r.off < 16 ||
		    memcmp(r.p + r.off, sync, 16) != 0)
			goto bad;
		r.off += 16;
		rc = ob_long(&o, objects);
		if (rc != 0)
			break;
		/* the size goes before the data: decode behind a gap */
		at = o.len;
		rc = ob_reserve(&o, 10);
		if (rc != 0)
			break;
		o.len += 10;
		rc = dec(data, n, &o);
		if (rc == EIO) {
			snprintf(err, errlen,
				 "'%s': a block does not decode as %s", key,
				 m.codec);
			goto out;
		}
		if (rc == 0) {
			size_t dlen = o.len - at - 10;
			struct obuf hdr = {.max = 10};

			ob_long(&hdr, (int64_t)dlen);
			memmove(o.p + at + hdr.len, o.p + at + 10, dlen);
			memcpy(o.p + at, hdr.p, hdr.len);
			o.len = at + hdr.len + dlen;
			free(hdr.p);
			rc = ob_put(&o, sync, 16);
		}
	}
	if (rc == EFBIG) {
		snprintf(err, errlen, "'%s' decodes to more than %zu bytes",
			 key, max);
		rc = EIO;
	} else if (rc != 0) {
		snprintf(err, errlen, "'%s': %s", key, strerror(rc));
	}
	goto out;
bad:
	snprintf(err, errlen, "'%s': bad Avro container framing", key);
	rc = EIO;
out:
	if (rc == 0) {
		*out = o.p;
		*outlen = o.len;
	} else {
		free(o.p);
	}
	if (rc == 0 && meta)
		*meta = m;
	else
		bfs_ice_avro_meta_release(&m);
	return rc;
}

const char *bfs_ice_avro_meta_get(const struct bfs_ice_avro_meta *meta,
				  const char *name)
{
	for (size_t i = 0; i < meta->n; i++)
		if (strcmp(meta->kv[i].key, name) == 0)
			return meta->kv[i].value;
	return NULL;
}

void bfs_ice_avro_meta_release(struct bfs_ice_avro_meta *meta)
{
	for (size_t i = 0; i < meta->n; i++) {
		free(meta->kv[i].key);
		free(meta->kv[i].value);
	}
	free(meta->kv);
	memset(meta, 0, sizeof(*meta));
}
