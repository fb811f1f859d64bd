/*
 * ice_resolve.c - Iceberg metadata, manifest lists and manifests (see
 * ice_resolve.h). JSON with jansson, gzip with zlib, Avro with avro-c
 * (a container read from memory through fmemopen).
 */
#include "compat.h"

#include <avro.h>
#include <jansson.h>
#include <zlib.h>

#include "catalog/ice_avro.h"
#include "catalog/ice_deletes.h"
#include "catalog/ice_partition.h"
#include "catalog/ice_resolve.h"
#include "log.h"

#define META_MAX (64u << 20)
#define AVRO_MAX (256u << 20)

/* Read a whole object (at most max bytes). */
static int read_object(struct bfs_store *s, const char *key, size_t max,
		       char **buf, size_t *len, char *etag, char *err,
		       size_t errlen)
{
	struct bfs_obj_info info = {0};
	size_t got = 0;
	int rc;

	*buf = NULL;
	rc = s->head(s, key, &info);
	if (rc != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", key,
			 strerror(rc));
		return rc;
	}
	if (info.size > max) {
		snprintf(err, errlen, "'%s' is too large (%llu bytes)", key,
			 (unsigned long long)info.size);
		bfs_obj_info_release(&info);
		return EIO;
	}
	*buf = bfs_xmalloc(info.size + 1);
	rc = bfs_store_read_full(s, key, 0, info.size, *buf, &got, info.etag);
	if (rc == 0 && got != info.size)
		rc = EIO;
	if (rc != 0) {
		snprintf(err, errlen, "cannot read '%s': %s", key,
			 strerror(rc));
		free(*buf);
		*buf = NULL;
	} else {
		(*buf)[got] = '\0';
		*len = got;
		if (etag)
			snprintf(etag, BFS_ETAG_MAX, "%s", info.etag);
	}
	bfs_obj_info_release(&info);
	return rc;
}

/* Inflate gzip data; @return 0 or EIO. */
static int gunzip(const char *in, size_t inlen, char **out, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = inlen * 4 + 1024, used = 0;
	char *buf = bfs_xmalloc(cap);
	int zr;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return EIO;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)inlen;
	do {
		if (cap - used < 4096) {
			if (cap > META_MAX) {
				zr = Z_MEM_ERROR;
				break;
			}
			cap *= 2;
			buf = bfs_xrealloc(buf, cap);
		}
		z.next_out = (Bytef *)buf + used;
		z.avail_out = (uInt)(cap - used - 1);
		zr = inflate(&z, Z_NO_FLUSH);
		used = cap - 1 - z.avail_out;
	} while (zr == Z_OK);
	inflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(buf);
		return EIO;
	}
	buf[used] = '\0';
	*out = buf;
	*outlen = used;
	return 0;
}

/* Strip "scheme://authority" and leading "./" or "/" from a path. */
static const char *path_part(const char *p)
{
	const char *sep = strstr(p, "://");

	if (sep && strchr(p, '/') > sep) {
		p = sep + 3;
		p = strchr(p, '/') ? strchr(p, '/') : p + strlen(p);
	}
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	return p;
}

char *bfs_ice_reroot(const char *path, const char *location,
		     const char *table_prefix)
{
	const char *p = path_part(path);
	const char *l = path_part(location ? location : "");
	size_t ln = strlen(l);

	while (ln > 0 && l[ln - 1] == '/')
		ln--;
	if (ln == 0)
		return bfs_xasprintf("%s%s", table_prefix, p);
	if (strncmp(p, l, ln) == 0 && p[ln] == '/')
		return bfs_xasprintf("%s%s", table_prefix, p + ln + 1);
	return NULL;
}

/* The authority ("bucket") of a URI, "" when it has none. */
static size_t authority(const char *p, const char **a)
{
	const char *sep = strstr(p, "://");

	if (sep == NULL || strchr(p, '/') < sep) {
		*a = "";
		return 0;
	}
	*a = sep + 3;
	return strcspn(*a, "/");
}

/*
 * A file outside the location in the same bucket (write.data.path, a
 * hashed object-store prefix): re-rooted through the folder the two
 * share. Location A/lrest is at table_prefix R/lrest/, so A/rest is at
 * R/rest. NULL when the bucket differs or table_prefix does not end in
 * lrest (the table was copied under another name).
 */
static char *reroot_outside(const char *path, const char *location,
			    const char *table_prefix)
{
	const char *pa, *la, *p = path_part(path), *l = path_part(location);
	size_t pn = authority(path, &pa), lnA = authority(location, &la);
	size_t ln = strlen(l), tp = strlen(table_prefix), a = 0, lr;

	if (pn && lnA && (pn != lnA || strncmp(pa, la, pn) != 0))
		return NULL;
	while (ln > 0 && l[ln - 1] == '/')
		ln--;
	for (size_t i = 0; i < ln && p[i] == l[i]; i++)
		if (l[i] == '/')
			a = i + 1;
	lr = ln - a;
	if (lr == 0 || tp < lr + 1 || table_prefix[tp - 1] != '/' ||
	    strncmp(table_prefix + tp - lr - 1, l + a, lr) != 0 ||
	    (tp > lr + 1 && table_prefix[tp - lr - 2] != '/'))
		return NULL;
	return bfs_xasprintf("%.*s%s", (int)(tp - lr - 1), table_prefix, p + a);
}

static int64_t json_int64(json_t *v, int64_t dflt)
{
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v)) {
		char *end;
		long long x = strtoll(json_string_value(v), &end, 10);

		return *end ? dflt : (int64_t)x;
	}
	return dflt;
}

int bfs_ice_meta_parse(const char *buf, size_t len, const char *table_prefix,
		       struct bfs_ice_meta *out, char *err, size_t errlen)
{
	char *unz = NULL;
	json_error_t jerr;
	json_t *root, *snaps;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->current_snapshot_id = -1;
	if (len >= 2 && (unsigned char)buf[0] == 0x1f &&
	    (unsigned char)buf[1] == 0x8b) {
		if (gunzip(buf, len, &unz, &len) != 0) {
			snprintf(err, errlen, "bad gzip data");
			return EIO;
		}
		buf = unz;
	}
	root = json_loadb(buf, len, 0, &jerr);
	free(unz);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "not valid JSON (line %d: %s)", jerr.line,
			 jerr.text);
		json_decref(root);
		return EIO;
	}
	out->format_version =
		(int)json_int64(json_object_get(root, "format-version"), 1);
	if (!json_is_string(json_object_get(root, "location"))) {
		snprintf(err, errlen, "no \"location\"");
		rc = EIO;
		goto out;
	}
	out->location = bfs_xstrdup(
		json_string_value(json_object_get(root, "location")));
	out->current_snapshot_id =
		json_int64(json_object_get(root, "current-snapshot-id"), -1);
	snaps = json_object_get(root, "snapshots");
	if (snaps && !json_is_array(snaps)) {
		snprintf(err, errlen, "\"snapshots\" is not an array");
		rc = EIO;
		goto out;
	}
	out->snapshots = bfs_xcalloc(json_array_size(snaps) + 1,
				     sizeof(*out->snapshots));
	for (i = 0; i < json_array_size(snaps); i++) {
		json_t *sj = json_array_get(snaps, i);
		struct bfs_ice_snapshot *sn = &out->snapshots[out->nsnapshots];
		json_t *ml = json_object_get(sj, "manifest-list");
		json_t *mans = json_object_get(sj, "manifests");

		sn->id = json_int64(json_object_get(sj, "snapshot-id"), -1);
		sn->timestamp_ms =
			json_int64(json_object_get(sj, "timestamp-ms"), 0);
		if (sn->id == -1) {
			snprintf(err, errlen, "snapshot %zu has no id", i);
			rc = EIO;
			goto out;
		}
		out->nsnapshots++;
		if (json_is_string(ml)) {
			sn->manifest_list =
				bfs_ice_reroot(json_string_value(ml),
					       out->location, table_prefix);
			if (sn->manifest_list == NULL) {
				snprintf(err, errlen,
					 "snapshot %lld: manifest list '%s' "
					 "is not below the table location "
					 "'%s'",
					 (long long)sn->id,
					 json_string_value(ml), out->location);
				rc = EIO;
				goto out;
			}
		} else if (json_is_array(mans)) {
			sn->manifests = bfs_xcalloc(json_array_size(mans) + 1,
						    sizeof(char *));
			for (size_t j = 0; j < json_array_size(mans); j++) {
				const char *mp = json_string_value(
					json_array_get(mans, j));
				char *key =
					mp ? bfs_ice_reroot(mp, out->location,
							    table_prefix)
					   : NULL;

				if (key == NULL) {
					snprintf(err, errlen,
						 "snapshot %lld: bad manifest "
						 "path",
						 (long long)sn->id);
					rc = EIO;
					goto out;
				}
				sn->manifests[sn->nmanifests++] = key;
			}
		} else {
			snprintf(err, errlen,
				 "snapshot %lld has neither manifest-list nor "
				 "manifests",
				 (long long)sn->id);
			rc = EIO;
			goto out;
		}
	}
	if (out->current_snapshot_id != -1 &&
	    bfs_ice_snapshot(out, out->current_snapshot_id) == NULL) {
		snprintf(err, errlen,
			 "current-snapshot-id %lld is not among the snapshots",
			 (long long)out->current_snapshot_id);
		rc = EIO;
	}
out:
	json_decref(root);
	if (rc != 0)
		bfs_ice_meta_release(out);
	return rc;
}

void bfs_ice_meta_release(struct bfs_ice_meta *m)
{
	for (size_t i = 0; i < m->nsnapshots; i++) {
		free(m->snapshots[i].manifest_list);
		for (size_t j = 0; j < m->snapshots[i].nmanifests; j++)
			free(m->snapshots[i].manifests[j]);
		free(m->snapshots[i].manifests);
	}
	free(m->snapshots);
	free(m->location);
	free(m->metadata_key);
	memset(m, 0, sizeof(*m));
	m->current_snapshot_id = -1;
}

const struct bfs_ice_snapshot *bfs_ice_snapshot(const struct bfs_ice_meta *m,
						int64_t id)
{
	for (size_t i = 0; i < m->nsnapshots; i++)
		if (m->snapshots[i].id == id)
			return &m->snapshots[i];
	return NULL;
}

/* Version of a metadata file name, or -1 if it is not one. */
static long long metadata_version(const char *name)
{
	const char *tail[] = {".metadata.json", ".gz.metadata.json",
			      ".metadata.json.gz"};
	bool ok = false;
	char *end;
	long long v;

	for (size_t i = 0; i < BFS_ARRAY_SIZE(tail); i++) {
		size_t n = strlen(name), t = strlen(tail[i]);

		if (n > t && strcmp(name + n - t, tail[i]) == 0)
			ok = true;
	}
	if (!ok)
		return -1;
	if (name[0] == 'v')
		name++;
	v = strtoll(name, &end, 10);
	if (end == name || (*end != '.' && *end != '-'))
		return -1;
	return v;
}

struct best_ctx {
	long long version;
	char *key;
};

static int best_meta(void *arg, const struct bfs_obj_info *obj,
		     const char *prefix)
{
	struct best_ctx *b = arg;
	const char *name;
	long long v;

	if (obj == NULL)
		return 0;
	name = strrchr(obj->key, '/');
	name = name ? name + 1 : obj->key;
	v = metadata_version(name);
	if (v > b->version) {
		b->version = v;
		free(b->key);
		b->key = bfs_xstrdup(obj->key);
	}
	return 0;
}

/* The metadata file version-hint.text names, if it exists. */
static char *hinted_metadata(struct bfs_store *s, const char *table_prefix)
{
	static const char *const forms[] = {
		".metadata.json", ".gz.metadata.json", ".metadata.json.gz"};
	char *hint_key =
		bfs_xasprintf("%smetadata/version-hint.text", table_prefix);
	char *buf = NULL, *found = NULL;
	char err[256];
	size_t len;

	if (read_object(s, hint_key, 64, &buf, &len, NULL, err, sizeof(err)) ==
	    0) {
		buf[strcspn(buf, " \t\r\n")] = '\0';
		for (size_t i = 0; i < BFS_ARRAY_SIZE(forms) && !found; i++) {
			struct bfs_obj_info info = {0};
			char name[128];
			char *key;

			snprintf(name, sizeof(name), "v%.32s%s", buf, forms[i]);
			key = bfs_xasprintf("%smetadata/%s", table_prefix,
					    name);
			if (buf[0] && s->head(s, key, &info) == 0)
				found = key;
			else
				free(key);
			bfs_obj_info_release(&info);
		}
	}
	free(buf);
	free(hint_key);
	return found;
}

int bfs_ice_meta_load(struct bfs_store *s, const char *table_prefix,
		      struct bfs_ice_meta *out, char *err, size_t errlen)
{
	struct best_ctx best = {.version = -1};
	char etag[BFS_ETAG_MAX];
	char *key, *buf = NULL;
	char why[512] = "";
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->current_snapshot_id = -1;
	key = hinted_metadata(s, table_prefix);
	if (key == NULL) {
		char *dir = bfs_xasprintf("%smetadata/", table_prefix);

		rc = bfs_store_list_all(s, dir, "/", best_meta, &best);
		free(dir);
		if (rc != 0) {
			snprintf(err, errlen, "cannot list '%smetadata/': %s",
				 table_prefix, strerror(rc));
			free(best.key);
			return rc;
		}
		key = best.key;
	}
	if (key == NULL) {
		snprintf(err, errlen, "no metadata file in '%smetadata/'",
			 table_prefix);
		return ENOENT;
	}
	rc = read_object(s, key, META_MAX, &buf, &len, etag, err, errlen);
	if (rc == 0) {
		rc = bfs_ice_meta_parse(buf, len, table_prefix, out, why,
					sizeof(why));
		if (rc != 0)
			snprintf(err, errlen, "'%s': %s", key, why);
	}
	free(buf);
	if (rc != 0) {
		free(key);
		return rc == ENOENT ? EIO : rc;
	}
	out->metadata_key = key;
	snprintf(out->etag, sizeof(out->etag), "%s", etag);
	return 0;
}

/* ---- Avro ---- */

/* Unwrap ["null", T] unions; @return false for a null value. */
static bool unwrap(avro_value_t *v, avro_value_t *out)
{
	*out = *v;
	while (avro_value_get_type(out) == AVRO_UNION) {
		avro_value_t branch;

		if (avro_value_get_current_branch(out, &branch) != 0)
			return false;
		*out = branch;
	}
	return avro_value_get_type(out) != AVRO_NULL;
}

static bool field(avro_value_t *rec, const char *name, avro_value_t *out)
{
	avro_value_t f;

	if (avro_value_get_type(rec) != AVRO_RECORD ||
	    avro_value_get_by_name(rec, name, &f, NULL) != 0)
		return false;
	return unwrap(&f, out);
}

static bool get_long(avro_value_t *rec, const char *name, int64_t *out)
{
	avro_value_t v;
	int32_t i;

	if (!field(rec, name, &v))
		return false;
	if (avro_value_get_type(&v) == AVRO_INT32)
		return avro_value_get_int(&v, &i) == 0 && ((*out = i), true);
	return avro_value_get_type(&v) == AVRO_INT64 &&
	       avro_value_get_long(&v, out) == 0;
}

static char *get_string(avro_value_t *rec, const char *name)
{
	avro_value_t v;
	const char *str;
	size_t n;

	if (!field(rec, name, &v) || avro_value_get_type(&v) != AVRO_STRING ||
	    avro_value_get_string(&v, &str, &n) != 0)
		return NULL;
	return bfs_xstrndup(str, n ? n - 1 : 0);
}

/* One partition value as text (typed getters: no JSON round trip). */
static void value_text(avro_value_t *v, char *buf, size_t len)
{
	avro_value_t u;
	int32_t i = 0;
	int64_t l = 0;
	double d = 0;
	float f = 0;
	int b = 0;
	const char *s = "";
	const void *bytes = NULL;
	size_t n = 0;

	if (!unwrap(v, &u)) {
		snprintf(buf, len, "null");
		return;
	}
	switch (avro_value_get_type(&u)) {
	case AVRO_INT32:
		avro_value_get_int(&u, &i);
		snprintf(buf, len, "%d", i);
		break;
	case AVRO_INT64:
		avro_value_get_long(&u, &l);
		snprintf(buf, len, "%lld", (long long)l);
		break;
	case AVRO_DOUBLE:
		avro_value_get_double(&u, &d);
		snprintf(buf, len, "%g", d);
		break;
	case AVRO_FLOAT:
		avro_value_get_float(&u, &f);
		snprintf(buf, len, "%g", (double)f);
		break;
	case AVRO_BOOLEAN:
		avro_value_get_boolean(&u, &b);
		snprintf(buf, len, "%s", b ? "true" : "false");
		break;
	case AVRO_STRING:
		avro_value_get_string(&u, &s, &n);
		snprintf(buf, len, "%.*s", (int)(n ? n - 1 : 0), s);
		break;
	case AVRO_BYTES:
	case AVRO_FIXED: {
		size_t o = 0;

		if (avro_value_get_type(&u) == AVRO_BYTES)
			avro_value_get_bytes(&u, &bytes, &n);
		else
			avro_value_get_fixed(&u, &bytes, &n);
		for (size_t k = 0; k < n && o + 3 < len; k++)
			o += (size_t)snprintf(
				buf + o, len - o, "%02x",
				((const unsigned char *)bytes)[k]);
		if (n == 0)
			buf[0] = '\0';
		break;
	}
	default:
		snprintf(buf, len, "?");
	}
}

static char *partition_text(avro_value_t *df)
{
	avro_value_t part;
	size_t n = 0;
	char *out = bfs_xstrdup("");

	if (!field(df, "partition", &part) ||
	    avro_value_get_type(&part) != AVRO_RECORD ||
	    avro_value_get_size(&part, &n) != 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		avro_value_t v;
		const char *name = NULL;
		char val[256];
		char *next;

		if (avro_value_get_by_index(&part, i, &v, &name) != 0)
			continue;
		value_text(&v, val, sizeof(val));
		next = bfs_xasprintf("%s%s%s=%s", out, *out ? "/" : "",
				     name ? name : "?", val);
		free(out);
		out = next;
	}
	return out;
}

/*
 * The partition tuple exactly, for equality only: each value typed and
 * length-prefixed (a null, the string "null" and a float that prints
 * alike stay apart), doubles in hex.
 */
static char *partition_key(avro_value_t *df)
{
	avro_value_t part;
	size_t n = 0, cap = 64, o = 0;
	char *out = bfs_xmalloc(cap);

	out[0] = '\0';
	if (!field(df, "partition", &part) ||
	    avro_value_get_type(&part) != AVRO_RECORD ||
	    avro_value_get_size(&part, &n) != 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		avro_value_t v, u;
		char val[512];
		int32_t i32 = 0;
		int64_t l = 0;
		double d = 0;
		float f = 0;
		const void *bytes = NULL;
		size_t bn = 0, need;
		char tag = 'n';

		if (avro_value_get_by_index(&part, i, &v, NULL) != 0)
			continue;
		val[0] = '\0';
		if (unwrap(&v, &u)) {
			switch (avro_value_get_type(&u)) {
			case AVRO_INT32:
				avro_value_get_int(&u, &i32);
				snprintf(val, sizeof(val), "%d", i32);
				tag = 'i';
				break;
			case AVRO_INT64:
				avro_value_get_long(&u, &l);
				snprintf(val, sizeof(val), "%lld",
					 (long long)l);
				tag = 'l';
				break;
			case AVRO_DOUBLE:
				avro_value_get_double(&u, &d);
				snprintf(val, sizeof(val), "%a", d);
				tag = 'd';
				break;
			case AVRO_FLOAT:
				avro_value_get_float(&u, &f);
				snprintf(val, sizeof(val), "%a", (double)f);
				tag = 'f';
				break;
			case AVRO_BOOLEAN:
				avro_value_get_boolean(&u, &i32);
				snprintf(val, sizeof(val), "%d", i32 != 0);
				tag = 'b';
				break;
			case AVRO_STRING:
			case AVRO_BYTES:
			case AVRO_FIXED:
				if (avro_value_get_type(&u) == AVRO_STRING) {
					const char *str = "";

					avro_value_get_string(&u, &str, &bn);
					bytes = str;
					bn = bn ? bn - 1 : 0;
				} else if (avro_value_get_type(&u) ==
					   AVRO_BYTES) {
					avro_value_get_bytes(&u, &bytes, &bn);
				} else {
					avro_value_get_fixed(&u, &bytes, &bn);
				}
				for (size_t k = 0, w = 0;
				     k < bn && w + 3 < sizeof(val); k++)
					w += (size_t)snprintf(
						val + w, sizeof(val) - w,
						"%02x",
						((const unsigned char *)
							 bytes)[k]);
				tag = 's';
				break;
			default:
				tag = '?';
			}
		}
		need = o + strlen(val) + 32;
		if (need > cap) {
			cap = need * 2;
			out = bfs_xrealloc(out, cap);
		}
		o += (size_t)snprintf(out + o, cap - o, "%c%zu:%s,", tag,
				      strlen(val), val);
	}
	return out;
}

/* Iceberg's reserved field id of a position delete's file_path column */
#define FILE_PATH_FIELD_ID 2147483546

/* The bound of the file_path column in lower_bounds or upper_bounds
 * (map<int, binary>, written as an array of key/value records). */
static char *path_bound(avro_value_t *df, const char *name)
{
	avro_value_t arr;
	size_t n = 0;

	if (!field(df, name, &arr) || avro_value_get_type(&arr) != AVRO_ARRAY ||
	    avro_value_get_size(&arr, &n) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		avro_value_t kv, val;
		int64_t key;
		const void *bytes;
		size_t bn;

		if (avro_value_get_by_index(&arr, i, &kv, NULL) != 0 ||
		    !get_long(&kv, "key", &key) || key != FILE_PATH_FIELD_ID ||
		    !field(&kv, "value", &val) ||
		    avro_value_get_type(&val) != AVRO_BYTES ||
		    avro_value_get_bytes(&val, &bytes, &bn) != 0)
			continue;
		return bfs_xstrndup(bytes, bn);
	}
	return NULL;
}

/* An equality delete's equality_ids (array<int>) as "1,2", or NULL. */
static char *equality_ids(avro_value_t *df)
{
	avro_value_t arr;
	size_t n = 0, o = 0;
	char *out;

	if (!field(df, "equality_ids", &arr) ||
	    avro_value_get_type(&arr) != AVRO_ARRAY ||
	    avro_value_get_size(&arr, &n) != 0 || n == 0 || n > 4096)
		return NULL;
	out = bfs_xmalloc(n * 12 + 1);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		avro_value_t el, v;
		int32_t id;

		if (avro_value_get_by_index(&arr, i, &el, NULL) != 0 ||
		    !unwrap(&el, &v) || avro_value_get_type(&v) != AVRO_INT32 ||
		    avro_value_get_int(&v, &id) != 0)
			continue;
		o += (size_t)snprintf(out + o, n * 12 + 1 - o, "%s%d",
				      o ? "," : "", (int)id);
	}
	return out;
}

typedef int (*avro_row_fn)(void *arg, avro_value_t *row);

/*
 * Decode every record of the Avro container in buf, whatever its codec:
 * ice_avro.c rewrites it with codec null first (avro-c has no zstd).
 * @param meta receives the container's metadata; may be NULL
 */
static int avro_each(const char *key, char *buf, size_t len, avro_row_fn fn,
		     void *arg, struct bfs_ice_avro_meta *meta, char *err,
		     size_t errlen)
{
	avro_file_reader_t reader;
	avro_value_iface_t *iface = NULL;
	avro_schema_t schema;
	avro_value_t row;
	char *plain = NULL;
	size_t plen = 0;
	FILE *fp;
	int rc = 0, ar;

	/* also refuses what is plainly not Avro: avro-c leaks on those */
	rc = bfs_ice_avro_plain(key, buf, len, AVRO_MAX, &plain, &plen, meta,
				err, errlen);
	if (rc != 0)
		return rc;
	fp = fmemopen(plain, plen, "rb");
	if (fp == NULL) {
		rc = errno;
		goto out;
	}
	if (avro_file_reader_fp(fp, key, 1, &reader) != 0) {
		snprintf(err, errlen, "'%s' is not an Avro file: %s", key,
			 avro_strerror());
		rc = EIO;
		goto out;
	}
	/* the reader hands out a reference of its own */
	schema = avro_file_reader_get_writer_schema(reader);
	iface = avro_generic_class_from_schema(schema);
	if (iface == NULL || avro_generic_value_new(iface, &row) != 0) {
		snprintf(err, errlen, "'%s': unusable Avro schema: %s", key,
			 avro_strerror());
		if (iface)
			avro_value_iface_decref(iface);
		avro_schema_decref(schema);
		avro_file_reader_close(reader);
		rc = EIO;
		goto out;
	}
	while ((ar = avro_file_reader_read_value(reader, &row)) == 0) {
		rc = fn(arg, &row);
		if (rc != 0)
			break;
	}
	if (rc == 0 && ar != EOF) {
		snprintf(err, errlen, "'%s': bad Avro data: %s", key,
			 avro_strerror());
		rc = EIO;
	}
	avro_value_decref(&row);
	avro_value_iface_decref(iface);
	avro_schema_decref(schema);
	avro_file_reader_close(reader);
out:
	free(plain);
	if (rc != 0 && meta)
		bfs_ice_avro_meta_release(meta);
	return rc;
}

struct manifest_ctx {
	const char *table_prefix;
	const struct bfs_ice_meta *m;
	int64_t inherited_snapshot; /* the manifest's added_snapshot_id */
	int64_t inherited_seq;	    /* its sequence_number; 0 for v1 */
	int32_t list_spec_id;	    /* its partition_spec_id, or -1 */
	struct bfs_ice_file *files;
	size_t n;
	char *err;
	size_t errlen;
	const char *manifest_key;
	/* the manifest's metadata and, read at its first entry, its
	 * partition spec with the source types (none: raw values) */
	struct bfs_ice_avro_meta meta;
	struct bfs_ice_pspec spec;
	bool spec_tried, have_spec;
};

/* The sub-path shown for a file: below data/, else partition/basename. */
static char *sub_path(const char *key, const char *table_prefix,
		      const char *partition)
{
	size_t tp = strlen(table_prefix);
	const char *base = strrchr(key, '/');

	base = base ? base + 1 : key;
	if (strncmp(key, table_prefix, tp) == 0 &&
	    strncmp(key + tp, "data/", 5) == 0 && key[tp + 5])
		return bfs_xstrdup(key + tp + 5);
	if (partition && *partition)
		return bfs_xasprintf("%s/%s", partition, base);
	return bfs_xstrdup(base);
}

static int manifest_row(void *arg, avro_value_t *row)
{
	struct manifest_ctx *c = arg;
	struct bfs_ice_file *f;
	avro_value_t df;
	int64_t status = 0, content = 0, v;
	char *path;

	if (!field(row, "data_file", &df)) {
		snprintf(c->err, c->errlen, "'%s': an entry without data_file",
			 c->manifest_key);
		return EIO;
	}
	get_long(row, "status", &status);
	if (status == 2)
		return 0; /* DELETED */
	path = get_string(&df, "file_path");
	if (path == NULL) {
		snprintf(c->err, c->errlen, "'%s': an entry without file_path",
			 c->manifest_key);
		return EIO;
	}
	c->files = bfs_xrealloc(c->files, (c->n + 1) * sizeof(*c->files));
	f = &c->files[c->n];
	memset(f, 0, sizeof(*f));
	f->path = bfs_xstrdup(path);
	f->key = bfs_ice_reroot(path, c->m->location, c->table_prefix);
	if (f->key == NULL)
		f->key = reroot_outside(path, c->m->location, c->table_prefix);
	if (f->key == NULL) {
		/* another bucket: the namespace finds the store holding it,
		 * or makes it one entry that is EIO, not the whole table */
		const char *a;
		size_t an = authority(path, &a);

		f->bucket = an ? bfs_xstrndup(a, an) : bfs_xstrdup("");
		f->key = bfs_xstrdup(path_part(path));
	}
	free(path);
	get_long(&df, "content", &content);
	f->content = content == 1   ? BFS_ICE_POSITION_DELETES
		     : content == 2 ? BFS_ICE_EQUALITY_DELETES
				    : BFS_ICE_DATA;
	f->record_count = get_long(&df, "record_count", &v) ? v : -1;
	f->size = get_long(&df, "file_size_in_bytes", &v) && v > 0 ? (uint64_t)v
								   : 0;
	f->snapshot_id =
		get_long(row, "snapshot_id", &v) ? v : c->inherited_snapshot;
	if (!c->spec_tried) {
		c->spec_tried = true;
		c->have_spec =
			bfs_ice_pspec_parse(
				bfs_ice_avro_meta_get(&c->meta,
						      "partition-spec"),
				bfs_ice_avro_meta_get(&c->meta, "schema"),
				&c->spec) == 0;
	}
	/* data sequence numbers are inherited from the manifest list where
	 * the entry leaves them null (an entry ADDED by that snapshot) */
	f->seq = get_long(row, "sequence_number", &v) ? v : c->inherited_seq;
	f->file_seq = get_long(row, "file_sequence_number", &v)
			      ? v
			      : c->inherited_seq;
	f->spec_id = c->list_spec_id;
	if (f->spec_id < 0) {
		const char *sid =
			bfs_ice_avro_meta_get(&c->meta, "partition-spec-id");

		f->spec_id = sid ? (int32_t)strtol(sid, NULL, 10) : 0;
	}
	f->pkey = partition_key(&df);
	if (c->have_spec) {
		avro_value_t part;

		f->partition = field(&df, "partition", &part)
				       ? bfs_ice_partition_path(&c->spec, &part)
				       : bfs_xstrdup("");
		f->unpartitioned = true;
		for (size_t k = 0; k < c->spec.n; k++)
			if (strcmp(c->spec.fields[k].transform, "void") != 0)
				f->unpartitioned = false;
	} else {
		f->partition = partition_text(&df);
		f->unpartitioned = f->pkey[0] == '\0';
	}
	if (f->content == BFS_ICE_EQUALITY_DELETES)
		f->equality_ids = equality_ids(&df);
	if (f->content == BFS_ICE_POSITION_DELETES) {
		f->lower_path = path_bound(&df, "lower_bounds");
		f->upper_path = path_bound(&df, "upper_bounds");
	}
	f->sub = sub_path(f->key, c->table_prefix, f->partition);
	f->referenced = get_string(&df, "referenced_data_file");
	if (f->content == BFS_ICE_POSITION_DELETES &&
	    get_long(&df, "content_offset", &v)) {
		char *dv = bfs_xasprintf("%s@%lld", f->sub, (long long)v);

		f->is_dv = true;
		f->dv_offset = v;
		f->dv_length =
			get_long(&df, "content_size_in_bytes", &v) ? v : -1;
		free(f->sub);
		f->sub = dv;
	}
	c->n++;
	return 0;
}

static int read_manifest(struct bfs_store *s, struct manifest_ctx *c,
			 const char *key)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = read_object(s, key, AVRO_MAX, &buf, &len, NULL, c->err, c->errlen);
	if (rc != 0)
		return rc == ENOENT ? EIO : rc;
	c->manifest_key = key;
	rc = avro_each(key, buf, len, manifest_row, c, &c->meta, c->err,
		       c->errlen);
	free(buf);
	bfs_ice_avro_meta_release(&c->meta);
	if (c->have_spec)
		bfs_ice_pspec_release(&c->spec);
	c->spec_tried = c->have_spec = false;
	return rc;
}

struct list_ctx {
	struct bfs_store *s;
	struct manifest_ctx *mc;
};

static int list_row(void *arg, avro_value_t *row)
{
	struct list_ctx *l = arg;
	char *path = get_string(row, "manifest_path");
	char *key;
	int64_t added = -1;
	int rc;

	if (path == NULL) {
		snprintf(l->mc->err, l->mc->errlen,
			 "manifest list entry without manifest_path");
		return EIO;
	}
	key = bfs_ice_reroot(path, l->mc->m->location, l->mc->table_prefix);
	if (key == NULL) {
		snprintf(l->mc->err, l->mc->errlen,
			 "manifest '%s' is not below the table location", path);
		free(path);
		return EIO;
	}
	free(path);
	get_long(row, "added_snapshot_id", &added);
	l->mc->inherited_snapshot = added;
	if (!get_long(row, "sequence_number", &l->mc->inherited_seq))
		l->mc->inherited_seq = 0; /* v1 */
	l->mc->list_spec_id = get_long(row, "partition_spec_id", &added)
				      ? (int32_t)added
				      : -1;
	rc = read_manifest(l->s, l->mc, key);
	free(key);
	return rc;
}

int bfs_ice_snapshot_files(struct bfs_store *s, const char *table_prefix,
			   const struct bfs_ice_meta *m,
			   const struct bfs_ice_snapshot *snap,
			   struct bfs_ice_file **files, size_t *n, char *err,
			   size_t errlen)
{
	struct manifest_ctx mc = {
		.table_prefix = table_prefix,
		.m = m,
		.inherited_snapshot = snap->id,
		.list_spec_id = -1,
		.err = err,
		.errlen = errlen,
	};
	int rc = 0;

	if (snap->manifest_list) {
		struct list_ctx lc = {.s = s, .mc = &mc};
		char *buf = NULL;
		size_t len = 0;

		rc = read_object(s, snap->manifest_list, AVRO_MAX, &buf, &len,
				 NULL, err, errlen);
		if (rc == ENOENT)
			rc = EIO;
		if (rc == 0)
			rc = avro_each(snap->manifest_list, buf, len, list_row,
				       &lc, NULL, err, errlen);
		free(buf);
	} else {
		for (size_t i = 0; i < snap->nmanifests && rc == 0; i++)
			rc = read_manifest(s, &mc, snap->manifests[i]);
	}
	if (rc != 0) {
		bfs_ice_files_free(mc.files, mc.n);
		return rc;
	}
	bfs_ice_match_deletes(mc.files, mc.n);
	*files = mc.files;
	*n = mc.n;
	return 0;
}

void bfs_ice_files_free(struct bfs_ice_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].key);
		free(files[i].sub);
		free(files[i].partition);
		free(files[i].referenced);
		free(files[i].path);
		free(files[i].bucket);
		free(files[i].pkey);
		free(files[i].lower_path);
		free(files[i].upper_path);
		free(files[i].equality_ids);
		free(files[i].deletes);
		free(files[i].applies);
	}
	free(files);
}
