#!/bin/sh
# runner-plans.t - what bench makes of every shipped config stays as it was: the --dry-run plan
# and the config's copy in meta.json (printed by runner-test/cfg-json, JSON keys sorted) of each
# configs/*.yaml and configs/claims/*.yaml, and bench's answer (message and exit status) to a
# wrong value for every key, are compared with tests/runner/plans/*.out.
# The loadgen split of a row (procs= threads= ips=) depends on this machine's limits: it is
# masked. REGEN=1 writes the expected files from the current bench instead of comparing.
. "$(dirname "$0")/runner/lib.sh"
PLANS=$ROOT/tests/runner/plans
for b in bench runner-test/cfg-json; do
    # Without its programs the test would compare (or, with REGEN=1, write) empty answers.
    [ -x "$BIN/$b" ] || { echo "Bail out! $BIN/$b is not built (make test builds it)"; exit 1; }
done

# check NAME: compare $T/got with $PLANS/NAME.out (or write it with REGEN=1)
check() {
    if [ -n "$REGEN" ]; then
        cp "$T/got" "$PLANS/$1.out"
        ok 0 "$1: written"
    elif [ ! -f "$PLANS/$1.out" ]; then
        ok 1 "$1: no expected output $PLANS/$1.out (REGEN=1 writes it)"
    else
        diff -u "$PLANS/$1.out" "$T/got" > "$T/diff"
        ok $? "$1: as expected"
        [ -s "$T/diff" ] && diag "$(head -40 "$T/diff")"
    fi
}

json_sorted() {
    "$PYTHON" -c 'import json, sys; print(json.dumps(json.load(sys.stdin), indent=1, sort_keys=True))'
}

cd "$ROOT" || exit 1
for f in configs/*.yaml configs/claims/*.yaml; do
    name=$(echo "${f#configs/}" | sed 's,/,-,; s,\.yaml$,,')
    {
        "$BIN/bench" --config "$f" --dry-run > "$T/plan" 2>/dev/null
        echo "exit $?"
        sed -E 's/(procs|threads|ips)=[0-9]+/\1=N/g' "$T/plan"
        echo "--- the config in meta.json"
        "$BIN/runner-test/cfg-json" "$f" "$BIN" | json_sorted
    } > "$T/got"
    check "$name"
done

# Every key with wrong and edge values: bench --check's whole answer and exit status, and for a
# valid config its copy in meta.json. --bin is relative (and empty), so messages name no path
# of this checkout.
cd "$T" || exit 1
: > "$T/got"
answer() { # answer DESCRIPTION  (config on stdin)
    cat > case.yaml
    out=$("$BIN/bench" --config case.yaml --check --bin bin 2>&1)
    rc=$?
    printf '%s: exit %d: %s\n' "$1" $rc "$out" >> "$T/got"
    [ $rc -eq 0 ] && "$BIN/runner-test/cfg-json" case.yaml bin | "$PYTHON" -c \
        'import json, sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' >> "$T/got"
}
# One value a line (some hold spaces).
values='[1, 2]
{a: 1}
-7
0
1
99999999999
zz
auto
2.5
500ms
4k
1g
keepalive
reqs=0
reqs=3
""
"0-1"'
IFS='
'
for key in proto path duration warmup repeats timeout cooldown ready_timeout stop_grace server_cpus \
           loadgen_cpus runner_cpus loadgen_threads loadgen_procs source_ips arrival connect_rate host \
           port workers idle_timeout max_conns backlog docroot server_args loadgen_args connections \
           idle size rate pipeline conn_mode work_us loader durration; do
    for v in $values; do
        printf 'servers: [epoll-et]\ndefaults:\n  %s: %s\n' "$key" "$v" | answer "defaults $key $v"
    done
done
for key in model name workers work_us idle_timeout max_conns backlog docroot args command config worker; do
    for v in $values; do
        printf 'servers:\n  - model: epoll-et\n    %s: %s\n' "$key" "$v" | answer "server $key $v"
    done
done
for key in connections idle size rate pipeline conn_mode work_us loader conections; do
    for v in $values; do
        printf 'servers: [epoll-et]\nmatrix:\n  %s: %s\n' "$key" "$v" | answer "matrix $key $v"
        printf 'servers:\n  - model: epoll-et\n    exclude: {%s: %s}\n' "$key" "$v" | answer "exclude $key $v"
    done
done
for key in name errors achieved resolution probes nam; do
    for v in $values; do
        printf 'servers: [epoll-et]\ncapacity:\n  p99: 1ms\n  %s: %s\n' "$key" "$v" | answer "capacity $key $v"
    done
done
for v in $values; do
    printf 'servers: [epoll-et]\ncapacity:\n  p99: %s\n' "$v" | answer "capacity p99 $v"
done
for key in name description defaults servers matrix capacity matrx; do
    for v in $values; do
        { [ "$key" = servers ] || echo 'servers: [epoll-et]'; printf '%s: %s\n' "$key" "$v"; } | answer "top $key $v"
    done
done
answer "servers all" <<'E'
servers: all
E
answer "nginx echo" <<'E'
defaults: {proto: echo}
servers: [nginx]
E
answer "nginx work_us" <<'E'
servers:
  - model: nginx
    work_us: 5
E
answer "nginx docroot" <<'E'
servers:
  - model: nginx
    docroot: /tmp
E
answer "command placeholder" <<'E'
servers:
  - command: [prog, "{nosuch}"]
E
answer "config without command" <<'E'
servers:
  - model: epoll-et
    config: x
E
answer "empty command" <<'E'
servers:
  - command: []
E
answer "unknown server" <<'E'
servers: [epol-et]
E
answer "name twice" <<'E'
servers: [epoll-et, epoll-et]
E
answer "work_us twice" <<'E'
servers:
  - model: epoll-et
    work_us: 5
matrix: {work_us: [0, 1]}
E
answer "range key" <<'E'
servers:
  - model: epoll-et
    exclude: {connections: {min: 1, top: 2}}
E
answer "empty range" <<'E'
servers:
  - model: epoll-et
    exclude: {connections: {}}
E
answer "wrk with rate" <<'E'
servers: [epoll-et]
matrix: {loader: wrk, rate: 100}
E
answer "capacity with a rate axis" <<'E'
servers: [epoll-et]
capacity: {p99: 1ms}
matrix: {rate: [100, 200]}
E
answer "capacity with a default rate" <<'E'
servers: [epoll-et]
defaults: {rate: 100}
capacity: {p99: 1ms}
E
answer "capacity with wrk" <<'E'
servers: [epoll-et]
capacity: {p99: 1ms}
matrix: {loader: wrk}
E
answer "capacity without p99" <<'E'
servers: [epoll-et]
capacity: [{p99: 1ms}, {errors: 2}]
E
answer "objective name twice" <<'E'
servers: [epoll-et]
capacity: [{p99: 1ms}, {p99: 0.001}]
E
answer "capacity list" <<'E'
servers: [epoll-et]
capacity: [{p99: 1ms, name: tight}, {p99: 10ms, errors: 5, achieved: 95%, resolution: 2.5, probes: 20}]
E
unset IFS
check errors
finish
