#!/bin/bash
# bench_10k.sh: 10,000 concurrent keep-alive HTTP/1.1 connections against readiness servers, measured
# with h2load (a benchmark, not a test: run by hand, it is not part of `make test`).
#
#   tests/readiness/bench_10k.sh [MODEL...]        default: poll epoll-lt epoll-et libevent
#   env: BIN=bin  CONNS=10000  REQS=200000  THREADS=1
#
# For each model: start bin/server-MODEL on a free port, run
#   h2load --h1 -c $CONNS -n $REQS -t $THREADS http://127.0.0.1:PORT/
# then stop the server with SIGTERM and print h2load's summary and the server's --stats counters.
# Every connection must complete requests with 0 errors: compare accepted and peak_conns with CONNS
# and requests with REQS. Both processes need CONNS+ open files (the hard limit here is 20000).
set -u
BIN=${BIN:-bin}; CONNS=${CONNS:-10000}; REQS=${REQS:-200000}; THREADS=${THREADS:-1}
[ $# -gt 0 ] || set -- poll epoll-lt epoll-et libevent
ulimit -n $(( CONNS + 1000 )) || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in "$@"; do
    "$BIN/server-$m" --port 0 --stats "$tmp/$m.json" >"$tmp/$m.out" 2>"$tmp/$m.err" &
    pid=$!
    for _ in $(seq 100); do grep -q '^ready' "$tmp/$m.out" && break; sleep 0.05; done
    port=$(sed -n 's/^ready .* port=\([0-9]*\) .*/\1/p' "$tmp/$m.out")
    [ -n "$port" ] || { echo "$m: no ready line"; kill "$pid"; continue; }
    echo "== $m: h2load --h1 -c $CONNS -n $REQS -t $THREADS http://127.0.0.1:$port/"
    timeout 300 h2load --h1 -c "$CONNS" -n "$REQS" -t "$THREADS" "http://127.0.0.1:$port/" >"$tmp/h2" 2>&1
    grep -E '^(finished in|requests:|status codes:|traffic:)' "$tmp/h2"
    grep -A1 -E '^ +min +max' "$tmp/h2" | head -4
    cpu=$(awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$pid/stat")
    kill -TERM "$pid"; wait "$pid"; echo "server exit $?  cpu ${cpu}s"
    cat "$tmp/$m.json"; cat "$tmp/$m.err"
done
