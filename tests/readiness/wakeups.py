#!/usr/bin/python3
"""wakeups.py: wait calls, events, EAGAINs and interest changes per echo message, per readiness model
(a measurement, not a test): the counters the edge- vs level-triggered and busy-polling claims read.

    tests/readiness/wakeups.py [--bin bin] [--size 65536] [--conns 4] [--msgs 300] [MODEL...]

Each of `conns` connections sends a message of `size` bytes and reads its echo back, `msgs` times,
in lock step; the server's --stats counters are divided by the number of messages."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cmbtest  # noqa: E402
from rdtest import READINESS, chunk  # noqa: E402


def measure(model, size, conns, msgs):
    srv = cmbtest.Server(model, "--proto", "echo")
    try:
        socks = [srv.connect() for _ in range(conns)]
        data = chunk(7, size)
        for _ in range(msgs):
            for s in socks:
                s.sendall(data)
            for s in socks:
                if cmbtest.recv_exact(s, size) != data:
                    raise RuntimeError("%s: wrong echo" % model)
        for s in socks:
            s.close()
    finally:
        srv.stop()
    st, n = srv.stats(), conns * msgs
    print("%-9s per %d-byte message: wait_calls %5.2f  events %5.2f  eagain %5.2f  ctl_calls %5.2f"
          % (model, size, st["wait_calls"] / n, st["events"] / n, st["eagain"] / n,
             st["ctl_calls"] / n), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("BIN", "bin"))
    ap.add_argument("--size", type=int, default=65536)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--msgs", type=int, default=300)
    ap.add_argument("models", nargs="*", default=READINESS)
    a = ap.parse_args()
    cmbtest.BIN = a.bin
    for m in a.models:
        measure(m, a.size, a.conns, a.msgs)


main()
