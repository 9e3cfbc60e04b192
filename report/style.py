"""style.py - one colour and one marker per concurrency model, the same in every plot of every run.

Blocking models are warm colours, readiness loops cool ones, the rest dark; markers differ too so
a plot still reads in grey. Two servers of the same model (e.g. reuseport with 1 and 2 workers)
share colour and marker and differ by line style.
"""

import zlib

# The project's models in the order of docs/DESIGN.md; tables and legends follow it.
MODEL_ORDER = [
    "iterative", "fork", "pthread", "prefork", "threadpool", "busypoll", "select", "poll",
    "epoll-lt", "epoll-et", "libevent", "coroutine", "uring", "reuseport",
]

MODEL_STYLE = {
    "iterative":  ("#7f7f7f", "o"),
    "fork":       ("#d62728", "s"),
    "pthread":    ("#ff7f0e", "^"),
    "prefork":    ("#8c564b", "v"),
    "threadpool": ("#e377c2", "D"),
    "busypoll":   ("#bcbd22", "P"),
    "select":     ("#9467bd", "X"),
    "poll":       ("#17becf", "h"),
    "epoll-lt":   ("#1f77b4", "p"),
    "epoll-et":   ("#2ca02c", "8"),
    "libevent":   ("#393b79", ">"),
    "coroutine":  ("#637939", "<"),
    "uring":      ("#111111", "d"),
    "reuseport":  ("#e6a817", "*"),
}

# For a model the table does not know (a new server): a colour picked from its name, never random.
SPARE_COLOURS = ["#843c39", "#5254a3", "#8ca252", "#bd9e39", "#7b4173", "#3182bd", "#e6550d"]
SPARE_MARKERS = ["p", "<", ">", "d", "H", "8"]
LINE_STYLES = ["-", "--", ":", "-."]


def model_style(model):
    """(colour, marker) of a model."""
    if model in MODEL_STYLE:
        return MODEL_STYLE[model]
    h = zlib.crc32(model.encode())
    return SPARE_COLOURS[h % len(SPARE_COLOURS)], SPARE_MARKERS[h % len(SPARE_MARKERS)]


def server_styles(rows):
    """{server name: dict(color, marker, linestyle)} for every server in rows.

    The line style numbers the servers of one model by name, so "reuseport-w1" is solid and
    "reuseport-w2" dashed in every plot of a run.
    """
    models = {}
    for row in rows:
        models.setdefault(row["server"], row.get("model") or row["server"])
    by_model = {}
    for name in sorted(models):
        by_model.setdefault(models[name], []).append(name)
    styles = {}
    for model, names in by_model.items():
        colour, marker = model_style(model)
        for i, name in enumerate(names):
            styles[name] = {"color": colour, "marker": marker, "model": model,
                            "linestyle": LINE_STYLES[i % len(LINE_STYLES)]}
    return styles
