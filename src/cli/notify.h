/*
 * notify.h - the systemd notify protocol (sd_notify) spoken directly on
 * $NOTIFY_SOCKET, so Type=notify units work without libsystemd.
 */
#ifndef BFS_CLI_NOTIFY_H
#define BFS_CLI_NOTIFY_H

/*
 * Send state (e.g. "READY=1") to $NOTIFY_SOCKET if it is set.
 * @return 0 (also when no socket is set), or an errno.
 */
int bfs_notify(const char *state);

#endif
