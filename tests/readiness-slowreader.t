#!/usr/bin/python3
"""readiness-slowreader.t: 64 MiB echoed to a client that reads slowly through a small SO_RCVBUF
(the readiness servers). The server's writes stall again and again: its output must be buffered and resumed (write
interest while pending, no reading meanwhile so memory stays bounded) and every byte must come back,
in order: the checksums of what was sent and what came back must match. The client half-closes after
sending, so the last bytes also test that a shut-down write side still gets all its echo."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "readiness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import Server, Tap, run_main  # noqa: E402
from rdtest import models, slow_reader_echo  # noqa: E402

TOTAL = 64 << 20


def check(t, model):
    srv = Server(model, "--proto", "echo")
    try:
        sent, got, n, err = slow_reader_echo(srv.port, TOTAL)
        t.ok(err is None and n == TOTAL and sent == got,
             "%s: 64 MiB echo through a slow reader intact (sha256 %s...)" % (model, got[:12]),
             "received %d of %d bytes, error %s" % (n, TOTAL, err))
        rc, _ = srv.stop()
        st = srv.stats()
        t.ok(rc == 0 and st["bytes_in"] == TOTAL and st["bytes_out"] == TOTAL and st["errors"] == 0
             and not srv.sanitizer_report(),
             "%s: --stats bytes_in = bytes_out = 64 MiB, no errors" % model,
             "rc=%r %s %s" % (rc, st, srv.sanitizer_report()))
    finally:
        srv.kill()


def main():
    t = Tap()
    for m in models():
        try:
            check(t, m)
        except (OSError, RuntimeError) as e:
            t.ok(False, "%s: slow-reader echo without error" % m, repr(e))
    return t.done()


run_main(main)
