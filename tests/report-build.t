#!/usr/bin/python3
"""report-build.t: report/report.py on the fixture (a real small run, tests/report/fixture/, made
from tests/report/fixture.yaml): every expected file is written, every image is a valid PNG, the
HTML and the Markdown reference only files that exist, every run is in the table; bad input is
refused with a message."""

import csv
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from reporttest import FIXTURE, REPORT_DIR, Tap, html_refs, md_refs, missing_refs, png_problem, script

# The fixture config has two slices (idle 0 and idle 50); spectra and timeseries are drawn for the
# smallest and largest connections of each.
PER_SLICE = ["throughput", "latency", "cpu-per-request", "memory-per-connection", "threads-processes",
             "ctxsw-per-request", "connections"]
EXPECTED = (["%s-%s.png" % (p, s) for p in PER_SLICE for s in ("idle0", "idle50")] +
            ["%s-%s.png" % (p, pt) for p in ("spectrum", "timeseries")
             for pt in ("idle0-connections1", "idle0-connections8", "idle50-connections8")] +
            ["index.html", "summary.md"])


def main():
    t = Tap()
    out = tempfile.mkdtemp(prefix="report-test-")
    try:
        r = script("report", "--help")
        t.ok(r.returncode == 0 and "usage" in r.stdout.lower(), "report.py --help exits 0 with a usage")

        sys.path.insert(0, REPORT_DIR)
        import style
        with open(os.path.join(REPORT_DIR, "..", "servers", "models.tsv")) as f:
            listed = [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]
        t.ok(style.MODEL_ORDER == listed and set(style.MODEL_STYLE) == set(listed),
             "style.py takes the models, in order, from servers/models.tsv", style.MODEL_ORDER)

        r = script("report", FIXTURE, "--out", out)
        t.ok(r.returncode == 0, "report.py on the fixture exits 0", r.stderr)
        for name in EXPECTED:
            t.ok(os.path.exists(os.path.join(out, name)), "writes %s" % name)
        pngs = sorted(f for f in os.listdir(out) if f.endswith(".png"))
        bad = {f: png_problem(os.path.join(out, f)) for f in pngs}
        bad = {f: p for f, p in bad.items() if p}
        t.ok(pngs and not bad, "all %d images are valid PNGs" % len(pngs), bad)
        index = os.path.join(out, "index.html")
        refs = html_refs(index)
        t.ok(len([r for r in refs if r.endswith(".png")]) >= len(pngs),
             "index.html shows every image", sorted(set(pngs) - set(refs)))
        t.ok(not missing_refs(index, refs), "index.html references only files that exist",
             missing_refs(index, refs))
        md = os.path.join(out, "summary.md")
        t.ok(not missing_refs(md, md_refs(md)), "summary.md references only files that exist",
             missing_refs(md, md_refs(md)))
        with open(os.path.join(FIXTURE, "runs.csv")) as f:
            rows = list(csv.DictReader(f))
        with open(index) as f:
            page = f.read()
        t.ok(page.count("<tr") >= len(rows) + 1, "the run table has a line for each of the %d runs" % len(rows))
        statuses = {row["status"] for row in rows}
        t.ok(all(">%s<" % s in page for s in statuses), "the run table shows each status (%s)"
             % ", ".join(sorted(statuses)))

        # repeats: auto: the rule, the counts and every point's decision, as meta.json has them.
        auto = os.path.join(out, "auto")
        shutil.copytree(FIXTURE, auto)
        with open(os.path.join(auto, "meta.json")) as f:
            meta = json.load(f)
        points = sorted({(r["server"], r["run"].rsplit("_rep", 1)[0]) for r in rows})
        meta["repeats"] = {"mode": "auto", "min": 3, "max": 8, "target_pct": 5, "budget_s": 600,
                           "on": ["throughput_rps"], "method": "95% percentile bootstrap", "rounds": 2,
                           "repeats_ran": [3, 5], "stopped": {"narrow": len(points) - 1, "max": 1},
                           "points": [{"point": p, "server": s, "repeats": 5 if i == 0 else 3,
                                       "stopped": "max" if i == 0 else "narrow",
                                       "half_width_pct": {"throughput_rps": 7.25 if i == 0 else 1.5}}
                                      for i, (s, p) in enumerate(points)]}
        with open(os.path.join(auto, "meta.json"), "w") as f:
            json.dump(meta, f)
        r = script("report", auto, "--out", os.path.join(out, "auto-report"))
        with open(os.path.join(out, "auto-report", "summary.md")) as f:
            md = f.read()
        t.ok(r.returncode == 0 and "at least 3 and at most 8 times" in md and "3 to 5 repeats" in md and
             "1 stopped because the maximum was reached" in md and "the run's 600 s budget" in md,
             "repeats: auto: the report states the rule, how many ran and why they stopped", r.stderr)
        t.ok("## Repeats" in md and md.count("| narrow |") == len(points) - 1 and "| 5 | max | 7.2 % |" in md,
             "and a table of every point: repeats, why it stopped, its interval's half-width")

        # Many servers of several families: a panel per family with shared axes; a Python model in
        # its C counterpart's colour and marker, dashed.
        many = os.path.join(out, "many")
        shutil.copytree(FIXTURE, many)
        first = [r for r in rows if r["server"] == rows[0]["server"] and r["idle"] in ("0", "")]  # one slice: quick
        grown = []
        for model in style.MODEL_ORDER:
            for r in first:
                r = dict(r, server=model, model=model, run=r["run"].replace(r["server"], model, 1))
                grown.append(r)
        with open(os.path.join(many, "runs.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(grown)
        r = script("report", many, "--out", os.path.join(out, "many-report"))
        def png_width(path):
            with open(path, "rb") as f:
                head = f.read(24)
            return int.from_bytes(head[16:20], "big")
        one = png_width(os.path.join(out, "throughput-idle0.png"))
        drawn = sorted(f for f in os.listdir(os.path.join(out, "many-report")) if f.startswith("throughput")) \
            if r.returncode == 0 else []
        wide = png_width(os.path.join(out, "many-report", drawn[0])) if drawn else 0
        t.ok(r.returncode == 0 and wide >= 1.5 * one, "%d servers of 3 families: one panel per family (the plot is "
             "%d px wide, one panel %d)" % (len(style.MODEL_ORDER), wide, one), r.stderr)
        # Every model in both languages (here: the same figures copied, so every ratio is 1).
        with open(os.path.join(out, "many-report", "summary.md")) as f:
            md = f.read()
        py = [m for m in style.MODEL_ORDER if style.MODEL_LANG.get(m) == "py"]
        import languages
        lines = [l for l in md.splitlines() if any(l.startswith("| %s | %s |" % (m, languages.counterpart(m)))
                                                   for m in py)]
        ones = [l for l in lines if all(c.strip().startswith("1") for c in l.strip("|").split("|")[2:])]
        t.ok("## C and Python" in md and len(lines) == len(py) and ones == lines and
             not png_problem(os.path.join(out, "many-report", "c-over-python.png")),
             "C and Python: a line per model in both languages (%d), each ratio 1 on equal figures, "
             "and its plot" % len(py), lines[:3])
        st = style.server_styles([{"server": "fork", "model": "fork"}, {"server": "py-fork", "model": "py-fork"}])
        t.ok(st["py-fork"]["color"] == st["fork"]["color"] and st["py-fork"]["marker"] == st["fork"]["marker"] and
             st["py-fork"]["linestyle"] != st["fork"]["linestyle"],
             "a Python model: its C counterpart's colour and marker, another line style", st)

        r = script("report", out, "--out", os.path.join(out, "x"))
        t.ok(r.returncode == 2 and "runs.csv" in r.stderr, "a folder without runs.csv exits 2 and says so",
             r.stderr)
        broken = os.path.join(out, "broken")
        os.makedirs(broken)
        with open(os.path.join(FIXTURE, "runs.csv")) as src, open(os.path.join(broken, "runs.csv"), "w") as dst:
            for line in src:
                dst.write(line.replace("throughput_rps", "thruput", 1))
        r = script("report", broken, "--out", os.path.join(out, "y"))
        t.ok(r.returncode == 1 and "throughput_rps" in r.stderr,
             "a runs.csv without a required column exits 1 naming it", r.stderr)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
