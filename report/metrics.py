"""metrics.py - what a claim's criterion can measure from a run's rows, by name (METRICS), and
reading one: measure(rows, metric, model, at) -> a bootstrap.Estimate (the median and its interval)
or None.

A metric is a function of one row, read at a point as the median of its repeats, or a function of
a model's rows and the point (memory per idle connection needs the point at 0 idle too; counts of
runs need them all). A new kind of claim (a Python server's GIL, say) adds its metric here.
"""

import bootstrap
import results as R


# --- the metrics --------------------------------------------------------------------------------

def runs_where(test):
    """A model metric: how many of the runs at a point pass test(row)."""
    def metric(rows, at):
        mine = rows_of(rows, **at)
        return bootstrap.exact(float(sum(1 for r in mine if test(r)))) if mine else None
    return metric


def memory_per_idle(rows, at):
    """kB per idle connection at a point: (median memory there - median memory at 0 idle) / idle."""
    idle = float(at.get("idle") or 0)
    return R.memory_above(rows_of(rows, **at), rows_of(rows, idle=0), idle) if idle else None


def held_or_refused(r):
    held = R.served_connections(r)
    return held + R.refused_connections(r) if held is not None else None


def per_request(column):
    """A server counter per request answered in the measured window."""
    def metric(r):
        value, n = R.num(r, column), R.num(r, "requests")
        return value / n if value is not None and n else None
    return metric


def starved_beyond_workers(r):
    """The share of the clients beyond a pool's workers that got no answer in the measured window."""
    starved, conns, workers = R.num(r, "conns_starved"), R.num(r, "connections"), R.num(r, "workers")
    if starved is None or conns is None or not workers or conns <= workers:
        return None
    return starved / (conns - workers)


def cpu_per_connection(r):
    cpu, n = R.server_cpu_s(r), R.num(r, "connects")
    return cpu * 1e6 / n if cpu is not None and n else None


# name -> what it is: "row" a function of one row (a point reads the median of its repeats) or "model"
# a function (the model's rows, the point) -> Estimate; its label and unit; "cpu": others taking the
# server's CPUs lower it (contention voids a reading); "loadgen": a saturated load generator caps it.
METRICS = {
    "throughput": dict(row=lambda r: R.num(r, "throughput_rps"), label="throughput", unit="req/s",
                       cpu=True, loadgen=True),
    "connection rate": dict(row=lambda r: R.num(r, "throughput_rps"), label="connections/s", unit="",
                            cpu=True, loadgen=True),
    "server CPU": dict(row=lambda r: R.num(r, "server_cpu_cores"), label="server CPU", unit="cores",
                       cpu=True, loadgen=False),
    "CPU per connection": dict(row=cpu_per_connection, label="server CPU per connection", unit="µs",
                               cpu=False, loadgen=False),
    "connections held": dict(row=R.served_connections, label="connections held at once", unit="",
                             cpu=False, loadgen=False),
    "connections held or refused": dict(row=held_or_refused, label="connections held or refused", unit="",
                                        cpu=False, loadgen=False),
    "connections refused": dict(row=R.refused_connections, label="connections refused", unit="",
                                cpu=False, loadgen=False),
    "loadgen errors": dict(row=lambda r: R.num(r, "errors_total"), label="loadgen errors", unit="",
                           cpu=False, loadgen=False),
    "failed runs": dict(model=runs_where(lambda r: r.get("status") == "failed"), label="runs failed", unit="", cpu=False, loadgen=False),
    "runs not ok": dict(model=runs_where(lambda r: r.get("status") != "ok"), label="runs not ok", unit="", cpu=False, loadgen=False),
    "memory per idle connection": dict(model=memory_per_idle, label="memory per idle connection", unit="kB",
                                       cpu=False, loadgen=False),
    "clients starved": dict(row=lambda r: R.num(r, "conns_starved"), label="clients with no answer", unit="",
                            cpu=False, loadgen=False),
    "starved beyond the workers": dict(row=starved_beyond_workers,
                                       label="share of the clients beyond the workers with no answer", unit="",
                                       cpu=False, loadgen=False),
    "fairness index": dict(row=lambda r: R.num(r, "fairness_jain"), label="Jain's index of answers per client",
                           unit="", cpu=False, loadgen=False),
    "RSS peak": dict(row=lambda r: R.num(r, "server_rss_peak_kb"), label="RSS peak",
                     unit="kB, summed over the tree", cpu=False, loadgen=False),
    "events per request": dict(row=per_request("srv_events"), label="events per request", unit="",
                               cpu=False, loadgen=False),
    "wait returns per request": dict(row=per_request("srv_wait_calls"), label="epoll_wait returns per request",
                                     unit="", cpu=False, loadgen=False),
}


# --- reading them ------------------------------------------------------------------------------------------

def rows_of(rows, model=None, server=None, **axes):
    """The rows of one model (or server name) at the given axis values. A model also names a
    server of the run by its name: a claim reads one model run twice ("py-threading-1cpu", "-2cpu")."""
    out = []
    for r in rows:
        if model is not None and r.get("model") != model and r["server"] != model:
            continue
        if server is not None and r["server"] != server:
            continue
        if all(r.get(a) == (v if isinstance(v, str) else float(v)) for a, v in axes.items()):
            out.append(r)
    return out


def fmt(value):
    if value is None:
        return "n/a"
    if float(value).is_integer() or abs(value) >= 1000:
        return "{:,.0f}".format(value)
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.3g" % value


def estimate_text(e):
    """'median [lo..hi] (n repeats)' of an Estimate, for the figures."""
    if e is None:
        return "not measured"
    return bootstrap.text(e, fmt) + (" (%s)" % e.repeats_text() if e.has_interval() else "")


def size_text(size):
    size = float(size)
    return "%s KiB" % fmt(size / 1024) if size >= 1024 and size % 1024 == 0 else "%s B" % fmt(size)


def measure(rows, metric, model=None, server=None, at=None):
    """The Estimate of a metric on one model (or server) at a point; None when nothing was measured."""
    m, at = METRICS[metric], at or {}
    mine = rows_of(rows, model=model, server=server)
    if "model" in m:
        return m["model"](mine, at) if mine else None
    return R.summarize(rows_of(mine, **at), m["row"])


def median(e):
    return e.value if e else None
