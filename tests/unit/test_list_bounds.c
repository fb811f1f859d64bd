/*
 * test_list_bounds.c - bfs_store_list_all() against a store whose
 * listing never ends, in each of the ways a server can do it: the same
 * continuation token again, fresh tokens over the same keys, fresh keys
 * forever, empty pages forever, pages that go backwards. Each must end
 * with EIO, and an honest listing of several pages must still be read
 * whole, in UTF-8 byte order (S3) as in UTF-16 order (s3rver).
 */
#include "compat.h"

#include "store/store.h"
#include "tap.h"

enum mode {
	HONEST,
	SAME_TOKEN,
	SAME_KEYS,
	ENDLESS,
	EMPTY,
	UTF16,
	BACKWARDS,
	FOREIGN,
};

/*
 * Two pages in UTF-16 order, as s3rver (JavaScript) sorts: U+1F600 is
 * a surrogate pair (0xD83D 0xDE00) and sorts before U+FF01, while in
 * UTF-8 byte order (F0 9F 98 80 against EF BC 81) it sorts after.
 */
static const char *const utf16_pages[2][3] = {
	{"a\xc3\xa9", "k\xe4\xb8\xad", "k\xf0\x9f\x98\x80"},
	{"k\xef\xbc\x81", "k\xef\xbc\x81\xf0\x9f\x98\x80", "k\xef\xbf\xbd"},
};

struct fake {
	struct bfs_store store;
	enum mode mode;
	unsigned pages; /* pages served */
};

static int fake_list(struct bfs_store *s, const struct bfs_list_req *req,
		     struct bfs_list_result *out)
{
	struct fake *f = s->priv;
	unsigned page =
		req->token ? (unsigned)strtoul(req->token, NULL, 10) : 0;
	unsigned nkeys = f->mode == EMPTY ? 0 : 10;

	f->pages++;
	memset(out, 0, sizeof(*out));
	if (f->mode == FOREIGN) {
		/* names outside the prefix "p/" asked for, one inside */
		static const char *const keys[] = {"loop", "p/x", "q"};

		out->objs = bfs_xcalloc(3, sizeof(*out->objs));
		for (unsigned i = 0; i < 3; i++)
			out->objs[i].key = bfs_xstrdup(keys[i]);
		out->nobjs = 3;
		out->prefixes = bfs_xcalloc(3, sizeof(*out->prefixes));
		out->prefixes[0] = bfs_xstrdup("p/");
		out->prefixes[1] = bfs_xstrdup("p/d/");
		out->prefixes[2] = bfs_xstrdup("o/");
		out->nprefixes = 3;
		return 0;
	}
	if (f->mode == UTF16) {
		out->objs = bfs_xcalloc(3, sizeof(*out->objs));
		for (unsigned i = 0; i < 3; i++)
			out->objs[i].key =
				bfs_xstrdup(utf16_pages[page ? 1 : 0][i]);
		out->nobjs = 3;
		if (!page)
			out->next_token = bfs_xstrdup("1");
		return 0;
	}
	out->objs = bfs_xcalloc(nkeys ? nkeys : 1, sizeof(*out->objs));
	for (unsigned i = 0; i < nkeys; i++) {
		unsigned k = f->mode == SAME_KEYS   ? i
			     : f->mode == BACKWARDS ? (1000 - page) * 10 + i
						    : page * 10 + i;

		out->objs[i].key = bfs_xasprintf("k%08u", k);
		out->objs[i].size = k;
	}
	out->nobjs = nkeys;
	switch (f->mode) {
	case HONEST:
		if (page < 4)
			out->next_token = bfs_xasprintf("%u", page + 1);
		break;
	case SAME_TOKEN:
		out->next_token = bfs_xstrdup(req->token ? req->token : "1");
		break;
	default:
		out->next_token = bfs_xasprintf("%u", page + 1);
		break;
	}
	return 0;
}

static int count(void *arg, const struct bfs_obj_info *obj, const char *prefix)
{
	(void)obj;
	(void)prefix;
	(*(unsigned *)arg)++;
	return 0;
}

static void run(const char *name, enum mode mode,
		const struct bfs_list_limits *lim, int want_rc,
		unsigned want_entries, unsigned max_pages)
{
	struct fake f = {.mode = mode};
	unsigned n = 0;
	int rc;

	f.store.priv = &f;
	f.store.name = "fake";
	f.store.list = fake_list;
	rc = bfs_store_list_bounded(&f.store, "", "/", lim, count, &n);
	tap_ok(rc == want_rc, "%s: returns %d (got %d after %u pages)", name,
	       want_rc, rc, f.pages);
	tap_ok(f.pages <= max_pages, "%s: stops within %u pages (%u)", name,
	       max_pages, f.pages);
	if (want_entries) {
		n = 0;
		f.pages = 0;
		rc = bfs_store_list_bounded(&f.store, "", "/", lim, count, &n);
		tap_ok(rc == 0 && n == want_entries,
		       "%s: all %u entries delivered (%u)", name, want_entries,
		       n);
	}
}

int main(void)
{
	struct bfs_list_limits small = {.max_entries = 1000, .max_empty = 50};
	struct bfs_list_limits pages = {.max_pages = 20};

	run("an honest listing of 5 pages", HONEST, NULL, 0, 50, 5);
	run("the same token again", SAME_TOKEN, NULL, EIO, 0, 2);
	run("fresh tokens over the same keys", SAME_KEYS, NULL, EIO, 0, 2);
	run("a page that ends before the previous one", BACKWARDS, NULL, EIO, 0,
	    2);
	run("names in UTF-16 order (s3rver): astral before U+FF01", UTF16, NULL,
	    0, 6, 2);
	run("fresh keys forever", ENDLESS, &small, EIO, 0, 101);
	run("empty pages forever", EMPTY, &small, EIO, 0, 50);
	run("a bound on pages ends fresh keys forever", ENDLESS, &pages, EIO, 0,
	    20);
	{
		/* every caller cuts the prefix off a name: one that does
		 * not start with it must never reach them */
		struct fake f = {.mode = FOREIGN};
		unsigned n = 0;
		int rc;

		f.store.priv = &f;
		f.store.name = "fake";
		f.store.list = fake_list;
		rc = bfs_store_list_all(&f.store, "p/", "/", count, &n);
		tap_ok(rc == 0 && n == 2,
		       "names outside the prefix are skipped: 2 of 6 "
		       "delivered (rc %d, %u)",
		       rc, n);
	}
	return tap_done();
}
