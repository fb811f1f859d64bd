/*
 * ice_rewrite.c - test helper: rewrite the paths inside an Iceberg Avro
 * file (a manifest list's manifest_path, a manifest's data_file.file_path)
 * from one location prefix to another, keeping schema, metadata and
 * records, so a table written at one place can be made to claim another
 * (e.g. s3://some-bucket/...) for the re-rooting tests.
 *
 * usage: ice_rewrite IN.avro OUT.avro OLD_PREFIX NEW_PREFIX
 */
#include "compat.h"

#include <avro.h>

static bool unwrap(avro_value_t *v, avro_value_t *out)
{
	*out = *v;
	while (avro_value_get_type(out) == AVRO_UNION) {
		avro_value_t b;

		if (avro_value_get_current_branch(out, &b) != 0)
			return false;
		*out = b;
	}
	return avro_value_get_type(out) == AVRO_STRING ||
	       avro_value_get_type(out) == AVRO_RECORD;
}

/* Rewrite the string field name of rec if it starts with from. */
static int rewrite(avro_value_t *rec, const char *name, const char *from,
		   const char *to)
{
	avro_value_t f, s;
	const char *str = NULL;
	size_t n = 0;
	char *nv;

	if (avro_value_get_by_name(rec, name, &f, NULL) != 0 ||
	    !unwrap(&f, &s) || avro_value_get_type(&s) != AVRO_STRING)
		return 0;
	avro_value_get_string(&s, &str, &n);
	if (strncmp(str, "./", 2) == 0)
		str += 2; /* "./t" and "t/..." name the same place */
	if (strncmp(str, from, strlen(from)) != 0)
		return 0;
	nv = bfs_xasprintf("%s%s", to, str + strlen(from));
	if (avro_value_set_string(&s, nv) != 0) {
		free(nv);
		return 1;
	}
	free(nv);
	return 0;
}

int main(int argc, char **argv)
{
	avro_file_reader_t r;
	avro_file_writer_t w;
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t row;
	int rc = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: ice_rewrite IN OUT OLD NEW\n");
		return 2;
	}
	if (avro_file_reader(argv[1], &r) != 0) {
		fprintf(stderr, "ice_rewrite: %s: %s\n", argv[1],
			avro_strerror());
		return 1;
	}
	schema = avro_file_reader_get_writer_schema(r);
	remove(argv[2]);
	if (avro_file_writer_create_with_codec(argv[2], schema, &w, "deflate",
					       0) != 0) {
		fprintf(stderr, "ice_rewrite: %s: %s\n", argv[2],
			avro_strerror());
		return 1;
	}
	iface = avro_generic_class_from_schema(schema);
	avro_generic_value_new(iface, &row);
	while (avro_file_reader_read_value(r, &row) == 0) {
		avro_value_t df, dfr;

		rc |= rewrite(&row, "manifest_path", argv[3], argv[4]);
		if (avro_value_get_by_name(&row, "data_file", &df, NULL) == 0 &&
		    unwrap(&df, &dfr))
			rc |= rewrite(&dfr, "file_path", argv[3], argv[4]);
		if (avro_file_writer_append_value(w, &row) != 0) {
			fprintf(stderr, "ice_rewrite: append: %s\n",
				avro_strerror());
			rc = 1;
			break;
		}
	}
	avro_value_decref(&row);
	avro_value_iface_decref(iface);
	avro_file_writer_close(w);
	avro_file_reader_close(r);
	avro_schema_decref(schema);
	return rc;
}
