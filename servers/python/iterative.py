"""iterative.py: the iterative server in Python. The one thread accepts a client and serves it until
it leaves; only then is the next client accepted. Others wait in the listen backlog meanwhile."""

import cmbpy

LISTENER = []


def clients_waiting():
    """The next client waits in the backlog whenever one is there: this server has one worker."""
    return cmbpy.listener_pending(LISTENER[0])


def run(srv):
    st = cmbpy.Stats()
    LISTENER.append(srv.listener)
    cmbpy.ready(srv)
    while (sock := cmbpy.accept_blocking(srv, st)) is not None:
        cmbpy.serve_blocking(srv, sock, st)
        cmbpy.conn_release()
    st.flush()
    return 0


MODEL = cmbpy.Model(
    "py-iterative", "Iterative (Python): one client at a time, served to the end before the next is "
    "accepted.", cmbpy.F_BLOCKING, run,
    keepalive=dict(requests=1, yield_=1),   # one at a time: a kept connection locks others out
    clients_waiting=clients_waiting)

if __name__ == "__main__":
    cmbpy.main(MODEL)
