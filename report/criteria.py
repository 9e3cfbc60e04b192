"""criteria.py - a claim's criteria as data, and everything derived from them: the verdict, the
reason it gives, the figures behind it, the sentence "reproduced when ..." and the line a plot draws.

A criterion (criterion()) is what is measured (a metric of metrics.METRICS, by name), the models
it is read on, the point of the run it reads, what the value is taken relative to (the same model
at another point, or another model), a comparison (<=, >=, between) and a bound. read() turns it
and a run's rows into readings, one per model and reference, each met, missed, undecided or
unknown, with what voids it (a saturated load generator, contended CPUs, idle connections not held,
CPU work no server could do on the CPUs it had). A reading is the median of the repeats (a ratio:
of the medians) with its 95 % bootstrap interval (bootstrap.py; a ratio resamples both sides): met
when the whole interval meets the bound, missed when none of it does, undecided when it straddles
the bound. With one repeat the interval is the figure itself. evaluate() turns a claim's readings
into its verdict: reproduced when every reading is met, not reproduced when one is missed with
nothing voiding it, inconclusive otherwise. The readings take whatever number of repeats a run has,
a different one per point too. Nothing here runs, writes or draws.
"""

import os

import bootstrap
import results as R
from metrics import METRICS, estimate_text, fmt, measure, median, rows_of, size_text
from style import MODEL_ORDER

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"

CONTENDED = 0.1  # cores others took from the server's CPUs (median of a point) that void a reading:
                 # the runner's own threshold for noting it; above it busypoll could not reach 0.9 core


# A comparison as the range of values that meet it (bounds included): (low, high) of a bound.
OPS = {
    "<=": lambda bound: (float("-inf"), bound),
    ">=": lambda bound: (bound, float("inf")),
    "between": lambda bound: tuple(bound),
}


def models_list(models):
    if models is None:
        return []
    return [models] if isinstance(models, str) else list(models)


def criterion(metric, models, op, bound, at=None, base=None, versus=None, also=None, run=None, cpu=None):
    """A criterion as data. metric: a name in METRICS; models: the model (or list) it is read on,
    each must meet it; also: models read too where the run measured them; at: the point read
    ({axis: value}, the whole run when empty); base: read relative to the same model at this
    point; versus: relative to this model (or each of a list) at the same point; op: '<=', '>='
    or 'between' (bound a (low, high) pair); run: the experiment it reads, for a claim over
    several; cpu: False where a reading is too small for contention to matter."""
    if metric not in METRICS or op not in OPS or (base and versus):
        raise ValueError("criterion(%r, %r, %r): unknown metric or comparison, or both base and versus" % (
            metric, models, op))
    return {"metric": metric, "models": models_list(models), "also": models_list(also), "at": at or {},
            "base": base, "versus": models_list(versus) or None, "op": op, "bound": bound, "run": run,
            "cpu": METRICS[metric]["cpu"] if cpu is None else cpu}


def figure(metric, models=None, points=None, base=None, versus=None, run=None):
    """A figure shown beside the verdict: metric on each model (every server of the run when None)
    at each point of points that the run measured; relative like a criterion's when base or versus."""
    return {"metric": metric, "models": models_list(models) if models is not None else None,
            "points": points or [{}], "base": base, "versus": models_list(versus) or None, "run": run}


# --- rows and words ----------------------------------------------------------------------------------------

def point_words(at):
    """A point in words: {'idle': 10000} -> 'at 10,000 idle'; '' for the whole run."""
    parts = []
    for axis, value in at.items():
        if axis == "connections":
            parts.append("%s client%s" % (fmt(value), "" if value == 1 else "s"))
        elif axis == "idle":
            parts.append("%s idle" % fmt(value))
        elif axis == "size":
            parts.append(size_text(value))
        else:
            parts.append("%s=%s" % (axis, value))
    return "at " + ", ".join(parts) if parts else ""


def point_text(r):
    """The axes of a row's point that differ from the defaults: 'connections=100 idle=10000'."""
    parts = []
    for a in ("connections", "idle", "size", "rate_rps", "work_us"):
        v = r.get(a)
        if v not in (None, 0.0) and not (a == "size" and v == 64.0 and r.get("proto") == "http"):
            parts.append("%s=%s" % (a, R.fmt_axis(v)))
    return " ".join(parts)


def and_join(names):
    return names[0] if len(names) == 1 else "%s and %s" % (", ".join(names[:-1]), names[-1])


def subject(item, model, ref=None, with_unit=True):
    """What a reading measures, in words: 'poll / epoll-lt throughput at 0 idle'. model and ref
    may name several ('epoll-lt and epoll-et')."""
    m = METRICS[item["metric"]]
    at = point_words(item.get("at", {}))
    if item.get("base"):
        text = "%s %s %s / %s" % (model, m["label"], at, point_words(item["base"]))
    elif ref:
        text = "%s / %s %s %s" % (model, ref, m["label"], at)
    else:
        text = "%s %s %s" % (model, m["label"], at)
        if m["unit"] and with_unit:
            text += " (%s)" % m["unit"]
    return " ".join(text.split())


def bound_text(c, with_unit=True):
    """'<= 1.1 cores', '>= 1.6', 'between 0.75 and 1.25'."""
    unit = METRICS[c["metric"]]["unit"] if with_unit and not (c["base"] or c["versus"]) else ""
    unit = " " + unit if unit and "," not in unit else ""
    if c["op"] == "between":
        return "between %s and %s%s" % (fmt(c["bound"][0]), fmt(c["bound"][1]), unit)
    return "%s %s%s" % (c["op"], fmt(c["bound"]), unit)


def sentence(c):
    """A criterion as the page states it: 'epoll-lt and epoll-et throughput at 10,000 idle / at 0 idle >= 0.8'."""
    refs = and_join(c["versus"]) if c["versus"] else None
    return "%s %s" % (subject(c, and_join(c["models"] + c["also"]), refs, with_unit=False), bound_text(c))


def criteria_text(claim):
    """The claim's "reproduced when": its criteria's sentences, in order."""
    return "; ".join(sentence(c) for c in claim["criteria"])


def line_label(c, op, bound, ref=None):
    """What a plot's threshold line says: 'reuseport and threadpool must reach 1.6 x epoll-lt'."""
    text = "%s must %s %s" % (and_join(c["models"] + c["also"]),
                              "reach" if op == ">=" else "stay at or below", fmt(bound))
    if ref:
        text += " x " + ref
    if c["base"]:
        text += " " + point_words(c["at"])
    return text


# --- reading a run ---------------------------------------------------------------------------------------------

def read_one(item, rows, model, ref=None, server=None):
    """One reading of a criterion or figure: {model, ref, estimate (bootstrap.Estimate or None),
    value (its median, or ratio of medians), text, label, rows, den_rows, den (the reference's median)}."""
    at = item.get("at", {})
    est = measure(rows, item["metric"], model, server, at)
    num_rows = rows_of(rows, model=model, server=server, **at)
    den, den_rows = None, []
    if item.get("base") or ref:  # the same model at the base point, or the reference at this one
        den_of = dict(model=model, server=server, at=item["base"]) if item.get("base") else dict(model=ref, at=at)
        den = measure(rows, item["metric"], **den_of)
        den_rows = rows_of(rows, model=den_of["model"], server=den_of.get("server"), **den_of["at"])
        est = bootstrap.ratio(est, den)
    return {"item": item, "model": server or model, "ref": ref, "estimate": est, "value": median(est),
            "text": estimate_text(est), "label": subject(item, server or model, ref), "rows": num_rows,
            "den_rows": den_rows, "den": median(den)}


def present(rows, model):
    return any(r.get("model") == model or r["server"] == model for r in rows)


def read(c, rows):
    """Readings of a criterion: each required model, each 'also' model the run measured, times each
    versus model the run measured (the first must be there)."""
    models = c["models"] + [m for m in c["also"] if present(rows, m)]
    refs = [v for i, v in enumerate(c["versus"]) if i == 0 or present(rows, v)] if c["versus"] else [None]
    return [judge_one(c, read_one(c, rows, m, ref)) for m in models for ref in refs]


def loadgen_bound(rows):
    """Servers with a usable row where the load generator was saturated, as text ('' when none)."""
    return ", ".join(sorted({"%s (%s)" % (r["server"], point_text(r)) for r in rows
                             if R.usable(r) and R.loadgen_bound(r)}))


def contended(rows):
    """Points whose median of other processes' CPU on the server's CPUs is >= CONTENDED: there the
    server had less CPU than it was given, and its throughput and CPU say as much about the
    neighbours as about the model. ['<server> <point>: <median>']."""
    out = []
    for key, members in R.group_points([r for r in rows if R.usable(r)]).items():
        s = R.summarize(members, R.other_cpu)
        if s and s.value >= CONTENDED:
            out.append("%s %s: %.2f" % (key[0], point_text(members[0]), s.value))
    return sorted(out)


def not_held(rows):
    """Points with idle connections where the server held fewer connections than were offered."""
    short = []
    for r in rows:
        held = R.served_connections(r) if R.usable(r) and (r.get("idle") or 0) > 0 else None
        if held is not None and held < 0.99 * R.open_connections(r):
            short.append("%s %s held %s of %s" % (r["server"], point_text(r), fmt(held), fmt(R.open_connections(r))))
    return short


def unreachable(c, reading):
    """Why a throughput criterion no server could meet on its CPUs is void, else None: with CPU work
    (--work-us), bound x the reference's throughput needs bound x that x the work in CPU seconds per
    second, and more cores than the server had makes it unreachable by construction."""
    read_rows = reading["rows"] + reading["den_rows"]
    work = max((R.num(r, "work_us") or 0 for r in read_rows), default=0) / 1e6
    if c["op"] != ">=" or not METRICS[c["metric"]]["loadgen"] or reading["den"] is None or not work:
        return None
    ncpu = min((r.get("_server_ncpu") or 1) for r in read_rows)
    need = c["bound"] * reading["den"] * work
    if need <= ncpu:
        return None
    return ("%s %s would need %s cores of CPU work (--work-us; --wait-us would model a blocking call "
            "instead), the server had %d, so no model could meet it" % (reading["label"], bound_text(c), fmt(need), ncpu))


def outcome(c, lo, hi):
    """'met' when the whole interval [lo, hi] meets the criterion, 'missed' when none of it does,
    else 'undecided'."""
    low, high = OPS[c["op"]](c["bound"])
    if low <= lo and hi <= high:
        return "met"
    return "missed" if hi < low or lo > high else "undecided"


def straddle_reason(reading):
    """Why an undecided reading decides nothing: 'poll / epoll-lt throughput at 0 idle = 1.02,
    interval [0.82..1.34] straddles the bound 1.25 (needs between 0.75 and 1.25)'."""
    c, e = reading["item"], reading["estimate"]
    low, high = OPS[c["op"]](c["bound"])
    crossed = [fmt(b) for b in (low, high) if (e.lo < b <= e.hi if b == low else e.lo <= b < e.hi)]
    return "%s = %s, interval [%s..%s] straddles the bound%s %s (needs %s)" % (
        reading["label"], fmt(e.value), fmt(e.lo), fmt(e.hi), "s" if len(crossed) > 1 else "",
        " and ".join(crossed), bound_text(c, False))


def judge_one(c, reading):
    """A reading's outcome: status met, missed, undecided (why: its interval straddles the bound)
    or unknown (why), and voids [(kind, text)]."""
    reading.update(status="unknown", why="", voids=[])
    if reading["value"] is None:
        reading["why"] = "%s could not be measured (missing points, or a reference <= 0)" % reading["label"]
        return reading
    reading["status"] = outcome(c, reading["estimate"].lo, reading["estimate"].hi)
    if reading["status"] == "undecided":
        reading["why"] = straddle_reason(reading)
    met = reading["status"] == "met"
    read_rows = reading["rows"] + reading["den_rows"]
    voids = reading["voids"]
    short = not_held(read_rows)
    if short:
        voids.append(("held", short))
    if METRICS[c["metric"]]["loadgen"]:
        # A saturated load generator understates throughput: a miss that an understated figure could
        # cause is void, and under 'between' so is a pass (equal numbers may be its limit).
        if c["op"] == "between":
            bound = loadgen_bound(read_rows)
            if bound:
                voids.append(("saturated", "load generator saturated at %s, so equal numbers may be its "
                                           "limit, not the servers'" % bound))
        elif not met:
            bound = loadgen_bound(reading["rows"] if c["op"] == ">=" else reading["den_rows"])
            if bound:
                voids.append(("saturated", "load generator saturated at %s, so the figure may show its "
                                           "limit, not the server's" % bound))
    if not met:
        why = unreachable(c, reading)
        if why:
            voids.append(("unreachable", why))
    if c["cpu"]:
        busy = contended(read_rows)
        if busy:
            voids.append(("contended", busy))
    return reading


def missing(rows, bin_dir, models):
    """Why a run cannot be judged (a model not built, or none of its runs measured anything), else None."""
    def binary(m):  # a model, or a server of the run named m: its model's
        named = [r.get("model") for r in rows if r["server"] == m and r.get("model")]
        return "server-%s" % (named[0] if named else m)
    unbuilt = [m for m in models if not os.path.exists(os.path.join(bin_dir, binary(m)))]
    if unbuilt:
        return "server not built: %s" % ", ".join(unbuilt)
    failed = []
    for m in models:
        mine = rows_of(rows, model=m)
        if not any(R.usable(r) for r in mine):
            reasons = sorted({r.get("status_reason") or "no rows" for r in mine}) or ["no rows in the run"]
            failed.append("%s (%s)" % (m, "; ".join(reasons)[:200]))
    return "no measurement for %s" % ", ".join(failed) if failed else None


def needed(criteria):
    """The models a set of criteria cannot be judged without, in the project's order."""
    names = {m for c in criteria for m in c["models"] + (c["versus"][:1] if c["versus"] else [])}
    return sorted(names, key=lambda m: (MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER), m))


# --- figures and verdicts ---------------------------------------------------------------------------------------

def figures(claim, run, rows, readings):
    """The claim's figures on one run: its shown figures, then each reading not shown yet, then
    (when a criterion reads CPU-limited figures) the largest contention met."""
    figs, seen = [], set()
    def add(label, text):
        if label not in seen:
            seen.add(label)
            figs.append((label, text))
    for f in claim.get("figures", []):
        if (f["run"] or run_names(claim)[0]) != run:
            continue
        for at in f["points"]:
            item = dict(f, at=at)
            if f["models"] is None:
                pairs = [(None, s) for s in R.servers_in_order(rows, MODEL_ORDER)]
            else:
                pairs = [(m, None) for m in f["models"] if present(rows, m)]
            for model, server in pairs:
                for ref in f["versus"] or [None]:
                    if rows_of(rows, model=model, server=server, **at) and (ref is None or present(rows, ref)):
                        reading = read_one(item, rows, model, ref, server)
                        add(reading["label"], reading["text"])
    for reading in readings:
        add(reading["label"], reading["text"])
    cpu_rows = [r for reading in readings if reading["item"]["cpu"] for r in reading["rows"] + reading["den_rows"]]
    if any(reading["item"]["cpu"] for reading in readings):
        worst = max((R.summarize(m, R.other_cpu).value for m in R.group_points([r for r in cpu_rows if R.usable(r)]).values()),
                    default=0.0)
        add("CPU others took from the server's CPUs (largest median of a point, cores)", "%.2f" % worst)
    return figs


def missed_reason(reading):
    """'poll throughput at 10,000 idle / at 0 idle = 0.9 [0.85..0.95], needs <= 0.6'."""
    return "%s = %s, needs %s" % (reading["label"], bootstrap.text(reading["estimate"], fmt),
                                  bound_text(reading["item"], False))


def unique(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def busy_text(readings):
    """The points where others took the server's CPUs under readings, in words ('' when none)."""
    busy = sorted(unique(s for r in readings for kind, v in r["voids"] if kind == "contended" for s in v))
    if not busy:
        return ""
    return "other processes took >= %.2f CPU of the server's CPUs (median over the repeats) at %s" % (
        CONTENDED, ", ".join(busy))


def decide(readings, ignore=()):
    """(verdict, reason) of readings, leaving out voids of the kinds in ignore: not reproduced when
    one is missed with nothing voiding it, inconclusive when one is undecided, unknown or void, else
    reproduced."""
    def voids(r):
        return [v for v in r["voids"] if v[0] not in ignore]
    missed = [r for r in readings if r["status"] == "missed" and not voids(r)]
    if missed:
        return NOT_REPRODUCED, "; ".join(missed_reason(r) for r in missed)
    why = unique(r["why"] for r in readings if r["status"] in ("unknown", "undecided"))
    short = unique(s for r in readings for kind, v in voids(r) if kind == "held" for s in v)
    if short:
        why.append("the idle connections were not all held: " + "; ".join(short[:4]))
    why += unique(v for r in readings for kind, v in voids(r) if kind in ("saturated", "unreachable"))
    busy = busy_text([r for r in readings if "contended" not in ignore])
    if busy:
        why.append(busy)
    return (INCONCLUSIVE, "; ".join(why)) if why else (REPRODUCED, "")


def judge_run(readings):
    """(verdict, reason) of one run's readings. Where contention alone leaves them undecided, the
    reason says what the figures read as measured."""
    kind, reason = decide(readings)
    if kind != INCONCLUSIVE or not any(v[0] == "contended" for r in readings for v in r["voids"]):
        return kind, reason
    as_measured, why = decide(readings, ignore=("contended",))
    if as_measured == INCONCLUSIVE:
        return as_measured, why
    return INCONCLUSIVE, "%s; as measured the criterion reads: %s%s" % (
        busy_text(readings), as_measured, " (%s)" % why if why else "")


def run_names(claim):
    """The experiments a claim reads (config stems), in order."""
    return claim["config"] if isinstance(claim["config"], list) else [claim["config"]]


def evaluate(claim, runs, bin_dir):
    """A claim's verdict on {experiment: rows}: {"verdict", "reason", "figures": [(label, text)]}.
    Each experiment is judged on its own criteria; over several, a clean miss in one makes the claim
    not reproduced, else one undecided makes it inconclusive."""
    names = run_names(claim)
    kinds, reasons, figs = [], [], []
    for name in names:
        mine = [c for c in claim["criteria"] if (c["run"] or names[0]) == name]
        rows = runs.get(name, [])
        gone = missing(rows, bin_dir, needed(mine))
        if gone:
            kind, reason = INCONCLUSIVE, gone
        else:
            readings = [r for c in mine for r in read(c, rows)]
            kind, reason = judge_run(readings)
            # Over several experiments a figure says which one it is from.
            figs += [(("%s: %s" % (name, label)) if len(names) > 1 else label, text)
                     for label, text in figures(claim, name, rows, readings)]
        kinds.append(kind)
        if reason:
            reasons.append("%s: %s" % (name, reason) if len(names) > 1 else reason)
    kind = NOT_REPRODUCED if NOT_REPRODUCED in kinds else INCONCLUSIVE if INCONCLUSIVE in kinds else REPRODUCED
    return {"verdict": kind, "reason": "; ".join(reasons), "figures": figs}


def plot_lines(claim, metric, rows, at=None, base=None):
    """The thresholds a plot of metric draws, from the claim's criteria at point at (any when None):
    [(y, label, model)]. A plot of values relative to the same model at base draws the criteria with
    that base; a plot of the values themselves draws plain criteria at their bound and criteria
    versus another model at the bound times that model's median."""
    lines = []
    for c in claim["criteria"]:
        if c["metric"] != metric or (at is not None and c["at"] != at) or (c["base"] or None) != (base or None):
            continue
        bounds = [(c["op"], c["bound"])] if c["op"] != "between" else [(">=", c["bound"][0]), ("<=", c["bound"][1])]
        for ref in c["versus"] or [None]:
            scale = median(measure(rows, metric, ref, None, c["at"])) if ref else 1.0
            for op, y in bounds if scale is not None else []:
                lines.append((y * scale, line_label(c, op, y, ref), c["models"][0]))
    return lines
