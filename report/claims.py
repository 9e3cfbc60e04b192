"""claims.py - the course's claims about concurrency models, declared once as data: for each, its
words, its experiment (configs/claims/<config>.yaml), the criteria fixed before anything was
measured, the figures shown beside its verdict, and its plot.

criteria.py derives from these the verdict, its reason, the "reproduced when" sentence and the
plots' threshold lines; claim_plots.py draws; check_claims.py runs the experiments and writes the page.
"""

import bootstrap
import claim_plots as P
from criteria import CONTENDED, criterion as C, figure as F

EPOLL = ["epoll-lt"]   # the epoll server every readiness claim needs ...
ALSO = ["epoll-et"]    # ... and the one it reads as well where the run measured it
READINESS = ["select", "poll"] + EPOLL + ALSO
POOLS = ["prefork", "threadpool"]


def fd_setsize(select, others, also=None):
    """The criteria of 'select stops at FD_SETSIZE' on 1,100 connections: select holds at most
    1,021 (FD_SETSIZE less stdin, stdout, stderr) and refuses the rest without failing; the others
    hold them all without errors."""
    return [C("connections held", select, "<=", 1021),
            C("connections held or refused", select, ">=", 1100),
            C("failed runs", select, "<=", 0),
            C("connections held", others, ">=", 1100, also=also),
            C("loadgen errors", others, "<=", 0, also=also),
            C("runs not ok", others, "<=", 0, also=also)]


CLAIMS = [
    {"id": "select-1024", "config": "fdlimit", "words": "select watches at most 1024 descriptors",
     "experiment": "1,100 connections to select, poll, epoll",
     "criteria": fd_setsize("select", ["poll"] + EPOLL, also=ALSO),
     "figures": [F("connections refused", ["select"])],
     "plot": P.connection_outcome},

    {"id": "idle-cost", "config": "idle", "words": "select/poll cost grows with idle connections; epoll's does not",
     "experiment": "100 active clients, idle 0 to 10,000 (select to 1,000)",
     "criteria": [
         C("throughput", "poll", "<=", 0.6, at={"idle": 10000}, base={"idle": 0}),
         C("throughput", EPOLL, ">=", 0.8, at={"idle": 10000}, base={"idle": 0}, also=ALSO),
     ],
     "figures": [F("throughput", READINESS, [{"idle": n} for n in (0, 900, 1000, 10000)]),
                 F("throughput", ["select"], [{"idle": 900}], base={"idle": 0})],
     "plot": P.idle_cost},

    {"id": "comparable", "config": "idle", "words": "without idle connections select/poll/epoll are comparable",
     "experiment": "100 active, 0 idle",
     "criteria": [C("throughput", "poll", "between", (0.75, 1.25), at={"idle": 0}, versus=EPOLL + ALSO)],
     "figures": [F("throughput", READINESS, [{"idle": 0}]),
                 F("throughput", ["select"], [{"idle": 0}], versus=EPOLL)],
     "plot": P.bars("100 active clients, no idle connections",
                    "Throughput of each readiness server with 100 active clients and no idle ones "
                    "(hatched: loadgen-bound).",
                    ("throughput at 0 idle", "requests/s", "throughput", {"idle": 0}))},

    {"id": "iterative", "config": "iterative", "words": "the iterative server serves one client at a time",
     "experiment": "1, 2, 8, 32 clients, 10 ms of work each: a blocking wait (--wait-us 10000), as for a disk "
                   "read or a database query",
     "criteria": [
         C("throughput", "iterative", "<=", 1.2, at={"connections": 8}, base={"connections": 1}),
         C("throughput", ["fork", "pthread"], ">=", 4, at={"connections": 8}, base={"connections": 1}),
     ],
     "figures": [F("throughput", ["iterative", "fork", "pthread"], [{"connections": n} for n in (1, 2, 8, 32)]),
                 F("server CPU", ["fork", "pthread"], [{"connections": 8}])],
     "plot": P.iterative},

    {"id": "churn", "config": "churn", "words": "per-connection processes cost more than threads; pools cut the cost",
     "experiment": "new connection per request",
     "criteria": [
         C("connection rate", "prefork", ">=", 1.5, versus="fork"),
         C("connection rate", "pthread", ">=", 1.0, versus="fork"),
         C("CPU per connection", "fork", ">=", 3, versus="prefork"),
     ],
     "figures": [F("connection rate"), F("CPU per connection")],
     "plot": P.bars("A new connection for every request (8 clients)",
                    "Connections served per second and server CPU per connection (hatched: loadgen-bound).",
                    ("connections per second", "connections/s", "connection rate"),
                    ("server CPU per connection", "µs (user + sys, whole tree)", "CPU per connection"))},

    {"id": "memory", "config": "memory",
     "words": "threads and processes use more memory per connection than an event loop",
     "experiment": "5,000 idle connections, memory of the whole process tree (cgroup where available)",
     "criteria": [
         C("memory per idle connection", "fork", ">=", 10, at={"idle": 5000}, versus=EPOLL),
         C("memory per idle connection", "pthread", ">=", 2, at={"idle": 5000}, versus=EPOLL),
     ],
     "figures": [F("memory per idle connection", ["fork", "pthread"] + EPOLL, [{"idle": 5000}]),
                 F("RSS peak", ["fork", "pthread"] + EPOLL, [{"idle": 5000}])],
     "plot": P.memory},

    {"id": "event-loop-cpu", "config": "cpuwork", "words": "an event loop uses one core and stalls on CPU work",
     "experiment": "--work-us 1000",
     "criteria": [
         C("server CPU", EPOLL, "<=", 1.1),
         C("throughput", ["reuseport", "threadpool"], ">=", 1.6, versus=EPOLL),  # 2 workers each
     ],
     "figures": [F("throughput"), F("server CPU")],
     "plot": P.bars("1 ms of CPU per request, 32 clients, server on 2 CPUs",
                    "Throughput and CPU cores used under CPU-bound work (hatched: loadgen-bound).",
                    ("throughput", "requests/s", "throughput"), ("server CPU", "cores (of 2)", "server CPU"))},

    {"id": "edge-triggered", "config": "edge", "words": "edge-triggered saves notifications",
     "experiment": "100 active, 64 B and 64 KiB messages",
     "criteria": [
         C("throughput", "epoll-et", "between", (0.9, 1.1), at={"size": 64}, versus="epoll-lt"),  # within 10 %
         C("events per request", "epoll-lt", ">=", 2, at={"size": 65536}, versus="epoll-et"),
     ],
     "figures": [F(metric, ["epoll-lt", "epoll-et"], [{"size": 64}, {"size": 65536}])
                 for metric in ("throughput", "events per request", "wait returns per request")],
     "plot": P.bars("epoll level- vs edge-triggered, 100 echo clients",
                    "Throughput at 64 B and 64 KiB, and epoll events delivered per request at 64 KiB.",
                    ("throughput, 64 B", "requests/s", "throughput", {"size": 64}),
                    ("throughput, 64 KiB", "requests/s", "throughput", {"size": 65536}),
                    ("events per request, 64 KiB", "epoll events / request", "events per request", {"size": 65536}))},

    {"id": "busypoll", "config": "busypoll", "words": "busy-polling burns CPU",
     "experiment": "10 clients at 100 requests/s in total",
     "criteria": [
         C("server CPU", "busypoll", ">=", 0.9),
         C("server CPU", EPOLL, "<=", 0.05, cpu=False),  # a server using 0.005 core is not CPU-limited
     ],
     "figures": [F("server CPU", ["busypoll"] + EPOLL), F("throughput", ["busypoll"] + EPOLL)],
     "plot": P.bars("10 clients, 100 requests/s in total", "CPU cores each server used while serving 100 requests/s.",
                    ("server CPU", "cores", "server CPU"))},

    {"id": "pools-keepalive", "config": ["pools-unlimited", "pools-limited"],
     "words": "a pool without a keep-alive limit starves the clients beyond its workers; with the limit they share",
     "experiment": "32 keep-alive clients, prefork with 8 workers and threadpool with 16; every keep-alive limit "
                   "off, then each model's defaults (100 requests, 5 s idle, and every answer closing while a "
                   "client waits)",
     "criteria": [
         C("starved beyond the workers", POOLS, ">=", 0.9, run="pools-unlimited"),
         C("clients starved", POOLS, "<=", 0, run="pools-limited"),
         C("fairness index", POOLS, ">=", 0.8, run="pools-limited"),
     ],
     "figures": [F("clients starved", POOLS, run="pools-unlimited"), F("fairness index", POOLS, run="pools-unlimited"),
                 F("clients starved", POOLS, run="pools-limited"), F("fairness index", POOLS, run="pools-limited"),
                 F("throughput", POOLS, run="pools-unlimited"), F("throughput", POOLS, run="pools-limited")],
     "plot": P.bars("Keep-alive and pools: 32 clients, prefork (8 workers), threadpool (16)",
                    "Jain's index of the answers each client got (1: all alike; k/32: k clients served) and "
                    "the clients that got none, without keep-alive limits and with each model's defaults.",
                    ("fairness, limits off", "Jain's index", "fairness index", {}, "pools-unlimited"),
                    ("fairness, default limits", "Jain's index", "fairness index", {}, "pools-limited"),
                    ("clients with no answer, limits off", "clients", "clients starved", {}, "pools-unlimited"))},

    {"id": "coroutine", "config": ["memory", "cpuwork"], "words": "coroutines are cheap but use one core",
     "experiment": "coroutine vs pthread, 5,000 connections; --work-us 1000",
     "criteria": [
         C("memory per idle connection", "coroutine", "<=", 0.5, at={"idle": 5000}, versus="pthread", run="memory"),
         C("server CPU", "coroutine", "<=", 1.1, run="cpuwork"),
     ],
     "figures": [F("memory per idle connection", ["coroutine", "pthread"], [{"idle": 5000}], run="memory"),
                 F("RSS peak", ["coroutine", "pthread"], [{"idle": 5000}], run="memory"),
                 F("throughput", ["coroutine"], run="cpuwork")],
     "plot": P.bars("Coroutines: memory per connection and cores used",
                    "Memory per idle connection of coroutine vs pthread, and the cores the coroutine server used.",
                    ("memory per idle connection", "kB per connection", "memory per idle connection", {"idle": 5000},
                     "memory"),
                    ("server CPU under 1 ms of work per request", "cores (of 2)", "server CPU", {}, "cpuwork"))},

    {"id": "gil-cpu", "config": "python-gil",
     "words": "the GIL: Python threads are no faster on two CPUs under CPU work; processes are",
     "experiment": "--work-us 1000 in bytecode, 8 clients, each model's server on 1 CPU and on 2",
     "criteria": [
         C("throughput", "py-threading-2cpu", "<=", 1.15, versus="py-threading-1cpu"),
         C("throughput", "py-threadpool-2cpu", "<=", 1.15, versus="py-threadpool-1cpu"),
         C("throughput", "py-prefork-2cpu", ">=", 1.6, versus="py-prefork-1cpu"),  # 2 workers
         C("throughput", "py-fork-2cpu", ">=", 1.6, versus="py-fork-1cpu"),
     ],
     "figures": [F("throughput", [m + c for m in ("py-threading", "py-threadpool", "py-prefork", "py-fork")
                                  for c in ("-1cpu", "-2cpu")]),
                 F("server CPU", [m + "-2cpu" for m in ("py-threading", "py-threadpool", "py-prefork", "py-fork")])],
     "plot": P.bars("Python under 1 ms of CPU work per request: server on 1 CPU vs 2",
                    "Throughput and cores used of each Python model on one CPU and on two (hatched: loadgen-bound).",
                    ("throughput", "requests/s", "throughput"), ("server CPU", "cores", "server CPU"))},

    {"id": "py-coroutines-core", "config": ["python-gil", "python-memory"], "words": "gevent and asyncio use one core",
     "experiment": "--work-us 1000 in bytecode, 8 clients, server on 2 CPUs; and 5,000 idle connections",
     "criteria": [C("server CPU", ["py-gevent-2cpu", "py-asyncio-2cpu"], "<=", 1.1, run="python-gil")],
     "figures": [F("throughput", ["py-gevent-2cpu", "py-asyncio-2cpu"], run="python-gil"),
                 F("server CPU", ["py-gevent-2cpu", "py-asyncio-2cpu"], run="python-gil"),
                 F("memory per idle connection", ["py-gevent", "py-asyncio", "py-threading"], [{"idle": 5000}],
                   run="python-memory"),
                 F("memory per idle connection", ["py-gevent", "py-asyncio"], [{"idle": 5000}],
                   versus="py-threading", run="python-memory")],
     "plot": P.bars("gevent and asyncio: cores used under CPU work, memory per idle connection",
                    "Cores used by the Python coroutine servers under 1 ms of CPU work per request on 2 CPUs, "
                    "and memory per idle connection beside py-threading's (hatched: loadgen-bound).",
                    ("server CPU", "cores (of 2)", "server CPU", {}, "python-gil"),
                    ("memory per idle connection", "kB per connection", "memory per idle connection",
                     {"idle": 5000}, "python-memory"))},

    {"id": "gil-blocking", "config": "python-wait", "words": "Python threads still help when the work blocks",
     "experiment": "1 and 8 clients, 10 ms of time.sleep per request (--wait-us 10000)",
     "criteria": [C("throughput", "py-threading", ">=", 4, at={"connections": 8}, base={"connections": 1})],
     "figures": [F("throughput", ["py-threading"], [{"connections": n} for n in (1, 8)])],
     "plot": P.bars("py-threading, 10 ms of blocking wait per request",
                    "Throughput with 1 and with 8 clients (hatched: loadgen-bound).",
                    ("throughput, 1 client", "requests/s", "throughput", {"connections": 1}),
                    ("throughput, 8 clients", "requests/s", "throughput", {"connections": 8}))},

    {"id": "py-select-1024", "config": "python-fdlimit", "words": "Python's select watches at most 1024 descriptors",
     "experiment": "1,100 connections to py-select, py-poll, py-epoll",
     "criteria": fd_setsize("py-select", ["py-poll", "py-epoll-lt", "py-epoll-et"]),
     "figures": [F("connections refused", ["py-select"])],
     "plot": P.connection_outcome},
]


def claim(claim_id):
    """The claim with this id; KeyError when there is none."""
    for c in CLAIMS:
        if c["id"] == claim_id:
            return c
    raise KeyError(claim_id)


# How the criteria read the measurements, written down before the first claim run.
READING = [
    "Every figure is the median over the repeats of a point; a ratio ('a / b') is of the medians, "
    "and memory per idle connection is of the medians at its two points. " + bootstrap.method_text(),
    "Throughput is requests answered per second in the measured window (with a new connection per "
    "request: connections per second). CPU is user + system time of the server's whole process tree "
    "over the measured window, in cores (CPU seconds per second).",
    "Connections held at once is the most the server held at once (its own peak_conns counter); "
    "held or refused adds the connections it refused.",
    "A criterion on several models holds only when it holds on each; epoll-et is read where the run "
    "measured it.",
    "Memory per idle connection is (memory at N idle - memory at 0 idle) / N for the server's "
    "process tree: the cgroup's peak when the runner measured it, else the summed RSS peak.",
    "Events per request are the events epoll_wait returned (the server's events counter) per request "
    "answered; epoll_wait returns are shown beside them.",
    "A criterion holds when its figure's whole interval meets the bound, misses when the whole "
    "interval misses it, and is undecided -- inconclusive, naming the interval and the bound it "
    "straddles -- when the interval straddles the bound: the repeats are too noisy to decide. With "
    "1 repeat the figure itself decides.",
    "A claim is reproduced when every criterion holds, not reproduced when one misses with nothing "
    "disturbing its figures, and inconclusive when one is undecided or a figure is missing or "
    "disturbed: the load "
    "generator was saturated where a low throughput could explain the miss (for 'between', anywhere "
    "it reads: equal numbers may be its limit), the server did not hold the idle connections asked "
    "for, or the CPU work needs more cores than the server had, so no model could meet it.",
    "A criterion on throughput or CPU is inconclusive when other processes took %.2f CPU or more of "
    "the server's CPUs at a point it reads (median over the repeats; the runner notes it in "
    "status_reason): the server then had less CPU than it was given, whatever its model. In the "
    "CPU-work experiment the load generator shares the server's CPUs on purpose and counts among "
    "those others (it needs little at ~1,000 requests/s)." % CONTENDED,
]
