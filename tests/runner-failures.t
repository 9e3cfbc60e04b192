#!/bin/sh
# runner-failures.t - a server that misbehaves is a result, not a runner failure: no ready line,
# a crash mid-run, SIGTERM ignored, a child left behind, a binary missing, a loadgen that fails.
# Each gives a row with the right status and reason, the next row still runs, nothing is left.
. "$(dirname "$0")/runner/lib.sh"
mkbin

cat > "$T/fail.yaml" <<'EOF'
name: fail
defaults: {proto: echo, duration: 1, warmup: 0, cooldown: 0, ready_timeout: 1, stop_grace: 0.5}
servers: [fakenoready, fakecrash, fakestubborn, fakeorphan, iterative, fake]
EOF
rm -f "$T/bin/server-iterative" # a known model, not built (in this bin dir)
"$BIN/bench" --config "$T/fail.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>"$T/err"
pid=$!
ok $? "bench exits 0: failed servers are results"
csv=$(ls "$T"/results/fail-*/runs.csv)
row() { "$PYTHON" -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["server"] == sys.argv[2]:
        print(r["status"] + "|" + r["status_reason"])' "$csv" "$1"; }

case $(row fakenoready) in "failed|no ready line from the server within 1 s"*) r=0 ;; *) r=1 ;; esac
ok $r "no ready line: failed, and says so ($(row fakenoready))"
case $(row fakecrash) in "failed|server exited (exit 3) during the run"*) r=0 ;; *) r=1 ;; esac
ok $r "crash during the run: failed with its exit status ($(row fakecrash))"
case $(row fakestubborn) in *"after SIGTERM: killed"*) r=0 ;; *) r=1 ;; esac
ok $r "SIGTERM ignored: killed after the grace, noted ($(row fakestubborn))"
case $(row fakeorphan) in *"outlived the server: killed"*) r=0 ;; *) r=1 ;; esac
ok $r "a child left behind: killed, noted ($(row fakeorphan))"
case $(row iterative) in "failed|cannot run "*"server-iterative"*) r=0 ;; *) r=1 ;; esac
ok $r "a model not built: failed, cannot run ($(row iterative))"
case $(row fake) in "ok|"*) r=0 ;; *) r=1 ;; esac
ok $r "the row after them all runs normally ($(row fake))"
[ -z "$(leftovers)" ]
ok $? "no process left"

# A loadgen that fails without output: failed rows, the run goes on.
cat > "$T/lgfail.yaml" <<'EOF'
name: lgfail
defaults: {proto: echo, duration: 1, warmup: 0, cooldown: 0}
servers: [fake]
EOF
FAKE_LOADGEN=fail "$BIN/bench" --config "$T/lgfail.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>"$T/err"
ok $? "bench exits 0 when the loadgen fails"
csv=$(ls "$T"/results/lgfail-*/runs.csv)
case $(row fake) in "failed|loadgen exit 1 without a usable --json"*) r=0 ;; *) r=1 ;; esac
ok $r "loadgen failure: failed, with its exit status ($(row fake))"

# A server's own server_cpus pins it there; the others keep the defaults'.
cat > "$T/pin.yaml" <<EOF
name: pin
defaults: {proto: echo, duration: 0.5, warmup: 0, cooldown: 0, server_cpus: "0", loadgen_cpus: "1"}
servers:
  - {model: fake, name: both, server_cpus: "0-1", args: [--cpus-file, $T/both.cpus]}
  - {model: fake, name: dflt, args: [--cpus-file, $T/dflt.cpus]}
EOF
"$BIN/bench" --config "$T/pin.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>"$T/err"
ok $([ $? -eq 0 ] && [ "$(cat "$T/both.cpus")" = "0 1" ] && [ "$(cat "$T/dflt.cpus")" = "0" ] && echo 0 || echo 1) \
    "server_cpus of a server pins it there, the others on the defaults' ($(cat "$T/both.cpus"); $(cat "$T/dflt.cpus"))"

# No loadgen at all: refuse to start (exit 1), before any server runs.
rm "$T/bin/loadgen"
"$BIN/bench" --config "$T/lgfail.yaml" --bin "$T/bin" --out "$T/results2" --quiet 2>"$T/err"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "no loadgen binary: exit 1"
[ ! -e "$T/results2" ]
ok $? "... and no results folder"
[ -z "$(leftovers)" ]
ok $? "no process left"
finish
