#!/bin/bash
# tests/bench/loadgen-vs-wrk.sh - the load generator against wrk, same conditions:
# nginx with one worker pinned to CPU 0, loadgen and wrk each one thread pinned to CPU 1, 100
# keep-alive connections, DURATION seconds each, alternated ROUNDS times. Prints each pair, the
# ratio loadgen/wrk, the client's and the server's CPU per request for each (the client's from
# bash's `time`, the server's from /proc), the share of its core nginx used under each client, the
# 1-minute load average, and the median ratio. When nginx used ~100% of its core under both clients,
# the throughput ratio is nginx's ceiling, not the clients': the last column, wrk's client CPU per
# request over loadgen's (requests per client CPU second, loadgen over wrk), is then the comparison
# of the two clients, and its median is printed too.
# The machine is shared: the load average column says how much the other tenants disturbed a round.
# Not part of `make test` (it takes minutes and asserts a speed).
#   usage: tests/bench/loadgen-vs-wrk.sh [DURATION=10] [ROUNDS=5] [CONNECTIONS=100]
set -u
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
ROUNDS=${2:-5}
CONNS=${3:-100}
BIN=${BIN:-bin}
. tests/loadgen/lib.sh

start_nginx 1 || exit 1
set -- $(nginx_pids)
WORKER=${2:-$1}
taskset -pc 0 "$NGINX_PID" > /dev/null
taskset -pc 0 "$WORKER" > /dev/null
URL="http://127.0.0.1:$NGINX_PORT/"

# CPU seconds (user+sys) a process has used so far.
cpu_of() {
    awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat"
}

echo "# nginx worker pid $WORKER on CPU 0; clients on CPU 1; $CONNS connections, ${DURATION}s, $ROUNDS rounds"
echo "# round  loadgen_rps  wrk_rps  ratio  client_cpu_us_per_req(loadgen, wrk)  nginx_cpu_us_per_req(loadgen, wrk)  nginx_core_share(loadgen, wrk)  loadavg  client_capacity_ratio"
ratios=()
caps=()
TIMEFORMAT='%U %S'    # bash's time: user and system CPU seconds of the client process
for r in $(seq 1 "$ROUNDS"); do
    c0=$(cpu_of "$WORKER")
    { time taskset -c 1 "$BIN/loadgen" --target "127.0.0.1:$NGINX_PORT" -t 1 -c "$CONNS" -d "$DURATION" \
        --json "$LG_TMP/lg.json" -q; } 2> "$LG_TMP/lg.time"
    c1=$(cpu_of "$WORKER")
    { time taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "$URL" > "$LG_TMP/wrk.txt"; } 2> "$LG_TMP/wrk.time"
    c2=$(cpu_of "$WORKER")
    lg=$(jget "$LG_TMP/lg.json" 'j["throughput_rps"]')
    lgreq=$(jget "$LG_TMP/lg.json" 'j["requests_total"]')
    lgcpu=$(awk -v n="$lgreq" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$LG_TMP/lg.time")
    wrk=$(awk '/Requests\/sec/ { print $2 }' "$LG_TMP/wrk.txt")
    wrkreq=$(awk '/requests in/ { print $1 }' "$LG_TMP/wrk.txt")
    wrkcpu=$(awk -v n="$wrkreq" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$LG_TMP/wrk.time")
    ratio=$(awk -v a="$lg" -v b="$wrk" 'BEGIN { printf "%.3f", a / b }')
    ngl=$(awk -v c="$c0" -v d="$c1" -v n="$lgreq" 'BEGIN { printf "%.2f", (d - c) * 1e6 / n }')
    ngw=$(awk -v c="$c1" -v d="$c2" -v n="$wrkreq" 'BEGIN { printf "%.2f", (d - c) * 1e6 / n }')
    shl=$(awk -v c="$ngl" -v r="$lg" 'BEGIN { printf "%.2f", c * r / 1e6 }')
    shw=$(awk -v c="$ngw" -v r="$wrk" 'BEGIN { printf "%.2f", c * r / 1e6 }')
    cap=$(awk -v a="$lgcpu" -v b="$wrkcpu" 'BEGIN { printf "%.3f", b / a }')
    echo "$r  $lg  $wrk  $ratio  $lgcpu $wrkcpu  $ngl $ngw  $shl $shw  $(cut -d' ' -f1 /proc/loadavg)  $cap"
    ratios+=("$ratio")
    caps+=("$cap")
done
median() {
    printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
echo "median ratio loadgen/wrk: $(median "${ratios[@]}")"
echo "median client capacity ratio loadgen/wrk (requests per client CPU second): $(median "${caps[@]}")"
