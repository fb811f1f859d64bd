/*
 * ice_partition.h - an Iceberg partition tuple in its human form, the
 * path Iceberg Java gives it (PartitionSpec.partitionToPath): for each
 * field `name=value`, the value the transform's human string by the
 * source column's type, name and value URL-encoded (URLEncoder, UTF-8),
 * joined with '/':
 *   p_date=2022-02-22/p_decimal=123.321/ts_hour=2023-05-15-14/s=a%2Fb
 * Nulls are "null"; binary and fixed are base64; timestamps are ISO
 * (Java's LocalDateTime.toString, "Z" for timestamptz).
 */
#ifndef BFS_CATALOG_ICE_PARTITION_H
#define BFS_CATALOG_ICE_PARTITION_H

#include <avro.h>

struct bfs_ice_pfield {
	char *name;
	char *transform; /* "identity", "bucket[16]", "day", … */
	char *type;	 /* the source column's type: "date", "decimal(9,2)" */
};

struct bfs_ice_pspec {
	struct bfs_ice_pfield *fields;
	size_t n;
};

/*
 * Read a partition spec and a schema as a manifest's metadata holds them
 * (JSON: the spec's field list or {"fields": …}; the table schema).
 * @return 0, or EINVAL when either is missing or not understood (the
 *         caller then shows raw values).
 */
int bfs_ice_pspec_parse(const char *spec_json, const char *schema_json,
			struct bfs_ice_pspec *out);

void bfs_ice_pspec_release(struct bfs_ice_pspec *spec);

/*
 * The partition path of the partition record part (a manifest entry's
 * data_file.partition), its fields matched to spec by name.
 * @return malloc'd "k=v/k2=v2", "" for an unpartitioned file.
 */
char *bfs_ice_partition_path(const struct bfs_ice_pspec *spec,
			     avro_value_t *part);

/* One value's human string (not escaped), for tests; buf gets it. */
void bfs_ice_human_value(const char *type, const char *transform,
			 avro_value_t *v, char *buf, size_t len);

#endif
