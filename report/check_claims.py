#!/usr/bin/python3
"""check_claims.py - check the course's claims about concurrency models by measurement.

    check_claims.py run --bench bin/bench --bin bin [--budget 20m] configs/claims/*.yaml   run each, then verdicts
    check_claims.py verdicts --bin bin configs/claims/*.yaml                verdicts from the newest runs

Each claim (claims.py) names its experiment by the file stem of a config in configs/claims/
(idle.yaml: "idle"; its `name:` is "claim-idle", the prefix of its results folder, apart from the
runner's own configs/idle.yaml) and criteria fixed before anything was measured. A verdict is
"reproduced" when every criterion holds on the whole 95 % bootstrap interval of its median over the
repeats, "not reproduced" when one misses on its whole interval, and "inconclusive" with the reason
when the measurement cannot decide: an interval straddles a bound (too noisy), a server is not
built or its runs failed, the load generator was the bottleneck where the criterion needs the
server's limit, or the experiment could not hold the load it asked for (criteria.py). Criteria are
never tuned to the data; the figures behind every verdict are printed beside it.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import time

import criteria as K
import page
import repeats
import results as R
from claims import CLAIMS, READING
from criteria import CONTENDED, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED

# --- finding and running the experiments -----------------------------------------------------------

def stem(path):
    """The experiment a config is for, as claims name it: its file stem."""
    return os.path.splitext(os.path.basename(path))[0]


def config_name(path):
    """The results prefix of a config: its `name:` line (else its stem, as the runner does)."""
    with open(path) as f:
        for line in f:
            m = re.match(r"name:\s*['\"]?([A-Za-z0-9_.-]+)", line)
            if m:
                return m.group(1)
    return stem(path)


def newest_run(results_dir, name):
    """The newest results/<name>-YYYYmmdd-HHMMSS folder with a runs.csv, or None."""
    found = [d for d in glob.glob(os.path.join(results_dir, "%s-*" % name))
             if re.search(r"-\d{8}-\d{6}$", d) and os.path.exists(os.path.join(d, "runs.csv"))]
    return max(found) if found else None


def seconds(text):
    """Seconds in the runner's way of writing a duration: 12s, 5m07s, 1h02m03s."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([hms])", text))


def first_repeats_s(bench, bin_dir, path):
    """What the runner estimates a config's first repeats take (--dry-run's first duration)."""
    out = subprocess.run([bench, "--config", path, "--bin", bin_dir, "--dry-run"], capture_output=True, text=True)
    m = re.search(r"^estimated duration: (?:at most )?(\S+)", out.stdout, re.M)
    return seconds(m.group(1)) if m else 0.0


def run_configs(bench, bin_dir, results_dir, configs, budget_s=None):
    """Run every config through the runner; returns {config name: its new results folder}. With a
    budget, each config's repeats: auto gets the share of what is left that its first repeats'
    estimate is of all the configs' left (a config's first repeats always run: the budget only
    stops further rounds)."""
    done = {}
    estimates = [first_repeats_s(bench, bin_dir, p) for p in configs] if budget_s else []
    begin = time.monotonic()
    for i, path in enumerate(configs):
        name = config_name(path)
        before = newest_run(results_dir, name)
        start = time.monotonic()
        cmd = [bench, "--config", path, "--bin", bin_dir, "--out", results_dir, "--quiet"]
        share = ""
        if budget_s:
            left, rest = budget_s - (start - begin), sum(estimates[i:]) or 1.0
            mine = max(1.0, left * estimates[i] / rest)
            cmd += ["--set", "repeats_budget=%.0f" % mine]
            share = ", repeats budget %.0f s of %.0f s left" % (mine, max(left, 0))
        print("claims: running %s (load average %.2f%s)" % (path, os.getloadavg()[0], share), file=sys.stderr)
        rc = subprocess.call(cmd)
        after = newest_run(results_dir, name)
        if rc != 0:
            print("claims: %s: bench exited %d" % (path, rc), file=sys.stderr)
        if after and after != before:
            done[name] = after
        print("claims: %s done in %.0f s" % (path, time.monotonic() - start), file=sys.stderr)
    return done


def cpu_count(cpus):
    """CPUs in a list such as '0', '0-1' or '0,2-3'; None when empty or unreadable."""
    n = 0
    for part in cpus.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        n += int(hi) - int(lo) + 1 if hi else 1
    return n or None


def busy_note(rows):
    """A warning when other processes took CPU from the server's CPUs in some runs of a claim's
    experiments (the runner measures it per run and notes it from 0.1 core up): it does not change a
    verdict (criteria.judge_one() does, where the median of a point is contended), it says how far to
    trust it. Measured during the runs, not read off the load average at start, which in `make
    claims` mostly counts the previous experiment's own processes."""
    worst = max((R.other_cpu(r) for r in rows if R.usable(r)), default=0.0)
    if worst < CONTENDED:
        return ""
    return "other processes took up to %.2f CPU of the server's CPUs in some runs: noisy" % worst


def load_average_text(meta):
    la = meta.get("host", {}).get("loadavg_start")
    return " ".join("%.2f" % x for x in la) if la else "?"


def write_verdicts(bin_dir, results_dir, configs, out_dir):
    """Evaluate every claim on the newest run of its config; write index.html and claims.md."""
    os.makedirs(out_dir, exist_ok=True)
    names = {stem(p): p for p in configs}
    runs = {n: newest_run(results_dir, config_name(p)) for n, p in names.items()}
    data = {n: R.read_runs(d) if d else [] for n, d in runs.items()}
    metas = {n: R.read_meta(d) if d else {} for n, d in runs.items()}
    for n, rows in data.items():  # criteria that depend on the server's CPU count read it per row
        ncpu = cpu_count(metas[n].get("pinning", {}).get("server_cpus", ""))
        args = {s.get("name"): s.get("args") or [] for s in metas[n].get("config", {}).get("servers", [])}
        for r in rows:
            r["_server_ncpu"] = ncpu
            r["_server_args"] = args.get(r.get("server"), [])
    summary, sections = [], []
    for claim in CLAIMS:
        wanted = K.run_names(claim)
        absent = [n for n in wanted if n not in names]
        empty = [n for n in wanted if n in names and not data.get(n)]
        rows = {n: data.get(n, []) for n in wanted}
        if absent:
            v = {"verdict": INCONCLUSIVE, "reason": "experiment %s not run (not given)" % ", ".join(
                "configs/claims/%s.yaml" % n for n in absent), "figures": []}
        elif empty:
            v = {"verdict": INCONCLUSIVE, "reason": "no results for %s under %s/ (run `make claims`)" % (
                ", ".join(empty), results_dir), "figures": []}
        else:
            v = K.evaluate(claim, rows, bin_dir)
            busy = busy_note([r for n in wanted for r in data.get(n, [])])
            if busy:
                v["reason"] = "; ".join(x for x in (v["reason"], busy) if x)
        claim_v = dict(claim, result=v, runs=[runs.get(n) for n in wanted], configs=wanted)
        summary.append([claim["words"], K.criteria_text(claim), v["verdict"], v["reason"]])
        sections += claim_section(claim_v, rows, out_dir)
    blocks = [("p", "Each claim of the course is checked by an experiment in configs/claims/ run through "
                    "bin/bench, against criteria fixed before anything was measured. Verdicts: "
                    "reproduced, not reproduced, or inconclusive with the reason."),
              ("toc",), ("h", 2, "How the criteria read the measurements")]
    blocks += [("p", "- " + line) for line in READING]
    blocks.append(("h", 2, "Verdicts"))
    blocks.append(("table", ["claim", "reproduced when", "verdict", "why"], summary,
                   [row_class(s[2]) for s in summary]))
    blocks.append(("h", 2, "Runs and machine load"))
    run_rows = []
    for n in sorted(names):
        meta = metas.get(n, {})
        run_rows.append([n, R.run_name(runs[n]) if runs.get(n) else "not run", meta.get("started", ""),
                         meta.get("wall_s"), repeats.short(meta), load_average_text(meta)])
    blocks.append(("table", ["experiment", "results folder", "started", "wall s", "repeats (why they stopped)",
                             "load average at start (1 5 15 min)"], run_rows))
    blocks += sections
    page.write(os.path.join(out_dir, "index.html"), page.to_html("Course claims, measured", blocks))
    page.write(os.path.join(out_dir, "claims.md"), page.to_markdown("Course claims, measured", blocks))
    return summary


def row_class(kind):
    return {REPRODUCED: "reproduced", NOT_REPRODUCED: "not", INCONCLUSIVE: "inconclusive"}.get(kind, "")


def claim_section(claim, rows, out_dir):
    v = claim["result"]
    where = "; ".join("configs/claims/%s.yaml, results %s" % (n, R.run_name(d) if d else "none")
                      for n, d in zip(claim["configs"], claim["runs"]))
    blocks = [("h", 2, "Claim: %s" % claim["words"]),
              ("p", "Experiment: %s (%s)." % (claim["experiment"], where)),
              ("p", "Reproduced when: %s." % K.criteria_text(claim)),
              ("p", "Verdict: %s%s" % (v["verdict"].upper(), (" - " + v["reason"]) if v["reason"] else ""))]
    if v["figures"]:
        blocks.append(("table", ["figure", "measured"], [[a, b] for a, b in v["figures"]]))
    if any(R.usable(r) for rs in rows.values() for r in rs):
        name = "%s.png" % claim["id"]
        caption = claim["plot"](claim, rows, os.path.join(out_dir, name))
        if caption:
            blocks.append(("img", name, caption))
    return blocks


def main(argv):
    ap = argparse.ArgumentParser(description="Run the claim experiments (configs/claims/*.yaml) and write a "
                                             "verdict per course claim to report/claims/.")
    ap.add_argument("mode", choices=["run", "verdicts"], help="run: run the configs first; verdicts: "
                                                              "only evaluate the newest runs")
    ap.add_argument("configs", nargs="+", help="claim configs (configs/claims/*.yaml)")
    ap.add_argument("--bench", default="bin/bench", help="the runner (default bin/bench)")
    ap.add_argument("--bin", default="bin", help="where server-<model> binaries are (default bin)")
    ap.add_argument("--results", default="results", help="results folder of the runs (default results)")
    ap.add_argument("--out", help="output folder (default: report/claims beside this script)")
    ap.add_argument("--budget", help="run: wall time for all the configs' repeats: auto (e.g. 20m), shared out "
                                     "by their estimates; default none")
    args = ap.parse_args(argv)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "claims")
    start = time.monotonic()
    if args.mode == "run":
        run_configs(args.bench, args.bin, args.results, args.configs, args.budget and seconds(args.budget))
    summary = write_verdicts(args.bin, args.results, args.configs, out)
    for words, _, kind, reason in summary:
        print("%-16s %s%s" % (kind, words, (" -- " + reason) if reason else ""))
    print("claims: %s/index.html (%.0f s)" % (out, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
