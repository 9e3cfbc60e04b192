#!/bin/sh
# runner-config.t - bench rejects bad configs before running anything: exit 2 and a message
# naming file:line:column and what was expected; good configs expand into the documented plan.
. "$(dirname "$0")/runner/lib.sh"
mkbin

# bad NAME EXPECTED-LINE EXPECTED-TEXT  (config on stdin)
bad() {
    cat > "$T/$1.yaml"
    out=$("$BIN/bench" --config "$T/$1.yaml" --bin "$T/bin" --out "$T/results" 2>&1)
    rc=$?
    ok $([ $rc -eq 2 ] && echo 0 || echo 1) "$1: exit status 2 (got $rc)"
    echo "$out" | grep -q "$T/$1.yaml:$2:[0-9]*: .*$3"
    ok $? "$1: message names file:line $2 and says '$3'"
    [ "$?" -eq 0 ] || diag "got: $out"
}

bad syntax 3 "YAML syntax error" <<'EOF'
name: x
servers: [fake
matrix: {connections: [1]}
EOF
bad unknown-top 2 "unknown key 'matrx' at the top level" <<'EOF'
servers: [fake]
matrx: {connections: 1}
EOF
bad unknown-axis 4 "unknown key 'conections' in matrix (expected connections" <<'EOF'
name: x
servers: [fake]
matrix:
  conections: [1, 2]
EOF
bad unknown-default 3 "unknown key 'durration' in defaults" <<'EOF'
servers: [fake]
defaults:
  durration: 2
EOF
bad wrong-type 3 "'duration' expects a duration in seconds" <<'EOF'
servers: [fake]
defaults:
  duration: fast
EOF
bad wrong-type-list 3 "'repeats' expects a whole number, got a list" <<'EOF'
servers: [fake]
defaults:
  repeats: [1, 2]
EOF
bad unknown-server 2 "unknown server 'epol-et'" <<'EOF'
name: x
servers: [fake, epol-et]
EOF
bad server-key 4 "unknown key 'worker' in a server" <<'EOF'
servers:
  - fake
  - model: threadpool
    worker: 4
EOF
bad no-model 2 "this server has no 'model'" <<'EOF'
servers:
  - name: lonely
EOF
bad not-mapping 1 "the top level must be a mapping" <<'EOF'
- fake
EOF
bad bad-mode 3 "'conn_mode' expects keepalive, close or reqs=N" <<'EOF'
servers: [fake]
matrix:
  conn_mode: [keepalive, sometimes]
EOF
bad excl-axis 5 "unknown key 'conns' in exclude" <<'EOF'
servers:
  - model: select
    exclude:
      - connections: 5
      - conns: 10
EOF
bad empty-axis 3 "is an empty list" <<'EOF'
servers: [fake]
matrix:
  connections: []
EOF
bad duplicate 3 "duplicate key 'name'" <<'EOF'
name: a
servers: [fake]
name: b
EOF
bad range 3 "'connections' must be between 1 and" <<'EOF'
servers: [fake]
matrix:
  connections: 0
EOF
bad cpus 3 "'server_cpus' expects a CPU list" <<'EOF'
servers: [fake]
defaults:
  server_cpus: first
EOF
bad no-servers 1 "no 'servers' list" <<'EOF'
name: x
matrix: {connections: 1}
EOF
bad workus-twice 2 "sets work_us and the matrix has a work_us axis" <<'EOF'
servers:
  - model: fake
    work_us: 10
matrix:
  work_us: [0, 100]
EOF
[ ! -e "$T/results" ]
ok $? "no results folder was created for any bad config"

# A good config: cross product, exclusions (value, list, range), rotation of servers per repeat.
cat > "$T/good.yaml" <<'EOF'
name: good
defaults: {proto: echo, duration: 1, warmup: 0, repeats: 2}
servers:
  - fake
  - model: fakefork
    name: forky
    workers: 2
    exclude:
      - connections: {min: 100}
  - model: fake
    name: picky
    exclude: {connections: [10], conn-mode: close}
matrix:
  connections: [10, 100]
  conn_mode: [keepalive, close]
EOF
out=$("$BIN/bench" --config "$T/good.yaml" --bin "$T/bin" --dry-run 2>&1)
ok $? "dry run of a good config succeeds"
echo "$out" | grep -q "^18 runs to do (4 points x 3 servers x 2 repeats; 3 server/point pairs excluded)"
ok $? "(4 points x 3 servers - 3 exclusions) x 2 repeats = 18 runs"
[ "$(echo "$out" | grep -c ' forky ')" -eq 4 ]
ok $? "forky (excluded at >= 100 connections) runs 2 points x 2 repeats"
echo "$out" | grep -q "^estimated duration: "
ok $? "the plan gives an estimated duration"
first1=$(echo "$out" | awk '$1 == 1 {print $2}')
first2=$(echo "$out" | awk '$1 ~ /^[0-9]+$/ && $11 == 2 {print $2; exit}')
[ "$first1" = fake ] && [ "$first2" = forky ]
ok $? "repeat 2 starts with the next server (got $first1 then $first2)"

out=$("$BIN/bench" --config "$T/good.yaml" --bin "$T/bin" --dry-run --only forky 2>&1)
[ "$(echo "$out" | grep -c ' forky ')" -eq 4 ] && ! echo "$out" | grep -q ' picky '
ok $? "--only forky keeps only forky's rows"
"$BIN/bench" --config "$T/good.yaml" --bin "$T/bin" --dry-run --only nosuch >/dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "--only with an unknown server exits 2"

# Preflight: 30,000 connections exceed one loadgen process (open-file limit) and one source
# address (local port range): the runner splits the load and says so.
nofile=$(ulimit -Hn)
ports=$(awk '{print $2 - $1 + 1}' /proc/sys/net/ipv4/ip_local_port_range)
cat > "$T/big.yaml" <<'EOF'
servers: [fake]
matrix: {connections: [100, 30000]}
EOF
out=$("$BIN/bench" --config "$T/big.yaml" --bin "$T/bin" --dry-run 2>&1)
if [ "$nofile" -lt 30000 ] && [ "$ports" -lt 30000 ]; then
    echo "$out" | grep -q ' 30000 .*procs=[2-9] .*ips=[2-9]'
    ok $? "30000 connections: more than one loadgen process and source address"
    echo "$out" | grep -q ' 100 .*procs=1 threads=[0-9]* ips=1'
    ok $? "100 connections: one process, one address"
    echo "$out" | grep -q "preflight: .*using --procs" && echo "$out" | grep -q "preflight: .*using --source-ips 127.0.0.1-127.0.0."
    ok $? "preflight says what it chose and why"
else
    skip "open-file limit $nofile / port range $ports hold 30000 connections in one process"
fi

# The schema example in configs/README.md is itself a valid config.
"$PYTHON" -c '
import sys
print(open(sys.argv[1]).read().split("```yaml\n")[1].split("```")[0])' "$ROOT/configs/README.md" > "$T/readme.yaml"
"$BIN/bench" --config "$T/readme.yaml" --bin "$T/bin" --check >/dev/null 2>"$T/check.err"
ok $? "the schema example of configs/README.md is valid"
[ -s "$T/check.err" ] && diag "$(cat "$T/check.err")"

# The Keys section of configs/README.md is the table of keys as bench prints it.
"$BIN/bench" --schema > "$T/schema.md"
ok $? "bench --schema prints the table of keys"
"$PYTHON" -c '
import sys
print(open(sys.argv[1]).read().split("\n## Keys\n\n", 1)[1].split("\n## ", 1)[0], end="")' \
    "$ROOT/configs/README.md" > "$T/readme-keys.md"
diff -u "$T/readme-keys.md" "$T/schema.md" > "$T/schema.diff"
ok $? "configs/README.md's Keys section is what bench --schema prints (else paste it there)"
[ -s "$T/schema.diff" ] && diag "$(head -20 "$T/schema.diff")"

# Shipped configs all parse (servers not yet built are still known models).
for f in "$ROOT"/configs/*.yaml "$ROOT"/configs/claims/*.yaml; do
    [ -f "$f" ] || continue
    "$BIN/bench" --config "$f" --check >/dev/null 2>"$T/check.err"
    ok $? "configs/${f#"$ROOT"/configs/} is valid"
    [ -s "$T/check.err" ] && diag "$(cat "$T/check.err")"
done
finish
