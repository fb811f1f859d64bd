# fragment of Makefile.am: the command line (src/cli/)
libbfs_a_SOURCES += src/cli/cli.h src/cli/cli_priv.h src/cli/cli.c src/cli/help.c src/cli/recover.c src/cli/stats.c \
	src/cli/mount.c src/cli/notify.h src/cli/notify.c \
	src/cli/readahead.h src/cli/readahead.c src/cli/watch.h src/cli/watch.c src/cli/catalog.c src/cli/catalog_show.c
