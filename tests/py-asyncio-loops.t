#!/usr/bin/python3
"""py-asyncio-loops.t: py-asyncio on its two event loops, asyncio's own and uvloop (--loop): the
same answers, keep-alive on one connection, --stats, exit 0 on SIGTERM; a word --loop does not
know is a usage error (exit 2, naming it)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import BIN, HttpReader, Server, Tap, connect, http_get, run_main  # noqa: E402


def main():
    t = Tap()
    exe = os.path.join(BIN, "server-py-asyncio")
    if not os.access(exe, os.X_OK):
        t.skip("py-asyncio", "not built in %s (sanitizer builds have no Python servers)" % BIN)
        return t.done()
    have_uvloop = subprocess.run(["/usr/bin/python3", "-c", "import uvloop"], capture_output=True).returncode == 0
    for loop in ("asyncio", "uvloop"):
        if loop == "uvloop" and not have_uvloop:
            t.skip("--loop uvloop", "python3-uvloop is not installed")
            continue
        srv = Server("py-asyncio", "--loop", loop)
        try:
            status, _, body = http_get(srv.port, "/")
            big = http_get(srv.port, "/bytes/100000")
            with connect(srv.port) as s:
                reader, answers = HttpReader(s), []
                for _ in range(3):
                    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                    answers.append(reader.response()[2])
            t.ok(status == 200 and body == b"Hello, World!" and big[0] == 200 and len(big[2]) == 100000
                 and answers == [b"Hello, World!"] * 3,
                 "--loop %s: GET /, /bytes/100000, three requests on one connection" % loop)
            rc, _ = srv.stop()
            st = srv.stats()
            t.ok(rc == 0 and st["accepted"] == 3 and st["requests"] == 5,
                 "--loop %s: exit 0 on SIGTERM, --stats counts 3 connections, 5 requests" % loop,
                 "rc=%r %s" % (rc, st))
        finally:
            srv.kill()
    r = subprocess.run([exe, "--loop", "tokio"], capture_output=True, text=True, timeout=20)
    t.ok(r.returncode == 2 and "--loop wants asyncio or uvloop, not 'tokio'" in r.stderr,
         "--loop tokio: exit 2 naming the words it takes", r.stderr)
    return t.done()


run_main(main)
