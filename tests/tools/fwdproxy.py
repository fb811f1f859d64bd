#!/usr/bin/env python3
"""fwdproxy.py - a small HTTP forward proxy on loopback, for tests of the
`proxy =` option of a bucket (tests/integration/bucket_options.sh).

Usage: fwdproxy.py --log FILE

Listens on a free loopback port and prints "PORT=<n>" on stdout. It
serves what a client configured with a proxy sends:

    GET http://HOST:PORT/path HTTP/1.1    forwarded to HOST:PORT as
                                          "GET /path", headers unchanged
                                          (the Host header too, so SigV4
                                          signatures stay valid)
    CONNECT HOST:PORT HTTP/1.1            a tunnel: "200 Connection
                                          established", then bytes both
                                          ways (TLS passes through)

Only loopback targets (127.0.0.1, localhost, ::1) are served; any other
is answered 403, so a test can never reach out. Each request is appended
to the log as one line "METHOD TARGET" before it is served, so a test
can tell that the proxy was used and for what. Python 3 standard library
only.
"""

import argparse
import os
import select
import socket
import socketserver
import sys
import threading
import urllib.parse

LOG_LOCK = threading.Lock()
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TUNNEL_IDLE = 120.0


class Handler(socketserver.StreamRequestHandler):
    log_path = None
    # unbuffered: nothing the client sends after the headers (a TLS
    # ClientHello in a tunnel) may stay behind in a buffer
    rbufsize = 0

    def read_exact(self, n):
        out = b""
        while len(out) < n:
            data = self.rfile.read(n - len(out))
            if not data:
                raise OSError("short body")
            out += data
        return out

    def record(self, method, target):
        with LOG_LOCK, open(self.log_path, "a", encoding="utf-8") as f:
            f.write("%s %s\n" % (method, target))

    def answer(self, status, reason):
        self.wfile.write(("HTTP/1.1 %d %s\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n"
                          % (status, reason)).encode("latin-1"))
        self.wfile.flush()

    def read_headers(self):
        headers = []
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                return headers
            k, _, v = h.decode("latin-1").partition(":")
            headers.append((k.strip(), v.strip()))

    def tunnel(self, host, port):
        try:
            up = socket.create_connection((host, port), timeout=30)
        except OSError:
            self.answer(502, "Bad Gateway")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        socks = [self.connection, up]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], TUNNEL_IDLE)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is self.connection else
                     self.connection).sendall(data)
        finally:
            up.close()

    def forward(self, method, url, headers):
        u = urllib.parse.urlsplit(url)
        clen = 0
        for k, v in headers:
            if k.lower() == "content-length":
                clen = int(v)
        body = self.read_exact(clen) if clen else b""
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        try:
            up = socket.create_connection((u.hostname, u.port or 80),
                                          timeout=60)
        except OSError:
            self.answer(502, "Bad Gateway")
            return False
        try:
            out = ["%s %s HTTP/1.1\r\n" % (method, path)]
            for k, v in headers:
                if k.lower() in ("proxy-connection", "connection",
                                 "proxy-authorization"):
                    continue
                out.append("%s: %s\r\n" % (k, v))
            out.append("Connection: close\r\n\r\n")
            up.sendall("".join(out).encode("latin-1") + body)
            # the answer, byte for byte, until the server closes
            while True:
                data = up.recv(65536)
                if not data:
                    break
                self.wfile.write(data)
            self.wfile.flush()
        finally:
            up.close()
        return False  # one request per connection: Connection: close

    def handle(self):
        try:
            line = self.rfile.readline(65537)
            parts = line.decode("latin-1").split()
            if len(parts) != 3:
                return
            method, target, _ = parts
            headers = self.read_headers()
            self.record(method, target)
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                host = host.strip("[]")
                if host not in LOOPBACK or not port.isdigit():
                    self.answer(403, "Forbidden")
                    return
                self.tunnel(host, int(port))
                return
            u = urllib.parse.urlsplit(target)
            if u.scheme != "http" or u.hostname not in LOOPBACK:
                self.answer(403, "Forbidden")
                return
            self.forward(method, target, headers)
        except (OSError, ValueError):
            pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    Handler.log_path = args.log
    open(args.log, "a", encoding="utf-8").close()
    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    os.umask(0o077)
    main()
