#!/bin/sh
# runner-capacity.t - a capacity search on a real server whose capacity is known by construction:
# threadpool with 20 workers and --wait-us 40000 over 20 keep-alive connections answers each
# request after a 40 ms sleep, so about 500 requests/s; a sleep, not CPU work, so a busy machine
# moves it little. It checks the search's own consistency, never a speed: an open-loop run at the
# capacity found meets the objective and one at 1.25 times it does not; every probe is a marked
# row of runs.csv, within the bound; capacity.csv has its documented columns; --resume replays a
# finished search without a run. A server that misses the objective at every rate (p99 1 ms, each
# answer takes 40 ms) gets a bracket from zero; Ctrl-C in its search leaves no process, and
# --resume finishes it.
. "$(dirname "$0")/runner/lib.sh"

if [ ! -x "$BIN/loadgen" ] || [ ! -x "$BIN/server-threadpool" ]; then
    echo "1..0 # skip loadgen or server-threadpool not built"
    exit 0
fi
mkbin loadgen server-threadpool

# Short windows: each probe is 0.3 s of warmup and 1 s measured.
cat > "$T/cap.yaml" <<'EOF'
name: cap
defaults: {duration: 1, warmup: 0.3, cooldown: 0}
servers:
  - model: threadpool
    workers: 20
    args: [--wait-us, 40000]
matrix: {connections: 20}
capacity: {name: slow, p99: 100ms, resolution: 10%, probes: 12}
EOF
"$BIN/bench" --config "$T/cap.yaml" --dry-run --bin "$T/bin" > "$T/plan" 2>&1
grep -q "capacity search" "$T/plan" && grep -q "slow .*p99 <= 100 ms.*at most 12 probes" "$T/plan" &&
    grep -q "at most 13 probes per server and point" "$T/plan"
ok $? "--dry-run says it is a capacity search, with the objective and the probe bound"

"$BIN/bench" --config "$T/cap.yaml" --bin "$T/bin" --out "$T/results" --quiet 2> "$T/err"
ok $? "the search runs to the end"
dir=$(ls -d "$T"/results/cap-* | head -1)

# The documented columns, and what the search left: one row, a capacity, a bracket, the probes.
"$PYTHON" - "$ROOT/docs/DESIGN.md" "$dir" > "$T/facts" <<'EOF'
import csv, re, sys
doc = open(sys.argv[1]).read()
block = doc.split("`capacity.csv` (a config with `capacity:`) one row per", 1)[1].split("```", 2)[1]
want = [c for c in re.split(r"[\s,]+", block) if c]
rows = list(csv.DictReader(open(sys.argv[2] + "/capacity.csv")))
got = next(csv.reader(open(sys.argv[2] + "/capacity.csv")))
runs = list(csv.DictReader(open(sys.argv[2] + "/runs.csv")))
c = rows[0] if len(rows) == 1 else {}
print("columns", "yes" if want == got else "no: %s vs %s" % (want, got))
print("rows", len(rows))
print("capacity", c.get("capacity_rps", ""))
print("ended", c.get("ended_by", ""))
print("bracket", "yes" if c and 0 < int(c["pass_rps"]) < int(c["fail_rps"] or 0) else "no")
print("probes", c.get("probes", ""), c.get("probe_bound", ""), len(runs))
print("marked", "yes" if runs and all(r["probe"] == "slow" for r in runs) else "no")
print("keys", "yes" if len({r["run"] for r in runs}) == len(runs) else "no")
EOF
fact() { sed -n "s/^$1 //p" "$T/facts"; }
ok $([ "$(fact columns)" = yes ] && echo 0 || echo 1) "capacity.csv has exactly docs/DESIGN.md's columns"
[ "$(fact columns)" = yes ] || diag "$(fact columns)"
ok $([ "$(fact rows)" = 1 ] && echo 0 || echo 1) "capacity.csv: one row for the server, point and objective"
ok $([ "$(fact bracket)" = yes ] && echo 0 || echo 1) "the capacity has a bracket: 0 < highest passing < lowest failing"
set -- $(fact probes)
ok $([ "$1" = "$3" ] && [ "$3" -le "$2" ] && echo 0 || echo 1) \
    "every probe is a row of runs.csv, $3 within the bound of $2"
ok $([ "$(fact marked)" = yes ] && [ "$(fact keys)" = yes ] && echo 0 || echo 1) \
    "every runs.csv row is marked with its objective, and no rate is run twice"
ok $([ "$(fact ended)" = resolution ] && echo 0 || echo 1) "the search ends by the resolution ($(fact ended))"
cap=$(fact capacity)
diag "capacity $cap requests/s ($(sed 1d "$dir/capacity.csv" | cut -d, -f18-22))"

# The search's own consistency: its capacity meets the objective, 1.25 times it does not.
if [ -n "$cap" ] && [ "$cap" -gt 0 ]; then
    over=$((cap * 5 / 4))
    sed -e '/^capacity:/d' -e "s/^matrix: .*/matrix: {connections: 20, rate: [$cap, $over]}/" \
        -e 's/^name: cap/name: check/' "$T/cap.yaml" > "$T/check.yaml"
    # A shared machine may stall the server for a while: the capacity is run again once if missed.
    : > "$T/verdicts"
    for try in 1 2; do
        grep -q "^$cap meets" "$T/verdicts" && break
        sed -i "s/^name: .*/name: check$try/" "$T/check.yaml"
        "$BIN/bench" --config "$T/check.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>> "$T/err"
        "$PYTHON" - "$(ls -d "$T"/results/check$try-* | head -1)/runs.csv" >> "$T/verdicts" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    rate = float(r["rate_rps"])
    meets = (r["status"] != "failed" and float(r["achieved_rps"] or 0) >= 0.99 * rate
             and float(r["latency_p99_us"] or 1e18) <= 100000 and float(r["errors_total"] or 0) <= 0)
    print(r["rate_rps"], "meets" if meets else "misses", r["achieved_rps"], r["latency_p99_us"], r["errors_total"])
EOF
    done
    grep -q "^$cap meets" "$T/verdicts"
    ok $? "an open-loop run at the capacity ($cap/s) meets the objective (in one of 2 runs at most)"
    ! grep -q "^$over meets" "$T/verdicts" && grep -q "^$over misses" "$T/verdicts"
    ok $? "an open-loop run at 1.25 times it ($over/s) does not (in any run)"
    diag "$(tr '\n' ';' < "$T/verdicts")"
else
    ok 1 "an open-loop run at the capacity meets the objective (no capacity found)"
    ok 1 "an open-loop run at 1.25 times it does not (no capacity found)"
fi

# The report of the search: the capacity table, the bar with its bracket, the hockey stick.
"$PYTHON" "$ROOT/report/report.py" "$dir" --out "$T/report" > "$T/report.out" 2>&1
rc=$?
"$PYTHON" - "$T/report" > "$T/rfacts" <<'EOF'
import os, sys
out = sys.argv[1]
md = open(os.path.join(out, "summary.md")).read() if os.path.exists(os.path.join(out, "summary.md")) else ""
def png(name):
    path = os.path.join(out, name)
    return os.path.exists(path) and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n" and "(%s)" % name in md
print("table", "yes" if "## Capacity" in md and "| slow, 20 conns |" in md and "| threadpool-w20 | " in md else "no")
print("images", "yes" if png("capacity-slow.png") and png("latency-vs-rate-connections20.png") else "no")
print("no-medians", "yes" if md and "## Summary" not in md else "no")
EOF
ok $([ $rc -eq 0 ] && [ "$(sed -n 's/^table //p' "$T/rfacts")" = yes ] && echo 0 || echo 1) \
    "report.py on the search: exit 0, a capacity table with the server's bracket"
[ $rc -eq 0 ] || diag "$(cat "$T/report.out")"
ok $([ "$(sed -n 's/^images //p' "$T/rfacts")" = yes ] && echo 0 || echo 1) \
    "the capacity plot and the latency-vs-rate plot are PNGs the page shows"
ok $([ "$(sed -n 's/^no-medians //p' "$T/rfacts")" = yes ] && echo 0 || echo 1) \
    "the probes are not read as repeats of a point: no median tables"

cp "$dir/capacity.csv" "$T/capacity.before"
rows_before=$(col "$dir/runs.csv" run | wc -l)
"$BIN/bench" --resume "$dir" --bin "$T/bin" --quiet 2>> "$T/err"
cmp -s "$T/capacity.before" "$dir/capacity.csv" && [ "$(col "$dir/runs.csv" run | wc -l)" -eq "$rows_before" ]
ok $? "--resume of a finished search replays it from runs.csv: no new run, the same capacity.csv"

# Missing at every rate: 1 closed-loop probe, the bound, then 6 halvings.
sed -e 's/^name: cap/name: miss/' -e 's/^capacity: .*/capacity: {p99: 1ms, resolution: 10%, probes: 8}/' \
    "$T/cap.yaml" > "$T/miss.yaml"
"$BIN/bench" --config "$T/miss.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>> "$T/err" &
pid=$!
for i in $(seq 1 200); do
    csv=$(ls "$T"/results/miss-*/runs.csv 2>/dev/null | head -1)
    [ -n "$csv" ] && [ "$(($(wc -l < "$csv") - 1))" -ge 3 ] && break
    sleep 0.1
done
sleep 0.6 # into the next probe's load
kill -INT $pid
wait $pid
rc=$?
mdir=$(ls -d "$T"/results/miss-* | head -1)
ok $([ $rc -eq 130 ] && echo 0 || echo 1) "SIGINT during a search: exit status 130 (got $rc)"
[ -z "$(leftovers)" ] && [ -z "$(leftover_cgroups $pid)" ]
ok $? "no process or cgroup left"
[ "$(sed 1d "$mdir/capacity.csv" | wc -l)" -eq 0 ]
ok $? "capacity.csv holds no row of the interrupted search"
"$BIN/bench" --resume "$mdir" --bin "$T/bin" --quiet 2>> "$T/err"
ok $? "--resume finishes the search"
"$PYTHON" - "$mdir" > "$T/miss" <<'EOF'
import csv, sys
c = list(csv.DictReader(open(sys.argv[1] + "/capacity.csv")))
runs = list(csv.DictReader(open(sys.argv[1] + "/runs.csv")))
keys = [r["run"] for r in runs]
print("rows", len(c), "distinct", len(set(keys)) == len(keys), "runs", len(runs))
if c:
    print("result", c[0]["capacity_rps"], c[0]["pass_rps"], c[0]["ended_by"], c[0]["fail_rps"],
          int(c[0]["closed_loop_rps"] or 0) // 64, c[0]["fail_reason"][:60])
EOF
set -- $(sed -n 's/^rows //p' "$T/miss")
ok $([ "$1" = 1 ] && [ "$3" = True ] && [ "$5" = 8 ] && echo 0 || echo 1) \
    "after --resume: one capacity row, 8 probes, no rate run twice ($*)"
set -- $(sed -n 's/^result //p' "$T/miss")
ok $([ "$1" = 0 ] && [ "$2" = 0 ] && [ "$3" = lowest_rate ] && [ "$4" = "$5" ] && echo 0 || echo 1) \
    "missing at every rate: capacity 0, bracket from 0 to the lowest rate tried, bound/64 ($*)"
[ -s "$T/err" ] && grep -v "^bench: " "$T/err" | head -5 | while read -r l; do diag "$l"; done
finish
