# fragment of Makefile.am: the command line (src/cli/): one file per
# command group, the connection test and its helpers, built into
# src/cli/libbfs_cli.a.
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += src/cli/libbfs_cli.a
src_cli_libbfs_cli_a_SOURCES = \
	src/cli/bucket.c \
	src/cli/cache.c \
	src/cli/catalog.c \
	src/cli/catalog_show.c \
	src/cli/cli.c \
	src/cli/cli.h \
	src/cli/cli_priv.h \
	src/cli/conntest.c \
	src/cli/conntest.h \
	src/cli/help.c \
	src/cli/key.c \
	src/cli/mount.c \
	src/cli/notify.c \
	src/cli/notify.h \
	src/cli/premount.c \
	src/cli/readahead.c \
	src/cli/readahead.h \
	src/cli/recover.c \
	src/cli/stats.c \
	src/cli/watch.c \
	src/cli/watch.h
