# fragment of Makefile.am: `bucketfs bucket ...` and `bucketfs key rotate`
# (src/cli/bucket.c, key.c), the connection test (src/cli/conntest.c) and
# what it stands on: the DNS/TCP/TLS probe (src/net/probe.c) and the S3
# store configuration of a bucket (src/catalog/stack_s3.c).
libbfs_a_SOURCES += src/cli/bucket.c src/cli/key.c \
	src/cli/conntest.h src/cli/conntest.c \
	src/net/probe.h src/net/probe.c \
	src/catalog/stack_s3.h src/catalog/stack_s3.c

# the cause-and-fix lines of the connection test, one case per failure
check_PROGRAMS += tests/unit/test_conntest
tests_unit_test_conntest_SOURCES = tests/unit/test_conntest.c \
	src/cli/conntest.c src/net/probe.c src/catalog/stack_s3.c \
	src/store/providers.c $(S3_SOURCES) src/store/s3_xml.c \
	src/store/sigv4.c src/net/http.c src/lockorder.c src/store/store.c \
	$(CONF_SOURCES) src/log.c src/metrics.c $(CREDS_SOURCES)
tests_unit_test_conntest_LDADD = $(CREDS_LIBS) \
	$(OPENSSL_LIBS) $(INIH_LIBS) $(FUSE_LIBS) -lpthread -lm
