"""threading.py: a thread per connection. The main thread accepts and starts a threading.Thread that
serves the connection and ends. Every thread takes its turn at the GIL: the engine call and the
bytecode around it run one thread at a time, the waits in recv and send overlap. If a thread cannot
be started the connection is closed and counted, and the acceptor backs off. On stop the threads'
sockets are shut down and the threads joined, for at most 0.8 s."""

import threading
import time

import cmbpy

STACK = 256 * 1024   # thread stacks: the interpreter needs more than the C server's 64 KiB
LIVE = set()         # threads still serving


def serve(srv, sock):
    st = cmbpy.Stats()
    try:
        cmbpy.serve_blocking(srv, sock, st)
        cmbpy.conn_release()
    finally:
        LIVE.discard(threading.current_thread())


def run(srv):
    st = cmbpy.Stats()
    backoff = cmbpy.Backoff()
    rl = cmbpy.RateLimit()
    threading.stack_size(STACK)
    cmbpy.ready(srv)
    while (sock := cmbpy.accept_blocking(srv, st)) is not None:
        t = threading.Thread(target=serve, args=(srv, sock), daemon=True)
        LIVE.add(t)
        try:
            cmbpy.start_thread(t)
        except RuntimeError as e:   # "can't start new thread"
            LIVE.discard(t)
            st.spawn_failures += 1
            sock.close()
            cmbpy.conn_release()
            rl.log("thread: %s; connection closed, backing off" % e)
            backoff.sleep()
            continue
        backoff.reset()
    st.flush()
    deadline = time.monotonic() + 0.8
    for t in list(LIVE):
        t.join(max(0.0, deadline - time.monotonic()))
    return 0


MODEL = cmbpy.Model(
    "py-threading", "Threading (Python): one threading.Thread per connection.",
    cmbpy.F_BLOCKING | cmbpy.F_SPAWNS, run, keepalive=cmbpy.KA_APACHE)

if __name__ == "__main__":
    cmbpy.main(MODEL)
