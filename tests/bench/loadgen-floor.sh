#!/bin/bash
# tests/bench/loadgen-floor.sh - CPU per request of bin/loadgen against bin/loadgen-floor, a bare
# recv/send client with no parsing, timing or accounting, alternated ROUNDS times against nginx
# (one worker on CPU 0, the client on CPU 1, 100 keep-alive connections). The difference is what
# the load generator's own work costs per request. Not part of `make test`.
#   usage: tests/bench/loadgen-floor.sh [DURATION=4] [ROUNDS=3]
set -u
cd "$(dirname "$0")/../.."
DURATION=${1:-4}
ROUNDS=${2:-3}
BIN=${BIN:-bin}
make -s "$BIN/loadgen" "$BIN/loadgen-floor" || exit 1
. tests/loadgen/lib.sh
start_nginx 1 || exit 1
for p in $(nginx_pids); do taskset -pc 0 "$p" > /dev/null; done
TIMEFORMAT='%U %S'    # bash's time: user and system CPU seconds of the client
echo "# round  floor_us_per_req  loadgen_us_per_req  (floor_rps loadgen_rps)"
for r in $(seq 1 "$ROUNDS"); do
    { time taskset -c 1 "$BIN/loadgen-floor" "$NGINX_PORT" "$DURATION" > "$LG_TMP/f.out"; } 2> "$LG_TMP/f.time"
    { time taskset -c 1 "$BIN/loadgen" --target "127.0.0.1:$NGINX_PORT" -c 100 -d "$DURATION" -q \
        --json "$LG_TMP/l.json"; } 2> "$LG_TMP/l.time"
    nf=$(cat "$LG_TMP/f.out")
    nl=$(jget "$LG_TMP/l.json" 'j["requests_total"]')
    echo "$r  $(awk -v n="$nf" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$LG_TMP/f.time")" \
        " $(awk -v n="$nl" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$LG_TMP/l.time")" \
        " ($((nf / DURATION)) $(jget "$LG_TMP/l.json" 'int(j["throughput_rps"])'))"
done
