#!/usr/bin/python3
"""seccomp_exec.py ALLOW DENY -- CMD...: runs CMD under a system call
filter like systemd's SystemCallFilter=ALLOW then SystemCallFilter=~DENY
(every other call fails with EPERM, SystemCallErrorNumber=EPERM). The
sets are expanded by systemd-analyze syscall-filter, so they are exactly
this systemd's. Needs python3-seccomp (Debian's, /usr/bin/python3)."""
import errno
import os
import subprocess
import sys

import seccomp


def expand(group, seen=None):
    seen = set() if seen is None else seen
    if group in seen:
        return set()
    seen.add(group)
    out = subprocess.run(["systemd-analyze", "syscall-filter", group],
                         capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if item.startswith("@"):
            calls |= expand(item, seen)
        else:
            calls.add(item)
    return calls


def main():
    allow, deny = sys.argv[1], sys.argv[2]
    cmd = sys.argv[4:]
    calls = expand(allow)
    for d in deny.split():
        calls -= expand(d)
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    for c in sorted(calls):
        try:
            f.add_rule(seccomp.ALLOW, c)
        except (ValueError, RuntimeError, OSError):
            pass  # not a call of this architecture
    f.load()
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
