"""prefork.py: a pool of N worker processes forked at start, each blocking in accept() on the shared
listener and serving one connection at a time (the kernel wakes one waiter per connection). The
parent only supervises: it waits on the signal pipe for SIGCHLD and the stop, restarts a worker that
dies (backing off when workers die young), and on stop signals the workers and waits, for at most
0.8 s."""

import os
import select
import signal
import time

import cmbpy

YOUNG = 1.0      # a worker dying younger than this (seconds) counts towards back-off
IDLE = []        # [SharedInt]: workers blocked in accept(), counted in memory the pool shares
LISTENER = []
RL_FORK = cmbpy.RateLimit()


def clients_waiting():
    """While a worker is blocked in accept() the kernel hands it any new client at once, so nobody
    waits and the listener need not be asked."""
    if IDLE and IDLE[0].get() > 0:
        return False
    return cmbpy.listener_pending(LISTENER[0])


def worker(srv, parent):
    """A worker: accept and serve until the stop. Never returns."""
    try:
        cmbpy.child_init()   # a worker told to stop alone must not shut the shared listener down
        if os.getppid() != parent:
            os._exit(0)
        st = cmbpy.Stats()
        while True:
            IDLE[0].add(1)
            sock = cmbpy.accept_blocking(srv, st)
            IDLE[0].add(-1)
            if sock is None:
                break
            cmbpy.serve_blocking(srv, sock, st)
            cmbpy.conn_release()
        st.flush()
    finally:
        os._exit(0)


def spawn(srv, slots, i, st, me):
    """Start the worker of slot i (a dict: pid, started, retry_at)."""
    now = time.monotonic()
    try:
        cmbpy.fork(lambda: worker(srv, me), lambda pid: slots[i].update(pid=pid, started=now,
                                                                        retry_at=0.0))
    except OSError as e:
        # A refused fork (EAGAIN under a process limit) lasts as long as the limit: retry every
        # 100 ms, and say so at most every few seconds.
        st.spawn_failures += 1
        slots[i].update(pid=0, retry_at=now + 0.1)
        RL_FORK.log("fork of worker %d: %s; retrying" % (i, e.strerror))


def reap(slots, backoff):
    now = time.monotonic()
    for pid in cmbpy.reap():
        for sl in slots:
            if sl["pid"] == pid:
                young = now - sl["started"] < YOUNG
                sl.update(pid=0, retry_at=now + (backoff.delay() if young else 0.0))
                if not young:
                    backoff.reset()


def run(srv):
    st = cmbpy.Stats()
    backoff = cmbpy.Backoff()
    me = os.getpid()
    IDLE.append(cmbpy.SharedInt())
    LISTENER.append(srv.listener)
    signal.signal(signal.SIGCHLD, lambda *_: None)   # a byte in the wake pipe is all it needs to do
    slots = [dict(pid=0, started=0.0, retry_at=0.0) for _ in range(srv.opt.workers)]
    for i in range(len(slots)):
        spawn(srv, slots, i, st, me)
    cmbpy.ready(srv)
    while not cmbpy.stopping():
        now = time.monotonic()
        for i, sl in enumerate(slots):
            if not sl["pid"] and sl["retry_at"] <= now:
                spawn(srv, slots, i, st, me)
        retry = [sl["retry_at"] for sl in slots if not sl["pid"]]
        timeout = max(0.0, min(retry) - now) if retry else None
        try:
            select.select([cmbpy.wake_fd()], [], [], timeout)
        except InterruptedError:
            pass
        cmbpy.drain_wake()
        reap(slots, backoff)
    st.flush()
    cmbpy.stop_children(lambda: [sl["pid"] for sl in slots if sl["pid"]],
                        lambda: reap(slots, cmbpy.Backoff()))
    return 0


MODEL = cmbpy.Model(
    "py-prefork", "Prefork (Python): N worker processes forked at start, each blocking in accept().",
    cmbpy.F_BLOCKING | cmbpy.F_SPAWNS | cmbpy.F_WORKERS, run, default_workers=8,
    keepalive=dict(requests=100, timeout=5, yield_=1),   # Apache prefork; Tomcat
    clients_waiting=clients_waiting)

if __name__ == "__main__":
    cmbpy.main(MODEL)
