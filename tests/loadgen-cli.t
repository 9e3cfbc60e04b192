#!/bin/bash
# The load generator's command line: --help, refusals of bad input (exit 1 with a message), a dead
# target (bounded, counted, exit 2 past --max-errors), and the fd budget that calls for --procs.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh
LG="$BIN/loadgen"

out=$("$LG" --help); rc=$?
ok $rc "--help exits 0"
for opt in --target --proto --path --connections --idle --threads --procs --duration --warmup --rate \
    --arrival --size --pipeline --conn-mode --timeout --source-ips --connect-rate --max-errors \
    --csv --json --timeseries --hist --hlog --start-at; do
    case "$out" in *"$opt"*) ;; *) missing="$missing $opt" ;; esac
done
check "--help names every option${missing:+ (missing:$missing)}" test -z "$missing"

refuse() {  # refuse DESCRIPTION ARGS...: exit 1 and a message on stderr, nothing on stdout
    local desc=$1
    shift
    "$LG" "$@" > "$LG_TMP/r.out" 2> "$LG_TMP/r.err"
    local rc=$?
    [ $rc -eq 1 ] && [ -s "$LG_TMP/r.err" ] && [ ! -s "$LG_TMP/r.out" ]
    ok $? "refused: $desc (exit $rc: $(head -c 100 "$LG_TMP/r.err"))"
}
refuse "no --target"
refuse "target without a port" --target 127.0.0.1
refuse "unknown option" --target 127.0.0.1:1 --bogus
refuse "bad proto" --target 127.0.0.1:1 --proto ftp
refuse "zero connections" --target 127.0.0.1:1 -c 0
refuse "bad duration" --target 127.0.0.1:1 -d soon
refuse "bad conn-mode" --target 127.0.0.1:1 --conn-mode reqs=0
refuse "path without a slash" --target 127.0.0.1:1 --path index.html
refuse "source ips of a bad range" --target 127.0.0.1:1 --source-ips 127.0.0.9-127.0.0.1
refuse "start-at that is no time" --target 127.0.0.1:1 --start-at tomorrow
refuse "start-at with a sign" --target 127.0.0.1:1 --start-at -5
refuse "more connections than one process can hold" --target 127.0.0.1:1 -c 30000
grep -q -- "--procs" "$LG_TMP/r.err"
ok $? "the fd refusal says to use --procs"

# A port nobody listens on: the run still takes its duration, counts connect errors, spins not.
start_server gone "$BIN/loadgen-echod" --port 0 || exit 1
stop_server "$SRV_PID"
"$LG" --target "127.0.0.1:$SRV_PORT" -c 50 -d 1 --json "$LG_TMP/gone.json" --max-errors 0 -q 2> "$LG_TMP/gone.err"
ok $(( $? != 2 )) "refused connections past --max-errors 0: exit 2"
check "refused connections: counted as connect errors, rate-limited" jtrue "$LG_TMP/gone.json" \
    'j["errors"]["connect"] == j["errors_total"] and 50 <= j["errors_total"] <= 300 and j["requests_sent"] == 0'
# SIGTERM (the runner's stop) or SIGINT: the run ends early, drains, and still reports.
start_server term "$BIN/loadgen-echod" --port 0 || exit 1
"$LG" --target "127.0.0.1:$SRV_PORT" --proto echo -c 4 -d 30 -q --json "$LG_TMP/term.json" &
P=$!
sleep 1
kill -TERM $P
t0=$(date +%s.%N)
wait $P
rc=$?
el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
ok $rc "SIGTERM: exit 0 (took ${el}s after the signal)"
check "SIGTERM: results of the shortened window written" jtrue "$LG_TMP/term.json" \
    'j["requests"] > 0 and 0.5 < j["window_s"] < 5 and j["incomplete"] == 0'
stop_server "$SRV_PID"
done_testing
