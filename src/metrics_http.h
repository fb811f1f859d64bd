/*
 * metrics_http.h - the daemon's Prometheus endpoint: GET /metrics on a
 * TCP address or a unix socket (-o metrics=, doc/operations.md,
 * "Metrics").
 *
 * Invariants:
 * - One thread of libmicrohttpd serves every connection (epoll, so a
 *   descriptor number above FD_SETSIZE is fine). It takes no lock of the
 *   filesystem: rendering reads metrics.c's relaxed atomics and takes
 *   only its registry lock, which nothing holds across I/O. A slow or
 *   stuck client can delay other scrapes, never a file operation.
 * - Bounded: at most BFS_METRICS_HTTP_CONNS connections at once (more
 *   are refused at accept), 16 KiB of request memory per connection
 *   (a larger request line or header block is answered 431/414 and
 *   closed), BFS_METRICS_HTTP_TIMEOUT seconds of idleness per
 *   connection. Only GET and HEAD of /metrics are served.
 */
#ifndef BFS_METRICS_HTTP_H
#define BFS_METRICS_HTTP_H

#include <stddef.h>

#define BFS_METRICS_HTTP_CONNS	 8
#define BFS_METRICS_HTTP_TIMEOUT 10 /* seconds */

struct bfs_metrics_http;

/*
 * Serve the metrics on addr: an absolute path (a unix socket, made
 * 0666: the directory decides who reaches it, as anyone on the machine
 * reaches a loopback port), or [HOST:]PORT where HOST is an IPv4
 * address, a bracketed IPv6 address or a name, 127.0.0.1 when left out;
 * port 0 takes a free one (the log line says which).
 * @param out receives the server; stop it with bfs_metrics_http_stop()
 * @param err receives a message naming addr on failure
 * @return 0, EINVAL (addr malformed), EADDRINUSE (taken, or a live
 *         socket at the path), EEXIST (a path that is not a socket),
 *         or the errno of socket/bind/listen.
 * @note call after the daemon forked: it starts a thread.
 */
int bfs_metrics_http_start(const char *addr, struct bfs_metrics_http **out,
			   char *err, size_t errlen);

/* Stop serving, close the socket, remove a unix socket's path; NULL ok. */
void bfs_metrics_http_stop(struct bfs_metrics_http *h);

#endif
