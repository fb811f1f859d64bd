# fragment of Makefile.am: see the header of Makefile.am
# SigV4 signing and the provider table (endpoints of s3, r2, gcs, custom).
libbfs_a_SOURCES += src/store/sigv4.h src/store/sigv4.c \
	src/store/providers.h src/store/providers.c

check_PROGRAMS += tests/unit/test_sigv4 tests/unit/test_providers
tests_unit_test_sigv4_SOURCES = tests/unit/test_sigv4.c tests/unit/tap.h \
	src/store/sigv4.c src/log.c
tests_unit_test_sigv4_LDADD = $(OPENSSL_LIBS) $(JANSSON_LIBS) $(FUSE_LIBS) \
	-lpthread
tests_unit_test_providers_SOURCES = tests/unit/test_providers.c \
	tests/unit/tap.h src/store/providers.c src/store/sigv4.c src/log.c
tests_unit_test_providers_LDADD = $(OPENSSL_LIBS) $(FUSE_LIBS) -lpthread
