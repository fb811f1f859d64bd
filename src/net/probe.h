/*
 * probe.h - the network half of a connection test: resolve a server's
 * host name, open a TCP connection and, for https, complete the TLS
 * handshake (with certificate and host name verification), then close.
 * No HTTP request is sent.
 *
 * It runs on libcurl with the same TLS settings as the HTTP layer
 * (http.h), so a certificate that the probe trusts is one that requests
 * trust, and it reports each phase separately with its duration, for
 * `bucketfs bucket test`.
 *
 * Invariants:
 * - The whole probe ends within connect_timeout (DNS, TCP and TLS
 *   together, as libcurl's CURLOPT_CONNECTTIMEOUT counts them).
 * - Thread-safe; no state is kept between calls.
 */
#ifndef BFS_NET_PROBE_H
#define BFS_NET_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "net/http.h"

/* The phases of a probe, in order. */
enum bfs_probe_phase {
	BFS_PROBE_DNS,
	BFS_PROBE_TCP,
	BFS_PROBE_TLS,
	BFS_PROBE_DONE, /* every phase passed */
};

struct bfs_probe_result {
	/* the phase that failed, or BFS_PROBE_DONE */
	enum bfs_probe_phase failed;
	/* why it failed (BFS_HTTP_DNS, _CONNECT, _TIMEOUT, _TLS,
	 * _TLS_VERIFY, _OTHER); BFS_HTTP_OK when nothing failed */
	enum bfs_http_fail fail;
	int os_errno; /* errno of the failed connect (ECONNREFUSED ...) */
	bool tls;     /* the URL is https */
	/* microseconds each phase took (0 for a phase not reached) */
	uint64_t dns_us, tcp_us, tls_us;
	char host[256]; /* host name of the URL */
	char ip[64];	/* address connected to, "" if none */
	long port;
	char error[256]; /* libcurl's message on failure, else "" */
};

/*
 * Probe the server of url ("scheme://host[:port]", any path ignored).
 * @param connect_timeout seconds for DNS + TCP + TLS; 0: 10.
 * @param ca_file CA bundle to verify with, or NULL for the system's.
 * @param proxy the forward proxy requests go through (http.h), or NULL:
 *        with one the probe reaches the server as requests do (https
 *        through a CONNECT tunnel, plain http to the proxy itself).
 * @param out filled in every case.
 * @return 0 when every phase passed; ETIMEDOUT (a phase timed out);
 *         EIO (another failure: see out->failed and out->fail);
 *         EINVAL (url is not http:// or https://); ENOMEM.
 */
int bfs_probe_connect(const char *url, double connect_timeout,
		      const char *ca_file, const char *proxy,
		      struct bfs_probe_result *out);

#endif
