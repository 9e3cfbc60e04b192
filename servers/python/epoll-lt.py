"""epoll-lt.py: the readiness loop on select.epoll, level-triggered: the kernel keeps the interest
list, a wait returns only the ready fds, and a readable fd is reported again while data is left, so
each report gets one read (the backend is cmbpy.Epoll, shared with epoll-et)."""

import cmbpy


def run(srv):
    return cmbpy.serve_loop(srv, cmbpy.Epoll(edge=False))


MODEL = cmbpy.Model(
    "py-epoll-lt", "Event loop on select.epoll, level-triggered (Python): one read per readiness "
    "report.", cmbpy.F_EVENTS, run, keepalive=cmbpy.KA_NGINX)

if __name__ == "__main__":
    cmbpy.main(MODEL)
