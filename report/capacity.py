"""capacity.py - the report of a capacity search (a config with `capacity:`): capacity.csv as a
table and a bar plot per objective (each bar the capacity, its whisker the bracket: the highest
passing and the lowest failing rate), and the probes of runs.csv as latency against offered rate
(the hockey stick), the objectives drawn across it.

A capacity is one search, not a median of repeats: its uncertainty is the bracket the search
left (its resolution), shown as the whisker; a second search is a second run of the config.
"""

import csv
import os

from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

import plots as P
import results as R

TEXT = {"server", "model", "proto", "conn_mode", "loader", "objective", "ended_by", "fail_reason"}


def read(run_dir):
    """capacity.csv as a list of dicts (numbers as floats, empty cells None); [] when absent."""
    path = os.path.join(run_dir, "capacity.csv")
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [{k: (v if k in TEXT else R.convert(k, v)) for k, v in raw.items() if k is not None}
                for raw in csv.DictReader(f)]


def probes(rows):
    """The rows of runs.csv that are a capacity search's probes."""
    return [r for r in rows if r.get("probe")]


def objectives(cap):
    """[(name, p99 limit in µs)] in capacity.csv's order."""
    seen = {}
    for c in cap:
        seen.setdefault(c["objective"], c.get("p99_max_us"))
    return list(seen.items())


def flags(c):
    marks = []
    if c.get("loadgen_limited"):
        marks.append("L")
    if c.get("errors_from_model"):
        marks.append("M")
    return " " + "".join(marks) if marks else ""


def cell(c):
    """'12.3k/s [12.3k..12.9k]' (the bracket: highest passing, lowest failing rate), with its marks."""
    if c.get("capacity_rps") is None:
        return "no bound" + (" (%s)" % c["fail_reason"] if c.get("fail_reason") else "")
    fail = c.get("fail_rps")
    return "%s [%s..%s]%s" % (P.three(c["capacity_rps"]), P.three(c.get("pass_rps") or 0),
                              P.three(fail) if fail is not None else "not found", flags(c))


def table(cap, order):
    """(header, body): a line per server, a column per (objective, connections)."""
    points = sorted({c.get("connections") for c in cap}, key=lambda v: v or 0)
    cols = [(o, n) for o, _ in objectives(cap) for n in points]
    servers = R.servers_in_order(cap, order)
    body = []
    for s in servers:
        line = [s]
        for o, n in cols:
            found = [c for c in cap if c["server"] == s and c["objective"] == o and c.get("connections") == n]
            line.append(cell(found[0]) if found else "")
        body.append(line)
    return ["server"] + ["%s, %s conns" % (o, R.fmt_axis(n)) for o, n in cols], body


def plot_capacity(cap, objective, styles, order, path):
    """Bars: the capacity of each server at each connection count for one objective; whiskers
    the bracket. Hatched: the load generator limited the search (a capacity at least this)."""
    mine = [c for c in cap if c["objective"] == objective]
    if not mine:
        return None
    points = sorted({c.get("connections") for c in mine}, key=lambda v: v or 0)
    servers = R.servers_in_order(mine, order)
    fig, (ax,) = P.new_figure()
    width = 0.8 / max(1, len(points))
    tops = []
    for j, n in enumerate(points):
        for i, s in enumerate(servers):
            found = [c for c in mine if c["server"] == s and c.get("connections") == n]
            if not found:
                continue
            c = found[0]
            x = i - 0.4 + width * (j + 0.5)
            value = c.get("capacity_rps") or 0
            st = styles.get(s, {"color": "grey"})
            ax.bar(x, value, width * 0.9, color=st["color"], alpha=1.0 if j == len(points) - 1 else 0.55,
                   hatch="//" if c.get("loadgen_limited") else None, edgecolor="black", linewidth=0.4)
            lo, hi = c.get("pass_rps") or 0, c.get("fail_rps")
            if hi is not None:
                ax.errorbar([x], [value], yerr=[[value - lo], [hi - value]], fmt="none", ecolor="black",
                            capsize=3, linewidth=1)
                tops.append(hi)
            tops.append(value)
    ax.set_xticks(range(len(servers)))
    ax.set_xticklabels(servers, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("capacity (requests/s)")
    ax.set_ylim(0, max(tops or [1]) * 1.08)
    ax.yaxis.set_major_formatter(FuncFormatter(P.tick))
    ax.grid(True, axis="y", alpha=0.3)
    limit = mine[0].get("p99_max_us")
    ax.set_title("Capacity at %s (p99 <= %s µs, no errors)" % (objective, P.three(limit or 0)))
    handles = [Patch(facecolor="grey", alpha=0.55 if j < len(points) - 1 else 1.0, edgecolor="black",
                     label="%s connections" % R.fmt_axis(n)) for j, n in enumerate(points)]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="load generator\nlimited it"))
    handles.append(Line2D([], [], color="black", marker="|", linestyle="none", markersize=10,
                          label="bracket: highest\npassing, lowest\nfailing rate"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    P.save(fig, path)
    return ("The highest open-loop rate each server sustained with a corrected p99 within %s µs, at least 99 %% "
            "of the rate achieved and no errors (objective %s): a bar per server and connection count, the "
            "whisker the bracket the search ended with (highest passing, lowest failing rate); one search "
            "each, so the bracket is its uncertainty; hatched where the load generator limited the search."
            % (P.three(limit or 0), objective))


def plot_hockey(probe_rows, cap, connections, styles, order, path):
    """Corrected p99 against offered rate over every open-loop probe at one connection count, a
    line per server, each objective a dashed horizontal line."""
    rows = [r for r in probe_rows if r.get("connections") == connections and (R.num(r, "rate_rps") or 0) > 0
            and R.usable(r) and R.latency(r, "latency_p99_us")]
    if not rows:
        return None
    fig, (ax,) = P.new_figure()
    handles, lg = {}, False
    for s in R.servers_in_order(rows, order):
        mine = sorted((r for r in rows if r["server"] == s), key=lambda r: r["rate_rps"])
        st = styles.get(s, {"color": "grey", "marker": "o", "linestyle": "-"})
        xs, ys = [r["rate_rps"] for r in mine], [R.latency(r, "latency_p99_us") for r in mine]
        ax.plot(xs, ys, color=st["color"], linestyle=st["linestyle"], linewidth=1, alpha=0.8)
        for r, x, y in zip(mine, xs, ys):
            hollow = R.loadgen_bound(r)
            lg |= hollow
            ax.plot([x], [y], color=st["color"], marker=st["marker"], linestyle="none", markersize=5,
                    markerfacecolor="white" if hollow else st["color"])
        handles[s] = Line2D([], [], color=st["color"], marker=st["marker"], linestyle=st["linestyle"], label=s)
    for name, limit in objectives(cap):
        if limit:
            ax.axhline(limit, color="black", linestyle="--", linewidth=0.8)
            ax.annotate("objective %s" % name, (ax.get_xlim()[0], limit), fontsize=7, va="bottom",
                        xytext=(3, 1), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(P.tick))
    ax.yaxis.set_major_formatter(FuncFormatter(P.tick))
    ax.set_xlabel("offered rate (requests/s, open loop)")
    ax.set_ylabel("corrected p99 latency (µs)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("p99 against offered rate, %s connections" % R.fmt_axis(connections))
    P.legend(fig, ax, handles, lg)
    P.save(fig, path)
    return ("Every open-loop probe of the searches at %s connections: the corrected p99 (from the intended "
            "send time) against the offered rate, a line per server, log scales; the dashed lines are the "
            "objectives. Latency stays flat until the server nears its capacity, then climbs: the knee is "
            "where the capacity lies. One window per probe, no repeats." % R.fmt_axis(connections))


def blocks(run_dir, rows, styles, order, out_dir):
    """The report's capacity section: [] when the run has no capacity.csv."""
    cap = read(run_dir)
    if not cap:
        return []
    out = [("h", 2, "Capacity"),
           ("p", "The highest open-loop rate each server sustains under each objective, found by a search "
                 "(configs/README.md, \"Capacity search\"): cells are capacity [highest passing..lowest failing "
                 "rate] in requests/s. Marks: L the load generator limited the search, M the errors were the "
                 "model's own (neither its CPU nor the load generator saturated). \"no bound\": the closed-loop "
                 "probe found no throughput to start from.")]
    out.append(("table",) + table(cap, order))
    for name, _ in objectives(cap):
        fname = "capacity-%s.png" % slug(name)
        caption = plot_capacity(cap, name, styles, order, os.path.join(out_dir, fname))
        if caption:
            out.append(("img", fname, caption))
    for n in sorted({c.get("connections") for c in cap}, key=lambda v: v or 0):
        fname = "latency-vs-rate-connections%s.png" % R.fmt_axis(n)
        caption = plot_hockey(probes(rows), cap, n, styles, order, os.path.join(out_dir, fname))
        if caption:
            out.append(("img", fname, caption))
    return out


def slug(text):
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
