/*
 * fuzz_config.c - libFuzzer target for the config parser: the inih
 * handler, our line reader, every value parser and the whole-file
 * checks, through bfs_config_load_buffer(). Any input must give 0 or
 * EINVAL with a "NAME:LINE: ..." message, never a crash or a leak.
 * Built and run by `make fuzz-config` (src/config.mk).
 */
#include "compat.h"

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bfs_config cfg = {0};
	char err[512];
	int rc;

	rc = bfs_config_load_buffer("fuzz", (const char *)data, size, &cfg, err,
				    sizeof(err));
	if (rc != 0 && rc != EINVAL)
		BFS_BUG("unexpected rc %d", rc);
	if (rc == EINVAL && strncmp(err, "fuzz:", 5) != 0)
		BFS_BUG("error without file:line: %s", err);
	if (rc == 0) {
		/* exercise the result the way the mount does */
		for (size_t i = 0; i < cfg.ncatalogs; i++)
			if (!bfs_config_bucket(&cfg, cfg.catalogs[i].bucket))
				BFS_BUG("catalog names a missing bucket");
		(void)bfs_config_set_option(&cfg, "attr_ttl=2s", err,
					    sizeof(err));
	}
	bfs_config_release(&cfg);
	return 0;
}
