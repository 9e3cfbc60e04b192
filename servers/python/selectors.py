"""selectors.py: the readiness loop on selectors.DefaultSelector, the standard library's portable
face of the best wait call the platform has (epoll on Linux, level-triggered). Each registration is
a SelectorKey object and each wait builds (key, events) pairs: the abstraction's own cost."""

import selectors

import cmbpy


class Selector:
    name, edge, fd_limit = "selectors", False, 0

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.name = "selectors (%s)" % type(self.sel).__name__

    @staticmethod
    def events(mask):
        return ((selectors.EVENT_READ if mask & cmbpy.READ else 0)
                | (selectors.EVENT_WRITE if mask & cmbpy.WRITE else 0))

    def add(self, fd, mask):
        self.modify(fd, mask)

    def modify(self, fd, mask):
        ev = self.events(mask)
        if ev:
            if fd in self.sel.get_map():
                self.sel.modify(fd, ev)
            else:
                self.sel.register(fd, ev)
        elif fd in self.sel.get_map():
            self.sel.unregister(fd)   # a selector cannot hold an fd with no events: drop it

    def delete(self, fd):
        if fd in self.sel.get_map():
            self.sel.unregister(fd)

    def wait(self, timeout):
        return [(key.fd, (cmbpy.READ if ev & selectors.EVENT_READ else 0)
                 | (cmbpy.WRITE if ev & selectors.EVENT_WRITE else 0))
                for key, ev in self.sel.select(timeout)]


def run(srv):
    return cmbpy.serve_loop(srv, Selector())


MODEL = cmbpy.Model(
    "py-selectors", "Event loop on selectors.DefaultSelector (Python; epoll on Linux), "
    "level-triggered.", cmbpy.F_EVENTS, run, keepalive=cmbpy.KA_NGINX)

if __name__ == "__main__":
    cmbpy.main(MODEL)
