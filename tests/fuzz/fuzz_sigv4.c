/*
 * fuzz_sigv4.c - libFuzzer target: SigV4 canonicalisation (sigv4.c).
 * The input is split at NULs into method, path, query and header
 * name/value pairs; the request is canonicalised and signed with fixed
 * keys and a fixed clock. Either it is refused with EINVAL, or the
 * canonical request starts with the method and signs the host header,
 * and the signature is 64 hex digits. The S3 percent-encoding of the
 * path must use only unreserved bytes and %XX.
 */
#include "compat.h"

#include <ctype.h>

#include "store/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 8

static bool encoded_ok(const char *s)
{
	for (; *s; s++) {
		if (*s == '%') {
			if (!isxdigit((unsigned char)s[1]) ||
			    !isxdigit((unsigned char)s[2]))
				return false;
			s += 2;
		} else if (!isalnum((unsigned char)*s) &&
			   !strchr("-_.~/", *s)) {
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bfs_sigv4_header h[MAX_HEADERS + 1];
	const struct bfs_sigv4_creds creds = {"AKIDEXAMPLE", "SECRET", NULL};
	char sig[BFS_SIGV4_HEX_LEN], auth[BFS_SIGV4_AUTH_MAX];
	char *buf = bfs_xmalloc(size + 1), *f[3 + 2 * MAX_HEADERS];
	char *creq = NULL, *signed_h = NULL, *enc;
	size_t nf = 0, nh = 0;
	int rc;

	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; nf < BFS_ARRAY_SIZE(f) && p <= buf + size;
	     p += strlen(p) + 1)
		f[nf++] = p;
	h[nh++] = (struct bfs_sigv4_header){"host", "bucket.example.com"};
	for (size_t i = 3; i + 1 < nf && nh < BFS_ARRAY_SIZE(h); i += 2)
		h[nh++] = (struct bfs_sigv4_header){f[i], f[i + 1]};
	struct bfs_sigv4_req req = {
		.method = nf > 0 ? f[0] : "GET",
		.path = nf > 1 ? f[1] : "/",
		.query = nf > 2 ? f[2] : NULL,
		.headers = h,
		.nheaders = nh,
		.payload_hash = "UNSIGNED-PAYLOAD",
		.region = "us-east-1",
		.service = "s3",
		.now = 1440938160,
		.normalize_path = size > 0 && (data[size - 1] & 1),
	};

	rc = bfs_sigv4_canonical_request(&req, &creq, &signed_h);
	if (rc == 0) {
		if (strncmp(creq, req.method, strlen(req.method)) != 0 ||
		    !strstr(signed_h, "host"))
			abort();
	} else if (rc != EINVAL) {
		abort();
	}
	rc = bfs_sigv4_sign(&req, &creds, auth, sig);
	if (rc == 0 && strlen(sig) != 64)
		abort();
	if (rc != 0 && rc != EINVAL && rc != ENAMETOOLONG)
		abort();
	enc = bfs_sigv4_uri_encode(req.path, true);
	if (!encoded_ok(enc))
		abort();
	free(enc);
	free(creq);
	free(signed_h);
	free(buf);
	return 0;
}
