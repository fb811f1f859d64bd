#!/usr/bin/env python3
"""fake_systemd.py - plays systemd for one start of bucketfs@.service,
without systemd as PID 1 (tests/integration/ops_systemd.sh).

    fake_systemd.py EVENTS NOTIFY_SOCK -- PREMOUNT... -- SERVE...

Binds the notify socket, runs PREMOUNT (the unit's ExecStartPre=+, in
this namespace) with NOTIFY_SOCKET set, keeps the descriptor it stores
(FDSTORE=1, FDNAME=fuse) as systemd's fd store would, then runs SERVE
(the unit's ExecStart=) with that descriptor as fd 3 and LISTEN_PID,
LISTEN_FDS and LISTEN_FDNAMES set, as systemd passes a store's fds.
Each step is a line appended to EVENTS: "premount RC", "stored NAME",
"removed NAME", "ready", "exit RC". Bounded: every wait has a timeout.
"""
import os
import socket
import subprocess
import sys
import time


def log(events, line):
    with open(events, "a") as f:
        f.write(line + "\n")


def main():
    events, sock_path = sys.argv[1], sys.argv[2]
    rest = sys.argv[4:]
    cut = rest.index("--")
    premount, serve = rest[:cut], rest[cut + 1:]

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    store = {}

    def drain(timeout):
        """Read notify messages for up to timeout s; return their lines."""
        sock.settimeout(timeout)
        out = []
        try:
            while True:
                msg, fds, _, _ = socket.recv_fds(sock, 4096, 4)
                lines = msg.decode().split("\n")
                name = next((l[7:] for l in lines if l.startswith("FDNAME=")), "")
                if "FDSTOREREMOVE=1" in lines:
                    old = store.pop(name, None)
                    if old is not None:
                        os.close(old)
                    log(events, "removed " + name)
                if "FDSTORE=1" in lines and fds:
                    store[name] = fds[0]
                    log(events, "stored " + name)
                out += lines
                sock.settimeout(0.2)
        except socket.timeout:
            return out

    rc = subprocess.run(premount, env=env, timeout=120).returncode
    log(events, "premount %d" % rc)
    drain(1)
    if rc != 0 or "fuse" not in store:
        sys.exit(1)

    fd = store["fuse"]
    pid = os.fork()
    if pid == 0:
        os.dup2(fd, 3, inheritable=True)
        cenv = dict(env, LISTEN_PID=str(os.getpid()), LISTEN_FDS="1",
                    LISTEN_FDNAMES="fuse")
        os.execvpe(serve[0], serve, cenv)
    # the store keeps its copy until the daemon says FDSTOREREMOVE; the
    # daemon has 120 s to get ready, then 240 s more to be stopped
    deadline = time.time() + 120
    ready = False
    while time.time() < deadline:
        if "READY=1" in drain(0.5) and not ready:
            ready = True
            log(events, "ready")
            deadline = time.time() + 240
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            drain(0.5)
            log(events, "exit %d" % os.waitstatus_to_exitcode(status))
            return
    log(events, "timeout")
    os.kill(pid, 15)


if __name__ == "__main__":
    main()
