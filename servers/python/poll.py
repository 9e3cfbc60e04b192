"""poll.py: the readiness loop on select.poll. No fd limit, but every wait hands the kernel the whole
interest list and gets it scanned, however few fds are ready."""

import select

import cmbpy

IN, OUT = select.POLLIN, select.POLLOUT
TROUBLE = select.POLLERR | select.POLLHUP | select.POLLNVAL   # reported whatever the interest


class Poll:
    name, edge, fd_limit = "poll", False, 0

    def __init__(self):
        self.p = select.poll()

    @staticmethod
    def events(mask):
        return (IN if mask & cmbpy.READ else 0) | (OUT if mask & cmbpy.WRITE else 0)

    def add(self, fd, mask):
        self.p.register(fd, self.events(mask))

    def modify(self, fd, mask):
        self.p.modify(fd, self.events(mask))

    def delete(self, fd):
        self.p.unregister(fd)

    def wait(self, timeout):
        ms = None if timeout is None else int(timeout * 1000 + 0.999)
        return [(fd, (cmbpy.READ if ev & (IN | TROUBLE) else 0) | (cmbpy.WRITE if ev & (OUT | TROUBLE) else 0))
                for fd, ev in self.p.poll(ms)]


def run(srv):
    return cmbpy.serve_loop(srv, Poll())


MODEL = cmbpy.Model(
    "py-poll", "Event loop on select.poll (Python): no fd limit, but every wait passes and scans all "
    "watched fds.", cmbpy.F_EVENTS, run, keepalive=cmbpy.KA_NGINX)

if __name__ == "__main__":
    cmbpy.main(MODEL)
