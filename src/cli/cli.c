/*
 * cli.c - the command dispatcher, --help and --version.
 */
#include "compat.h"

#include <stdarg.h>

#include "cli/cli.h"
#include "cli/cli_priv.h"
#include "conf.h"
#include "secret.h"

void bfs_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("bucketfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bfs_cli_harden(void)
{
	int rc = bfs_secret_harden_process();

	if (rc != 0)
		bfs_cli_error("warning: cannot make the process undumpable: "
			      "%s",
			      strerror(rc));
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* `bucketfs GROUP ... --help`: the group's usage, whatever else is
 * given. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

/*
 * mount(8) runs /sbin/mount.bucketfs SPEC DIR [-sfnv] [-N NS] [-o OPTS]
 * [-t TYPE]: keep SPEC, DIR and -o; mount(8)'s own flags mean nothing
 * here (-s is "sloppy" there, not single-threaded).
 */
static int mount_helper(int argc, char **argv)
{
	char **args = bfs_xcalloc((size_t)argc + 1, sizeof(char *));
	int n = 0, rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-t") == 0 || strcmp(a, "-N") == 0) &&
		    i + 1 < argc) {
			i++;
			continue;
		}
		if (a[0] == '-' && a[1] &&
		    strspn(a + 1, "sfnv") == strlen(a + 1))
			continue;
		args[n++] = argv[i];
	}
	rc = bfs_cli_mount(n, args);
	free(args);
	return rc;
}

int bfs_cli_main(int argc, char **argv)
{
	static const char *const groups[] = {"mount",	"bucket", "key",
					     "catalog", "cache",  "recover",
					     "stats"};

	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (strncmp(base, "mount.", 6) == 0 && argc >= 3)
		return mount_helper(argc, argv);
	if (argc < 2) {
		bfs_cli_help(stderr, NULL);
		return 2;
	}
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		if (argc >= 3 && strcmp(argv[2], "--man") == 0)
			bfs_cli_help_man(stdout);
		else
			bfs_cli_help(stdout, argc >= 3 ? argv[2] : NULL);
		return 0;
	}
	for (size_t i = 0; i < BFS_ARRAY_SIZE(groups); i++)
		if (strcmp(argv[1], groups[i]) == 0 && wants_help(argc, argv)) {
			bfs_cli_help(stdout, groups[i]);
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
	if (strcmp(argv[1], "recover") == 0)
		return bfs_cli_recover(argc - 2, argv + 2);
	if (strcmp(argv[1], "stats") == 0)
		return bfs_cli_stats(argc - 2, argv + 2);
	if (argv[1][0] != '-' && argc >= 3)
		/* mount.fuse3 calls: bucketfs NAME MOUNTPOINT -o opts */
		return bfs_cli_mount(argc - 1, argv + 1);
	bfs_cli_error("unknown command '%s' (see 'bucketfs --help')", argv[1]);
	return 2;
}
