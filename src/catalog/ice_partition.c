/*
 * ice_partition.c - Iceberg partition values in their human form (see
 * ice_partition.h). The rules are Iceberg Java's (TransformUtil,
 * Identity.toHumanString, PartitionSpec.partitionToPath), so a path made
 * here is the one a Java engine would have written, and a hive-partition
 * reader gets the same values from it.
 */
#include "compat.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <time.h>

#include "catalog/ice_partition.h"

/* ---- spec and schema ---- */

/* The type (as text) of field id in a schema struct, nested too. */
static char *field_type(json_t *st, json_int_t id)
{
	json_t *fields = json_object_get(st, "fields");
	size_t i;
	json_t *f;

	json_array_foreach(fields, i, f)
	{
		json_t *t = json_object_get(f, "type");
		char *sub;

		if (json_integer_value(json_object_get(f, "id")) == id)
			return json_is_string(t)
				       ? bfs_xstrdup(json_string_value(t))
				       : bfs_xstrdup("?");
		if (json_is_object(t) && (sub = field_type(t, id)) != NULL)
			return sub;
	}
	return NULL;
}

int bfs_ice_pspec_parse(const char *spec_json, const char *schema_json,
			struct bfs_ice_pspec *out)
{
	json_t *spec = NULL, *schema = NULL, *fields;
	json_t *f;
	size_t i;
	int rc = EINVAL;

	memset(out, 0, sizeof(*out));
	if (spec_json == NULL || schema_json == NULL)
		return EINVAL;
	spec = json_loads(spec_json, 0, NULL);
	schema = json_loads(schema_json, 0, NULL);
	fields = json_is_object(spec) ? json_object_get(spec, "fields") : spec;
	if (!json_is_array(fields) || !json_is_object(schema))
		goto out;
	out->fields =
		bfs_xcalloc(json_array_size(fields) + 1, sizeof(*out->fields));
	json_array_foreach(fields, i, f)
	{
		json_t *name = json_object_get(f, "name");
		json_t *tr = json_object_get(f, "transform");
		char *type = field_type(
			schema,
			json_integer_value(json_object_get(f, "source-id")));

		if (!json_is_string(name) || !json_is_string(tr)) {
			free(type);
			goto out;
		}
		out->fields[out->n].name = bfs_xstrdup(json_string_value(name));
		out->fields[out->n].transform =
			bfs_xstrdup(json_string_value(tr));
		out->fields[out->n].type = type ? type : bfs_xstrdup("?");
		out->n++;
	}
	rc = 0;
out:
	json_decref(spec);
	json_decref(schema);
	if (rc != 0)
		bfs_ice_pspec_release(out);
	return rc;
}

void bfs_ice_pspec_release(struct bfs_ice_pspec *spec)
{
	for (size_t i = 0; i < spec->n; i++) {
		free(spec->fields[i].name);
		free(spec->fields[i].transform);
		free(spec->fields[i].type);
	}
	free(spec->fields);
	memset(spec, 0, sizeof(*spec));
}

/* ---- human strings ---- */

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

static bool as_long(avro_value_t *v, int64_t *out)
{
	int32_t i;

	if (avro_value_get_type(v) == AVRO_INT32 &&
	    avro_value_get_int(v, &i) == 0) {
		*out = i;
		return true;
	}
	return avro_value_get_type(v) == AVRO_INT64 &&
	       avro_value_get_long(v, out) == 0;
}

static bool as_bytes(avro_value_t *v, const unsigned char **p, size_t *n)
{
	const void *b = NULL;

	if (avro_value_get_type(v) == AVRO_BYTES &&
	    avro_value_get_bytes(v, &b, n) == 0) {
		*p = b;
		return true;
	}
	if (avro_value_get_type(v) == AVRO_FIXED &&
	    avro_value_get_fixed(v, &b, n) == 0) {
		*p = b;
		return true;
	}
	return false;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* A civil date from days since 1970-01-01 (no time_t range limits). */
static void civil(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468, era = floordiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static size_t put_date(char *buf, size_t len, int64_t days)
{
	int64_t y;
	int m, d;

	civil(days, &y, &m, &d);
	return (size_t)snprintf(buf, len, "%04" PRId64 "-%02d-%02d", y, m, d);
}

/* Java's LocalTime.toString of nanoseconds into the day. */
static void put_time(char *buf, size_t len, int64_t nanos)
{
	int64_t h = nanos / 3600000000000LL, rest = nanos % 3600000000000LL;
	int64_t mi = rest / 60000000000LL, s, ns;

	rest %= 60000000000LL;
	s = rest / 1000000000LL;
	ns = rest % 1000000000LL;
	if (s == 0 && ns == 0)
		snprintf(buf, len, "%02" PRId64 ":%02" PRId64, h, mi);
	else if (ns == 0)
		snprintf(buf, len, "%02" PRId64 ":%02" PRId64 ":%02" PRId64, h,
			 mi, s);
	else if (ns % 1000000 == 0)
		snprintf(buf, len,
			 "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
			 h, mi, s, ns / 1000000);
	else if (ns % 1000 == 0)
		snprintf(buf, len,
			 "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64,
			 h, mi, s, ns / 1000);
	else
		snprintf(buf, len,
			 "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%09" PRId64,
			 h, mi, s, ns);
}

/* Java's LocalDateTime.toString of units since the epoch. */
static void put_datetime(char *buf, size_t len, int64_t v, int64_t per_sec,
			 bool zone)
{
	int64_t per_day = per_sec * 86400;
	int64_t days = floordiv(v, per_day);
	int64_t in_day = v - days * per_day;
	size_t o = put_date(buf, len, days);

	if (o + 2 >= len)
		return;
	buf[o++] = 'T';
	put_time(buf + o, len - o, in_day * (1000000000LL / per_sec));
	if (zone)
		snprintf(buf + strlen(buf), len - strlen(buf), "Z");
}

/* BigDecimal.toString of a big-endian two's complement unscaled value. */
static void put_decimal(char *buf, size_t len, const unsigned char *b, size_t n,
			int scale)
{
	unsigned __int128 u = 0;
	bool neg = n > 0 && (b[0] & 0x80);
	char digits[48];
	int nd = 0, adjusted;
	size_t o = 0;

	if (n > 16) {
		snprintf(buf, len, "?");
		return;
	}
	for (size_t i = 0; i < n; i++)
		u = (u << 8) | b[i];
	if (neg && n < 16)
		u |= ~(unsigned __int128)0 << (8 * n);
	if (neg)
		u = ~u + 1;
	do {
		digits[nd++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	for (int i = 0; i < nd / 2; i++) {
		char t = digits[i];

		digits[i] = digits[nd - 1 - i];
		digits[nd - 1 - i] = t;
	}
	digits[nd] = '\0';
	adjusted = -scale + nd - 1;
	if (neg && o + 1 < len)
		buf[o++] = '-';
	if (scale >= 0 && adjusted >= -6) {
		char plain[96];
		size_t k = 0;

		if (nd > scale) {
			memcpy(plain, digits, (size_t)(nd - scale));
			k = (size_t)(nd - scale);
		} else {
			plain[k++] = '0';
		}
		if (scale > 0) {
			plain[k++] = '.';
			for (int z = nd; z < scale; z++)
				plain[k++] = '0';
			for (int i = BFS_MAX(nd - scale, 0); i < nd; i++)
				plain[k++] = digits[i];
		}
		plain[k] = '\0';
		snprintf(buf + o, len - o, "%s", plain);
		return;
	}
	snprintf(buf + o, len - o, "%c%s%s%s%d", digits[0], nd > 1 ? "." : "",
		 digits + 1, adjusted > 0 ? "E+" : "E", adjusted);
}

/* Double.toString / Float.toString: the shortest digits that round-trip. */
static void put_double(char *buf, size_t len, double x, bool is_float)
{
	char tmp[64], digits[32];
	int prec, exp, nd = 0;
	char *e;

	if (isnan(x)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(x)) {
		snprintf(buf, len, "%sInfinity", x < 0 ? "-" : "");
		return;
	}
	if (x == 0) {
		snprintf(buf, len, "%s0.0", signbit(x) ? "-" : "");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, x);
		if (is_float ? strtof(tmp, NULL) == (float)x
			     : strtod(tmp, NULL) == x)
			break;
	}
	e = strchr(tmp, 'e');
	exp = (int)strtol(e + 1, NULL, 10);
	for (char *p = tmp; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (fabs(x) >= 1e-3 && fabs(x) < 1e7) {
		char plain[64];
		size_t k = 0;

		if (x < 0)
			plain[k++] = '-';
		if (exp < 0) {
			plain[k++] = '0';
			plain[k++] = '.';
			for (int z = 0; z < -exp - 1; z++)
				plain[k++] = '0';
			for (int i = 0; i < nd; i++)
				plain[k++] = digits[i];
		} else {
			for (int i = 0; i <= exp; i++)
				plain[k++] = i < nd ? digits[i] : '0';
			plain[k++] = '.';
			if (nd > exp + 1)
				for (int i = exp + 1; i < nd; i++)
					plain[k++] = digits[i];
			else
				plain[k++] = '0';
		}
		plain[k] = '\0';
		snprintf(buf, len, "%s", plain);
		return;
	}
	snprintf(buf, len, "%s%c.%sE%d", x < 0 ? "-" : "", digits[0],
		 nd > 1 ? digits + 1 : "0", exp);
}

static void put_base64(char *buf, size_t len, const unsigned char *b, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < len; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)b[i + 1] << 8;
		if (i + 2 < n)
			v |= b[i + 2];
		buf[o++] = tab[(v >> 18) & 63];
		buf[o++] = tab[(v >> 12) & 63];
		buf[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		buf[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	buf[o] = '\0';
}

void bfs_ice_human_value(const char *type, const char *tr, avro_value_t *v,
			 char *buf, size_t len)
{
	const unsigned char *b = NULL;
	avro_value_t u;
	int64_t l = 0;
	size_t n = 0;

	buf[0] = '\0';
	if (!unwrap(v, &u) || strcmp(tr, "void") == 0) {
		snprintf(buf, len, "null");
		return;
	}
	as_long(&u, &l);
	if (strcmp(tr, "year") == 0) {
		snprintf(buf, len, "%04" PRId64, 1970 + l);
	} else if (strcmp(tr, "month") == 0) {
		snprintf(buf, len, "%04" PRId64 "-%02d", 1970 + floordiv(l, 12),
			 (int)(1 + l - floordiv(l, 12) * 12));
	} else if (strcmp(tr, "day") == 0) {
		put_date(buf, len, l);
	} else if (strcmp(tr, "hour") == 0) {
		size_t o = put_date(buf, len, floordiv(l, 24));

		snprintf(buf + o, len - o, "-%02d",
			 (int)(l - floordiv(l, 24) * 24));
	} else if (strncmp(tr, "bucket", 6) == 0) {
		snprintf(buf, len, "%" PRId64, l);
	} else if (strcmp(type, "date") == 0) {
		put_date(buf, len, l);
	} else if (strcmp(type, "time") == 0) {
		put_time(buf, len, l * 1000);
	} else if (strcmp(type, "timestamp") == 0 ||
		   strcmp(type, "timestamptz") == 0) {
		put_datetime(buf, len, l, 1000000, type[9] == 't');
	} else if (strcmp(type, "timestamp_ns") == 0 ||
		   strcmp(type, "timestamptz_ns") == 0) {
		put_datetime(buf, len, l, 1000000000, type[9] == 't');
	} else if (strncmp(type, "decimal(", 8) == 0 && as_bytes(&u, &b, &n)) {
		const char *comma = strchr(type, ',');

		put_decimal(buf, len, b, n,
			    comma ? (int)strtol(comma + 1, NULL, 10) : 0);
	} else if (strcmp(type, "uuid") == 0 && as_bytes(&u, &b, &n) &&
		   n == 16) {
		size_t o = 0;

		for (size_t i = 0; i < 16; i++)
			o += (size_t)snprintf(
				buf + o, len - o, "%s%02x",
				i == 4 || i == 6 || i == 8 || i == 10 ? "-"
								      : "",
				b[i]);
	} else if (as_bytes(&u, &b, &n)) {
		put_base64(buf, len, b, n); /* binary, fixed */
	} else {
		switch (avro_value_get_type(&u)) {
		case AVRO_BOOLEAN: {
			int x = 0;

			avro_value_get_boolean(&u, &x);
			snprintf(buf, len, "%s", x ? "true" : "false");
			break;
		}
		case AVRO_DOUBLE: {
			double d = 0;

			avro_value_get_double(&u, &d);
			put_double(buf, len, d, false);
			break;
		}
		case AVRO_FLOAT: {
			float f = 0;

			avro_value_get_float(&u, &f);
			put_double(buf, len, (double)f, true);
			break;
		}
		case AVRO_STRING: {
			const char *s = "";

			avro_value_get_string(&u, &s, &n);
			snprintf(buf, len, "%.*s", (int)(n ? n - 1 : 0), s);
			break;
		}
		case AVRO_INT32:
		case AVRO_INT64:
			snprintf(buf, len, "%" PRId64, l);
			break;
		default:
			snprintf(buf, len, "?");
		}
	}
}

/* java.net.URLEncoder.encode(s, UTF-8): space is '+'. */
static char *url_escape(const char *s)
{
	size_t n = strlen(s);
	char *out = bfs_xmalloc(3 * n + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '*' || *p == '_')
			*o++ = (char)*p;
		else if (*p == ' ')
			*o++ = '+';
		else
			o += snprintf(o, 4, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

char *bfs_ice_partition_path(const struct bfs_ice_pspec *spec,
			     avro_value_t *part)
{
	char *out = bfs_xstrdup("");
	size_t n = 0;

	if (avro_value_get_type(part) != AVRO_RECORD ||
	    avro_value_get_size(part, &n) != 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		const struct bfs_ice_pfield *f = NULL;
		const char *name = NULL;
		char val[512];
		char *next, *en, *ev;
		avro_value_t v;

		if (avro_value_get_by_index(part, i, &v, &name) != 0)
			continue;
		if (n == spec->n)
			f = &spec->fields[i];
		for (size_t j = 0; f == NULL && j < spec->n; j++)
			if (name && strcmp(spec->fields[j].name, name) == 0)
				f = &spec->fields[j];
		bfs_ice_human_value(f ? f->type : "?",
				    f ? f->transform : "identity", &v, val,
				    sizeof(val));
		en = url_escape(f ? f->name : name ? name : "?");
		ev = url_escape(val);
		next = bfs_xasprintf("%s%s%s=%s", out, *out ? "/" : "", en, ev);
		free(en);
		free(ev);
		free(out);
		out = next;
	}
	return out;
}
