#!/usr/bin/env python3
"""fakeaws.py - fake AWS credential services for tests/integration/creds_chain.sh.

Usage: fakeaws.py --keys FILE --log FILE [--lifetime SECONDS]
                  [--container-token-file FILE] [--web-token-file FILE]

Listens on a free 127.0.0.1 port and prints "PORT=<n>" on stdout. It hands
out the access key and secret in FILE (one line "ACCESS SECRET", read at
start, never taken from argv) as *temporary* credentials: each answer has a
new session token "bfs-session-N" and an Expiration LIFETIME seconds
ahead (default 3600). It serves:

    PUT  /latest/api/token                      IMDSv2 session token
    GET  /latest/meta-data/iam/security-credentials/[ROLE]
                                                IMDSv2 role and keys (the
                                                token header is required)
    GET  /container                             container credentials
                                                (Authorization must equal
                                                the token file's content)
    POST /                                      STS AssumeRole (SigV4
                                                Authorization required) and
                                                AssumeRoleWithWebIdentity
                                                (WebIdentityToken must
                                                equal the token file's)

Each answer appends one line to the log ("imds", "container",
"sts AssumeRole", "sts AssumeRoleWithWebIdentity", "refused ...").
Python 3 standard library only.
"""

import argparse
import datetime
import http.server
import json
import socketserver
import sys
import threading
import urllib.parse

ROLE = "bfs-role"
IMDS_TOKEN = "imds-session-token-0123456789"


class State:
    def __init__(self, args):
        with open(args.keys) as f:
            self.access, self.secret = f.read().split()[:2]
        self.lifetime = args.lifetime
        self.container_token = self.read(args.container_token_file)
        self.web_token = self.read(args.web_token_file)
        self.log_path = args.log
        self.n = 0
        self.lock = threading.Lock()

    @staticmethod
    def read(path):
        if not path:
            return None
        with open(path) as f:
            return f.read().strip()

    def issue(self, what):
        with self.lock:
            self.n += 1
            n = self.n
            with open(self.log_path, "a") as f:
                f.write(what + "\n")
        exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
            seconds=self.lifetime)
        return {
            "AccessKeyId": self.access,
            "SecretAccessKey": self.secret,
            "Token": "bfs-session-%d" % n,
            "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def refuse(self, what):
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write("refused " + what + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode() if n else ""

    def do_PUT(self):
        st = self.server.state
        self.body()
        if self.path == "/latest/api/token" and self.headers.get(
                "X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, IMDS_TOKEN, "text/plain")
        st.refuse("imds token")
        self.reply(400, "")

    def do_GET(self):
        st = self.server.state
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(base):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                st.refuse("imds without token")
                return self.reply(401, "")
            if self.path == base:
                return self.reply(200, ROLE, "text/plain")
            if self.path == base + ROLE:
                c = st.issue("imds")
                c["Code"] = "Success"
                return self.reply(200, json.dumps(c))
            return self.reply(404, "")
        if self.path == "/container":
            if self.headers.get("Authorization") != st.container_token:
                st.refuse("container")
                return self.reply(403, "")
            return self.reply(200, json.dumps(st.issue("container")))
        self.reply(404, "")

    def do_POST(self):
        st = self.server.state
        form = urllib.parse.parse_qs(self.body())
        action = form.get("Action", [""])[0]
        if action == "AssumeRoleWithWebIdentity":
            if form.get("WebIdentityToken", [""])[0] != st.web_token:
                st.refuse(action)
                return self.sts_error(action, "InvalidIdentityToken")
        elif action == "AssumeRole":
            auth = self.headers.get("Authorization") or ""
            if ("Credential=%s/" % st.access) not in auth or \
                    "/sts/aws4_request" not in auth:
                st.refuse(action)
                return self.sts_error(action, "InvalidClientTokenId")
        else:
            return self.sts_error(action, "InvalidAction")
        c = st.issue("sts " + action)
        xml = ("<{a}Response><{a}Result><Credentials>"
               "<AccessKeyId>{AccessKeyId}</AccessKeyId>"
               "<SecretAccessKey>{SecretAccessKey}</SecretAccessKey>"
               "<SessionToken>{Token}</SessionToken>"
               "<Expiration>{Expiration}</Expiration>"
               "</Credentials></{a}Result></{a}Response>").format(a=action, **c)
        self.reply(200, xml, "text/xml")

    def sts_error(self, action, code):
        self.reply(403, "<ErrorResponse><Error><Code>%s</Code><Message>"
                   "refused by the fake STS</Message></Error>"
                   "</ErrorResponse>" % code, "text/xml")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=int, default=3600)
    ap.add_argument("--container-token-file")
    ap.add_argument("--web-token-file")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(args)
    print("PORT=%d" % srv.server_address[1], flush=True)
    sys.stdout.close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
