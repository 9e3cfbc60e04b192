#!/bin/bash
# tests/bench/peers-cpu.sh - where a server's CPU per request goes, epoll-et against nginx;
# perf is not available here, so: system calls per request (strace -c -f over the server's whole life)
# and user-space instructions per request (valgrind --tool=callgrind, every process of the server),
# each divided by the requests our loadgen got answered over the same life (its requests_total).
# The server is pinned to CPU 0, the loadgen (one thread, CONNECTIONS keep-alive connections,
# closed loop) to CPU 1. Under strace and valgrind the server is much slower than bare, so its
# batches are bigger (fewer epoll_wait per request than bare): the counts per request of the work
# done for each request (reads, writes, instructions) are what this is for.
# Not part of `make test` (it takes a minute and measures).
#   usage: tests/bench/peers-cpu.sh [DURATION=3] [CONNECTIONS=100]
set -u
cd "$(dirname "$0")/../.."
DURATION=${1:-3}
CONNS=${2:-100}
BIN=${BIN:-bin}
PYTHON=${PYTHON:-/usr/bin/python3}
NGINX=$(PATH=$PATH:/usr/sbin:/sbin command -v nginx) || { echo "nginx is not installed (make deps)" >&2; exit 1; }
T=$(mktemp -d /tmp/peers-cpu.XXXXXX)
chmod 755 "$T"
mkdir -m 777 "$T/cg" # nginx's worker (user nobody) writes its callgrind file here
SRV=""
# Every server runs in a process group of its own (setsid), listed in $T/groups: run() is called in
# a command substitution, a subshell whose variables cleanup() cannot see, and a tool wrapper
# (strace) that is killed detaches from the server instead of taking it along. So cleanup() stops
# whole groups, whatever part of the script was interrupted.
cleanup() {
    local g
    for g in $(cat "$T/groups" 2>/dev/null); do kill -TERM -- "-$g" 2>/dev/null; done
    sleep 0.5
    for g in $(cat "$T/groups" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait (bounded: 60 s, valgrind starts slowly) until 127.0.0.1:$1 accepts a connection.
wait_port() {
    for _ in $(seq 600); do
        "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1" \
            2>/dev/null && return 0
        kill -0 "$SRV" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# run NAME PORT CMD...: start CMD (the server, maybe under a tool) pinned to CPU 0, load it from
# CPU 1 for DURATION s, stop it with SIGTERM (bounded: 60 s) and print the requests answered.
run() {
    local name=$1 port=$2
    shift 2
    # Not a group leader (no job control here), so setsid makes this very process a group leader.
    setsid taskset -c 0 "$@" > "$T/$name.out" 2> "$T/$name.err" &
    SRV=$!
    echo "$SRV" >> "$T/groups"
    wait_port "$port" || { echo "$name did not start: $(tail -3 "$T/$name.err")" >&2; return 1; }
    taskset -c 1 "$BIN/loadgen" --target "127.0.0.1:$port" -t 1 -c "$CONNS" -d "$DURATION" --warmup 0.5 \
        --json "$T/$name.json" -q > /dev/null
    # strace writes its table when the traced server exits: signal the server, not strace.
    local target=$SRV
    [ "$(cat "/proc/$SRV/comm" 2>/dev/null)" = strace ] && target=$(cat "/proc/$SRV/task/$SRV/children")
    kill $target
    for _ in $(seq 600); do kill -0 "$SRV" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SRV" 2>/dev/null # the wrapper, the server and anything it forked
    wait "$SRV" 2>/dev/null
    SRV=""
    "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests_total"])' "$T/$name.json"
}

nginx_cmd() { # nginx_cmd NAME PORT: the runner's nginx preset (tests' peers-test writes it)
    mkdir -p "$T/$1"
    "$BIN/runner-test/peers-test" nginx "$T/$1" "$2"
}

# strace -c's table as "syscall calls/request" for those above 0.01 per request.
per_request() { # per_request FILE REQUESTS
    awk -v n="$2" '$1 ~ /^[0-9.]+$/ && NF >= 5 { c = $4; s = $NF; if (c / n >= 0.01) printf "    %-16s %6.3f\n", s, c / n }' "$1" |
        sort -k2 -nr
}

# Instructions (Ir) over every callgrind file of a run, and the top functions of the largest.
instructions() { # instructions PREFIX REQUESTS
    local total=0 f ir big="" bigir=0
    for f in "$1".*; do
        ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
        total=$((total + ${ir:-0}))
        [ "${ir:-0}" -gt "$bigir" ] && bigir=$ir big=$f
    done
    echo "  user-space instructions per request: $((total / $2)) (all processes)"
    echo "  top functions (self, of the busiest process):"
    callgrind_annotate --inclusive=no "$big" 2>/dev/null | awk -v n="$2" '
        /^ *[0-9,]+ .*:/ && k < 12 { v = $1; gsub(",", "", v); $1 = ""; printf "    %8.0f  %s\n", v / n, $0; k++ }'
}

echo "# $CONNS connections, ${DURATION}s (+0.5 s warm-up), server on CPU 0, loadgen on CPU 1"
for tool in strace callgrind; do
    p=$(free_port)
    case $tool in
        strace) wrap=(strace -c -f -o "$T/strace-epoll-et.txt" --) ;;
        callgrind) wrap=(valgrind -q --tool=callgrind "--callgrind-out-file=$T/cg/epoll-et.%p" --) ;;
    esac
    n=$(run "$tool-epoll-et" "$p" "${wrap[@]}" "$BIN/server-epoll-et" --port "$p" --proto http) || exit 1
    echo "epoll-et under $tool: $n requests"
    [ $tool = strace ] && per_request "$T/strace-epoll-et.txt" "$n"
    [ $tool = callgrind ] && instructions "$T/cg/epoll-et" "$n"

    p=$(free_port)
    read -r -a cmd <<< "$(nginx_cmd "$tool-nginx" "$p")"
    case $tool in
        strace) wrap=(strace -c -f -o "$T/strace-nginx.txt" --) ;;
        callgrind) wrap=(valgrind -q --tool=callgrind --trace-children=yes "--callgrind-out-file=$T/cg/nginx.%p" --) ;;
    esac
    n=$(run "$tool-nginx" "$p" "${wrap[@]}" "${cmd[@]}") || exit 1
    echo "nginx (master + worker) under $tool: $n requests"
    [ $tool = strace ] && per_request "$T/strace-nginx.txt" "$n"
    [ $tool = callgrind ] && instructions "$T/cg/nginx" "$n"
done
