"""fork.py: a process per connection. The parent accepts and calls os.fork(); the child serves the
connection and exits. The parent reaps children in its SIGCHLD handler (a loop of waitpid WNOHANG:
one signal may stand for several exits). If fork() fails the connection is closed and counted, the
parent backs off and keeps accepting. On stop the parent signals every live child and waits for
them, for at most 0.8 s, then kills what is left."""

import os
import signal

import cmbpy

ALIVE = set()   # children not yet reaped (so their pids cannot be reused)


def on_child(*_):
    for pid in cmbpy.reap():
        if pid in ALIVE:
            ALIVE.discard(pid)
            cmbpy.conn_release()


def child(srv, sock, parent):
    """The child: serve the one connection, exit. Never returns."""
    try:
        cmbpy.child_init()
        if os.getppid() != parent:
            os._exit(0)
        srv.listener.close()
        cmbpy.serve_blocking(srv, sock, cmbpy.Stats())   # the parent's unflushed counts stay its own
    finally:
        os._exit(0)


def run(srv):
    st = cmbpy.Stats()
    backoff = cmbpy.Backoff()
    rl = cmbpy.RateLimit()
    me = os.getpid()
    signal.signal(signal.SIGCHLD, on_child)
    cmbpy.ready(srv)
    while (sock := cmbpy.accept_blocking(srv, st)) is not None:
        try:
            cmbpy.fork(lambda: child(srv, sock, me), ALIVE.add)
        except OSError as e:
            st.spawn_failures += 1
            cmbpy.conn_release()
            rl.log("fork: %s; connection closed, backing off" % e.strerror)
            backoff.sleep()
        else:
            backoff.reset()
        finally:
            sock.close()
    st.flush()
    cmbpy.stop_children(lambda: list(ALIVE), on_child)
    return 0


MODEL = cmbpy.Model(
    "py-fork", "Fork (Python): one child process per connection (os.fork), reaped on SIGCHLD.",
    cmbpy.F_BLOCKING | cmbpy.F_SPAWNS, run, keepalive=cmbpy.KA_APACHE)

if __name__ == "__main__":
    cmbpy.main(MODEL)
