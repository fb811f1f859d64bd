/*
 * metrics_http.c - the Prometheus endpoint of metrics_http.h, served by
 * Debian's libmicrohttpd on a socket this file binds itself (so that a
 * taken port or a stale unix socket gets a message of ours, and the
 * bound address can be logged).
 */
#include "compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

#define REQUEST_MEMORY (16u << 10)
#define CONTENT_TYPE   "text/plain; version=0.0.4; charset=utf-8"

struct bfs_metrics_http {
	struct MHD_Daemon *mhd;
	int fd;
	char *unix_path; /* removed at stop, or NULL for TCP */
};

/* An answer of a fixed text (errors), owned by libmicrohttpd. */
static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code,
				  const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * Every request is answered at its first call, before any body: a GET
 * has none worth reading, and libmicrohttpd then discards what a client
 * sends anyway and closes the connection.
 */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *text;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "bucketfs serves /metrics only\n");
	text = bfs_metrics_render(true, &len);
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static int bind_unix(const char *path, int *fdp, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd = -1, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "metrics socket path '%s' is too long (at most %zu "
			 "bytes)",
			 path, sizeof(sa.sun_path) - 1);
		return EINVAL;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = errno;
		goto fail;
	}
	if (lstat(path, &sb) == 0) {
		/* a live socket belongs to another daemon; a dead one is
		 * what a crash leaves, and is replaced */
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen,
				 "cannot serve metrics on '%s': it exists "
				 "and is not a socket",
				 path);
			close(fd);
			return EEXIST;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			snprintf(err, errlen,
				 "cannot serve metrics on '%s': another "
				 "process serves that socket",
				 path);
			close(fd);
			return EADDRINUSE;
		}
		close(fd);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = errno;
			goto fail;
		}
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = errno;
		goto fail;
	}
	if (chmod(path, 0666) != 0 || listen(fd, 16) != 0) {
		rc = errno;
		unlink(path);
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "cannot serve metrics on '%s': %s", path,
		 strerror(rc));
	return rc;
}

/* Split [HOST:]PORT; a bracketed IPv6 host loses its brackets. */
static int split_hostport(const char *addr, char *host, size_t hlen, char *port,
			  size_t plen)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr, *p = addr;
	size_t n = 0;
	char *end;
	long v;

	if (colon) {
		p = colon + 1;
		n = (size_t)(colon - addr);
		if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
			h = addr + 1;
			n -= 2;
		} else if (memchr(addr, ':', n) != NULL) {
			return EINVAL; /* IPv6 without brackets */
		}
	}
	if (n == 0) {
		h = "127.0.0.1";
		n = strlen(h);
	}
	errno = 0;
	v = strtol(p, &end, 10);
	if (*p == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 65535 ||
	    n >= hlen)
		return EINVAL;
	snprintf(host, hlen, "%.*s", (int)n, h);
	snprintf(port, plen, "%ld", v);
	return 0;
}

static int bind_tcp(const char *addr, int *fdp, char *where, size_t wlen,
		    char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], port[8], shown[INET6_ADDRSTRLEN];
	int fd = -1, rc, one = 1;

	if (split_hostport(addr, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(err, errlen,
			 "bad metrics address '%s': expected [HOST:]PORT "
			 "or an absolute socket path",
			 addr);
		return EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot serve metrics on '%s': %s", addr,
			 gai_strerror(rc));
		return EINVAL;
	}
	rc = EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			rc = errno;
			continue;
		}
		/* a restart must not wait out TIME_WAIT of the last scrape */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 16) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot serve metrics on '%s': %s", addr,
			 strerror(rc));
		return rc;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, shown, sizeof(shown));
		snprintf(where, wlen, "[%s]:%u", shown, ntohs(s6->sin6_port));
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, shown, sizeof(shown));
		snprintf(where, wlen, "%s:%u", shown, ntohs(s4->sin_port));
	} else {
		snprintf(where, wlen, "%s", addr);
	}
	*fdp = fd;
	return 0;
}

int bfs_metrics_http_start(const char *addr, struct bfs_metrics_http **out,
			   char *err, size_t errlen)
{
	struct bfs_metrics_http *h;
	char where[300];
	int fd = -1, rc;

	*out = NULL;
	if (addr[0] == '/') {
		rc = bind_unix(addr, &fd, err, errlen);
		snprintf(where, sizeof(where), "%s", addr);
	} else {
		rc = bind_tcp(addr, &fd, where, sizeof(where), err, errlen);
	}
	if (rc != 0)
		return rc;
	h = bfs_xcalloc(1, sizeof(*h));
	h->fd = fd;
	if (addr[0] == '/')
		h->unix_path = bfs_xstrdup(addr);
	h->mhd = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL,
		answer, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)BFS_METRICS_HTTP_CONNS,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)BFS_METRICS_HTTP_TIMEOUT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REQUEST_MEMORY,
		MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen,
			 "cannot serve metrics on '%s': the HTTP server did "
			 "not start",
			 addr);
		bfs_metrics_http_stop(h);
		return EIO;
	}
	bfs_log(LOG_INFO, "serving metrics at http://%s/metrics%s", where,
		addr[0] == '/' ? " (unix socket)" : "");
	*out = h;
	return 0;
}

void bfs_metrics_http_stop(struct bfs_metrics_http *h)
{
	if (h == NULL)
		return;
	if (h->mhd) {
		/* take the listening socket back: it is ours to close */
		MHD_socket fd = MHD_quiesce_daemon(h->mhd);

		MHD_stop_daemon(h->mhd);
		if (fd != MHD_INVALID_SOCKET)
			h->fd = fd;
		else
			h->fd = -1; /* closed by libmicrohttpd */
	}
	if (h->fd >= 0)
		close(h->fd);
	if (h->unix_path)
		unlink(h->unix_path);
	free(h->unix_path);
	free(h);
}
