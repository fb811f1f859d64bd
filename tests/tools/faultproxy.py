#!/usr/bin/env python3
"""faultproxy.py - a small HTTP/1.1 proxy that injects faults between an S3
client and an S3 server, for tests/integration/s3_faults.sh.

Usage: faultproxy.py --upstream http://127.0.0.1:PORT --control FILE
       [--port-file FILE]

Listens on a free loopback port and prints "PORT=<n>" on stdout. Requests
are forwarded byte for byte (the Host header too, so SigV4 signatures stay
valid). Before each request the control file is read; it holds one line

    GENERATION MODE COUNT METHOD

and a new GENERATION arms MODE for the next COUNT requests whose method is
METHOD ("*" for any); "POST:uploadId=" matches only POSTs whose path holds
"uploadId=". Several lines arm several rules at once (the first that
matches a request takes it; see Rules). Write the file whole and rename
it into place. Modes:

    none                  forward everything
    slowdown              answer 503 SlowDown (no Retry-After)
    slowdown-retry-after  answer 503 SlowDown with Retry-After: 1
    500                   answer 500 InternalError
    reset                 forward, send the headers and half the body of
                          the answer, then reset the connection
    reset-request         read half the request body, then reset (nothing
                          reaches the server)
    stall                 read the request and answer nothing until the
                          client gives up (at most 120 s), then close
    lose-response         forward the whole request (the server acts on
                          it), then reset instead of answering
    badxml                forward, then answer 200 with truncated XML
    endless-list          answer a listing page that says more follows,
                          with the continuation token it was sent (the
                          listing never ends)
    stall-body            forward, send the headers and half the body,
                          then send nothing more (at most 120 s)
    trickle               forward, then send the body one byte every
                          0.2 s (a transfer that never quite stalls)
    junk                  answer 200 with 64 KiB of random bytes
    html                  answer 200 with an HTML page (a captive portal
                          or a web server in front of the endpoint)
    hold                  read the request, create FILE.held (FILE being
                          the control file), then forward it only once
                          FILE.release exists (at most 900 s): an upload
                          that stays in flight for as long as a test
                          needs, ended by the test, not by a clock
    skew                  a server whose clock is SKEW (600) s ahead:
                          a request whose x-amz-date is more than 300 s
                          off that clock is answered 403
                          RequestTimeTooSkewed with that clock in its
                          Date (as S3 does), one signed with it is
                          forwarded (RGW accepts 10 minutes of skew)
    error200              answer 200 OK with an <Error> document
                          (InternalError) in the body, as CopyObject and
                          CompleteMultipartUpload do; nothing forwarded
    redirect307           answer 307 TemporaryRedirect with a Location
                          naming the same request at the upstream
                          server itself (a client that follows it must
                          sign again for the new host)
    redirect301           answer 301 PermanentRedirect, the S3 error
                          document naming the upstream as <Endpoint>
                          and REGION (eu-west-1) in x-amz-bucket-region
    short-body            forward, send the headers (the whole
                          Content-Length) and half the body, then close
                          the connection cleanly (FIN, not a reset)
    short-length          forward, then answer with a Content-Length of
                          half the body and that half: a well-framed
                          answer shorter than the headers promise
                          (Content-Range, x-amz-meta) and than asked for
    error-html            answer 503 with an HTML page (a load
                          balancer's error page, not S3 XML)
    error-text403         answer 403 with a plain-text body
    huge-headers          forward, adding 128 KiB of response headers
    slow-headers          forward, then send the response headers one
                          byte every 0.1 s (the body would follow at
                          once), until the client hangs up (at most
                          120 s)
    429                   answer 429 Too Many Requests with Retry-After: 1

With --chaos N, every Nth request that no armed rule takes gets a fault
from the classes a client can recover from, in turn, each only where it
applies (the next class in the rotation that fits the request):
slowdown, slowdown-retry-after, 429, 500, error-html, reset-request,
redirect307, skew (a clock SKEW s ahead, from the first chaos request
on: it answers only requests signed with the wrong clock), and for GETs
and HEADs reset, stall, short-body, and for ranged GETs short-length. An
<Error> inside a 200 (error200) goes to every third CopyObject and
CompleteMultipartUpload, whatever the turn. Each is logged as
"chaos: METHOD PATH: MODE". Once FILE.calm exists (FILE being the control
file) chaos stops: the server behaves again. The classes that end in an error by design
(junk, html, badxml, redirect301, error-text403, huge-headers,
slow-headers, trickle, endless-list) are left to the rules.

Each injected fault is logged on stderr, and the end of each stall,
stall-body, trickle and slow-headers ("end of MODE"), so a test can wait until the
requests it stalled are over. With --requests FILE, every
request is appended to FILE as one line "METHOD PATH RANGE" (RANGE is the
Range header's value, "-" when there is none), written before it is
forwarded, so that a test can count what a client asked for. With
--headers FILE, every request is appended to FILE as one line
"METHOD PATH<TAB>name=value<TAB>...<TAB>signed=NAMES": its x-amz-* headers
but the date and the payload hash, and the SignedHeaders of its
Authorization (the signature itself is not written), so that a test can
check which headers a client sends and signs. With --tls-cert FILE and
--tls-key FILE it serves https (an HTTPS front with a test CA) and still
forwards plain http upstream. Python 3 standard library only.
"""

import argparse
import calendar
import email.utils
import html
import http.client
import os
import select
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

STALL_MAX = 120.0
SKEW = 600
REGION = "eu-west-1"
REQ_LOCK = threading.Lock()
HOLD_MAX = 900.0


class Rules:
    """The armed faults, re-read from the control file on every request.

    Each line of the file is one rule, "GENERATION MODE COUNT METHOD". A
    line with a GENERATION not seen before arms MODE for COUNT requests;
    a generation already armed keeps what is left of its count; rules
    whose lines are gone are dropped. The first rule that matches a
    request and has count left takes it. A file that cannot be parsed
    (being written) leaves the rules as they were: writers should still
    write a new file and rename it over the old one."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.rules = []  # [gen, mode, left, method]

    def reload(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = [ln.split() for ln in f.read().splitlines()]
        except OSError:
            return
        lines = [ln for ln in lines if ln]
        if not lines or any(len(ln) < 4 or not ln[2].isdigit()
                            for ln in lines):
            return
        old = {r[0]: r for r in self.rules}
        self.rules = [old[ln[0]] if ln[0] in old and old[ln[0]][1] == ln[1]
                      else [ln[0], ln[1], int(ln[2]), ln[3]]
                      for ln in lines]

    def take(self, method, path, log):
        """The mode for this request, logged under the lock: once a new
        control file has been read, every request that got the old
        rules has been logged."""
        with self.lock:
            self.reload()
            for r in self.rules:
                want, _, needle = r[3].partition(":")
                if r[2] > 0 and r[1] != "none" and \
                        want in ("*", method) and needle in path:
                    r[2] -= 1
                    log("%s %s: %s" % (method, path[:120], r[1]))
                    return r[1]
            return None


def s3_error(code, message, extra=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Error><Code>%s</Code><Message>%s</Message>%s'
            '<RequestId>faultproxy</RequestId></Error>'
            % (code, message, extra)).encode()


def amz_date(headers):
    """The request's x-amz-date as seconds since the epoch, or None."""
    for k, v in headers:
        if k.lower() == "x-amz-date":
            try:
                return calendar.timegm(time.strptime(v, "%Y%m%dT%H%M%SZ"))
            except ValueError:
                return None
    return None


CHAOS_ROTATION = ["slowdown", "reset", "slowdown-retry-after", "short-body",
                  "429", "redirect307", "500", "short-length", "error-html",
                  "reset-request", "stall", "skew"]


class Chaos:
    """Faults in turn for --chaos (see the top of this file)."""

    def __init__(self, every, control):
        self.every = every
        self.calm = control + ".calm"
        self.lock = threading.Lock()
        self.n = 0
        self.copies = 0
        self.skewed = False
        self.rotation = list(CHAOS_ROTATION)

    @staticmethod
    def fits(mode, method, headers):
        ranged = any(k.lower() == "range" for k, _ in headers)
        if mode in ("reset", "stall", "short-body"):
            return method in ("GET", "HEAD")
        if mode == "short-length":
            return method == "GET" and ranged
        return True

    def pick(self, method, path, headers):
        if os.path.exists(self.calm):
            return None
        with self.lock:
            copy = any(k.lower() == "x-amz-copy-source" for k, _ in headers)
            if (method == "PUT" and copy) or \
                    (method == "POST" and "uploadId=" in path):
                self.copies += 1
                if self.copies % 3 == 1:
                    return "error200"
            if self.skewed:
                mode = "skew"  # answers only the wrongly signed
            else:
                mode = None
            self.n += 1
            if self.n % self.every:
                return mode
            for i, m in enumerate(self.rotation):
                if self.fits(m, method, headers):
                    self.rotation.append(self.rotation.pop(i))
                    if m == "skew":
                        self.skewed = True
                    return m
            return mode


class Handler(socketserver.StreamRequestHandler):
    rules = None
    upstream = None

    def log(self, msg):
        sys.stderr.write("faultproxy: %s\n" % msg)
        sys.stderr.flush()

    def reset(self):
        """Close with RST (linger 0), as a crashed peer would."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.connection.close()

    def skewed(self, headers):
        """Whether a request was signed more than 5 minutes off the
        clock of a server SKEW seconds ahead (unsigned ones are not)."""
        t = amz_date(headers)
        return t is not None and abs(t - (time.time() + SKEW)) > 300

    def send(self, status, reason, headers, body, head=False):
        out = ["HTTP/1.1 %d %s\r\n" % (status, reason)]
        for k, v in headers:
            out.append("%s: %s\r\n" % (k, v))
        out.append("\r\n")
        self.wfile.write("".join(out).encode("latin-1"))
        if body and not head:
            self.wfile.write(body)
        self.wfile.flush()

    def send_error(self, status, reason, code, message, extra=(),
                   head=False):
        body = s3_error(code, message)
        headers = [("Content-Type", "application/xml"),
                   ("Content-Length", str(len(body)))] + list(extra)
        self.send(status, reason, headers, body, head)

    def forward(self, method, path, headers, body):
        """Send the request upstream; return (status, reason, hdrs, body)."""
        for attempt in range(2):
            if self.up is None:
                self.up = http.client.HTTPConnection(
                    self.upstream.hostname, self.upstream.port, timeout=60)
            try:
                self.up.putrequest(method, path, skip_host=True,
                                   skip_accept_encoding=True)
                for k, v in headers:
                    self.up.putheader(k, v)
                self.up.endheaders(body if body else None)
                r = self.up.getresponse()
                rbody = r.read()
                return r.status, r.reason, r.getheaders(), rbody
            except (OSError, http.client.HTTPException):
                self.up.close()
                self.up = None
                if attempt == 1:
                    raise
        raise OSError("unreachable")

    def handle(self):
        self.up = None
        try:
            while self.one_request():
                pass
        except (OSError, ValueError):
            pass
        finally:
            if self.up is not None:
                self.up.close()

    def one_request(self):
        line = self.rfile.readline(65537)
        if not line:
            return False
        parts = line.decode("latin-1").split()
        if len(parts) != 3:
            return False
        method, path, _ = parts
        headers = []
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            headers.append((k.strip(), v.strip()))
        clen = 0
        for k, v in headers:
            if k.lower() == "content-length":
                clen = int(v)
        if self.server.requests:
            rng = "-"
            for k, v in headers:
                if k.lower() == "range":
                    rng = v.replace(" ", "")
            with REQ_LOCK, open(self.server.requests, "a", encoding="utf-8") as f:
                f.write("%s %s %s\n" % (method, path, rng))
        if self.server.headers:
            fields = ["%s %s" % (method, path)]
            for k, v in headers:
                lk = k.lower()
                if lk.startswith("x-amz-") and lk not in (
                        "x-amz-date", "x-amz-content-sha256"):
                    fields.append("%s=%s" % (lk, v))
                if lk == "authorization":
                    signed = v.partition("SignedHeaders=")[2]
                    fields.append("signed=%s" % signed.partition(",")[0])
            with REQ_LOCK, open(self.server.headers, "a",
                                encoding="utf-8") as f:
                f.write("\t".join(fields) + "\n")
        mode = self.rules.take(method, path, self.log)
        if mode is None and self.server.chaos:
            mode = self.server.chaos.pick(method, path, headers)
            if mode and mode != "skew":
                self.log("chaos: %s %s: %s" % (method, path[:120], mode))

        if mode == "reset-request":
            self.rfile.read(clen // 2)
            self.reset()
            return False
        body = self.rfile.read(clen) if clen else b""
        head = method == "HEAD"
        if mode == "slowdown":
            self.send_error(503, "Slow Down", "SlowDown",
                            "Please reduce your request rate.", (), head)
            return True
        if mode == "slowdown-retry-after":
            self.send_error(503, "Slow Down", "SlowDown",
                            "Please reduce your request rate.",
                            [("Retry-After", "1")], head)
            return True
        if mode == "500":
            self.send_error(500, "Internal Server Error", "InternalError",
                            "We encountered an internal error.", (), head)
            return True
        if mode == "skew":
            if self.skewed(headers):
                now = time.time() + SKEW
                self.send_error(
                    403, "Forbidden", "RequestTimeTooSkewed",
                    "The difference between the request time and the "
                    "current time is too large.",
                    [("Date", email.utils.formatdate(now, usegmt=True))],
                    head)
                self.log("%s%s %s: answered RequestTimeTooSkewed"
                         % ("chaos: " if self.server.chaos else "",
                            method, path[:120]))
                return True
            if not self.server.chaos:
                self.log("%s %s: signed with the server's clock, "
                         "forwarded" % (method, path[:120]))
        if mode == "error200":
            body = s3_error("InternalError",
                            "We encountered an internal error. "
                            "Please try again.")
            self.send(200, "OK", [("Content-Type", "application/xml"),
                                  ("Content-Length", str(len(body)))],
                      body, head)
            return True
        if mode in ("redirect307", "redirect301"):
            up = "%s:%d" % (self.upstream.hostname, self.upstream.port)
            if mode == "redirect307":
                self.send_error(
                    307, "Temporary Redirect", "TemporaryRedirect",
                    "Please re-send this request to the specified "
                    "temporary endpoint.",
                    [("Location", "http://%s%s" % (up, path))], head)
            else:
                body = s3_error(
                    "PermanentRedirect",
                    "The bucket you are attempting to access must be "
                    "addressed using the specified endpoint.",
                    "<Endpoint>%s</Endpoint>" % up)
                self.send(301, "Moved Permanently",
                          [("Content-Type", "application/xml"),
                           ("x-amz-bucket-region", REGION),
                           ("Content-Length", str(len(body)))],
                          body, head)
            return True
        if mode in ("error-html", "error-text403"):
            if mode == "error-html":
                body = (b"<html><head><title>503 Service Temporarily "
                        b"Unavailable</title></head><body><center><h1>"
                        b"503 Service Temporarily Unavailable</h1>"
                        b"</center></body></html>\n")
                st, rs, ct = 503, "Service Unavailable", "text/html"
            else:
                body = b"Forbidden\n"
                st, rs, ct = 403, "Forbidden", "text/plain"
            self.send(st, rs, [("Content-Type", ct),
                               ("Content-Length", str(len(body)))],
                      body, head)
            return True
        if mode == "429":
            self.send_error(429, "Too Many Requests", "TooManyRequests",
                            "Please reduce your request rate.",
                            [("Retry-After", "1")], head)
            return True
        if mode == "hold":
            held = self.rules.path + ".held"
            with open(held + ".tmp", "w", encoding="utf-8") as f:
                f.write("%s %s\n" % (method, path))
            os.replace(held + ".tmp", held)
            release = self.rules.path + ".release"
            waited = 0.0
            while not os.path.exists(release) and waited < HOLD_MAX:
                time.sleep(0.05)
                waited += 0.05
            self.log("%s %s: released" % (method, path[:120]))
        if mode == "stall":
            # answer nothing; wait until the client hangs up
            select.select([self.connection], [], [], STALL_MAX)
            self.log("end of %s" % mode)
            self.reset()
            return False

        if mode == "endless-list":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            tok = q.get("continuation-token", q.get("marker", ["loop"]))[0]
            pfx = q.get("prefix", [""])[0]
            body = ('<?xml version="1.0" encoding="UTF-8"?>'
                    '<ListBucketResult><Name>b</Name><Prefix></Prefix>'
                    '<MaxKeys>1000</MaxKeys><KeyCount>1</KeyCount>'
                    '<IsTruncated>true</IsTruncated>'
                    '<NextContinuationToken>%s</NextContinuationToken>'
                    '<NextMarker>%s</NextMarker>'
                    '<Contents><Key>%sloop</Key><Size>1</Size>'
                    '<ETag>"0"</ETag>'
                    '<LastModified>2026-01-01T00:00:00.000Z</LastModified>'
                    '</Contents></ListBucketResult>'
                    % (html.escape(tok), html.escape(tok),
                       html.escape(pfx))).encode()
            self.send(200, "OK", [("Content-Type", "application/xml"),
                                  ("Content-Length", str(len(body)))],
                      body, head)
            return True
        if mode in ("junk", "html"):
            if mode == "junk":
                body, ctype = os.urandom(65536), "application/octet-stream"
            else:
                body = (b"<!DOCTYPE html><html><head><title>Sign in"
                        b"</title></head><body><h1>Welcome</h1></body>"
                        b"</html>\n")
                ctype = "text/html"
            self.send(200, "OK", [("Content-Type", ctype),
                                  ("Content-Length", str(len(body)))],
                      body, head)
            return True

        try:
            status, reason, rheaders, rbody = self.forward(method, path,
                                                           headers, body)
        except (OSError, http.client.HTTPException) as e:
            self.send_error(502, "Bad Gateway", "BadGateway", str(e), (),
                            head)
            return True
        if mode == "lose-response":
            self.reset()
            return False
        out = []
        for k, v in rheaders:
            kl = k.lower()
            if kl in ("transfer-encoding", "connection", "keep-alive"):
                continue
            if kl == "content-length" and not head:
                continue
            out.append((k, v))
        if mode == "badxml":
            rbody = b'<?xml version="1.0"?><ListBucketResult><Contents><Ke'
            status, reason = 200, "OK"
        if mode == "short-length":
            rbody = rbody[:len(rbody) // 2]
        if mode == "huge-headers":
            for i in range(128):
                out.append(("x-faultproxy-%d" % i, "j" * 1024))
        if not head:
            out.append(("Content-Length", str(len(rbody))))
        if mode == "short-body":
            self.send(status, reason, out, rbody[:len(rbody) // 2], head)
            self.connection.shutdown(socket.SHUT_WR)
            return False
        if mode == "slow-headers":
            raw = ["HTTP/1.1 %d %s\r\n" % (status, reason)]
            raw += ["%s: %s\r\n" % (k, v) for k, v in out] + ["\r\n"]
            raw = "".join(raw).encode("latin-1")
            t0 = time.time()
            for i in range(len(raw)):
                self.wfile.write(raw[i:i + 1])
                self.wfile.flush()
                r, _, _ = select.select([self.connection], [], [], 0.1)
                if r or time.time() - t0 > STALL_MAX:
                    break  # the client hung up
            else:
                if not head:
                    self.wfile.write(rbody)
                    self.wfile.flush()
            self.log("end of %s" % mode)
            self.reset()
            return False
        if mode == "stall-body":
            self.send(status, reason, out, rbody[:len(rbody) // 2], head)
            select.select([self.connection], [], [], STALL_MAX)
            self.log("end of %s" % mode)
            self.reset()
            return False
        if mode == "trickle":
            self.send(status, reason, out, b"", head)
            for i in range(len(rbody)):
                self.wfile.write(rbody[i:i + 1])
                self.wfile.flush()
                r, _, _ = select.select([self.connection], [], [], 0.2)
                if r:  # the client hung up
                    break
            self.log("end of %s" % mode)
            self.reset()
            return False
        if mode == "reset":
            self.send(status, reason, out, rbody[:len(rbody) // 2], head)
            self.reset()
            return False
        self.send(status, reason, out, rbody, head)
        return True


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--requests")
    ap.add_argument("--headers")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--chaos", type=int, default=0,
                    help="a fault every N requests (see above)")
    args = ap.parse_args()
    up = urllib.parse.urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname:
        ap.error("--upstream must be http://HOST:PORT")
    Handler.rules = Rules(args.control)
    Handler.upstream = up
    srv = Server(("127.0.0.1", 0), Handler)
    srv.requests = args.requests
    srv.headers = args.headers
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    srv.chaos = Chaos(args.chaos, args.control) if args.chaos > 0 else None
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w", encoding="utf-8") as f:
            f.write("%d\n" % port)
        os.replace(args.port_file + ".tmp", args.port_file)
    print("PORT=%d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
