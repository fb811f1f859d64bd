/*
 * main.c - start-up only: hand argv to the command dispatcher.
 */
#include "compat.h"

#include "cli/cli.h"

int main(int argc, char **argv)
{
	return bfs_cli_main(argc, argv);
}
