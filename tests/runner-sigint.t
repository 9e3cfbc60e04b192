#!/bin/sh
# runner-sigint.t - Ctrl-C in the middle of a run: bench exits within 2 s, leaves no process
# and no cgroup, and runs.csv holds only complete rows; --resume then runs only what is missing.
. "$(dirname "$0")/runner/lib.sh"

real=$(have_servers fork threadpool)
set -- $real
if [ -x "$BIN/loadgen" ] && [ $# -ge 2 ]; then
    s1=fork s2=threadpool proto=http
    mkbin loadgen server-fork server-threadpool
    diag "real binaries: loadgen, server-fork, server-threadpool"
else
    s1=fakefork s2=fake proto=echo
    mkbin
    diag "loadgen or servers not built yet: using the fakes"
fi

ms() { date +%s%3N; }

# Start bench on config $1, wait until runs.csv has $2 data rows, let the next run get going,
# then SIGINT it; sets rc and took (milliseconds from the signal to exit).
interrupt() {
    "$BIN/bench" --config "$1" --bin "$T/bin" --out "$T/results" --quiet 2>>"$T/err" &
    pid=$!
    for i in $(seq 1 300); do
        csv=$(ls "$T"/results/"$3"-*/runs.csv 2>/dev/null | head -1)
        [ -n "$csv" ] && [ "$(($(wc -l < "$csv") - 1))" -ge "$2" ] && break
        sleep 0.1
    done
    sleep 1.2 # into the load of the next run
    t0=$(ms)
    kill -INT $pid
    wait $pid
    rc=$?
    took=$(($(ms) - t0))
}

cat > "$T/int.yaml" <<EOF
name: int
defaults: {proto: $proto, duration: 3, warmup: 0.2, cooldown: 0}
servers: [$s1, $s2]
matrix:
  connections: [50, 100]
EOF
interrupt "$T/int.yaml" 1 int
dir=$(ls -d "$T"/results/int-* | head -1)
ok $([ $rc -eq 130 ] && echo 0 || echo 1) "SIGINT: exit status 130 (got $rc)"
diag "exited ${took} ms after SIGINT"
ok $([ "$took" -lt 2000 ] && echo 0 || echo 1) "exits within 2 s of SIGINT"
[ -z "$(leftovers)" ]
ok $? "no server or loadgen process left"
[ -z "$(leftover_cgroups $pid)" ]
ok $? "no per-run cgroup left"
rows=$(col "$dir/runs.csv" status | wc -l)
[ "$rows" -ge 1 ] && [ "$rows" -lt 4 ] && [ -z "$(col "$dir/runs.csv" status | grep -vx ok)" ]
ok $? "runs.csv holds only the complete rows ($rows, all ok)"
[ "$(col "$dir/runs.csv" throughput_rps | grep -cx '')" -eq 0 ]
ok $? "every kept row is filled in"
grep -q '"interrupted": true' "$dir/meta.json"
ok $? "meta.json says interrupted"

"$BIN/bench" --resume "$dir" --bin "$T/bin" --quiet 2>>"$T/err"
ok $? "--resume DIR finishes the run"
[ "$(col "$dir/runs.csv" run | wc -l)" -eq 4 ] && [ "$(col "$dir/runs.csv" run | sort -u | wc -l)" -eq 4 ]
ok $? "after --resume: 4 distinct rows, none run twice"
[ -z "$(leftovers)" ]
ok $? "no process left after --resume"

# A server that ignores SIGTERM: still out within 2 s (SIGKILL to its group).
cat > "$T/stub.yaml" <<'EOF'
name: stub
defaults: {proto: echo, duration: 3, warmup: 0, cooldown: 0, stop_grace: 5}
servers: [fake, fakestubborn]
EOF
mkbin
interrupt "$T/stub.yaml" 1 stub
ok $([ $rc -eq 130 ] && echo 0 || echo 1) "SIGINT with a server ignoring SIGTERM: exit 130 (got $rc)"
diag "exited ${took} ms after SIGINT"
ok $([ "$took" -lt 2000 ] && echo 0 || echo 1) "still within 2 s although stop_grace is 5 s"
[ -z "$(leftovers)" ]
ok $? "the stubborn server was killed"

# nginx, an external server with a master and a worker: Ctrl-C leaves neither behind. Their pids
# are read from the run's cgroups while it runs (the worker's command line names no file of ours).
if PATH=$PATH:/usr/sbin:/sbin command -v nginx >/dev/null && [ -x "$BIN/loadgen" ]; then
    mkbin loadgen
    cat > "$T/ngint.yaml" <<'EOF'
name: ngint
defaults: {duration: 3, warmup: 0.2, cooldown: 0}
servers: [nginx]
matrix:
  connections: [10, 20]
EOF
    "$BIN/bench" --config "$T/ngint.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>>"$T/err" &
    pid=$!
    : > "$T/ngpids"
    grab() {
        for g in $(leftover_cgroups $pid); do cat "$g/cgroup.procs" 2>/dev/null; done >> "$T/ngpids"
    }
    for i in $(seq 1 300); do
        grab
        csv=$(ls "$T"/results/ngint-*/runs.csv 2>/dev/null | head -1)
        [ -n "$csv" ] && [ "$(($(wc -l < "$csv") - 1))" -ge 1 ] && break
        sleep 0.1
    done
    for i in $(seq 1 12); do grab; sleep 0.1; done # into the load of the second row
    t0=$(ms)
    kill -INT $pid
    wait $pid
    rc=$?
    took=$(($(ms) - t0))
    ok $([ $rc -eq 130 ] && [ "$took" -lt 2000 ] && echo 0 || echo 1) \
        "SIGINT during an nginx row: exit 130 within 2 s (got $rc after $took ms)"
    seen=$(sort -u "$T/ngpids" | wc -l)
    alive=""
    for p in $(sort -u "$T/ngpids"); do
        { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q '^nginx' && alive="$alive $p"
    done
    [ "$seen" -ge 2 ] || diag "saw $seen nginx process(es) in the run's cgroups (none: accounting without cgroups)"
    [ -z "$alive" ] && [ -z "$(leftovers)" ] && [ -z "$(leftover_cgroups $pid)" ]
    ok $? "no nginx master or worker left ($seen seen), no cgroup left${alive:+ (alive:$alive)}"
    [ -z "$(ls -d "$T"/results/ngint-*/.work/*.d 2>/dev/null)" ]
    ok $? "nginx's private directory is removed"
else
    skip "nginx not installed or loadgen not built"
    skip "nginx not installed or loadgen not built"
    skip "nginx not installed or loadgen not built"
fi
finish
