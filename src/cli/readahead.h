/*
 * readahead.h - the kernel's read-ahead for a FUSE mount: how large the
 * READ requests it sends to the daemon are.
 */
#ifndef BFS_CLI_READAHEAD_H
#define BFS_CLI_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The device ("MAJ:MIN") of the newest mount on the absolute path mp, from
 * /proc/self/mountinfo. Reads no file under mp, so it is safe before
 * the FUSE loop runs.
 * @return 0, ENOENT (no such mount), or an errno of reading mountinfo.
 */
int bfs_mount_device(const char *mp, char *dev, size_t devlen);

/*
 * Set the read-ahead of the mount's backing device to bytes (rounded
 * down to KiB) through /sys/class/bdi/DEV/read_ahead_kb. Needs root.
 * @return 0 or an errno (EACCES, ENOENT).
 */
int bfs_set_readahead(const char *dev, uint64_t bytes);

/*
 * The read-ahead of the mount's backing device, from
 * /sys/class/bdi/DEV/read_ahead_kb.
 * @return 0 or an errno (ENOENT, EIO).
 */
int bfs_get_readahead(const char *dev, uint64_t *bytes);

#endif
