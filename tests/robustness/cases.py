"""cases.py: the robustness cases. Each is a function of a Ctx (robust.py) that misbehaves as a client,
starts the canary at its worst moment, and states its own expectations; the generic checks (alive,
canary after, fds back to baseline, memory bounded, no sanitizer report) are made for every case by
robust.run_case. `quick` cases make up the subset that `make test` runs."""

import os
import resource
import signal
import socket
import struct
import threading
import time

from robust import (IDLE, SLACK, HttpReader, answered, held_clients, pattern)

CASES = []


class Case:
    def __init__(self, section, title, proto, fn, quick=False, skip_reason=None):
        self.section, self.title, self.proto, self.fn = section, title, proto, fn
        self.quick, self.skip_reason = quick, skip_reason  # skip_reason(): why not here, or None

    @property
    def name(self):
        return "%s: %s" % (self.section, self.title)


def case(section, title, proto="http", quick=False, **kw):
    def reg(fn):
        CASES.append(Case(section, title, proto, fn, quick=quick, **kw))
        return fn
    return reg


# ---- client helpers ------------------------------------------------------------------------------------

def read_until_eof(sock, limit=1 << 20, timeout=IDLE + SLACK):
    """Everything the server sends until it closes (a reset after some bytes counts as a close).
    Returns (bytes, closed): closed is False when the server kept the connection open past timeout."""
    sock.settimeout(timeout)
    chunks, got = [], 0
    try:
        while got < limit:
            c = sock.recv(65536)
            if not c:
                return b"".join(chunks), True
            chunks.append(c)
            got += len(c)
    except ConnectionResetError:
        return b"".join(chunks), True
    except socket.timeout:
        return b"".join(chunks), False
    return b"".join(chunks), False


def recv_at_least(sock, n):
    """Receive until n bytes have come or the server closed; the count received."""
    got = 0
    while got < n:
        c = sock.recv(65536)
        if not c:
            break
        got += len(c)
    return got


def status_of(raw):
    """Status code of the first response in raw (skipping a 100 Continue), or None."""
    if raw.startswith(b"HTTP/1.1 100 "):
        raw = raw.split(b"\r\n\r\n", 1)[-1]
    parts = raw.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def exchange(ctx, data):
    """Send data on a new connection, start the canary, read until the server closes.
    Returns (status, raw bytes, closed)."""
    s = ctx.connect()
    s.sendall(data)
    ctx.canary_start()
    raw, closed = read_until_eof(s)
    return status_of(raw), raw, closed


def rst_close(sock):
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def eof_within(sock, timeout):
    """True if the server closes sock within timeout; the bytes it sent meanwhile."""
    raw, closed = read_until_eof(sock, timeout=timeout)
    return closed, raw


REQ = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
HOLD = 2.0  # seconds the server is kept at a limit
SPIN = 0.5  # CPU share above its idle use at which a server waiting on something counts as spinning


BUSY_IDLE = 0.1  # CPU share a server uses idle above which it busy-polls by design


def idle_cpu(ctx, seconds=0.5):
    """CPU seconds per second the server uses doing nothing. A model that burns CPU even then
    (busy-polling) cannot be judged for spinning: its use depends on what else the machine runs."""
    cpu0 = ctx.tree.cpu_s()
    time.sleep(seconds)
    rate = (ctx.tree.cpu_s() - cpu0) / seconds
    if rate > BUSY_IDLE:
        ctx.note("busy-polls: spin not judged")
    return rate


def not_spinning(ctx, used, seconds, idle_rate, what):
    """Expect at most SPIN of a CPU over what the server uses idle, unless it is busy even then."""
    if idle_rate <= BUSY_IDLE:
        ctx.expect(used <= (idle_rate + SPIN) * seconds, "spins %s: %.2f CPU s in %.0f s"
                   % (what, used, seconds))


# ---- malformed HTTP, framing, oversize: a status and a close ----------------------------------------

def bad_request(section, title, data, status):
    def fn(ctx):
        got, raw, closed = exchange(ctx, data)
        ctx.expect(got == status, "answered %r, want %d" % (got if got else raw[:60], status))
        ctx.expect(closed, "connection left open after the error")
    CASES.append(Case(section, title, "http", fn, quick=True))


H = b"GET / HTTP/1.1\r\nHost: a\r\n"
for _title, _data, _status in (
        ("junk before the method", b"\x16\x03\x01\x02\x00\x01GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("missing version", b"GET /\r\nHost: a\r\n\r\n", 400),
        ("HTTP/9.9", b"GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505),
        ("bare CR in a header line", H + b"X-A: b\rX-B: c\r\n\r\n", 400),
        ("bare CR in the request line", b"GET / HTTP/1.1\rXHost: a\r\n\r\n", 400),
        ("bare LF line ends", b"GET / HTTP/1.1\nHost: a\n\n", 400),
        ("control character in a header value", H + b"X-A: b\x01c\r\n\r\n", 400),
        ("DEL in a header value", H + b"X-A: b\x7fc\r\n\r\n", 400),
        ("space before the colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("obs-fold", H + b"X-A: b\r\n c\r\n\r\n", 400),
        ("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
        ("two Host headers", H + b"Host: b\r\n\r\n", 400),
        ("Host with userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
        ("empty Host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
        ("Host list", b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
        ("other method (POST)", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405)):
    bad_request("malformed", _title, _data, _status)

TEC = H + b"Transfer-Encoding: chunked\r\n\r\n"
for _title, _data, _status in (
        ("Content-Length with Transfer-Encoding",
         H + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("Transfer-Encoding gzip, chunked (501)", H + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
         501),
        ("chunked not the last coding", H + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
         400),
        ("Transfer-Encoding in HTTP/1.0", b"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"0\r\n\r\n", 400),
        ("chunk size 0x5", TEC + b"0x5\r\nhello\r\n0\r\n\r\n", 400),
        ("chunk longer than its size", TEC + b"3\r\nhello\r\n0\r\n\r\n", 400),
        ("negative Content-Length", H + b"Content-Length: -1\r\n\r\n", 400),
        ("non-numeric Content-Length", H + b"Content-Length: 3x\r\n\r\nabc", 400),
        ("30-digit Content-Length", H + b"Content-Length: " + b"9" * 30 + b"\r\n\r\n", 400),
        ("duplicate Content-Length", H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400)):
    bad_request("framing", _title, _data, _status)

bad_request("oversize", "9 KiB target (414)",
            b"GET /" + b"a" * (9 * 1024) + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414)
bad_request("oversize", "9 KiB header line (431)", H + b"X-Big: " + b"b" * (9 * 1024) + b"\r\n\r\n",
            431)
bad_request("oversize", "200 header fields (431)",
            H + b"".join(b"X-%d: v\r\n" % i for i in range(200)) + b"\r\n", 431)
bad_request("oversize", "16 KiB without a line end (414)", b"GET /" + b"a" * (16 * 1024), 414)
bad_request("oversize", "16 KiB request line and more in one write (414)",
            b"GET /" + b"a" * 16000 + b" HTTP/1.1\r\nHost: a\r\nX-A: " + b"b" * 1000, 414)
bad_request("oversize", "16 KiB method (501)",
            b"M" * 16000 + b" / HTTP/1.1\r\nHost: a\r\nX-A: " + b"b" * 1000, 501)


@case("oversize", "body over the 1 MiB cap (413)", quick=True)
def body_over_cap(ctx):
    n = 2 << 20
    s = ctx.connect()
    s.sendall(H + b"Content-Length: %d\r\n\r\n" % n)

    def send_body():  # the server may close before taking it all: a failed send is fine
        try:
            s.sendall(b"z" * n)
        except OSError:
            pass
    t = threading.Thread(target=send_body, daemon=True)
    t.start()
    ctx.canary_start()
    raw, closed = read_until_eof(s)
    t.join(IDLE + SLACK)
    ctx.expect(status_of(raw) == 413, "answered %r, want 413" % raw[:60])
    ctx.expect(closed, "connection left open after the 413")


@case("framing", "body shorter than declared", quick=False)
def short_body(ctx):
    """The declared body never completes: what follows on the connection is body, never a request,
    and the server gives up on the connection after --idle-timeout."""
    s = ctx.connect()
    s.sendall(H + b"Content-Length: 100\r\n\r\n0123456789")
    r = HttpReader(s)
    status, _, body = r.response()
    ctx.expect(status == 200 and body == b"Hello, World!", "first answer %r %r" % (status, body))
    ctx.canary_start()
    s.sendall(b"GET /bytes/7 HTTP/1.1\r\nHost: a\r\n\r\n")  # inside the declared body
    raw, closed = read_until_eof(s)
    ctx.expect(r.buf + raw == b"", "bytes inside the body were answered as a request: %r"
               % (r.buf + raw)[:60])
    ctx.expect(closed, "connection with an incomplete body still open %.0f s later" % (IDLE + SLACK))


INNER = b"GET /bytes/9 HTTP/1.1\r\nHost: a\r\n\r\n"  # a request hidden in a body: never answered
LAST = b"GET /bytes/5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"


def body_then_request(ctx, data, first):
    """data is a request with a body hiding INNER, then LAST: exactly two answers, first and LAST's,
    then a close."""
    s = ctx.connect()
    s.sendall(data)
    ctx.canary_start()
    r = HttpReader(s)
    got = [r.response()[::2], r.response()[::2]]
    raw, closed = read_until_eof(s)
    ctx.expect(got == [(200, first), (200, b"abcde")], "answers %r" % got)
    ctx.expect(r.buf + raw == b"", "more than two answers: %r" % (r.buf + raw)[:60])
    ctx.expect(closed, "not closed after Connection: close")


@case("framing", "two pipelined requests in one write, one with a body", quick=True)
def pipelined_with_body(ctx):
    body_then_request(ctx, H + b"Content-Length: %d\r\n\r\n" % len(INNER) + INNER + LAST,
                      b"Hello, World!")


@case("framing", "chunked body hiding a request, then a pipelined one", quick=True)
def pipelined_with_chunked_body(ctx):
    body_then_request(ctx, b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"%x\r\n%s\r\n0\r\n\r\n" % (len(INNER), INNER) + LAST, INNER)


@case("malformed", "urgent (MSG_OOB) byte between two requests", quick=True)
def urgent_byte(ctx):
    """TCP urgent data leaves the byte stream (the kernel keeps the byte aside) but raises an
    exceptional condition (EPOLLPRI, POLLPRI) that a readiness loop may not expect: the requests
    around it are answered and nothing spins on it."""
    rate = idle_cpu(ctx)
    s = ctx.connect()
    s.sendall(REQ)
    s.send(b"!", socket.MSG_OOB)
    r = HttpReader(s)
    first = r.response()[::2]
    ctx.canary_start()
    cpu0 = ctx.tree.cpu_s()
    time.sleep(1.0)
    used = ctx.tree.cpu_s() - cpu0
    s.sendall(b"GET /bytes/4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    second = r.response()[::2]
    ctx.expect([first, second] == [(200, b"Hello, World!"), (200, b"abcd")],
               "answers %r" % ([first, second],))
    not_spinning(ctx, used, 1.0, rate, "on the urgent byte")


# ---- static files: never a file's contents from outside the docroot ---------------------------------

def static_get(ctx, target):
    s = ctx.connect()
    s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    raw, _ = read_until_eof(s)
    return status_of(raw), raw


def refused(title, *targets, secrets=("outside", "sibling")):
    def fn(ctx):
        ctx.canary_start()
        for t in targets:
            status, raw = static_get(ctx, t)
            leaked = ctx.docroot.leaked(raw, secrets)
            ctx.expect(not leaked, "%r leaked the %s file" % (t, "/".join(leaked)))
            ctx.expect(status is not None and 400 <= status < 500,
                       "%r answered %r, want 4xx" % (t, status if status else raw[:40]))
    CASES.append(Case("static", title, "http", fn, quick=True))


refused("/../x", b"/../secret.txt", b"/sub/../../secret.txt")
refused("/%2e%2e/", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt", b"/.%2e/secret.txt")
refused("/..%2f", b"/..%2fsecret.txt", b"/..%2Fsecret.txt", b"/sub%2f..%2f..%2fsecret.txt")
refused("/%252e%252e/ (decoded once only)", b"/%252e%252e/secret.txt", b"/%252e%252e%252fsecret.txt")
refused("GET ../x (no leading slash)", b"../secret.txt", b"secret.txt")
refused("%00", b"/hello.txt%00.html", b"/..%00/secret.txt", b"/%00")
refused("raw NUL in the target", b"/hello.txt\x00.html", b"/\x00../secret.txt")
refused("symlink out of the docroot", b"/escape")
refused("sibling directory extending the docroot's name", b"/../www-private/secret.txt", b"/sib",
        b"/sibabs", b"/%2e%2e/www-private/secret.txt")


@case("static", "FIFO", quick=True)
def fifo(ctx):
    """Opening a FIFO with no writer must neither block the server nor serve anything."""
    ctx.canary_start()
    status, raw = static_get(ctx, b"/fifo")
    ctx.expect(status == 404, "/fifo answered %r, want 404" % (status if status else raw[:40]))


@case("static", "directory", quick=True)
def directory(ctx):
    ctx.canary_start()
    for t in (b"/sub", b"/sub/", b"/sub/."):
        status, raw = static_get(ctx, t)
        ctx.expect(status is not None and 400 <= status < 500 and not ctx.docroot.leaked(raw, ("inner",)),
                   "%r answered %r, want 4xx and no listing" % (t, raw[:60]))
    status, raw = static_get(ctx, b"/sub/inner.txt")  # the control: files do get served
    ctx.expect(status == 200 and ctx.docroot.leaked(raw, ("inner",)),
               "control /sub/inner.txt answered %r" % raw[:60])


# ---- slow clients ----------------------------------------------------------------------------------

@case("slow", "slowloris (a header byte every %d s, 3 connections)" % (IDLE + 1))
def slowloris(ctx):
    """Bytes come slower than --idle-timeout: the server must close each connection."""
    socks = [ctx.connect() for _ in range(3)]
    for s in socks:
        s.sendall(b"GET / HTTP/1.1\r\n")
    ctx.canary_start()
    trickle, open_ = b"Host: a\r\n", list(socks)
    for i in range(4):
        deadline = time.monotonic() + IDLE + 1
        for s in list(open_):
            closed, raw = eof_within(s, max(0.01, deadline - time.monotonic()))
            if closed:
                ctx.expect(status_of(raw) in (None, 408) or 400 <= status_of(raw) < 500,
                           "slowloris got %r" % raw[:40])
                open_.remove(s)
        if not open_ or i == 3:
            break
        for s in open_:
            try:
                s.sendall(trickle[i:i + 1])
            except OSError:
                pass
    ctx.expect(not open_, "%d of 3 slowloris connections still open after %d s"
               % (len(open_), 4 * (IDLE + 1)))


@case("slow", "trickle: a header byte every %.1f s, faster than --idle-timeout" % (IDLE / 4))
def trickle(ctx):
    """Each byte restarts a per-read timer, so only a deadline on progress closes this client: a
    request must make progress (be taken by the engine) within --idle-timeout."""
    s = ctx.connect()
    s.sendall(b"GET / HTTP/1.1\r\n")
    ctx.canary_start()
    head = b"Host: a\r\nX-Slow: " + b"z" * 200
    t0, closed, raw = time.monotonic(), False, b""
    for i in range(len(head)):
        closed, got = eof_within(s, IDLE / 4)
        raw += got or b""
        if closed or time.monotonic() - t0 > 3 * IDLE + SLACK:
            break
        try:
            s.sendall(head[i:i + 1])
        except OSError:
            closed = True
            break
    ctx.expect(closed, "a trickling client still open after %.0f s" % (time.monotonic() - t0))
    ctx.expect(status_of(raw) != 200, "a trickling client got %r" % raw[:40])


@case("slow", "silent connections")
def silent(ctx):
    socks = [ctx.connect() for _ in range(2)]
    ctx.canary_start()
    for s in socks:
        closed, raw = eof_within(s, IDLE + SLACK)
        ctx.expect(closed, "a silent connection still open %.0f s later" % (IDLE + SLACK))
        ctx.expect(status_of(raw) != 200, "a silent connection got %r" % raw[:40])


@case("slow", "request split at every byte, 10 ms apart", quick=True)
def split_every_byte(ctx):
    data = (b"GET /bytes/26 HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    s = ctx.connect()
    for i in range(len(data)):
        s.send(data[i:i + 1])
        if i == len(data) // 2:
            ctx.canary_start()
        time.sleep(0.01)
    r = HttpReader(s)
    got = [r.response()[::2], r.response()[::2]]
    ctx.expect(got == [(200, bytes(range(97, 123))), (200, b"Hello, World!")], "answers %r" % got)
    ctx.expect(r.at_eof(IDLE + SLACK), "not closed after Connection: close")


BIG = 64 << 20
ALPHA = bytes(97 + i % 26 for i in range(26 * 12000))  # 'a' + i % 26, the /bytes/N pattern


def slow_read(ctx, s, total, expected_at, pause_at=8 << 20):
    """Read total bytes in small pieces with short sleeps, and one pause (shorter than
    --idle-timeout) during which the canary runs; check each piece against expected_at(off, n).
    Returns the offset of the first wrong byte, or None."""
    off, bad = 0, None
    s.settimeout(IDLE + SLACK)
    while off < total:
        if off >= pause_at and pause_at:
            ctx.canary_start()
            time.sleep(IDLE / 2)
            pause_at = 0
        c = s.recv(min(65536, total - off))
        if not c:
            break
        if bad is None and c != expected_at(off, len(c)):
            bad = off
        off += len(c)
        time.sleep(0.002)
    return bad if off == total else off if bad is None else bad


@case("slow", "slow reader of a 64 MiB response")
def slow_reader_http(ctx):
    s = ctx.connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % BIG)
    r = HttpReader(s)
    while b"\r\n\r\n" not in r.buf:
        r._fill()
    head, rest = r.buf.split(b"\r\n\r\n", 1)
    ctx.expect(head.startswith(b"HTTP/1.1 200 "), "answered %r" % head[:40])
    ctx.expect(rest == ALPHA[:len(rest)], "first body bytes wrong")
    bad = slow_read(ctx, s, BIG - len(rest),
                    lambda off, n: ALPHA[(off + len(rest)) % 26:(off + len(rest)) % 26 + n])
    ctx.expect(bad is None, "body wrong or cut at byte %r of %d" % (bad, BIG))


@case("slow", "slow reader of a 64 MiB echo", proto="echo")
def slow_reader_echo(ctx):
    block = pattern(65536, seed=7)
    cycle = block * 2
    s = ctx.connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sent = []

    def sender():
        try:
            for _ in range(BIG // len(block)):
                s.sendall(block)
            sent.append(True)
        except OSError as e:
            sent.append(e)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    bad = slow_read(ctx, s, BIG, lambda off, n: cycle[off % 65536:off % 65536 + n])
    t.join(IDLE + SLACK)
    ctx.expect(sent == [True], "sending failed: %r" % sent)
    ctx.expect(bad is None, "echo wrong or cut at byte %r of %d" % (bad, BIG))


@case("slow", "reader that stops reading mid-response")
def stalled_reader_http(ctx):
    """The client takes 1 MiB of a 64 MiB response and then reads nothing, connection open: the
    server must give up on it after --idle-timeout. (The kernel grows a stalled socket's send buffer
    now and then, and a blocking write that makes progress starts its timeout again, so this may
    take a few --idle-timeouts.)"""
    s = ctx.connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % BIG)
    recv_at_least(s, 1 << 20)
    ctx.canary_start()
    t0 = time.monotonic()
    while not server_closed(ctx, s) and time.monotonic() < t0 + 4 * IDLE + SLACK:
        time.sleep(0.05)
    ctx.expect(server_closed(ctx, s), "the server still holds a reader that stopped %.0f s ago"
               % (time.monotonic() - t0))


def server_closed(ctx, sock):
    """True once the server's end of sock's connection has left ESTABLISHED: it closed (or shut
    down), even if what it had queued still waits in the socket for the client to read."""
    lport = sock.getsockname()[1]
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, remote, state = line.split()[1:4]
            if int(local.split(":")[1], 16) == ctx.port and int(remote.split(":")[1], 16) == lport:
                return state != "01"
    return True


@case("slow", "sender that never reads its echo", proto="echo")
def never_reads_echo(ctx):
    """The client sends 64 MiB and reads none of the echo: once both directions are full the server
    can neither write nor (without buffering without bound) read, and must close after
    --idle-timeout, which ends the client's send with an error."""
    s = ctx.connect()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    result = []

    def sender():
        try:
            s.sendall(b"n" * BIG)
            result.append("sent all %d bytes" % BIG)
        except OSError as e:
            result.append(e)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    ctx.canary_start()
    t.join(2 * (IDLE + SLACK))
    ctx.expect(not t.is_alive(), "still sending %.0f s later: the server neither reads nor closes"
               % (2 * (IDLE + SLACK)))
    ctx.expect(result and isinstance(result[0], OSError),
               "the server took 64 MiB it could not echo back (%r)" % result)


@case("slow", "10000 pipelined requests, answers read late")
def pipelined_flood(ctx):
    """400 KB of pipelined requests asking for 100 MB of answers, none read for a second: the server
    must stop reading when it cannot write (the memory check catches buffering), then answer all."""
    n, size = 10000, 10000
    req = b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % size
    s = ctx.connect()
    t = threading.Thread(target=_send_quietly, args=(s, req * (n - 1) + req.replace(
        b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")), daemon=True)
    t.start()
    time.sleep(1.0)
    ctx.canary_start()
    r, ok = HttpReader(s), 0
    s.settimeout(IDLE + SLACK)
    want = ALPHA[:size]
    for _ in range(n):
        status, _, body = r.response()
        ok += status == 200 and body == want
    t.join(IDLE + SLACK)
    ctx.expect(ok == n, "%d of %d answers right" % (ok, n))
    ctx.expect(r.at_eof(IDLE + SLACK), "not closed after Connection: close")


# ---- disconnects ---------------------------------------------------------------------------------------

@case("disconnect", "close right after the request", quick=True)
def close_after_request(ctx):
    for i in range(20):
        s = ctx.connect()
        s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % (10 << 20) if i % 2 else REQ)
        s.close()
    ctx.canary_start()


@case("disconnect", "200 connections opened and closed at once", quick=True)
def churn(ctx):
    for _ in range(200):
        ctx.connect()
    ctx.close_all()
    ctx.canary_start()


@case("disconnect", "RST (SO_LINGER 0) mid-response", quick=True)
def rst_mid_response(ctx):
    for _ in range(3):
        s = ctx.connect()
        s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % BIG)
        got = recv_at_least(s, 1 << 20)
        ctx.expect(got >= 1 << 20, "response ended after %d bytes" % got)
        rst_close(s)
    ctx.canary_start()


@case("disconnect", "RST (SO_LINGER 0) mid-echo", proto="echo", quick=True)
def rst_mid_echo(ctx):
    for _ in range(3):
        s = ctx.connect()
        t = threading.Thread(target=lambda: _send_quietly(s, b"e" * (8 << 20)), daemon=True)
        t.start()
        got = recv_at_least(s, 1 << 20)
        ctx.expect(got >= 1 << 20, "echo ended after %d bytes" % got)
        rst_close(s)
        t.join(IDLE + SLACK)
    ctx.canary_start()


def _send_quietly(s, data):
    try:
        s.sendall(data)
    except OSError:
        pass


@case("disconnect", "RST before accept", quick=True)
def rst_before_accept(ctx):
    """The server's whole tree is stopped (SIGSTOP) while clients connect, send a request and reset,
    so that every one of them is still in the accept queue; then it continues."""
    ctx.signal_tree(signal.SIGSTOP)
    ctx.server_stopped = True
    try:
        for _ in range(10):
            s = ctx.connect()
            s.sendall(REQ)
            rst_close(s)
        ctx.canary_start()
    finally:
        ctx.signal_tree(signal.SIGCONT)
        ctx.server_stopped = False


@case("disconnect", "half-close after two pipelined requests", quick=True)
def half_close_http(ctx):
    s = ctx.connect()
    s.sendall(REQ + b"GET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    ctx.canary_start()
    r = HttpReader(s)
    got = [r.response()[::2], r.response()[::2]]
    ctx.expect(got == [(200, b"Hello, World!"), (200, b"abc")], "answers %r" % got)
    ctx.expect(r.at_eof(IDLE + SLACK), "not closed after the half-close was answered")


@case("disconnect", "half-close mid-echo", proto="echo", quick=True)
def half_close_echo(ctx):
    data = pattern(200000, seed=3)
    s = ctx.connect()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    ctx.canary_start()
    raw, closed = read_until_eof(s, limit=len(data) + 1)
    ctx.expect(raw == data, "echoed %d of %d bytes" % (len(raw), len(data)))
    ctx.expect(closed, "not closed after the half-close was answered")


# ---- exhaustion ----------------------------------------------------------------------------------------

def hold_and_watch(ctx, socks, idle_rate):
    """Keep the held connections at the limit for HOLD seconds with a canary queued behind them;
    the server may refuse the canary but must not spin: it may use what it uses when idle, and
    SPIN of a CPU more."""
    ctx.canary_start(bound=HOLD + IDLE + SLACK, may_fail=True)
    cpu0 = ctx.tree.cpu_s()
    time.sleep(HOLD)
    used = ctx.tree.cpu_s() - cpu0
    n = answered(socks, 0.01)
    not_spinning(ctx, used, HOLD, idle_rate, "at its limit")
    return n, used


@case("exhaustion", "open-file limit below the connection count", proto="echo", quick=True)
def nofile(ctx):
    rate = idle_cpu(ctx)
    pids = ctx.tree.pids()
    saved = {p: resource.prlimit(p, resource.RLIMIT_NOFILE) for p in pids}
    limit = ctx.tree.max_fd(pids) + 1 + 8  # room for 8 more descriptors in each process
    try:
        for p in pids:
            resource.prlimit(p, resource.RLIMIT_NOFILE, (limit, saved[p][1]))
        socks = held_clients(ctx, 40)
        hold_and_watch(ctx, socks, rate)
    finally:
        for p in ctx.tree.pids():  # children forked meanwhile inherited the limit: lift theirs too
            try:
                resource.prlimit(p, resource.RLIMIT_NOFILE, saved.get(p, saved[pids[0]]))
            except (ProcessLookupError, PermissionError):
                pass


class PidsCgroup:
    """A child of the cgroup v1 pids controller: made, filled with the server's processes, limited,
    and removed (its processes moved back to where they were) in the end."""

    ROOT = "/sys/fs/cgroup/pids"

    @classmethod
    def unavailable(cls):
        if not os.path.exists(os.path.join(cls.ROOT, "cgroup.procs")):
            return "no cgroup v1 pids controller at %s" % cls.ROOT
        if not os.access(cls.ROOT, os.W_OK):
            return "%s is not writable" % cls.ROOT
        return None

    def __init__(self):
        self.home = self.ROOT
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrl, path = line.rstrip("\n").split(":", 2)
                if "pids" in ctrl.split(","):
                    self.home = self.ROOT + path
        self.path = os.path.join(self.home, "cmb-robust-%d-%d" % (os.getpid(), time.monotonic_ns()))
        os.mkdir(self.path)

    def _write(self, name, value, where=None):
        with open(os.path.join(where or self.path, name), "w") as f:
            f.write(str(value))

    def add(self, pid):
        self._write("cgroup.procs", pid)

    def current(self):
        with open(os.path.join(self.path, "pids.current")) as f:
            return int(f.read())

    def set_max(self, n):
        self._write("pids.max", n)

    def remove(self):
        self.set_max("max")
        for _ in range(50):
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                pids = [int(x) for x in f.read().split()]
            for p in pids:
                try:
                    self._write("cgroup.procs", p, where=self.home)
                except OSError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.05)


@case("exhaustion", "process/thread limit (pids cgroup)", proto="echo",
      skip_reason=PidsCgroup.unavailable)
def pids_limit(ctx):
    """Processes and threads are capped just above what the server has (or, for a pre-forked pool,
    just below, and a worker is killed so that it must be restarted): spawning fails, the server must
    refuse or queue, not spin nor die, and recover once the cap is lifted."""
    rate = idle_cpu(ctx)
    cg = PidsCgroup()
    try:
        pids = ctx.tree.pids()
        for p in pids:
            cg.add(p)
        workers = pids[1:]
        if workers:
            cg.set_max(max(1, cg.current() - 1))
            os.kill(workers[0], signal.SIGKILL)
        else:
            cg.set_max(cg.current() + 2)
        socks = held_clients(ctx, 16)
        hold_and_watch(ctx, socks, rate)
        cg.set_max("max")
        ctx.close_all()
        deadline = time.monotonic() + IDLE + SLACK
        while len(ctx.tree.pids()) < len(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        ctx.expect(len(ctx.tree.pids()) >= len(pids),
                   "%d of %d processes %.0f s after the limit was lifted"
                   % (len(ctx.tree.pids()), len(pids), IDLE + SLACK))
    finally:
        cg.remove()
