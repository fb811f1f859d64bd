#!/usr/bin/env python3
"""pty_answer.py - run a command on a pseudo-terminal and answer its
prompts, each once it has appeared (no sleeps): an expect(1) of our own
for the guided `bucketfs bucket connect`.

    pty_answer.py ANSWERS_FILE TRANSCRIPT -- COMMAND ARGS...

ANSWERS_FILE has one "PROMPT<TAB>ANSWER" per line: wait (up to 60 s) for
PROMPT in the output, then type ANSWER and a newline. The answers come
from a file, never from argv, as they may be keys. Everything the
terminal showed goes to TRANSCRIPT. Exits with the command's status, or
3 when a prompt never came.
"""
import os
import pty
import select
import sys
import time


def main():
    answers_file, transcript = sys.argv[1], sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    with open(answers_file) as f:
        script = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    pos = 0
    status = None

    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        out += data
        return True

    for prompt, answer in script:
        deadline = time.time() + 60
        while prompt.encode() not in out[pos:]:
            if time.time() > deadline or not pump(1.0):
                with open(transcript, "wb") as t:
                    t.write(out)
                sys.stderr.write("prompt '%s' never came\n" % prompt)
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                sys.exit(3)
        pos = out.index(prompt.encode(), pos) + len(prompt)
        os.write(fd, (answer + "\n").encode())
    deadline = time.time() + 120
    while time.time() < deadline and pump(1.0):
        pass
    _, status = os.waitpid(pid, 0)
    with open(transcript, "wb") as t:
        t.write(out)
    sys.exit(os.waitstatus_to_exitcode(status))


main()
