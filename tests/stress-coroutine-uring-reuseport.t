#!/usr/bin/python3
"""stress-coroutine-uring-reuseport.t: what the coroutine, uring and reuseport models must handle
beyond the shared conformance suite: a thousand keep-alive connections at once, idle timeouts of a
silent client and of one that never reads a large response, connection resets, running out of file
descriptors, --max-conns, a stop with connections and a large response in flight, and (uring) every fallback path
forced through CMB_URING_FALLBACK. Every wait is bounded; nothing asserts a time or a rate.
$SERVERS=a,b narrows the models; $BIN selects the build."""

import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import (IO_TIMEOUT, HttpReader, Server, Tap, connect, echo_roundtrip, http_get,  # noqa
                     pattern, recv_exact, run_main, server_models)

MODELS = ("coroutine", "uring", "reuseport")
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
STOP_WAIT = 20.0  # seconds: not a timing check (conformance.t has that); sanitizer builds on a busy machine
BYTES_BODY = lambda n: bytes(97 + i % 26 for i in range(n))  # noqa: E731 -- DESIGN.md /bytes/N


def many_keepalive(port, nconn=1000, rounds=3, deadline_s=60.0):
    """nconn connections opened first (all at once), then `rounds` requests on each, driven by one
    selector. Returns (connections that got every answer, error text or '')."""
    sel = selectors.DefaultSelector()
    socks, done = [], 0
    try:
        for _ in range(nconn):
            s = connect(port)
            s.setblocking(False)
            socks.append(s)
    except OSError as e:
        return 0, "connect: %r" % e
    state = {}
    for s in socks:
        s.send(GET)
        state[s] = [0, b""]  # answers received, buffer
        sel.register(s, selectors.EVENT_READ)
    end = time.monotonic() + deadline_s
    while done < nconn and time.monotonic() < end:
        for key, _ in sel.select(1.0):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                return done, "recv: %r" % e
            if not data:
                return done, "a connection was closed early"
            st = state[s]
            st[1] += data
            while b"Hello, World!" in st[1]:
                head, st[1] = st[1].split(b"Hello, World!", 1)
                if not head.startswith(b"HTTP/1.1 200"):
                    return done, "unexpected answer %r" % head[:40]
                st[0] += 1
                if st[0] == rounds:
                    done += 1
                    sel.unregister(s)
                else:
                    s.send(GET)
    for s in socks:
        s.close()
    return done, "" if done == nconn else "timed out"


def wait_eof(sock, limit_s):
    """Read (and drop) until EOF or reset, at most limit_s seconds. Returns (closed, bytes read)."""
    sock.settimeout(1.0)
    end, got = time.monotonic() + limit_s, 0
    while time.monotonic() < end:
        try:
            b = sock.recv(1 << 20)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True, got
        if not b:
            return True, got
        got += len(b)
    return False, got


def check_many(t, model):
    srv = Server(model, "--proto", "http")
    try:
        done, err = many_keepalive(srv.port)
        t.ok(done == 1000, "%s: 1000 keep-alive connections at once, 3 requests each, all answered"
             % model, err)
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
    st = srv.stats()
    t.ok(rc == 0 and st["peak_conns"] >= 1000 and st["requests"] == 3000 and st["errors"] == 0,
         "%s: stats: peak_conns %d, requests %d, errors %d" % (model, st["peak_conns"], st["requests"],
                                                              st["errors"]), str(st))


def open_sockets(pid):
    """Sockets the process holds open (a closed one may linger in the kernel, orphaned, but not here)."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def wait_sockets(pid, want, limit_s):
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if open_sockets(pid) == want:
            return True
        time.sleep(0.05)
    return False


def check_timeouts(t, model):
    srv = Server(model, "--proto", "http", "--idle-timeout", "1")
    try:
        base = open_sockets(srv.pid)
        silent = srv.connect()
        stuck = srv.connect()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(b"GET /bytes/100000000 HTTP/1.1\r\nHost: t\r\n\r\n")
        t.ok(wait_sockets(srv.pid, base + 2, 10), "%s: two connections open" % model)
        # The server closes both: its socket count drops (the stuck one's unsent data may still drain
        # from the kernel's orphaned socket for a long time: that is no longer the server's).
        t.ok(wait_sockets(srv.pid, base, 10),
             "%s: a silent client and one that stops reading a large response are closed after "
             "--idle-timeout" % model)
        closed, _ = wait_eof(silent, 10)
        t.ok(closed, "%s: the silent client sees EOF" % model)
        t.ok(http_get(srv.port, "/")[0] == 200, "%s: still serving afterwards" % model)
        stuck.close()
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
    st = srv.stats()
    t.ok(rc == 0 and st["timeouts"] >= 2, "%s: stats count %d timeouts" % (model, st["timeouts"]),
         str(st))


def check_resets(t, model):
    srv = Server(model, "--proto", "http")
    try:
        for i in range(50):
            s = srv.connect()
            s.sendall(GET if i % 2 else b"GET /bytes/1000000 HTTP/1.1\r\nHost: t\r\n\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()  # RST, with the response possibly still being written
        t.ok(http_get(srv.port, "/")[0] == 200, "%s: 50 reset connections, then still serving" % model)
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
    st = srv.stats()
    t.ok(rc == 0 and st["accepted"] == st["closed"],
         "%s: every reset connection was closed (accepted %d, closed %d)"
         % (model, st["accepted"], st["closed"]), str(st))


def check_fd_exhaustion(t, model):
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    srv = Server(model, "--proto", "http", "--workers", "1", preexec=low_limit)
    try:
        held = []
        for _ in range(100):
            held.append(srv.connect())
        time.sleep(0.5)  # the server runs into the limit now
        for s in held:
            s.close()
        time.sleep(0.5)
        ok = sum(http_get(srv.port, "/")[0] == 200 for _ in range(20))
        t.ok(ok == 20, "%s: after running out of fds (limit 64, 100 clients) it serves again" % model)
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
    t.ok(rc == 0 and not srv.sanitizer_report(), "%s: and stops cleanly" % model, srv.stderr_text())


def check_max_conns(t, model):
    srv = Server(model, "--proto", "http", "--max-conns", "5", "--workers", "1")
    try:
        five = [srv.connect() for _ in range(5)]
        for s in five:
            s.sendall(GET)
            HttpReader(s).response()
        sixth = srv.connect()
        closed, _ = wait_eof(sixth, 10)
        t.ok(closed, "%s: --max-conns 5: the sixth connection is closed" % model)
        for s in five:
            s.close()
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
    st = srv.stats()
    t.ok(rc == 0 and st["refused_reasons"]["max_conns"] >= 1,
         "%s: counted as refused (max_conns %d)" % (model, st["refused_reasons"]["max_conns"]),
         str(st))


def check_stop_busy(t, model):
    srv = Server(model, "--proto", "http")
    conns = []
    try:
        for i in range(200):
            s = srv.connect()
            if i % 20 == 0:
                s.sendall(b"GET /bytes/100000000 HTTP/1.1\r\nHost: t\r\n\r\n")
            conns.append(s)
        time.sleep(0.3)
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
        for s in conns:
            s.close()
    t.ok(rc == 0 and not srv.sanitizer_report(),
         "%s: SIGTERM with 200 connections and large responses in flight: exit 0" % model,
         srv.stderr_text())


def listeners_on(port):
    """LISTEN sockets bound to port, from /proc/net/tcp and tcp6."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    n += int(local.rsplit(":", 1)[1], 16) == port and state == "0A"
        except OSError:
            pass
    return n


def check_reuseport_workers(t):
    srv = Server("reuseport", "--proto", "http", "--workers", "3")
    try:
        threads = len(os.listdir("/proc/%d/task" % srv.pid))
        t.ok(listeners_on(srv.port) == 3 and threads >= 3,  # ThreadSanitizer adds one of its own
             "reuseport: --workers 3 has 3 SO_REUSEPORT listeners and 3 threads (%d, %d)"
             % (listeners_on(srv.port), threads))
        done, err = many_keepalive(srv.port, nconn=300, rounds=2)
        t.ok(done == 300, "reuseport: 300 connections spread over them all served", err)
    finally:
        rc, _ = srv.stop(timeout=STOP_WAIT)
    st = srv.stats()
    t.ok(rc == 0 and st["accepted"] == 300 and st["closed"] == 300 and st["requests"] == 600,
         "reuseport: the workers' counters add up (accepted %d, requests %d)"
         % (st["accepted"], st["requests"]), str(st))


def check_uring_fallbacks(t):
    for words in ("accept,recv", "bufring", "setup,accept"):
        os.environ["CMB_URING_FALLBACK"] = words
        try:
            echo = Server("uring", "--proto", "echo")
            http = Server("uring", "--proto", "http")
        finally:
            del os.environ["CMB_URING_FALLBACK"]
        try:
            data = pattern(8 << 20, seed=3)
            with echo.connect() as s:
                t.ok(echo_roundtrip(s, data) == data, "uring (fallback %s): echo of 8 MiB intact" % words)
            done, err = many_keepalive(http.port, nconn=200, rounds=2)
            t.ok(done == 200, "uring (fallback %s): 200 keep-alive connections served" % words, err)
            with http.connect() as s:
                s.sendall(GET * 3 + b"GET /bytes/1000003 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                r = HttpReader(s)
                answers = [r.response() for _ in range(4)]
                t.ok([a[0] for a in answers] == [200] * 4 and answers[3][2] == BYTES_BODY(1000003)
                     and r.at_eof(), "uring (fallback %s): pipelined requests and /bytes/1000003" % words)
        finally:
            rc1, _ = echo.stop(timeout=STOP_WAIT)
            rc2, _ = http.stop(timeout=STOP_WAIT)
        t.ok(rc1 == 0 and rc2 == 0 and not echo.sanitizer_report() and not http.sanitizer_report(),
             "uring (fallback %s): clean stop" % words, echo.stderr_text() + http.stderr_text())


def main():
    t = Tap()
    models = [m for m in server_models() if m in MODELS]
    if not models:
        t.skip("coroutine, uring, reuseport servers", "none built")
    for model in models:
        check_many(t, model)
        check_timeouts(t, model)
        check_resets(t, model)
        check_fd_exhaustion(t, model)
        check_max_conns(t, model)
        check_stop_busy(t, model)
        if model == "uring":
            check_uring_fallbacks(t)
        if model == "reuseport":
            check_reuseport_workers(t)
    return t.done()


if __name__ == "__main__":
    run_main(main)
