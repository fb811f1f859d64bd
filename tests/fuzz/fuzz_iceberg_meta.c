/*
 * fuzz_iceberg_meta.c - libFuzzer target: Iceberg metadata JSON (plain or
 * gzip) through the parser the catalogs use. Any input must give 0 or
 * EIO with a message, never a crash, a leak or undefined behaviour.
 */
#include "compat.h"

#include "catalog/ice_resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bfs_ice_meta m;
	char err[512];

	if (bfs_ice_meta_parse((const char *)data, size, "wh/t/", &m, err,
			       sizeof(err)) == 0)
		bfs_ice_meta_release(&m);
	return 0;
}
