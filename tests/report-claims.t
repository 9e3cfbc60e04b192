#!/usr/bin/python3
"""report-claims.t: the claim configs, the claims of report/claims.py and the verdicts
report/criteria.py derives from their criteria.

Configs: each file's name: is claim-<stem> (results folders are found by it, apart from the
runner's configs of the same stem), each claim's experiment
exists, and bin/bench --check accepts each (when bench is built). Logic: rows made up for the
purpose drive each kind of verdict - reproduced, not reproduced, and inconclusive for a server not
built, failed runs, a saturated load generator, other processes on the server's CPUs, or CPU work
no model could scale - so the fixed criteria are checked as written. Derived text: each claim's
"reproduced when" states every bound its criteria declare. Intervals: with several repeats a
criterion is met or missed on its whole bootstrap interval, and an interval across the bound makes
the claim inconclusive, naming it. Plumbing: check_claims.py verdicts on an
empty results folder calls every claim inconclusive, and on the real fixture filed as a claim run
it reads the rows."""

import glob
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from reporttest import FIXTURE, REPORT_DIR, ROOT, Tap, html_refs, md_refs, missing_refs, script

sys.path.insert(0, REPORT_DIR)
import check_claims  # noqa: E402
import claims  # noqa: E402
import criteria  # noqa: E402

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "claims", "*.yaml")))
BIN = os.path.join(ROOT, os.environ.get("BIN", "bin"))


def row(server, model=None, **cells):
    """A runs.csv row as results.read_runs() returns it: numbers as floats, words as strings."""
    r = {"run": server, "server": server, "model": model or server, "repeat": 1.0, "proto": "http",
         "connections": 10.0, "idle": 0.0, "size": 64.0, "rate_rps": 0.0, "pipeline": 1.0,
         "conn_mode": "keepalive", "work_us": 0.0, "status": "ok", "bottleneck": "none",
         "status_reason": ""}
    for k, v in cells.items():
        r[k] = float(v) if isinstance(v, (int, float)) else v
    return r


def fake_bin(tmp, models):
    """A bin folder where exactly these server binaries exist."""
    d = tempfile.mkdtemp(dir=tmp)
    for m in models:
        with open(os.path.join(d, "server-" + m), "w") as f:
            f.write("#!/bin/sh\n")
    return d


def check_configs(t):
    names = {check_claims.stem(p): check_claims.config_name(p) for p in CONFIGS}
    t.ok(CONFIGS and all(name == "claim-" + stem for stem, name in names.items()),
         "every claim config's name: is claim-<file stem>", names)
    wanted = {n for c in claims.CLAIMS for n in criteria.run_names(c)}
    t.ok(wanted <= set(names), "every claim's experiment has a config", sorted(wanted - set(names)))
    t.ok(len(claims.CLAIMS) == 15, "the fifteen claims are all there (four about Python)")
    bench = os.path.join(BIN, "bench")
    if not os.access(bench, os.X_OK):
        t.skip("bench --check accepts every claim config", "%s not built" % bench)
        return
    import subprocess
    bad = []
    for p in CONFIGS:
        r = subprocess.run([bench, "--config", p, "--check", "--bin", BIN], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            bad.append(r.stderr.strip())
    t.ok(not bad, "bench --check accepts every claim config", bad)


def evaluate(claim_id, rows, bin_dir):
    """The verdict of one claim on rows of its (first) experiment, or on {experiment: rows}."""
    c = claims.claim(claim_id)
    runs = rows if isinstance(rows, dict) else {criteria.run_names(c)[0]: rows}
    return criteria.evaluate(c, runs, bin_dir)


def check_pools(t, tmp):
    """The keep-alive claim reads two experiments: the limits off starve the clients beyond the
    workers, the defaults share."""
    pools = fake_bin(tmp, ["prefork", "threadpool"])
    def run(starved, jain):
        return [row(m, workers=w, connections=32, conns_starved=s, fairness_jain=j, throughput_rps=1e4)
                for m, w, s, j in (("prefork", 8, starved[0], jain[0]), ("threadpool", 16, starved[1], jain[1]))]
    starving, sharing = run((24, 16), (0.25, 0.5)), run((0, 0), (0.99, 1.0))
    v = evaluate("pools-keepalive", {"pools-unlimited": starving, "pools-limited": sharing}, pools)
    t.ok(v["verdict"] == "reproduced", "limits off: 24 and 16 starved; defaults: none, Jain ~1: reproduced", v)
    v = evaluate("pools-keepalive", {"pools-unlimited": run((24, 2), (0.25, 0.9)), "pools-limited": sharing}, pools)
    t.ok(v["verdict"] == "not reproduced" and "threadpool" in v["reason"],
         "threadpool starving 2 of its 16 extra clients misses 0.9: not reproduced, naming it", v)
    v = evaluate("pools-keepalive", {"pools-unlimited": starving, "pools-limited": run((0, 1), (0.9, 0.95))}, pools)
    t.ok(v["verdict"] == "not reproduced", "one client starved with the defaults: not reproduced", v)
    v = evaluate("pools-keepalive", {"pools-unlimited": starving}, pools)
    t.ok(v["verdict"] == "inconclusive", "the defaults' experiment missing: inconclusive", v)
    labels = [label for label, _ in v["figures"]]
    t.ok(labels and all(l.startswith("pools-unlimited: ") for l in labels),
         "over two experiments each figure names its experiment", labels)


def check_logic(t, tmp):
    both = fake_bin(tmp, ["busypoll", "epoll-lt"])
    busy = lambda b, e, **kw: [row("busypoll", server_cpu_cores=b, **kw), row("epoll-lt", server_cpu_cores=e)]
    v = evaluate("busypoll", busy(1.0, 0.01), both)
    t.ok(v["verdict"] == "reproduced", "busypoll 1.0 core, epoll 0.01: reproduced", v)
    v = evaluate("busypoll", busy(0.5, 0.01), both)
    t.ok(v["verdict"] == "not reproduced", "busypoll 0.5 core: not reproduced", v)
    v = evaluate("busypoll", busy(0.9, 0.05), both)
    t.ok(v["verdict"] == "reproduced", "the bounds are inclusive (0.9 and 0.05)", v)
    v = evaluate("busypoll", busy(1.0, 0.01), fake_bin(tmp, ["epoll-lt"]))
    t.ok(v["verdict"] == "inconclusive" and "not built: busypoll" in v["reason"],
         "a missing binary: inconclusive, server not built", v)
    v = evaluate("busypoll", busy(1.0, 0.01, status="failed", status_reason="crashed"), both)
    t.ok(v["verdict"] == "inconclusive" and "crashed" in v["reason"], "only failed runs: inconclusive with the reason", v)

    noted = "other processes used 0.30 CPU of the server's CPUs"
    v = evaluate("busypoll", busy(1.0, 0.01, status_reason=noted), both)
    t.ok(v["verdict"] == "inconclusive" and "criterion reads: reproduced" in v["reason"],
         "others took 0.3 CPU of busypoll's CPU: inconclusive, saying what the figures read", v)
    v = evaluate("busypoll", [row("busypoll", server_cpu_cores=1.0), row("epoll-lt", server_cpu_cores=0.01,
                                                                           status_reason=noted)], both)
    t.ok(v["verdict"] == "reproduced", "contention beside epoll's 0.01 core does not void busypoll's claim", v)

    readiness = fake_bin(tmp, ["select", "poll", "epoll-lt", "epoll-et"])
    comp = lambda p, bound="none": [row("poll", throughput_rps=p, bottleneck=bound),
                                    row("epoll-lt", throughput_rps=100), row("epoll-et", throughput_rps=100)]
    t.ok(evaluate("comparable", comp(110), readiness)["verdict"] == "reproduced", "poll/epoll 1.1: comparable")
    t.ok(evaluate("comparable", comp(70), readiness)["verdict"] == "not reproduced", "poll/epoll 0.7: not comparable")
    v = evaluate("comparable", comp(100, "loadgen"), readiness)
    t.ok(v["verdict"] == "inconclusive" and "load generator" in v["reason"],
         "equal numbers from a saturated load generator: inconclusive", v)

    def fdlimit(select_held):
        rows = [row("select", connections=1100, srv_peak_conns=select_held, srv_refused=1100 - select_held,
                    status="refused" if select_held < 1100 else "ok")]
        rows += [row(m, connections=1100, srv_peak_conns=1100, srv_refused=0, errors_total=0)
                 for m in ("poll", "epoll-lt", "epoll-et")]
        return rows
    t.ok(evaluate("select-1024", fdlimit(1020), readiness)["verdict"] == "reproduced",
         "select holds 1020 and refuses 80, the others hold 1100: reproduced")
    t.ok(evaluate("select-1024", fdlimit(1100), readiness)["verdict"] == "not reproduced",
         "select holding all 1100: not reproduced")

    blocking = fake_bin(tmp, ["iterative", "fork", "pthread"])
    rows = []
    for n, it, conc in ((1, 100, 100), (8, 100, 100)):
        rows += [row("iterative", connections=n, throughput_rps=it, work_us=10000),
                 row("fork", connections=n, throughput_rps=conc, work_us=10000, bottleneck="server"),
                 row("pthread", connections=n, throughput_rps=conc, work_us=10000, bottleneck="server")]
    for r in rows:
        r["_server_ncpu"] = 1
    v = evaluate("iterative", rows, blocking)
    t.ok(v["verdict"] == "inconclusive" and "cores" in v["reason"],
         "10 ms of CPU work on 1 CPU cannot scale 4 x: inconclusive, saying why", v)
    for r in rows:
        if r["server"] != "iterative" and r["connections"] == 8:
            r["throughput_rps"] = 500.0
        r["_server_ncpu"] = 8
    t.ok(evaluate("iterative", rows, blocking)["verdict"] == "reproduced", "fork and pthread x5, iterative x1: reproduced")

    mem = fake_bin(tmp, ["fork", "pthread", "epoll-lt", "coroutine"])
    def memrows(fork_kb, pthread_kb, epoll_kb):
        out = []
        for server, per in (("fork", fork_kb), ("pthread", pthread_kb), ("epoll-lt", epoll_kb)):
            out.append(row(server, connections=1, idle=0, server_mem_peak_kb=1000, srv_peak_conns=1))
            out.append(row(server, connections=1, idle=5000, server_mem_peak_kb=1000 + per * 5000, srv_peak_conns=5001))
        return out
    t.ok(evaluate("memory", memrows(150, 37, 5), mem)["verdict"] == "reproduced",
         "fork 150 kB, pthread 37 kB, epoll 5 kB per connection: reproduced")
    v = evaluate("memory", memrows(150, 8, 5), mem)
    t.ok(v["verdict"] == "not reproduced" and "pthread" in v["reason"], "pthread only 1.6 x epoll: not reproduced", v)
    short = memrows(150, 37, 5)
    short[-1]["srv_peak_conns"] = 3000.0
    v = evaluate("memory", short, mem)
    t.ok(v["verdict"] == "inconclusive" and "not all held" in v["reason"], "idle connections not all held: inconclusive", v)


def check_derived(t, tmp):
    """What the criteria derive: every bound in the "reproduced when" text and on the plots, and
    the verdict rules a criterion's comparison implies."""
    absent = []
    for c in claims.CLAIMS:
        text = criteria.criteria_text(c)
        for k in c["criteria"]:
            bounds = k["bound"] if isinstance(k["bound"], tuple) else (k["bound"],)
            absent += ["%s: %s" % (c["id"], criteria.fmt(b)) for b in bounds if criteria.fmt(b) not in text]
    t.ok(not absent, "each claim's text states every bound of its criteria", absent)
    t.ok(criteria.criteria_text(claims.claim("busypoll")) ==
         "busypoll server CPU >= 0.9 cores; epoll-lt server CPU <= 0.05 cores", "busypoll's criteria read as a sentence",
         criteria.criteria_text(claims.claim("busypoll")))
    cpu = [row("epoll-lt", throughput_rps=1000, server_cpu_cores=1.0),
           row("reuseport-w2", "reuseport", throughput_rps=1900, server_cpu_cores=2.0)]
    lines = criteria.plot_lines(claims.claim("event-loop-cpu"), "throughput", cpu, at={})
    t.ok([(round(y), label) for y, label, _ in lines] == [(1600, "reuseport and threadpool must reach 1.6 x epoll-lt")],
         "a criterion versus a model draws its line at the bound times that model's median", lines)
    lines = criteria.plot_lines(claims.claim("idle-cost"), "throughput", [], base={"idle": 0})
    t.ok(sorted(y for y, _, _ in lines) == [0.6, 0.8], "a criterion relative to a base point draws its bound", lines)

    edge = fake_bin(tmp, ["epoll-lt", "epoll-et"])
    def edgerows(bound):
        return [row("epoll-lt", size=64, throughput_rps=100), row("epoll-et", size=64, throughput_rps=100, bottleneck=bound),
                row("epoll-lt", size=65536, throughput_rps=10, srv_events=40, requests=10),
                row("epoll-et", size=65536, throughput_rps=10, srv_events=10, requests=10)]
    t.ok(evaluate("edge-triggered", edgerows("none"), edge)["verdict"] == "reproduced", "ET = LT, LT 4 x the events: reproduced")
    v = evaluate("edge-triggered", edgerows("loadgen"), edge)
    t.ok(v["verdict"] == "inconclusive" and "equal numbers" in v["reason"],
         "'between' from a saturated load generator voids a pass too", v)

    readiness = fake_bin(tmp, ["poll", "epoll-lt"])
    busy = "other processes used 0.30 CPU of the server's CPUs"
    idle = [row("poll", connections=100, idle=0, throughput_rps=100, srv_peak_conns=100),
            row("poll", connections=100, idle=10000, throughput_rps=90, srv_peak_conns=10100),
            row("epoll-lt", connections=100, idle=0, throughput_rps=100, srv_peak_conns=100, status_reason=busy),
            row("epoll-lt", connections=100, idle=10000, throughput_rps=100, srv_peak_conns=10100)]
    v = evaluate("idle-cost", idle, readiness)
    t.ok(v["verdict"] == "not reproduced" and
         "poll throughput at 10,000 idle / at 0 idle = 0.9 (1 repeat: no interval), needs <= 0.6" in v["reason"],
         "a clean miss (poll 0.9) stands beside contention at another server's point", v)


def check_intervals(t, tmp):
    """With several repeats a reading is its median's (or ratio's) bootstrap interval: met when the
    whole interval meets the bound, missed when the whole interval misses it, undecided - the claim
    inconclusive, naming the interval and the bound - when it straddles it. The poll/epoll ratios
    1.02, 1.34 and 0.82 of three runs of one day are such a case."""
    readiness = fake_bin(tmp, ["select", "poll", "epoll-lt", "epoll-et"])
    def comp(poll, epoll=(100, 100, 100)):
        return [row(m, repeat=i + 1, throughput_rps=v) for i in range(len(poll))
                for m, v in (("poll", poll[i]), ("epoll-lt", epoll[i]), ("epoll-et", epoll[i]))]
    v = evaluate("comparable", comp((102, 134, 82)), readiness)
    t.ok(v["verdict"] == "inconclusive" and "= 1.02, interval [0.82..1.34] straddles the bound 1.25 "
         "(needs between 0.75 and 1.25)" in v["reason"],
         "poll/epoll 1.02 with an interval [0.82..1.34] across 1.25: inconclusive, naming both", v)
    v = evaluate("comparable", comp((60, 100, 140)), readiness)
    t.ok(v["verdict"] == "inconclusive" and "straddles the bounds 0.75 and 1.25" in v["reason"],
         "an interval wider than 'between' on both sides names both bounds", v)
    v = evaluate("comparable", comp((70, 71, 69), (100, 101, 99)), readiness)
    t.ok(v["verdict"] == "not reproduced" and "= 0.7 [0.683..0.717], needs between 0.75 and 1.25" in v["reason"],
         "poll/epoll 0.7 with a tight interval [0.683..0.717]: not reproduced, stating the interval", v)
    v = evaluate("comparable", comp((100, 101, 99), (100, 102, 98)), readiness)
    t.ok(v["verdict"] == "reproduced", "poll/epoll 1.0 with a tight interval: reproduced", v)
    figures = dict(v["figures"])
    t.ok(figures.get("poll / epoll-lt throughput at 0 idle") == "1 [0.971..1.03] (3 repeats)",
         "the figures show a ratio's interval and its repeats", figures)

    both = fake_bin(tmp, ["busypoll", "epoll-lt"])
    def busy(b):
        return [r for i, x in enumerate(b) for r in (row("busypoll", repeat=i + 1, server_cpu_cores=x),
                                                     row("epoll-lt", repeat=i + 1, server_cpu_cores=0.01))]
    v = evaluate("busypoll", busy((0.95, 1.0, 0.5)), both)
    t.ok(v["verdict"] == "inconclusive" and "interval [0.5..1] straddles the bound 0.9" in v["reason"],
         "busypoll's median 0.95 core over 0.5..1.0: its interval straddles 0.9, inconclusive", v)
    v = evaluate("busypoll", busy((0.95, 1.0, 0.9)), both)
    t.ok(v["verdict"] == "reproduced", "busypoll 0.9..1.0 core: the whole interval meets >= 0.9", v)


def check_busy_note(t):
    """The noise note comes from the contention the runner measured in each run, not the load
    average at start (which in `make claims` counts the previous experiment's own processes)."""
    quiet = [row("poll"), row("epoll-lt", status_reason="other processes used 0.05 CPU of the server's CPUs")]
    t.ok(check_claims.busy_note(quiet) == "", "no run contended: no noise note", check_claims.busy_note(quiet))
    noisy = quiet + [row("epoll-et", status_reason="other processes used 0.27 CPU of the server's CPUs")]
    note = check_claims.busy_note(noisy)
    t.ok("0.27" in note and "noisy" in note, "a run where others took 0.27 CPU: noted with its figure", note)
    failed = [row("poll", status="failed", status_reason="crashed; other processes used 0.9 CPU")]
    t.ok(check_claims.busy_note(failed) == "", "a failed run does not count", check_claims.busy_note(failed))


def check_pages(t, tmp):
    results = os.path.join(tmp, "results")
    os.makedirs(results)
    out = os.path.join(tmp, "out")
    r = script("check_claims", "verdicts", "--bin", fake_bin(tmp, []), "--results", results, "--out", out, *CONFIGS)
    t.ok(r.returncode == 0, "check_claims.py verdicts with no runs exits 0", r.stderr)
    lines = [l for l in r.stdout.splitlines() if not l.startswith("claims:")]
    t.ok(len(lines) == len(claims.CLAIMS) and all(l.startswith("inconclusive") for l in lines),
         "with no runs every claim is inconclusive", r.stdout)
    for name in ("index.html", "claims.md"):
        t.ok(os.path.exists(os.path.join(out, name)), "writes %s" % name)

    shutil.copytree(FIXTURE, os.path.join(results, "claim-iterative-20260101-000000"))
    r = script("check_claims", "verdicts", "--bin", fake_bin(tmp, ["iterative", "fork", "pthread"]), "--results", results,
               "--out", out, *CONFIGS)
    line = [l for l in r.stdout.splitlines() if "one client at a time" in l]
    t.ok(r.returncode == 0 and line and "no measurement for fork" in line[0],
         "a run without fork's rows: inconclusive, no measurement for fork", r.stdout + r.stderr)
    index, md = os.path.join(out, "index.html"), os.path.join(out, "claims.md")
    t.ok(not missing_refs(index, html_refs(index)), "index.html references only files that exist")
    t.ok(not missing_refs(md, md_refs(md)), "claims.md references only files that exist")


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="claims-test-")
    try:
        r = script("check_claims", "--help")
        t.ok(r.returncode == 0 and "usage" in r.stdout.lower(), "check_claims.py --help exits 0 with a usage")
        check_configs(t)
        check_logic(t, tmp)
        check_pools(t, tmp)
        check_derived(t, tmp)
        check_intervals(t, tmp)
        check_busy_note(t)
        check_pages(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
