#!/bin/bash
# The load generator against the echod test server: exact request and byte accounting against the
# server's own counters (closed loop, pipelined, open loop, close and reqs=N connection modes,
# several threads and processes, source addresses), idle connections, and mismatch detection.
# Every run is bounded by its --duration.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

# run_vs NAME 'LOADGEN ARGS' [ECHOD ARGS]: one echod, one loadgen run, both stats files kept.
run_vs() {
    local name=$1 args=$2
    shift 2
    start_server "echod-$name" "$BIN/loadgen-echod" --port 0 --stats "$LG_TMP/$name.srv.json" "$@" || return 1
    # shellcheck disable=SC2086
    timeout 60 "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" --proto echo -q \
        --json "$LG_TMP/$name.json" $args > "$LG_TMP/$name.out" 2>&1
    LG_RC=$?
    stop_server "$SRV_PID"
    [ $LG_RC -eq 0 ] || diag "loadgen $args: exit $LG_RC: $(cat "$LG_TMP/$name.out")"
}

# The server's read batches equal our messages only when each message arrives in one read: small
# messages, one in flight per connection. Bytes must match in every mode.
SRV='json.load(open(sys.argv[1].replace(".json", ".srv.json")))'
srv() { "$PYTHON" -c "import json,sys; s=$SRV; print(s['$2'])" "$1" 2>/dev/null || echo "srv-failed"; }

for c in 1 100; do
    run_vs "c$c" "-c $c -t 2 -d 1"
    ok $LG_RC "echo $c connections: exit 0"
    f="$LG_TMP/c$c.json"
    check "echo $c connections: 0 errors, 0 incomplete" jtrue "$f" 'j["errors_total"] == 0 and j["incomplete"] == 0 and j["requests"] > 0'
    same "echo $c connections: requests_total == server requests" \
        "$(jget "$f" 'j["requests_total"]')" "$(srv "$f" requests)"
    same "echo $c connections: bytes out == server bytes in, bytes in == server bytes out" \
        "$(jget "$f" 'j["bytes_out"], j["bytes_in"]')" "($(srv "$f" bytes_in), $(srv "$f" bytes_out))"
    check "echo $c connections: sent == answered" jtrue "$f" 'j["requests_sent"] == j["requests_total"]'
done

run_vs pipe "-c 20 -d 1 --pipeline 8 --size 100"
f="$LG_TMP/pipe.json"
check "pipeline 8: 0 errors, every byte checked, bytes match the server" \
    jtrue "$f" 'j["errors_total"] == 0 and j["bytes_in"] == j["bytes_out"] == j["requests_sent"] * 100'
same "pipeline 8: bytes match the server" "$(jget "$f" 'j["bytes_out"]')" "$(srv "$f" bytes_in)"

run_vs big "-c 4 -d 1 --pipeline 2 --size 300000"
check "300 kB messages (partial writes and reads): 0 errors, bytes match" \
    jtrue "$LG_TMP/big.json" 'j["errors_total"] == 0 and j["requests_total"] > 0 and j["bytes_in"] == j["requests_total"] * 300000'

run_vs close "-c 10 -d 1 --conn-mode close"
f="$LG_TMP/close.json"
check "conn-mode close: a connection per request, 0 errors" \
    jtrue "$f" 'j["errors_total"] == 0 and 0 <= j["connects_total"] - j["requests_sent"] <= 10 and j["connect_us"]["p50"] > 0'
same "conn-mode close: requests match the server's, accepted == connects" \
    "$(jget "$f" 'j["requests_total"], j["connects_total"]')" "($(srv "$f" requests), $(srv "$f" accepted))"

run_vs reqs "-c 10 -d 1 --conn-mode reqs=50"
f="$LG_TMP/reqs.json"
check "conn-mode reqs=50: a connection per 50 requests" \
    jtrue "$f" 'j["errors_total"] == 0 and abs(j["connects_total"] - j["requests_sent"] / 50) <= 10'

run_vs open "-c 10 -d 2 --rate 2000 --arrival poisson"
f="$LG_TMP/open.json"
same "open loop poisson 2000/s: 0 errors, answers match the server" \
    "$(jget "$f" 'j["errors_total"], j["requests_total"]')" "(0, $(srv "$f" requests))"
check "open loop: scheduled about rate x duration, corrected >= uncorrected" \
    jtrue "$f" 'abs(j["scheduled"] - 4000) < 400 and j["latency_us"]["p50"] >= j["latency_uncorrected_us"]["p50"] and j["intended_rps"] == 2000'

run_vs procs "-c 40 -t 4 --procs 2 -d 1 --idle 30 --warmup 0.5"
f="$LG_TMP/procs.json"
same "2 processes x 2 threads: results merged, requests match the server" \
    "$(jget "$f" 'j["errors_total"], j["requests_total"], j["procs"], j["threads"]')" "(0, $(srv "$f" requests), 2, 4)"
check "idle connections held through the warmup and counted" \
    jtrue "$f" 'j["idle_open"] == 30 and j["connects_total"] == 70'
check "warmup: measured requests fewer than the total" jtrue "$f" 'j["requests"] < j["requests_total"]'

run_vs idleonly "-c 0 --idle 20 -t 2 -d 0.5"
same "idle connections only: held, none written to" "$(jget "$LG_TMP/idleonly.json" 'j["idle_open"], j["requests_sent"], j["errors_total"]'),$(srv "$LG_TMP/idleonly.json" accepted),$(srv "$LG_TMP/idleonly.json" bytes_in)" "(20, 0, 0),20,0"

run_vs src "-c 16 -d 1 --source-ips 127.0.0.1-127.0.0.4"
check "source addresses 127.0.0.1-4: 0 errors" jtrue "$LG_TMP/src.json" 'j["errors_total"] == 0 and j["requests"] > 0'

run_vs corrupt "-c 2 -d 1" --corrupt 100
check "a corrupted echo is a mismatch, then the connection is replaced" \
    jtrue "$LG_TMP/corrupt.json" 'j["errors"]["mismatch"] >= 1 and j["connects_total"] > 2 and j["errors_total"] == j["errors"]["mismatch"]'

done_testing
