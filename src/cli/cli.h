/*
 * cli.h - the command line: `bucketfs COMMAND ...` and the classic
 * `bucketfs NAME MOUNTPOINT -o opts` form that mount.fuse3 uses.
 */
#ifndef BFS_CLI_H
#define BFS_CLI_H

/* Dispatch argv to a command. @return the process exit status. */
int bfs_cli_main(int argc, char **argv);

#endif
