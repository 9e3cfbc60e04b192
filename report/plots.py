"""plots.py - one function per plot; each takes rows (dicts from results.py), writes one PNG and
returns a one-sentence caption, or None when the rows hold nothing to draw.

Conventions shared by every plot: one colour and marker per model (style.py); a line joins the
median of the repeats, the error bar is its 95 % bootstrap interval (bootstrap.py; none with one
repeat); a hollow marker is a point
where the load generator, not the server, was saturated; failed runs are left out (the run table
lists them). Where several servers share an x value their markers are shifted a hair sideways
(dodge) so equal values stay visible. Only matplotlib's object API is used (no pyplot state), with
the Agg renderer.
"""

import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

import bootstrap  # noqa: E402
import results as R  # noqa: E402
import style  # noqa: E402

# More servers than this in a plot, of more than one family: one panel per family, shared axes.
PANEL_SERVERS = 8

FIGSIZE = (9.5, 5.2)
DPI = 100


def human(value, _pos=None):
    """Tick label: 1500 -> 1.5k, 2000000 -> 2M, 0.25 -> 0.25."""
    if value == 0:
        return "0"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return ("%.1f" % (value / div)).rstrip("0").rstrip(".") + suffix
    if abs(value) >= 1:
        return ("%.1f" % value).rstrip("0").rstrip(".")
    return "%.2g" % value


def three(value):
    """A number to 3 significant digits, for an interval beside its median: 1234 -> 1.23k,
    318.9 -> 319, 999.7 -> 1k, 0.9731 -> 0.973."""
    value = float("%.3g" % value)  # rounded first, so 999.7 is written as 1k, not 1e+03
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return "%g%s" % (float("%.3g" % (value / div)), suffix)
    return "%g" % value


def tick(value, _pos=None):
    """Axis tick label: like human() but never rounded into a neighbour's label (1750 -> 1.75k, not
    1.8k): up to three decimals of the unit, as many as the value needs."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return ("%.3f" % (value / div)).rstrip("0").rstrip(".") + suffix
    return human(value)


def new_figure(ncols=1, figsize=FIGSIZE):
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def save(fig, path):
    fig.savefig(path, dpi=DPI)


def title(text, where):
    """A title with the slice it belongs to, e.g. 'Throughput (idle=1000)'."""
    return "%s (%s)" % (text, where) if where else text


# --- axes -----------------------------------------------------------------------------------------------

def x_values(rows, x_axis):
    """Sorted distinct x values; numbers when the axis is numeric, else strings."""
    return sorted({r.get(x_axis) for r in rows if r.get(x_axis) is not None},
                  key=lambda v: (isinstance(v, str), v))


def x_position(value, xs):
    """Where a value sits on x: itself for numbers, its index for words (conn_mode)."""
    return value if isinstance(value, float) else float(xs.index(value))


def x_scale(rows, x_axis):
    """How x is drawn: 'category' for words, 'log' when the values span 10x or more ('symlog'
    when 0 is among them), else 'linear'."""
    xs = x_values(rows, x_axis)
    if any(isinstance(v, str) for v in xs):
        return "category"
    positive = [v for v in xs if v > 0]
    if positive and max(positive) / min(positive) >= 10:
        return "symlog" if min(xs) <= 0 else "log"
    return "linear"


def dodge(x, index, count, scale, xs):
    """Shift server number index of count a little sideways, so equal values do not hide each other
    (threads of fork and pthread are the same numbers). At most +-4 % of a decade or of a step."""
    if count < 2:
        return x
    offset = (index - (count - 1) / 2) / (count - 1)  # -0.5 .. 0.5
    if scale == "log" or (scale == "symlog" and x > 0):
        return x * 10 ** (0.08 * offset)
    numeric = [v for v in xs if isinstance(v, float)]
    step = min((b - a for a, b in zip(numeric, numeric[1:])), default=1.0) if scale != "category" else 1.0
    return x + 0.08 * step * offset


def readable(xs, scale):
    """Which tick labels to print: one too close to the last printed one would overlap it (select's
    900 idle beside 1000), so it keeps its tick and loses its label."""
    keep, last = [], None
    span = (max(xs) - min(xs)) or 1.0
    for i, v in enumerate(xs):
        if last is None:
            ok = True
        elif scale in ("log", "symlog") and v > 0 and xs[last] > 0:
            ok = v / xs[last] >= 1.3
        else:
            ok = (v - xs[last]) / span >= 0.04
        if not ok and roundness(v) > roundness(xs[last]):
            keep[last], ok = False, True  # of two close labels the rounder one reads better
        keep.append(ok)
        if ok:
            last = i
    return keep


def roundness(value):
    """Trailing zeros of a whole number: 1000 -> 3, 900 -> 2, 0.5 -> 0."""
    if value <= 0 or not float(value).is_integer():
        return 0
    n, value = 0, int(value)
    while value % 10 == 0:
        n, value = n + 1, value // 10
    return n


def setup_x(ax, rows, x_axis):
    """Scale and ticks of x (see x_scale), ticks at the measured values so a reader can read them off."""
    xs = x_values(rows, x_axis)
    ax.set_xlabel(R.AXIS_LABELS.get(x_axis, x_axis))
    if not xs:
        return
    scale = x_scale(rows, x_axis)
    if scale == "category":
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
        return
    if scale == "symlog":
        ax.set_xscale("symlog", linthresh=min(v for v in xs if v > 0), linscale=0.5)
    elif scale == "log":
        ax.set_xscale("log")
    ax.set_xticks(xs, [tick(v) if keep else "" for v, keep in zip(xs, readable(xs, scale))])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(xs) == 1:
        ax.set_xlim(xs[0] * 0.5 if xs[0] > 0 else -1, xs[0] * 1.5 if xs[0] > 0 else 1)


def setup_y(ax, medians, label, zero_based=True):
    """Log y when the medians span 30x or more; else linear, from 0 for quantities like throughput."""
    present = [m for m in medians if m is not None]
    positive = [m for m in present if m > 0]
    ax.set_ylabel(label)
    if positive and len(positive) == len(present) and max(positive) / min(positive) >= 30:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(tick))
    else:
        if zero_based:
            # From 0, with room above the highest point so its marker and error bar are whole.
            top = max(ax.get_ylim()[1], max(present) * 1.06) if present else None
            ax.set_ylim(0, top)
        ax.yaxis.set_major_formatter(FuncFormatter(tick))
    ax.grid(True, which="major", alpha=0.3)


def legend(fig, ax, handles_by_server, loadgen_seen):
    """Legend to the right of the axes (never over the data): servers first, then the notes
    (keys starting with '_'), then the hollow-marker note."""
    handles = ([h for k, h in handles_by_server.items() if not k.startswith("_")] +
               [h for k, h in handles_by_server.items() if k.startswith("_")])
    if loadgen_seen:
        handles.append(Line2D([], [], color="black", marker="o", markerfacecolor="white",
                              linestyle="none", label="load generator\nsaturated"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  frameon=False)


# --- the shared series drawing -------------------------------------------------------------------------

def error_bars(estimates):
    """matplotlib's yerr (or xerr) for Estimates: their distances down to lo and up to hi."""
    return [[e.value - e.lo for e in estimates], [e.hi - e.value for e in estimates]]


def draw_series(ax, rows, x_axis, metric, styles, order):
    """Per server: median of metric over the repeats at each x, bars its 95 % bootstrap interval,
    hollow markers where
    the loadgen was saturated, a red ring where a repeat counted errors or refusals (its numbers
    describe only the requests that were answered). Returns (legend handles by server, medians
    drawn, loadgen seen)."""
    xs = x_values(rows, x_axis)
    scale = x_scale(rows, x_axis)
    handles, medians, loadgen_seen, faults_seen = {}, [], False, False
    servers = R.servers_in_order(rows, order)
    for index, server in enumerate(servers):
        mine = [r for r in rows if r["server"] == server]
        pts = []
        for x in xs:
            at = [r for r in mine if r.get(x_axis) == x]
            s = R.summarize(at, metric)
            if s is None:
                continue
            bound = any(R.loadgen_bound(r) for r in at if R.usable(r))
            faulty = any(r.get("status") in ("errors", "refused") for r in at)
            pts.append((dodge(x_position(x, xs), index, len(servers), scale, xs), s, bound, faulty))
        if not pts:
            continue
        st = styles[server]
        px = [p[0] for p in pts]
        med = [p[1].value for p in pts]
        ax.errorbar(px, med, yerr=error_bars([p[1] for p in pts]), color=st["color"], linestyle=st["linestyle"],
                    linewidth=1.5, capsize=3, elinewidth=1, marker="none")
        for x, s, bound, faulty in pts:
            ax.plot([x], [s.value], marker=st["marker"], color=st["color"], markersize=7,
                    markerfacecolor="white" if bound else st["color"], markeredgewidth=1.5,
                    linestyle="none")
            if faulty:
                ax.plot([x], [s.value], marker="o", markersize=13, markerfacecolor="none",
                        markeredgecolor="#d62728", markeredgewidth=1.2, linestyle="none")
            loadgen_seen |= bound
            faults_seen |= faulty
        medians += med
        handles[server] = Line2D([], [], color=st["color"], marker=st["marker"],
                                 linestyle=st["linestyle"], label=server)
    if faults_seen:
        handles["_faults"] = Line2D([], [], marker="o", markersize=10, markerfacecolor="none",
                                    markeredgecolor="#d62728", linestyle="none",
                                    label="errors or refusals:\nonly what was answered\nis measured")
    return handles, medians, loadgen_seen


def family_panels(rows, order):
    """[(family title, its rows)] when rows hold more than PANEL_SERVERS servers of several families
    (style.FAMILIES order; a Python model in its C counterpart's family), else None: one panel."""
    servers = R.servers_in_order(rows, order)
    fams = {}
    for r in rows:
        fams.setdefault(style.family(r.get("model") or r["server"]), []).append(r)
    if len(servers) <= PANEL_SERVERS or len(fams) < 2:
        return None
    return [(style.FAMILY_TITLES.get(f, f), fams[f]) for f in style.FAMILIES + sorted(set(fams) - set(style.FAMILIES))
            if f in fams]


def share_y(axes):
    """One y range and scale over panels: a log scale where any panel took one."""
    if any(ax.get_yscale() == "log" for ax in axes):
        for ax in axes:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(tick))
    low = min(ax.get_ylim()[0] for ax in axes)
    high = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(low, high)


def metric_plot(rows, x_axis, metric, ylabel, heading, where, styles, order, path, zero_based=True,
                offered=None):
    """The common plot: metric against x_axis for every server, in one panel, or one panel per
    family of models with shared axes when there are many (family_panels). True when drawn.
    offered: an open-loop rate every point was offered, drawn as a dashed reference line."""
    panels = family_panels(rows, order) or [(None, rows)]
    wide = len(panels) > 1
    fig, axes = new_figure(ncols=len(panels), figsize=(6.2 * len(panels), 6.4) if wide else FIGSIZE)
    drawn, all_medians = False, []
    for ax, (name, prow) in zip(axes, panels):
        handles, medians, lg = draw_series(ax, prow, x_axis, metric, styles, order)
        if not handles:
            continue
        drawn = True
        if offered:
            ax.axhline(offered, color="grey", linestyle="--", linewidth=1, zorder=0)
            handles["_offered"] = Line2D([], [], color="grey", linestyle="--",
                                         label="offered rate\n(open loop)")
            medians.append(offered)
        all_medians += medians
        setup_x(ax, rows, x_axis)
        if not wide:
            setup_y(ax, medians, ylabel, zero_based)
        ax.set_title(title(heading + (", " + name if name else ""), where), fontsize=10 if wide else None)
        if wide:  # each panel's servers below it
            hs = [h for k, h in handles.items() if not k.startswith("_")] + \
                 [h for k, h in handles.items() if k.startswith("_")]
            ax.legend(handles=hs, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7, frameon=False)
        else:
            legend(fig, ax, handles, lg)
    if not drawn:
        return False
    if wide:
        for ax in axes:  # the whole range decides log or linear, for every panel alike
            setup_y(ax, all_medians, ylabel, zero_based)
        share_y(axes)
    save(fig, path)
    return True


# --- the plots -------------------------------------------------------------------------------------------

def plot_throughput(rows, x_axis, where, styles, order, path):
    rates = {R.num(r, "rate_rps") for r in rows}
    offered = rates.pop() if len(rates) == 1 else None
    if not metric_plot(rows, x_axis, lambda r: R.num(r, "throughput_rps"), "throughput (requests/s)",
                       "Throughput", where, styles, order, path, offered=offered or None):
        return None
    return ("Requests answered per second in the measured window, by %s: the line joins the medians of "
            "the repeats, the bar is the 95 %% bootstrap interval of each." % R.AXIS_LABELS.get(x_axis, x_axis))


def plot_latency(rows, x_axis, where, styles, order, path):
    """p50 and p99 side by side on one shared log y axis, so the tail reads against the middle;
    with many servers, a column per family of models (p50 above, p99 below)."""
    panels = family_panels(rows, order)
    if panels:
        fig = Figure(figsize=(6.2 * len(panels), 10), dpi=DPI, layout="constrained")
        grid = [(fig.add_subplot(2, len(panels), k + 1 + row * len(panels)), prow, col, name, fam)
                for row, (col, name) in enumerate((("latency_p50_us", "p50"), ("latency_p99_us", "p99")))
                for k, (fam, prow) in enumerate(panels)]
    else:
        fig, axes = new_figure(ncols=2, figsize=(12, 5.2))
        grid = [(axes[0], rows, "latency_p50_us", "median (p50)", None),
                (axes[1], rows, "latency_p99_us", "99th percentile (p99)", None)]
    axes = [g[0] for g in grid]
    all_handles, all_medians, any_lg = {}, [], False
    for ax, prow, col, name, fam in grid:
        handles, medians, lg = draw_series(ax, prow, x_axis, lambda r, c=col: R.latency(r, c), styles, order)
        all_handles.update(handles)
        all_medians += medians
        any_lg |= lg
        setup_x(ax, rows, x_axis)
        ax.set_title(title("Latency, " + name + (", " + fam if fam else ""), where), fontsize=10 if fam else None)
        if fam and col == "latency_p99_us" and handles:
            hs = [h for k, h in handles.items() if not k.startswith("_")]
            ax.legend(handles=hs, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7, frameon=False)
    if not all_handles:
        return None
    positive = [m for m in all_medians if m and m > 0]
    for ax in axes:
        ax.set_ylabel("latency (µs)")
        if positive and max(positive) / min(positive) >= 10:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(tick))
        ax.grid(True, which="major", alpha=0.3)
    low = min(ax.get_ylim()[0] for ax in axes)
    high = max(ax.get_ylim()[1] for ax in axes)
    for ax in axes:
        ax.set_ylim(low, high)
    if not panels:
        legend(fig, axes[1], all_handles, any_lg)
    save(fig, path)
    return ("Latency of answered requests (from the intended send time in open-loop runs): median "
            "on the left, 99th percentile on the right, same y scale; each point the median of the "
            "repeats, its bar the 95 % bootstrap interval.")


def plot_cpu_per_request(rows, x_axis, where, styles, order, path):
    if not metric_plot(rows, x_axis, R.cpu_us_per_request, "server CPU per request (µs, user + sys)",
                       "Server CPU per request", where, styles, order, path):
        return None
    return ("CPU time of the whole server process tree (user + system) divided by the requests "
            "answered: the cost of one request under each model (median of the repeats, bars its 95 % "
            "bootstrap interval).")


def memory_per_connection(rows):
    """{server: [(open connections, Estimate of kB per connection), ...]} and the method used.

    With two or more connection counts the cost is marginal: the median memory above the median at
    the server's smallest point divided by the connections added (both points resampled for the
    interval), so the fixed base (binary, stacks of idle workers) does not drown the per-connection
    cost. With one count it is simply memory / connections.
    """
    per_server, marginal = {}, False
    for server in {r["server"] for r in rows}:
        mine = [r for r in rows if r["server"] == server and R.usable(r)]
        by_open = {}
        for r in mine:
            by_open.setdefault(R.open_connections(r), []).append(r)
        counts = sorted(c for c in by_open if c > 0 or len(by_open) > 1)
        if len(counts) >= 2:
            base_n = counts[0]
            if R.summarize(by_open[base_n], R.memory_kb) is None:
                continue
            marginal = True
            per_server[server] = [(n, s) for n in counts[1:]
                                  for s in [R.memory_above(by_open[n], by_open[base_n], n - base_n)] if s]
        elif counts:
            n = counts[0]
            s = R.summarize(by_open[n], lambda r: R.memory_kb(r) / n if R.memory_kb(r) is not None else None)
            per_server[server] = [(n, s)] if s else []
    return per_server, marginal


def plot_memory_per_connection(rows, x_axis, where, styles, order, path):
    per_server, marginal = memory_per_connection(rows)
    if not any(per_server.values()):
        return None
    xs = sorted({p[0] for pts in per_server.values() for p in pts})
    servers = [s for s in R.servers_in_order(rows, order) if per_server.get(s)]
    fig, (ax,) = new_figure()
    medians = [p[1].value for s in servers for p in per_server[s]]
    if len(xs) == 1:
        # One connection count: a bar per server, its value written on it.
        med = [per_server[s][0][1] for s in servers]
        ax.bar(range(len(servers)), [m.value for m in med], color=[styles[s]["color"] for s in servers],
               yerr=error_bars(med), capsize=3, edgecolor="black", linewidth=0.5)
        for i, m in enumerate(med):
            ax.annotate(human(m.value), (i, max(m.value, 0)), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8)
        ax.set_xticks(range(len(servers)), servers, rotation=30, ha="right")
        ax.set_xlabel("server, at %s open connections (active + idle)" % human(xs[0]))
    else:
        handles = {}
        for index, server in enumerate(servers):
            pts = per_server[server]
            st = styles[server]
            ax.errorbar([dodge(p[0], index, len(servers), "log", xs) for p in pts], [p[1].value for p in pts],
                        yerr=error_bars([p[1] for p in pts]), color=st["color"], marker=st["marker"], linestyle=st["linestyle"], capsize=3,
                        markersize=7)
            handles[server] = Line2D([], [], color=st["color"], marker=st["marker"],
                                     linestyle=st["linestyle"], label=server)
        ax.set_xlabel("open connections (active + idle)")
        if xs[0] > 0 and xs[-1] / xs[0] >= 10:
            ax.set_xscale("log")
        ax.set_xticks(xs, [tick(v) if keep else "" for v, keep in zip(xs, readable(xs, "log"))])
        ax.xaxis.set_minor_formatter(NullFormatter())
        legend(fig, ax, handles, False)
    source = R.memory_source([r for r in rows if R.usable(r)])
    setup_y(ax, medians, "kB per connection (%s)" % source, zero_based=False)
    positive = [m for m in medians if m is not None and m > 0]
    if ax.get_yscale() == "linear" and positive and max(positive) / min(positive) >= 30:
        # An event loop's ~1-2 kB beside fork's ~180 kB: a log axis, symmetric through 0 for the
        # marginal figures that noise puts at or below it.
        ax.set_yscale("symlog", linthresh=max(min(positive), 0.1), linscale=0.5)
        ax.yaxis.set_major_formatter(FuncFormatter(tick))
    elif ax.get_yscale() == "linear" and min(medians) >= 0:
        ax.set_ylim(bottom=0)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_title(title("Memory per connection", where))
    save(fig, path)
    if marginal:
        return ("Memory each added connection costs: the %s of the server's process tree above its "
                "smallest measured point, divided by the connections added. Values near 0 or below are "
                "within the noise of page-granular accounting; bars: 95 %% bootstrap intervals of the "
                "difference of the medians." % source)
    return ("Peak memory of the server's process tree (%s) divided by its open connections; median of the "
            "repeats, bars its 95 %% bootstrap interval." % source)


def plot_threads_processes(rows, x_axis, where, styles, order, path):
    fig, axes = new_figure(ncols=2, figsize=(12, 5.2))
    all_handles = {}
    for ax, col, name in ((axes[0], "server_threads_peak", "threads (peak)"),
                          (axes[1], "server_processes_peak", "processes (peak)")):
        handles, medians, _ = draw_series(ax, rows, x_axis, lambda r, c=col: R.num(r, c), styles, order)
        all_handles.update(handles)
        setup_x(ax, rows, x_axis)
        setup_y(ax, medians, name)
        ax.set_title(title("Server " + name.split()[0], where))
    if not all_handles:
        return None
    legend(fig, axes[1], all_handles, False)
    save(fig, path)
    return ("Peak number of threads (left) and processes (right) in the server's process tree: "
            "what each model spends on concurrency (median of the repeats, bars its 95 % bootstrap interval).")


def plot_ctxsw_per_request(rows, x_axis, where, styles, order, path):
    if not metric_plot(rows, x_axis, R.ctxsw_per_request, "context switches per request",
                       "Context switches per request", where, styles, order, path):
        return None
    return ("Voluntary plus involuntary context switches of the server tree per request it "
            "answered (whole run): how often each model hands the CPU to the scheduler (median of the "
            "repeats, bars its 95 % bootstrap interval).")


def count(value):
    """A count for text: 1020 -> '1,020' (exact: the point of this plot is where select stops)."""
    return "{:,.0f}".format(value)


def plot_connection_outcome(rows, where, styles, order, path):
    """At the largest number of offered connections: how many each server held, refused, lost.

    A client the server refused may connect again, so refusals can outnumber the connections
    offered; the bar shows the refused share of what was offered, the text the count of refusals.
    """
    usable = [r for r in rows if R.usable(r)]
    if not usable:
        return None
    top = max(R.open_connections(r) for r in usable)
    at_top = [r for r in usable if R.open_connections(r) == top]
    servers = R.servers_in_order(at_top, order)
    served, held, refused, refused_bar, other = [], [], [], [], []
    for server in servers:
        mine = [r for r in at_top if r["server"] == server]
        s = R.summarize(mine, R.served_connections)
        ref = R.summarize(mine, R.refused_connections)
        held.append(s or bootstrap.exact(0.0))
        served.append(s.value if s else 0)
        refused.append(ref.value if ref else 0)
        refused_bar.append(min(refused[-1], top - served[-1]))
        other.append(max(0.0, top - served[-1] - refused_bar[-1]) if s else 0)
    if not servers:
        return None
    height = 0.9 + 0.42 * len(servers) + 1.2
    fig, (ax,) = new_figure(figsize=(9.5, height))
    ys = list(range(len(servers)))[::-1]
    ax.barh(ys, served, color=[styles[s]["color"] for s in servers], edgecolor="black",
            linewidth=0.5, label="held by the server at once (its peak)", xerr=error_bars(held), capsize=3)
    ax.barh(ys, refused_bar, left=served, color="white", edgecolor="#d62728", hatch="///",
            linewidth=0.8, label="refused by the server (by design)")
    left2 = [a + b for a, b in zip(served, refused_bar)]
    ax.barh(ys, other, left=left2, color="#bbbbbb", edgecolor="black", linewidth=0.5,
            label="not held at once (queued in the listen backlog, failed or closed)")
    for y, s, ref in zip(ys, held, refused):
        ax.text(top * 1.01, y, "%s held%s" % (bootstrap.text(s, count, note=False),
                                              ", %s refusals" % count(ref) if ref else ""), va="center", fontsize=8)
    ax.set_yticks(ys, servers)
    ax.set_xlim(0, top * 1.35)
    ax.axvline(top, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlabel("connections (%s offered: active + idle)" % count(top))
    ax.xaxis.set_major_formatter(FuncFormatter(tick))
    ax.set_title(title("Connections held and refused at %s offered" % count(top), where))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.5 / (height - 1.2)), ncol=2,
              fontsize=8, frameon=False)
    save(fig, path)
    return ("At the largest offered load: connections each server held at once (coloured), "
            "refused by design (hatched, e.g. select above FD_SETSIZE; a refused client may retry, so "
            "the text counts refusals) and otherwise not held (grey); median of the repeats, the "
            "bar on the held connections and the [..] after them their 95 % bootstrap interval.")


def percentile_ticks(ax, top):
    """x of a percentile spectrum: 1/(1-p) on log scale, labelled as percentiles."""
    ax.set_xscale("log")
    ticks = [t for t in (1, 2, 10, 100, 1000, 10000, 100000, 1000000) if t <= max(top, 10) * 1.01]
    names = {1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10000: "99.99%",
             100000: "99.999%", 1000000: "99.9999%"}
    ax.set_xticks(ticks, [names[t] for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("percentile (x axis is 1/(1-p), log)")


def plot_spectrum(spectra, where, styles, order, path):
    """spectra: {server: [(value_us, percentile), ...]} for one point (one repeat each)."""
    spectra = {s: pts for s, pts in spectra.items() if pts}
    if not spectra:
        return None
    fig, (ax,) = new_figure()
    top, handles = 10, {}
    rows_like = [{"server": s, "model": styles[s].get("model", s)} for s in spectra]
    for server in R.servers_in_order(rows_like, order):
        pts = spectra[server]
        st = styles[server]
        xs = [1 / (1 - p) for _, p in pts]
        ax.plot(xs, [v for v, _ in pts], color=st["color"], linestyle=st["linestyle"], linewidth=1.6,
                marker=st["marker"], markersize=5, markevery=0.1)
        top = max(top, xs[-1])
        handles[server] = Line2D([], [], color=st["color"], linestyle=st["linestyle"], marker=st["marker"],
                                 markersize=5, label=server)
    percentile_ticks(ax, top)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(tick))
    ax.set_ylabel("latency (µs, log)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title("Latency percentile spectrum", where))
    legend(fig, ax, handles, False)
    save(fig, path)
    return ("Latency at every percentile (HdrHistogram style) for one repeat of this point: a flat "
            "line is a predictable server, a late rise is its tail.")


def plot_timeseries(series, where, styles, order, path, warmup=None, length=None):
    """series: {server: [(t_s, requests in that second), ...]} for one point (one repeat each).

    t_s is the start of a second of the loadgen's clock. With the run's length (warmup + duration)
    known, the last, partial second and the drain after it are left out: their counts are not
    per-second rates. The warmup is shaded.
    """
    if length:
        series = {s: [(t, v) for t, v in pts if t + 1 <= length + 1e-6] for s, pts in series.items()}
    series = {s: pts for s, pts in series.items() if pts}
    if not series or max(len(pts) for pts in series.values()) < 3:
        return None  # a run of one or two whole seconds has no course over time to show
    fig, (ax,) = new_figure()
    handles, medians = {}, []
    rows_like = [{"server": s, "model": styles[s].get("model", s)} for s in series]
    for server in R.servers_in_order(rows_like, order):
        pts = series[server]
        st = styles[server]
        ax.plot([t + 0.5 for t, _ in pts], [v for _, v in pts], color=st["color"], marker=st["marker"],
                linestyle=st["linestyle"], markersize=5)
        medians += [v for _, v in pts]
        handles[server] = Line2D([], [], color=st["color"], marker=st["marker"],
                                 linestyle=st["linestyle"], label=server)
    if warmup:
        ax.axvspan(0, warmup, color="#dddddd", zorder=0)
        handles["_warmup"] = Patch(color="#dddddd", label="warmup (not counted)")
    ax.set_xlim(0, length or None)
    ax.set_xlabel("time since the load generator started (s); each point is one whole second")
    setup_y(ax, medians, "throughput (requests/s)")
    ax.set_title(title("Throughput second by second", where))
    legend(fig, ax, handles, False)
    save(fig, path)
    return ("Requests answered in each whole second of one repeat of this point (the repeat with the "
            "median throughput): dips and drift show up here, not in the averages.")
