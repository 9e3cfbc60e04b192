#!/usr/bin/python3
"""report.py - turn one results folder into report/<run>/index.html, summary.md and PNG plots.

    report.py results/latest                  -> report/<run name>/
    report.py results/10k-20260101-120000 --out /tmp/r

The x axis of the plots is the matrix axis the run sweeps (connections when it varies); every other
axis that varies splits the plots into slices, one set per combination ("idle=1000").
"""

import argparse
import os
import re
import sys
import time

import bootstrap
import capacity
import languages
import page
import peers
import plots
import repeats
import results as R
from style import MODEL_ORDER, server_styles

MAX_SLICES = 12  # a matrix with more combinations gets its first 12; the tables still list every run


def slug(text):
    """A file-name-safe form of a slice label: 'idle=1000 size=64' -> 'idle1000-size64'."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", text.replace("=", "")).strip("-")


def representative(rows):
    """Of the repeats of one point, the usable one with the median throughput (None if none)."""
    ok = sorted((r for r in rows if R.usable(r)), key=lambda r: R.num(r, "throughput_rps") or 0)
    return ok[len(ok) // 2] if ok else None


def chosen_points(rows, x_axis):
    """x values whose spectrum and timeseries are drawn: the smallest and the largest."""
    xs = plots.x_values(rows, x_axis)
    return xs if len(xs) <= 2 else [xs[0], xs[-1]]


def flag(rows):
    """Marks after a table cell: L loadgen saturated, R refused, E errors, F failed (any repeat)."""
    marks = ""
    if any(R.loadgen_bound(r) for r in rows):
        marks += "L"
    for status, mark in (("refused", "R"), ("errors", "E"), ("failed", "F")):
        if any(r.get("status") == status for r in rows):
            marks += mark
    return (" " + marks) if marks else ""


def interval_cell(e, fmt=plots.three):
    """A summary table cell: 'median [lo..hi]' (the 95 % bootstrap interval), the median alone with
    one repeat."""
    return bootstrap.text(e, fmt, note=False)


def pivot(rows, x_axis, metric, order, text=None):
    """A servers x (x values) table of the median of metric with its interval, and flags;
    text(estimate, rows), when given, writes a cell instead of interval_cell()."""
    xs = plots.x_values(rows, x_axis)
    header = ["server"] + ["%s=%s" % (x_axis, R.fmt_axis(x)) for x in xs]
    body = []
    for server in R.servers_in_order(rows, order):
        line = [server]
        for x in xs:
            at = [r for r in rows if r["server"] == server and r.get(x_axis) == x]
            s = R.summarize(at, metric)
            if not at:
                line.append("")
            elif all(r.get("status") == "failed" for r in at):
                line.append("failed")
            else:
                cell = (text(s, at) if text else interval_cell(s)) if s else "n/a"
                line.append(cell + flag(at))
        body.append(line)
    return header, body


def fairness(r):
    """'0.25 (24 starved)': Jain's index of the answers per client and the clients with none; None
    for a row whose load generator did not count them (wrk, h2load, an older loadgen)."""
    jain, starved = R.num(r, "fairness_jain"), R.num(r, "conns_starved")
    if jain is None:
        return None
    return "%.2f" % jain + (" (%d starved)" % starved if starved else "")


def fairness_text(jain, rows):
    """A fairness pivot cell: the median Jain index with its interval, and the most clients any
    repeat starved."""
    starved = max(R.num(r, "conns_starved") or 0 for r in rows)
    return interval_cell(jain, lambda v: "%.2f" % v) + (" (%d starved)" % starved if starved else "")


def run_table(rows, order):
    """Every run with its parameters (the axes that vary), main figures and status."""
    axes = [a for a in R.AXES if a in R.varying_axes(rows) or a == "connections"]
    probe = ["probe"] if any(r.get("probe") for r in rows) else []  # a capacity search's objective
    header = ["server"] + axes + probe + ["repeat", "throughput_rps", "p50_us", "p99_us", "errors",
                                  "fairness", "cpu_cores", "mem_MB", "threads", "procs", "bottleneck",
                                  "status", "status_reason"]
    body, classes = [], []
    rank = {s: i for i, s in enumerate(R.servers_in_order(rows, order))}
    for r in sorted(rows, key=lambda r: (rank[r["server"]],) + R.slice_sort_key(r, axes) + (r.get("repeat") or 0,)):
        mem = R.memory_kb(r)
        body.append([r["server"]] + [R.fmt_axis(r.get(a)) for a in axes] + [r.get("probe") or ""] * len(probe) + [
            r.get("repeat"), R.num(r, "throughput_rps"), R.latency(r, "latency_p50_us"),
            R.latency(r, "latency_p99_us"), R.num(r, "errors_total"), fairness(r) or "",
            R.num(r, "server_cpu_cores"),
            mem / 1024 if mem is not None else None, R.num(r, "server_threads_peak"),
            R.num(r, "server_processes_peak"), r.get("bottleneck") or "", r.get("status") or "",
            r.get("status_reason") or ""])
        classes.append(r.get("status") if r.get("status") in ("failed", "refused", "errors") else "")
    return header, body, classes


def meta_lines(meta, rows):
    """What was measured where, from meta.json, in a few lines."""
    cfg = meta.get("config", {})
    host = meta.get("host", {})
    git = meta.get("git", {})
    lines = []
    if cfg.get("description"):
        lines.append("Experiment: %s" % cfg["description"])
    lines.append("Config: %s; started %s; wall time %s s; %d runs (%s)." % (
        cfg.get("file", "?"), meta.get("started", "?"), meta.get("wall_s", "?"), len(rows),
        ", ".join("%s %d" % (s, n) for s, n in status_counts(rows))))
    if host:
        lines.append("Host: %s, %s CPUs, %s; load average at start %s." % (
            host.get("cpu_model", "?"), host.get("cpus_online", "?"), host.get("kernel", "?"),
            " ".join(str(x) for x in host.get("loadavg_start", [])) or "?"))
    load = host.get("loadavg_start") or [0]
    cpus = host.get("cpus_online") or 1
    if load[0] > cpus:
        lines.append("Warning: the machine was busy when this run started (load average %.1f on %s CPUs): "
                     "other work competed for the CPUs, so the numbers are noisy." % (load[0], cpus))
    pin = meta.get("pinning", {})
    if pin:
        lines.append("Server pinned to CPU %s, load generator to CPU %s; accounting by %s." % (
            pin.get("server_cpus", "?"), pin.get("loadgen_cpus", "?"),
            meta.get("accounting", {}).get("backend", "?")))
    if git:
        lines.append("Git revision %s%s." % (git.get("revision", "?"), " (dirty tree)" if git.get("dirty") else ""))
    return lines


def status_counts(rows):
    counts = {}
    for r in rows:
        counts[r.get("status") or "empty"] = counts.get(r.get("status") or "empty", 0) + 1
    return sorted(counts.items())


def run_length(rows, warmup):
    """Seconds the load generator ran: warmup + duration (None when unknown)."""
    durations = {R.num(r, "duration_s") for r in rows} - {None}
    if len(durations) != 1 or warmup is None:
        return None
    return warmup + durations.pop()


def slice_plots(run_dir, rows, x_axis, where, styles, out_dir, series, warmup):
    """Every plot of one slice; returns document blocks (images with captions)."""
    sfx = "-" + slug(where) if where else ""
    blocks = []
    per_slice = [
        ("throughput", plots.plot_throughput),
        ("latency", plots.plot_latency),
        ("cpu-per-request", plots.plot_cpu_per_request),
        ("memory-per-connection", plots.plot_memory_per_connection),
        ("threads-processes", plots.plot_threads_processes),
        ("ctxsw-per-request", plots.plot_ctxsw_per_request),
    ]
    for stem, fn in per_slice:
        name = "%s%s.png" % (stem, sfx)
        caption = fn(rows, x_axis, where, styles, MODEL_ORDER, os.path.join(out_dir, name))
        if caption:
            blocks.append(("img", name, caption))
    name = "connections%s.png" % sfx
    caption = plots.plot_connection_outcome(rows, where, styles, MODEL_ORDER, os.path.join(out_dir, name))
    if caption:
        blocks.append(("img", name, caption))
    for x in chosen_points(rows, x_axis):
        at = [r for r in rows if r.get(x_axis) == x]
        label = " ".join(p for p in (where, "%s=%s" % (x_axis, R.fmt_axis(x))) if p)
        reps = {s: representative([r for r in at if r["server"] == s]) for s in {r["server"] for r in at}}
        reps = {s: r for s, r in reps.items() if r is not None}
        spectra = {}
        for s, r in reps.items():
            path = R.hgrm_path(run_dir, r)
            if os.path.exists(path):
                spectra[s] = R.read_hgrm(path)
        name = "spectrum-%s.png" % slug(label)
        caption = plots.plot_spectrum(spectra, label, styles, MODEL_ORDER, os.path.join(out_dir, name))
        if caption:
            blocks.append(("img", name, caption))
        name = "timeseries-%s.png" % slug(label)
        caption = plots.plot_timeseries({s: series.get(r["run"], []) for s, r in reps.items()}, label,
                                        styles, MODEL_ORDER, os.path.join(out_dir, name),
                                        warmup, run_length(at, warmup))
        if caption:
            blocks.append(("img", name, caption))
    return blocks


def build(run_dir, out_dir):
    """Write the report of run_dir into out_dir; returns the list of files written."""
    every = R.read_runs(run_dir)
    if not every:
        raise ValueError("%s/runs.csv has no rows" % run_dir)
    # A capacity search's probes are windows at rates it chose, one each: they go to the capacity
    # section (capacity.py) and the table of every run, not to the medians over repeats.
    rows = [r for r in every if not r.get("probe")]
    meta = R.read_meta(run_dir)
    series = R.read_timeseries(run_dir)
    os.makedirs(out_dir, exist_ok=True)
    styles = server_styles(every)
    x_axis = R.sweep_axis(rows) if rows else None
    name = R.run_name(run_dir)
    all_slices = R.slices(rows, x_axis) if rows else []
    warmup = meta.get("config", {}).get("defaults", {}).get("warmup_s")

    blocks = [("p", line) for line in meta_lines(meta, every)]
    blocks.append(("p", "Plots: the line joins the median of the repeats, error bars are its 95 % "
                        "bootstrap interval; a hollow marker means the load generator was saturated at "
                        "that point, so the server was not measured at its own limit. Failed runs are "
                        "left out of the plots and listed in the table at the end. Measured on a shared "
                        "2-core machine: treat a difference as noise unless the intervals are apart."))
    blocks.append(("p", bootstrap.method_text()))
    if repeats.summary(meta):
        blocks.append(("p", repeats.summary(meta)))
    if len(all_slices) > MAX_SLICES:
        blocks.append(("p", "This run has %d slices; plots are drawn for the first %d only."
                            % (len(all_slices), MAX_SLICES)))
    summary = [("h", 2, "Summary")] if rows else []
    summary += [] if not rows else [("p", "Median throughput (requests/s) and p99 latency (µs) over the repeats, "
                         "[lo..hi] its 95 % bootstrap interval where there are two repeats or more. "
                         "Marks: L load generator saturated, R server refused connections, "
                         "E loadgen errors, F failed (in at least one repeat). Fairness: Jain's index of "
                         "the answers each client got in the measured window (1: all alike; k/n: k of n "
                         "clients served), and the clients that got none.")]
    figures = []
    for where, srows in all_slices[:MAX_SLICES]:
        head = "Slice: %s" % where if where else "Plots"
        summary.append(("h", 3, "Throughput (requests/s)%s" % (", " + where if where else "")))
        summary.append(("table",) + pivot(srows, x_axis, lambda r: R.num(r, "throughput_rps"), MODEL_ORDER))
        summary.append(("h", 3, "p99 latency (µs)%s" % (", " + where if where else "")))
        summary.append(("table",) + pivot(srows, x_axis, lambda r: R.latency(r, "latency_p99_us"), MODEL_ORDER))
        if any(R.num(r, "fairness_jain") is not None for r in srows):
            summary.append(("h", 3, "Fairness across clients%s" % (", " + where if where else "")))
            summary.append(("table",) + pivot(srows, x_axis, lambda r: R.num(r, "fairness_jain"), MODEL_ORDER,
                                              text=fairness_text))
        figures.append(("h", 2, head))
        figures += slice_plots(run_dir, srows, x_axis, where, styles, out_dir, series, warmup)
    figures = capacity.blocks(run_dir, every, styles, MODEL_ORDER, out_dir) + figures
    figures = languages.blocks(rows, out_dir, x_axis) + figures
    header, body, classes = run_table(every, MODEL_ORDER)
    table = [("h", 2, "Every run"), ("table", header, body, classes)]
    if repeats.table(meta):
        table = [("h", 2, "Repeats"), ("p", "How many times each server and point ran, why it stopped, and "
                                            "the half-width of its 95 % interval, as a share of the median, "
                                            "when it stopped (the runner's decision; meta.json)."),
                 ("table",) + repeats.table(meta)] + table

    peer = peers.blocks(rows, meta)  # empty unless the run has wrk/h2load rows or an external server
    title = "Report: %s" % name
    html_blocks = blocks + [("toc",)] + peer + summary + figures + table
    page.write(os.path.join(out_dir, "index.html"), page.to_html(title, html_blocks))
    md_blocks = blocks + peer + summary + figures + table
    page.write(os.path.join(out_dir, "summary.md"), page.to_markdown(title, md_blocks))
    return ["index.html", "summary.md"] + [b[1] for b in figures if b[0] == "img"]


def main(argv):
    ap = argparse.ArgumentParser(description="Write an HTML + Markdown report with PNG plots for one "
                                             "results folder of bin/bench.")
    ap.add_argument("run", help="results folder (e.g. results/latest)")
    ap.add_argument("--out", help="output folder (default: report/<run name> beside this script)")
    args = ap.parse_args(argv)
    if not os.path.exists(os.path.join(args.run, "runs.csv")):
        print("report: %s has no runs.csv (is it a results folder?)" % args.run, file=sys.stderr)
        return 2
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), R.run_name(args.run))
    start = time.monotonic()
    try:
        files = build(args.run, out)
    except ValueError as e:
        print("report: %s" % e, file=sys.stderr)
        return 1
    print("report: %s/index.html (%d plots, %.1f s)" % (out, len(files) - 2, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
