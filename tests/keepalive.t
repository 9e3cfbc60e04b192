#!/usr/bin/python3
"""keepalive.t: the keep-alive limits against every server binary. With --keepalive-requests 3 the
third response on a connection carries Connection: close and the server closes after it, whether the
requests come one after the other or pipelined (the fourth and fifth are not answered). Where the
--help says the model applies --keepalive-timeout (the blocking models), a connection that has had
an answer and sends nothing more is closed after it, while a connection that has not sent its first
request yet is left to --idle-timeout. Where it says the model yields (the pools and the iterative
server, --keepalive-yield), one worker serving a kept-alive connection closes it with its next answer
once another client waits, and does not with --keepalive-yield 0. The threadpools, whose acceptor
hands connections to the pool, also count a client the acceptor has not taken yet: kept in the
kernel's backlog by a descriptor limit lowered under the server, it too makes the next answer close.
The unit tests of the same rules are tests/keepalive-unit.t.

    SERVERS=fork,pthread tests/keepalive.t     narrows the servers"""

import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import BIN, HttpReader, Server, Tap, counterpart, run_main, server_models  # noqa: E402

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
KA_TIMEOUT = 1  # --keepalive-timeout of the timeout check; --idle-timeout is 60 meanwhile


def applies_keepalive_timeout(model):
    out = subprocess.run([os.path.join(BIN, "server-" + model), "--help"], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    return "close a kept-alive connection that waits" in out


def yields(model):
    out = subprocess.run([os.path.join(BIN, "server-" + model), "--help"], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    return "freeing the worker" in out


def check_yield(t, model, on):
    srv = Server(model, "--proto", "http", "--workers", "1", "--keepalive-requests", "0",
                 "--keepalive-timeout", "0", "--keepalive-yield", "1" if on else "0")
    try:
        with srv.connect() as a:
            ra = HttpReader(a)
            a.sendall(GET)
            first = ra.response()
            with srv.connect() as b:  # waits for the one worker, which serves a
                # b is queued once the kernel (prefork) or the acceptor thread (threadpool) has it:
                # ask again a bounded number of times rather than guess how long that takes.
                for _ in range(40 if on else 8):
                    time.sleep(0.05)
                    a.sendall(GET)
                    second = ra.response()
                    closes = second[1].get("connection") == "close"
                    if closes or second[0] != 200:
                        break
                if on:
                    b.sendall(GET)
                    served = HttpReader(b).response()[0] == 200
                    t.ok(first[0] == 200 and first[1].get("connection") is None and closes
                         and ra.at_eof() and served,
                         "%s: --keepalive-yield 1: a client waits, so the next answer closes and the "
                         "waiting client is served" % model, repr((first[1], second[1])))
                else:
                    t.ok(second[0] == 200 and not closes,
                         "%s: --keepalive-yield 0: the waiting client does not end the kept-alive one"
                         % model, repr(second[1]))
    finally:
        srv.kill()


def lowest_free_fd(pid):
    used = {int(fd) for fd in os.listdir("/proc/%d/fd" % pid)}
    return min(set(range(len(used) + 1)) - used)


def until(cond, tries=100):
    """Polls cond() a bounded number of times, 50 ms apart; its last value."""
    for _ in range(tries):
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def check_yield_backlog(t, model):
    """One pool thread serves a kept-alive connection a. Once the acceptor (the main thread) is
    blocked in accept() again, the server's soft descriptor limit is lowered to its lowest free
    descriptor. That accept() already holds the descriptor its next connection gets, so a first
    extra client c is accepted -- and refused, being over --max-conns 1 -- and the acceptor's next
    accept() fails (EMFILE; it backs off). The second client b therefore stays in the kernel's
    backlog, which the pool's queue does not see: a's next answer must close all the same, and the
    descriptor that frees lets the acceptor take b."""
    srv = Server(model, "--proto", "http", "--workers", "1", "--keepalive-requests", "0",
                 "--keepalive-timeout", "0", "--keepalive-yield", "1", "--max-conns", "1")
    limits = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
    try:
        with srv.connect() as a:
            ra = HttpReader(a)
            a.sendall(GET)
            first = ra.response()   # a is accepted and held by the one pool thread
            until(lambda: (srv.thread_wait(srv.pid, srv.pid) or ("", ""))[1].endswith("accept"))
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (lowest_free_fd(srv.pid), limits[1]))
            with srv.connect() as c:
                try:
                    refused = HttpReader(c).at_eof(5)
                except OSError:
                    refused = False
            until(lambda: "Too many open files" in srv.stderr_text())   # the next accept() failed
            with srv.connect() as b:
                b.sendall(GET)
                a.sendall(GET)
                second = ra.response()
                closes = served = False
                try:   # with a kept alive, b is never taken: bounded waits, then not ok
                    closes = second[1].get("connection") == "close" and ra.at_eof(5)
                    b.settimeout(5)
                    served = HttpReader(b).response()[0] == 200
                except OSError:
                    pass
        t.ok(first[0] == 200 and first[1].get("connection") is None and refused and second[0] == 200
             and closes and served, "%s: --keepalive-yield 1: a client still in the kernel's backlog "
             "waits too, so the next answer closes and that client is served" % model,
             repr((first[1], refused, second[1], served, srv.stderr_text())))
    finally:
        try:
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, limits)
        except OSError:
            pass
        srv.kill()


def check_requests(t, model):
    srv = Server(model, "--proto", "http", "--keepalive-requests", "3")
    try:
        with srv.connect() as s:
            r = HttpReader(s)
            got = []
            for _ in range(3):
                s.sendall(GET)
                got.append(r.response())
            conn = [g[1].get("connection") for g in got]
            t.ok([g[0] for g in got] == [200] * 3 and conn == [None, None, "close"] and r.at_eof(),
                 "%s: --keepalive-requests 3: the third answer says Connection: close, then the close"
                 % model, repr(conn))
        with srv.connect() as s:
            s.sendall(GET * 5)
            r = HttpReader(s)
            got = [r.response() for _ in range(3)]
            t.ok([g[1].get("connection") for g in got] == [None, None, "close"] and r.at_eof()
                 and r.buf == b"",
                 "%s: five pipelined requests: three answers, the third closing, nothing after it"
                 % model, repr(r.buf[:200]))
        rc, _ = srv.stop()
        st = srv.stats()
        t.ok(rc == 0 and st.get("requests") == 6 and st.get("errors") == 0,
             "%s: --stats counts the 6 answers, 0 errors" % model, repr(st))
    finally:
        srv.kill()
        report = srv.sanitizer_report()
        t.ok(not report, "%s: no sanitizer report" % model, report)


def check_timeout(t, model):
    srv = Server(model, "--proto", "http", "--keepalive-timeout", str(KA_TIMEOUT),
                 "--keepalive-requests", "0", "--idle-timeout", "60", "--workers", "2")
    try:
        with srv.connect() as s:
            s.sendall(GET)
            r = HttpReader(s)
            status = r.response()[0]
            # A closed connection shows within the read timeout; --idle-timeout would take 60 s.
            t.ok(status == 200 and r.at_eof(timeout=10 * KA_TIMEOUT),
                 "%s: --keepalive-timeout %d closes a connection idle after its answer"
                 % (model, KA_TIMEOUT))
        with srv.connect() as silent:  # opened after the other left: the iterative server takes it
            time.sleep(KA_TIMEOUT + 0.5)
            silent.sendall(GET)
            rs = HttpReader(silent)
            t.ok(rs.response()[0] == 200,
                 "%s: a connection silent since it opened is not closed by --keepalive-timeout"
                 % model)
        rc, _ = srv.stop()
        st = srv.stats()
        t.ok(rc == 0 and st.get("timeouts", 0) >= 1,
             "%s: --stats counts the keep-alive close as a timeout" % model, repr(st))
    finally:
        srv.kill()


def main():
    t = Tap()
    for model in server_models():
        check_requests(t, model)
        if applies_keepalive_timeout(model):
            check_timeout(t, model)
        if yields(model):
            check_yield(t, model, True)
            check_yield(t, model, False)
            if counterpart(model) == "threadpool":
                check_yield_backlog(t, model)
    return t.done()


if __name__ == "__main__":
    run_main(main)
