#!/bin/sh
# runner-repeats.t - repeats: auto run for real, on the fakes with scripted throughputs (the fake
# loadgen reports the next figure of FAKE_LOADGEN_RPS): a steady server stops at repeats_min, a
# noisy one runs on, interleaved, to repeats_max; runs.csv holds exactly those rows and meta.json
# says how many ran and why each stopped. --resume of the finished run runs nothing; a budget stops
# after the first repeats; bad values stop before anything runs. The decisions themselves (the
# interval, rotation, every reason) are unit-tested by runner-test/repeats-test first.
. "$(dirname "$0")/runner/lib.sh"

"$BIN/runner-test/repeats-test" "$ROOT/tests/runner/repeats.yaml" > "$T/unit"
rc=$?
sed 's/^/    /' "$T/unit"
ok $rc "repeats-test: the unit tests of repeats.c pass"

mkbin
cat > "$T/auto.yaml" <<'EOF'
name: auto
defaults: {proto: echo, duration: 0.3, warmup: 0, cooldown: 0, repeats: auto, repeats_min: 2,
           repeats_max: 4, repeats_target: 5%}
servers:
  - {model: fake, name: steady}
  - {model: fake, name: noisy}
matrix: {connections: 2}
EOF
"$BIN/bench" --config "$T/auto.yaml" --bin "$T/bin" --dry-run > "$T/plan" 2>&1
grep -q "repeats: auto: each server and point at least 2, at most 4 times" "$T/plan" &&
    grep -q "estimated duration: .* to " "$T/plan"
ok $? "--dry-run states the rule and a range of durations"

# Run order: plan rows steady noisy | noisy steady (the rotation), then a round of noisy alone, twice.
printf '%s\n' 1000 800 1200 1000 800 1200 > "$T/rps"
FAKE_LOADGEN_RPS=$T/rps "$BIN/bench" --config "$T/auto.yaml" --bin "$T/bin" --out "$T/results" --quiet 2> "$T/err"
ok $? "the run ends"
dir=$(ls -d "$T"/results/auto-* | head -1)
"$PYTHON" - "$dir" > "$T/facts" <<'EOF'
import csv, json, sys
d = sys.argv[1]
runs = list(csv.DictReader(open(d + "/runs.csv")))
m = json.load(open(d + "/meta.json"))["repeats"]
pts = {p["server"]: p for p in m["points"]}
print("rows", " ".join("%s:%s" % (r["server"], r["repeat"]) for r in runs))
print("steady", pts["steady"]["repeats"], pts["steady"]["stopped"])
print("noisy", pts["noisy"]["repeats"], pts["noisy"]["stopped"], pts["noisy"]["half_width_pct"]["throughput_rps"])
print("meta", m["mode"], m["min"], m["max"], m["target_pct"], m["rounds"], m["repeats_ran"], sorted(m["stopped"].items()))
print("order", "yes" if [int(r["order"]) for r in runs] == sorted(int(r["order"]) for r in runs) and
      len({r["order"] for r in runs}) == len(runs) else "no")
EOF
fact() { sed -n "s/^$1 //p" "$T/facts"; }
[ "$(fact rows)" = "steady:1 noisy:1 noisy:2 steady:2 noisy:3 noisy:4" ]
ok $? "runs.csv: both twice, interleaved, then the noisy one alone up to 4 ($(fact rows))"
[ "$(fact steady)" = "2 narrow" ]
ok $? "meta.json: the steady server stopped at 2, narrow ($(fact steady))"
case $(fact noisy) in "4 max "*) r=0 ;; *) r=1 ;; esac
ok $r "meta.json: the noisy one stopped at 4 by the maximum, with its interval's half-width ($(fact noisy))"
[ "$(fact meta)" = "auto 2 4 5 2 [2, 4] [('max', 1), ('narrow', 1)]" ]
ok $? "meta.json: the rule, the rounds, the range of repeats and the count per reason ($(fact meta))"
[ "$(fact order)" = yes ]
ok $? "the order column numbers the rows as they ran, each once"

: > "$T/rps"
"$BIN/bench" --resume "$dir" --bin "$T/bin" --quiet 2> "$T/err2"
rc=$?
rows=$(($(wc -l < "$dir/runs.csv") - 1))
[ $rc -eq 0 ] && [ "$rows" -eq 6 ] && grep -q '"skipped_resume": 6' "$dir/meta.json"
ok $? "--resume of the finished run replays the decisions from runs.csv and runs nothing ($rows rows)"

printf '%s\n' 1000 800 1200 1000 > "$T/rps"
FAKE_LOADGEN_RPS=$T/rps "$BIN/bench" --config "$T/auto.yaml" --set repeats_budget=10ms --bin "$T/bin" \
    --out "$T/budget" --quiet 2> "$T/err3"
bdir=$(ls -d "$T"/budget/auto-* | head -1)
rows=$(($(wc -l < "$bdir/runs.csv") - 1))
[ "$rows" -eq 4 ] && grep -q '"stopped": {"narrow": 1, "budget": 1}' "$bdir/meta.json" &&
    grep -q '"repeats_budget_s":0.01' "$bdir/meta.json"
ok $? "--set repeats_budget=10ms: the first repeats only, the noisy pair stopped by the budget ($rows rows)"

bad() { # bad NAME WANT-MESSAGE YAML-LINE...
    name=$1 want=$2
    shift 2
    printf '%s\n' "name: bad" "servers: [fake]" "$@" > "$T/$name.yaml"
    "$BIN/bench" --config "$T/$name.yaml" --bin "$T/bin" --dry-run > "$T/$name.out" 2>&1
    rc=$?
    [ $rc -eq 2 ] && grep -q -- "$want" "$T/$name.out"
    ok $? "$name: exit 2 with \"$want\" (exit $rc)"
    [ $rc -eq 2 ] && grep -q -- "$want" "$T/$name.out" || diag "$(cat "$T/$name.out")"
}
bad min-above-max "min-above-max.yaml:6:1: repeats_min 5 is above repeats_max 4" "defaults:" "  repeats: auto" \
    "  repeats_min: 5" "  repeats_max: 4"
bad unknown-column "'repeats_on' expects one of throughput_rps" "defaults: {repeats: auto, repeats_on: [rps]}"
bad with-capacity "repeats: auto repeats rows until narrow" "defaults: {repeats: auto}" "capacity: {p99: 1ms}"
bad not-auto "'repeats' expects a whole number from 1 to 1000, or auto" "defaults: {repeats: sometimes}"
finish
