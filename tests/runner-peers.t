#!/bin/sh
# runner-peers.t - the real peers end to end: the nginx preset's config passes `nginx -t` and
# answers / exactly as our servers do (status, Content-Type, body); then a tiny bench run of nginx
# measured by wrk and by h2load (1 s each) gives rows whose columns are parsed, whose unmeasured
# columns stay empty, and after which no nginx, cgroup or private directory is left.
# Never asserts a time or a throughput. The unit tests of the readers are tests/runner-peers-unit.t.
. "$(dirname "$0")/runner/lib.sh"

for p in nginx wrk h2load curl; do
    if ! PATH=$PATH:/usr/sbin:/sbin command -v $p >/dev/null; then
        echo "1..0 # SKIP $p is not installed (make deps)"
        exit 0
    fi
done
NGINX=$(PATH=$PATH:/usr/sbin:/sbin command -v nginx)

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait (at most 5 s) until 127.0.0.1:$1 accepts a connection.
accepts() {
    for i in $(seq 50); do
        "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" \
            2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# One response, CRs removed, without the headers that differ by design (Date, Server, Connection).
answer() { # answer URL
    curl -s -i --max-time 5 "$1" | tr -d '\r' | grep -v -i -e '^date:' -e '^server:' -e '^connection:'
}

# --- the preset's config, checked and served ------------------------------------------------------
port=$(free_port)
cmd=$("$BIN/runner-test/peers-test" nginx "$T/ng" "$port")
ok $? "the nginx preset writes its config into a private directory"
# shellcheck disable=SC2086
set -- $cmd
"$@" -t > "$T/nginx-t.out" 2>&1
ok $? "nginx -t accepts the generated config"
[ $? -eq 0 ] || diag "$(cat "$T/nginx-t.out")"
"$@" 2> "$T/nginx.err" &
ngpid=$!
accepts "$port"
ok $? "nginx accepts connections on its port"
"$BIN/server-epoll-et" --port 0 --proto http > "$T/ep.out" 2>/dev/null &
eppid=$!
for i in $(seq 50); do grep -q '^ready' "$T/ep.out" && break; sleep 0.1; done
epport=$(sed -n 's/^ready .*port=\([0-9]*\).*/\1/p' "$T/ep.out")
a=$(answer "http://127.0.0.1:$port/")
b=$(answer "http://127.0.0.1:$epport/")
[ -n "$a" ] && [ "$a" = "$b" ]
ok $? "nginx answers / as server-epoll-et does: status, Content-Type, Content-Length, body"
[ "$a" = "$b" ] || diag "nginx: $a" "epoll-et: $b"
echo "$a" | grep -qx 'Content-Type: text/plain' && [ "$(echo "$a" | tail -1)" = "Hello, World!" ]
ok $? "... which is 200 text/plain 'Hello, World!'"
a=$(answer "http://127.0.0.1:$port/nope" | head -1)
b=$(answer "http://127.0.0.1:$epport/nope" | head -1)
[ "$a" = "HTTP/1.1 404 Not Found" ] && [ "$b" = "$a" ]
ok $? "any other path is 404 on both ('$a', '$b')"
[ -s "$T/ng/nginx.pid" ] && [ "$(cat "$T/ng/nginx.pid")" = "$ngpid" ]
ok $? "its pid file is in the private directory"
kill "$ngpid" "$eppid"
wait "$ngpid"
ok $? "nginx exits 0 on SIGTERM"
wait "$eppid"

# --- a tiny bench run: nginx measured by wrk and by h2load --------------------------------------
mkbin
cat > "$T/peers.yaml" <<EOF
name: peers-e2e
defaults: {duration: 1, warmup: 1, cooldown: 0, ready_timeout: 5}
servers: [nginx]
matrix:
  connections: 4
  loader: [wrk, h2load]
EOF
# Relative paths on purpose: nginx resolves a relative config path against its own prefix.
(cd "$T" && exec "$BIN/bench" --config peers.yaml --bin bin --out results --quiet 2>"$T/err") &
pid=$!
wait $pid
ok $? "bench runs nginx under wrk and h2load"
dir=$(ls -d "$T"/results/peers-e2e-* 2>/dev/null | head -1)
csv=$dir/runs.csv
[ "$(col "$csv" status | tr '\n' ' ')" = "ok ok " ]
ok $? "two rows, both ok ($(col "$csv" status_reason | tr '\n' '|'))"
[ "$(col "$csv" loader | sort | tr '\n' ' ')" = "h2load wrk " ] && [ "$(col "$csv" model | sort -u)" = nginx ]
ok $? "loader column says wrk and h2load, model nginx"
run_of() { "$PYTHON" -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["loader"] == sys.argv[2]:
        print(r.get(sys.argv[3], "<no such column>"))' "$csv" "$@"; }
filled() { # filled LOADER COLUMN...: every one has a value
    for c in "$@"; do [ -n "$(run_of "$L" "$c")" ] || { diag "$L: $c is empty"; return 1; }; done
}
empty() {  # empty LOADER COLUMN...: none has a value
    for c in "$@"; do [ -z "$(run_of "$L" "$c")" ] || { diag "$L: $c = $(run_of "$L" "$c")"; return 1; }; done
}
positive() { "$PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1] or 0) > 0 else 1)' "$(run_of "$L" "$1")"; }
L=wrk
positive requests && positive throughput_rps
ok $? "wrk: requests and requests/s read from its output"
filled latency_p50_us latency_p90_us latency_p99_us latency_mean_us latency_max_us err_connect err_read \
    err_write err_timeout errors_total loadgen_cpu_s loadgen_cpu_share server_cpu_cores
ok $? "wrk: its percentiles, mean, max, socket errors and CPU columns are filled"
empty latency_p999_us uncorrected_p50_us uncorrected_p99_us connect_p50_us connects send_lag_p99_us \
    achieved_rps status_4xx status_5xx incomplete err_bad_response
ok $? "wrk: what it does not measure stays empty (p99.9, uncorrected, connect, 4xx/5xx split, in flight)"
L=h2load
positive requests && positive throughput_rps
ok $? "h2load: requests and requests/s read from its output"
filled latency_mean_us latency_max_us err_timeout status_4xx status_5xx errors_total server_cpu_cores
ok $? "h2load: mean, max, timeouts, status classes filled"
empty latency_p50_us latency_p90_us latency_p99_us latency_p999_us uncorrected_p50_us connect_p50_us \
    err_connect err_read incomplete
ok $? "h2load: no percentiles (it prints none) and no socket error classes"
for L in wrk h2load; do
    empty srv_requests srv_accepted srv_wait_calls || break
    [ "$(run_of $L server_processes_peak)" = 2 ] || { diag "$L: processes $(run_of $L server_processes_peak)"; break; }
    [ "$(run_of $L loadgen)" = "threads=1" ] || break
done
ok $? "nginx rows: no --stats counters, master + worker accounted, loader split threads=1"
[ "$(ls "$dir/hist" | wc -l)" -eq 0 ]
ok $? "no histogram file: neither tool gives one"
grep -q "wrk (warm-up, not measured): " "$dir/log" && grep -q "h2load: .*--warm-up-time 1000ms" "$dir/log" &&
    grep -q "wrk:  *Requests/sec:" "$dir/log"
ok $? "the log has wrk's warm-up run, h2load's own warm-up and wrk's summary"
grep -q "server: .*nginx -p .*\.d -c .*\.d/server.conf -e stderr" "$dir/log"
ok $? "the log has nginx's command line with its private directory"
[ ! -e "$dir/.work" ]
ok $? "the private directories are removed"
[ -z "$(leftovers)" ] && [ -z "$(leftover_cgroups $pid)" ]
ok $? "no process and no cgroup left"
finish
