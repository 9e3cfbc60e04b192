#!/usr/bin/python3
"""compare.py - two runs side by side: the points both measured, with ratios B/A of the medians and
whether their 95 % bootstrap interval excludes 1.

    compare.py results/quick-A results/quick-B        -> report/compare-<A>-vs-<B>/

The interval of a ratio resamples the repeats of A and of B independently (bootstrap.py). With a
single repeat on either side there is no interval, and the table says so.
"""

import argparse
import os
import sys

import bootstrap
import page
import plots
import results as R
from style import MODEL_ORDER, server_styles

# (title, per-row metric, unit, higher is better)
METRICS = [
    ("throughput", lambda r: R.num(r, "throughput_rps"), "requests/s", True),
    ("p50 latency", lambda r: R.latency(r, "latency_p50_us"), "µs", False),
    ("p99 latency", lambda r: R.latency(r, "latency_p99_us"), "µs", False),
    ("server CPU per request", R.cpu_us_per_request, "µs", False),
    ("memory", R.memory_kb, "kB", False),
]


def difference(num, den):
    """num / den of two Estimates with whether its interval excludes 1: (ratio Estimate or None,
    'yes', 'no' or 'n/a (...)')."""
    r = bootstrap.ratio(num, den)
    return r, bootstrap.excludes(r, 1.0)


def describe(e):
    """'12.3k [11.9k..12.8k]': a median and its interval (the median alone with one repeat)."""
    return bootstrap.text(e, plots.three, note=False)


def interval_of(r):
    """A ratio's interval as '0.95..1.05', '' without one."""
    return "%.2f..%.2f" % (r.lo, r.hi) if r is not None and r.has_interval() else ""


def point_label(key):
    """A point key as words: 'epoll-et c=100 idle=0 ...' (only axes away from the defaults)."""
    server, proto = key[0], key[1]
    parts = [server, proto or ""]
    for axis, value in zip(R.AXES, key[2:]):
        if axis == "connections" or value not in (None, 0.0, 1.0, "keepalive", 64.0, "loadgen"):
            parts.append("%s=%s" % (axis, R.fmt_axis(value)))
    return " ".join(p for p in parts if p)


def compare(rows_a, rows_b):
    """Rows of the comparison table for every point in both runs, and the points in one only."""
    ga, gb = R.group_points(rows_a), R.group_points(rows_b)
    common = [k for k in ga if k in gb]
    table = []
    for key in common:
        for name, metric, unit, higher in METRICS:
            a, b = R.summarize(ga[key], metric), R.summarize(gb[key], metric)
            if a is None and b is None:
                continue
            r, v = difference(b, a)
            ratio = r.value if r is not None else None
            better = ""
            if v == "yes" and ratio is not None:
                better = "B better" if (ratio > 1) == higher else "B worse"
            table.append([point_label(key), "%s (%s)" % (name, unit), describe(a), describe(b), ratio,
                          interval_of(r), v, better])
    only_a = [point_label(k) for k in ga if k not in gb]
    only_b = [point_label(k) for k in gb if k not in ga]
    return common, table, only_a, only_b


MAX_PANELS = 4  # slices drawn side by side; more are left to the table


def plot_ratio(rows_a, rows_b, common, path):
    """Throughput B/A per server against the x axis of run A, one panel per slice of the other
    axes (so idle=0 and idle=500 are never joined by a line); 1 is no change."""
    ga, gb = R.group_points(rows_a), R.group_points(rows_b)
    both = [r for k in common for r in ga[k] + gb[k]]
    if not both:
        return None
    rows_common = [ga[k][0] for k in common]
    x_axis = R.sweep_axis(rows_common)
    parts = R.slices(rows_common, x_axis)[:MAX_PANELS]
    styles = server_styles(both)
    fig, axes = plots.new_figure(ncols=len(parts), figsize=(4.2 * len(parts) + 3, 5.2))
    handles = {}
    for ax, (where, first_rows) in zip(axes, parts):
        keys = [R.point_key(r) for r in first_rows]
        xs, scale = plots.x_values(first_rows, x_axis), plots.x_scale(first_rows, x_axis)
        servers = R.servers_in_order(both, MODEL_ORDER)
        for index, server in enumerate(servers):
            pts = []
            for key in keys:
                if key[0] != server:
                    continue
                a = R.summarize(ga[key], lambda r: R.num(r, "throughput_rps"))
                b = R.summarize(gb[key], lambda r: R.num(r, "throughput_rps"))
                x = ga[key][0].get(x_axis)
                r, v = difference(b, a)
                if r is not None and r.value is not None and isinstance(x, float):
                    pts.append((plots.dodge(x, index, len(servers), scale, xs), r, v == "yes"))
            if not pts:
                continue
            pts.sort(key=lambda p: p[0])
            st = styles[server]
            ax.errorbar([p[0] for p in pts], [p[1].value for p in pts], yerr=plots.error_bars([p[1] for p in pts]),
                        color=st["color"], linestyle=st["linestyle"], capsize=3)
            for x, r, apart in pts:
                ax.plot([x], [r.value], marker=st["marker"], color=st["color"], markersize=7, linestyle="none",
                        markerfacecolor=st["color"] if apart else "white")
            handles[server] = plots.Line2D([], [], color=st["color"], marker=st["marker"],
                                           linestyle=st["linestyle"], label=server)
        plots.setup_x(ax, first_rows, x_axis)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        # Three digits: the ticks of a ratio near 1 are 1.05 apart, not 1.1 (which tick() would print).
        ax.yaxis.set_major_formatter(plots.FuncFormatter(lambda v, _pos: plots.three(v)))
        ax.yaxis.set_minor_formatter(plots.FuncFormatter(lambda v, _pos: plots.three(v)))
        ax.grid(True, which="both", alpha=0.3)
        ax.set_title(plots.title("Throughput B / A", where))
    if not handles:
        return None
    low = min(ax.get_ylim()[0] for ax in axes)
    high = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(low, high)
    axes[0].set_ylabel("throughput B / A (log; above 1: B faster)")
    handles["_note"] = plots.Line2D([], [], color="black", marker="o", markerfacecolor="white",
                                    linestyle="none", label="hollow: the interval\nholds 1")
    plots.legend(fig, axes[-1], handles, False)
    plots.save(fig, path)
    return ("Throughput of run B divided by run A at each point both measured (ratio of the medians, bars "
            "its 95 % bootstrap interval); a filled marker is a ratio whose interval excludes 1.")


def build(dir_a, dir_b, out_dir):
    rows_a, rows_b = R.read_runs(dir_a), R.read_runs(dir_b)
    name_a, name_b = R.run_name(dir_a), R.run_name(dir_b)
    os.makedirs(out_dir, exist_ok=True)
    common, table, only_a, only_b = compare(rows_a, rows_b)
    blocks = [("p", "A = %s (%d rows), B = %s (%d rows); %d points in both." % (
        name_a, len(rows_a), name_b, len(rows_b), len(common))),
        ("p", "Cells: median [lo..hi] over the repeats, the 95 % bootstrap interval of the median. B/A is "
              "the ratio of the medians, its interval resamples A and B independently; 'interval excludes "
              "1' is yes when the whole interval lies above 1 or below it."),
        ("p", bootstrap.method_text())]
    caption = plot_ratio(rows_a, rows_b, common, os.path.join(out_dir, "throughput-ratio.png"))
    if caption:
        blocks.append(("img", "throughput-ratio.png", caption))
    blocks.append(("h", 2, "Points in both runs"))
    blocks.append(("table", ["point", "metric", "A", "B", "B/A", "B/A 95 % interval", "interval excludes 1", ""],
                   table))
    if only_a or only_b:
        blocks.append(("h", 2, "Points in one run only"))
        blocks.append(("table", ["run", "point"], [["A", p] for p in only_a] + [["B", p] for p in only_b]))
    title = "Compare: %s vs %s" % (name_a, name_b)
    page.write(os.path.join(out_dir, "index.html"), page.to_html(title, blocks))
    page.write(os.path.join(out_dir, "compare.md"), page.to_markdown(title, blocks))
    return table


def main(argv):
    ap = argparse.ArgumentParser(description="Compare two results folders point by point (ratios B/A, and "
                                             "whether each ratio's 95 % bootstrap interval excludes 1).")
    ap.add_argument("a", help="results folder A (the baseline)")
    ap.add_argument("b", help="results folder B")
    ap.add_argument("--out", help="output folder (default: report/compare-<A>-vs-<B> beside this script)")
    args = ap.parse_args(argv)
    for d in (args.a, args.b):
        if not os.path.exists(os.path.join(d, "runs.csv")):
            print("compare: %s has no runs.csv (is it a results folder?)" % d, file=sys.stderr)
            return 2
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare-%s-vs-%s" % (
        R.run_name(args.a), R.run_name(args.b)))
    table = build(args.a, args.b, out)
    apart = sum(1 for row in table if row[6] == "yes")
    print("compare: %s/index.html (%d comparisons, %d whose interval excludes 1)" % (out, len(table), apart))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
