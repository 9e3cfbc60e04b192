#!/usr/bin/python3
"""readiness-past-fdsetsize.t: 1,100 concurrent connections to each readiness server, past select's FD_SETSIZE.

select cannot watch an fd >= FD_SETSIZE (1024): it must refuse those connections cleanly (close them,
count them as refused fd_setsize, log once), keep serving everyone below (a canary connection opened
first still gets its echo, and so does a new client once some leave) and never abort: it is built
with _FORTIFY_SOURCE=2, so a missed check would kill it. Every other model must accept all 1,100 and
answer a request on each."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "readiness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import Server, Tap, connect, counterpart, run_main  # noqa: E402
from rdtest import IO_TIMEOUT, models, raise_nofile  # noqa: E402

N = 1100


def answer(s, send=None):
    """Send `send` (if any), then: the echo if the server answered, b'' if it closed (or reset) the
    connection, None on timeout."""
    try:
        if send:
            s.sendall(send)
        return s.recv(1)
    except BrokenPipeError:
        return b""
    except ConnectionResetError:
        return b""
    except socket.timeout:
        return None


def check(t, model):
    srv = Server(model, "--proto", "echo")
    socks = []
    try:
        for _ in range(N):
            socks.append(connect(srv.port))
        for s in socks:  # one byte on every connection, then collect the answers
            try:
                s.sendall(b"x")
            except OSError:
                pass  # already refused and closed by the server
        got = [answer(s) for s in socks]
        served = sum(1 for g in got if g == b"x")
        refused = sum(1 for g in got if g == b"")
        stuck = sum(1 for g in got if g is None)
        canary = answer(socks[0], b"y")  # the canary, after every refusal: still served?
        if counterpart(model) == "select":
            t.ok(got[0] == b"x" and canary == b"y" and stuck == 0 and refused > 0
                 and served + refused == N,
                 "%s: %d served, %d refused at FD_SETSIZE, canary served after the refusals"
                 % (model, served, refused), "stuck=%d canary=%r" % (stuck, canary))
            for s in socks[:50]:  # fds free up below the limit: a new client fits again
                s.close()
            # The server may accept the newcomer before it has seen those 50 leave (the listener's
            # fd is scanned first): then it is refused too, counted, and the next try fits.
            late_ok = False
            for late_try in range(1, 21):
                with connect(srv.port) as late:
                    if answer(late, b"z") == b"z":
                        late_ok = True
                        break
                time.sleep(0.05)
            t.ok(late_ok, "%s: a new client is served once fds are free (try %d)" % (model, late_try))
            refused += late_try - 1
        else:
            t.ok(served == N and canary == b"y",
                 "%s: all %d connections accepted and answered" % (model, N),
                 "served=%d refused=%d stuck=%d" % (served, refused, stuck))
        rc, _ = srv.stop()
        t.ok(rc == 0 and not srv.sanitizer_report(), "%s: exits 0 on SIGTERM with %d connections open"
             % (model, N), "rc=%r %s" % (rc, srv.stderr_text()))
        st = srv.stats()
        if counterpart(model) == "select":
            log = srv.stderr_text()
            t.ok(st["refused_reasons"]["fd_setsize"] == refused and st["refused"] >= refused
                 and st["accepted"] == N + late_try and st["peak_conns"] < 1024,
                 "%s: --stats counts the %d refusals (fd_setsize)" % (model, refused), str(st))
            t.ok(log.count("FD_SETSIZE") + log.count(">= 1024") == 1,
                 "%s: the refusal is logged once, not per connection" % model, log)
        else:
            t.ok(st["accepted"] == N and st["refused"] == 0 and st["peak_conns"] == N,
                 "%s: --stats: %d accepted, none refused, peak_conns %d" % (model, N, N), str(st))
    finally:
        for s in socks:
            s.close()
        srv.kill()


def main():
    t = Tap()
    if raise_nofile(N + 200) < N + 200:
        t.skip("1,100 connections", "cannot raise RLIMIT_NOFILE to %d" % (N + 200))
        return t.done()
    for m in models():
        try:
            check(t, m)
        except (OSError, RuntimeError) as e:  # a dead or wedged server is a failure, not a crash
            t.ok(False, "%s: 1,100 connections served without error" % m, repr(e))
    return t.done()


run_main(main)
