"""languages.py - the "C and Python" section of a report: for every model a run measured in both
languages, how far the Python server is from the C one at each point -- C's throughput over
Python's and Python's server CPU per request over C's, as a table and a bar plot.

Both servers parse and answer with one protocol engine (the Python ones call servers/common/proto.c
through ctypes), so a ratio is the model's own code and the interpreter. Each ratio is of the
medians over the repeats, its 95 % bootstrap interval resampling both sides (bootstrap.py).
"""

import os

from matplotlib.ticker import FuncFormatter

import bootstrap
import plots as P
import results as R
from style import MODEL_LANG, MODEL_ORDER, model_style

# The C model a Python one is measured against where the names differ: threading is a thread per
# connection (pthread), selectors uses epoll level-triggered (DefaultSelector on Linux), asyncio
# and gevent run a coroutine per connection on one loop (coroutine).
COUNTERPART = {"py-threading": "pthread", "py-selectors": "epoll-lt", "py-asyncio": "coroutine",
               "py-gevent": "coroutine"}

FIGURES = [  # (label, per-row metric, which side is the numerator)
    ("C / Python throughput", lambda r: R.num(r, "throughput_rps"), "c"),
    ("Python / C server CPU per request", R.cpu_us_per_request, "py"),
]


def counterpart(model):
    """The C model of a Python one (py-X: X unless COUNTERPART says otherwise); None for others."""
    if MODEL_LANG.get(model) != "py" and not model.startswith("py-"):
        return None
    return COUNTERPART.get(model, model[3:])


def pairs(rows):
    """[(python server, C server)] measured in rows, in the models' order. A server is paired by
    its model where the C model has one server in the run; every server of the Python model is
    paired with it (py-asyncio and py-asyncio-uvloop against coroutine)."""
    by_model = {}
    for r in rows:
        by_model.setdefault(r.get("model") or r["server"], set()).add(r["server"])
    out = []
    for model in sorted(by_model, key=lambda m: MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER)):
        c = counterpart(model)
        if c in by_model and len(by_model[c]) == 1:
            out += [(py, next(iter(by_model[c]))) for py in sorted(by_model[model])]
    return out


def ratios(rows, py, c, x_axis, x, metric, numerator):
    """The ratio of one figure at one point (x_axis = x), both sides resampled."""
    def side(server):
        return R.summarize([r for r in rows if r["server"] == server and (x_axis is None or r.get(x_axis) == x)],
                           metric)
    a, b = side(c), side(py)
    return bootstrap.ratio(a, b) if numerator == "c" else bootstrap.ratio(b, a)


def blocks(rows, out_dir, x_axis):
    """Page blocks of the section; [] when the run has no model in both languages."""
    found = pairs(rows)
    if not found:
        return []
    xs = sorted({r.get(x_axis) for r in rows if r.get(x_axis) is not None}) if x_axis else [None]
    out = [("h", 2, "C and Python"),
           ("p", "For every model measured in both languages: C's throughput over Python's, and Python's "
                 "server CPU per request over C's (whole process tree), at each %s; the ratio of the "
                 "medians over the repeats with its 95 %% bootstrap interval, both sides resampled. Both "
                 "answer through one protocol engine, so the ratio is the model's code and the "
                 "interpreter." % (R.AXIS_LABELS.get(x_axis, x_axis) if x_axis else "point"))]
    header = ["Python", "C"] + ["%s%s" % (label, ", %s %s" % (x_axis, P.three(x)) if x_axis else "")
                                for label, _, _ in FIGURES for x in xs]
    body, values = [], {}
    for py, c in found:
        cells = [py, c]
        for label, metric, num in FIGURES:
            for x in xs:
                e = ratios(rows, py, c, x_axis, x, metric, num)
                values[(label, py, x)] = e
                cells.append(bootstrap.text(e, P.three, note=False))
        body.append(cells)
    out.append(("table", header, body))
    fname = "c-over-python.png"
    if plot(found, values, xs, x_axis, os.path.join(out_dir, fname)):
        at = " at %s %s, left to right" % (x_axis, ", ".join(P.three(x) for x in xs)) if x_axis else ""
        out.append(("img", fname, "C / Python throughput and Python / C server CPU per request, a bar per "
                                  "model%s (log scale; whiskers: 95 %% bootstrap intervals; 1: the same)." % at))
    return out


def plot(found, values, xs, x_axis, path):
    """Grouped bars, a panel per figure: a group per model, a bar per point. False when empty."""
    fig, axes = P.new_figure(ncols=len(FIGURES), figsize=(5.2 * len(FIGURES), 3.8))
    drawn = False
    width = 0.8 / max(len(xs), 1)
    for ax, (label, _, _) in zip(axes, FIGURES):
        for k, x in enumerate(xs):
            for i, (py, _) in enumerate(found):
                e = values.get((label, py, x))
                if e is None or e.value is None:
                    continue
                colour, _ = model_style(py)
                pos = i - 0.4 + width * (k + 0.5)
                ax.bar(pos, e.value, width * 0.9, color=colour, alpha=0.35 + 0.65 * (k + 1) / len(xs))
                if e.has_interval():
                    ax.errorbar(pos, e.value, yerr=[[e.value - e.lo], [e.hi - e.value]], color="black",
                                capsize=2, linewidth=0.8)
                drawn = True
        ax.axhline(1, color="grey", linewidth=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(P.tick))
        ax.yaxis.set_minor_formatter(FuncFormatter(P.tick))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xticks(range(len(found)))
        ax.set_xticklabels([py[3:] if py.startswith("py-") else py for py, _ in found], rotation=45, ha="right",
                           fontsize=8)
        ax.set_title(label, fontsize=9)
    if drawn:
        P.save(fig, path)
    return drawn
