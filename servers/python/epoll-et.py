"""epoll-et.py: the readiness loop on select.epoll, edge-triggered (EPOLLET): a readiness change is
reported once, so reads, writes and accepts are repeated until EAGAIN; what the per-turn budget
leaves undone is finished on the loop's queue of connections with more work, since no new edge
would announce it (the backend is cmbpy.Epoll, shared with epoll-lt)."""

import cmbpy


def run(srv):
    return cmbpy.serve_loop(srv, cmbpy.Epoll(edge=True))


MODEL = cmbpy.Model(
    "py-epoll-et", "Event loop on select.epoll, edge-triggered (Python): reads, writes and accepts "
    "drained to EAGAIN.", cmbpy.F_EVENTS, run, keepalive=cmbpy.KA_NGINX)

if __name__ == "__main__":
    cmbpy.main(MODEL)
