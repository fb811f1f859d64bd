/*
 * mime.h - the Content-Type of a new object from its name, as s3fs
 * gives it: the extension looked up in /etc/mime.types (read once,
 * thread-safe). A bucket served over HTTP then shows a .txt as
 * text/plain instead of binary/octet-stream.
 */
#ifndef BFS_FS_MIME_H
#define BFS_FS_MIME_H

/*
 * The MIME type of key by its extension (case-insensitive), or NULL when
 * it has none, none is known, or /etc/mime.types cannot be read (the
 * store's default then). The string lives until the process exits.
 */
const char *bfs_mime_type(const char *key);

#endif
