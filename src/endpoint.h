/*
 * endpoint.h - the one parser of an S3 endpoint URL and the test of its
 * host for loopback. The configuration check and the store read
 * endpoints with it, so that an endpoint `config check` accepts is one
 * the mount can use, and both agree on what "loopback" (plain http
 * allowed without allow_insecure) means.
 */
#ifndef BFS_ENDPOINT_H
#define BFS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

/* An endpoint split; the pointers are into the parsed string. */
struct bfs_url {
	bool tls;
	const char *host; /* a name, or an IPv6 literal in brackets */
	size_t hostlen;
	size_t authlen; /* host[:port], from host */
};

/* scheme://host[:port][/] into *u; EINVAL for anything else (a path,
 * a query, user info, a host starting with '.' or '-', a bad port). */
int bfs_endpoint_parse(const char *v, struct bfs_url *u);

/* Whether host (as bfs_url gives it) is localhost, 127.0.0.0/8, ::1 or
 * an IPv4-mapped 127.x. */
bool bfs_host_is_loopback(const char *host, size_t n);

#endif
