# fragment of Makefile.am: see the header of Makefile.am
# the local store (builtin and `local` buckets) and the store conformance
# battery every driver runs (tests/unit/store_conformance.c)
LOCAL_SOURCES = src/store/local.h src/store/local_priv.h src/store/local.c \
	src/store/local_names.c src/store/local_format.c src/store/local_write.c \
	src/store/local_list.c src/store/local_mpu.c
libbfs_a_SOURCES += $(LOCAL_SOURCES)

check_PROGRAMS += tests/unit/test_store_local
tests_unit_test_store_local_SOURCES = tests/unit/test_store_local.c \
	tests/unit/store_conformance.c tests/unit/store_conformance.h \
	$(LOCAL_SOURCES) src/store/store.c src/util.c src/log.c
tests_unit_test_store_local_LDADD = $(OPENSSL_LIBS) $(FUSE_LIBS) -lpthread

# bfs_store_list_all() against listings that never end
check_PROGRAMS += tests/unit/test_list_bounds
tests_unit_test_list_bounds_SOURCES = tests/unit/test_list_bounds.c \
	src/store/store.c src/log.c
tests_unit_test_list_bounds_LDADD = $(FUSE_LIBS) -lpthread
