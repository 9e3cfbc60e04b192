# tests/loadgen/lib.sh - shell helpers for the loadgen tests: TAP output, servers started in a
# temporary directory (nginx from a generated config, the echod helper, project servers), JSON
# field access, and cleanup of exactly the processes a test started.
# Source it from a tests/loadgen-*.t script; BIN and PYTHON come from the Makefile.

BIN=${BIN:-bin}
PYTHON=${PYTHON:-/usr/bin/python3}
LG_TMP=$(mktemp -d /tmp/loadgen-test.XXXXXX)
LG_PIDS=""
tap_n=0
tap_failed=0

lg_cleanup() {
    for p in $LG_PIDS; do
        kill -CONT "$p" 2>/dev/null
        kill "$p" 2>/dev/null
    done
    for p in $LG_PIDS; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$LG_TMP"
}
trap lg_cleanup EXIT

ok() {      # ok CONDITION-STATUS DESCRIPTION
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        echo "# failed $tap_n - $2" >&2    # stderr, as Test::More's diag: shown without prove -v
        tap_failed=$((tap_failed + 1))
    fi
}

check() {   # check DESCRIPTION COMMAND...: one TAP line from a command's status
    local desc=$1
    shift
    "$@"
    ok $? "$desc"
}

same() {    # same DESCRIPTION GOT WANTED: one TAP line; both values shown when they differ
    [ "$2" = "$3" ]
    local r=$?
    [ $r -eq 0 ] || diag "got '$2', wanted '$3'" >&2
    ok $r "$1"
}

diag() {
    echo "$*" | sed 's/^/# /'
}

# jget FILE EXPR: evaluate a Python expression over the JSON object j of FILE.
jget() {
    "$PYTHON" -c '
import json,sys
try:
    j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))
except Exception as e:
    print("jget-failed:", sys.argv[2], e)' "$1" "$2"
}

# jtrue FILE EXPR: status 0 when the expression is true (prints it otherwise, for the log).
jtrue() {
    "$PYTHON" -c '
import json,sys
j=json.load(open(sys.argv[1]))
r=eval("(" + sys.argv[2] + ")")
if not r:
    print("# false:", " ".join(sys.argv[2].split()))
    brief = {k: j.get(k) for k in ("requests", "requests_total", "requests_sent", "incomplete",
             "requests_failed", "connects_total", "errors", "bottleneck_reason") if k in j}
    print("#", brief)
sys.exit(0 if r else 1)' "$1" "$2"
}

# wait_ready OUTFILE: wait (bounded, 10 s) for a "ready ... port=N" line; prints the port.
wait_ready() {
    local port
    for _ in $(seq 1 100); do
        port=$(sed -n 's/^ready .*port=\([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null | head -1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_server NAME CMD...: start a server printing a ready line; sets SRV_PID and SRV_PORT.
start_server() {
    local name=$1
    shift
    "$@" > "$LG_TMP/$name.out" 2> "$LG_TMP/$name.err" &
    SRV_PID=$!
    LG_PIDS="$LG_PIDS $SRV_PID"
    SRV_PORT=$(wait_ready "$LG_TMP/$name.out") || {
        diag "$name did not become ready: $(cat "$LG_TMP/$name.err")"
        return 1
    }
}

# drain_backlog PORT: wait (at most 10 s) until no connection waits in the accept queue of the
# listener(s) on PORT (Recv-Q of a listening socket in ss). A client counts a connection once the
# kernel completes its handshake; a slow server (a sanitizer build) may not have accepted it yet, and
# a server stopped then would never count it.
drain_backlog() {
    local i q=0
    for i in $(seq 100); do
        q=$(ss -Hltn "sport = :$1" 2>/dev/null | awk '{s += $2} END {print s + 0}')
        [ "$q" -eq 0 ] && return 0
        sleep 0.1
    done
    diag "port $1: $q connections still queued after 10 s"
}

# stop_server PID: SIGTERM and wait (servers write their --stats file then).
stop_server() {
    kill -CONT "$1" 2>/dev/null
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# start_nginx WORKERS [single]: nginx from a generated config on a free port below the ephemeral
# range; "single" runs without a master (one process, so SIGSTOP freezes the server itself).
# Sets NGINX_PID and NGINX_PORT.
start_nginx() {
    local workers=$1 mode=${2:-master} master d="$LG_TMP/nginx"
    mkdir -p "$d/tmp"
    for _ in 1 2 3 4 5 6 7 8; do
        NGINX_PORT=$((20000 + $$ % 5000 + RANDOM % 7000))
        master=on
        [ "$mode" = single ] && master=off
        cat > "$d/nginx.conf" <<EOF
worker_processes $workers;
master_process $master;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 20000; multi_accept on; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=8192 reuseport;
        location / { default_type text/plain; return 200 "Hello, World!"; }
        location = /status/404 { return 404; }
        location = /status/503 { return 503; }
    }
}
EOF
        nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" 2>> "$d/start.err" &
        NGINX_PID=$!
        # Ready when the port answers (bounded: 5 s).
        for _ in $(seq 1 50); do
            if ! kill -0 "$NGINX_PID" 2>/dev/null; then
                break
            fi
            if (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then
                LG_PIDS="$LG_PIDS $NGINX_PID"
                return 0
            fi
            sleep 0.1
        done
        kill "$NGINX_PID" 2>/dev/null
        wait "$NGINX_PID" 2>/dev/null
    done
    diag "nginx did not start: $(tail -3 "$d/error.log" "$d/start.err" 2>/dev/null)"
    return 1
}

# Processes of the nginx started here (master and workers), for pinning or freezing.
nginx_pids() {
    echo "$NGINX_PID"
    pgrep -P "$NGINX_PID" 2>/dev/null
}

done_testing() {
    echo "1..$tap_n"
    [ "$tap_failed" -eq 0 ]
}
