/*
 * notify.c - sd_notify and sd_listen_fds without libsystemd (see
 * notify.h). The socket is a datagram AF_UNIX path, or an abstract name
 * when it starts with '@'.
 */
#include "compat.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/notify.h"

int bfs_notify_fd(const char *state, int pass_fd)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)state,
			    .iov_len = strlen(state)};
	struct msghdr msg = {.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1};
	size_t n;
	int fd, rc = 0;

	if (path == NULL || path[0] == '\0')
		return pass_fd >= 0 ? ENOTCONN : 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return EINVAL;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	msg.msg_namelen =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (pass_fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		rc = errno;
	close(fd);
	return rc;
}

int bfs_notify(const char *state)
{
	return bfs_notify_fd(state, -1);
}

int bfs_listen_fd(const char *name)
{
	const char *pid = getenv("LISTEN_PID"), *nfds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	size_t len = strlen(name);
	long n;

	if (pid == NULL || nfds == NULL || names == NULL ||
	    strtol(pid, NULL, 10) != (long)getpid())
		return -1;
	n = strtol(nfds, NULL, 10);
	/* LISTEN_FDNAMES is colon separated, one name per fd from 3 on */
	for (long i = 0; i < n && i < 64 && *names; i++) {
		size_t k = strcspn(names, ":");

		if (k == len && strncmp(names, name, len) == 0 &&
		    fcntl((int)(3 + i), F_GETFD) >= 0)
			return (int)(3 + i);
		names += k;
		if (*names == ':')
			names++;
	}
	return -1;
}
