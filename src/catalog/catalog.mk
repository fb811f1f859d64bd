# fragment of Makefile.am: the namespace layer (src/catalog/)
libbfs_a_SOURCES += src/catalog/ns.h src/catalog/ns.c \
	src/catalog/vdir.h src/catalog/vdir.c \
	src/catalog/bucket_view.h src/catalog/bucket_view.c \
	src/catalog/stack.h src/catalog/stack.c \
	src/catalog/lake.h src/catalog/lake.c
libbfs_a_SOURCES += src/catalog/glob.h src/catalog/glob.c \
	src/catalog/bucket_tables.h src/catalog/bucket_tables.c
check_PROGRAMS += tests/unit/test_glob
tests_unit_test_glob_SOURCES = tests/unit/test_glob.c src/catalog/glob.c \
	src/log.c
tests_unit_test_glob_LDADD = $(FUSE_LIBS)
# the in-memory store serves unit tests of the layers above the store
libbfs_a_SOURCES += src/store/mem.h src/store/mem.c
check_PROGRAMS += tests/unit/test_catalog
tests_unit_test_catalog_SOURCES = tests/unit/test_catalog.c \
	src/catalog/ns.c src/catalog/vdir.c src/catalog/bucket_view.c \
	src/catalog/bucket_tables.c src/catalog/glob.c src/store/mem.c \
	src/store/store.c src/log.c
tests_unit_test_catalog_LDADD = $(FUSE_LIBS) -lpthread
check_PROGRAMS += tests/unit/test_store_mem
tests_unit_test_store_mem_SOURCES = tests/unit/test_store_mem.c \
	tests/unit/store_conformance.c src/store/mem.c src/store/store.c \
	src/log.c
tests_unit_test_store_mem_LDADD = $(FUSE_LIBS) -lpthread
libbfs_a_SOURCES += src/catalog/ice_resolve.h src/catalog/ice_resolve.c \
	src/catalog/ice_avro.h src/catalog/ice_avro.c \
	src/catalog/ice_partition.h src/catalog/ice_partition.c \
	src/catalog/ice_deletes.h src/catalog/ice_deletes.c
check_PROGRAMS += tests/unit/test_iceberg
tests_unit_test_iceberg_SOURCES = tests/unit/test_iceberg.c \
	src/catalog/ice_resolve.c src/catalog/ice_avro.c \
	src/catalog/ice_partition.c src/catalog/ice_deletes.c src/store/mem.c \
	src/store/store.c src/log.c
tests_unit_test_iceberg_LDADD = $(AVRO_LIBS) $(JANSSON_LIBS) $(CODEC_LIBS) \
	$(FUSE_LIBS) -lpthread
libbfs_a_SOURCES += src/catalog/iceberg_ns.h src/catalog/iceberg_ns.c

# libFuzzer targets for Iceberg metadata JSON and path re-rooting:
# `make fuzz-iceberg` builds them with clang and runs each for FUZZ_TIME
# seconds (FUZZ_CC, FUZZ_FLAGS, FUZZ_TIME come from src/config.mk).
ICE_FUZZ_SRC = $(top_srcdir)/src/catalog/ice_resolve.c \
	$(top_srcdir)/src/catalog/ice_avro.c \
	$(top_srcdir)/src/catalog/ice_partition.c \
	$(top_srcdir)/src/catalog/ice_deletes.c \
	$(top_srcdir)/src/store/store.c $(top_srcdir)/src/log.c
ICE_FUZZ_LIBS = $(AVRO_LIBS) $(JANSSON_LIBS) $(CODEC_LIBS) $(FUSE_LIBS) \
	-lpthread
tests/fuzz/fuzz_iceberg_meta tests/fuzz/fuzz_iceberg_path: \
		tests/fuzz/%: $(top_srcdir)/tests/fuzz/%.c $(ICE_FUZZ_SRC)
	@mkdir -p tests/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 $(WARN_CFLAGS) \
		-Wno-format-nonliteral $(AM_CPPFLAGS) $(CPPFLAGS) -o $@ \
		$(top_srcdir)/tests/fuzz/$*.c $(ICE_FUZZ_SRC) $(ICE_FUZZ_LIBS)
fuzz-iceberg: tests/fuzz/fuzz_iceberg_meta tests/fuzz/fuzz_iceberg_path
	@mkdir -p tests/fuzz/corpus-iceberg-meta tests/fuzz/corpus-iceberg-path
	tests/fuzz/fuzz_iceberg_meta -max_total_time=$(FUZZ_TIME) -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		tests/fuzz/corpus-iceberg-meta $(top_srcdir)/tests/fuzz/seeds-iceberg
	tests/fuzz/fuzz_iceberg_path -max_total_time=$(FUZZ_TIME) -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 tests/fuzz/corpus-iceberg-path
fuzz: fuzz-config fuzz-iceberg
.PHONY: fuzz-iceberg fuzz
# test helper: rewrites the paths inside Iceberg Avro files
check_PROGRAMS += tests/tools/ice_rewrite
tests_tools_ice_rewrite_SOURCES = tests/tools/ice_rewrite.c src/log.c
tests_tools_ice_rewrite_LDADD = $(AVRO_LIBS) $(FUSE_LIBS) -lpthread
