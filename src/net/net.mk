# fragment of Makefile.am: HTTP (src/net/http.c: curl share and multi,
# retries, deadlines) and the DNS/TCP/TLS probe of the connection test,
# built into src/net/libbfs_net.a.
#
# A new file of this directory is one more line of this list.
noinst_LIBRARIES += src/net/libbfs_net.a
src_net_libbfs_net_a_SOURCES = \
	src/net/http.c \
	src/net/http.h \
	src/net/probe.c \
	src/net/probe.h
