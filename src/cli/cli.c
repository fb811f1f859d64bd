/*
 * cli.c - the command dispatcher, --help and --version.
 */
#include "compat.h"

#include <stdarg.h>

#include "cli/cli.h"
#include "cli/cli_priv.h"
#include "config.h"

void bfs_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("bucketfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bucketfs mount [OPTIONS] [NAME] MOUNTPOINT\n"
		"       bucketfs NAME MOUNTPOINT [-o OPTIONS]   (mount.fuse3 "
		"form)\n"
		"       bucketfs bucket connect|test|list|show|remove ...  "
		"(bucketfs bucket)\n"
		"       bucketfs key rotate\n"
		"       bucketfs cache stats|clear [BUCKET]\n"
		"       bucketfs --version | --help\n"
		"\n"
		"Mounts object-storage buckets and lakehouse catalogs as "
		"files. Without\n"
		"NAME, MOUNTPOINT shows the whole lake: buckets/<name>/ for "
		"every bucket.\n"
		"Unmount with: fusermount3 -u MOUNTPOINT\n"
		"\n"
		"Options:\n"
		"  --config FILE   configuration file (also -o config=FILE)\n"
		"  -f              stay in the foreground, log to stderr\n"
		"  -d              debug: foreground and FUSE request trace\n"
		"  -s              single-threaded\n"
		"  -o OPT[,OPT]    bucketfs options below, or FUSE mount "
		"options\n"
		"                  (allow_other, default_permissions, ro ...)\n"
		"\n");
	bfs_config_print_help(f);
}

int bfs_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("bucketfs %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc >= 3 && (strcmp(argv[1], "--config") == 0 ||
			  strncmp(argv[1], "--config=", 9) == 0)) {
		/* bucketfs --config FILE COMMAND ...: moved after COMMAND,
		 * where every command parses it */
		int n = argv[1][8] == '=' ? 1 : 2;
		char *opt = argv[1], *file = argv[2];

		if (argc < 2 + n) {
			bfs_cli_error("--config needs a file and a command");
			return 2;
		}
		memmove(&argv[1], &argv[1 + n],
			(size_t)(argc - 1 - n) * sizeof(char *));
		argv[argc - n] = opt;
		if (n == 2)
			argv[argc - 1] = file;
	}
	if (strcmp(argv[1], "mount") == 0)
		return bfs_cli_mount(argc - 2, argv + 2);
	if (strcmp(argv[1], "bucket") == 0)
		return bfs_cli_bucket(argc - 2, argv + 2);
	if (strcmp(argv[1], "key") == 0)
		return bfs_cli_key(argc - 2, argv + 2);
	if (strcmp(argv[1], "catalog") == 0)
		return bfs_cli_catalog(argc - 2, argv + 2);
	if (strcmp(argv[1], "cache") == 0)
		return bfs_cli_cache(argc - 2, argv + 2);
	if (argv[1][0] != '-' && argc >= 3)
		/* mount.fuse3 calls: bucketfs NAME MOUNTPOINT -o opts */
		return bfs_cli_mount(argc - 1, argv + 1);
	bfs_cli_error("unknown command '%s' (see 'bucketfs --help')", argv[1]);
	return 2;
}
