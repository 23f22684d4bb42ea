#!/usr/bin/env python3
"""Run a command on a pseudo-terminal and answer its prompts, as a person at a terminal would.

Usage: pty_run.py '<json list: command and arguments>' '<json list: answers>'
Each time the command's output ends in a prompt (": " after the last answer), the next
answer is typed, followed by Enter. Prints everything the terminal showed; exits with the
command's exit code. Gives up after 30 s.
"""
import json
import os
import pty
import select
import sys
import time

command = json.loads(sys.argv[1])
answers = json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

shown = b""
answered_at = 0
deadline = time.time() + 30
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        shown += data
    fresh = shown[answered_at:]
    if answers and fresh.rstrip(b" ").endswith(b":") and not ready:
        os.write(fd, (answers.pop(0) + "\n").encode())
        answered_at = len(shown)
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
