# fragment of Makefile.am: the libFuzzer targets (tests/fuzz/). They are
# built with clang (FUZZ_CC) and its fuzzer sanitizer, so from the
# sources of the layer libraries they need, not from the libraries.
# `make fuzz` builds each and runs it for FUZZ_TIME seconds (make
# fuzz-NAME runs one): the INI handler, Iceberg metadata and paths, the
# S3 XML parsers, SigV4 canonicalisation and the block file header.
FUZZ_CC = clang
FUZZ_TIME = 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_BUILD = $(FUZZ_CC) $(FUZZ_FLAGS) -std=gnu11 $(WARN_CFLAGS) \
	-Wno-format-nonliteral $(AM_CPPFLAGS) $(CPPFLAGS)

# the INI handler, over the config fixtures as seeds
FUZZ_CONFIG_SRC = $(addprefix $(top_srcdir)/, \
	$(filter src/conf%.c src/log.c,$(src_libbfs_base_a_SOURCES)))
tests/fuzz/fuzz_config: $(top_srcdir)/tests/fuzz/fuzz_config.c \
		$(FUZZ_CONFIG_SRC)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) -o $@ $(top_srcdir)/tests/fuzz/fuzz_config.c \
		$(FUZZ_CONFIG_SRC) $(INIH_LIBS) $(FUSE_LIBS) -lpthread
fuzz-config: tests/fuzz/fuzz_config
	@mkdir -p tests/fuzz/corpus-config
	tests/fuzz/fuzz_config -max_total_time=$(FUZZ_TIME) -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-dict=$(top_srcdir)/tests/fuzz/config.dict \
		tests/fuzz/corpus-config $(top_srcdir)/tests/data/config

# Iceberg metadata JSON and path re-rooting
ICE_FUZZ_SRC = $(addprefix $(top_srcdir)/, \
	$(filter src/catalog/ice_%.c,$(src_catalog_libbfs_catalog_a_SOURCES)) \
	src/store/store.c src/log.c)
ICE_FUZZ_LIBS = $(AVRO_LIBS) $(JANSSON_LIBS) $(CODEC_LIBS) $(FUSE_LIBS) \
	-lpthread
tests/fuzz/fuzz_iceberg_meta tests/fuzz/fuzz_iceberg_path: \
		tests/fuzz/%: $(top_srcdir)/tests/fuzz/%.c $(ICE_FUZZ_SRC)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) -o $@ $(top_srcdir)/tests/fuzz/$*.c $(ICE_FUZZ_SRC) \
		$(ICE_FUZZ_LIBS)
fuzz-iceberg: tests/fuzz/fuzz_iceberg_meta tests/fuzz/fuzz_iceberg_path
	@mkdir -p tests/fuzz/corpus-iceberg-meta tests/fuzz/corpus-iceberg-path
	tests/fuzz/fuzz_iceberg_meta -max_total_time=$(FUZZ_TIME) -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		tests/fuzz/corpus-iceberg-meta $(top_srcdir)/tests/fuzz/seeds-iceberg
	tests/fuzz/fuzz_iceberg_path -max_total_time=$(FUZZ_TIME) -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 tests/fuzz/corpus-iceberg-path

# The S3 XML parsers, SigV4 canonicalisation and the block file header:
# each target's sources are its own file and what it stands on.
FUZZ_S3_XML_SRC = $(addprefix $(top_srcdir)/, \
	$(filter src/store/s3_xml.c src/store/store.c, \
		$(src_store_libbfs_store_a_SOURCES)) \
	$(filter src/util.c src/log.c,$(src_libbfs_base_a_SOURCES)))
FUZZ_SIGV4_SRC = $(addprefix $(top_srcdir)/, \
	$(filter src/store/sigv4.c,$(src_store_libbfs_store_a_SOURCES)) \
	$(filter src/util.c src/log.c,$(src_libbfs_base_a_SOURCES)))
FUZZ_BLOCKFILE_SRC = $(addprefix $(top_srcdir)/, \
	$(filter cache/blockfile.c,$(cache_libbfs_cache_a_SOURCES)) \
	$(filter src/util.c src/log.c,$(src_libbfs_base_a_SOURCES)))
FUZZ_BASE_LIBS = $(FUSE_LIBS) -lpthread -lm
tests/fuzz/fuzz_s3_xml: $(top_srcdir)/tests/fuzz/fuzz_s3_xml.c \
		$(FUZZ_S3_XML_SRC)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) -o $@ $(top_srcdir)/tests/fuzz/fuzz_s3_xml.c \
		$(FUZZ_S3_XML_SRC) $(EXPAT_LIBS) $(FUZZ_BASE_LIBS)
tests/fuzz/fuzz_sigv4: $(top_srcdir)/tests/fuzz/fuzz_sigv4.c \
		$(FUZZ_SIGV4_SRC)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) -o $@ $(top_srcdir)/tests/fuzz/fuzz_sigv4.c \
		$(FUZZ_SIGV4_SRC) $(OPENSSL_LIBS) $(FUZZ_BASE_LIBS)
tests/fuzz/fuzz_blockfile: $(top_srcdir)/tests/fuzz/fuzz_blockfile.c \
		$(FUZZ_BLOCKFILE_SRC)
	@mkdir -p tests/fuzz
	$(FUZZ_BUILD) -o $@ $(top_srcdir)/tests/fuzz/fuzz_blockfile.c \
		$(FUZZ_BLOCKFILE_SRC) $(FUZZ_BASE_LIBS)
FUZZ_RUN = -max_total_time=$(FUZZ_TIME) -timeout=5 -rss_limit_mb=2048 \
	-print_final_stats=1
fuzz-s3-xml: tests/fuzz/fuzz_s3_xml
	@mkdir -p tests/fuzz/corpus-s3-xml
	tests/fuzz/fuzz_s3_xml $(FUZZ_RUN) tests/fuzz/corpus-s3-xml \
		$(top_srcdir)/tests/fuzz/seeds-s3-xml
fuzz-sigv4: tests/fuzz/fuzz_sigv4
	@mkdir -p tests/fuzz/corpus-sigv4
	tests/fuzz/fuzz_sigv4 $(FUZZ_RUN) tests/fuzz/corpus-sigv4 \
		$(top_srcdir)/tests/fuzz/seeds-sigv4
fuzz-blockfile: tests/fuzz/fuzz_blockfile
	@mkdir -p tests/fuzz/corpus-blockfile
	tests/fuzz/fuzz_blockfile $(FUZZ_RUN) tests/fuzz/corpus-blockfile

fuzz: fuzz-config fuzz-iceberg fuzz-s3-xml fuzz-sigv4 fuzz-blockfile
.PHONY: fuzz fuzz-config fuzz-iceberg fuzz-s3-xml fuzz-sigv4 fuzz-blockfile
