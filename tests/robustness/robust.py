"""robust.py: the machinery of the robustness suite: run every case against every server binary and
judge each run the same way, whatever the case did.

For one (server, case) pair:

  before   the server's process tree is measured once after start and a warm-up canary (its open fds,
           its memory as PSS, its process count): that is the baseline every case returns to;
  during   the case misbehaves as a client, and starts a canary client at its worst moment (while its
           bad connection is open); a sampler watches the tree's fds and memory meanwhile;
  after    the server must be alive, the canary must have been served correctly (within --idle-timeout
           plus slack: the blocking models may make it wait behind a slow client, and the table shows
           it), a second canary too, the tree's fds must come back to the baseline, its memory must have
           stayed within a bound, and its stderr must hold no sanitizer report and no flood of logs.

A failed case restarts the server, so that one failure does not spill into the next case's verdict.
Cases live in cases.py; this file knows nothing about what they send."""

import os
import select
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cmbtest import HttpReader, Server, counterpart, pattern, recv_exact  # noqa: E402

IDLE = 2                      # --idle-timeout of every server in the suite (seconds)
SANITIZED = bool(os.environ.get("SAN"))
SLACK = 6.0 if SANITIZED else 3.0     # on top of IDLE, for "must happen eventually" bounds
SETTLE = IDLE + SLACK + 2.0   # how long the tree may take to give back its fds after a case
MEM_SLACK_KB = (48 if SANITIZED else 32) * 1024     # memory growth allowed for a case...
MEM_PER_CONN_KB = (1024 if SANITIZED else 256)      # ...plus this per connection it opened
# ...or this, for a Python model: py-fork's child per connection copies about 1.1 MiB of the
# interpreter's pages (refcounts written all over its objects), where a C child copies ~100 KiB.
MEM_PER_CONN_KB_PY = 2048
LOG_FLOOD = 10                # stderr lines one case may cause: a lasting condition is logged rate-limited
CLK_TCK = os.sysconf("SC_CLK_TCK")
CANARY_HANG = 120.0           # a canary that waits this long has hung, whatever the model
# Models that serve one client at a time: their canary waits for the case's clients to leave (the
# conformance suite knows the same about them), in C or in Python (counterpart).
SERIAL_MODELS = {"iterative"}


class CaseFail(Exception):
    """A case's own verdict: raised by Ctx.fail() to end the case at once."""


# ---- the server's process tree ---------------------------------------------------------------------

class Tree:
    """Probes of a server's whole process tree through /proc: pids, open fds, memory, CPU time."""

    def __init__(self, root):
        self.root = root

    def pids(self):
        children = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(d))
        out, frontier = [self.root], [self.root]
        while frontier:
            for c in children.get(frontier.pop(), ()):
                out.append(c)
                frontier.append(c)
        return out

    @staticmethod
    def _fds(pid):
        try:
            return os.listdir("/proc/%d/fd" % pid)
        except OSError:
            return []

    def fds(self, pids=None):
        return sum(len(self._fds(p)) for p in (pids or self.pids()))

    def max_fd(self, pids=None):
        return max([int(fd) for p in (pids or self.pids()) for fd in self._fds(p)] or [0])

    def mem_kb(self, pids=None):
        """Proportional set size of the tree (shared pages split between the processes that map
        them, so forked children are not counted many times over); RSS where smaps_rollup is
        missing."""
        total = 0
        for p in pids or self.pids():
            try:
                with open("/proc/%d/smaps_rollup" % p) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
            except OSError:
                try:
                    with open("/proc/%d/status" % p) as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1])
                except OSError:
                    pass
        return total

    def cpu_s(self, pids=None):
        """User + system CPU seconds of the live tree, plus what its reaped children used."""
        ticks = 0
        for p in pids or self.pids():
            try:
                with open("/proc/%d/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
            except (OSError, IndexError, ValueError):
                pass
        return ticks / CLK_TCK

    def threads(self, pids=None):
        n = 0
        for p in pids or self.pids():
            try:
                n += len(os.listdir("/proc/%d/task" % p))
            except OSError:
                pass
        return n


class Sampler(threading.Thread):
    """Peaks of the tree's fds, memory and process count while a case runs."""

    def __init__(self, tree, period=0.1):
        super().__init__(daemon=True)
        self.tree, self.period = tree, period
        self.stop_ev = threading.Event()
        self.peak_fds = self.peak_kb = self.peak_procs = 0

    def sample(self):
        pids = self.tree.pids()
        self.peak_fds = max(self.peak_fds, self.tree.fds(pids))
        self.peak_kb = max(self.peak_kb, self.tree.mem_kb(pids))
        self.peak_procs = max(self.peak_procs, len(pids))

    def run(self):
        while not self.stop_ev.is_set():
            self.sample()
            self.stop_ev.wait(self.period)

    def finish(self):
        self.stop_ev.set()
        self.join()
        self.sample()


# ---- canary clients ------------------------------------------------------------------------------------

def canary_http(port, timeout):
    """GET / on a new connection: 200, Hello, World!, then EOF. Returns None or what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: canary\r\nConnection: close\r\n\r\n")
            r = HttpReader(s)
            status, _, body = r.response()
            if status != 200 or body != b"Hello, World!":
                return "answered %d %r" % (status, body[:40])
            if not r.at_eof(timeout):
                return "did not close after Connection: close"
            return None
    except socket.timeout:
        return "no answer within %.0f s" % timeout
    except (OSError, EOFError) as e:
        return "failed: %r" % e


def canary_echo(port, timeout):
    data = pattern(1000, seed=42)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            got = recv_exact(s, len(data))
            return None if got == data else "echoed %d of %d bytes" % (len(got), len(data))
    except socket.timeout:
        return "no echo within %.0f s" % timeout
    except OSError as e:
        return "failed: %r" % e


CANARIES = {"http": canary_http, "echo": canary_echo}


class Canary(threading.Thread):
    """A canary run in the background; .error is None once it was served correctly."""

    def __init__(self, proto, port, timeout):
        super().__init__(daemon=True)
        self.proto, self.port, self.timeout = proto, port, timeout
        self.error = "did not finish"
        self.t0 = self.t_end = time.monotonic()

    def run(self):
        self.t0 = time.monotonic()
        self.error = CANARIES[self.proto](self.port, self.timeout)
        self.t_end = time.monotonic()


# ---- one case run ----------------------------------------------------------------------------------

class Ctx:
    """What a case gets: the server's port and docroot, a way to open connections that are closed for
    it at the end, the canary, and its verdict (fail ends the case, expect records and goes on)."""

    def __init__(self, inst, case):
        self.inst, self.case = inst, case
        self.model = inst.model
        self.port = inst.srv.port
        self.tree = inst.tree
        self.docroot = inst.docroot
        self.idle = IDLE
        self.serial = counterpart(self.model) in SERIAL_MODELS
        self.failures, self.notes = [], []
        self.socks, self.canaries = [], []
        self.conns = 0          # connections opened (for the memory bound)
        self.server_stopped = False

    # connections
    def connect(self, timeout=IDLE + SLACK + 5, nodelay=True):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if nodelay:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socks.append(s)
        self.conns += 1
        return s

    def close_all(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        self.socks = []

    # the canary
    def canary_start(self, bound=None, may_fail=False, label="during"):
        """Start a canary now. It must be served within bound seconds (default: --idle-timeout +
        slack), or by a serial model within that long after the case's own clients are gone, unless
        may_fail (exhaustion: a refusal is an honest answer); it must never hang."""
        c = Canary(self.inst.proto, self.port, CANARY_HANG if self.serial else bound or IDLE + SLACK)
        c.may_fail, c.label, c.bound = may_fail, label, bound or IDLE + SLACK
        c.start()
        self.canaries.append(c)
        return c

    def canary_join(self):
        """Called once the case's clients are closed."""
        case_end = time.monotonic()
        for c in self.canaries:
            start = case_end if self.serial else c.t0
            c.join(max(0.0, start + c.bound + 0.5 - time.monotonic()))
            late = c.is_alive() or c.t_end - start > c.bound + 0.5
            if late:
                self.failures.append("canary %s not served within %.0f s%s" % (
                    c.label, c.bound, " of the case's clients leaving" if self.serial else ""))
            elif c.error and not c.may_fail:
                self.failures.append("canary %s: %s" % (c.label, c.error))
            elif c.error:
                self.notes.append("canary refused")
            elif c.t_end - c.t0 >= 1.0:
                self.notes.append("canary waited %.0f s" % (c.t_end - c.t0))
        self.canaries = []

    # verdicts
    def fail(self, what):
        raise CaseFail(what)

    def expect(self, cond, what):
        if not cond:
            self.failures.append(what)
        return bool(cond)

    def note(self, what):
        self.notes.append(what)

    # server control for the cases that need it
    def signal_tree(self, sig):
        for p in self.tree.pids():
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass


class Result:
    def __init__(self, model, case, failures, notes, skipped=None):
        self.model, self.case = model, case
        self.failures, self.notes, self.skipped = failures, notes, skipped

    @property
    def ok(self):
        return not self.failures

    def cell(self):
        if self.skipped:
            return "skip: " + self.skipped
        if self.failures:
            return "FAIL: " + self.failures[0]
        return "ok" + ("; " + "; ".join(self.notes) if self.notes else "")


class Instance:
    """A running server for one protocol group, with its baseline."""

    def __init__(self, model, proto, docroot):
        self.model, self.proto, self.docroot = model, proto, docroot
        args = ["--proto", proto, "--idle-timeout", str(IDLE)]
        if proto == "http":
            # The cases send several requests per connection and time out on --idle-timeout alone:
            # the keep-alive limits are off (tests/keepalive.t checks them).
            args += ["--keepalive-requests", "0", "--keepalive-time", "0", "--keepalive-timeout", "0",
                     "--keepalive-yield", "0"]
        if proto == "http" and docroot:
            args += ["--docroot", docroot.root]
        self.srv = Server(model, *args)
        self.tree = Tree(self.srv.pid)
        self.err_seen = 0
        self.baseline()

    def baseline(self):
        """Warm up (lazy allocations, first thread or child), then measure the quiet tree."""
        for _ in range(2):
            err = CANARIES[self.proto](self.srv.port, IDLE + SLACK)
            if err:
                raise RuntimeError("warm-up canary: " + err)
        deadline, last = time.monotonic() + SETTLE, None
        while time.monotonic() < deadline:
            pids = self.tree.pids()
            now = (self.tree.fds(pids), len(pids))
            if now == last:
                break
            last = now
            time.sleep(0.15)
        self.base_fds, self.base_procs = last
        self.base_kb = self.tree.mem_kb()

    def stderr_new(self):
        """stderr written since the last call."""
        path = self.srv.stderr.name
        with open(path, "rb") as f:
            f.seek(self.err_seen)
            data = f.read()
        self.err_seen += len(data)
        return data.decode(errors="replace")

    def settle(self, deadline):
        """Wait for the tree to give back its fds and processes; returns (fds, procs) last seen."""
        while True:
            pids = self.tree.pids()
            fds, procs = self.tree.fds(pids), len(pids)
            if (fds <= self.base_fds and procs <= self.base_procs) or time.monotonic() > deadline:
                return fds, procs
            time.sleep(0.1)


def run_case(inst, case):
    """Run one case against a live instance and judge it. Returns a Result."""
    ctx = Ctx(inst, case)
    inst.stderr_new()
    sampler = Sampler(inst.tree)
    sampler.start()
    try:
        case.fn(ctx)
    except CaseFail as e:
        ctx.failures.append(str(e))
    except (OSError, EOFError, ValueError, IndexError) as e:
        ctx.failures.append("client error: %r" % e)
    finally:
        ctx.close_all()
        ctx.canary_join()
        if ctx.server_stopped:
            ctx.signal_tree(signal.SIGCONT)

    if not inst.srv.alive():
        rc = inst.srv.proc.poll()
        why = "killed by signal %d" % -rc if rc < 0 else "exited with %d" % rc
        ctx.failures.insert(0, "server died (%s)" % why)
    else:
        err = CANARIES[inst.proto](inst.srv.port, IDLE + SLACK)
        if err:
            ctx.failures.append("canary after: " + err)
        fds, procs = inst.settle(time.monotonic() + SETTLE)
        ctx.expect(fds <= inst.base_fds, "open fds %d, baseline %d, %.0f s after the case"
                   % (fds, inst.base_fds, SETTLE))
        ctx.expect(procs <= inst.base_procs, "processes %d, baseline %d" % (procs, inst.base_procs))
    sampler.finish()
    per_conn = MEM_PER_CONN_KB_PY if inst.model.startswith("py-") else MEM_PER_CONN_KB
    bound = inst.base_kb + MEM_SLACK_KB + per_conn * ctx.conns
    ctx.expect(sampler.peak_kb <= bound, "memory peaked at %d KiB (baseline %d, bound %d)"
               % (sampler.peak_kb, inst.base_kb, bound))
    err = inst.stderr_new()
    if any(m in err for m in Server.SANITIZER_MARKS):
        ctx.failures.insert(0, "sanitizer report")
        ctx.notes.append(err[-3000:])
    lines = err.count("\n")
    ctx.expect(lines <= LOG_FLOOD, "log flood: %d lines on stderr (%r...)" % (lines, err[:80]))
    r = Result(inst.model, case, ctx.failures, ctx.notes)
    r.mem_growth_kb, r.peak_fds = sampler.peak_kb - inst.base_kb, sampler.peak_fds
    r.stderr = err
    return r


# ---- the whole run -------------------------------------------------------------------------------------

class Docroot:
    """A docroot with something worth stealing around it:

        top/secret.txt                  outside the root
        top/www/                        the docroot: hello.txt, sub/inner.txt, fifo,
                                        escape -> ../secret.txt, sib -> ../www-private/secret.txt,
                                        sibabs -> <top>/www-private/secret.txt
        top/www-private/secret.txt      a sibling whose name extends the root's (prefix checks)
    """

    def __init__(self):
        import tempfile
        self.top = tempfile.mkdtemp(prefix="cmb-robust-")
        self.root = os.path.join(self.top, "www")
        tag = "%d-%d" % (os.getpid(), int(time.time()))
        self.secrets = {"outside": "ROBUST-OUTSIDE-" + tag, "sibling": "ROBUST-SIBLING-" + tag,
                        "inner": "ROBUST-INNER-" + tag}
        os.makedirs(os.path.join(self.root, "sub"))
        os.makedirs(os.path.join(self.top, "www-private"))
        self._write("secret.txt", self.secrets["outside"])
        self._write("www-private/secret.txt", self.secrets["sibling"])
        self._write("www/sub/inner.txt", self.secrets["inner"])
        self._write("www/hello.txt", "robust hello\n")
        os.symlink("../secret.txt", os.path.join(self.root, "escape"))
        os.symlink("../www-private/secret.txt", os.path.join(self.root, "sib"))
        os.symlink(os.path.join(self.top, "www-private", "secret.txt"),
                   os.path.join(self.root, "sibabs"))
        os.mkfifo(os.path.join(self.root, "fifo"))

    def _write(self, rel, text):
        with open(os.path.join(self.top, rel), "w") as f:
            f.write(text)

    def leaked(self, data, which=("outside", "sibling")):
        return [w for w in which if self.secrets[w].encode() in data]

    def remove(self):
        import shutil
        shutil.rmtree(self.top, ignore_errors=True)


def run_suite(cases, models, tap, log=None):
    """Every case against every model, grouped by protocol so that one server instance serves many
    cases. Returns the list of Results."""
    results = []
    docroot = Docroot()
    try:
        for model in models:
            for proto in ("http", "echo"):
                group = [c for c in cases if c.proto == proto]
                if group:
                    results += run_group(model, proto, group, docroot, tap)
    finally:
        docroot.remove()
    return results


def run_group(model, proto, cases, docroot, tap):
    results, inst = [], None
    try:
        for case in cases:
            why = case.skip_reason() if case.skip_reason else None
            if why:
                r = Result(model, case, [], [], skipped=why)
                tap.skip("%s: %s" % (model, case.name), why)
                results.append(r)
                continue
            if inst is None or not inst.srv.alive():
                if inst is not None:
                    inst.srv.kill()
                inst = Instance(model, proto, docroot)
            t0 = time.monotonic()
            r = run_case(inst, case)
            r.seconds = time.monotonic() - t0
            results.append(r)
            if os.environ.get("ROBUST_TIMES"):
                tap.diag("%s: %s took %.2f s, memory +%d KiB, fds peak %d"
                         % (model, case.name, r.seconds, r.mem_growth_kb, r.peak_fds))
                tap.diag(r.stderr[:400])
            tap.ok(r.ok, "%s: %s%s" % (model, case.name, " (%s)" % "; ".join(r.notes)
                                       if r.ok and r.notes else ""),
                   "\n".join(r.failures + r.notes))
            if not r.ok:            # judge the next case on a fresh server
                inst.srv.kill()
                inst = None
    except Exception as e:  # noqa: BLE001 -- a broken instance fails the group, the run goes on
        tap.ok(False, "%s: %s cases ran to the end" % (model, proto), repr(e))
    finally:
        if inst is not None:
            rc, took = inst.srv.stop()
            report = inst.srv.sanitizer_report()
            tap.ok(rc == 0 and not report, "%s: %s server exits 0 after the cases, no sanitizer "
                   "report" % (model, proto), "rc=%r in %.1f s\n%s" % (rc, took, report))
    return results


def held_clients(ctx, n, payload=b"x"):
    """Open n connections (the kernel completes them into the backlog whether or not the server
    accepts) and send payload on each. Returns the sockets."""
    socks = []
    for _ in range(n):
        s = ctx.connect(timeout=5)
        s.sendall(payload)
        socks.append(s)
    return socks


def answered(socks, wait):
    """How many of socks have something to read (an answer, EOF or reset) within wait seconds."""
    pending, done, deadline = set(socks), 0, time.monotonic() + wait
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select(list(pending), [], [], left)
        for s in r:
            pending.discard(s)
            done += 1
    return done
