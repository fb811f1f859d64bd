# fragment of Makefile.am: the unit tests (tests/unit/). Each program is
# tests/unit/NAME.c linked with the layer libraries (LDADD in
# Makefile.am); only a test with helper files lists its SOURCES.
#
# A new unit test is one more line of this list.
check_PROGRAMS += \
	tests/unit/test_cache \
	tests/unit/test_catalog \
	tests/unit/test_config \
	tests/unit/test_conntest \
	tests/unit/test_fs_core \
	tests/unit/test_creds \
	tests/unit/test_duck_prefetch \
	tests/unit/test_first_bytes \
	tests/unit/test_glob \
	tests/unit/test_inum \
	tests/unit/test_iceberg \
	tests/unit/test_list_bounds \
	tests/unit/test_meta_lookup \
	tests/unit/test_meta_upload \
	tests/unit/test_metrics \
	tests/unit/test_providers \
	tests/unit/test_rand_reads \
	tests/unit/test_readfail \
	tests/unit/test_s3_store \
	tests/unit/test_s3_xml \
	tests/unit/test_s3rver_runs \
	tests/unit/test_secret \
	tests/unit/test_sigv4 \
	tests/unit/test_store_local \
	tests/unit/test_store_mem \
	tests/unit/test_store_stack \
	tests/unit/test_upload \
	tests/unit/test_util

# the store conformance battery every driver runs, and the scripted S3
# server of the request-level tests
CONFORMANCE = tests/unit/store_conformance.c tests/unit/store_conformance.h
tests_unit_test_store_local_SOURCES = tests/unit/test_store_local.c \
	$(CONFORMANCE)
tests_unit_test_store_mem_SOURCES = tests/unit/test_store_mem.c \
	$(CONFORMANCE)
tests_unit_test_store_stack_SOURCES = tests/unit/test_store_stack.c \
	$(CONFORMANCE)
tests_unit_test_s3_store_SOURCES = tests/unit/test_s3_store.c \
	tests/unit/s3_scripted.c tests/unit/s3_scripted.h $(CONFORMANCE)
# the counting store and helpers of the cache tests
COUNT_STORE = tests/unit/count_store.c tests/unit/count_store.h
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c $(COUNT_STORE)
tests_unit_test_rand_reads_SOURCES = tests/unit/test_rand_reads.c \
	$(COUNT_STORE)
tests_unit_test_s3rver_runs_SOURCES = tests/unit/test_s3rver_runs.c \
	$(COUNT_STORE)
tests_unit_test_duck_prefetch_SOURCES = tests/unit/test_duck_prefetch.c \
	$(COUNT_STORE)
tests_unit_test_first_bytes_SOURCES = tests/unit/test_first_bytes.c \
	$(COUNT_STORE)
tests_unit_test_fs_core_SOURCES = tests/unit/test_fs_core.c \
	tests/unit/fs_mount.c tests/unit/fs_mount.h
tests_unit_test_meta_lookup_SOURCES = tests/unit/test_meta_lookup.c \
	tests/unit/fs_mount.c tests/unit/fs_mount.h
