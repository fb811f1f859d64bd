/*
 * conf.c - parsing the configuration (see conf.h, conf_priv.h): the
 * defaults, and the inih handler and line reader that fill struct
 * bfs_config from a buffer with file:line errors.
 *
 * inih is driven through ini_parse_stream() with our own reader, which
 * hands it one physical line at a time. That gives us exact line
 * numbers (the installed inih has no INI_HANDLER_LINENO), lets us see
 * section headers (inih does not report them, so duplicates and empty
 * sections would go unnoticed), and lets us strip leading blanks so an
 * indented key is a key, never an inih multi-line continuation.
 */
#include "compat.h"

#include "conf_priv.h"

/* ---- defaults ---------------------------------------------------------- */

static void options_defaults(struct bfs_options *o)
{
	char why[256];

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < BFS_ARRAY_SIZE(opt_keys); i++) {
		const struct key_def *k = &opt_keys[i];

		if (k->def && set_value(k, o, k->def, why, sizeof(why)) != 0)
			BFS_BUG("default of %s: %s", k->name, why);
	}
	if (geteuid() == 0) {
		o->builtin_dir = bfs_xstrdup("/var/lib/bucketfs/builtin");
		o->cache_dir = bfs_xstrdup("/var/cache/bucketfs");
	} else {
		char *d = xdg_dir("XDG_DATA_HOME", ".local/share");

		o->builtin_dir = bfs_xasprintf("%s/bucketfs/builtin", d);
		free(d);
		d = xdg_dir("XDG_CACHE_HOME", ".cache");
		o->cache_dir = bfs_xasprintf("%s/bucketfs", d);
		free(d);
	}
	o->uid = getuid();
	o->gid = getgid();
}

static struct bfs_bucket_conf *add_bucket(struct bfs_config *cfg,
					  const char *name, int line)
{
	struct bfs_bucket_conf *b;

	cfg->buckets = bfs_xrealloc(
		cfg->buckets, (cfg->nbuckets + 1) * sizeof(*cfg->buckets));
	b = &cfg->buckets[cfg->nbuckets++];
	memset(b, 0, sizeof(*b));
	b->name = bfs_xstrdup(name);
	b->prefix = bfs_xstrdup("");
	b->path_style = -1;
	b->line = line;
	b->provider = BFS_PROVIDER_LOCAL; /* required: finish_bucket checks */
	return b;
}

void config_init(struct bfs_config *cfg)
{
	struct bfs_bucket_conf *b;

	memset(cfg, 0, sizeof(*cfg));
	options_defaults(&cfg->opts);
	b = add_bucket(cfg, "builtin", 0);
	b->provider = BFS_PROVIDER_LOCAL;
	b->dir = bfs_xstrdup(cfg->opts.builtin_dir);
}

/* ---- parsing ----------------------------------------------------------- */

enum section_kind { SEC_NONE, SEC_BUCKETFS, SEC_BUCKET, SEC_CATALOG };

/* Where each key of one [bucket] or [catalog] section was set. */
struct key_lines {
	int key[(int)BK_COUNT > (int)CK_COUNT ? (int)BK_COUNT : (int)CK_COUNT];
};

struct parse {
	const char *file; /* name used in messages */
	const char *buf;
	size_t len, pos;
	int lineno; /* the line the reader last returned */
	char *err;
	size_t errlen;
	bool failed;
	int err_line; /* line of the error in err */
	struct bfs_config *cfg;
	enum section_kind sec;
	size_t idx; /* bucket or catalog of the current section */
	int bucketfs_line;
	int opt_lines[BFS_ARRAY_SIZE(opt_keys)];
	struct key_lines *blines; /* parallel to cfg->buckets */
	struct key_lines *clines; /* parallel to cfg->catalogs */
	bool has_credentials;
};

__attribute__((format(printf, 3, 4))) static int
fail(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (ps->failed)
		return 0;
	ps->failed = true;
	ps->err_line = line;
	n = (size_t)snprintf(ps->err, ps->errlen, "%s:%d: ", ps->file, line);
	if (n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static const char *section_label(struct parse *ps, char *buf, size_t len)
{
	switch (ps->sec) {
	case SEC_BUCKETFS:
		return "[bucketfs]";
	case SEC_BUCKET:
		snprintf(buf, len, "[bucket %s]",
			 ps->cfg->buckets[ps->idx].name);
		return buf;
	case SEC_CATALOG:
		snprintf(buf, len, "[catalog %s]",
			 ps->cfg->catalogs[ps->idx].name);
		return buf;
	case SEC_NONE:
		break;
	}
	return "(no section)";
}

static int unknown_key(struct parse *ps, const char *name,
		       const struct key_def *keys, size_t n)
{
	char label[NAME_MAX_LEN + 16];
	const char *where = section_label(ps, label, sizeof(label));
	const char *guess = closest_key(keys, n, name);
	const char *dot = strchr(name, '.');

	if (guess)
		return fail(ps, ps->lineno,
			    "unknown key '%s' in %s (did you mean '%s'?)", name,
			    where, guess);
	if (ps->sec == SEC_CATALOG && dot) {
		char head[16];
		size_t hn = (size_t)(dot - name);

		if (hn < sizeof(head)) {
			memcpy(head, name, hn);
			head[hn] = '\0';
			if (edit_distance(head, "table") <= 2)
				return fail(ps, ps->lineno,
					    "unknown key '%s' in %s (did you "
					    "mean 'table.%s'?)",
					    name, where, dot + 1);
		}
	}
	if (ps->sec != SEC_BUCKETFS &&
	    find_key(opt_keys, BFS_ARRAY_SIZE(opt_keys), name))
		return fail(ps, ps->lineno,
			    "unknown key '%s' in %s (it belongs in "
			    "[bucketfs])",
			    name, where);
	if (ps->sec != SEC_BUCKET &&
	    find_key(bucket_keys, BFS_ARRAY_SIZE(bucket_keys), name))
		return fail(ps, ps->lineno,
			    "unknown key '%s' in %s (it belongs in a "
			    "[bucket NAME] section)",
			    name, where);
	return fail(ps, ps->lineno, "unknown key '%s' in %s", name, where);
}

static int bad_value(struct parse *ps, const struct key_def *k, const char *v,
		     const char *why)
{
	if (k->type == KT_SECRET)
		return fail(ps, ps->lineno, "bad value for %s: %s", k->name,
			    why);
	return fail(ps, ps->lineno, "bad value '%s' for %s: %s", v, k->name,
		    why);
}

static int set_in_section(struct parse *ps, const struct key_def *keys,
			  size_t nkeys, int *lines, void *base,
			  const char *name, const char *value)
{
	const struct key_def *k = find_key(keys, nkeys, name);
	char why[256];
	size_t i;

	if (!k)
		return unknown_key(ps, name, keys, nkeys);
	i = (size_t)(k - keys);
	if (lines[i])
		return fail(ps, ps->lineno,
			    "duplicate key '%s' (first set at line %d)", name,
			    lines[i]);
	lines[i] = ps->lineno;
	if (set_value(k, base, value, why, sizeof(why)) != 0)
		return bad_value(ps, k, value, why);
	return 1;
}

static int add_table(struct parse *ps, struct bfs_catalog_conf *c,
		     const char *name, const char *pattern)
{
	char why[256];
	struct bfs_table_conf *t;

	if (bfs_config_check_name(name, why, sizeof(why)) != 0)
		return fail(ps, ps->lineno, "bad table name '%s': %s", name,
			    why);
	if (pattern[0] == '\0')
		return fail(ps, ps->lineno, "table '%s' has an empty pattern",
			    name);
	for (size_t i = 0; i < c->ntables; i++) {
		if (strcmp(c->tables[i].name, name) == 0)
			return fail(ps, ps->lineno,
				    "duplicate table '%s' (first set at line "
				    "%d)",
				    name, c->tables[i].line);
		if (strcasecmp(c->tables[i].name, name) == 0)
			return fail(ps, ps->lineno,
				    "table '%s' overlaps table '%s' (line %d): "
				    "names that differ only in case collide "
				    "on case-insensitive systems",
				    name, c->tables[i].name, c->tables[i].line);
	}
	c->tables =
		bfs_xrealloc(c->tables, (c->ntables + 1) * sizeof(*c->tables));
	t = &c->tables[c->ntables++];
	t->name = bfs_xstrdup(name);
	t->pattern = bfs_xstrdup(pattern);
	t->line = ps->lineno;
	return 1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *ps = user;
	struct bfs_config *cfg = ps->cfg;

	(void)section; /* the reader tracks sections itself */
	if (ps->failed)
		return 0;
	switch (ps->sec) {
	case SEC_NONE:
		return fail(ps, ps->lineno,
			    "key '%s' outside of a section (start with "
			    "[bucketfs], [bucket NAME] or [catalog NAME])",
			    name);
	case SEC_BUCKETFS:
		return set_in_section(ps, opt_keys, BFS_ARRAY_SIZE(opt_keys),
				      ps->opt_lines, &cfg->opts, name, value);
	case SEC_BUCKET: {
		struct bfs_bucket_conf *b = &cfg->buckets[ps->idx];

		if (ps->idx == 0 && strcmp(name, "provider") == 0 &&
		    strcmp(value, "local") != 0)
			return fail(ps, ps->lineno,
				    "the name 'builtin' is the local builtin "
				    "bucket: its provider cannot be '%s'",
				    value);
		if (ps->idx == 0 && strcmp(name, "dir") == 0)
			return fail(ps, ps->lineno,
				    "the directory of bucket 'builtin' is set "
				    "by builtin_dir in [bucketfs]");
		return set_in_section(ps, bucket_keys,
				      BFS_ARRAY_SIZE(bucket_keys),
				      ps->blines[ps->idx].key, b, name, value);
	}
	case SEC_CATALOG: {
		struct bfs_catalog_conf *c = &cfg->catalogs[ps->idx];

		if (strncmp(name, TABLE_KEY, TABLE_KEY_LEN) == 0)
			return add_table(ps, c, name + TABLE_KEY_LEN, value);
		return set_in_section(ps, catalog_keys,
				      BFS_ARRAY_SIZE(catalog_keys),
				      ps->clines[ps->idx].key, c, name, value);
	}
	}
	return 0;
}

static int finish_bucket(struct parse *ps, size_t idx)
{
	struct bfs_bucket_conf *b = &ps->cfg->buckets[idx];
	const int *lines = ps->blines[idx].key;
	struct bfs_url u;

	if (idx == 0)
		b->provider = BFS_PROVIDER_LOCAL;
	else if (!lines[BK_PROVIDER])
		return fail(ps, b->line,
			    "bucket '%s' has no provider (s3, r2, gcs, "
			    "custom or local)",
			    b->name);
	for (size_t i = 0; i < BK_COUNT; i++) {
		const struct key_def *k = &bucket_keys[i];

		if (lines[i] && k->providers &&
		    !(k->providers & (1u << b->provider)))
			return fail(ps, lines[i],
				    "key '%s' does not apply to provider %s "
				    "(bucket '%s')",
				    k->name, bfs_provider_name(b->provider),
				    b->name);
	}
	if (b->provider == BFS_PROVIDER_LOCAL) {
		if (idx != 0 && !b->dir)
			return fail(ps, b->line,
				    "bucket '%s': provider local needs dir",
				    b->name);
		return 1;
	}
	if (!b->bucket)
		return fail(ps, b->line,
			    "bucket '%s': provider %s needs bucket (the "
			    "name of the bucket at the provider)",
			    b->name, bfs_provider_name(b->provider));
	if (b->provider == BFS_PROVIDER_S3 && !b->region)
		return fail(ps, b->line,
			    "bucket '%s': provider s3 needs region (such as "
			    "us-east-1)",
			    b->name);
	if (b->provider == BFS_PROVIDER_R2 && !b->account_id)
		return fail(ps, b->line,
			    "bucket '%s': provider r2 needs account_id (the "
			    "Cloudflare account id)",
			    b->name);
	if (b->provider == BFS_PROVIDER_CUSTOM && !b->endpoint)
		return fail(ps, b->line,
			    "bucket '%s': provider custom needs endpoint "
			    "(such as https://s3.example.com)",
			    b->name);
	if (b->endpoint && bfs_endpoint_parse(b->endpoint, &u) == 0 && !u.tls &&
	    !b->allow_insecure && !bfs_host_is_loopback(u.host, u.hostlen))
		return fail(ps, lines[BK_ENDPOINT],
			    "endpoint of bucket '%s' is plain http:// to a "
			    "host that is not loopback: use https://, or set "
			    "allow_insecure = true",
			    b->name);
	if (!b->access_key_id != !b->secret_access_key)
		return fail(ps, b->line,
			    "bucket '%s' has %s but no %s (give both, or "
			    "neither to use AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY from the environment)",
			    b->name,
			    b->access_key_id ? "access_key_id"
					     : "secret_access_key",
			    b->access_key_id ? "secret_access_key"
					     : "access_key_id");
	if (b->access_key_id && (b->credentials == BFS_CREDENTIALS_CHAIN ||
				 b->credentials == BFS_CREDENTIALS_ANONYMOUS))
		return fail(ps, lines[BK_CREDENTIALS],
			    "bucket '%s' has stored keys but credentials = "
			    "%s: remove the keys or set credentials = keys",
			    b->name, credentials_names[b->credentials]);
	if (b->profile && b->credentials != BFS_CREDENTIALS_CHAIN &&
	    !(b->credentials == BFS_CREDENTIALS_DEFAULT && !b->access_key_id))
		return fail(ps, lines[BK_PROFILE],
			    "profile of bucket '%s' is read by credentials = "
			    "chain only",
			    b->name);
	if (b->sse_kms_key_id && b->sse != BFS_SSE_KMS)
		return fail(ps, lines[BK_SSE_KMS_KEY_ID],
			    "sse_kms_key_id of bucket '%s' is read by sse = "
			    "kms only",
			    b->name);
	if (b->sse_customer_key && b->sse != BFS_SSE_C)
		return fail(ps, lines[BK_SSE_CUSTOMER_KEY],
			    "sse_customer_key of bucket '%s' is read by sse = "
			    "c only",
			    b->name);
	if (b->sse == BFS_SSE_C && !b->sse_customer_key)
		return fail(ps, lines[BK_SSE],
			    "bucket '%s' has sse = c but no sse_customer_key "
			    "(store one with 'bucketfs bucket update %s --sse "
			    "c --sse-customer-key-file FILE')",
			    b->name, b->name);
	/* the customer key travels in every request: never in clear over
	 * a network, whatever allow_insecure says */
	if (b->sse == BFS_SSE_C && b->endpoint &&
	    bfs_endpoint_parse(b->endpoint, &u) == 0 && !u.tls &&
	    !bfs_host_is_loopback(u.host, u.hostlen))
		return fail(ps, lines[BK_SSE],
			    "bucket '%s' has sse = c over plain http://: the "
			    "customer key would cross the network in clear; "
			    "use an https:// endpoint",
			    b->name);
	for (int i = BK_ACCESS_KEY_ID; i <= BK_SSE_CUSTOMER_KEY; i++) {
		const char *v;

		if (i != BK_ACCESS_KEY_ID && i != BK_SECRET_ACCESS_KEY &&
		    i != BK_SSE_CUSTOMER_KEY)
			continue;
		v = *(char **)((char *)b + bucket_keys[i].off);
		if (!v)
			continue;
		ps->has_credentials = true;
		if (strncmp(v, "enc:", 4) != 0 &&
		    !b->allow_plaintext_credentials)
			return fail(ps, lines[i],
				    "%s of bucket '%s' is not encrypted: store "
				    "the keys with 'bucketfs bucket connect "
				    "%s', or set allow_plaintext_credentials "
				    "= true",
				    bucket_keys[i].name, b->name, b->name);
	}
	return 1;
}

static int finish_catalog(struct parse *ps, size_t idx)
{
	struct bfs_catalog_conf *c = &ps->cfg->catalogs[idx];
	const int *lines = ps->clines[idx].key;

	if (!lines[CK_TYPE])
		return fail(ps, c->line,
			    "catalog '%s' has no type (managed, "
			    "bucket-tables or iceberg)",
			    c->name);
	if (!lines[CK_BUCKET])
		return fail(ps, c->line,
			    "catalog '%s' has no bucket (the name of a "
			    "[bucket] section, or builtin)",
			    c->name);
	if (c->ntables && c->type != BFS_CATALOG_BUCKET_TABLES)
		return fail(ps, c->tables[0].line,
			    "table.%s: tables are only for type = "
			    "bucket-tables (catalog '%s' is %s)",
			    c->tables[0].name, c->name,
			    bfs_catalog_type_name(c->type));
	return 1;
}

static int finish_section(struct parse *ps)
{
	switch (ps->sec) {
	case SEC_BUCKET:
		return finish_bucket(ps, ps->idx);
	case SEC_CATALOG:
		return finish_catalog(ps, ps->idx);
	default:
		return 1;
	}
}

/* A name already used by a bucket or catalog: its line, else -1. */
static int name_line(struct parse *ps, const char *name, const char **what)
{
	struct bfs_config *cfg = ps->cfg;

	for (size_t i = 0; i < cfg->nbuckets; i++) {
		if (strcmp(cfg->buckets[i].name, name) == 0) {
			*what = "bucket";
			return cfg->buckets[i].line;
		}
	}
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		if (strcmp(cfg->catalogs[i].name, name) == 0) {
			*what = "catalog";
			return cfg->catalogs[i].line;
		}
	}
	return -1;
}

/* text: what is between '[' and ']', NUL-terminated at text[n] */
static void start_section(struct parse *ps, const char *text, size_t n)
{
	struct bfs_config *cfg = ps->cfg;
	char kind[16], why[256];
	const char *what;
	size_t kn, i = 0;
	char *name;
	int prev;

	if (!finish_section(ps))
		return;
	ps->sec = SEC_NONE;
	while (i < n && isspace((unsigned char)text[i]))
		i++;
	while (n > i && isspace((unsigned char)text[n - 1]))
		n--;
	kn = strcspn(text + i, " \t");
	if (kn > n - i)
		kn = n - i;
	if (kn == 0 || kn >= sizeof(kind)) {
		fail(ps, ps->lineno,
		     "unknown section '[%.*s]' (expected [bucketfs], [bucket "
		     "NAME] or [catalog NAME])",
		     (int)BFS_MIN(n - i, 64u), text + i);
		return;
	}
	memcpy(kind, text + i, kn);
	kind[kn] = '\0';
	i += kn;
	while (i < n && isspace((unsigned char)text[i]))
		i++;
	name = bfs_xstrndup(text + i, n - i);
	if (strcmp(kind, "bucketfs") == 0) {
		if (name[0])
			fail(ps, ps->lineno,
			     "[bucketfs] takes no name (found '%s')", name);
		else if (ps->bucketfs_line)
			fail(ps, ps->lineno,
			     "duplicate section [bucketfs] (first at line %d)",
			     ps->bucketfs_line);
		ps->bucketfs_line = ps->lineno;
		ps->sec = SEC_BUCKETFS;
		goto out;
	}
	if (strcmp(kind, "bucket") != 0 && strcmp(kind, "catalog") != 0) {
		const char *kinds[] = {"bucketfs", "bucket", "catalog"};
		const char *guess = NULL;

		for (size_t k = 0; k < BFS_ARRAY_SIZE(kinds); k++)
			if (edit_distance(kind, kinds[k]) <= 2)
				guess = kinds[k];
		fail(ps, ps->lineno,
		     "unknown section '[%s%s%s]'%s%s%s (expected [bucketfs], "
		     "[bucket NAME] or [catalog NAME])",
		     kind, name[0] ? " " : "", name,
		     guess ? " (did you mean '" : "", guess ? guess : "",
		     guess ? "'?)" : "");
		goto out;
	}
	if (!name[0]) {
		fail(ps, ps->lineno, "[%s] needs a name: [%s NAME]", kind,
		     kind);
		goto out;
	}
	if (bfs_config_check_name(name, why, sizeof(why)) != 0) {
		fail(ps, ps->lineno, "bad %s name '%s': %s", kind, name, why);
		goto out;
	}
	if (strcmp(kind, "bucket") == 0 && strcmp(name, "builtin") == 0) {
		if (cfg->buckets[0].line) {
			fail(ps, ps->lineno,
			     "duplicate bucket 'builtin' (first at line %d)",
			     cfg->buckets[0].line);
			goto out;
		}
		cfg->buckets[0].line = ps->lineno;
		ps->sec = SEC_BUCKET;
		ps->idx = 0;
		goto out;
	}
	if (strcmp(name, "builtin") == 0) {
		fail(ps, ps->lineno,
		     "the name 'builtin' is reserved for the builtin bucket");
		goto out;
	}
	prev = name_line(ps, name, &what);
	if (prev >= 0) {
		fail(ps, ps->lineno,
		     "duplicate name '%s': already a %s (line %d)", name, what,
		     prev);
		goto out;
	}
	if (strcmp(kind, "bucket") == 0) {
		add_bucket(cfg, name, ps->lineno);
		ps->blines = bfs_xrealloc(ps->blines,
					  cfg->nbuckets * sizeof(*ps->blines));
		memset(&ps->blines[cfg->nbuckets - 1], 0, sizeof(*ps->blines));
		ps->sec = SEC_BUCKET;
		ps->idx = cfg->nbuckets - 1;
	} else {
		struct bfs_catalog_conf *c;

		cfg->catalogs = bfs_xrealloc(cfg->catalogs,
					     (cfg->ncatalogs + 1) *
						     sizeof(*cfg->catalogs));
		c = &cfg->catalogs[cfg->ncatalogs++];
		memset(c, 0, sizeof(*c));
		c->name = bfs_xstrdup(name);
		c->prefix = bfs_xstrdup("");
		c->line = ps->lineno;
		ps->clines = bfs_xrealloc(ps->clines,
					  cfg->ncatalogs * sizeof(*ps->clines));
		memset(&ps->clines[cfg->ncatalogs - 1], 0, sizeof(*ps->clines));
		ps->sec = SEC_CATALOG;
		ps->idx = cfg->ncatalogs - 1;
	}
out:
	free(name);
}

/*
 * A section header as inih reads it: '[' up to ']' or an inline comment
 * (';' after a blank). Anything but a comment after ']' is an error
 * here, where inih would silently drop it.
 */
static void section_line(struct parse *ps, const char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (s[i] == ']')
			break;
		if (s[i] == ';' && isspace((unsigned char)s[i - 1]))
			return; /* no ']': inih reports the syntax error */
	}
	if (i >= n)
		return;
	for (size_t j = i + 1; j < n; j++) {
		if (s[j] == ';' || s[j] == '#')
			break;
		if (!isspace((unsigned char)s[j])) {
			fail(ps, ps->lineno,
			     "text after ']' in a section header");
			return;
		}
	}
	{
		char *inner = bfs_xstrndup(s + 1, i - 1);

		start_section(ps, inner, strlen(inner));
		free(inner);
	}
}

static char *reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	const char *s, *nl;
	size_t n;

	if (ps->failed || ps->pos >= ps->len || num < 3)
		return NULL;
	s = ps->buf + ps->pos;
	nl = memchr(s, '\n', ps->len - ps->pos);
	n = nl ? (size_t)(nl - s) : ps->len - ps->pos;
	ps->pos += n + (nl ? 1 : 0);
	ps->lineno++;
	if (memchr(s, '\0', n)) {
		fail(ps, ps->lineno, "NUL byte in line (is this a text file?)");
		return NULL;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (ps->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n + 2 > (size_t)num && (s[0] == ';' || s[0] == '#')) {
		/* inih would split a long comment into junk lines */
		s = "#";
		n = 1;
	} else if (n + 2 > (size_t)num) {
		fail(ps, ps->lineno, "line too long (at most %d characters)",
		     num - 2);
		return NULL;
	}
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	if (n > 0 && s[0] == '[')
		section_line(ps, s, n);
	if (ps->failed)
		return NULL;
	return str;
}

/* The text of line `line` of the buffer, for a syntax error message. */
static void describe_syntax_error(struct parse *ps, int line)
{
	const char *s = ps->buf, *end = ps->buf + ps->len;
	const char *e;

	for (int i = 1; i < line && s < end; i++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		s = nl ? nl + 1 : end;
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	e = memchr(s, '\n', (size_t)(end - s));
	if (!e)
		e = end;
	if (s < e && *s == '[')
		fail(ps, line, "syntax error: section header without ']'");
	else
		fail(ps, line,
		     "syntax error: expected 'key = value', '[section]' or "
		     "a comment");
}

static int finish_file(struct parse *ps)
{
	struct bfs_config *cfg = ps->cfg;

	if (!finish_section(ps))
		return 0;
	ps->sec = SEC_NONE;
	for (size_t i = 0; i < cfg->ncatalogs; i++) {
		struct bfs_catalog_conf *c = &cfg->catalogs[i];
		const char *guess = NULL;
		size_t best = 3;

		if (bfs_config_bucket(cfg, c->bucket))
			continue;
		for (size_t j = 0; j < cfg->nbuckets; j++) {
			size_t d =
				edit_distance(c->bucket, cfg->buckets[j].name);

			if (d < best) {
				best = d;
				guess = cfg->buckets[j].name;
			}
		}
		return fail(ps, ps->clines[i].key[CK_BUCKET],
			    "catalog '%s' names bucket '%s', which is not "
			    "defined%s%s%s",
			    c->name, c->bucket, guess ? " (did you mean '" : "",
			    guess ? guess : "", guess ? "'?)" : "");
	}
	free(cfg->buckets[0].dir);
	cfg->buckets[0].dir = bfs_xstrdup(cfg->opts.builtin_dir);
	return 1;
}

int parse_buffer(const char *name, const char *buf, size_t len,
		 struct bfs_config *cfg, bool *has_credentials, char *err,
		 size_t errlen)
{
	struct parse ps = {
		.file = name,
		.buf = buf,
		.len = len,
		.err = err,
		.errlen = errlen,
		.cfg = cfg,
	};
	int rc;

	config_init(cfg);
	ps.blines = bfs_xcalloc(1, sizeof(*ps.blines));
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	/*
	 * inih reports its first syntax error only at the end; the earlier
	 * of it and ours is the one to show (ours may be a consequence of
	 * it, as keys after a broken header land in the previous section).
	 */
	if (rc > 0 && (!ps.failed || rc < ps.err_line)) {
		ps.failed = false;
		describe_syntax_error(&ps, rc);
	} else if (rc < 0 && !ps.failed)
		fail(&ps, ps.lineno, "cannot parse (out of memory)");
	if (!ps.failed)
		finish_file(&ps);
	free(ps.blines);
	free(ps.clines);
	if (ps.failed) {
		bfs_config_release(cfg);
		return EINVAL;
	}
	if (has_credentials)
		*has_credentials = ps.has_credentials;
	return 0;
}

int bfs_config_load_buffer(const char *name, const char *buf, size_t len,
			   struct bfs_config *cfg, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	return parse_buffer(name, buf, len, cfg, NULL, err, errlen);
}
