/*
 * probe.c - DNS, TCP and TLS reachability of a server, phase by phase,
 * for the connection test (see probe.h). libcurl does the work with
 * CURLOPT_CONNECT_ONLY, so the probe uses the resolver, the timeouts and
 * the TLS verification that real requests use.
 */
#include "compat.h"

#include <curl/curl.h>
#include <pthread.h>

#include "net/probe.h"

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static CURLcode probe_init_rc;

static void probe_init(void)
{
	/* reference-counted by libcurl: harmless beside http.c's call */
	probe_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static enum bfs_http_fail classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return BFS_HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
		return BFS_HTTP_DNS;
	case CURLE_COULDNT_CONNECT:
		return BFS_HTTP_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return BFS_HTTP_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return BFS_HTTP_TLS_VERIFY;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return BFS_HTTP_TLS;
	default:
		return BFS_HTTP_OTHER;
	}
}

static uint64_t info_us(CURL *c, CURLINFO what)
{
	curl_off_t v = 0;

	if (curl_easy_getinfo(c, what, &v) != CURLE_OK || v < 0)
		return 0;
	return (uint64_t)v;
}

/* Host and port of url into out; @return 0 or EINVAL. */
static int parse_url(const char *url, struct bfs_probe_result *out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = EINVAL;

	if (!u)
		return ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "https") == 0)
		out->tls = true;
	else if (strcasecmp(scheme, "http") != 0)
		goto out;
	snprintf(out->host, sizeof(out->host), "%s", host);
	out->port = strtol(port, NULL, 10);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int bfs_probe_connect(const char *url, double connect_timeout,
		      const char *ca_file, const char *proxy,
		      struct bfs_probe_result *out)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	uint64_t t_dns, t_tcp, t_tls;
	char *ip = NULL;
	long oserr = 0;
	CURLcode cc;
	CURL *c;
	int rc;

	memset(out, 0, sizeof(*out));
	out->failed = BFS_PROBE_DNS;
	out->fail = BFS_HTTP_OTHER;
	rc = parse_url(url, out);
	if (rc != 0) {
		snprintf(out->error, sizeof(out->error),
			 "not an http:// or https:// URL");
		return rc;
	}
	pthread_once(&probe_once, probe_init);
	if (probe_init_rc != CURLE_OK) {
		snprintf(out->error, sizeof(out->error), "%s",
			 curl_easy_strerror(probe_init_rc));
		return ENOMEM;
	}
	c = curl_easy_init();
	if (!c) {
		snprintf(out->error, sizeof(out->error),
			 "cannot create a curl handle");
		return ENOMEM;
	}
	if (connect_timeout <= 0)
		connect_timeout = 10;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(connect_timeout * 1000));
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	if (proxy) {
		curl_easy_setopt(c, CURLOPT_PROXY, proxy);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	}
	cc = curl_easy_perform(c);

	/* cumulative times since the start: 0 for a phase not completed */
	t_dns = info_us(c, CURLINFO_NAMELOOKUP_TIME_T);
	t_tcp = info_us(c, CURLINFO_CONNECT_TIME_T);
	t_tls = out->tls ? info_us(c, CURLINFO_APPCONNECT_TIME_T) : 0;
	if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
		snprintf(out->ip, sizeof(out->ip), "%s", ip);
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	out->os_errno = (int)oserr;
	out->fail = classify(cc);
	if (cc == CURLE_OK) {
		out->failed = BFS_PROBE_DONE;
		out->dns_us = t_dns;
		out->tcp_us = t_tcp > t_dns ? t_tcp - t_dns : 0;
		out->tls_us = t_tls > t_tcp ? t_tls - t_tcp : 0;
		rc = 0;
		goto out;
	}
	snprintf(out->error, sizeof(out->error), "%s",
		 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	/*
	 * Which phase failed: the error code says it for most failures; a
	 * timeout is placed by the phases that completed (a connected TCP
	 * socket has a connect time; a resolved name has a peer address).
	 */
	if (out->fail == BFS_HTTP_DNS) {
		out->failed = BFS_PROBE_DNS;
	} else if (out->fail == BFS_HTTP_CONNECT) {
		out->failed = BFS_PROBE_TCP;
	} else if (out->fail == BFS_HTTP_TLS ||
		   out->fail == BFS_HTTP_TLS_VERIFY) {
		out->failed = BFS_PROBE_TLS;
	} else if (t_tcp > 0) {
		out->failed = out->tls ? BFS_PROBE_TLS : BFS_PROBE_TCP;
	} else if (t_dns > 0 || out->ip[0]) {
		out->failed = BFS_PROBE_TCP;
	} else {
		out->failed = BFS_PROBE_DNS;
	}
	out->dns_us = out->failed > BFS_PROBE_DNS ? t_dns : 0;
	out->tcp_us = out->failed > BFS_PROBE_TCP && t_tcp > t_dns
			      ? t_tcp - t_dns
			      : 0;
	rc = out->fail == BFS_HTTP_TIMEOUT ? ETIMEDOUT : EIO;
out:
	curl_easy_cleanup(c);
	return rc;
}
