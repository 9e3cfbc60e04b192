"""claim_plots.py - the plots of the claims page: each takes (claim, {experiment: rows}, path),
writes one PNG and returns its caption, or None when there is nothing to draw; bars() makes one
from a claim's declaration of its panels.

The threshold lines come from the claim's criteria (criteria.plot_lines()), never spelled here:
a plot names the metric and the point it shows, and draws every criterion on them.
"""

import re
import textwrap

import bootstrap
import criteria as K
import metrics as M
import plots
import results as R
from style import MODEL_ORDER, server_styles


def rows_for(claim, runs, run=None):
    """The rows of one of the claim's experiments (its first when run is None)."""
    return runs.get(run or K.run_names(claim)[0], [])


def criteria_rows(claim, runs, run):
    """The rows of one experiment that the claim's criteria read: those of the models they name."""
    run = run or K.run_names(claim)[0]
    models = K.needed([c for c in claim["criteria"] if (c["run"] or K.run_names(claim)[0]) == run])
    return [r for r in rows_for(claim, runs, run) if r.get("model") in models]


def model_of(server):
    """A server name's model: 'reuseport-w2' -> 'reuseport' (names follow the runner's model-wN)."""
    return re.sub(r"-w\d+$", "", server)


def bars_of(rows, metric, at=None):
    """[(server, Estimate, loadgen bound)] of a metric per server, in model order."""
    out = []
    for server in R.servers_in_order(rows, MODEL_ORDER):
        s = M.measure(rows, metric, server=server, at=at)
        mine = M.rows_of(rows, server=server, **(at or {}))
        if s:
            out.append((server, s, any(R.loadgen_bound(r) for r in mine if R.usable(r))))
    return out


def panel(claim, rows, title, ylabel, metric, at=None, log=False):
    """A bar panel of metric at a point, with the claim's thresholds on it."""
    lines = [(y, text) for y, text, _ in K.plot_lines(claim, metric, rows, at=at or {})]
    return (title, ylabel, bars_of(rows, metric, at), lines, log)


def plot_bars(panels, heading, path):
    """Bar panels: each (title, ylabel, [(server, Estimate, loadgen bound)], [(y, text)] thresholds,
    log y). Bars are medians, whiskers their 95 % bootstrap intervals; a hatched bar is loadgen-bound."""
    panels = [p for p in panels if p[2]]
    if not panels:
        return False
    fig, axes = plots.new_figure(ncols=len(panels), figsize=(5.2 * len(panels) + 1, 4.8))
    names = sorted({b[0] for p in panels for b in p[2]})
    styles = server_styles([{"server": n, "model": model_of(n)} for n in names])
    for ax, (ptitle, ylabel, bars, lines, logy) in zip(axes, panels):
        xs = range(len(bars))
        ax.bar(xs, [b[1].value for b in bars], color=[styles[b[0]]["color"] for b in bars],
               hatch=["//" if b[2] else "" for b in bars], edgecolor="black", linewidth=0.5,
               yerr=plots.error_bars([b[1] for b in bars]), capsize=4)
        for x, b in zip(xs, bars):  # the median written on its bar: small ones stay readable
            ax.annotate(M.fmt(b[1].value), (x, b[1].value), xytext=(4, 3), textcoords="offset points", fontsize=8)
        ax.set_xticks(list(xs), [b[0] for b in bars], rotation=20, ha="right")
        for y, text in lines:
            ax.axhline(y, color="black", linestyle=":", linewidth=1)
            ax.annotate(text, (1, y), xytext=(-2, 2), textcoords="offset points", xycoords=("axes fraction", "data"),
                        fontsize=8, ha="right", bbox=dict(facecolor="white", alpha=0.85, edgecolor="none", pad=1))
        if logy:
            ax.set_yscale("log")
        else:  # room above the tallest whisker and threshold for their labels
            ax.set_ylim(top=1.15 * max([b[1].hi for b in bars] + [y for y, _ in lines]))
        ax.yaxis.set_major_formatter(plots.FuncFormatter(plots.tick))
        ax.set_ylabel(ylabel)
        ax.set_title(ptitle, fontsize=11)
        ax.grid(True, axis="y", alpha=0.3)
    if any(b[2] for p in panels for b in p[2]):
        heading += "\n(hatched bar: the load generator was saturated in at least one repeat)"
    fig.suptitle(heading)
    plots.save(fig, path)
    return True


def plot_relative(claim, rows, metric, axis, base, title, ylabel, xlabel, path):
    """metric of each server relative to its own at base, against axis (ratio of the medians, bars its
    95 % bootstrap interval, both points resampled; hollow where the load generator was saturated),
    with the claim's thresholds at base. The base point itself is 1 exactly."""
    styles = server_styles(rows)
    fig, (ax,) = plots.new_figure()
    handles, lg = {}, False
    for server in R.servers_in_order(rows, MODEL_ORDER):
        mine = M.rows_of(rows, server=server)
        ref = M.measure(mine, metric, at=base)
        if not M.median(ref):
            continue
        pts = []
        for x in sorted({r.get(axis) for r in mine}):
            at = M.rows_of(mine, **{axis: x})
            s = bootstrap.exact(1.0) if {axis: x} == base else bootstrap.ratio(M.measure(mine, metric, at={axis: x}), ref)
            if s and s.value is not None:
                pts.append((x, s, any(R.loadgen_bound(r) for r in at if R.usable(r))))
        st = styles[server]
        ax.errorbar([p[0] for p in pts], [p[1].value for p in pts], yerr=plots.error_bars([p[1] for p in pts]),
                    color=st["color"], linestyle=st["linestyle"], capsize=3)
        for x, s, bound in pts:
            ax.plot([x], [s.value], marker=st["marker"], color=st["color"], markersize=7, linestyle="none",
                    markerfacecolor="white" if bound else st["color"])
            lg |= bound
        handles[server] = plots.Line2D([], [], color=st["color"], marker=st["marker"], label=server)
    if not handles:
        return False
    lines = K.plot_lines(claim, metric, rows, base=base)
    for i, (y, text, model) in enumerate(lines):
        colour = server_styles([{"server": model, "model": model}])[model]["color"]
        ax.axhline(y, color=colour, linestyle=":", linewidth=1)
        handles["_line%d" % i] = plots.Line2D([], [], color=colour, linestyle=":", label=textwrap.fill(text, 24))
    plots.setup_x(ax, rows, axis)
    ax.set_xlabel(xlabel)
    ax.set_ylim(0, max([ax.get_ylim()[1]] + [1.25 * y for y, _, _ in lines] + [1.25]))  # room above 1, the base
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    plots.legend(fig, ax, handles, lg)
    plots.save(fig, path)
    return True


# --- one plot per claim -------------------------------------------------------------------------------------

def connection_outcome(claim, runs, path):
    rows = rows_for(claim, runs)
    return plots.plot_connection_outcome(rows, "", server_styles(rows), MODEL_ORDER, path)


def idle_cost(claim, runs, path):
    rows = rows_for(claim, runs)
    if not plot_relative(claim, rows, "throughput", "idle", {"idle": 0},
                         "Throughput of 100 active clients as idle connections are added",
                         "throughput / the same server's at 0 idle", R.AXIS_LABELS["idle"], path):
        return None
    return ("Each server's throughput with 100 active clients, relative to its own at 0 idle "
            "connections (ratio of the medians of the repeats, bars its 95 % bootstrap interval); "
            "select stops at 900 idle.")


def wait_us(r):
    """The --wait-us a row's server was started with (from the run's config: server args), else 0."""
    args = r.get("_server_args") or []
    for i, a in enumerate(args[:-1]):
        if a == "--wait-us":
            return float(args[i + 1])
    return 0.0


def request_work_text(rows):
    """What each request of rows cost the server: '10 ms of waiting in a blocking call' or of CPU."""
    work = max((R.num(r, "work_us") or 0 for r in rows), default=0)
    wait = max((wait_us(r) for r in rows), default=0)
    parts = (["%s ms of CPU" % M.fmt(work / 1000)] if work else []) + \
            (["%s ms of waiting in a blocking call" % M.fmt(wait / 1000)] if wait else [])
    return " + ".join(parts) or "no modelled work"


def iterative(claim, runs, path):
    rows = rows_for(claim, runs)
    work = request_work_text(rows)
    if not plot_relative(claim, rows, "throughput", "connections", {"connections": 1},
                         "Does throughput grow with clients?", "throughput / the same server's with 1 client",
                         "clients (each request: %s)" % work, path):
        return None
    return ("Throughput relative to the same server with one client, as clients are added (each request: %s; "
            "bars: 95 %% bootstrap interval of the ratio of the medians)." % work)


def memory(claim, runs, path):
    """Memory per idle connection at the point the claim's criteria read (log y when it spans 30 x)."""
    rows = rows_for(claim, runs)
    at = claim["criteria"][0]["at"]
    idle = M.fmt(at["idle"])
    src = R.memory_source([r for r in rows if R.usable(r)])
    title, _, bars, lines, _ = panel(claim, rows, "memory per idle connection", "", "memory per idle connection", at)
    values = [b[1].value for b in bars]
    log = bool(values) and min(values) > 0 and max(values) / min(values) > 30
    if not plot_bars([(title, "kB per connection (%s)" % src, bars, lines, log)],
                     "Memory of %s idle connections" % idle, path):
        return None
    return ("(memory at %s idle connections - memory at 0) / %s for the server's whole process tree "
            "(%s); bars are medians, whiskers their 95 %% bootstrap intervals over the repeats." % (idle, idle, src))


def bars(heading, caption, *panels):
    """A plot of bar panels, as a claim declares it: each panel (title, ylabel, metric[, point[,
    experiment]]) shows metric per server at that point of that experiment (the claim's first by
    default) with the claim's thresholds. A claim over several experiments shares their runs with
    other claims, so its panels keep the models its criteria name."""
    def plot(claim, runs, path):
        drawn = []
        for title, ylabel, metric, *rest in panels:
            at, run = (rest + [None, None])[:2]
            rows = criteria_rows(claim, runs, run) if len(K.run_names(claim)) > 1 else rows_for(claim, runs, run)
            drawn.append(panel(claim, rows, title, ylabel, metric, at))
        if not plot_bars(drawn, heading, path):
            return None
        return caption + " Bars are medians over the repeats, whiskers their 95 % bootstrap intervals."
    return plot
