#!/usr/bin/python3
"""conformance.t: the same behaviour checks against every bin/server-* (a new model joins by being
built). Echo: 1 B, 64 KiB and 8 MiB intact, half-close, concurrency (the iterative server is checked
to serve one client at a time instead), 100 concurrent clients. HTTP: keep-alive, pipelining, HEAD,
404, 400, a static file, traversal attempts that must not leak, POST /echo (Content-Length, chunked,
100-continue), chunked bodies, OPTIONS, 405 with Allow, and invalid Host, chunk and coding errors.
Life cycle: --help, bad flags, a taken port, SIGTERM exits 0 within 1 s leaving no process, and --stats counts match what was sent.
$SERVERS=a,b narrows the models; $BIN selects the build (sanitizer builds live in bin/san-*)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from cmbtest import (BIN, IO_TIMEOUT, HttpReader, Server, Tap, connect, counterpart, echo_roundtrip,
                     http_get, pattern, recv_exact, run_main, server_models)

STOP_LIMIT = 1.0  # seconds a server may take to exit after SIGTERM (the contract)


def check_cli(t, model):
    exe = os.path.join(BIN, "server-" + model)
    r = subprocess.run([exe, "--help"], capture_output=True, timeout=10)
    flags = [b"--host", b"--port", b"--proto", b"--workers", b"--docroot", b"--work-us",
             b"--idle-timeout", b"--keepalive-requests", b"--keepalive-time",
             b"--keepalive-timeout", b"--keepalive-yield", b"--max-conns", b"--backlog", b"--stats", b"--help"]
    t.ok(r.returncode == 0 and all(f in r.stdout for f in flags),
         "%s: --help exits 0 and lists every common flag" % model, r.stdout.decode()[-500:])
    r = subprocess.run([exe, "--port", "notaport"], capture_output=True, timeout=10)
    t.ok(r.returncode == 2 and b"--port" in r.stderr, "%s: a bad flag value exits 2 naming it" % model,
         r.stderr.decode())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run([exe, "--port", str(port)], capture_output=True, timeout=10)
    t.ok(r.returncode == 1 and b"in use" in r.stderr,
         "%s: a taken port exits 1 with a clear message" % model, r.stderr.decode())


def hundred_clients(port, size=1000):
    """100 clients at once, each connect, send, receive its echo, close. Returns failures."""
    failures, start = [], threading.Barrier(100)

    def client(i):
        data = pattern(size, seed=i)
        try:
            start.wait(IO_TIMEOUT)
            with connect(port) as s:
                if echo_roundtrip(s, data) != data:
                    failures.append("client %d: wrong echo" % i)
        except Exception as e:  # noqa: BLE001 -- any failure of a client is a test failure
            failures.append("client %d: %r" % (i, e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return failures


def check_concurrency(t, srv, model):
    """A second client is served while the first stays connected -- except by the iterative server,
    which must make it wait until the first leaves."""
    a = srv.connect()
    a.sendall(b"a")
    first = recv_exact(a, 1)
    b = srv.connect()
    b.sendall(b"b")
    # Only the iterative server's check is a wait for nothing to happen; any other server gets the
    # full I/O timeout, so a loaded machine cannot make it fail.
    b.settimeout(0.5 if counterpart(model) == "iterative" else IO_TIMEOUT)
    try:
        second = b.recv(1)
    except socket.timeout:
        second = None
    if counterpart(model) == "iterative":
        t.ok(first == b"a" and second is None,
             "%s: a second client waits while the first is connected" % model)
        a.close()
        b.settimeout(IO_TIMEOUT)
        t.ok(b.recv(1) == b"b", "%s: the second client is served once the first leaves" % model)
    else:
        t.ok(first == b"a" and second == b"b",
             "%s: a second client is served while the first is still connected" % model)
        a.close()
    b.close()
    return 2


def check_stop(t, srv, model, idle=3):
    """Hold idle connections (children or threads exist), then SIGTERM: exit 0 within the limit and
    nothing left behind. Returns the number of connections it opened."""
    if counterpart(model) == "iterative":
        idle = 1  # it takes up one client at a time; the others would wait in the backlog
    held = [srv.connect() for _ in range(idle)]
    # make sure they were taken up: each answers a byte (echo) before we stop the server
    for s in held:
        s.sendall(b"x")
    ok = all(recv_exact(s, 1) == b"x" for s in held)
    family = srv.descendants()
    threads = srv.threads()
    takers = signal_takers(threads)
    t.ok(not takers, "%s: SIGTERM and SIGINT blocked in every thread but each process's main one "
         "(%d threads)" % (model, len(threads)), "not blocked in: %r" % takers)
    rc, took = srv.stop()
    t.ok(ok and rc == 0 and took <= STOP_LIMIT,
         "%s: SIGTERM with %d open connections: exit 0 in %.3f s" % (model, idle, took),
         "rc=%r waiting in: %s; stderr: %s" % (rc, srv.stuck or "-", srv.stderr_text()))
    left = [p for p in family if os.path.exists("/proc/%d" % p) and not _zombie(p)]
    t.ok(not left, "%s: no process left after stop (had %d descendants)" % (model, len(family)),
         "left: %r" % left)
    for s in held:
        s.close()
    return idle


def signal_takers(threads):
    """The threads among (pid, tid) pairs that would take a SIGTERM or SIGINT sent to their
    process, a process's main thread aside. A signal caught by a worker wakes no one blocked in
    accept() or a wait call in the main thread, so the threads block them, as threads.c does."""
    takers = []
    want = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1))
    for pid, tid in threads:
        if tid == pid:
            continue
        try:
            with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
                blk = next(int(line.split()[1], 16) for line in f if line.startswith("SigBlk:"))
        except (OSError, StopIteration):
            continue
        if blk & want != want:
            takers.append("%d/%d" % (pid, tid))
    return takers


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def echo_suite(t, model):
    srv = Server(model, "--proto", "echo")
    sent = conns = 0
    try:
        t.ok(srv.ready_model == model, "%s: ready line names the model" % model, srv.ready_line)
        for size, label in ((1, "1 B"), (65536, "64 KiB"), (8 << 20, "8 MiB")):
            data = pattern(size, seed=size & 0xFF)
            with srv.connect() as s:
                got = echo_roundtrip(s, data)
            conns += 1
            sent += size
            t.ok(got == data, "%s: echo of %s intact" % (model, label),
                 "got %d bytes" % len(got))
        data = pattern(300000, seed=5)
        with srv.connect() as s:
            got = echo_roundtrip(s, data, shut_write=True)
        conns += 1
        sent += len(data)
        t.ok(got == data, "%s: half-close: all echoed after shutdown(SHUT_WR), then EOF" % model,
             "got %d of %d bytes" % (len(got), len(data)))
        conns += check_concurrency(t, srv, model)
        sent += 2
        failures = hundred_clients(srv.port)
        conns += 100
        sent += 100 * 1000
        t.ok(not failures, "%s: 100 concurrent clients all echoed" % model, "\n".join(failures[:5]))
        held = check_stop(t, srv, model)
        conns += held
        sent += held
        st = srv.stats()
        t.ok(st.get("bytes_in") == sent and st.get("accepted") == conns
             and st.get("closed") == conns,
             "%s: --stats echo counts: bytes_in %d, accepted and closed %d" % (model, sent, conns),
             repr(st))
    finally:
        srv.kill()
        check_sanitizers(t, srv, "echo")


def check_sanitizers(t, srv, what):
    report = srv.sanitizer_report()
    t.ok(not report, "%s: no sanitizer report in the %s run (any process)" % (srv.model, what), report)


def make_docroot():
    top = tempfile.mkdtemp(prefix="cmb-docroot-")
    root = os.path.join(top, "www")
    os.mkdir(root)
    secret = "TOPSECRET-%d" % os.getpid()
    with open(os.path.join(top, "secret.txt"), "w") as f:
        f.write(secret)
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("static hello\n")
    os.symlink("../secret.txt", os.path.join(root, "escape"))
    return root, secret


def chunk(data, size):
    """data in the chunked transfer coding, chunks of `size` bytes, an extension on each."""
    out = b"".join(b"%x;n=v\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
                   for i in range(0, len(data), size))
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


def refused(srv, data):
    """(status, closed) of the one answer data gets on a new connection."""
    with srv.connect() as s:
        s.sendall(data)
        r = HttpReader(s)
        status = r.response()[0]
        return status, r.at_eof()


def http11_suite(t, srv, model):
    """POST /echo (Content-Length, chunked, 100-continue), chunked bodies read and discarded,
    OPTIONS, 405 with Allow, and the Host, chunked and method errors. Returns the requests sent."""
    requests = 0
    big, small = pattern(100000, seed=3), pattern(10000, seed=4)
    with srv.connect() as s:
        r = HttpReader(s)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
        got = [r.response()]
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunk(small, 999) + b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        got += [r.response(), r.response()]
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 5\r\n\r\n")
        cont = r.response()[0]
        s.sendall(b"hello")
        got.append(r.response())
        requests += 4
    t.ok([(g[0], g[2]) for g in got] == [(200, big), (200, small), (200, b"Hello, World!"),
                                         (200, b"hello")] and cont == 100
         and got[1][1].get("content-length") == str(len(small)),
         "%s: POST /echo with Content-Length, chunked and 100-continue echoes the body" % model,
         repr([(g[0], len(g[2])) for g in got]))

    with srv.connect() as s:
        s.sendall(b"GET /bytes/3 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunk(small, 4096) + b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"OPTIONS / HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx")
        r = HttpReader(s)
        got = [r.response() for _ in range(4)]
        requests += 4
        eof = r.at_eof()
    t.ok([(g[0], g[2]) for g in got] == [(200, b"abc"), (200, b""), (200, b""), (405, got[3][2])]
         and [g[1].get("allow") for g in got[1:]] == ["GET, HEAD, POST, OPTIONS",
                                                     "GET, HEAD, OPTIONS", "GET, HEAD, OPTIONS"]
         and eof,
         "%s: a chunked body is read and discarded; OPTIONS * and / and a 405 name the methods"
         % model, repr([(g[0], g[1].get("allow")) for g in got]))

    bad = [(b"GET / HTTP/1.1\r\nHost: " + h + b"\r\n\r\n", 400)
           for h in (b"u@t", b"t/p", b"", b"a, b", b"a b")]
    bad += [(b"GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + c, 400)
            for c in (b"0x5\r\nhello\r\n0\r\n\r\n", b"5 \r\nhello\r\n0\r\n\r\n",
                      b"3\r\nhello\r\n0\r\n\r\n", b"5\nhello\r\n0\r\n\r\n")]
    bad += [(b"GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            (b"GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
            (b"M" * 9000 + b" / HTTP/1.1\r\nHost: t\r\n\r\n", 501)]
    wrong = []
    for data, want in bad:
        got = refused(srv, data)
        requests += 1
        if got != (want, True):
            wrong.append((data[:40], got))
    t.ok(not wrong, "%s: invalid Host, malformed chunks, other codings, a 9000-byte method: the "
         "status they need and a close" % model, repr(wrong))
    return requests


def http_suite(t, model):
    root, secret = make_docroot()
    # Keep-alive limits off: this suite checks the protocol; tests/keepalive.t checks the limits.
    srv = Server(model, "--proto", "http", "--docroot", root, "--keepalive-requests", "0",
                 "--keepalive-yield", "0")
    requests = 0
    try:
        with srv.connect() as s:
            r = HttpReader(s)
            ok = True
            for _ in range(3):
                s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                status, hdr, body = r.response()
                ok = ok and status == 200 and body == b"Hello, World!" and "connection" not in hdr
            requests += 3
        t.ok(ok, "%s: three keep-alive requests on one connection" % model)

        with srv.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"GET /bytes/5 HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
                      b"GET /bytes/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            r = HttpReader(s)
            got = [r.response(), r.response(), r.response(head=True), r.response()]
            requests += 4
            eof = r.at_eof()
        t.ok([(g[0], g[2]) for g in got] == [(200, b"Hello, World!"), (200, b"abcde"), (200, b""),
                                             (200, b"abc")] and eof,
             "%s: four pipelined requests answered in order, then close" % model, repr(got))
        t.ok(got[2][1].get("content-length") == "13",
             "%s: HEAD carries GET's Content-Length and no body" % model, repr(got[2][1]))

        status, _, _ = http_get(srv.port, "/nope")
        requests += 1
        t.ok(status == 404, "%s: unknown path is 404" % model, status)

        with srv.connect() as s:
            s.sendall(b"GARBAGE\r\n\r\n")
            r = HttpReader(s)
            status = r.response()[0]
            requests += 1
            t.ok(status == 400 and r.at_eof(), "%s: malformed request: 400 and close" % model,
                 status)

        status, _, body = http_get(srv.port, "/hello.txt")
        requests += 1
        t.ok(status == 200 and body == b"static hello\n", "%s: static file served" % model,
             (status, body))

        n = 1000003
        status, _, body = http_get(srv.port, "/bytes/%d" % n)
        requests += 1
        want = bytes(97 + i % 26 for i in range(26)) * (n // 26 + 1)
        t.ok(status == 200 and body == want[:n], "%s: /bytes/%d intact" % (model, n), status)

        leaks = []
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/escape"):
            status, _, body = http_get(srv.port, path)
            requests += 1
            if status == 200 or secret.encode() in body:
                leaks.append((path, status))
        t.ok(not leaks, "%s: traversal attempts get no file outside the docroot" % model,
             repr(leaks))

        requests += http11_suite(t, srv, model)

        rc, took = srv.stop()
        t.ok(rc == 0 and took <= STOP_LIMIT, "%s: http server stops with 0 in %.3f s" % (model, took),
             "rc=%r waiting in: %s; stderr: %s" % (rc, srv.stuck or "-", srv.stderr_text()))
        st = srv.stats()
        t.ok(st.get("requests") == requests,
             "%s: --stats requests %d matches the requests sent" % (model, requests), repr(st))
    finally:
        srv.kill()
        check_sanitizers(t, srv, "http")


def main():
    t = Tap()
    models = server_models()
    if not models:
        t.ok(False, "no server binaries in %s" % BIN)
    for model in models:
        for suite in (check_cli, echo_suite, http_suite):
            try:
                suite(t, model)
            except Exception as e:  # noqa: BLE001 -- a crash of one suite fails it, others go on
                t.ok(False, "%s: %s ran to the end" % (model, suite.__name__), repr(e))
    return t.done()


if __name__ == "__main__":
    run_main(main)
