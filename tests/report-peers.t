#!/usr/bin/python3
"""report-peers.t: the Peers section (report/peers.py). On made-up rows whose answers are known:
the ratio of the medians and its interval, the ratios of the repeats paired by number, whether the
interval excludes 1, no line for
what one side does not measure (h2load's p50), external servers told from meta.json. On the peers
fixture (a real small run, tests/report/peers-fixture/): the section is written and its ratios are
those of runs.csv. A run without peers has no such section."""

import csv
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from reporttest import FIXTURE, HERE, REPORT_DIR, Tap, script  # noqa: E402

sys.path.insert(0, REPORT_DIR)
import peers  # noqa: E402

PEERS_FIXTURE = os.path.join(HERE, "peers-fixture")


def row(server, loader, repeat, rps, p50=None, model=None):
    r = {"server": server, "model": model or server, "proto": "http", "repeat": float(repeat),
         "status": "ok", "throughput_rps": float(rps), "requests": float(rps),
         "latency_p50_us": None if p50 is None else float(p50), "loader": loader,
         "server_cpu_user_s": None, "server_cpu_sys_s": None, "loadgen_cpu_share": None}
    for axis in ("connections", "idle", "size", "rate_rps", "pipeline", "conn_mode", "work_us"):
        r[axis] = {"connections": 100.0, "conn_mode": "keepalive", "size": 64.0, "pipeline": 1.0}.get(axis, 0.0)
    return r


def lines(body, ratio, metric_prefix):
    return [b for b in body if b[0] == ratio and b[2].startswith(metric_prefix)]


def made_up(t):
    meta = {"config": {"servers": [{"name": "nginx", "command": ["nginx"]}, {"name": "epoll-et"}]}}
    rows = ([row("nginx", "loadgen", i, v, 70) for i, v in ((1, 100), (2, 110), (3, 120))] +
            [row("nginx", "wrk", i, v, 80) for i, v in ((1, 90), (2, 95), (3, 100))] +
            [row("nginx", "h2load", i, v) for i, v in ((1, 50), (2, 60), (3, 55))] +
            [row("epoll-et", "loadgen", i, v, 60) for i, v in ((1, 150), (2, 160), (3, 170))])
    t.ok(peers.external_servers(rows, meta) == {"nginx"}, "external servers come from meta.json's commands")
    header, body = peers.ratio_table(rows, meta)
    got = lines(body, "loadgen/wrk", "requests/s")
    t.ok(len(got) == 1 and got[0][1] == "nginx connections=100", "one loadgen/wrk requests/s line for nginx", got)
    if got:
        g = got[0]
        t.ok(g[5] == "%.2f" % (110 / 95), "ratio of the medians 110/95 (got %s)" % g[5])
        # 3 repeats a side: each side's resampled median is its smallest value with probability 7/27,
        # so the 2.5 % and 97.5 % ends are min(A)/max(B) and max(A)/min(B).
        t.ok(g[6] == "%.2f..%.2f" % (100 / 100, 120 / 90), "ratio's interval 100/100 .. 120/90 (got %s)" % g[6])
        t.ok(g[7] == "%.2f..%.2f (3)" % (100 / 90, 120 / 100), "per-repeat ratios 100/90 .. 120/100 (got %s)" % g[7])
        t.ok(g[8] == "no", "100..120 over 90..100: the interval reaches 1, so it does not exclude it (got %s)" % g[8])
    got = lines(body, "loadgen/h2load", "requests/s")
    t.ok(len(got) == 1 and got[0][6] == "%.2f..%.2f" % (100 / 60, 120 / 50) and got[0][8] == "yes",
         "loadgen/h2load: 100..120 over 50..60, interval 1.67..2.40 excludes 1", got)
    t.ok(not lines(body, "loadgen/h2load", "p50"), "no p50 line against h2load: it measures none")
    got = lines(body, "loadgen/wrk", "p50")
    t.ok(len(got) == 1 and got[0][5] == "%.2f" % (70 / 80), "p50 latency ratio loadgen/wrk 70/80", got)
    got = lines(body, "epoll-et/nginx", "requests/s")
    t.ok(len(got) == 1 and got[0][1] == "connections=100 loader=loadgen" and got[0][5] == "%.2f" % (160 / 110),
         "epoll-et/nginx under loadgen: 160/110", got)
    t.ok(not [b for b in body if b[0].startswith("nginx/")], "never an external server over one of ours")
    t.ok(not lines(body, "epoll-et/nginx", "loader CPU"), "loader CPU share only where loaders are compared")
    alone = [r for r in rows if r["server"] == "epoll-et"]
    t.ok(peers.blocks(alone, {"config": {"servers": [{"name": "epoll-et"}]}}) == [],
         "a run of our loadgen and servers only has no Peers section")


def median(xs):
    return statistics.median(xs)


def fixture(t):
    out = tempfile.mkdtemp(prefix="report-peers-")
    try:
        r = script("report", PEERS_FIXTURE, "--out", out)
        t.ok(r.returncode == 0, "report.py on the peers fixture exits 0", r.stderr)
        md = open(os.path.join(out, "summary.md")).read()
        html = open(os.path.join(out, "index.html")).read()
        t.ok("## Peers" in md and 'id="peers"' in html.lower(), "summary.md and index.html have a Peers section")
        with open(os.path.join(PEERS_FIXTURE, "runs.csv")) as f:
            runs = [x for x in csv.DictReader(f) if x["status"] == "ok"]

        def rps(server, loader):
            return median([float(x["throughput_rps"]) for x in runs if x["server"] == server and x["loader"] == loader])

        section = md.split("## Peers", 1)[1].split("\n## ", 1)[0]
        for ratio, point, a, b in (("loadgen/wrk", "nginx", rps("nginx", "loadgen"), rps("nginx", "wrk")),
                                   ("loadgen/h2load", "epoll-et", rps("epoll-et", "loadgen"), rps("epoll-et", "h2load")),
                                   ("epoll-et/nginx", "loader=wrk", rps("epoll-et", "wrk"), rps("nginx", "wrk"))):
            want = "%.2f" % (a / b)
            hit = [ln for ln in section.splitlines()
                   if ln.startswith("| %s |" % ratio) and point in ln and "| requests/s |" in ln]
            t.ok(len(hit) == 1 and ("| %s |" % want) in hit[0],
                 "%s %s requests/s: %s, from runs.csv's medians" % (ratio, point, want), hit)
        r = script("report", FIXTURE, "--out", os.path.join(out, "old"))
        old = open(os.path.join(out, "old", "summary.md")).read()
        t.ok(r.returncode == 0 and "## Peers" not in old,
             "the main fixture (no loader column, no external server) has no Peers section")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    t = Tap()
    made_up(t)
    fixture(t)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
