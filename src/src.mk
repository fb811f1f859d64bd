# fragment of Makefile.am: the base of every layer (src/): logging, the
# lock order checker, metrics (and their HTTP endpoint), shared helpers (util.c), the configuration
# (conf*.c, one file per job: conf_priv.h lists them) and credentials
# (secret.c, config_write.c), built into src/libbfs_base.a; and the
# program's start-up (main.c).
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += src/libbfs_base.a
src_libbfs_base_a_SOURCES = \
	src/banned.h \
	src/cancel.c \
	src/cancel.h \
	src/compat.h \
	src/conf.c \
	src/conf.h \
	src/conf_doc.c \
	src/conf_file.c \
	src/conf_keys.c \
	src/conf_priv.h \
	src/conf_util.c \
	src/conf_values.c \
	src/config_write.c \
	src/config_write.h \
	src/doc_text.c \
	src/doc_text.h \
	src/endpoint.c \
	src/endpoint.h \
	src/lockorder.c \
	src/lockorder.h \
	src/log.c \
	src/log.h \
	src/metrics.c \
	src/metrics.h \
	src/metrics_http.c \
	src/metrics_http.h \
	src/secret.c \
	src/secret.h \
	src/util.c \
	src/util.h

bin_PROGRAMS = bucketfs
bucketfs_SOURCES = src/main.c

# The parts of the docs generated from the key tables of src/conf_keys.c:
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
.PHONY: config-docs
