#!/bin/bash
# The load generator against the project's own servers: echo and http at 1,
# 100 and 10,000 connections, no errors, and counts equal to the server's --stats counters:
# http requests answered == requests the server answered; echo bytes both ways (and read batches,
# one per 64-byte message with one message in flight); connections == accepted.
# Every bin/server-* that can hold the connection count takes part; 10,000 connections go to the
# first two of the models built for it.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

servers=$(cd "$BIN" 2>/dev/null && ls server-* 2>/dev/null | sed 's/^server-//')
if [ -z "$servers" ]; then
    echo "1..0 # SKIP no bin/server-* built yet"
    exit 0
fi

# one MODEL PROTO CONNECTIONS [LOADGEN ARGS...]: a run and its checks against the server's stats.
one() {
    local model=$1 proto=$2 c=$3 extra=()
    shift 3
    local name="$model-$proto-$c" workers=()
    # Models that serve one connection per worker need a worker for each connection (in C or Python).
    case ${model#py-} in threadpool|prefork) workers=(--workers $((c + 8))) ;; esac
    # No keep-alive request limit: the connections counted are the ones asked for.
    start_server "$name" "$BIN/server-$model" --port 0 --proto "$proto" --stats "$LG_TMP/$name.srv.json" \
        --keepalive-requests 0 "${workers[@]}" || { ok 1 "$name: server started"; return; }
    timeout 60 "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" --proto "$proto" -c "$c" -q \
        --json "$LG_TMP/$name.json" "$@" > "$LG_TMP/$name.out" 2>&1
    local rc=$?
    drain_backlog "$SRV_PORT"
    stop_server "$SRV_PID"
    [ $rc -eq 0 ] || diag "$(cat "$LG_TMP/$name.out")"
    "$PYTHON" - "$LG_TMP/$name.json" "$LG_TMP/$name.srv.json" "$proto" "$c" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
proto, c = sys.argv[3], int(sys.argv[4])
bad = []
if j["errors_total"] or j["incomplete"] or j["requests"] == 0:
    bad.append("errors %s incomplete %d requests %d" % (j["errors"], j["incomplete"], j["requests"]))
if j["connects_total"] != c or s["accepted"] != c:
    bad.append("connects %d, server accepted %d, wanted %d" % (j["connects_total"], s["accepted"], c))
if j["requests_total"] != s["requests"]:
    bad.append("answered %d, server requests %d" % (j["requests_total"], s["requests"]))
if j["bytes_out"] != s["bytes_in"] or j["bytes_in"] != s["bytes_out"]:
    bad.append("bytes out/in %d/%d, server in/out %d/%d" % (j["bytes_out"], j["bytes_in"], s["bytes_in"], s["bytes_out"]))
if bad:
    print("# " + "; ".join(bad))
else:
    print("# %d requests, %d connections, server counters equal" % (j["requests_total"], c))
sys.exit(1 if bad else 0)
PY
    ok $? "$model $proto $c connections: 0 errors, counts equal the server's"
}

for model in $servers; do
    for proto in http echo; do
        one "$model" "$proto" 1 -d 0.3
        [ "${model#py-}" = iterative ] && continue     # one client at a time, by design
        one "$model" "$proto" 100 -d 0.3
    done
done

# 10,000 connections: event loops first, else a thread per connection.
n=0
for model in epoll-et reuseport epoll-lt poll libevent uring coroutine pthread; do
    [ -x "$BIN/server-$model" ] || continue
    # ThreadSanitizer caps a process at ~8000 threads: no thread-per-connection server at 10,000.
    case "$SAN:$model" in *thread*:pthread) echo "# $model skipped at 10,000 connections under SAN=$SAN"; continue ;; esac
    for proto in http echo; do
        # Own source addresses: the TIME_WAIT ports of the earlier 10,000-connection runs stay apart.
        one "$model" "$proto" 10000 -t 2 -d 1 --warmup 1 --connect-rate 20000 --timeout 5 \
            --source-ips 127.0.1.1-127.0.1.4
    done
    n=$((n + 1))
    [ $n -ge 2 ] && break
done
# Large bodies (/bytes/N): many reads per answer, and the counts still equal the server's.
for model in epoll-et pthread; do
    [ -x "$BIN/server-$model" ] || continue
    one "$model" http 8 -d 0.5 --path /bytes/3000000 --pipeline 2
    check "$model /bytes/3000000: every answer carried its 3 MB body" jtrue "$LG_TMP/$model-http-8.json" \
        'j["bytes_in"] > j["requests_total"] * 3000000 and j["bytes_in"] < j["requests_total"] * 3000400'
    break
done

# A server refusing connections over --max-conns: every refusal is a counted reset, reconnects are
# paced (a few per second per connection, not a spin), and the connections it kept are served.
if [ -x "$BIN/server-pthread" ]; then
    start_server refuse "$BIN/server-pthread" --port 0 --max-conns 5 --stats "$LG_TMP/refuse.srv.json" || exit 1
    "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" -c 10 -d 1 -q --json "$LG_TMP/refuse.json"
    stop_server "$SRV_PID"
    check "refusals over --max-conns: counted as resets, paced, the rest served" "$PYTHON" -c '
import json, sys
j, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("# resets", j["errors"]["reset"], "server refused", s["refused"], "answered", j["requests_total"])
assert j["errors"]["reset"] == s["refused"] > 0 and j["errors_total"] == j["errors"]["reset"]
assert s["refused"] <= 5 * 20 and j["requests_total"] == s["requests"] > 0
' "$LG_TMP/refuse.json" "$LG_TMP/refuse.srv.json"
fi
done_testing
