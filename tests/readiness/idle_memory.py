#!/usr/bin/python3
"""idle_memory.py: user-space memory per idle connection of a server (a measurement, not a test).

    tests/readiness/idle_memory.py [--bin bin] [-n 10000] MODEL...

Starts bin/server-MODEL, opens 100 warm-up connections, then N more; every connection makes one
request (so it has been through the buffer path) and then stays open and silent. Reports the growth of
the server's RSS (VmRSS) and of its private anonymous memory (RssAnon) per connection between the two
points. Kernel socket memory is not in RSS and is the same for every model."""

import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import cmbtest  # noqa: E402

REQ = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def open_conns(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        socks.append(s)
    for s in socks:
        s.sendall(REQ)
    for s in socks:
        buf = b""
        while b"Hello, World!" not in buf:
            c = s.recv(4096)
            if not c:
                raise RuntimeError("connection closed by the server (refused?)")
            buf += c
    return socks


def measure(model, n):
    srv = cmbtest.Server(model, "--idle-timeout", "0", stats=False)
    try:
        warm = open_conns(srv.port, 100)
        time.sleep(0.3)
        rss0, anon0 = status(srv.pid, "VmRSS"), status(srv.pid, "RssAnon")
        socks = open_conns(srv.port, n)
        time.sleep(0.3)
        rss1, anon1 = status(srv.pid, "VmRSS"), status(srv.pid, "RssAnon")
        print("%-10s n=%d  RSS +%.0f B/conn  RssAnon +%.0f B/conn  (RSS %d -> %d KiB)"
              % (model, n, (rss1 - rss0) / n, (anon1 - anon0) / n, rss0 >> 10, rss1 >> 10),
              flush=True)
        for s in socks + warm:
            s.close()
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("BIN", "bin"))
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    cmbtest.BIN = a.bin
    for m in a.models:
        measure(m, a.n)


main()
