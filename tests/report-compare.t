#!/usr/bin/python3
"""report-compare.t: report/compare.py on the fixture against itself (every ratio 1, no ratio's
interval excludes 1) and against a copy whose pthread throughput is scaled by a factor larger than
the spread of its repeats (that ratio's interval, and only it, excludes 1); the page and its image
hold together; bad input is refused."""

import csv
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from reporttest import FIXTURE, Tap, html_refs, missing_refs, png_problem, script


def scaled_copy(dst, server, factor):
    """The fixture with one server's throughput multiplied: a known difference to detect."""
    shutil.copytree(FIXTURE, dst)
    with open(os.path.join(FIXTURE, "runs.csv"), newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["server"] == server and row["throughput_rps"]:
            row["throughput_rps"] = str(float(row["throughput_rps"]) * factor)
    with open(os.path.join(dst, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def clear_factor(server):
    """A whole factor that moves every point of server clear of its repeats' spread: twice the
    largest max/min ratio among its points."""
    spans = {}
    with open(os.path.join(FIXTURE, "runs.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["server"] == server and row["throughput_rps"]:
                key = (row["connections"], row["idle"])
                spans.setdefault(key, []).append(float(row["throughput_rps"]))
    worst = max(max(v) / min(v) for v in spans.values() if min(v) > 0)
    return float(int(2 * worst) + 1)


def table_lines(md_path):
    """The comparison table's lines as lists of cells."""
    with open(md_path) as f:
        return [[c.strip() for c in line.strip().strip("|").split("|")] for line in f
                if line.startswith("| ") and ("throughput (" in line or "latency (" in line)]


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="compare-test-")
    try:
        r = script("compare", "--help")
        t.ok(r.returncode == 0 and "usage" in r.stdout.lower(), "compare.py --help exits 0 with a usage")

        out = os.path.join(tmp, "same")
        r = script("compare", FIXTURE, FIXTURE, "--out", out)
        t.ok(r.returncode == 0, "compare.py fixture vs itself exits 0", r.stderr)
        lines = table_lines(os.path.join(out, "compare.md"))
        t.ok(lines, "compare.md has a comparison table")
        t.ok(all(cells[4] in ("1", "") for cells in lines), "every ratio of a run with itself is 1",
             [c for c in lines if c[4] not in ("1", "")][:3])
        t.ok(not any(cells[6] == "yes" for cells in lines), "no ratio's interval excludes 1 against itself",
             [c for c in lines if c[6] == "yes"][:3])
        t.ok(all(c[6] == "n/a (1 repeat)" or (c[5] and float(c[5].split("..")[0]) <= 1 <= float(c[5].split("..")[1]))
                 for c in lines), "every interval of a ratio of a run with itself holds 1",
             [c for c in lines if c[6] != "no"][:3])
        index = os.path.join(out, "index.html")
        t.ok(not missing_refs(index, html_refs(index)), "index.html references only files that exist")
        t.ok(png_problem(os.path.join(out, "throughput-ratio.png")) is None, "the ratio plot is a valid PNG")

        scaled = os.path.join(tmp, "scaled")
        factor = clear_factor("pthread")
        scaled_copy(scaled, "pthread", factor)
        out = os.path.join(tmp, "diff")
        r = script("compare", FIXTURE, scaled, "--out", out)
        t.ok(r.returncode == 0, "compare.py fixture vs scaled copy exits 0", r.stderr)
        lines = [c for c in table_lines(os.path.join(out, "compare.md")) if c[1].startswith("throughput")]
        pth = [c for c in lines if c[0].startswith("pthread ")]
        rest = [c for c in lines if not c[0].startswith("pthread ")]
        t.ok(pth and all(abs(float(c[4]) - factor) < 0.01 and c[6] == "yes" and c[7] == "B better" for c in pth),
             "pthread x%g shows that ratio, its interval excluding 1, B better" % factor, pth)
        t.ok(rest and all(c[4] == "1" and c[6] != "yes" for c in rest), "the other servers are unchanged", rest[:3])

        r = script("compare", FIXTURE, os.path.join(tmp, "nothing"), "--out", os.path.join(tmp, "x"))
        t.ok(r.returncode == 2 and "runs.csv" in r.stderr, "a folder without runs.csv exits 2 and says so", r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
