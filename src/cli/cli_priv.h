/*
 * cli_priv.h - helpers shared by the command files of src/cli/.
 */
#ifndef BFS_CLI_PRIV_H
#define BFS_CLI_PRIV_H

/* Print "bucketfs: <message>" on stderr: one clear line per error. */
void bfs_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Commands: each returns the process exit status. */
int bfs_cli_mount(int argc, char **argv);
int bfs_cli_catalog(int argc, char **argv);

#endif
