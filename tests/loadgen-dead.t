#!/bin/bash
# How a run ends when its server fails: a server killed at 2 s of a 6 s run, and a server frozen
# for good. The load generator must end by duration + timeout + 1 s, count the failures by class,
# report what was in flight as incomplete, and not spin against a dead port (CPU below 10% after
# the kill).
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

now() { date +%s.%N; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

# 1. Killed: nginx as one process, SIGKILL at 2 s.
if command -v nginx > /dev/null && start_nginx 1 single; then
    t0=$(now)
    "$BIN/loadgen" --target "127.0.0.1:$NGINX_PORT" -c 100 -d 6 --timeout 1 -q \
        --json "$LG_TMP/dead.json" > "$LG_TMP/dead.out" 2>&1 &
    LG=$!
    sleep 2
    kill -KILL "$NGINX_PID"
    wait "$NGINX_PID" 2>/dev/null
    sleep 0.3
    c0=$(ticks $LG)
    sleep 3.2
    c1=$(ticks $LG)
    wait $LG
    rc=$?
    t1=$(now)
    ok $rc "killed server: loadgen exit 0 (no --max-errors)"
    el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    check "killed server: ended by 6 + timeout 1 + 1 s (took ${el}s)" awk -v e="$el" 'BEGIN { exit !(e <= 8.0) }'
    cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.1f", 100 * (b - a) / hz / 3.2 }')
    check "killed server: CPU after the kill ${cpu}% < 10%" awk -v c="$cpu" 'BEGIN { exit !(c < 10) }'
    f="$LG_TMP/dead.json"
    diag "errors: $(jget "$f" 'j["errors"]')"
    check "killed server: connect and reset errors counted" jtrue "$f" \
        'j["errors"]["connect"] > 0 and j["errors"]["reset"] > 0'
    check "killed server: answers before the kill" jtrue "$f" 'j["requests"] > 0'
    check "killed server: sent == answered + failed + incomplete" jtrue "$f" \
        'j["requests_sent"] == j["requests_total"] + j["requests_failed"] + j["incomplete"]'
else
    echo "# nginx not available: killed-server checks skipped"
fi

# 2. Frozen for good: echod stopped at 1 s of a 3 s run, timeout 1 s.
start_server frozen "$BIN/loadgen-echod" --port 0 || exit 1
t0=$(now)
"$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" --proto echo -c 10 -d 3 --timeout 1 -q \
    --json "$LG_TMP/frozen.json" > "$LG_TMP/frozen.out" 2>&1 &
LG=$!
sleep 1
kill -STOP "$SRV_PID"
wait $LG
rc=$?
t1=$(now)
ok $rc "frozen server: loadgen exit 0"
el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
check "frozen server: ended by 3 + timeout 1 + 1 s (took ${el}s)" awk -v e="$el" 'BEGIN { exit !(e <= 5.0) }'
f="$LG_TMP/frozen.json"
diag "errors: $(jget "$f" 'j["errors"]'), incomplete: $(jget "$f" 'j["incomplete"]')"
check "frozen server: timeouts counted, the last requests reported incomplete" jtrue "$f" \
    'j["errors"]["timeout"] > 0 and j["incomplete"] > 0'
check "frozen server: sent == answered + failed + incomplete" jtrue "$f" \
    'j["requests_sent"] == j["requests_total"] + j["requests_failed"] + j["incomplete"]'
kill -CONT "$SRV_PID"

# 3. A listener that takes no more connections (frozen, backlog 1): SYNs go unanswered, so
#    connects time out (connect_timeout), and the run still ends on time.
if [ -x "$BIN/server-pthread" ] && start_server backlog "$BIN/server-pthread" --port 0 --backlog 1; then
    kill -STOP "$SRV_PID"
    t0=$(now)
    "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" -c 10 -d 1.5 --timeout 0.5 -q \
        --json "$LG_TMP/syn.json" > "$LG_TMP/syn.out" 2>&1
    t1=$(now)
    kill -CONT "$SRV_PID"
    el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    check "unanswered SYNs: connect_timeout counted, ended by 1.5 + 0.5 + 1 s (took ${el}s)" jtrue "$LG_TMP/syn.json" \
        "j['errors']['connect_timeout'] > 0 and $el <= 3.0"
fi
done_testing
