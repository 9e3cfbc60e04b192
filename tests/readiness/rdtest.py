"""rdtest: what the readiness-server tests (tests/readiness-*.t) share beyond tests/lib/cmbtest.py: the
models under test, fd limits, CPU time of a process, and a checksummed echo through a slow reader."""

import hashlib
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cmbtest import BIN, IO_TIMEOUT, server_models  # noqa: E402

READINESS = ["busypoll", "select", "poll", "epoll-lt", "epoll-et", "libevent",
             "py-select", "py-poll", "py-epoll-lt", "py-epoll-et", "py-selectors"]


def models(only=None):
    """The readiness models that are built (narrowed by $SERVERS, then by `only`)."""
    have = set(server_models())
    return [m for m in READINESS if m in have and (only is None or m in only)]


def raise_nofile(want):
    """Let this process (and the servers it starts) open `want` fds, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def nofile_limit(n):
    """A preexec function: the started process gets at most n fds (what prlimit --nofile=n does)."""
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def cpu_seconds(pid):
    """User + system CPU time of a process, in seconds (clock-tick resolution)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chunk(i, size=65536):
    """The i-th chunk of a deterministic byte stream (cheap to make, every chunk different)."""
    head = i.to_bytes(8, "little")
    return (head * (size // 8))[:size]


def slow_reader_echo(port, total, rcvbuf=4096, read_size=4096, pause_every=64, pause=0.001):
    """Send `total` bytes to an echo server through a socket with a small SO_RCVBUF whose reader
    reads small pieces and naps now and then, so the server's writes stall and must be buffered and
    resumed. Returns (sent sha256, received sha256, bytes received, error or None)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: sets the window
    s.settimeout(IO_TIMEOUT)
    s.connect(("127.0.0.1", port))
    sent_h, got_h, err = hashlib.sha256(), hashlib.sha256(), []

    def sender():
        try:
            left, i = total, 0
            while left > 0:
                c = chunk(i)[:left]
                sent_h.update(c)
                s.sendall(c)
                left -= len(c)
                i += 1
            s.shutdown(socket.SHUT_WR)  # half-close: the echo of everything must still come back
        except OSError as e:
            err.append("send: %r" % e)

    th = threading.Thread(target=sender)
    th.start()
    got, reads = 0, 0
    try:
        while True:
            c = s.recv(read_size)
            if not c:
                break
            got_h.update(c)
            got += len(c)
            reads += 1
            if reads % pause_every == 0:
                time.sleep(pause)
    except OSError as e:
        err.append("recv after %d bytes: %r" % (got, e))
    th.join()
    s.close()
    return sent_h.hexdigest(), got_h.hexdigest(), got, (err[0] if err else None)


__all__ = ["BIN", "IO_TIMEOUT", "READINESS", "models", "raise_nofile", "nofile_limit", "cpu_seconds",
           "slow_reader_echo"]
