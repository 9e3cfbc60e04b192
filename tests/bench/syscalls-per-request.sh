#!/bin/sh
# syscalls.sh: system calls per request of one server at a fixed keep-alive load, two ways: strace -c -f
# attached to the server (every system call, but strace slows it, which changes how much a batching
# server batches), and the server's own --stats counters without strace. Not part of `make test`.
#
#   tests/bench/syscalls-per-request.sh MODEL [CONNS] [REQUESTS] [server args...]
#   e.g. tests/bench/syscalls-per-request.sh uring 100 100000
# Needs h2load (nghttp2-client) and strace. Prints a summary line per method.
set -eu
model=$1; conns=${2:-100}; reqs=${3:-100000}; shift 3 2>/dev/null || shift $#
bin=${BIN:-bin}/server-$model
tmp=$(mktemp -d /tmp/cmb-syscalls-XXXXXX)
trap 'kill $spid 2>/dev/null || true; rm -rf "$tmp"' EXIT

start() {
    rm -f "$tmp/out" # a stale ready line from the previous server must not be read for this one
    "$bin" --port 0 --stats "$tmp/stats.json" "$@" >"$tmp/out" 2>"$tmp/err" &
    spid=$!
    i=0; until grep -q '^ready' "$tmp/out" 2>/dev/null || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done
    port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$tmp/out")
    [ -n "$port" ] || { echo "server-$model did not start: $(cat "$tmp/err")" >&2; exit 1; }
}
load() { h2load --h1 -c "$conns" -n "$reqs" -t 1 "http://127.0.0.1:$port/" | grep -E '^requests:'; }

# 1. counters, no strace
start "$@"
load
kill -TERM $spid; wait $spid || true
/usr/bin/python3 - "$tmp/stats.json" "$model" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); r = s["requests"] or 1
print("%s counters: requests %d  wait_calls/req %.3f  events/req %.3f  eagain/req %.3f  ctl_calls/req %.3f"
      % (sys.argv[2], s["requests"], s.get("wait_calls", 0) / r, s.get("events", 0) / r,
         s.get("eagain", 0) / r, s.get("ctl_calls", 0) / r))
PY

# 2. strace -c -f attached for the load only
start "$@"
strace -c -f -p $spid 2>"$tmp/strace" &
tpid=$!
sleep 0.5
load
kill -INT $tpid; wait $tpid || true
kill -TERM $spid; wait $spid || true
req=$(/usr/bin/python3 -c "import json;print(json.load(open('$tmp/stats.json'))['requests'])")
# strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall
awk -v req="$req" -v m="$model" '
    $1 ~ /^[0-9.]+$/ && $NF != "total" { n[$NF] = $4 }
    $1 ~ /^[0-9.]+$/ && $NF == "total" { tot = $4 }
    END { printf "%s strace: requests %d  syscalls/req %.3f  (", m, req, tot / req;
          for (k in n) if (n[k] / req >= 0.001) printf " %s %.3f", k, n[k] / req; print " )" }' "$tmp/strace"
