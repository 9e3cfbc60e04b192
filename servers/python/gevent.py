"""gevent.py: a greenlet per connection running the blocking models' very loop (cmbpy.serve_blocking)
over sockets that gevent's monkey-patching made cooperative: a recv or send that would block
switches to gevent's hub, which runs another greenlet until libev reports the socket ready. One
thread holds them all, so --work-us stalls every connection; --wait-us is time.sleep, patched into
gevent.sleep, and stalls only its own. On stop the greenlets' sockets are shut down and the greenlets
joined, for at most 0.8 s, then killed. The listener's address is resolved in the calling thread
(resolver "block"), not in gevent's default resolver thread: one OS thread in all, which is the
model, and no thread but the main one to catch a SIGTERM."""

import gevent
from gevent import monkey

gevent.config.resolver = "block"
monkey.patch_all()

import signal  # noqa: E402 -- after the patching, as gevent requires

import gevent.pool  # noqa: E402

import cmbpy  # noqa: E402


def serve(srv, sock):
    cmbpy.serve_blocking(srv, sock, cmbpy.Stats())
    cmbpy.conn_release()


def run(srv):
    srv.cooperative = True   # timeouts by settimeout: gevent waits in its hub, not in the kernel
    gevent.signal_handler(signal.SIGTERM, cmbpy.request_stop)
    gevent.signal_handler(signal.SIGINT, cmbpy.request_stop)
    st = cmbpy.Stats()
    group = gevent.pool.Group()
    cmbpy.ready(srv)
    while (sock := cmbpy.accept_blocking(srv, st)) is not None:
        try:
            group.spawn(serve, srv, sock)
        except MemoryError:
            st.spawn_failures += 1
            sock.close()
            cmbpy.conn_release()
    st.flush()
    group.join(timeout=0.8)
    group.kill(timeout=0.1)
    return 0


MODEL = cmbpy.Model(
    "py-gevent", "Gevent (Python): a greenlet per connection over monkey-patched blocking sockets.",
    cmbpy.F_BLOCKING | cmbpy.F_SPAWNS, run, keepalive=cmbpy.KA_NGINX)

if __name__ == "__main__":
    cmbpy.main(MODEL)
