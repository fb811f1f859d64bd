# fragment of Makefile.am: the libFuzzer targets (tests/fuzz/). They are
# built with clang (FUZZ_CC) and its fuzzer sanitizer, so from the
# sources of the layer libraries they need, not from the libraries.
# `make fuzz` builds each and runs it for FUZZ_TIME seconds.
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

fuzz: fuzz-config fuzz-iceberg
.PHONY: fuzz fuzz-config fuzz-iceberg
