#!/usr/bin/python3
"""readiness-emfile.t: accept under fd exhaustion. Each readiness server runs with
RLIMIT_NOFILE = 64 (what prlimit --nofile=64 sets) and gets 100 clients, then 10 more while it is
out of fds. It must not spin: its CPU time over those 2 s stays under 0.2 s (busypoll spins by design,
so for it only the rest is checked). It logs the exhaustion rate-limited, not per attempt, and once
the clients leave, a new client is served."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "readiness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import Server, Tap, connect, run_main  # noqa: E402
from rdtest import cpu_seconds, models, nofile_limit  # noqa: E402

LIMIT, CLIENTS, LATE, WINDOW, CPU_MAX = 64, 100, 10, 2.0, 0.2


def check(t, model):
    srv = Server(model, "--proto", "echo", preexec=nofile_limit(LIMIT))
    socks = []
    try:
        for _ in range(CLIENTS):
            socks.append(connect(srv.port))
        cpu0 = cpu_seconds(srv.pid)
        for _ in range(LATE):  # clients keep coming while the server is out of fds
            time.sleep(WINDOW / LATE)
            socks.append(connect(srv.port))
        cpu = cpu_seconds(srv.pid) - cpu0
        if model == "busypoll":
            t.skip("%s: no spin while out of fds" % model, "busypoll spins by design (%.2f s CPU)" % cpu)
        else:
            t.ok(cpu < CPU_MAX, "%s: %.2f s CPU over %.0f s of fd exhaustion (< %.1f s)"
                 % (model, cpu, WINDOW, CPU_MAX))
        for s in socks:
            s.close()
        socks = []
        # Whatever was refused or left in the backlog is gone now; a new client must be served.
        # (The server may still be accepting and dropping the closed backlog: retry a few times.)
        ok, why = False, ""
        for _ in range(20):
            try:
                with connect(srv.port) as c:
                    c.sendall(b"ping")
                    ok = c.recv(4) == b"ping"
                    if ok:
                        break
                    why = "closed at once"
            except OSError as e:
                why = repr(e)
            time.sleep(0.1)
        t.ok(ok, "%s: serves a new client once fds are free" % model, why)
        rc, _ = srv.stop()
        log = srv.stderr_text()
        lines = [l for l in log.splitlines() if "accept" in l]
        t.ok(rc == 0 and 1 <= len(lines) <= 3 and not srv.sanitizer_report(),
             "%s: exits 0; exhaustion logged %d time(s), rate-limited" % (model, len(lines)), log)
        st = srv.stats()
        if model == "libevent":  # rests its listener: the clients wait in the backlog, none refused
            t.ok(st["refused_reasons"]["emfile"] == 0 and st["accepted"] > 0, "%s: --stats %s"
                 % (model, "accepted %d, rests instead of refusing" % st["accepted"]), str(st))
        else:  # the spare fd: every client beyond the limit is accepted and closed, once
            e = st["refused_reasons"]["emfile"]
            t.ok(CLIENTS + LATE - LIMIT <= e <= CLIENTS + LATE and st["accepted"] <= CLIENTS + LATE + 20,
                 "%s: --stats: %d refused (emfile) with the spare fd, each client once" % (model, e),
                 str(st))
    finally:
        for s in socks:
            s.close()
        srv.kill()


def main():
    t = Tap()
    for m in models():
        try:
            check(t, m)
        except (OSError, RuntimeError) as e:
            t.ok(False, "%s: fd exhaustion handled without error" % m, repr(e))
    return t.done()


run_main(main)
