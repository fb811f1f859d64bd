/*
 * fuzz_iceberg_path.c - libFuzzer target: path re-rooting. The input is
 * split at the first NUL into a file path and a table location; the
 * result must be NULL or a key below the table prefix.
 */
#include "compat.h"

#include "catalog/ice_resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = bfs_xmalloc(size + 2);
	char *loc, *key;

	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	loc = buf + strlen(buf) + 1;
	if (loc > buf + size)
		loc = buf + size;
	key = bfs_ice_reroot(buf, loc, "P/");
	if (key && strncmp(key, "P/", 2) != 0)
		abort();
	free(key);
	free(buf);
	return 0;
}
