/*
 * test_s3_xml.c - the S3 XML parsers against canned bodies: good ones,
 * url-encoded keys (RGW and AWS forms), raw keys from servers that
 * ignore encoding-type, truncated, garbage, hostile and huge bodies.
 */
#include "compat.h"

#include "store/s3_xml.h"
#include "tap.h"

#define HDR "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define NS  " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

enum kind { LIST, ERROR, UPLOAD, COMPLETE, COPY, DELETE };

struct xcase {
	const char *name;
	enum kind kind;
	const char *body;
	int rc;		    /* expected return */
	const char *check;  /* expected summary, see summarize() */
	const char *errsub; /* expected substring of the error message */
};

static const struct xcase cases[] = {
	{"list: two objects and a prefix", LIST,
	 HDR "<ListBucketResult" NS "><Name>b</Name><Prefix></Prefix>"
	     "<KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>"
	     "<IsTruncated>false</IsTruncated>"
	     "<Contents><Key>a.txt</Key>"
	     "<LastModified>2024-01-02T03:04:05.678Z</LastModified>"
	     "<ETag>&quot;0123abcd&quot;</ETag><Size>12</Size>"
	     "<StorageClass>STANDARD</StorageClass></Contents>"
	     "<Contents><Key>b/c</Key>"
	     "<LastModified>2024-01-02T03:04:06Z</LastModified>"
	     "<ETag>\"ff-2\"</ETag><Size>0</Size></Contents>"
	     "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"
	     "</ListBucketResult>",
	 0,
	 "objs=2 [a.txt 12 0123abcd 1704164645.678000000] "
	 "[b/c 0 ff-2 1704164646.000000000] prefixes=1 [d/] token=-",
	 NULL},
	{"list: RGW url-encoded key with space + % ? # = / and UTF-8", LIST,
	 HDR "<ListBucketResult" NS "><EncodingType>url</EncodingType>"
	     "<IsTruncated>false</IsTruncated><Contents>"
	     "<Key>a%20b%2Bc%25d%3Fe%23f%3Dg%2F%C3%BC</Key>"
	     "<LastModified>2026-11-24T08:27:22.798Z</LastModified>"
	     "<ETag>&quot;764e&quot;</ETag><Size>3</Size></Contents>"
	     "<CommonPrefixes><Prefix>p%20q%2F</Prefix></CommonPrefixes>"
	     "</ListBucketResult>",
	 0,
	 "objs=1 [a b+c%d?e#f=g/\xc3\xbc 3 764e 1795508842.798000000] "
	 "prefixes=1 [p q/] token=-",
	 NULL},
	{"list: AWS url-encoding writes a space as +", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>false</IsTruncated>"
	     "<Contents><Key>x+y%2Bz</Key><Size>1</Size></Contents>"
	     "<EncodingType>url</EncodingType></ListBucketResult>",
	 0, "objs=1 [x y+z 1  0.000000000] prefixes=0 token=-", NULL},
	{"list: no EncodingType (s3rver) keeps keys raw", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>false</IsTruncated>"
	     "<Contents><Key>a+b%20c</Key><Size>1</Size></Contents>"
	     "</ListBucketResult>",
	 0, "objs=1 [a+b%20c 1  0.000000000] prefixes=0 token=-", NULL},
	{"list: truncated page carries its token", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>true</IsTruncated>"
	     "<Contents><Key>k1</Key><Size>5</Size></Contents>"
	     "<NextContinuationToken>1/abc==</NextContinuationToken>"
	     "</ListBucketResult>",
	 0, "objs=1 [k1 5  0.000000000] prefixes=0 token=1/abc==", NULL},
	{"list: empty bucket", LIST,
	 HDR "<ListBucketResult" NS "><Name>b</Name>"
	     "<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
	     "</ListBucketResult>",
	 0, "objs=0 prefixes=0 token=-", NULL},
	{"list: namespace prefix on elements", LIST,
	 "<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/"
	 "2006-03-01/\"><s3:Contents><s3:Key>k</s3:Key><s3:Size>2</s3:Size>"
	 "</s3:Contents></s3:ListBucketResult>",
	 0, "objs=1 [k 2  0.000000000] prefixes=0 token=-", NULL},
	{"list: truncated v1 page: the marker is the last key", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>true</IsTruncated>"
	     "<Contents><Key>k1</Key><Size>5</Size></Contents>"
	     "</ListBucketResult>",
	 0, "objs=1 [k1 5  0.000000000] prefixes=0 token=k1", NULL},
	{"list: truncated v1 page: a later common prefix is the marker", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>true</IsTruncated>"
	     "<Contents><Key>a</Key><Size>5</Size></Contents>"
	     "<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>"
	     "</ListBucketResult>",
	 0, "objs=1 [a 5  0.000000000] prefixes=1 [b/] token=b/", NULL},
	{"list: truncated and empty, without a token", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>true</IsTruncated>"
	     "</ListBucketResult>",
	 EIO, NULL, "NextContinuationToken"},
	{"list: body cut in the middle", LIST,
	 HDR "<ListBucketResult" NS "><IsTruncated>false</IsTruncated>"
	     "<Contents><Key>k1</Key><Si",
	 EIO, NULL, "malformed XML"},
	{"list: garbage", LIST, "\x01\x02 this is not xml at all <<<>", EIO,
	 NULL, "malformed XML"},
	{"list: HTML error page from a proxy", LIST,
	 "<html><body><h1>502 Bad Gateway</h1></body></html>", EIO, NULL,
	 "unexpected root element 'html'"},
	{"list: empty body", LIST, "", EIO, NULL, "empty XML body"},
	{"list: an <Error> body", LIST,
	 HDR "<Error><Code>AccessDenied</Code></Error>", EIO, NULL,
	 "unexpected root element 'Error'"},
	{"list: bad Size", LIST,
	 HDR "<ListBucketResult><Contents><Key>k</Key><Size>-3</Size>"
	     "</Contents></ListBucketResult>",
	 EIO, NULL, "bad <Size>"},
	{"list: bad LastModified", LIST,
	 HDR "<ListBucketResult><Contents><Key>k</Key>"
	     "<LastModified>yesterday</LastModified></Contents>"
	     "</ListBucketResult>",
	 EIO, NULL, "LastModified"},
	{"list: Contents without Key", LIST,
	 HDR "<ListBucketResult><Contents><Size>1</Size></Contents>"
	     "</ListBucketResult>",
	 EIO, NULL, "without <Key>"},
	{"list: bad percent escape", LIST,
	 HDR "<ListBucketResult><EncodingType>url</EncodingType><Contents>"
	     "<Key>a%zz</Key></Contents></ListBucketResult>",
	 EIO, NULL, "url-encoded key"},
	{"list: escape at the very end", LIST,
	 HDR "<ListBucketResult><EncodingType>url</EncodingType><Contents>"
	     "<Key>a%2</Key></Contents></ListBucketResult>",
	 EIO, NULL, "url-encoded key"},
	{"list: %00 in a key", LIST,
	 HDR "<ListBucketResult><EncodingType>url</EncodingType><Contents>"
	     "<Key>a%00b</Key></Contents></ListBucketResult>",
	 EIO, NULL, "url-encoded key"},
	{"list: DOCTYPE with entity expansion is refused", LIST,
	 HDR "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	     "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
	     "<ListBucketResult><Contents><Key>&lol2;</Key></Contents>"
	     "</ListBucketResult>",
	 EIO, NULL, "DOCTYPE"},
	{"list: junk after the document", LIST,
	 HDR "<ListBucketResult></ListBucketResult><x/>", EIO, NULL,
	 "malformed XML"},
	{"error: NoSuchKey", ERROR,
	 HDR "<Error><Code>NoSuchKey</Code><Message>The specified key does "
	     "not exist.</Message><Key>a</Key><RequestId>r1</RequestId>"
	     "</Error>",
	 0,
	 "code=NoSuchKey msg=The specified key does not exist. region=- "
	 "endpoint=- rid=r1",
	 NULL},
	{"error: AuthorizationHeaderMalformed names the region", ERROR,
	 HDR "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the "
	     "region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>"
	     "<Region>eu-west-1</Region></Error>",
	 0,
	 "code=AuthorizationHeaderMalformed msg=the region 'us-east-1' is "
	 "wrong; expecting 'eu-west-1' region=eu-west-1 endpoint=- rid=-",
	 NULL},
	{"error: PermanentRedirect names the endpoint", ERROR,
	 HDR "<Error><Code>PermanentRedirect</Code><Message>use the "
	     "endpoint</Message><Endpoint>b.s3.eu-west-1.amazonaws.com"
	     "</Endpoint><Bucket>b</Bucket></Error>",
	 0,
	 "code=PermanentRedirect msg=use the endpoint region=- "
	 "endpoint=b.s3.eu-west-1.amazonaws.com rid=-",
	 NULL},
	{"error: without Code", ERROR, "<Error><Message>x</Message></Error>",
	 EIO, NULL, "without a <Code>"},
	{"error: truncated", ERROR, "<Error><Code>SlowD", EIO, NULL,
	 "malformed XML"},
	{"upload id: good", UPLOAD,
	 HDR "<InitiateMultipartUploadResult" NS "><Bucket>b</Bucket>"
	     "<Key>k</Key><UploadId>2~abc-DEF</UploadId>"
	     "</InitiateMultipartUploadResult>",
	 0, "id=2~abc-DEF", NULL},
	{"upload id: missing", UPLOAD,
	 "<InitiateMultipartUploadResult><Key>k</Key>"
	 "</InitiateMultipartUploadResult>",
	 EIO, NULL, "no <UploadId>"},
	{"complete: AWS ETag", COMPLETE,
	 HDR "<CompleteMultipartUploadResult" NS "><Location>x</Location>"
	     "<Bucket>b</Bucket><Key>k</Key><ETag>\"3858f6-9\"</ETag>"
	     "</CompleteMultipartUploadResult>",
	 0, "etag=3858f6-9", NULL},
	{"complete: RGW empty ETag", COMPLETE,
	 HDR "<CompleteMultipartUploadResult" NS "><Location>x</Location>"
	     "<Bucket>b</Bucket><Key>k</Key><ETag></ETag>"
	     "</CompleteMultipartUploadResult>",
	 0, "etag=", NULL},
	{"complete: 200 with an Error body is not a result", COMPLETE,
	 HDR "<Error><Code>InternalError</Code></Error>", EIO, NULL,
	 "unexpected root element 'Error'"},
	{"copy: CopyObjectResult", COPY,
	 HDR "<CopyObjectResult><LastModified>2024-01-02T03:04:05.000Z"
	     "</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328"
	     "&quot;</ETag></CopyObjectResult>",
	 0, "etag=9b2cf535f27731c974343645a3985328", NULL},
	{"copy: ETag too long", COPY,
	 "<CopyObjectResult><ETag>0123456789012345678901234567890123456789"
	 "01234567890123456789012345678901234567890123456789</ETag>"
	 "</CopyObjectResult>",
	 EIO, NULL, "too long"},
	{"delete: two deleted, one error", DELETE,
	 HDR "<DeleteResult" NS "><Deleted><Key>a</Key></Deleted>"
	     "<Error><Key>b</Key><Code>AccessDenied</Code><Message>Access "
	     "Denied</Message></Error><Deleted><Key>c</Key></Deleted>"
	     "</DeleteResult>",
	 0, "deleted=2 errors=1 [b AccessDenied Access Denied]", NULL},
	{"delete: Error without Code", DELETE,
	 "<DeleteResult><Error><Key>b</Key></Error></DeleteResult>", EIO, NULL,
	 "without <Key> or <Code>"},
};

static void append(char **s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(char **s, const char *fmt, ...)
{
	va_list ap;
	char *add, *n;

	va_start(ap, fmt);
	if (vasprintf(&add, fmt, ap) < 0)
		abort();
	va_end(ap);
	n = bfs_xasprintf("%s%s", *s ? *s : "", add);
	free(add);
	free(*s);
	*s = n;
}

/* Parse body as kind; a one-line summary of the result into *sum. */
static int run(enum kind kind, const char *body, size_t len, char **sum,
	       char *err, size_t errlen)
{
	int rc = EINVAL;

	*sum = NULL;
	switch (kind) {
	case LIST: {
		struct bfs_list_result r = {0};

		rc = bfs_s3_xml_list(body, len, &r, err, errlen);
		if (rc)
			break;
		append(sum, "objs=%zu", r.nobjs);
		for (size_t i = 0; i < r.nobjs; i++)
			append(sum, " [%s %llu %s %lld.%09ld]", r.objs[i].key,
			       (unsigned long long)r.objs[i].size,
			       r.objs[i].etag,
			       (long long)r.objs[i].mtime.tv_sec,
			       r.objs[i].mtime.tv_nsec);
		append(sum, " prefixes=%zu", r.nprefixes);
		for (size_t i = 0; i < r.nprefixes; i++)
			append(sum, " [%s]", r.prefixes[i]);
		append(sum, " token=%s", r.next_token ? r.next_token : "-");
		bfs_list_result_release(&r);
		break;
	}
	case ERROR: {
		struct bfs_s3_xml_error e = {0};

		rc = bfs_s3_xml_error(body, len, &e, err, errlen);
		if (rc)
			break;
		append(sum, "code=%s msg=%s region=%s endpoint=%s rid=%s",
		       e.code, e.message ? e.message : "-",
		       e.region ? e.region : "-", e.endpoint ? e.endpoint : "-",
		       e.request_id ? e.request_id : "-");
		bfs_s3_xml_error_release(&e);
		break;
	}
	case UPLOAD: {
		char *id = NULL;

		rc = bfs_s3_xml_upload_id(body, len, &id, err, errlen);
		if (rc)
			break;
		append(sum, "id=%s", id);
		free(id);
		break;
	}
	case COMPLETE:
	case COPY: {
		char etag[BFS_ETAG_MAX];

		rc = bfs_s3_xml_etag(body, len,
				     kind == COPY
					     ? "CopyObjectResult"
					     : "CompleteMultipartUploadResult",
				     etag, err, errlen);
		if (rc)
			break;
		append(sum, "etag=%s", etag);
		break;
	}
	case DELETE: {
		struct bfs_s3_delete_result d = {0};

		rc = bfs_s3_xml_delete_result(body, len, &d, err, errlen);
		if (rc)
			break;
		append(sum, "deleted=%zu errors=%zu", d.ndeleted, d.nerrors);
		for (size_t i = 0; i < d.nerrors; i++)
			append(sum, " [%s %s %s]", d.errors[i].key,
			       d.errors[i].code,
			       d.errors[i].message ? d.errors[i].message : "-");
		bfs_s3_delete_result_release(&d);
		break;
	}
	}
	return rc;
}

static void table_cases(void)
{
	for (size_t i = 0; i < BFS_ARRAY_SIZE(cases); i++) {
		const struct xcase *c = &cases[i];
		char err[256] = "", *sum = NULL;
		int rc = run(c->kind, c->body, strlen(c->body), &sum, err,
			     sizeof(err));
		bool ok = rc == c->rc;

		if (ok && c->check)
			ok = sum && strcmp(sum, c->check) == 0;
		if (ok && c->errsub)
			ok = strstr(err, c->errsub) != NULL;
		if (!tap_ok(ok, "%s", c->name)) {
			tap_diag("rc %d (want %d), err '%s'", rc, c->rc, err);
			tap_diag("got  '%s'", sum ? sum : "(none)");
			tap_diag("want '%s'", c->check ? c->check : "(none)");
		}
		free(sum);
	}
}

/* Every prefix of a good body must fail cleanly or parse, never crash. */
static void every_truncation(void)
{
	const char *body = cases[1].body;
	size_t n = strlen(body);
	size_t failures = 0;

	for (size_t cut = 0; cut < n; cut++) {
		char err[256], *sum = NULL;
		char *copy = bfs_xstrndup(body, cut);

		if (run(LIST, copy, cut, &sum, err, sizeof(err)) == EIO)
			failures++;
		free(sum);
		free(copy);
	}
	tap_ok(failures == n, "list: each of %zu truncations is EIO", n);
}

static void huge_listing(void)
{
	size_t n = 50000, len = 0, cap = n * 200 + 256;
	char *b = bfs_xmalloc(cap), err[256] = "";
	struct bfs_list_result r = {0};
	int rc;

	len += (size_t)snprintf(b + len, cap - len,
				"<ListBucketResult><IsTruncated>false"
				"</IsTruncated>");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
			b + len, cap - len,
			"<Contents><Key>dir/file-%06zu</Key><Size>%zu</Size>"
			"<ETag>\"e%zu\"</ETag></Contents>",
			i, i, i);
	len += (size_t)snprintf(b + len, cap - len, "</ListBucketResult>");
	rc = bfs_s3_xml_list(b, len, &r, err, sizeof(err));
	tap_ok(rc == 0 && r.nobjs == n &&
		       strcmp(r.objs[n - 1].key, "dir/file-049999") == 0 &&
		       r.objs[n - 1].size == n - 1,
	       "list: huge page of %zu objects (%zu bytes)", n, len);
	bfs_list_result_release(&r);
	free(b);
}

static void huge_element(void)
{
	size_t n = BFS_S3_XML_TEXT_MAX + 10;
	char *b = bfs_xmalloc(n + 100), err[256] = "";
	struct bfs_list_result r = {0};
	size_t len;
	int rc;

	len = (size_t)snprintf(b, 100, "<ListBucketResult><Contents><Key>");
	memset(b + len, 'k', n);
	len += n;
	len += (size_t)snprintf(b + len, 100,
				"</Key></Contents>"
				"</ListBucketResult>");
	rc = bfs_s3_xml_list(b, len, &r, err, sizeof(err));
	tap_ok(rc == EIO && strstr(err, "longer than"),
	       "list: element over %d bytes is EIO", BFS_S3_XML_TEXT_MAX);
	free(b);
}

static void is_error_cases(void)
{
	static const struct {
		const char *body;
		bool want;
	} v[] = {
		{HDR "<Error><Code>x</Code></Error>", true},
		{"\n  <Error>", true},
		{HDR "<!-- c --><Error/>", true},
		{HDR "<CompleteMultipartUploadResult/>", false},
		{HDR "<ErrorX/>", false},
		{"", false},
		{"<Err", false},
	};
	bool ok = true;

	for (size_t i = 0; i < BFS_ARRAY_SIZE(v); i++)
		if (bfs_s3_xml_is_error(v[i].body, strlen(v[i].body)) !=
		    v[i].want) {
			tap_diag("is_error wrong for '%s'", v[i].body);
			ok = false;
		}
	tap_ok(ok, "is_error: root sniffing on %zu bodies", BFS_ARRAY_SIZE(v));
}

static void helpers(void)
{
	struct timespec ts;
	char etag[BFS_ETAG_MAX];
	char *d;

	d = bfs_s3_url_decode("a%2Fb+c%41", 10, true);
	tap_ok(d && strcmp(d, "a/b cA") == 0, "url_decode: escapes and +");
	free(d);
	d = bfs_s3_url_decode("a+b", 3, false);
	tap_ok(d && strcmp(d, "a+b") == 0, "url_decode: + kept when asked");
	free(d);
	tap_ok(bfs_s3_url_decode("%", 1, true) == NULL,
	       "url_decode: lone %% is an error");
	tap_ok(bfs_s3_parse_iso8601("1970-01-01T00:00:01.5Z", &ts) == 0 &&
		       ts.tv_sec == 1 && ts.tv_nsec == 500000000,
	       "iso8601: fraction");
	tap_ok(bfs_s3_parse_iso8601("2024-13-01T00:00:00Z", &ts) == EINVAL,
	       "iso8601: month 13 rejected");
	tap_ok(bfs_s3_etag_unquote(" \"abc\" ", etag) == 0 &&
		       strcmp(etag, "abc") == 0,
	       "etag: quotes and blanks stripped");
	tap_ok(bfs_s3_etag_unquote("W/\"abc\"", etag) == 0 &&
		       strcmp(etag, "abc") == 0,
	       "etag: weak validator prefix stripped");
}

int main(void)
{
	table_cases();
	every_truncation();
	huge_listing();
	huge_element();
	is_error_cases();
	helpers();
	return tap_done();
}
