"""repeats.py - what a run's meta.json says about its repeats, in words: a fixed number, or for
`repeats: auto` how many each (server, point) ran and why it stopped (runner/repeats.c)."""

STOPPED = {
    "narrow": "its interval was narrow enough",
    "max": "the maximum was reached",
    "budget": "the time budget was spent",
    "no figure": "every run failed (nothing to narrow)",
    "interrupted": "the run was interrupted",
}


def summary(meta):
    """One sentence: how the repeats were decided and how many ran; '' without meta.json."""
    rep = meta.get("repeats") or {}
    if rep.get("mode") == "fixed":
        return "Repeats: %s per point (fixed)." % rep.get("repeats")
    if rep.get("mode") != "auto":
        return ""
    lo, hi = (rep.get("repeats_ran") or [None, None])[:2]
    budget = rep.get("budget_s") or 0
    stopped = rep.get("stopped") or {}
    return ("Repeats: auto -- each server and point ran at least %s and at most %s times, going on until the 95 %% interval of its "
            "median was within %g %% of it on %s, or %s (%s). It ran %s; %s; %d rounds beyond the first." % (
                rep.get("min"), rep.get("max"), rep.get("target_pct", 0), ", ".join(rep.get("on") or []),
                "%d repeats were reached" % rep.get("max", 0) if not budget else
                "%d repeats were reached or the run's %.0f s budget was spent" % (rep.get("max", 0), budget),
                rep.get("method", "bootstrap"),
                "%s repeats" % lo if lo == hi else "%s to %s repeats" % (lo, hi),
                ", ".join("%d stopped because %s" % (n, STOPPED.get(k, k)) for k, n in sorted(stopped.items())),
                rep.get("rounds", 0)))


def short(meta):
    """A table cell: '3', or 'auto: 3-8 ran, narrow 10, max 2'."""
    rep = meta.get("repeats") or {}
    if rep.get("mode") == "fixed":
        return str(rep.get("repeats"))
    if rep.get("mode") != "auto":
        return ""
    lo, hi = (rep.get("repeats_ran") or ["?", "?"])[:2]
    return "auto: %s ran; %s" % (lo if lo == hi else "%s-%s" % (lo, hi),
                                 ", ".join("%s %d" % (k, n) for k, n in sorted((rep.get("stopped") or {}).items())))


def table(meta):
    """(header, body) of every (server, point) of an auto run: repeats, why stopped, the widths; None
    for a fixed number."""
    rep = meta.get("repeats") or {}
    if rep.get("mode") != "auto":
        return None
    cols = rep.get("on") or []
    body = []
    for p in rep.get("points") or []:
        widths = p.get("half_width_pct") or {}
        body.append([p.get("server", ""), p.get("point", "")[len(p.get("server", "")) + 1:], p.get("repeats"),
                     p.get("stopped", "")] +
                    ["" if widths.get(c) is None else "%.1f %%" % widths[c] for c in cols])
    return ["server", "point", "repeats", "stopped"] + ["%s: half-width" % c for c in cols], body
