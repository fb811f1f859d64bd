/*
 * cli_priv.h - helpers shared by the command files of src/cli/.
 */
#ifndef BFS_CLI_PRIV_H
#define BFS_CLI_PRIV_H

#include <stdio.h>

/* Print "bucketfs: <message>" on stderr: one clear line per error. */
void bfs_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Make the process undumpable before it holds keys
 * (bfs_secret_harden_process()); a failure is printed as a warning and
 * the command goes on.
 */
void bfs_cli_harden(void);

/*
 * Print the usage of one command group ("mount", "bucket", ...), or of
 * every command and option when group is NULL or unknown (help.c).
 */
void bfs_cli_help(FILE *f, const char *group);
/* Print the same as the troff source of bucketfs(8). */
void bfs_cli_help_man(FILE *f);

/* Commands: each returns the process exit status. */
int bfs_cli_mount(int argc, char **argv);
int bfs_cli_catalog(int argc, char **argv);
int bfs_cli_bucket(int argc, char **argv);
int bfs_cli_key(int argc, char **argv);
int bfs_cli_cache(int argc, char **argv);
int bfs_cli_recover(int argc, char **argv);
int bfs_cli_stats(int argc, char **argv);

/*
 * `bucketfs mount --premount`: mount fuse.bucketfs on mountpoint (as
 * root, in the caller's mount namespace) and hand the /dev/fuse
 * descriptor to systemd's fd store under the name "fuse", for the
 * unit's sandboxed `bucketfs mount -f` to serve (premount.c).
 * @return 0 or an errno; the error is printed.
 */
int bfs_cli_premount(const char *mountpoint, const char *name,
		     const char *fuse_opts);

/*
 * The config file a command reads or edits: --config FILE (given), else
 * $BUCKETFS_CONFIG, else the default; made absolute.
 * @return a malloc'd path; the caller frees it.
 */
char *bfs_cli_config_path(const char *given);

struct bfs_config;
/*
 * Load the configuration every command but mount reads: given (--config,
 * made absolute), else the default path; the error, with file:line, is
 * printed.
 * @return 0 or the errno of bfs_config_load().
 */
int bfs_cli_config_load(const char *given, struct bfs_config *cfg);

struct bfs_catalog_conf;
/* Print each table of an Iceberg catalog (catalog_show.c). */
int bfs_cli_catalog_show_iceberg(const struct bfs_config *cfg,
				 const struct bfs_catalog_conf *c);

#endif
