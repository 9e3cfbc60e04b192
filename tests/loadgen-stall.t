#!/bin/bash
# Coordinated omission check: open loop at 1,000 requests/s for 10 s against a server
# (nginx as one process) frozen with SIGSTOP for 1 s in the middle. Requests that were due during
# the freeze are timed from their intended send time, so the corrected p99 must reach 500 ms,
# while the uncorrected p99 (from the actual send) is reported beside it.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

if ! command -v nginx > /dev/null; then
    echo "1..0 # SKIP nginx not installed (make deps)"
    exit 0
fi
start_nginx 1 single || { echo "Bail out! nginx did not start"; exit 1; }

"$BIN/loadgen" --target "127.0.0.1:$NGINX_PORT" -c 10 --rate 1000 -d 10 -q \
    --json "$LG_TMP/stall.json" --timeseries "$LG_TMP/stall.csv" > "$LG_TMP/stall.out" 2>&1 &
LG=$!
sleep 4.5
kill -STOP "$NGINX_PID"
sleep 1
kill -CONT "$NGINX_PID"
wait $LG
ok $? "loadgen exit 0"
f="$LG_TMP/stall.json"
diag "corrected p50/p99/max us: $(jget "$f" 'j["latency_us"]["p50"], j["latency_us"]["p99"], j["latency_us"]["max"]')"
diag "scheduled $(jget "$f" 'j["scheduled"]'), unsent $(jget "$f" 'j["unsent"]'), own lag $(jget "$f" 'j["send_lag_self_us"]')"
diag "uncorrected p50/p99/max us: $(jget "$f" 'j["latency_uncorrected_us"]["p50"], j["latency_uncorrected_us"]["p99"], j["latency_uncorrected_us"]["max"]')"
check "corrected p99 >= 500 ms" jtrue "$f" 'j["latency_us"]["p99"] >= 500000'
check "uncorrected p99 reported beside it, and smaller" jtrue "$f" \
    '0 < j["latency_uncorrected_us"]["p99"] < j["latency_us"]["p99"]'
check "no errors: the freeze was shorter than the timeout" jtrue "$f" 'j["errors_total"] == 0'
check "the backlog was sent late, and the lag shows it" jtrue "$f" 'j["send_lag_us"]["max"] >= 500000'
check "the late sends are the server's doing: own lag p99 far below the send lag p99" jtrue "$f" \
    'j["send_lag_self_us"]["p99"] * 10 < j["send_lag_us"]["p99"]'
check "intended rate 1000/s, about 10,000 scheduled and none left unsent" jtrue "$f" \
    'j["intended_rps"] == 1000 and abs(j["scheduled"] - 10000) <= 20 and j["unsent"] == 0'
done_testing
