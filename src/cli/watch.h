/*
 * watch.h - a mount daemon follows its configuration file: when the file
 * changes (`bucket connect/update/remove`, `catalog add/remove`, an
 * edit), it is read again and the lake's buckets and catalogs follow it
 * (bfs_lake_reload), without a remount.
 *
 * A thread waits on inotify events of the file's directory and, as a
 * fallback (a directory that does not exist yet, a file system without
 * inotify), compares the file's stat every 2 s. A file that does not
 * parse is logged once and changes nothing.
 */
#ifndef BFS_CLI_WATCH_H
#define BFS_CLI_WATCH_H

#include "catalog/lake.h"
#include "fs/fs.h"

struct bfs_config_watch;

/*
 * Start watching path (absolute) for the running mount of lake.
 * @return the watch, or NULL with errno set (nothing is watched; the
 *         mount works without).
 */
struct bfs_config_watch *bfs_config_watch_start(const char *path,
						struct bfs_lake *lake,
						struct bfs_fs *fs,
						struct fuse_session *se);

/* Stop the thread (before the lake shuts down). NULL is a no-op. */
void bfs_config_watch_stop(struct bfs_config_watch *w);

/* Free the configurations read (after bfs_lake_destroy(): the lake
 * borrows them). NULL is a no-op. */
void bfs_config_watch_free(struct bfs_config_watch *w);

#endif
