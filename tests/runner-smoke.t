#!/bin/sh
# runner-smoke.t - a tiny config (two servers, 1 s points) produces every results file, runs.csv
# has exactly the columns docs/DESIGN.md lists, and no process or cgroup is left behind.
# Uses the real loadgen and servers when built, else the fakes of tests/runner/.
. "$(dirname "$0")/runner/lib.sh"

real=$(have_servers epoll-lt threadpool poll epoll-et pthread)
set -- $real
if [ -x "$BIN/loadgen" ] && [ $# -ge 2 ]; then
    s1=$1 s2=$2 proto=http
    mkbin loadgen "server-$s1" "server-$s2"
    ln -sf "$BIN/loadgen" "$T/bin/loadgen"
    diag "real binaries: loadgen, server-$s1, server-$s2"
else
    s1=fake s2=fakefork proto=echo
    mkbin
    diag "loadgen or servers not built yet: using the fakes"
fi
cat > "$T/smoke.yaml" <<EOF
name: smoke
description: runner smoke test
defaults: {proto: $proto, duration: 1, warmup: 0.2, cooldown: 0, repeats: 1}
servers: [$s1, $s2]
matrix:
  connections: [4, 16]
EOF
"$BIN/bench" --config "$T/smoke.yaml" --bin "$T/bin" --out "$T/results" --quiet 2>"$T/err" &
pid=$!
wait $pid
rc=$?
ok $rc "bench exits 0"
[ $rc -eq 0 ] || diag "$(cat "$T/err")"
dir=$(ls -d "$T"/results/smoke-* 2>/dev/null | head -1)
for f in runs.csv timeseries.csv meta.json config.yaml log; do
    [ -s "$dir/$f" ]
    ok $? "$f written"
done
[ "$(ls "$dir/hist" | grep -c '\.hgrm$')" -eq 4 ]
ok $? "hist/ holds one .hgrm per row"
[ "$(readlink "$T/results/latest")" = "$(basename "$dir")" ]
ok $? "results/latest points at the run"
[ ! -e "$dir/.work" ] && [ -z "$(find "$dir" -name '*.tmp')" ]
ok $? "no temporary files left in the run folder"

# The header is the contract: compare with the list in docs/DESIGN.md, in order.
"$PYTHON" - "$ROOT/docs/DESIGN.md" "$dir/runs.csv" <<'EOF'
import re, sys, csv
doc = open(sys.argv[1]).read()
block = doc.split("`runs.csv` one row per", 1)[1].split("```", 2)[1]
want = [c for c in re.split(r"[\s,]+", block) if c]
got = next(csv.reader(open(sys.argv[2])))
if want != got:
    print("# DESIGN.md:", want)
    print("# runs.csv: ", got)
    sys.exit(1)
EOF
ok $? "runs.csv columns are exactly docs/DESIGN.md's, in order"
[ "$(head -1 "$dir/timeseries.csv")" = "run,server,repeat,t_s,requests,throughput_rps,latency_p50_us,latency_p99_us,errors,server_cpu_cores,server_rss_kb" ]
ok $? "timeseries.csv header as documented"
[ "$(col "$dir/runs.csv" status | sort -u | tr '\n' ' ')" = "ok " ]
ok $? "every row has status ok"
[ "$(col "$dir/runs.csv" run | wc -l)" -eq 4 ]
ok $? "4 rows (2 servers x 2 points)"
for c in throughput_rps latency_p99_us server_cpu_user_s server_rss_peak_kb server_threads_peak \
         server_ctxsw_voluntary srv_accepted loadgen_cpu_s bottleneck conns_starved fairness_jain; do
    [ -z "$(col "$dir/runs.csv" $c | grep -x '')" ]
    ok $? "column $c filled in every row"
done
"$PYTHON" - "$dir/meta.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
need = [("git", "revision"), ("git", "dirty"), ("build", "cc"), ("build", "cflags"), ("host", "kernel"),
        ("host", "cpu_model"), ("host", "cpus_online"), ("host", "loadavg_start"), ("limits", "nofile_soft"),
        ("limits", "somaxconn"), ("limits", "ip_local_port_range"), ("pinning", "server_cpus"),
        ("config", "servers")]
missing = [a + "." + b for a, b in need if b not in m.get(a, {})]
if missing:
    print("# missing:", missing)
sys.exit(1 if missing else 0)
EOF
ok $? "meta.json has config, git, compiler, kernel, CPU, limits, load average, pinning"
[ -z "$(leftovers)" ]
ok $? "no server or loadgen process left"
[ -z "$(leftover_cgroups $pid)" ]
ok $? "no per-run cgroup left"
finish
