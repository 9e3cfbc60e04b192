#!/usr/bin/python3
"""readiness-fair.t: what a readiness loop must get right beyond the conformance suite.

- Fairness: one connection pipelines 8,000 requests that each cost 100 us of CPU (--work-us), 0.8 s
  in all. A request from another client, sent once the first answers arrive, must be answered before
  that pipeline is through: the per-turn budget makes the busy connection yield. Checked by order,
  not time: when the second answer arrives, not all 8,000 first answers may be there.
- Deep pipelining: those 8,000 requests, sent in one write, come back as 8,000 answers in order.
- Idle timeout (--idle-timeout 1): a silent connection is closed and counted in timeouts; one that
  keeps talking, with pauses far shorter than the timeout, is not.
No assertion is a time: every wait is bounded by the I/O timeout."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "readiness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import HttpReader, Server, Tap, run_main  # noqa: E402
from rdtest import models  # noqa: E402

PIPELINE, WORK_US = 8000, 100
REQ = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
STATUS = b"HTTP/1.1 200 "


def check_fair(t, srv, model):
    piped = srv.connect()
    piped.sendall(REQ * PIPELINE)
    rd = HttpReader(piped)
    first = rd.response()[0]  # the pipeline is under way
    with srv.connect() as other:
        other.sendall(REQ)
        answered = HttpReader(other).response()[0]
    piped.setblocking(False)  # what of the pipeline has arrived by now?
    try:
        while True:
            c = piped.recv(1 << 20)
            if not c:
                break
            rd.buf += c
    except BlockingIOError:
        pass
    piped.settimeout(20.0)
    before = 1 + rd.buf.count(STATUS)
    t.ok(first == 200 and answered == 200 and before < PIPELINE,
         "%s: another client is answered while a %d-request CPU-heavy pipeline runs (%d answered"
         " before it)" % (model, PIPELINE, before))
    n = 1
    while n < PIPELINE and rd.response()[0] == 200:
        n += 1
    piped.close()
    t.ok(n == PIPELINE, "%s: %d pipelined requests in one write, %d answered in order"
         % (model, PIPELINE, n))


def check_idle(t, srv, model):
    silent = srv.connect()
    chatty = srv.connect()
    rd, chatted = HttpReader(chatty), True
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.5:  # pauses of 0.1 s against a 1 s timeout
        chatty.sendall(REQ)
        chatted = chatted and rd.response()[0] == 200
        time.sleep(0.1)
    t.ok(HttpReader(silent).at_eof(), "%s: a silent connection is closed after --idle-timeout" % model)
    chatty.sendall(REQ)
    t.ok(chatted and rd.response()[0] == 200, "%s: a connection that keeps talking stays open" % model)
    silent.close()
    chatty.close()


def main():
    t = Tap()
    for m in models():
        try:
            # 8,000 requests on one connection: past any keep-alive request limit, so none.
            srv = Server(m, "--work-us", str(WORK_US), "--keepalive-requests", "0")
            try:
                check_fair(t, srv, m)
            finally:
                srv.kill()
            srv = Server(m, "--idle-timeout", "1")
            try:
                check_idle(t, srv, m)
                rc, _ = srv.stop()
                st = srv.stats()
                t.ok(rc == 0 and st["timeouts"] == 1 and not srv.sanitizer_report(),
                     "%s: exits 0, --stats counts 1 timeout" % m, "rc=%r %s" % (rc, st))
            finally:
                srv.kill()
        except (OSError, RuntimeError, EOFError) as e:
            t.ok(False, "%s: fairness and timeouts checked without error" % m, repr(e))
    return t.done()


run_main(main)
