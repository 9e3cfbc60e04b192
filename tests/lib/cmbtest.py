"""cmbtest: what the Python tests share: TAP output, starting and stopping a server binary, and small
blocking socket clients for echo and HTTP. Runs on /usr/bin/python3 with the standard library only."""

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("BIN", "bin")
IO_TIMEOUT = 20.0  # seconds any single socket operation may take before a test fails


class Tap:
    """TAP producer; the plan is printed at the end, so the number of checks may depend on the
    servers found."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(("ok" if cond else "not ok"), self.n, "-", name, flush=True)
        if not cond:
            # on stderr, as Test::More's diag: prove shows it without -v, so a CI log says why
            self.diag("failed %d - %s" % (self.n, name), sys.stderr)
            if diag:
                self.diag(diag, sys.stderr)
        return bool(cond)

    def diag(self, text, out=None):
        for line in str(text).splitlines() or [""]:
            print("#", line, file=out or sys.stdout, flush=True)

    def skip(self, name, why):
        self.n += 1
        print("ok", self.n, "-", name, "# SKIP", why, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def server_models(env_filter="SERVERS"):
    """Models with a built binary, optionally narrowed by $SERVERS (comma-separated)."""
    names = sorted(f[len("server-"):] for f in os.listdir(BIN) if f.startswith("server-")
                   and os.access(os.path.join(BIN, f), os.X_OK))
    only = os.environ.get(env_filter)
    if only:
        wanted = set(only.split(","))
        names = [n for n in names if n in wanted]
    return names


def counterpart(model):
    """The C model a Python model implements (py-iterative: iterative), for the checks that depend on
    the model's kind; any other model is its own."""
    return model[len("py-"):] if model.startswith("py-") else model


READY = re.compile(rb"^ready (\S+) port=(\d+) pid=(\d+)$")


class Server:
    """A server binary started on a free port in its own process group (so that a failed test can
    still remove everything it started), with its stderr kept in a file for diagnostics."""

    def __init__(self, model, *args, stats=True, preexec=None, ready_timeout=10.0):
        self.model = model
        self.tmp = tempfile.mkdtemp(prefix="cmb-%s-" % model)
        self.stats_path = os.path.join(self.tmp, "stats.json") if stats else None
        argv = [os.path.join(BIN, "server-" + model), "--port", "0"] + list(args)
        if self.stats_path:
            argv += ["--stats", self.stats_path]
        self.stderr = open(os.path.join(self.tmp, "stderr"), "w+b")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr,
                                     start_new_session=True, preexec_fn=preexec)
        self.ready_line = self._read_line(ready_timeout)
        m = READY.match(self.ready_line or b"")
        if not m:
            self.kill()
            raise RuntimeError("server-%s did not print a ready line (got %r); stderr: %s"
                               % (model, self.ready_line, self.stderr_text()))
        self.ready_model = m.group(1).decode()
        self.port = int(m.group(2))
        self.pid = int(m.group(3))
        self.rc = None
        self.stuck = ""   # set by stop() when the server outlived its timeout: waits()

    def _read_line(self, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1)
            if not chunk:
                return buf or None
            buf += chunk
        return buf.rstrip(b"\n")

    def stderr_text(self):
        self.stderr.flush()
        with open(self.stderr.name, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")

    def sanitizer_report(self):
        """Sanitizer findings of the server or any process it forked (they share stderr), or ''."""
        text = self.stderr_text()
        return text if any(m in text for m in self.SANITIZER_MARKS) else ""

    def alive(self):
        return self.proc.poll() is None

    def threads(self):
        """(pid, tid) of every thread of the server's live processes."""
        out = []
        for pid in [self.pid] + self.descendants():
            try:
                out += [(pid, int(t)) for t in sorted(os.listdir("/proc/%d/task" % pid), key=int)]
            except OSError:
                pass
        return out

    @staticmethod
    def thread_wait(pid, tid):
        """(state, kernel function it sleeps in, or "-") of one thread; None once it is gone."""
        base = "/proc/%d/task/%d/" % (pid, tid)
        try:
            with open(base + "stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(base + "wchan") as f:
                return state, f.read().strip() or "-"
        except (OSError, IndexError):
            return None

    def waits(self):
        """Where each thread of the server's processes is: "pid/tid state kernel-wait" items, for
        the diagnostic of a server that did not stop in time."""
        out = ["%d/%d %s %s" % ((pid, tid) + w) for pid, tid in self.threads()
               if (w := self.thread_wait(pid, tid))]
        return ", ".join(out) or "nothing left"

    def descendants(self):
        """Pids of every live process whose ancestry leads to the server."""
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    parent[int(d)] = (int(fields[1]), fields[0])
                except (OSError, IndexError, ValueError):
                    pass
        out, frontier = [], [self.pid]
        while frontier:
            p = frontier.pop()
            for child, (pp, state) in parent.items():
                if pp == p and state != "Z":
                    out.append(child)
                    frontier.append(child)
        return out

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signal the server, wait for it; returns (exit code or None, seconds taken)."""
        t0 = time.monotonic()
        try:
            self.proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.rc = None
            self.stuck = self.waits()
        took = time.monotonic() - t0
        self.kill()
        return self.rc, took

    def kill(self):
        """Remove whatever is left of our process group."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def connect(self, timeout=IO_TIMEOUT):
        return connect(self.port, timeout)


def connect(port, timeout=IO_TIMEOUT, host="127.0.0.1"):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        c = sock.recv(min(n - got, 1 << 20))
        if not c:
            break
        chunks.append(c)
        got += len(c)
    return b"".join(chunks)


def recv_all(sock):
    """Read until EOF."""
    chunks = []
    while True:
        c = sock.recv(1 << 20)
        if not c:
            return b"".join(chunks)
        chunks.append(c)


def pattern(n, seed=0):
    """Deterministic, position-dependent test bytes (a misplaced byte changes the content)."""
    block = bytes((i * 7 + seed * 13 + (i >> 8)) & 0xFF for i in range(65536))
    return (block * (n // len(block) + 1))[:n]


def echo_roundtrip(sock, data, shut_write=False):
    """Send data while reading the echo concurrently (a large message would otherwise deadlock on full
    socket buffers); returns the bytes received (all of them until EOF if shut_write)."""
    err = []

    def sender():
        try:
            sock.sendall(data)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender)
    t.start()
    try:
        got = recv_all(sock) if shut_write else recv_exact(sock, len(data))
    except OSError as e:
        got = b""
        err.append(e)
    t.join()
    if err:
        raise err[0]
    return got


class HttpReader:
    """Parses responses off one connection, keeping leftover bytes for pipelined ones."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        c = self.sock.recv(65536)
        if not c:
            raise EOFError("connection closed")
        self.buf += c

    def response(self, head=False):
        """Returns (status, headers dict lower-cased, body)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def at_eof(self, timeout=IO_TIMEOUT):
        """True when the server closed the connection (after any bytes already buffered)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


def http_get(port, path, method="GET", extra=""):
    """One request on a new connection, Connection: close; returns (status, headers, body)."""
    with connect(port) as s:
        s.sendall(("%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n"
                   % (method, path, extra)).encode())
        return HttpReader(s).response(head=(method == "HEAD"))


def run_main(main):
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
