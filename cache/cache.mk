# fragment of Makefile.am: the cache layers (cache/): the LMDB index of a
# cache dir, the metadata cache, the block cache (blockcache*.c) and its
# file format, the prefetcher and their stats records, built into
# cache/libbfs_cache.a.
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += cache/libbfs_cache.a
cache_libbfs_cache_a_SOURCES = \
	cache/blockcache.c \
	cache/blockcache.h \
	cache/blockcache_block.c \
	cache/blockcache_dir.c \
	cache/blockcache_index.c \
	cache/blockcache_life.c \
	cache/blockcache_mem.c \
	cache/blockcache_priv.h \
	cache/blockfile.c \
	cache/blockfile.h \
	cache/index.c \
	cache/index.h \
	cache/metacache.c \
	cache/metacache.h \
	cache/metacache_dir.c \
	cache/metacache_dir.h \
	cache/parquet.c \
	cache/parquet.h \
	cache/prefetch.c \
	cache/prefetch.h \
	cache/prefetch_plan.c \
	cache/prefetch_priv.h \
	cache/stats.c \
	cache/stats.h
