"""checks.py - the course claims of issue 7: for each, its words, experiment and fixed criterion,
a function that turns the runs' rows into a verdict with its figures, and one plot.

evaluate(rows, bin_dir) -> {"verdict", "reason", "figures": [(label, text)]}; plot(rows, path) ->
caption or None. A claim over two experiments gets {experiment name: rows} instead of rows.
claims.py runs the experiments and writes the page; nothing here runs or writes anything but plots.
"""

import functools
import os
import re

import plots
import results as R
from style import MODEL_ORDER, server_styles

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"


# --- helpers over one claim's rows ---------------------------------------------------------------------

def verdict(kind, reason, figures):
    return {"verdict": kind, "reason": reason, "figures": figures}


def rows_of(rows, model=None, server=None, **axes):
    """The rows of one model (or server name) at the given axis values."""
    out = []
    for r in rows:
        if model is not None and r.get("model") != model:
            continue
        if server is not None and r["server"] != server:
            continue
        if all(r.get(a) == float(v) if not isinstance(v, str) else r.get(a) == v for a, v in axes.items()):
            out.append(r)
    return out


def med(rows, metric):
    """Median of metric over the usable rows, None when there is none."""
    s = R.summarize(rows, metric)
    return s[0] if s else None


def rng(rows, metric):
    """'median [min..max]' of metric, for the figures."""
    s = R.summarize(rows, metric)
    if s is None:
        return "not measured"
    if s[3] < 2:
        return fmt(s[0])
    return "%s [%s..%s] (%d repeats)" % (fmt(s[0]), fmt(s[1]), fmt(s[2]), s[3])


def fmt(value):
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return "{:,.0f}".format(value)
    if abs(value) >= 1000:
        return "{:,.0f}".format(value)
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.3g" % value


def ratio(a, b):
    return a / b if a is not None and b else None


def throughput(r):
    return R.num(r, "throughput_rps")


def cores(r):
    return R.num(r, "server_cpu_cores")


def missing(rows, bin_dir, models):
    """An inconclusive verdict when a model is not built or none of its runs measured anything."""
    unbuilt = [m for m in models if not os.path.exists(os.path.join(bin_dir, "server-%s" % m))]
    if unbuilt:
        return verdict(INCONCLUSIVE, "server not built: %s" % ", ".join(unbuilt), [])
    failed = []
    for m in models:
        mine = rows_of(rows, model=m)
        if not any(R.usable(r) for r in mine):
            reasons = sorted({r.get("status_reason") or "no rows" for r in mine}) or ["no rows in the run"]
            failed.append("%s (%s)" % (m, "; ".join(reasons)[:200]))
    if failed:
        return verdict(INCONCLUSIVE, "no measurement for %s" % ", ".join(failed), [])
    return None


def needs(*models):
    """Decorate an evaluate(rows, bin_dir): inconclusive (see missing()) unless every model in models is
    built and measured; else the evaluation."""
    def wrap(evaluate):
        @functools.wraps(evaluate)
        def checked(rows, bin_dir):
            return missing(rows, bin_dir, list(models)) or evaluate(rows, bin_dir)
        return checked
    return wrap


def per_server(rows, *metrics):
    """Figures of each server in model order: ('<server> <label>', range of metric) per (label, metric)."""
    figs = []
    for server in R.servers_in_order(rows, MODEL_ORDER):
        mine = rows_of(rows, server=server)
        figs += [("%s %s" % (server, label), rng(mine, metric)) for label, metric in metrics]
    return figs


CONTENDED = 0.1  # cores others took from the server's CPUs (median of a point) that void a figure: the
                 # runner's own threshold for noting it; above it busypoll could not reach 0.9 core


def contended(rows):
    """Points whose median of other processes' CPU on the server's CPUs is >= CONTENDED, as text
    ('' when none): there the server had less CPU than it was given, and its throughput and CPU say
    as much about the neighbours as about the model."""
    out = []
    for key, members in R.group_points([r for r in rows if R.usable(r)]).items():
        s = R.summarize(members, R.other_cpu)
        if s and s[0] >= CONTENDED:
            out.append("%s %s: %.2f" % (key[0], point_text(members[0]), s[0]))
    return ", ".join(sorted(out))


def contention_figure(rows):
    """The figure that goes with contended(): the largest median over the points read."""
    worst = 0.0
    for members in R.group_points([r for r in rows if R.usable(r)]).values():
        s = R.summarize(members, R.other_cpu)
        worst = max(worst, s[0] if s else 0.0)
    return ("CPU others took from the server's CPUs (largest median of a point, cores)", "%.2f" % worst)


def guard(rows, v):
    """v, or inconclusive when others took the server's CPUs at a point of rows (see contended()),
    saying what the criterion reads on the figures as measured. Adds the contention figure."""
    figs = v["figures"] + [contention_figure(rows)]
    c = contended(rows)
    if not c or v["verdict"] == INCONCLUSIVE:
        return dict(v, figures=figs)
    return verdict(INCONCLUSIVE, "other processes took >= %.2f CPU of the server's CPUs (median over the "
                                 "repeats) at %s; as measured the criterion reads: %s%s" % (
                                     CONTENDED, c, v["verdict"], " (%s)" % v["reason"] if v["reason"] else ""),
                   figs)


def cpu_limited(select):
    """Decorate an evaluate(rows, bin_dir): its verdict goes through guard() over select(rows), the
    rows whose throughput or CPU the criterion reads. A verdict without figures (a server not built,
    no measurement) passes untouched."""
    def wrap(evaluate):
        def checked(rows, bin_dir):
            v = evaluate(rows, bin_dir)
            return guard(select(rows), v) if v["figures"] else v
        checked.__name__ = evaluate.__name__
        checked.__doc__ = evaluate.__doc__
        return checked
    return wrap


def decide(ok, why_not, figs, bound_rows, saturated="load generator saturated"):
    """Reproduced when ok. Otherwise inconclusive when the load generator was saturated at a point of
    bound_rows (the figures may show its limit, not the servers'), else not reproduced: why_not."""
    if not ok:
        bound = loadgen_bound(bound_rows)
        if bound:
            return verdict(INCONCLUSIVE, "%s: %s" % (saturated, bound), figs)
    return verdict(REPRODUCED if ok else NOT_REPRODUCED, "" if ok else why_not, figs)


def loadgen_bound(rows):
    """Servers with a usable row where the load generator was saturated, as text ('' when none)."""
    bound = sorted({"%s (%s)" % (r["server"], point_text(r)) for r in rows if R.usable(r) and R.loadgen_bound(r)})
    return ", ".join(bound)


def point_text(r):
    parts = []
    for a in ("connections", "idle", "size", "rate_rps", "work_us"):
        v = r.get(a)
        if v not in (None, 0.0) and not (a == "size" and v == 64.0 and r.get("proto") == "http"):
            parts.append("%s=%s" % (a, R.fmt_axis(v)))
    return " ".join(parts)


# --- the claims: evaluate(rows, bin_dir) -> verdict, plot(rows, path) -> caption ------------------------

@needs("select", "poll", "epoll-lt")
def eval_select_limit(rows, bin_dir):
    models = ["select", "poll", "epoll-lt", "epoll-et"]
    offered = 1100.0
    figs, ok = [], True
    sel = rows_of(rows, model="select")
    served = med(sel, R.served_connections)
    refused = med(sel, R.refused_connections)
    crashed = [r for r in sel if r.get("status") == "failed"]
    figs.append(("select: connections held at once", rng(sel, R.served_connections)))
    figs.append(("select: connections refused", rng(sel, R.refused_connections)))
    figs.append(("select: run status", ", ".join(sorted({r.get("status") or "" for r in sel}))))
    if served is None or served > 1021 or refused is None or served + refused < offered or crashed:
        ok = False
    for m in models[1:]:
        mine = rows_of(rows, model=m)
        if not mine:
            continue
        held = med(mine, R.served_connections)
        errors = med(mine, lambda r: R.num(r, "errors_total"))
        figs.append(("%s: connections held at once" % m, rng(mine, R.served_connections)))
        figs.append(("%s: errors" % m, rng(mine, lambda r: R.num(r, "errors_total"))))
        if held is None or held < offered or (errors or 0) > 0 or any(r.get("status") != "ok" for r in mine):
            ok = False
    return verdict(REPRODUCED if ok else NOT_REPRODUCED, "" if ok else "see the figures", figs)


def plot_select_limit(rows, path):
    return plots.plot_connection_outcome(rows, "", server_styles(rows), MODEL_ORDER, path)


def idle_ratio(rows, model, idle):
    """Median throughput at `idle` idle connections over the median at 0, for one model."""
    base = med(rows_of(rows, model=model, idle=0), throughput)
    at = med(rows_of(rows, model=model, idle=idle), throughput)
    return ratio(at, base)


def held_all(rows):
    """Points where the server held fewer connections than were offered (idle ones included)."""
    short = []
    for r in rows:
        if not R.usable(r):
            continue
        held = R.served_connections(r)
        if held is not None and held < 0.99 * R.open_connections(r):
            short.append("%s %s held %s of %s" % (r["server"], point_text(r), fmt(held), fmt(R.open_connections(r))))
    return short


@cpu_limited(lambda rows: [r for r in rows if r.get("model") in ("poll", "epoll-lt", "epoll-et")
                                 and r.get("idle") in (0.0, 10000.0)])
@needs("poll", "epoll-lt")
def eval_idle_cost(rows, bin_dir):
    epolls = [m for m in ("epoll-lt", "epoll-et") if rows_of(rows, model=m)]
    figs = []
    for m in ["select", "poll"] + epolls:
        for idle in (0, 900, 1000, 10000):
            at = rows_of(rows, model=m, idle=idle)
            if at:
                figs.append(("%s throughput at %s idle (req/s)" % (m, fmt(idle)), rng(at, throughput)))
    p = idle_ratio(rows, "poll", 10000)
    figs.append(("poll thr(10k idle) / thr(0 idle)", fmt(p)))
    es = {m: idle_ratio(rows, m, 10000) for m in epolls}
    for m, e in es.items():
        figs.append(("%s thr(10k idle) / thr(0 idle)" % m, fmt(e)))
    if rows_of(rows, model="select", idle=900):
        figs.append(("select thr(900 idle) / thr(0 idle)", fmt(idle_ratio(rows, "select", 900))))
    relevant = [r for r in rows if r.get("model") in ["poll"] + epolls and r.get("idle") in (0.0, 10000.0)]
    short = held_all(relevant)
    if short:
        return verdict(INCONCLUSIVE, "the idle connections were not all held: " + "; ".join(short[:4]), figs)
    if p is None or any(e is None for e in es.values()):
        return verdict(INCONCLUSIVE, "a ratio could not be computed (missing points)", figs)
    return decide(p <= 0.6 and all(e >= 0.8 for e in es.values()),
                  "poll ratio %s (needs <= 0.6), epoll %s (needs >= 0.8)" % (
                      fmt(p), ", ".join("%s %s" % (m, fmt(e)) for m, e in es.items())),
                  figs, [r for r in relevant if r.get("idle") == 0.0],
                  "load generator saturated at 0 idle, so the baseline understates the servers")


def threshold(ax, handles, key, y, color, label):
    """A criterion's threshold: a dotted line at y, with its legend entry under handles[key]."""
    ax.axhline(y, color=color, linestyle=":", linewidth=1)
    handles[key] = plots.Line2D([], [], color=color, linestyle=":", label=label)


def plot_idle_cost(rows, path):
    """Throughput relative to the same server at 0 idle, against idle connections (symlog x)."""
    styles = server_styles(rows)
    fig, (ax,) = plots.new_figure()
    handles, lg = {}, False
    for server in R.servers_in_order(rows, MODEL_ORDER):
        mine = [r for r in rows if r["server"] == server]
        base = med([r for r in mine if r.get("idle") == 0.0], throughput)
        if not base:
            continue
        pts = []
        for idle in sorted({r.get("idle") for r in mine}):
            s = R.summarize([r for r in mine if r.get("idle") == idle], lambda r: throughput(r) / base if throughput(r) is not None else None)
            if s:
                bound = any(R.loadgen_bound(r) for r in mine if r.get("idle") == idle and R.usable(r))
                pts.append((idle, s, bound))
        st = styles[server]
        ax.errorbar([p[0] for p in pts], [p[1][0] for p in pts],
                    yerr=[[p[1][0] - p[1][1] for p in pts], [p[1][2] - p[1][0] for p in pts]],
                    color=st["color"], linestyle=st["linestyle"], capsize=3)
        for x, s, bound in pts:
            ax.plot([x], [s[0]], marker=st["marker"], color=st["color"], markersize=7, linestyle="none",
                    markerfacecolor="white" if bound else st["color"])
            lg |= bound
        handles[server] = plots.Line2D([], [], color=st["color"], marker=st["marker"], label=server)
    if not handles:
        return None
    threshold(ax, handles, "_epoll", 0.8, "#1f77b4", "epoll must stay\nat or above 0.8")
    threshold(ax, handles, "_poll", 0.6, "#17becf", "poll must fall to\n0.6 or below at 10k")
    plots.setup_x(ax, rows, "idle")
    ax.set_ylim(0, max(1.3, ax.get_ylim()[1]))
    ax.set_ylabel("throughput / the same server's at 0 idle")
    ax.grid(True, alpha=0.3)
    ax.set_title("Throughput of 100 active clients as idle connections are added")
    plots.legend(fig, ax, handles, lg)
    plots.save(fig, path)
    return ("Each server's throughput with 100 active clients, relative to its own at 0 idle "
            "connections (median of the repeats, bars min..max); select stops at 900 idle.")


@cpu_limited(lambda rows: [r for r in rows if r.get("model") in ("poll", "epoll-lt", "epoll-et")
                                 and r.get("idle") == 0.0])
@needs("poll", "epoll-lt")
def eval_comparable(rows, bin_dir):
    epolls = [m for m in ("epoll-lt", "epoll-et") if rows_of(rows, model=m)]
    figs = []
    for m in ["select", "poll"] + epolls:
        at = rows_of(rows, model=m, idle=0)
        if at:
            figs.append(("%s throughput at 0 idle (req/s)" % m, rng(at, throughput)))
    poll = med(rows_of(rows, model="poll", idle=0), throughput)
    rs = {m: ratio(poll, med(rows_of(rows, model=m, idle=0), throughput)) for m in epolls}
    for m, x in rs.items():
        figs.append(("poll / %s" % m, fmt(x)))
    if rows_of(rows, model="select", idle=0):
        figs.append(("select / epoll-lt", fmt(ratio(med(rows_of(rows, model="select", idle=0), throughput),
                                                       med(rows_of(rows, model="epoll-lt", idle=0), throughput)))))
    if any(x is None for x in rs.values()):
        return verdict(INCONCLUSIVE, "a ratio could not be computed (missing points)", figs)
    bound = loadgen_bound(rows_of(rows, idle=0))
    if bound:
        return verdict(INCONCLUSIVE, "load generator saturated, so equal numbers may be its limit, not the "
                                     "servers': " + bound, figs)
    ok = all(0.75 <= x <= 1.25 for x in rs.values())
    return verdict(REPRODUCED if ok else NOT_REPRODUCED, "" if ok else "poll/epoll outside 0.75..1.25", figs)


def plot_bars(panels, heading, path):
    """Bar panels: each (title, ylabel, [(server, spread, loadgen bound)], [(y, text)] thresholds,
    log y). Bars are medians, whiskers min..max; a hatched bar is loadgen-bound."""
    panels = [p for p in panels if p[2]]
    if not panels:
        return False
    fig, axes = plots.new_figure(ncols=len(panels), figsize=(5.2 * len(panels) + 1, 4.8))
    names = sorted({b[0] for p in panels for b in p[2]})
    styles = server_styles([{"server": n, "model": model_of(n)} for n in names])
    for ax, (ptitle, ylabel, bars, lines, logy) in zip(axes, panels):
        xs = range(len(bars))
        ax.bar(xs, [b[1][0] for b in bars], color=[styles[b[0]]["color"] for b in bars],
               hatch=["//" if b[2] else "" for b in bars], edgecolor="black", linewidth=0.5,
               yerr=[[b[1][0] - b[1][1] for b in bars], [b[1][2] - b[1][0] for b in bars]], capsize=4)
        for x, b in zip(xs, bars):  # the median written on its bar: small ones stay readable
            ax.annotate(fmt(b[1][0]), (x, b[1][0]), xytext=(4, 3), textcoords="offset points", fontsize=8)
        ax.set_xticks(list(xs), [b[0] for b in bars], rotation=20, ha="right")
        for y, text in lines:
            ax.axhline(y, color="black", linestyle=":", linewidth=1)
            ax.annotate(text, (1, y), xytext=(-2, 2), textcoords="offset points", xycoords=("axes fraction", "data"),
                        fontsize=8, ha="right", bbox=dict(facecolor="white", alpha=0.85, edgecolor="none", pad=1))
        if logy:
            ax.set_yscale("log")
        else:  # room above the tallest whisker and threshold for their labels
            ax.set_ylim(top=1.15 * max([b[1][2] for b in bars] + [y for y, _ in lines]))
        ax.yaxis.set_major_formatter(plots.FuncFormatter(plots.tick))
        ax.set_ylabel(ylabel)
        ax.set_title(ptitle, fontsize=11)
        ax.grid(True, axis="y", alpha=0.3)
    if any(b[2] for p in panels for b in p[2]):
        heading += "\n(hatched bar: the load generator was saturated in at least one repeat)"
    fig.suptitle(heading)
    plots.save(fig, path)
    return True


def model_of(server):
    """A server name's model: 'reuseport-w2' -> 'reuseport' (names follow the runner's model-wN)."""
    return re.sub(r"-w\d+$", "", server)


def bars_of(rows, metric, servers=None):
    """[(server, spread, loadgen bound)] per server in model order."""
    out = []
    for server in R.servers_in_order(rows, MODEL_ORDER):
        if servers and server not in servers:
            continue
        mine = [r for r in rows if r["server"] == server]
        s = R.summarize(mine, metric)
        if s:
            out.append((server, s, any(R.loadgen_bound(r) for r in mine if R.usable(r))))
    return out


def plot_comparable(rows, path):
    at0 = [r for r in rows if r.get("idle") == 0.0]
    if not plot_bars([("throughput at 0 idle", "requests/s", bars_of(at0, throughput), [], False)],
                     "100 active clients, no idle connections", path):
        return None
    return "Throughput of each readiness server with 100 active clients and no idle ones (hatched: loadgen-bound)."


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
    parts = (["%s ms of CPU" % fmt(work / 1000)] if work else []) + \
            (["%s ms of waiting in a blocking call" % fmt(wait / 1000)] if wait else [])
    return " + ".join(parts) or "no modelled work"


@cpu_limited(lambda rows: [r for r in rows if r.get("connections") in (1.0, 8.0)])
@needs("iterative", "fork", "pthread")
def eval_iterative(rows, bin_dir):
    figs, scale = [], {}
    for m in ("iterative", "fork", "pthread"):
        for n in (1, 2, 8, 32):
            at = rows_of(rows, model=m, connections=n)
            if at:
                figs.append(("%s throughput, %d client(s) (req/s)" % (m, n), rng(at, throughput)))
        scale[m] = ratio(med(rows_of(rows, model=m, connections=8), throughput),
                         med(rows_of(rows, model=m, connections=1), throughput))
        figs.append(("%s thr(8)/thr(1)" % m, fmt(scale[m])))
    for m in ("fork", "pthread"):
        at8 = rows_of(rows, model=m, connections=8)
        figs.append(("%s server CPU at 8 clients (cores)" % m, rng(at8, cores)))
    if any(v is None for v in scale.values()):
        return verdict(INCONCLUSIVE, "a ratio could not be computed (missing points)", figs)
    ok = scale["iterative"] <= 1.2 and scale["fork"] >= 4 and scale["pthread"] >= 4
    if not ok:
        # With CPU work, 4 x the one-client throughput needs 4 x thr(1) x work seconds of CPU per
        # second: more cores than the server had makes the criterion unreachable by construction.
        ncpu = min((r.get("_server_ncpu") or 1) for r in rows)
        work = max(R.num(r, "work_us") or 0 for r in rows) / 1e6
        if not work:
            return verdict(NOT_REPRODUCED, "thr(8)/thr(1): " + ", ".join(
                "%s %s" % (m, fmt(v)) for m, v in scale.items()), figs)
        need = {m: 4 * med(rows_of(rows, model=m, connections=1), throughput) * work for m in ("fork", "pthread")}
        figs.append(("CPU needed for 4 x thr(1): fork, pthread (cores; the server had %d)" % ncpu,
                     "%s, %s" % (fmt(need["fork"]), fmt(need["pthread"]))))
        if any(scale[m] < 4 and need[m] > ncpu for m in need):
            return verdict(INCONCLUSIVE, "the work is CPU (--work-us; --wait-us would model a blocking "
                                         "call instead): 4 x the one-client throughput would need %s cores, the "
                                         "server had %d, so no model could pass; iterative thr(8)/thr(1) = %s" % (
                                             fmt(max(need.values())), ncpu, fmt(scale["iterative"])), figs)
    return verdict(REPRODUCED if ok else NOT_REPRODUCED, "" if ok else "thr(8)/thr(1): " + ", ".join(
        "%s %s" % (m, fmt(v)) for m, v in scale.items()), figs)


def plot_iterative(rows, path):
    styles = server_styles(rows)
    fig, (ax,) = plots.new_figure()
    handles = {}
    for server in R.servers_in_order(rows, MODEL_ORDER):
        mine = [r for r in rows if r["server"] == server]
        base = med([r for r in mine if r.get("connections") == 1.0], throughput)
        if not base:
            continue
        pts = []
        for n in sorted({r.get("connections") for r in mine}):
            s = R.summarize([r for r in mine if r.get("connections") == n],
                            lambda r: throughput(r) / base if throughput(r) is not None else None)
            if s:
                pts.append((n, s))
        st = styles[server]
        ax.errorbar([p[0] for p in pts], [p[1][0] for p in pts],
                    yerr=[[p[1][0] - p[1][1] for p in pts], [p[1][2] - p[1][0] for p in pts]],
                    color=st["color"], marker=st["marker"], linestyle=st["linestyle"], capsize=3, markersize=7)
        handles[server] = plots.Line2D([], [], color=st["color"], marker=st["marker"], label=server)
    if not handles:
        return None
    threshold(ax, handles, "_conc", 4, "#d62728", "fork and pthread must\nreach 4 at 8 clients")
    threshold(ax, handles, "_iter", 1.2, "#7f7f7f", "iterative must stay\nat or below 1.2")
    plots.setup_x(ax, rows, "connections")
    ax.set_xlabel("clients (each request: %s)" % request_work_text(rows))
    ax.set_ylim(0, max(5, ax.get_ylim()[1]))
    ax.set_ylabel("throughput / the same server's with 1 client")
    ax.grid(True, alpha=0.3)
    ax.set_title("Does throughput grow with clients?")
    plots.legend(fig, ax, handles, False)
    plots.save(fig, path)
    return ("Throughput relative to the same server with one client, as clients are added (each request: %s)."
            % request_work_text(rows))


def cpu_per_connection(r):
    cpu, n = R.server_cpu_s(r), R.num(r, "connects")
    return cpu * 1e6 / n if cpu is not None and n else None


@cpu_limited(lambda rows: [r for r in rows if r.get("model") in ("fork", "prefork", "pthread")])
@needs("fork", "prefork", "pthread")
def eval_churn(rows, bin_dir):
    figs = per_server(rows, ("connections/s", throughput), ("server CPU per connection (µs)", cpu_per_connection))
    fork, prefork, pthread = (rows_of(rows, model=m) for m in ("fork", "prefork", "pthread"))
    a = ratio(med(prefork, throughput), med(fork, throughput))
    b = ratio(med(pthread, throughput), med(fork, throughput))
    c = ratio(med(fork, cpu_per_connection), med(prefork, cpu_per_connection))
    figs += [("prefork / fork connections/s", fmt(a)), ("pthread / fork connections/s", fmt(b)),
             ("fork / prefork CPU per connection", fmt(c))]
    if None in (a, b, c):
        return verdict(INCONCLUSIVE, "a ratio could not be computed (missing points)", figs)
    return decide(a >= 1.5 and b >= 1.0 and c >= 3,
                  "needs prefork/fork >= 1.5 (%s), pthread/fork >= 1 (%s), fork/prefork CPU >= 3 (%s)" % (
                      fmt(a), fmt(b), fmt(c)), figs, prefork + pthread)


def plot_churn(rows, path):
    ok = plot_bars([("connections per second", "connections/s", bars_of(rows, throughput), [], False),
                    ("server CPU per connection", "µs (user + sys, whole tree)", bars_of(rows, cpu_per_connection), [], False)],
                   "A new connection for every request (8 clients)", path)
    return "Connections served per second and server CPU per connection (hatched: loadgen-bound)." if ok else None


def memory_per_idle(rows, model):
    """kB per connection: (memory at 5,000 idle - median memory at 0 idle) / 5,000, per repeat."""
    base = med(rows_of(rows, model=model, idle=0), R.memory_kb)
    if base is None:
        return None
    vals = []
    for r in rows_of(rows, model=model, idle=5000):
        if R.usable(r) and R.memory_kb(r) is not None:
            vals.append((R.memory_kb(r) - base) / 5000.0)
    return R.spread(vals)


def eval_memory(rows, bin_dir, pairs):
    """pairs: [(model, reference model, factor, '>=' or '<=')]."""
    models = sorted({m for p in pairs for m in p[:2]}, key=MODEL_ORDER.index)
    gone = missing(rows, bin_dir, models)
    if gone:
        return gone
    figs = []
    per = {m: memory_per_idle(rows, m) for m in models}
    src = R.memory_source([r for r in rows if r.get("model") in models and R.usable(r)])
    for m in models:
        s = per[m]
        figs.append(("%s memory per idle connection (kB, %s)" % (m, src),
                     "n/a" if s is None else "%s [%s..%s]" % (fmt(s[0]), fmt(s[1]), fmt(s[2]))))
        figs.append(("%s RSS peak at 5,000 idle (kB, summed over the tree)" % m,
                     rng(rows_of(rows, model=m, idle=5000), lambda r: R.num(r, "server_rss_peak_kb"))))
    short = held_all([r for r in rows if r.get("model") in models and r.get("idle") == 5000.0])
    if short:
        return verdict(INCONCLUSIVE, "the idle connections were not all held: " + "; ".join(short[:4]), figs)
    ok, why = True, []
    for m, ref, factor, op in pairs:
        if per[m] is None or per[ref] is None or per[ref][0] <= 0:
            return verdict(INCONCLUSIVE, "memory per connection of %s or %s not measurable (<= 0 or missing)" % (m, ref), figs)
        x = per[m][0] / per[ref][0]
        figs.append(("%s / %s per connection" % (m, ref), fmt(x)))
        holds = x >= factor if op == ">=" else x <= factor
        ok &= holds
        if not holds:
            why.append("%s/%s = %s (needs %s %s)" % (m, ref, fmt(x), op, fmt(factor)))
    return verdict(REPRODUCED if ok else NOT_REPRODUCED, "; ".join(why), figs)


def eval_memory_event_loop(rows, bin_dir):
    return eval_memory(rows, bin_dir, [("fork", "epoll-lt", 10, ">="), ("pthread", "epoll-lt", 2, ">=")])


def plot_memory(rows, path):
    bars = []
    for server in R.servers_in_order(rows, MODEL_ORDER):
        s = memory_per_idle(rows, model_of(server))
        if s:
            bars.append((server, s, False))
    log = bool(bars) and min(b[1][0] for b in bars) > 0 and max(b[1][0] for b in bars) / min(b[1][0] for b in bars) > 30
    src = R.memory_source([r for r in rows if R.usable(r)])
    if not plot_bars([("memory per idle connection", "kB per connection (%s)" % src, bars, [], log)],
                     "Memory of 5,000 idle connections", path):
        return None
    return ("(memory at 5,000 idle connections - memory at 0) / 5,000 for the server's whole process tree "
            "(%s); bars are medians, whiskers min..max over the repeats." % src)


@cpu_limited(lambda rows: [r for r in rows if r.get("model") in ("epoll-lt", "reuseport", "threadpool")])
@needs("epoll-lt", "reuseport", "threadpool")
def eval_cpu_work(rows, bin_dir):
    figs = per_server(rows, ("throughput (req/s)", throughput), ("server CPU (cores)", cores))
    ep = rows_of(rows, model="epoll-lt")
    ep_cores, ep_thr = med(ep, cores), med(ep, throughput)
    r_re = ratio(med(rows_of(rows, model="reuseport"), throughput), ep_thr)
    r_tp = ratio(med(rows_of(rows, model="threadpool"), throughput), ep_thr)
    figs += [("reuseport / epoll-lt throughput", fmt(r_re)), ("threadpool / epoll-lt throughput", fmt(r_tp))]
    if None in (ep_cores, r_re, r_tp):
        return verdict(INCONCLUSIVE, "a figure could not be computed (missing points)", figs)
    return decide(ep_cores <= 1.1 and r_re >= 1.6 and r_tp >= 1.6,
                  "epoll-lt %s cores (needs <= 1.1), reuseport x%s, threadpool x%s (need >= 1.6)" % (
                      fmt(ep_cores), fmt(r_re), fmt(r_tp)), figs, rows)


def eval_coroutine(runs, bin_dir):
    """Both halves must hold: memory (memory.yaml) and one core under CPU work (cpuwork.yaml)."""
    mem = eval_memory(runs.get("memory", []), bin_dir, [("coroutine", "pthread", 0.5, "<=")])
    gone = missing(runs.get("cpuwork", []), bin_dir, ["coroutine"])
    if gone:
        cpu = gone
    else:
        co = rows_of(runs["cpuwork"], model="coroutine")
        c = med(co, cores)
        figs = [("coroutine server CPU under --work-us 1000 (cores)", rng(co, cores)),
                ("coroutine throughput under --work-us 1000 (req/s)", rng(co, throughput))]
        if c is None:
            cpu = verdict(INCONCLUSIVE, "no CPU figure", figs)
        else:
            cpu = guard(co, verdict(REPRODUCED if c <= 1.1 else NOT_REPRODUCED,
                                    "" if c <= 1.1 else "CPU %s cores (needs <= 1.1)" % fmt(c), figs))
    figs = mem["figures"] + cpu["figures"]
    kinds = (mem["verdict"], cpu["verdict"])
    reasons = "; ".join("%s: %s" % (half, v["reason"]) for half, v in (("memory", mem), ("CPU", cpu)) if v["reason"])
    if NOT_REPRODUCED in kinds:
        return verdict(NOT_REPRODUCED, reasons, figs)
    if INCONCLUSIVE in kinds:
        return verdict(INCONCLUSIVE, reasons, figs)
    return verdict(REPRODUCED, "", figs)


def plot_coroutine(runs, path):
    mem = [r for r in runs.get("memory", []) if r.get("model") in ("coroutine", "pthread")]
    cpu = [r for r in runs.get("cpuwork", []) if r.get("model") == "coroutine"]
    bars = [(server, s, False) for server in R.servers_in_order(mem, MODEL_ORDER)
            for s in [memory_per_idle(mem, model_of(server))] if s]
    pt = [b[1][0] for b in bars if model_of(b[0]) == "pthread"]
    need = [(0.5 * pt[0], "coroutine must stay at or below 0.5 x pthread")] if pt else []
    ok = plot_bars([("memory per idle connection", "kB per connection", bars, need, False),
                    ("server CPU under 1 ms of work per request", "cores (of 2)", bars_of(cpu, cores),
                     [(1.1, "must stay at or below 1.1")], False)],
                   "Coroutines: memory per connection and cores used", path)
    return "Memory per idle connection of coroutine vs pthread, and the cores the coroutine server used." if ok else None


def plot_cpu_work(rows, path):
    ep = med(rows_of(rows, model="epoll-lt"), throughput)
    need = [(1.6 * ep, "2 workers must reach 1.6 x epoll-lt")] if ep else []
    ok = plot_bars([("throughput", "requests/s", bars_of(rows, throughput), need, False),
                    ("server CPU", "cores (of 2)", bars_of(rows, cores), [(1.1, "one epoll loop must stay at or below 1.1")], False)],
                   "1 ms of CPU per request, 32 clients, server on 2 CPUs", path)
    return "Throughput and CPU cores used under CPU-bound work (hatched: loadgen-bound)." if ok else None


def notifications(r):
    """Events epoll_wait returned per request (measured-window requests; both servers alike)."""
    events, n = R.num(r, "srv_events"), R.num(r, "requests")
    return events / n if events is not None and n else None


def wait_calls(r):
    calls, n = R.num(r, "srv_wait_calls"), R.num(r, "requests")
    return calls / n if calls is not None and n else None


@cpu_limited(lambda rows: [r for r in rows if r.get("size") == 64.0])
@needs("epoll-lt", "epoll-et")
def eval_edge(rows, bin_dir):
    figs = []
    for m in ("epoll-lt", "epoll-et"):
        for size in (64, 65536):
            at = rows_of(rows, model=m, size=size)
            label = "64 B" if size == 64 else "64 KiB"
            figs.append(("%s %s: throughput (req/s)" % (m, label), rng(at, throughput)))
            figs.append(("%s %s: events per request" % (m, label), rng(at, notifications)))
            figs.append(("%s %s: epoll_wait returns per request" % (m, label), rng(at, wait_calls)))
    lt64, et64 = (med(rows_of(rows, model=m, size=64), throughput) for m in ("epoll-lt", "epoll-et"))
    lt_n, et_n = (med(rows_of(rows, model=m, size=65536), notifications) for m in ("epoll-lt", "epoll-et"))
    if None in (lt64, et64, lt_n, et_n) or not et_n:
        return verdict(INCONCLUSIVE, "events counter or throughput missing", figs)
    diff = abs(et64 - lt64) / lt64
    x = lt_n / et_n
    figs += [("|ET - LT| / LT throughput at 64 B", "%.1f %%" % (100 * diff)),
             ("LT / ET events per request at 64 KiB", fmt(x))]
    # Only a throughput difference can be the load generator's doing, not the events per request.
    return decide(diff <= 0.10 and x >= 2,
                  "throughput differs by %.1f %% (needs <= 10 %%), LT/ET events %s (needs >= 2)" % (100 * diff, fmt(x)),
                  figs, rows_of(rows, size=64) if diff > 0.10 else [], "load generator saturated at 64 B")


def plot_edge(rows, path):
    panels = []
    for size in (64, 65536):
        at = [r for r in rows if r.get("size") == float(size)]
        panels.append(("throughput, %s" % ("64 B" if size == 64 else "64 KiB"), "requests/s",
                       bars_of(at, throughput), [], False))
    big = [r for r in rows if r.get("size") == 65536.0]
    panels.append(("events per request, 64 KiB", "epoll events / request", bars_of(big, notifications), [], False))
    if not plot_bars(panels, "epoll level- vs edge-triggered, 100 echo clients", path):
        return None
    return "Throughput at 64 B and 64 KiB, and epoll events delivered per request at 64 KiB."


@cpu_limited(lambda rows: [r for r in rows if r.get("model") == "busypoll"])  # epoll's 0.005 core is not CPU-limited
@needs("busypoll", "epoll-lt")
def eval_busypoll(rows, bin_dir):
    bp, ep = rows_of(rows, model="busypoll"), rows_of(rows, model="epoll-lt")
    b, e = med(bp, cores), med(ep, cores)
    figs = [("busypoll server CPU (cores)", rng(bp, cores)), ("epoll-lt server CPU (cores)", rng(ep, cores)),
            ("busypoll achieved rate (req/s)", rng(bp, throughput)), ("epoll-lt achieved rate (req/s)", rng(ep, throughput))]
    if b is None or e is None:
        return verdict(INCONCLUSIVE, "no CPU figure", figs)
    ok = b >= 0.9 and e <= 0.05
    return verdict(REPRODUCED if ok else NOT_REPRODUCED, "" if ok else
                   "busypoll %s cores (needs >= 0.9), epoll %s (needs <= 0.05)" % (fmt(b), fmt(e)), figs)


def plot_busypoll(rows, path):
    ok = plot_bars([("server CPU", "cores", bars_of(rows, cores), [(0.9, "busypoll must reach 0.9"), (0.05, "epoll must stay at or below 0.05")], False)],
                   "10 clients, 100 requests/s in total", path)
    return "CPU cores each server used while serving 100 requests/s." if ok else None


# The claims of issue 7, in its order. Words, experiment and criterion are quoted from the issue.
CLAIMS = [
    {"id": "select-1024", "config": "fdlimit", "words": "select watches at most 1024 descriptors",
     "experiment": "1,100 connections to select, poll, epoll",
     "criterion": "select serves <= 1021 and refuses the rest without crashing; poll and epoll serve all",
     "evaluate": eval_select_limit, "plot": plot_select_limit},
    {"id": "idle-cost", "config": "idle", "words": "select/poll cost grows with idle connections; epoll's does not",
     "experiment": "100 active clients, idle 0 to 10,000 (select to 1,000)",
     "criterion": "poll throughput at 10k idle <= 0.6 x at 0 idle; epoll >= 0.8 x",
     "evaluate": eval_idle_cost, "plot": plot_idle_cost},
    {"id": "comparable", "config": "idle", "words": "without idle connections select/poll/epoll are comparable",
     "experiment": "100 active, 0 idle", "criterion": "poll/epoll between 0.75 and 1.25",
     "evaluate": eval_comparable, "plot": plot_comparable},
    {"id": "iterative", "config": "iterative", "words": "the iterative server serves one client at a time",
     "experiment": "1, 2, 8, 32 clients, 10 ms of work each: a blocking wait (--wait-us 10000), as for a disk "
                   "read or a database query",
     "criterion": "iterative thr(8)/thr(1) <= 1.2 while fork and pthread >= 4",
     "evaluate": eval_iterative, "plot": plot_iterative},
    {"id": "churn", "config": "churn",
     "words": "per-connection processes cost more than threads; pools cut the cost",
     "experiment": "new connection per request",
     "criterion": "prefork >= 1.5 x fork connections/s; pthread >= fork; fork server CPU per connection >= 3 x prefork's",
     "evaluate": eval_churn, "plot": plot_churn},
    {"id": "memory", "config": "memory",
     "words": "threads and processes use more memory per connection than an event loop",
     "experiment": "5,000 idle connections, memory of the whole process tree (cgroup where available)",
     "criterion": "fork >= 10 x epoll's per connection; pthread >= 2 x epoll's",
     "evaluate": eval_memory_event_loop, "plot": plot_memory},
    {"id": "event-loop-cpu", "config": "cpuwork", "words": "an event loop uses one core and stalls on CPU work",
     "experiment": "--work-us 1000",
     "criterion": "one epoll loop <= 1.1 cores; reuseport with 2 workers and threadpool >= 1.6 x its throughput",
     "evaluate": eval_cpu_work, "plot": plot_cpu_work},
    {"id": "edge-triggered", "config": "edge", "words": "edge-triggered saves notifications",
     "experiment": "100 active, 64 B and 64 KiB messages",
     "criterion": "throughput within 10 % at 64 B; at 64 KiB level-triggered wakeups per request >= 2 x edge-triggered",
     "evaluate": eval_edge, "plot": plot_edge},
    {"id": "busypoll", "config": "busypoll", "words": "busy-polling burns CPU",
     "experiment": "10 clients at 100 requests/s in total",
     "criterion": "busypoll >= 0.9 core while epoll <= 0.05 core",
     "evaluate": eval_busypoll, "plot": plot_busypoll},
    {"id": "coroutine", "config": ["memory", "cpuwork"], "words": "coroutines are cheap but use one core",
     "experiment": "coroutine vs pthread, 5,000 connections; --work-us 1000",
     "criterion": "coroutine memory per connection <= 0.5 x pthread's; its CPU <= 1.1 cores under CPU work",
     "evaluate": eval_coroutine, "plot": plot_coroutine},
]

# How the criteria read the measurements, written down before the first claim run.
READING = [
    "Every figure is the median over the repeats of a point; [min..max] is their range.",
    "Throughput is requests answered per second in the measured window (with a new connection per "
    "request: connections per second). CPU is user + system time of the server's whole process tree "
    "over the measured window, in cores (CPU seconds per second).",
    "'serves N' (claim 1) is the most connections the server held at once (its own peak_conns "
    "counter); 'serve all' also requires no loadgen errors.",
    "'epoll' is every epoll server measured (epoll-lt and epoll-et); each must meet the criterion.",
    "Memory per connection is (memory at 5,000 idle - memory at 0 idle) / 5,000 for the server's "
    "process tree: the cgroup's peak when the runner measured it, else the summed RSS peak.",
    "'Within 10 %' is |ET - LT| <= 0.10 x LT. 'Wakeups' are the events epoll_wait returned (the "
    "server's events counter) per request answered; epoll_wait returns are shown beside them.",
    "A criterion that needs a server's own limit is inconclusive when the load generator was the "
    "bottleneck there, or when the server did not hold the connections the experiment asked for.",
    "A criterion on throughput or CPU is inconclusive when other processes took %.2f CPU or more of "
    "the server's CPUs at a CPU-limited point it reads (median over the repeats; the runner notes it in "
    "status_reason): the server then had less CPU than it was given, whatever its model. In the "
    "CPU-work experiment the load generator shares the server's CPUs on purpose and counts among "
    "those others (it needs little at ~1,000 requests/s)." % CONTENDED,
]
