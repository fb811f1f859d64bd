/*
 * endpoint.c - the parse of an endpoint URL and the loopback test of its
 * host (see endpoint.h).
 */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>

#include "endpoint.h"

int bfs_endpoint_parse(const char *v, struct bfs_url *u)
{
	const char *h, *p;

	if (strncasecmp(v, "https://", 8) == 0) {
		u->tls = true;
		h = v + 8;
	} else if (strncasecmp(v, "http://", 7) == 0) {
		u->tls = false;
		h = v + 7;
	} else {
		return EINVAL;
	}
	if (*h == '[') {
		p = strchr(h, ']');
		if (!p || p == h + 1 ||
		    strspn(h + 1, "0123456789abcdefABCDEF:.") !=
			    (size_t)(p - h - 1))
			return EINVAL;
		p++;
	} else {
		p = h + strspn(h, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (p == h || *h == '.' || *h == '-')
			return EINVAL;
	}
	u->host = h;
	u->hostlen = (size_t)(p - h);
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");
		unsigned long port;

		if (n == 0 || n > 5)
			return EINVAL;
		port = strtoul(p + 1, NULL, 10);
		if (port == 0 || port > 65535)
			return EINVAL;
		p += 1 + n;
	}
	u->authlen = (size_t)(p - h);
	if (*p == '/')
		p++;
	return *p ? EINVAL : 0;
}

bool bfs_host_is_loopback(const char *host, size_t n)
{
	char buf[64];
	struct in_addr a4;
	struct in6_addr a6;

	if (n == 0 || n >= sizeof(buf))
		return false;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			return false;
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return false;
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a4) != 1)
		return false;
	return ((const unsigned char *)&a4.s_addr)[0] == 127;
}
