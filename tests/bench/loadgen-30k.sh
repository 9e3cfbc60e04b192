#!/bin/bash
# tests/bench/loadgen-30k.sh - 30,000 concurrent connections with --procs 2 against nginx with 2
# workers, the load generator's scale check: each loadgen process holds 15,000 sockets under the
# 20,000 open-file limit, 4 source addresses keep the ephemeral ports apart (28k per
# source/destination pair).
# Passes when every connection was established and held and no error was counted.
# Not part of `make test` (heavy for CI).  usage: tests/bench/loadgen-30k.sh [CONNECTIONS=30000] [DURATION=10]
set -u
cd "$(dirname "$0")/../.."
CONNS=${1:-30000}
DURATION=${2:-10}
BIN=${BIN:-bin}
. tests/loadgen/lib.sh

start_nginx 2 || exit 1
CMD=("$BIN/loadgen" --target "127.0.0.1:$NGINX_PORT" -c "$CONNS" --procs 2 -t 2
     --source-ips 127.0.0.1-127.0.0.4 --connect-rate 10000 --warmup 5 -d "$DURATION" --timeout 5
     --json "$LG_TMP/30k.json")
echo "# ${CMD[*]}"
"${CMD[@]}"
rc=$?
lines=$(grep -c . "$LG_TMP/nginx/error.log" 2> /dev/null)
echo "# nginx error log: ${lines:-0} lines"
"$PYTHON" - "$LG_TMP/30k.json" "$CONNS" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
print("connects_total", j["connects_total"], "requests", j["requests"], "errors", j["errors_total"],
      "incomplete", j["incomplete"], "p99_us", j["latency_us"]["p99"], "cpu", j["cpu"])
ok = j["connects_total"] == n and j["errors_total"] == 0 and j["incomplete"] == 0 and j["requests"] >= n
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
ok=$?
[ $rc -eq 0 ] && [ $ok -eq 0 ]
