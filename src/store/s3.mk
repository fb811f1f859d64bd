# fragment of Makefile.am: the S3 store driver, its XML parsers and the
# HTTP layer under it (src/net/). sigv4.c and providers.c are listed by
# their own fragments.
libbfs_a_SOURCES += src/net/http.h src/net/http.c \
	$(S3_SOURCES) \
	src/store/s3_xml.h src/store/s3_xml.c \
	$(CREDS_SOURCES)

# the driver, one file per job (see src/store/s3_priv.h)
S3_SOURCES = src/store/s3.h src/store/s3_priv.h src/store/s3.c \
	src/store/s3_errors.c src/store/s3_request.c src/store/s3_helpers.c \
	src/store/s3_object.c src/store/s3_mpu.c src/store/s3_copy.c \
	src/store/s3_list.c src/store/s3_bucket.c

# where the keys come from: fixed, the AWS provider chain, refresh
CREDS_SOURCES = src/store/creds.h src/store/creds.c \
	src/store/creds_chain.h src/store/creds_chain.c \
	src/store/creds_remote.h src/store/creds_remote.c
CREDS_LIBS = $(CURL_LIBS) $(EXPAT_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS)

# the chain against scripted IMDS, container, STS servers and files
check_PROGRAMS += tests/unit/test_creds
tests_unit_test_creds_SOURCES = tests/unit/test_creds.c $(CREDS_SOURCES) \
	src/net/http.c src/lockorder.c src/store/sigv4.c src/store/store.c src/log.c
tests_unit_test_creds_LDADD = $(CREDS_LIBS) $(FUSE_LIBS) -lpthread -lm

check_PROGRAMS += tests/unit/test_s3_xml
tests_unit_test_s3_xml_SOURCES = tests/unit/test_s3_xml.c \
	src/store/s3_xml.c src/store/store.c src/log.c
tests_unit_test_s3_xml_LDADD = $(EXPAT_LIBS) $(FUSE_LIBS) -lpthread

# against a live server: see tests/integration/s3_store.sh, s3_faults.sh
check_PROGRAMS += tests/unit/test_s3_store
tests_unit_test_s3_store_SOURCES = tests/unit/test_s3_store.c \
	tests/unit/s3_scripted.c tests/unit/s3_scripted.h \
	tests/unit/store_conformance.c tests/unit/store_conformance.h \
	$(S3_SOURCES) src/store/s3_xml.c src/net/http.c src/lockorder.c \
	src/store/sigv4.c src/store/store.c src/log.c src/metrics.c $(CREDS_SOURCES)
tests_unit_test_s3_store_LDADD = $(CREDS_LIBS) \
	$(FUSE_LIBS) -lpthread -lm
