"""threadpool.py: N threads started at once and a bounded queue of accepted connections between the
accepting main thread and them. A pool thread takes a connection and serves it to the end. When the
queue is full the acceptor waits, so excess clients wait in the kernel's listen backlog instead of in
our memory. On stop the queue is closed, the threads are joined (for at most 0.8 s), and connections
still queued are closed unserved."""

import collections
import threading
import time

import cmbpy

QUEUE_CAP = 256
STACK = 256 * 1024   # thread stacks: the interpreter needs more than the C server's 64 KiB


class Queue:
    """The bounded queue, and the count of pool threads waiting in pop() for a connection."""

    def __init__(self):
        self.lock = threading.Lock()
        self.nonempty = threading.Condition(self.lock)
        self.nonfull = threading.Condition(self.lock)
        self.socks = collections.deque()
        self.idle = 0
        self.closed = False
        self.spare = 0   # idle threads not yet claimed by a queued connection (--keepalive-yield)

    def note(self):
        """Under the lock, after the queue or the idle count changed."""
        self.spare = self.idle - len(self.socks)

    def push(self, sock):
        """Queue sock; waits while full. False (not queued) when the server stops meanwhile."""
        with self.lock:
            while len(self.socks) >= QUEUE_CAP and not cmbpy.stopping():
                self.nonfull.wait(0.05)   # a signal cannot wake a condition: look at the flag now and then
            if cmbpy.stopping() or self.closed:
                return False
            self.socks.append(sock)
            self.note()
            self.nonempty.notify()
            return True

    def pop(self):
        """The next connection, or None once the queue is closed."""
        with self.lock:
            self.idle += 1
            self.note()
            while not self.socks and not self.closed:
                self.nonempty.wait()
            self.idle -= 1
            sock = None if self.closed else self.socks.popleft()
            self.note()
            self.nonfull.notify()
            return sock

    def close(self):
        with self.lock:
            self.closed = True
            left, self.socks = list(self.socks), collections.deque()
            self.nonempty.notify_all()
        return left


Q = Queue()
LISTENER = []


def clients_waiting():
    """Read by every pool thread per response, without the lock. A client waits for a pool thread
    when the queue holds more connections than there are threads idle to take them, and also, with
    no idle thread to spare, when one is still in the kernel's backlog: the acceptor needs the GIL
    to take it, and a keep-alive answer given meanwhile holds this thread, so that client waits for
    the idle timeout if this connection then goes quiet. One the acceptor's accept() has taken off
    the kernel's queue but not yet put in ours is not seen."""
    spare = Q.spare
    return spare < 0 or (spare == 0 and cmbpy.listener_pending(LISTENER[0]))


def pool_thread(srv):
    st = cmbpy.Stats()
    while (sock := Q.pop()) is not None:
        cmbpy.serve_blocking(srv, sock, st)
        cmbpy.conn_release()
    st.flush()


def run(srv):
    st = cmbpy.Stats()
    LISTENER.append(srv.listener)
    threading.stack_size(STACK)
    threads = []
    for _ in range(srv.opt.workers):
        t = threading.Thread(target=pool_thread, args=(srv,), daemon=True)
        try:
            cmbpy.start_thread(t)
        except RuntimeError as e:
            st.spawn_failures += 1
            cmbpy.log("thread: %s; the pool has %d threads" % (e, len(threads)))
            break
        threads.append(t)
    if not threads:
        return 1
    cmbpy.ready(srv)
    while (sock := cmbpy.accept_blocking(srv, st)) is not None:
        if not Q.push(sock):
            sock.close()
            cmbpy.conn_release()
    for sock in Q.close():   # accepted but never served
        sock.close()
        cmbpy.conn_release()
    st.flush()
    deadline = time.monotonic() + 0.8
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return 0


MODEL = cmbpy.Model(
    "py-threadpool", "Threadpool (Python): N threads started at once, fed accepted connections over "
    "a bounded queue.", cmbpy.F_BLOCKING | cmbpy.F_SPAWNS | cmbpy.F_WORKERS, run,
    default_workers=16, keepalive=dict(requests=100, timeout=5, yield_=1),   # Apache worker MPM
    clients_waiting=clients_waiting)

if __name__ == "__main__":
    cmbpy.main(MODEL)
