"""style.py - one colour and one marker per concurrency model, the same in every plot of every run.

The models, their order and their styles come from servers/models.tsv, the project's one list of
models (blocking models warm colours, readiness loops cool ones, the rest dark; markers differ too
so a plot still reads in grey). Two servers of the same model (e.g. reuseport with 1 and 2 workers)
share colour and marker and differ by line style.
"""

import os
import zlib

MODELS_TSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers", "models.tsv")


def read_models(path=MODELS_TSV):
    """models.tsv as [{model, lang, family, colour, marker, summary}] in file order; '#' lines are
    comments."""
    fields = ["model", "lang", "family", "colour", "marker", "summary"]
    models = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.rstrip("\n").split("\t")
            if len(cells) != len(fields):
                raise ValueError("%s:%d: %d tab-separated fields, want %d (%s)" % (
                    path, number, len(cells), len(fields), ", ".join(fields)))
            models.append(dict(zip(fields, cells)))
    return models


# Read once at import: a constant of the checkout, the order tables and legends follow.
MODELS = read_models()
MODEL_ORDER = [m["model"] for m in MODELS]
MODEL_STYLE = {m["model"]: (m["colour"], m["marker"]) for m in MODELS}
MODEL_FAMILY = {m["model"]: m["family"] for m in MODELS}
MODEL_LANG = {m["model"]: m["lang"] for m in MODELS}
FAMILIES = ["blocking", "readiness", "other"]  # panels, in this order
FAMILY_TITLES = {"blocking": "blocking models", "readiness": "readiness loops", "other": "beyond: coroutines, io_uring"}

# For a model the list does not know (a new server): a colour picked from its name, never random.
SPARE_COLOURS = ["#843c39", "#5254a3", "#8ca252", "#bd9e39", "#7b4173", "#3182bd", "#e6550d"]
SPARE_MARKERS = ["p", "<", ">", "d", "H", "8"]
LINE_STYLES = ["-", "--", ":", "-."]


def model_style(model):
    """(colour, marker) of a model."""
    if model in MODEL_STYLE:
        return MODEL_STYLE[model]
    h = zlib.crc32(model.encode())
    return SPARE_COLOURS[h % len(SPARE_COLOURS)], SPARE_MARKERS[h % len(SPARE_MARKERS)]


def family(model):
    """The panel a model is drawn in: its family in models.tsv ('other' for a model it does not know)."""
    return MODEL_FAMILY.get(model, "other")


def server_styles(rows):
    """{server name: dict(color, marker, linestyle)} for every server in rows.

    The line style numbers the servers of one model by name, so "reuseport-w1" is solid and
    "reuseport-w2" dashed in every plot of a run. A Python model (lang py) has its C counterpart's
    colour and marker (models.tsv) and starts at the dashed style: beside it, it reads as the same
    model in the other language.
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
        first = 1 if MODEL_LANG.get(model) == "py" else 0
        for i, name in enumerate(names):
            styles[name] = {"color": colour, "marker": marker, "model": model,
                            "linestyle": LINE_STYLES[(first + i) % len(LINE_STYLES)]}
    return styles
