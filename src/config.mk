# fragment of Makefile.am: configuration and credentials
# (src/conf.c, src/secret.c, src/config_write.c) and the helpers every
# layer shares (src/util.c); see Makefile.am.
# the configuration, one file per job (see src/conf_priv.h)
CONF_SOURCES = src/conf.h src/conf_priv.h src/conf.c src/conf_keys.c \
	src/conf_util.c src/conf_values.c src/conf_file.c src/conf_doc.c
libbfs_a_SOURCES += $(CONF_SOURCES) \
	src/config_write.h src/config_write.c \
	src/secret.h src/secret.c \
	src/util.h src/util.c

check_PROGRAMS += tests/unit/test_util
tests_unit_test_util_SOURCES = tests/unit/test_util.c src/util.c src/log.c
tests_unit_test_util_LDADD = $(FUSE_LIBS) -lpthread -lm

check_PROGRAMS += tests/unit/test_config tests/unit/test_secret
tests_unit_test_config_SOURCES = tests/unit/test_config.c $(CONF_SOURCES) \
	src/config_write.c src/util.c src/log.c
tests_unit_test_config_LDADD = $(INIH_LIBS) $(OPENSSL_LIBS) $(FUSE_LIBS) \
	-lpthread
tests_unit_test_secret_SOURCES = tests/unit/test_secret.c src/secret.c \
	$(CONF_SOURCES) src/config_write.c src/util.c src/log.c
tests_unit_test_secret_LDADD = $(INIH_LIBS) $(OPENSSL_LIBS) $(FUSE_LIBS) \
	-lpthread

# The parts of the docs generated from the key tables of src/conf.c:
# doc/bucketfs.conf.sample whole, and the key reference of
# doc/bucketfs.conf.5 between its BEGIN KEYS and END KEYS markers.
# tests/unit/test_config fails when either is out of date.
config-docs: tests/unit/test_config
	tests/unit/test_config --print-sample \
		>$(top_srcdir)/doc/bucketfs.conf.sample
	tests/unit/test_config --print-man >config-docs.tmp
	awk -v gen=config-docs.tmp \
		'/^\.\\" BEGIN KEYS/ { print; \
			while ((getline l < gen) > 0) print l; skip = 1; next } \
		 /^\.\\" END KEYS/ { skip = 0 } !skip { print }' \
		$(top_srcdir)/doc/bucketfs.conf.5 >config-docs.man
	mv config-docs.man $(top_srcdir)/doc/bucketfs.conf.5
	rm -f config-docs.tmp

# libFuzzer target for the INI handler: `make fuzz-config` builds it with
# clang and runs it for FUZZ_TIME seconds over the fixtures as seeds.
FUZZ_CC = clang
FUZZ_TIME = 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
tests/fuzz/fuzz_config: $(top_srcdir)/tests/fuzz/fuzz_config.c \
		$(CONF_SOURCES:%=$(top_srcdir)/%) $(top_srcdir)/src/log.c
	@mkdir -p tests/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 $(WARN_CFLAGS) \
		-Wno-format-nonliteral $(AM_CPPFLAGS) \
		$(CPPFLAGS) -o $@ $(top_srcdir)/tests/fuzz/fuzz_config.c \
		$(filter %.c,$(CONF_SOURCES:%=$(top_srcdir)/%)) \
		$(top_srcdir)/src/log.c $(INIH_LIBS) $(FUSE_LIBS) -lpthread
fuzz-config: tests/fuzz/fuzz_config
	@mkdir -p tests/fuzz/corpus-config
	tests/fuzz/fuzz_config -max_total_time=$(FUZZ_TIME) -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-dict=$(top_srcdir)/tests/fuzz/config.dict \
		tests/fuzz/corpus-config $(top_srcdir)/tests/data/config

.PHONY: config-docs fuzz-config
