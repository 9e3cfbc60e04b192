#!/bin/bash
# Transparent reconnect: a test server (tests/loadgen/closer.c) ends every keep-alive connection
# after its 3rd response, announced (Connection: close, HTTP/1.0) or bare. In closed and open loop,
# with and without pipelining, the load generator reconnects without an error, resends what was
# unanswered, and every request is answered exactly once: sent == answered == the server's
# responses, and each connection the server accepted is one connect. A response cut short by the
# close is still an error. Every run is bounded by its --duration.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

C=4         # connections: at most this many server connections are still open at the end

# run_vs NAME MODE 'LOADGEN ARGS': one closer server, one loadgen run, both JSON files kept.
run_vs() {
    local name=$1 mode=$2 args=$3
    start_server "closer-$name" "$BIN/loadgen-closer" --port 0 --every 3 --mode "$mode" \
        --stats "$LG_TMP/$name.srv.json" || return 1
    # shellcheck disable=SC2086
    timeout 30 "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" -c $C -d 1 --timeout 2 -q \
        --json "$LG_TMP/$name.json" $args > "$LG_TMP/$name.out" 2>&1
    LG_RC=$?
    drain_backlog "$SRV_PORT"
    stop_server "$SRV_PID"
    [ $LG_RC -eq 0 ] || diag "loadgen $args: exit $LG_RC: $(cat "$LG_TMP/$name.out")"
}

# accounted NAME: the client's counts against the server's. Connections the server did not close
# are the ones open at the end (one per client slot at most), each with fewer than 3 answers.
accounted() {
    "$PYTHON" - "$LG_TMP/$1.json" "$LG_TMP/$1.srv.json" "$C" <<'EOF'
import json, sys
j, s, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
checks = {
    "0 errors, 0 incomplete": j["errors_total"] == 0 and j["incomplete"] == 0,
    "sent == answered == server responses": j["requests_sent"] == j["requests_total"] == s["responses"] > 0,
    "connects == server accepts": j["connects_total"] == s["accepted"],
    "accepts beyond the server's closes are the open ones": 0 <= s["accepted"] - s["closed"] <= c,
    "3 answers per closed connection": 0 <= s["responses"] - 3 * s["closed"] <= 2 * c,
    "the server closed connections": s["closed"] >= c,
}
bad = [k for k, v in checks.items() if not v]
if bad:
    print("# failed:", bad)
    print("# loadgen:", {k: j.get(k) for k in ("requests_sent", "requests_total", "incomplete", "errors",
          "connects_total", "reconnects", "requests_resent")})
    print("# server:", s)
sys.exit(1 if bad else 0)
EOF
}

for mode in header bare http10; do
    for kind in "closed:" "pipe:--pipeline 4" "open:--rate 3000" "openpipe:--rate 3000 --pipeline 4"; do
        name="$mode-${kind%%:*}" args=${kind#*:}
        [ "$mode" = http10 ] && [ "${kind%%:*}" = closed ] && continue   # same path as header
        run_vs "$name" "$mode" "$args"
        ok $LG_RC "$mode close, ${args:-closed loop}: exit 0"
        check "$mode close, ${args:-closed loop}: every request answered once, one connect per accept" \
            accounted "$name"
    done
done

# With 4 requests in flight, those after the closing response went again on a new connection.
for name in header-pipe bare-pipe http10-pipe; do
    check "$name: requests resent after the server's close, counted once" jtrue "$LG_TMP/$name.json" \
        'j["reconnects"] > 0 and j["requests_resent"] >= j["reconnects"]'
done
check "open loop: the intended rate was kept through the reconnects" jtrue "$LG_TMP/header-openpipe.json" \
    'abs(j["scheduled"] - 3000) <= 300 and j["unsent"] == 0'

# A close in the middle of a response is a failure, counted once per request lost.
run_vs cut cut "--pipeline 2"
check "a response cut short by the close: reset errors, nothing else" jtrue "$LG_TMP/cut.json" \
    'j["errors"]["reset"] > 0 and j["errors_total"] == j["errors"]["reset"] and j["reconnects"] == 0'
check "cut: sent == answered + failed + incomplete" jtrue "$LG_TMP/cut.json" \
    'j["requests_sent"] == j["requests_total"] + j["requests_failed"] + j["incomplete"]'

done_testing
