"""select.py: the readiness loop on select.select. The interest sets are handed to the kernel and
scanned on every call (O(highest fd), however few are ready), and no fd >= FD_SETSIZE (1024) can be
watched: select.select raises ValueError for one. The loop refuses such connections at accept
(fd_limit, counted as refused fd_setsize) and goes on serving the others."""

import select

import cmbpy

FD_SETSIZE = 1024


class Select:
    name, edge, fd_limit = "select", False, FD_SETSIZE

    def __init__(self):
        self.rd, self.wr = set(), set()   # the interest sets; select() gets them whole each call

    def add(self, fd, mask):
        self.modify(fd, mask)

    def modify(self, fd, mask):
        if fd >= FD_SETSIZE:
            raise ValueError("fd %d >= FD_SETSIZE" % fd)   # the fd_set has no bit for it
        (self.rd.add if mask & cmbpy.READ else self.rd.discard)(fd)
        (self.wr.add if mask & cmbpy.WRITE else self.wr.discard)(fd)

    def delete(self, fd):
        self.rd.discard(fd)
        self.wr.discard(fd)

    def wait(self, timeout):
        r, w, _ = select.select(self.rd, self.wr, (), timeout)
        ready = dict.fromkeys(r, cmbpy.READ)
        for fd in w:
            ready[fd] = ready.get(fd, 0) | cmbpy.WRITE
        return ready.items()


def run(srv):
    return cmbpy.serve_loop(srv, Select())


MODEL = cmbpy.Model(
    "py-select", "Event loop on select.select (Python): fds >= FD_SETSIZE are refused (counted as "
    "fd_setsize).", cmbpy.F_EVENTS, run, keepalive=cmbpy.KA_NGINX)

if __name__ == "__main__":
    cmbpy.main(MODEL)
