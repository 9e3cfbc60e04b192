#!/usr/bin/python3
"""tests/bench/py-gil-cost.py - what one engine step costs the Python servers through ctypes, with the
GIL held across the call (ctypes.PyDLL, what servers/python/lib/cmbpy.py loads) and released around it
(ctypes.CDLL), by 1 and by 8 threads stepping at once. Each step feeds one small GET and answers it.
Prints the median over ROUNDS of wall and process CPU microseconds per step, and of the context
switches (voluntary + involuntary, the process's) per 1000 steps: the figure a loaded machine
disturbs least. Not part of `make test`.

    BIN=bin ROUNDS=5 N=50000 tests/bench/py-gil-cost.py"""

import ctypes
import os
import resource
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "servers", "python", "lib"))
import cmbpy  # noqa: E402

LIB = os.path.abspath(os.path.join(os.environ.get("BIN", "bin"), "libcmbproto.so"))
ROUNDS, N = int(os.environ.get("ROUNDS", "5")), int(os.environ.get("N", "50000"))
REQ = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


def engine(kind):
    """The library loaded as `kind`, with cmbpy's prototypes."""
    ref = cmbpy.load_engine(LIB)
    lib = (ctypes.CDLL if kind == "CDLL" else ctypes.PyDLL)(LIB)
    for f in ("proto_lib_cfg_new", "proto_lib_conn_new", "proto_lib_step"):
        getattr(lib, f).restype, getattr(lib, f).argtypes = getattr(ref, f).restype, getattr(ref, f).argtypes
    return lib


def steps(lib, threads):
    cfg = lib.proto_lib_cfg_new(1, -1, 0, 0, 0)

    def worker():
        p = lib.proto_lib_conn_new(cfg)
        step = lib.proto_lib_step
        # The request is put in place by a ctypes array's setter, not ctypes.memmove: memmove is a
        # CFUNCTYPE, which releases the GIL too, and would blur the difference measured.
        inp = (ctypes.c_char * len(REQ)).from_address(p.contents.inp)
        for _ in range(N):
            inp.raw = REQ
            step(p, len(REQ), 0)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    c0, t0, s0 = time.process_time(), time.perf_counter(), switches()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    n = N * threads
    return ((time.perf_counter() - t0) / n * 1e6, (time.process_time() - c0) / n * 1e6,
            (switches() - s0) / n * 1000)


def switches():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_nvcsw + ru.ru_nivcsw


def main():
    libs = {k: engine(k) for k in ("PyDLL", "CDLL")}
    got = {}
    for _ in range(ROUNDS):   # interleaved, so a change in the machine's load hits both alike
        for threads in (1, 8):
            for kind, lib in libs.items():
                got.setdefault((kind, threads), []).append(steps(lib, threads))
    for (kind, threads), v in sorted(got.items()):
        wall, cpu, sw = (sorted(x[i] for x in v) for i in range(3))
        m = len(v) // 2
        print("%-5s threads=%d: wall %.2f us/step, cpu %.2f us/step, %.1f switches/1000 steps "
              "(medians of %d)" % (kind, threads, wall[m], cpu[m], sw[m], len(v)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
