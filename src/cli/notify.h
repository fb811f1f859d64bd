/*
 * notify.h - the systemd notify protocol (sd_notify) spoken directly on
 * $NOTIFY_SOCKET, so Type=notify units work without libsystemd, and the
 * descriptors systemd passes (sd_listen_fds).
 */
#ifndef BFS_CLI_NOTIFY_H
#define BFS_CLI_NOTIFY_H

/*
 * Send state (e.g. "READY=1") to $NOTIFY_SOCKET if it is set.
 * @return 0 (also when no socket is set), or an errno.
 */
int bfs_notify(const char *state);

/*
 * bfs_notify() with pass_fd attached (SCM_RIGHTS), for systemd's file
 * descriptor store ("FDSTORE=1\nFDNAME=fuse").
 * @return 0, ENOTCONN when no $NOTIFY_SOCKET is set, or an errno.
 */
int bfs_notify_fd(const char *state, int pass_fd);

/*
 * The descriptor systemd passed this process under name (LISTEN_PID,
 * LISTEN_FDS, LISTEN_FDNAMES, as sd_listen_fds_with_names reads them).
 * @return the descriptor (3 or above), or -1 when there is none.
 */
int bfs_listen_fd(const char *name);

#endif
