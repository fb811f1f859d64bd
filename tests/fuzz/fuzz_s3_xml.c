/*
 * fuzz_s3_xml.c - libFuzzer target: the S3 XML parsers (s3_xml.c), the
 * bodies a hostile or broken server can send. The first input byte
 * chooses the parser, the rest is the body. Every parser must return 0
 * or EIO and never crash or leak; a listing that parses holds only
 * non-empty keys without NUL, as its contract says.
 */
#include "compat.h"

#include "store/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const char *body, size_t len)
{
	struct bfs_list_result res = {0};
	char err[256];

	if (bfs_s3_xml_list(body, len, &res, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < res.nobjs; i++)
			if (!res.objs[i].key || !res.objs[i].key[0])
				abort();
	}
	bfs_list_result_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	struct bfs_s3_xml_error e = {0};
	struct bfs_s3_delete_result d = {0};
	char etag[BFS_ETAG_MAX], err[256];
	struct timespec ts;
	char *s = NULL;
	int rc = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 8) {
	case 0:
		check_list(body, len);
		break;
	case 1:
		rc = bfs_s3_xml_error(body, len, &e, err, sizeof(err));
		bfs_s3_xml_error_release(&e);
		break;
	case 2:
		rc = bfs_s3_xml_upload_id(body, len, &s, err, sizeof(err));
		break;
	case 3:
		rc = bfs_s3_xml_etag(body, len, "CopyObjectResult", etag, err,
				     sizeof(err));
		if (rc == 0 && !memchr(etag, '\0', sizeof(etag)))
			abort();
		break;
	case 4:
		rc = bfs_s3_xml_delete_result(body, len, &d, err, sizeof(err));
		bfs_s3_delete_result_release(&d);
		break;
	case 5:
		(void)bfs_s3_xml_is_error(body, len);
		break;
	case 6:
		s = bfs_s3_url_decode(body, len, data[0] & 8);
		if (s && strlen(s) > len)
			abort();
		break;
	default: {
		char *z = bfs_xmalloc(len + 1);

		memcpy(z, body, len);
		z[len] = '\0';
		(void)bfs_s3_parse_iso8601(z, &ts);
		free(z);
		break;
	}
	}
	if (rc != 0 && rc != EIO)
		abort();
	free(s);
	return 0;
}
