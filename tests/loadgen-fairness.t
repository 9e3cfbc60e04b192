#!/bin/bash
# Per-connection fairness in the load generator's output: 32 keep-alive connections against the
# prefork server with 8 workers and no keep-alive limit, each worker holding one connection for
# good, leave exactly 24 connections without any answer (Jain index at most 8/32); against prefork
# with its default keep-alive limit, or an epoll server, all 32 are served, the counts merged per
# connection across threads and processes. They appear in the JSON, the CSV and the summary.
# Asserts counts only; each run is bounded by --duration + --timeout.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

for s in prefork epoll-et; do
    if [ ! -x "$BIN/server-$s" ]; then
        echo "1..0 # SKIP $BIN/server-$s not built"
        exit 0
    fi
done

# lg_vs NAME 'SERVER ARGS' 'LOADGEN ARGS': one server, one loadgen run (32 connections).
lg_vs() {
    local name=$1 srv=$2 args=$3
    # shellcheck disable=SC2086
    start_server "$name" $srv --proto http --port 0 || return 1
    # shellcheck disable=SC2086
    timeout 30 "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" -c 32 -d 1.5 --timeout 1 $args \
        --json "$LG_TMP/$name.json" --csv "$LG_TMP/$name.csv" > "$LG_TMP/$name.out" 2>&1
    LG_RC=$?
    stop_server "$SRV_PID"
    [ $LG_RC -eq 0 ] || diag "loadgen $args: exit $LG_RC: $(cat "$LG_TMP/$name.out")"
    diag "$name: $(grep 'per connection' "$LG_TMP/$name.out")"
}

# The keep-alive limits off (prefork's defaults free a worker after 100 answers, 5 idle seconds,
# or at once for a waiting client), so a worker keeps its connection for good. One loadgen
# thread: a thread whose connections were all served would end at the end of the window and close
# them, freeing workers for the other threads' connections while those still wait in their drain.
lg_vs prefork "$BIN/server-prefork --workers 8 --keepalive-requests 0 --keepalive-timeout 0 --keepalive-yield 0" "-t 1"
ok $LG_RC "prefork, 8 workers, 32 connections: exit 0"
f="$LG_TMP/prefork.json"
check "prefork: exactly 24 connections got no answer" jtrue "$f" 'j["conns_starved"] == 24'
check "prefork: Jain index between 1/32 and 8/32" jtrue "$f" '1 / 32 - 1e-4 <= j["fairness_jain"] <= 8 / 32 + 1e-4'
check "prefork: min 0, the served ones answered" jtrue "$f" \
    'j["conn_requests"]["min"] == 0 and j["conn_requests"]["median"] == 0 and j["conn_requests"]["max"] * 8 >= j["requests"] > 0'

# Its defaults close a connection after its 100th answer: the client's next connection queues for a
# worker like any other, so every slot gets served, and the closes are no errors.
lg_vs prefork-limit "$BIN/server-prefork --workers 8" "-t 1"
check "prefork with its keep-alive limit: every connection answered, closes are reconnects" \
    jtrue "$LG_TMP/prefork-limit.json" 'j["conns_starved"] == 0 and j["errors_total"] == 0 and j["connects_total"] > 32'

lg_vs epoll "$BIN/server-epoll-et" "-t 4 --procs 2"
ok $LG_RC "epoll-et, 32 connections in 2 processes x 2 threads: exit 0"
f="$LG_TMP/epoll.json"
check "epoll-et: every connection answered, Jain index near 1" jtrue "$f" \
    'j["conns_starved"] == 0 and j["fairness_jain"] >= 0.5 and j["errors_total"] == 0'
check "epoll-et: min <= median <= max, and they bound the total" jtrue "$f" '
0 < j["conn_requests"]["min"] <= j["conn_requests"]["median"] <= j["conn_requests"]["max"]
and 32 * j["conn_requests"]["min"] <= j["requests"] <= 32 * j["conn_requests"]["max"]'

check "csv: the fairness columns carry the JSON's values" "$PYTHON" -c '
import csv, json, sys
for name in ("prefork", "epoll"):
    j = json.load(open(sys.argv[1] + "/" + name + ".json"))
    row = next(csv.DictReader(open(sys.argv[1] + "/" + name + ".csv")))
    assert int(row["conns_starved"]) == j["conns_starved"], name
    assert float(row["fairness_jain"]) == j["fairness_jain"], name
    assert [float(row["conn_requests_" + k]) for k in ("min", "median", "max")] == \
        [j["conn_requests"][k] for k in ("min", "median", "max")], name
' "$LG_TMP"
check "summary: the starved connections are named" grep -q "24 of 32 got no answer" "$LG_TMP/prefork.out"

done_testing
