"""results.py - read one results folder (docs/DESIGN.md "Results") into plain Python values.

Rows are dicts keyed by the runs.csv column names. Numbers become floats, an empty cell (the
contract's "not measured") becomes None, and the text columns stay strings. Everything else in the
report works on lists of such rows; nothing here draws or writes.
"""

import csv
import json
import math
import os
import re

import bootstrap

# Columns that hold words, not numbers; every other runs.csv column is numeric or empty.
TEXT_COLUMNS = {
    "run", "server", "model", "proto", "conn_mode", "loader", "srv_refused_reason", "loadgen",
    "bottleneck", "status", "status_reason", "probe",
}

# The matrix axes, in the order the runner prints them. A "point" is a server at one value of each.
AXES = ["connections", "idle", "size", "rate_rps", "pipeline", "conn_mode", "work_us", "loader"]

# Human names and units of the axes, for labels.
AXIS_LABELS = {
    "connections": "active connections",
    "idle": "idle connections",
    "size": "message size (bytes)",
    "rate_rps": "offered rate (requests/s, 0 = closed loop)",
    "pipeline": "pipeline depth",
    "conn_mode": "connection mode",
    "work_us": "CPU work per request (µs)",
    "loader": "load generator",
}

# Columns the report cannot do without; anything else missing is tolerated (older runs).
REQUIRED = ["server", "model", "repeat", "proto", "connections", "throughput_rps", "status"]


def convert(column, text):
    """One runs.csv cell as a float, None when empty, or the text for a text column."""
    if column in TEXT_COLUMNS:
        return text
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def read_runs(run_dir):
    """runs.csv of run_dir as a list of dicts; raises ValueError naming a missing column."""
    path = os.path.join(run_dir, "runs.csv")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError("%s: missing column(s) %s" % (path, ", ".join(missing)))
        rows = []
        for raw in reader:
            row = {k: convert(k, v) for k, v in raw.items() if k is not None}
            for axis in AXES:  # absent axes behave as their defaults, so grouping still works
                row.setdefault(axis, None)
            if row.get("conn_mode") in (None, ""):
                row["conn_mode"] = "keepalive"
            if row.get("loader") in (None, ""):  # runs before the loader column: our loadgen
                row["loader"] = "loadgen"
            rows.append(row)
    return rows


def read_timeseries(run_dir):
    """timeseries.csv as {run key: [(t_s, throughput_rps), ...]}; empty when the file is absent."""
    path = os.path.join(run_dir, "timeseries.csv")
    series = {}
    if not os.path.exists(path):
        return series
    with open(path, newline="") as f:
        for raw in csv.DictReader(f):
            t = convert("t_s", raw.get("t_s"))
            rps = convert("throughput_rps", raw.get("throughput_rps"))
            if t is None or rps is None:
                continue
            series.setdefault(raw["run"], []).append((t, rps))
    for points in series.values():
        points.sort()
    return series


def read_hgrm(path):
    """An HdrHistogram percentile text file as [(value_us, percentile 0..1), ...].

    The final 100 % line has no 1/(1-p) and cannot be drawn on that axis; it is dropped.
    """
    points = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or line.lstrip().startswith("#"):
                continue
            try:
                value, pct = float(parts[0]), float(parts[1])
            except ValueError:
                continue  # the header line
            if pct < 1.0:
                points.append((value, pct))
    return points


def hgrm_path(run_dir, row):
    """The histogram file of a row: hist/<run key>.hgrm (the runs.csv 'run' column is the key)."""
    return os.path.join(run_dir, "hist", "%s.hgrm" % row["run"])


def read_meta(run_dir):
    """meta.json as a dict; {} when absent or unreadable (a report still works without it)."""
    try:
        with open(os.path.join(run_dir, "meta.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def run_name(run_dir):
    """The folder name of a run, following results/latest to the real folder."""
    return os.path.basename(os.path.realpath(run_dir.rstrip("/")))


# --- derived per-row metrics: each takes a row and returns a number or None -------------------------

def num(row, column):
    """A numeric cell, None when empty or absent."""
    value = row.get(column)
    return value if isinstance(value, float) else None


def usable(row):
    """A row with a measurement: the runner did not report it failed."""
    return row.get("status") in ("ok", "errors", "refused")


def loadgen_bound(row):
    return row.get("bottleneck") == "loadgen"


def open_connections(row):
    """Connections the load generator asked the server to hold: active plus idle."""
    return (num(row, "connections") or 0) + (num(row, "idle") or 0)


def latency(row, column):
    """A latency column, None when no request was answered (the loadgen then writes zeros)."""
    if not num(row, "requests"):
        return None
    return num(row, column)


def other_cpu(row):
    """CPU that other processes took from the server's CPUs during the run, in cores: the runner
    notes it in status_reason ("other processes used 0.42 CPU of the server's CPUs") from 0.1 up;
    0 when it wrote no such note."""
    m = re.search(r"other processes used ([0-9.]+) CPU", row.get("status_reason") or "")
    return float(m.group(1)) if m else 0.0


def server_cpu_s(row):
    user, sys_ = num(row, "server_cpu_user_s"), num(row, "server_cpu_sys_s")
    if user is None or sys_ is None:
        return None
    return user + sys_


def cpu_us_per_request(row):
    """Server CPU (user + sys, whole process tree) per request answered in the measured window."""
    cpu, requests = server_cpu_s(row), num(row, "requests")
    if cpu is None or not requests:
        return None
    return cpu * 1e6 / requests


def memory_kb(row):
    """Peak memory of the server's process tree: the cgroup's count when measured, else summed RSS."""
    value = num(row, "server_mem_peak_kb")
    return value if value is not None else num(row, "server_rss_peak_kb")


def memory_source(rows):
    """Which memory column memory_kb() read for these rows, in words for a label."""
    if rows and all(num(r, "server_mem_peak_kb") is not None for r in rows):
        return "cgroup memory peak"
    return "summed RSS peak"


def ctxsw_per_request(row):
    """Voluntary + involuntary context switches of the server tree per request it answered."""
    vol, invol = num(row, "server_ctxsw_voluntary"), num(row, "server_ctxsw_involuntary")
    requests = num(row, "srv_requests") or num(row, "requests")
    if vol is None or invol is None or not requests:
        return None
    return (vol + invol) / requests


def refused_connections(row):
    return num(row, "srv_refused") or 0.0


def served_connections(row):
    """Connections the server held at once (its own peak), capped at what was offered."""
    offered = open_connections(row)
    peak = num(row, "srv_peak_conns")
    if peak is None:
        accepted = num(row, "srv_accepted")
        if accepted is None:
            return None
        peak = accepted - refused_connections(row)
    return max(0.0, min(offered, peak))


# --- grouping and repeats ----------------------------------------------------------------------------

def point_key(row):
    """What identifies a measured point apart from its repeat."""
    return (row["server"], row.get("proto")) + tuple(row.get(a) for a in AXES)


def group_points(rows):
    """{point key: [rows of that point, in repeat order]}, insertion ordered."""
    groups = {}
    for row in rows:
        groups.setdefault(point_key(row), []).append(row)
    for members in groups.values():
        members.sort(key=lambda r: r.get("repeat") or 0)
    return groups


def estimate(values):
    """The median of the numbers in values that are not None, with its bootstrap interval
    (bootstrap.Estimate: value, lo, hi, repeats); None when there are none."""
    return bootstrap.of_median([v for v in values if v is not None and not math.isnan(v)])


def summarize(rows, metric):
    """estimate() of metric over the usable rows (the repeats of one point)."""
    return estimate([metric(r) for r in rows if usable(r)])


def memory_above(rows, base_rows, added):
    """(median memory of rows - median memory of base_rows) / added connections, both sides
    resampled: what each connection added above a base point costs, in kB; None when either side
    has no memory figure."""
    return bootstrap.combine(lambda at, base: (at - base) / added,
                             summarize(rows, memory_kb), summarize(base_rows, memory_kb))


def varying_axes(rows):
    """The matrix axes that take more than one value in rows, in AXES order."""
    return [a for a in AXES if len({r.get(a) for r in rows}) > 1]


def sweep_axis(rows):
    """The axis a run's plots put on x: connections when it varies, else the one with most values."""
    varying = varying_axes(rows)
    if not varying:
        return "connections"
    if "connections" in varying:
        return "connections"
    numeric = [a for a in varying if a not in ("conn_mode", "loader")] or varying
    return max(numeric, key=lambda a: len({r.get(a) for r in rows}))


def slices(rows, x_axis):
    """Split rows by every varying axis other than x_axis (and by proto): [(label, rows), ...].

    The label names the fixed values, e.g. "idle=1000 size=64"; it is "" when nothing else varies.
    """
    others = [a for a in varying_axes(rows) if a != x_axis]
    protos = sorted({r.get("proto") for r in rows if r.get("proto")})
    out = {}
    for row in rows:
        parts = ["%s=%s" % (a, fmt_axis(row.get(a))) for a in others]
        if len(protos) > 1:
            parts.insert(0, "proto=%s" % row.get("proto"))
        out.setdefault(" ".join(parts), []).append(row)
    return sorted(out.items(), key=lambda kv: slice_sort_key(kv[1][0], others))


def slice_sort_key(row, axes):
    return tuple((0, row.get(a)) if isinstance(row.get(a), float) else (1, str(row.get(a))) for a in axes)


def fmt_axis(value):
    """An axis value for labels: 1000.0 -> '1000', 'keepalive' stays."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def servers_in_order(rows, model_order):
    """Server names in a stable order: by model in model_order, then by name."""
    names = {}
    for row in rows:
        names.setdefault(row["server"], row.get("model") or row["server"])
    def key(name):
        model = names[name]
        rank = model_order.index(model) if model in model_order else len(model_order)
        return (rank, name)
    return sorted(names, key=key)
