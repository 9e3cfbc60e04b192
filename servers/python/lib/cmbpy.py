"""cmbpy: what every Python model (servers/python/<name>.py) shares, the Python face of servers/common/:
the command line and --help of main.c, the ready line and the counters of server.c, the stop signals
of stop.c, the listener of net.c, the protocol engine itself (bin/libcmbproto.so through ctypes), the
blocking connection loop of blocking.c, and the readiness loop of loop.c + conn.c over a model's wait
backend.
A model file holds its concurrency model and a `Model(...)`, and calls main(model).

The engine is the C servers' own (proto.c), so the bytes on the wire are the same; what the Python
models add is the interpreter: --work-us burns CPU in bytecode holding the GIL, --wait-us sleeps the
way the model blocks. The library is loaded with ctypes.PyDLL, which keeps the GIL across each call:
a step is about a microsecond and never blocks, and releasing the GIL around it (ctypes.CDLL) lets a
waiting thread take it about every third call, nearly doubling a step's cost for nothing to overlap
(tests/bench/py-gil-cost.py; README, "Python models").

Standard library only (the gevent model imports gevent itself); /usr/bin/python3 -P."""

import ctypes
import errno
import getopt
import json
import mmap
import os
import select
import signal
import socket
import struct
import sys
import time

# ---- the model descriptor (struct srv_model) -------------------------------------------------------

F_BLOCKING, F_EVENTS, F_SPAWNS, F_WORKERS = 1, 2, 4, 8   # enum srv_model_flags
KA_NGINX = dict(requests=1000, time=3600)                # SRV_KEEPALIVE_NGINX
KA_APACHE = dict(requests=100, timeout=5)                # SRV_KEEPALIVE_APACHE
DEFAULT_BACKLOG = 4096                                   # servers/common/defaults.h


class Model:
    """What a model file provides: name ("py-select"), --help summary, flags, default --workers,
    keep-alive defaults, the clients_waiting hook of pools (or None), and run(srv) -> exit code."""

    def __init__(self, name, summary, flags, run, default_workers=0, keepalive=None,
                 clients_waiting=None, choices=None):
        self.name, self.summary, self.flags, self.run = name, summary, flags, run
        # The model's own options, each one of a few words: {name: (default, (words...), help)}.
        self.choices = choices or {}
        self.default_workers = default_workers
        self.keepalive = dict(requests=0, time=0, timeout=0, yield_=0)
        self.keepalive.update({("yield_" if k == "yield" else k): v
                               for k, v in (keepalive or {}).items()})
        self.clients_waiting = clients_waiting


# ---- command line (main.c) -------------------------------------------------------------------------

def cpus_allowed():
    try:
        return len(os.sched_getaffinity(0)) or 1
    except OSError:
        return os.cpu_count() or 1


def usage(m):
    """The C servers' --help text (servers/common/usage.c, through the engine's library)."""
    ka, buf = m.keepalive, ctypes.create_string_buffer(8192)
    _ENGINE["lib"].srv_usage(buf, len(buf), m.name.encode(), m.summary.encode(), m.flags,
                             m.default_workers or cpus_allowed(), ka["requests"], ka["time"],
                             ka["timeout"], ka["yield_"], 1 if m.clients_waiting else 0)
    own = "".join("  --%-18s %s (%s; default %s)\n" % (k + " WORD", h, " or ".join(w), d)
                  for k, (d, w, h) in m.choices.items())
    return buf.value.decode() + own


# option: (attribute, low, high); None for the ones that are not integers
OPTIONS = {
    "host": None, "port": ("port", 0, 65535), "proto": None, "workers": ("workers", 1, 4096),
    "docroot": None, "work-us": ("work_us", 0, 10000000), "wait-us": ("wait_us", 0, 10000000),
    "idle-timeout": ("idle_timeout", 0, 86400), "max-conns": ("max_conns", 0, 2**31 - 1),
    "backlog": ("backlog", 1, 2**31 - 1), "stats": None,
    "keepalive-requests": ("ka_requests", 0, 2**31 - 1),
    "keepalive-time": ("ka_time", 0, 86400 * 365), "keepalive-timeout": ("ka_timeout", 0, 86400),
    "keepalive-yield": ("ka_yield", 0, 1),
}


class Opts:
    def __init__(self, m):
        self.host, self.port, self.proto, self.workers, self.docroot = "127.0.0.1", 8080, "http", 0, None
        self.work_us = self.wait_us = self.max_conns = 0
        self.idle_timeout, self.backlog, self.stats = 60, DEFAULT_BACKLOG, None
        ka = m.keepalive
        self.ka_requests, self.ka_time = ka["requests"], ka["time"]
        self.ka_timeout, self.ka_yield = ka["timeout"], ka["yield_"]
        for k, (default, _, _) in m.choices.items():
            setattr(self, k.replace("-", "_"), default)


def fail_usage(m, text):
    sys.stderr.write("server-%s: %s\n" % (m.name, text))
    sys.exit(2)


def parse_args(m, argv):
    """getopt_long's rules (--opt VAL, --opt=VAL, unambiguous prefixes); exit 2 naming the option."""
    o = Opts(m)
    try:
        pairs, rest = getopt.getopt(argv, "", [k + "=" for k in list(OPTIONS) + list(m.choices)] + ["help"])
    except getopt.GetoptError as e:
        sys.stderr.write("server-%s: %s\n%s" % (m.name, e, usage(m)))
        sys.exit(2)
    for flag, val in pairs:
        name = flag[2:]
        if name == "help":
            sys.stdout.write(usage(m))
            sys.exit(0)
        if name in m.choices:
            words = m.choices[name][1]
            if val not in words:
                fail_usage(m, "--%s wants %s, not '%s'" % (name, " or ".join(words), val))
            setattr(o, name.replace("-", "_"), val)
            continue
        spec = OPTIONS[name]
        if spec:
            attr, lo, hi = spec
            if not (val.isdigit() or (val[:1] in "+-" and val[1:].isdigit())) or not lo <= int(val) <= hi:
                fail_usage(m, "--%s wants an integer from %d to %d, not '%s'" % (name, lo, hi, val))
            setattr(o, attr, int(val))
        elif name == "proto":
            if val not in ("echo", "http"):
                fail_usage(m, "--proto wants echo or http, not '%s'" % val)
            o.proto = val
        else:
            setattr(o, name, val)
    if rest:
        fail_usage(m, "unexpected argument '%s'" % rest[0])
    if not o.workers:
        o.workers = m.default_workers or cpus_allowed()
    return o


# ---- logging ----------------------------------------------------------------------------------------

LOG_NAME = ["server"]


def log(text):
    """'server-<model>: text' on stderr, in one write (lines of threads and processes never mix)."""
    try:
        os.write(2, ("%s: %s\n" % (LOG_NAME[0], text)).encode(errors="replace"))
    except OSError:
        pass


class RateLimit:
    """log() at most once per `interval` seconds, saying how many were suppressed."""

    def __init__(self, interval=5):
        self.interval, self.last, self.suppressed = interval, None, 0

    def log(self, text):
        now = time.monotonic()
        if self.last is not None and now - self.last < self.interval:
            self.suppressed += 1
            return
        if self.suppressed:
            text += " (%u more since the last report)" % self.suppressed
        self.last, self.suppressed = now, 0
        log(text)


# ---- the engine (bin/libcmbproto.so) ---------------------------------------------------------------

NEED_INPUT, NEED_ROOM, CLOSE = 0, 1, 2   # enum proto_result
_ENGINE = {}                             # "lib": the loaded library, once setup() loaded it


class _LibConn(ctypes.Structure):
    """The leading, public members of struct proto_lib_conn (servers/common/proto_lib.c)."""
    _fields_ = [("inp", ctypes.c_void_p), ("inlen", ctypes.c_uint32), ("incap", ctypes.c_uint32),
                ("out", ctypes.c_void_p), ("outlen", ctypes.c_uint32), ("outcap", ctypes.c_uint32),
                ("requests", ctypes.c_uint32), ("awaits", ctypes.c_uint32)]


def load_engine(path):
    lib = ctypes.PyDLL(path)   # PyDLL: the GIL stays held across each call (see the top)
    lib.proto_lib_cfg_new.restype = ctypes.c_void_p
    lib.proto_lib_cfg_new.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                      ctypes.c_int]
    lib.proto_lib_conn_new.restype = ctypes.POINTER(_LibConn)
    lib.proto_lib_conn_new.argtypes = [ctypes.c_void_p]
    lib.proto_lib_conn_free.restype = None
    lib.proto_lib_conn_free.argtypes = [ctypes.POINTER(_LibConn)]
    lib.proto_lib_step.restype = ctypes.c_int
    lib.proto_lib_step.argtypes = [ctypes.POINTER(_LibConn), ctypes.c_uint32, ctypes.c_int]
    lib.proto_lib_atomic_add.restype = ctypes.c_int64
    lib.proto_lib_atomic_add.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    lib.proto_lib_atomic_max.restype = None
    lib.proto_lib_atomic_max.argtypes = [ctypes.c_void_p, ctypes.c_int64]
    for name, res, args in (("srv_stop_init", ctypes.c_int,
                             [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]),
                            ("srv_stopping", ctypes.c_int, []), ("srv_stop_now", None, []),
                            ("srv_track", None, [ctypes.c_int]),
                            ("srv_untrack", None, [ctypes.c_int]), ("srv_child_init", None, [])):
        getattr(lib, name).restype, getattr(lib, name).argtypes = res, args
    lib.srv_usage.restype = ctypes.c_size_t
    lib.srv_usage.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p,
                              ctypes.c_uint, ctypes.c_int] + [ctypes.c_uint] * 4 + [ctypes.c_int]
    return lib


def burn_cpu(us):
    """--work-us: `us` microseconds of this thread's CPU time, spent in bytecode (the GIL held, but
    for the interpreter's switch interval)."""
    end = time.thread_time_ns() + us * 1000
    while time.thread_time_ns() < end:
        pass


class Conn:
    """One connection's engine state and its buffers, which live in C: recv_into(c.room()), then
    c.step(n); send c.output(); c.progress says whether the engine took input or answered."""

    __slots__ = ("p", "s", "inv", "outv", "srv", "progress", "wait")

    def __init__(self, srv):
        p = srv.lib.proto_lib_conn_new(srv.cfg)
        if not p:
            raise MemoryError("no memory for a connection's engine state")
        self.p, self.s, self.srv = p, p.contents, srv
        self.inv = memoryview((ctypes.c_char * self.s.incap).from_address(self.s.inp))
        self.outv = memoryview((ctypes.c_char * self.s.outcap).from_address(self.s.out))
        self.progress, self.wait = False, 0.0

    def room(self):
        return self.inv[self.s.inlen:]

    def step(self, added, st, block=True):
        """Take `added` received bytes and run the engine once; counts answered requests into st and
        does their modelled work. block=False leaves --wait-us to the caller, in c.wait (seconds)."""
        s, srv = self.s, self.srv
        before = s.inlen + added
        r = srv.step(self.p, added, 1 if srv.yield_fn and srv.yield_fn() else 0)
        n = s.requests
        self.progress = s.outlen > 0 or (r != CLOSE and s.inlen != before)
        self.wait = 0.0
        if n:
            st.requests += n
            if srv.opt.work_us:
                burn_cpu(srv.opt.work_us * n)
            if srv.opt.wait_us:
                self.wait = srv.opt.wait_us * n / 1e6
                if block:
                    time.sleep(self.wait)
        return r

    def received(self, n):
        """n bytes were read into room(); the next step(0) takes them."""
        self.s.inlen += n

    def output(self):
        n = self.s.outlen
        return self.outv[:n] if n else None

    def pending_input(self):
        return self.s.inlen

    def awaits_request(self):
        return self.s.awaits

    def free(self):
        if self.p:
            self.inv = self.outv = None
            self.srv.lib.proto_lib_conn_free(self.p)
            self.p = self.s = None


# ---- counters (server.h SRV_COUNTERS), totals shared by threads and forked processes ----------------

COUNTERS = ("accepted", "closed", "requests", "bytes_in", "bytes_out", "errors", "timeouts",
            "refused_max_conns", "refused_fd_setsize", "refused_emfile", "spawn_failures",
            "wait_calls", "events", "eagain", "ctl_calls")
_SLOTS = COUNTERS + ("conns", "peak_conns")
_TOTALS = {}   # the mapping and the engine, once main() set them up


class Stats:
    """One thread's (or process's) counts, plain attributes; flush() adds them to the totals."""

    __slots__ = COUNTERS

    def __init__(self):
        for k in COUNTERS:
            setattr(self, k, 0)

    def flush(self):
        add, base = _TOTALS["add"], _TOTALS["base"]
        for i, k in enumerate(COUNTERS):
            v = getattr(self, k)
            if v:
                add(base + 8 * i, v)
                setattr(self, k, 0)


def _slot(name):
    return _TOTALS["base"] + 8 * _SLOTS.index(name)


class SharedInt:
    """An integer in memory shared with forked processes, updated atomically (prefork's idle count)."""

    def __init__(self):
        self.mm = mmap.mmap(-1, 8, mmap.MAP_SHARED)
        self.addr = ctypes.addressof(ctypes.c_char.from_buffer(self.mm))

    def add(self, d):
        return _TOTALS["add"](self.addr, d)

    def get(self):
        return _TOTALS["add"](self.addr, 0)


def conn_admit(srv, st):
    """A new connection: count it and enforce --max-conns. False: close it (counted as refused)."""
    st.accepted += 1
    now = _TOTALS["add"](_slot("conns"), 1)
    if srv.opt.max_conns and now > srv.opt.max_conns:
        _TOTALS["add"](_slot("conns"), -1)
        st.refused_max_conns += 1
        return False
    _TOTALS["max"](_slot("peak_conns"), now)
    return True


def conn_release():
    _TOTALS["add"](_slot("conns"), -1)


def write_stats(path, m):
    """The --stats JSON object of server.c, byte for byte, written atomically (rename)."""
    v = dict(zip(_SLOTS, struct.unpack("%dq" % len(_SLOTS), _TOTALS["mm"][:8 * len(_SLOTS)])))
    out = [("model", m.name), ("accepted", v["accepted"]),
           ("refused", v["refused_max_conns"] + v["refused_fd_setsize"] + v["refused_emfile"]),
           ("refused_reasons", {"max_conns": v["refused_max_conns"],
                                "fd_setsize": v["refused_fd_setsize"], "emfile": v["refused_emfile"]})]
    out += [(k, v[k]) for k in ("closed", "requests", "bytes_in", "bytes_out", "errors", "timeouts",
                                "peak_conns")]
    if m.flags & F_SPAWNS:
        out.append(("spawn_failures", v["spawn_failures"]))
    if m.flags & F_EVENTS:
        out += [(k, v[k]) for k in ("wait_calls", "events", "eagain", "ctl_calls")]
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(json.dumps(dict(out), separators=(",", ":")) + "\n")
        os.rename(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---- stop (stop.c, in the library): the flag, the wake pipe, the sockets a stop shuts down --------
#
# The library's C handler runs first, then the interpreter's: it shuts the listener and the tracked
# sockets down at once, wherever the main thread is. A Python handler alone runs only between
# bytecodes, so a signal that lands after the last check and before a blocking accept() or recv()
# would wait there for the next client.

_STOP = {"wake": -1}


def stopping():
    return _ENGINE["lib"].srv_stopping() != 0


def request_stop(*_):
    """The Python-level SIGTERM/SIGINT handler, also called by models whose own signal machinery
    replaced the library's handler (asyncio, gevent): the stop as the C handler does it. Set the
    flag, shut the listener down (Linux wakes every accept() blocked on it, with EINVAL) and every
    tracked connection (a thread blocked in recv sees EOF, in send EPIPE). Again is harmless."""
    _ENGINE["lib"].srv_stop_now()


def track(sock):
    _ENGINE["lib"].srv_track(sock.fileno())


def untrack(sock):
    _ENGINE["lib"].srv_untrack(sock.fileno())


def wake_fd():
    """Readable once a signal arrived (SIGTERM, SIGINT, SIGCHLD): event loops watch it and drain it."""
    return _STOP["wake"]


def drain_wake():
    try:
        while os.read(_STOP["wake"], 512):
            pass
    except OSError:
        pass


def install_signals(stop_listener):
    """The interpreter's handlers, then the library's in front of them; the wake pipe gets a byte
    for every signal (set_wakeup_fd). stop_listener: the socket a stop shuts down, or None."""
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _STOP["wake"] = r
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    err = ctypes.create_string_buffer(256)
    if _ENGINE["lib"].srv_stop_init(stop_listener.fileno() if stop_listener else -1, 0, err,
                                    len(err)) < 0:
        log(err.value.decode())
        sys.exit(1)


def child_init():
    """In a forked child: forget the parent's stop duties (its listener, its connections) and keep
    the handlers for this process."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    _ENGINE["lib"].srv_child_init()
    _prctl_pdeathsig()


def fork(child, record):
    """os.fork() with SIGCHLD held until record(pid) has run in the parent, so that a child's reaping
    cannot come before its record. child() runs in the child and must not return. The pid, or
    OSError when the fork failed."""
    held = {signal.SIGCHLD}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        pid = os.fork()
        if pid == 0:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
            child()
            os._exit(0)
        record(pid)
        return pid
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def start_thread(t):
    """t.start() with every signal blocked in the new thread, as the C servers' threads
    (threads.c): a signal for the process then reaches the main thread, which runs Python's
    handlers and waits in accept(), join() or sleep(). Caught by a worker instead, a signal would
    interrupt none of the main thread's waits. RuntimeError when the thread cannot be started."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        t.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def reap():
    """The pids of children that exited, each reaped: waitpid WNOHANG until none is left (one
    SIGCHLD may stand for several exits)."""
    pids = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return pids
        if pid == 0:
            return pids
        pids.append(pid)


def stop_children(live, reaped):
    """SIGTERM every pid of live(), wait for them up to 0.8 s (reaped() takes exits in), then SIGKILL
    what is left and wait 0.1 s more."""
    deadline = time.monotonic() + 0.8
    for sig, until in ((signal.SIGTERM, deadline), (signal.SIGKILL, deadline + 0.1)):
        for pid in live():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        while live() and time.monotonic() < until:
            time.sleep(0.002)
            reaped()


def _prctl_pdeathsig():
    """PR_SET_PDEATHSIG SIGTERM: a child never outlives a parent that was killed outright."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass


# ---- sockets (net.c) ---------------------------------------------------------------------------------

def listen(o, nonblock):
    """The listener: first address of --host that binds; OSError with net.c's message otherwise."""
    last = None
    try:
        infos = socket.getaddrinfo(o.host, o.port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0,
                                   socket.AI_PASSIVE | socket.AI_NUMERICSERV)
    except socket.gaierror as e:
        raise OSError("cannot resolve %s: %s" % (o.host, e.strerror)) from None
    for family, kind, proto, _, addr in infos:
        try:
            s = socket.socket(family, kind, proto)
        except OSError as e:
            last = e
            continue
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
            s.listen(o.backlog)
        except OSError as e:
            last = e
            s.close()
            continue
        s.setblocking(not nonblock)
        return s
    raise OSError("cannot listen on %s:%d: %s" % (o.host, o.port,
                                                  os.strerror(last.errno) if last else "no address"))


def accept(lsock, nonblock=False):
    """accept() plus TCP_NODELAY (responses go out in one write; Nagle would delay partial ones)."""
    sock, _ = lsock.accept()
    try:
        sock.setblocking(not nonblock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass   # a connection already reset: its first read or write says so
    return sock


EXHAUSTED = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
TRANSIENT = (errno.EINTR, errno.ECONNABORTED, errno.EPROTO, errno.EPERM)


def listener_pending(lsock):
    """A connection waits in the kernel's accept queue (a poll with no wait)."""
    p = select.poll()
    p.register(lsock.fileno(), select.POLLIN)
    return bool(p.poll(0))


class Backoff:
    """Sleeps after a resource failure: 10 ms doubling to 320 ms; reset() on success."""

    def __init__(self):
        self.step = 0

    def delay(self):
        d = 0.01 * (1 << min(self.step, 5))
        self.step = min(self.step + 1, 5)
        return d

    def sleep(self):
        time.sleep(self.delay())

    def reset(self):
        self.step = 0


class Spare:
    """One fd held in reserve: out of descriptors, it is closed to accept the waiting client and close
    it at once (refused, reason emfile), so the backlog drains instead of waking the loop forever."""

    def __init__(self):
        self.fd = self._open()

    @staticmethod
    def _open():
        try:
            return os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return -1

    def refuse(self, lsock, st):
        """"again": a waiting client was refused and the spare is back (accept on); "empty": the
        backlog is empty; "rest": no spare to use, rest the listener instead of spinning on it."""
        if self.fd < 0:
            return "rest"
        os.close(self.fd)
        verdict = "rest"
        try:
            sock, _ = lsock.accept()
            sock.close()   # first: the spare takes its place
            st.accepted += 1
            st.refused_emfile += 1
            verdict = "again"
        except BlockingIOError:
            st.eagain += 1
            verdict = "empty"
        except OSError:
            pass
        self.fd = self._open()
        return verdict if self.fd >= 0 or verdict == "empty" else "rest"


# ---- blocking models (blocking.c) ---------------------------------------------------------------------

_RL_ACCEPT = RateLimit()
_RL_CONN = RateLimit()


def accept_blocking(srv, st):
    """The next connection, admitted and counted, or None once the server stops. Out of fds: back off
    (the clients wait in the backlog), never spin."""
    backoff = Backoff()
    while not stopping():
        try:
            sock = accept(srv.listener)
        except OSError as e:
            if e.errno in TRANSIENT:
                continue
            if e.errno == errno.EINVAL or stopping():
                # The listener was shut down: the stop (in a prefork worker, the parent's, which
                # shut the shared listener before the worker heard of it).
                return None
            _RL_ACCEPT.log("accept: %s%s" % (os.strerror(e.errno or 0),
                                             "; backing off" if e.errno in EXHAUSTED else ""))
            backoff.sleep()
            continue
        if not conn_admit(srv, st):
            sock.close()
            continue
        return sock
    return None


def _timeouts(srv, sock):
    """Reads time out after the shorter of --idle-timeout and --keepalive-timeout (the loop tells them
    apart), writes after --idle-timeout. Returns the read period (0: never)."""
    idle, ka = srv.opt.idle_timeout, srv.opt.ka_timeout
    period = ka if ka and (idle == 0 or ka < idle) else idle
    if srv.cooperative:
        sock.settimeout(period or None)   # gevent: its sockets wait in the hub, not in the kernel
    else:
        for opt, secs in ((socket.SO_RCVTIMEO, period), (socket.SO_SNDTIMEO, idle)):
            if secs:
                sock.setsockopt(socket.SOL_SOCKET, opt, struct.pack("ll", secs, 0))
    return period


TIMED_OUT = (socket.timeout, BlockingIOError)


def serve_blocking(srv, sock, st):
    """Serve sock until the peer leaves, it idles past its timeout, or the server stops; then close it
    and flush st. The caller then calls conn_release(). No exception leaves it."""
    track(sock)
    c = None
    try:
        c = Conn(srv)
        _serve_io(srv, sock, st, c, _timeouts(srv, sock))
    except MemoryError:
        st.errors += 1
    except Exception as e:  # noqa: BLE001 -- a connection never takes the server down
        st.errors += 1
        _RL_CONN.log("connection: %r" % e)
    finally:
        if c:
            c.free()
        untrack(sock)
        sock.close()
        st.closed += 1
        st.flush()


def count_error(st):
    """A socket error ended a connection: counted, unless the stop's shutdown caused it."""
    if not stopping():
        st.errors += 1


def _serve_io(srv, sock, st, c, period):
    o = srv.opt
    waited = 0            # seconds of timed-out reads in a row
    stall_since = None    # when an unfinished request stopped making progress
    added = 0
    while True:
        r = c.step(added, st)
        added = 0
        out = c.output()
        if out is not None:
            try:
                sock.sendall(out)
            except TIMED_OUT:
                st.timeouts += 1
                return
            except OSError:
                count_error(st)
                return
            st.bytes_out += len(out)
        if r == CLOSE:
            return
        if r == NEED_ROOM:
            continue
        if c.progress:
            stall_since = None
        elif c.pending_input() and o.idle_timeout:
            # The socket timeout restarts at every byte: a client trickling a header byte now and
            # then would hold this worker forever. A request gets --idle-timeout to make progress.
            now = time.monotonic()
            if stall_since is None:
                stall_since = now
            elif now - stall_since > o.idle_timeout:
                st.timeouts += 1
                return
        try:
            n = sock.recv_into(c.room())
        except TIMED_OUT:
            ka = o.ka_timeout if o.ka_timeout and c.awaits_request() else o.idle_timeout
            waited += period
            if not stopping() and (ka == 0 or waited < ka):
                continue
            st.timeouts += 1
            return
        except OSError:
            count_error(st)
            return
        if n == 0:
            return   # the peer is done (or half-closed): everything it sent is answered
        st.bytes_in += n
        added = n
        waited = 0


# ---- readiness loops (loop.c + conn.c) ------------------------------------------------------------

READ, WRITE = 1, 2          # interest and readiness bits, as conn.h's CONN_READ, CONN_WRITE
TURN_BYTES = 256 * 1024     # bytes one connection may move per turn (CONN_TURN_BYTES)
TURN_STEPS = 64             # engine steps per turn (CONN_TURN_STEPS)
ACCEPT_BATCH = 64           # accepts per turn (LOOP_ACCEPT_BATCH)
PAUSE = 0.1                 # listener rest when exhaustion cannot be absorbed (LOOP_PAUSE_MS)
TICK = 0.1                  # idle-timer resolution (LOOP_TICK_MS)


class NbConn:
    """A non-blocking connection driven by readiness (conn.c): write pending output first, then run
    the engine, then read. Level-triggered: one read per reported readiness; edge-triggered: reads and
    writes until EAGAIN."""

    __slots__ = ("sock", "fd", "c", "out", "mask", "step", "eof", "closing", "rd", "active")

    def __init__(self, sock, c, now):
        self.sock, self.fd, self.c = sock, sock.fileno(), c
        self.out = None          # memoryview of output not yet written
        self.mask = READ         # interest registered with the backend
        self.step = False        # the engine has work: new input, or it asked for room
        self.eof = self.closing = self.rd = False
        self.active = now        # last progress (the idle timer)


class Loop:
    """The readiness loop over a model's backend: an object with name, edge, fd_limit and
    add(fd, mask), modify(fd, mask), delete(fd), wait(timeout seconds or None) -> [(fd, mask)]."""

    def __init__(self, srv, be):
        self.srv, self.be, self.edge = srv, be, be.edge
        self.lsock, self.lfd = srv.listener, srv.listener.fileno()
        self.conns = {}            # fd -> NbConn
        self.more = {}             # connections with work no readiness will announce
        self.runq = {}
        self.st = Stats()
        self.spare = Spare()
        self.listening = True
        self.resume_at = 0.0
        self.accept_more = False
        self.setsize_logged = False
        self.now = time.monotonic()
        self.next_sweep = self.now + TICK
        self.idle = srv.opt.idle_timeout
        self.rl_exhausted, self.rl_accept = RateLimit(), RateLimit()

    # -- connections --

    def drop(self, nc, teardown=False):
        if not teardown:
            self.st.ctl_calls += 1
            try:
                self.be.delete(nc.fd)
            except (OSError, KeyError, ValueError):
                pass
        self.conns.pop(nc.fd, None)
        self.more.pop(nc.fd, None)
        self.runq.pop(nc.fd, None)
        nc.c.free()
        nc.sock.close()
        self.st.closed += 1
        conn_release()

    def turn(self, nc, ready):
        self.more.pop(nc.fd, None)
        self.runq.pop(nc.fd, None)
        try:
            r = self.io(nc, ready)
        except Exception as e:  # noqa: BLE001 -- one connection's trouble is its own
            self.st.errors += 1
            _RL_CONN.log("connection: %r" % e)
            r = None
        if r is None:
            self.drop(nc)
            return
        mask, more = r
        if mask != nc.mask:
            self.st.ctl_calls += 1
            try:
                self.be.modify(nc.fd, mask)
            except (OSError, ValueError) as e:
                _RL_CONN.log("%s: modify fd %d: %s" % (self.be.name, nc.fd, e))
                self.st.errors += 1
                self.drop(nc)
                return
            nc.mask = mask
        if more:
            self.more[nc.fd] = nc

    def io(self, nc, ready):
        """conn_io(): (interest, more work) or None when the connection is finished (counted)."""
        st, c, edge = self.st, nc.c, self.edge
        budget, steps, wr = TURN_BYTES, TURN_STEPS, True
        if edge:
            if ready & READ:
                nc.rd = True
            rd = nc.rd
        else:
            rd = bool(ready & READ)
        while True:
            if nc.out is not None:
                if not wr or budget <= 0:
                    break
                try:
                    n = nc.sock.send(nc.out)
                except BlockingIOError:
                    st.eagain += 1
                    wr = False
                    continue
                except OSError:
                    return self.fail()
                st.bytes_out += n
                nc.active = self.now
                budget -= n
                short = n < len(nc.out)
                nc.out = nc.out[n:] if short else None
                if short and not edge:
                    wr = False   # the socket buffer is full; the wait says when there is room
                continue
            if nc.closing:
                return None
            if nc.step:
                if steps == 0:
                    break
                steps -= 1
                r = c.step(0, st)
                nc.out = c.output()
                if c.progress:
                    nc.active = self.now
                if r == CLOSE:
                    nc.closing, nc.step = True, False
                elif r == NEED_INPUT:
                    nc.step = False
                continue
            if nc.eof:
                return None   # the peer is done and has all its answers (half-close)
            if not rd or budget <= 0:
                break
            try:
                n = nc.sock.recv_into(c.room())
            except BlockingIOError:
                st.eagain += 1
                nc.rd = rd = False
                continue
            except OSError:
                return self.fail()
            if n == 0:
                nc.eof, nc.rd = True, False
                continue
            st.bytes_in += n
            # Bytes read are not progress by themselves: only the engine taking them is, so a
            # client trickling an endless request head cannot hold the connection (slowloris).
            c.received(n)
            nc.step = True
            budget -= n
            if not edge:
                rd = False
        if nc.out is not None:
            return WRITE, wr
        return (0 if nc.eof else READ), nc.step or (edge and rd)

    def fail(self):
        count_error(self.st)
        return None

    def admit(self, sock):
        fd = sock.fileno()
        if self.be.fd_limit and fd >= self.be.fd_limit:
            # select: select.select() raises ValueError for it. Refuse, keep serving the others.
            self.st.accepted += 1
            self.st.refused_fd_setsize += 1
            sock.close()
            if not self.setsize_logged:
                log("fd %d >= %d: %s cannot watch it; refusing such connections (logged once)"
                    % (fd, self.be.fd_limit, self.be.name))
                self.setsize_logged = True
            return
        if not conn_admit(self.srv, self.st):
            sock.close()
            return
        try:
            nc = NbConn(sock, Conn(self.srv), self.now)
            self.st.ctl_calls += 1
            self.be.add(fd, READ)
        except (MemoryError, OSError, ValueError) as e:
            self.rl_accept.log("cannot serve a new connection: %r" % e)
            self.st.errors += 1
            sock.close()
            conn_release()
            return
        self.conns[fd] = nc

    # -- the listener --

    def listen_watch(self, on):
        if on == self.listening:
            return
        self.st.ctl_calls += 1
        try:
            self.be.modify(self.lfd, READ if on else 0)
        except (OSError, ValueError) as e:
            self.rl_accept.log("%s: listener: %s" % (self.be.name, e))
        self.listening = on
        self.resume_at = 0.0 if on else self.now + PAUSE

    def accept_some(self):
        self.accept_more = False
        for _ in range(ACCEPT_BATCH):
            try:
                sock = accept(self.lsock, nonblock=True)
            except BlockingIOError:
                self.st.eagain += 1
                return
            except OSError as e:
                if e.errno in TRANSIENT:
                    continue
                if e.errno in EXHAUSTED:
                    self.rl_exhausted.log("accept: %s: refusing connections until fds are free"
                                          % os.strerror(e.errno))
                    verdict = "rest"
                    if e.errno in (errno.EMFILE, errno.ENFILE):
                        verdict = self.spare.refuse(self.lsock, self.st)
                    if verdict == "again":
                        continue
                    if verdict == "empty":
                        return
                else:
                    self.rl_accept.log("accept: %s" % os.strerror(e.errno or 0))
                self.listen_watch(False)   # no spare to use: rest rather than spin
                return
            self.admit(sock)
        if self.edge:
            self.accept_more = True   # no new edge will announce the rest

    # -- the loop --

    def timeout(self):
        if self.more or self.accept_more:
            return 0
        t = self.next_sweep if self.idle else None
        if self.resume_at and (t is None or self.resume_at < t):
            t = self.resume_at
        return None if t is None else max(0.0, t - time.monotonic())

    def expire(self):
        self.next_sweep = self.now + TICK
        limit = self.now - self.idle
        for nc in [nc for nc in self.conns.values() if nc.active < limit]:
            self.st.timeouts += 1
            self.drop(nc)

    def run(self):
        be, st = self.be, self.st
        st.ctl_calls += 2
        be.add(wake_fd(), READ)
        be.add(self.lfd, READ)
        while not stopping():
            events = be.wait(self.timeout())
            st.wait_calls += 1
            self.now = time.monotonic()
            self.runq, self.more = self.more, {}
            for fd, mask in events:
                st.events += 1
                if fd == self.lfd:
                    if self.listening:
                        self.accept_some()
                elif fd == _STOP["wake"]:
                    drain_wake()
                else:
                    nc = self.conns.get(fd)
                    if nc is not None:
                        self.turn(nc, mask)
            if self.accept_more:
                self.accept_some()
            while self.runq:
                self.turn(next(iter(self.runq.values())), 0)
            if self.idle and self.now >= self.next_sweep:
                self.expire()
            if self.resume_at and self.now >= self.resume_at:
                self.listen_watch(True)
        for nc in list(self.conns.values()):
            self.drop(nc, teardown=True)
        st.flush()
        return 0


class Epoll:
    """The epoll backend of epoll-lt and epoll-et (loop_epoll.c): level-triggered, or edge-triggered
    (EPOLLET, and the loop drains reads, writes and accepts to EAGAIN)."""

    fd_limit = 0

    def __init__(self, edge):
        self.edge, self.name = edge, "epoll-et" if edge else "epoll-lt"
        self.flags = select.EPOLLET if edge else 0
        self.ep = select.epoll()

    def events(self, mask):
        return ((select.EPOLLIN if mask & READ else 0) | (select.EPOLLOUT if mask & WRITE else 0)
                | self.flags)

    def add(self, fd, mask):
        self.ep.register(fd, self.events(mask))

    def modify(self, fd, mask):
        self.ep.modify(fd, self.events(mask))

    def delete(self, fd):
        self.ep.unregister(fd)

    def wait(self, timeout):
        rd = select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP   # trouble whatever the interest
        wr = select.EPOLLOUT | select.EPOLLERR | select.EPOLLHUP
        return [(fd, (READ if ev & rd else 0) | (WRITE if ev & wr else 0))
                for fd, ev in self.ep.poll(-1 if timeout is None else timeout, 1024)]


def serve_loop(srv, be):
    """A one-loop server over backend be: ready line, loop, exit code."""
    ready(srv)
    return Loop(srv, be).run()


# ---- the server -------------------------------------------------------------------------------------

class Srv:
    """What a model's run() gets: opt, the listener, port, the engine (lib, cfg, step) and yield_fn,
    the clients_waiting hook when --keepalive-yield is on."""

    def __init__(self, m, opt, lib, cfg, listener):
        self.model, self.opt, self.lib, self.cfg, self.listener = m, opt, lib, cfg, listener
        self.port = listener.getsockname()[1]
        self.step = lib.proto_lib_step
        self.yield_fn = m.clients_waiting if opt.ka_yield and m.clients_waiting else None
        self.cooperative = False   # gevent sets it: socket timeouts by settimeout, not SO_RCVTIMEO


def ready(srv):
    sys.stdout.write("ready %s port=%d pid=%d\n" % (srv.model.name, srv.port, os.getpid()))
    sys.stdout.flush()


def setup(m, argv):
    """Load the engine (--help is its text too), parse, listen, set up counters and signals: the
    Srv, or exit 1 or 2."""
    LOG_NAME[0] = "server-" + m.name
    try:
        lib = _ENGINE["lib"] = load_engine(os.environ.get("CMB_PROTO_LIB") or "libcmbproto.so")
    except OSError as e:
        log("cannot load the protocol engine: %s" % e)
        sys.exit(1)
    o = parse_args(m, argv)
    root = -1
    if o.docroot:
        try:
            root = os.open(o.docroot, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            log("--docroot %s: %s" % (o.docroot, e.strerror))
            sys.exit(1)
    cfg = lib.proto_lib_cfg_new(1 if o.proto == "http" else 0, root, o.ka_requests, o.ka_time,
                                1 if o.ka_yield and m.clients_waiting else 0)
    try:
        lsock = listen(o, nonblock=not (m.flags & F_BLOCKING))
    except OSError as e:
        log(str(e))
        sys.exit(1)
    mm = mmap.mmap(-1, 8 * len(_SLOTS), mmap.MAP_SHARED)
    _TOTALS.update(mm=mm, base=ctypes.addressof(ctypes.c_char.from_buffer(mm)),
                   add=lib.proto_lib_atomic_add, max=lib.proto_lib_atomic_max)
    install_signals(lsock if m.flags & F_BLOCKING else None)
    return Srv(m, o, lib, cfg, lsock)


def main(m, argv=None):
    """A model file's whole main: set up, run the model, write --stats, exit with its code."""
    srv = setup(m, sys.argv[1:] if argv is None else argv)
    try:
        rc = m.run(srv)
    except Exception as e:  # noqa: BLE001 -- one line, never a traceback
        log("internal error: %r" % e)
        rc = 1
    if srv.opt.stats:
        try:
            write_stats(srv.opt.stats, m)
        except OSError as e:
            log("--stats %s: %s" % (srv.opt.stats, e.strerror))
            rc = rc or 1
    sys.stdout.flush()
    os._exit(rc or 0)   # no interpreter teardown: threads still winding down cannot delay the exit
