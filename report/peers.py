"""peers.py - the Peers section of a report: our load generator against wrk and h2load on the same
server, and our servers against an external one (nginx) under the same load generator.

Each line compares two sets of repeats of one point that differ in one thing only (the loader, or
the server): the median of each with its 95 % bootstrap interval, the ratio of the medians with
its interval (both sides resampled), the range of the ratios of the repeats paired by number (the
runner interleaves repeats, so repeat i of both ran within a minute of each other), and whether the
ratio's interval excludes 1.
"""

import results as R
from compare import describe, difference, interval_of
from style import MODEL_ORDER

OURS = "loadgen"

# (label, per-row metric, unit, for which comparisons: "loader", "server" or both)
METRICS = [
    ("requests/s", lambda r: R.num(r, "throughput_rps"), "", ("loader", "server")),
    ("p50 latency", lambda r: R.latency(r, "latency_p50_us"), "µs", ("loader", "server")),
    ("server CPU per request", R.cpu_us_per_request, "µs", ("loader", "server")),
    ("loader CPU share", lambda r: R.num(r, "loadgen_cpu_share"), "", ("loader",)),
]


def external_servers(rows, meta):
    """Names of the servers that are external programs: meta.json's config lists their command;
    without it, a model that is not one of ours."""
    servers = meta.get("config", {}).get("servers") or []
    named = {s.get("name") for s in servers if s.get("command")}
    if servers:
        return named
    return {r["server"] for r in rows if (r.get("model") or r["server"]) not in MODEL_ORDER}


def has_peers(rows, meta):
    return bool(external_servers(rows, meta)) or any(r.get("loader") != OURS for r in rows)


def base_key(row, without):
    """The point of a row apart from its repeat and the one thing compared ('server' or 'loader')."""
    key = {"server": row["server"], "proto": row.get("proto")}
    key.update({a: row.get(a) for a in R.AXES})
    key.pop(without)
    return tuple(sorted(key.items(), key=lambda kv: kv[0]))


def paired(a_rows, b_rows, metric):
    """(min, max) of metric(a)/metric(b) over the repeats both measured, or None."""
    b_by_rep = {r.get("repeat"): r for r in b_rows if R.usable(r)}
    ratios = []
    for a in a_rows:
        b = b_by_rep.get(a.get("repeat"))
        if not R.usable(a) or b is None:
            continue
        x, y = metric(a), metric(b)
        if x is not None and y:
            ratios.append(x / y)
    return (min(ratios), max(ratios), len(ratios)) if ratios else None


def point_words(key):
    """The point as words: the server (when fixed), then the axes away from their defaults."""
    fixed = dict(key)
    parts = [str(fixed["server"])] if "server" in fixed else []
    for axis in R.AXES:
        value = fixed.get(axis)
        if axis in fixed and (axis == "connections" or value not in (None, 0.0, 1.0, "keepalive", 64.0)):
            parts.append("%s=%s" % (axis, R.fmt_axis(value)))
    return " ".join(parts)


def comparisons(rows, meta):
    """[(kind, title, a_rows, b_rows, point words)]: loadgen/wrk and loadgen/h2load per server and
    point (kind "loader"), then each of our servers over each external one per loader and point
    (kind "server")."""
    ext = external_servers(rows, meta)
    out = []
    groups = {}
    for r in rows:
        groups.setdefault(base_key(r, "loader"), {}).setdefault(r.get("loader"), []).append(r)
    for key, by_loader in groups.items():
        for other in sorted(l for l in by_loader if l != OURS):
            if OURS in by_loader:
                out.append(("loader", "%s/%s" % (OURS, other), by_loader[OURS], by_loader[other], point_words(key)))
    groups = {}
    for r in rows:
        groups.setdefault(base_key(r, "server"), {}).setdefault(r["server"], []).append(r)
    order = R.servers_in_order(rows, MODEL_ORDER)
    for key, by_server in groups.items():
        for e in sorted(s for s in by_server if s in ext):
            for s in [s for s in order if s in by_server and s not in ext]:
                out.append(("server", "%s/%s" % (s, e), by_server[s], by_server[e], point_words(key)))
    return out


def ratio_table(rows, meta):
    """Header and body of the ratio table: one line per comparison and metric both sides measured."""
    header = ["ratio", "point", "metric", "A: median [95 % interval]", "B: median [95 % interval]",
              "A/B (medians)", "A/B 95 % interval", "A/B per repeat [min..max]", "interval excludes 1"]
    body = []
    for kind, title, a_rows, b_rows, where in comparisons(rows, meta):
        for name, metric, unit, kinds in METRICS:
            a, b = R.summarize(a_rows, metric), R.summarize(b_rows, metric)
            if kind not in kinds:
                continue
            if a is None or b is None:
                continue  # one side does not measure it (h2load: no p50): nothing to compare
            pr = paired(a_rows, b_rows, metric)
            r, v = difference(a, b)
            body.append([title, where, "%s%s" % (name, " (%s)" % unit if unit else ""), describe(a), describe(b),
                         "%.2f" % r.value if r.value is not None else "", interval_of(r),
                         "%.2f..%.2f (%d)" % pr if pr else "", v])
    return header, body


def blocks(rows, meta):
    """The Peers section as document blocks (page.py); [] for a run without peers."""
    if not has_peers(rows, meta):
        return []
    header, body = ratio_table(rows, meta)
    text = ("Ratios A/B between runs that differ in one thing: the load generator on the same server "
            "(loadgen/wrk: our loadgen's figure over wrk's), or the server under the same load "
            "generator (epoll-et/nginx). 'A/B (medians)' divides the medians of the repeats; 'per "
            "repeat' pairs repeat i of A with repeat i of B, which ran close together in time. "
            "'A/B 95 % interval', the bootstrap interval of the ratio of the medians, resamples A and B "
            "independently; 'interval excludes 1' is "
            "yes when the whole interval lies above 1 or below it. A metric "
            "one side does not measure (h2load prints no percentiles) has no line. Where the "
            "server was saturated (bottleneck server), a loader ratio near 1 is what agreement "
            "looks like; a loader that saturates first shows as the lower one.")
    return [("h", 2, "Peers"), ("p", text), ("table", header, body)]
