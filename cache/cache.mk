# fragment of Makefile.am: the cache layers (cache/): the LMDB index of a
# cache dir, the metadata cache, the block cache and its file format, the
# prefetcher, their stats records, and `bucketfs cache`.
libbfs_a_SOURCES += cache/index.h cache/index.c cache/stats.h cache/stats.c \
	cache/metacache.h cache/metacache.c \
	cache/blockfile.h cache/blockfile.c \
	$(BLOCKCACHE_SOURCES) \
	cache/prefetch.h cache/prefetch.c \
	src/cli/cache.c

# the block cache, one file per job (see cache/blockcache_priv.h)
BLOCKCACHE_SOURCES = cache/blockcache.h cache/blockcache_priv.h \
	cache/blockcache.c cache/blockcache_index.c cache/blockcache_mem.c \
	cache/blockcache_block.c cache/blockcache_life.c cache/blockcache_dir.c

check_PROGRAMS += tests/unit/test_cache
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c tests/unit/tap.h \
	cache/index.c cache/stats.c cache/metacache.c cache/blockfile.c \
	$(BLOCKCACHE_SOURCES) cache/prefetch.c \
	src/store/mem.c src/store/store.c src/util.c src/log.c src/metrics.c
tests_unit_test_cache_LDADD = $(LMDB_LIBS) $(OPENSSL_LIBS) $(FUSE_LIBS) \
	-lpthread
