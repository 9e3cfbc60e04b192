#!/bin/sh
# multihost.t - rows across hosts, on a test network of namespaces with an sshd each (bin/testnet):
# the server in one namespace (and once on an ssh host), three load generators over ssh in three others. The merged
# request count is the sum over the agents', and what the agents got answered in all (warmup,
# window, drain) is the server's own --stats count exactly; each agent's window start against the
# instant T the runner chose is
# printed and within 50 ms; the merged interval log read by the Java library's HistogramLogReader
# has the row's count and its p99 within the histogram's precision. The same row with netns
# placements; kill -9 of one agent mid-row fails that row naming it, and the next row is ok;
# SIGINT of bench mid-row leaves no process of the run in any namespace within 3 s; bad hosts, a
# missing binary and netem asked of a kernel without it stop the run before anything starts
# (exit 2). Nothing is left: namespaces, veths, sshd.
. "$(dirname "$0")/runner/lib.sh"

if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ] || [ ! -x "$BIN/testnet" ] || [ ! -x "$BIN/loadgen" ] ||
    [ ! -x "$BIN/server-epoll-et" ]; then
    echo "1..0 # skip needs root, sshd, bin/testnet, loadgen and server-epoll-et"
    exit 0
fi
net=h$(($$ % 100000))
export TESTNET_STATE=$T/state
trap '"$BIN/testnet" down "$net" 2> /dev/null; rm -rf "$T"' EXIT
"$BIN/testnet" up "$net" 4 2> "$T/up.err"
ok $? "a test network of 4 namespaces, an sshd in each"
cfg=$TESTNET_STATE/$net/ssh_config

# Agents over ssh: each is copied our binaries into its own cache directory by preflight.
conf() { # conf NAME PLACEMENT(ssh|netns) DURATION POINTS [WARMUP]
    cat > "$T/$1.yaml" <<EOF
name: $1
defaults: {duration: $3, warmup: ${5:-0.5}, cooldown: 0, timeout: 2}
servers: [epoll-et]
matrix: {connections: $4}
hosts:
  srv: {netns: $net-0}
EOF
    for i in 1 2 3; do
        if [ "$2" = ssh ]; then
            echo "  a$i: {ssh: $net-$i, ssh_config: $cfg}" >> "$T/$1.yaml"
        else
            echo "  a$i: {netns: $net-$i}" >> "$T/$1.yaml"
        fi
    done
    printf 'server_host: srv\nloadgen_hosts: [a1, a2, a3]\n' >> "$T/$1.yaml"
}

# check NAME: the facts of the newest run of NAME, one per line.
check() {
    dir=$(ls -d "$T"/results/$1-* | tail -1)
    "$PYTHON" - "$dir" <<'EOF'
import csv, json, sys
d = sys.argv[1]
runs = list(csv.DictReader(open(d + "/runs.csv")))
agents = list(csv.DictReader(open(d + "/agents.csv")))
r = runs[0]
mine = [a for a in agents if a["run"] == r["run"]]
print("status", r["status"], r["status_reason"][:120])
print("agents", len(mine), sum(int(a["requests"]) for a in mine), r["requests"])
print("answered", sum(int(a["requests_total"]) for a in mine), r["srv_requests"])
print("skews", " ".join(a["start_skew_us"] for a in mine))
print("rskews", " ".join(a["runner_skew_us"] + "+-" + a["clock_error_us"] for a in mine))
print("hosts", " ".join(a["host"] + "=" + a["placement"].split()[0] for a in mine))
print("p99", r["latency_p99_us"])
print("dir", d)
EOF
}
fact() { sed -n "s/^$1 //p" "$T/facts"; }
# in_ns NS PATTERN: the processes in namespace NS whose command line matches PATTERN (pgrep copes
# with processes that end while it looks, where a loop over /proc/PID/cmdline races them).
in_ns() {
    for p in $(pgrep -f "$2"); do
        [ "$(ip netns identify "$p" 2> /dev/null)" = "$1" ] && echo "$p"
    done
}

conf ssh ssh 1 12
"$BIN/bench" --config "$T/ssh.yaml" --bin "$BIN" --out "$T/results" --dry-run > "$T/plan" 2>&1
grep -q "the server on srv (netns $net-0); load generators on a1 (ssh $net-1), a2 (ssh $net-2), a3 (ssh $net-3)" "$T/plan" &&
    grep -q "split over them" "$T/plan"
ok $? "--dry-run says where every process runs and how the load is split"
"$BIN/bench" --config "$T/ssh.yaml" --bin "$BIN" --out "$T/results" --quiet 2> "$T/ssh.err"
ok $? "a row with three agents over ssh runs"
check ssh > "$T/facts"
case $(fact status) in ok*) r=0 ;; *) r=1 ;; esac
ok $r "the row is ok ($(fact status))"
set -- $(fact agents)
ok $([ "$1" = 3 ] && [ "$2" = "$3" ] && echo 0 || echo 1) "agents.csv: 3 agents, their requests sum to the row's ($2 = $3)"
dir=$(fact dir)
set -- $(fact answered)
ok $([ "$1" = "$2" ] && echo 0 || echo 1) \
    "the server's --stats count is exactly what the agents got answered, the window and its edges ($2 = $1)"
skews=$(fact skews)
diag "agents' window start against T (us): $skews on their clocks, $(fact rskews) on ours"
bad=0
for s in $skews $(fact rskews | sed 's/+-[0-9]*//g'); do
    s=${s#-}
    [ -n "$s" ] && [ "${s%.*}" -le 50000 ] || bad=1
done
ok $bad "each agent opened its window within 50 ms of T, on its clock and on ours"
ok $([ "$(fact hosts)" = "a1=ssh a2=ssh a3=ssh" ] && echo 0 || echo 1) "agents.csv names each agent's host ($(fact hosts))"

JAR=/usr/share/java/hdrhistogram.jar
if [ -r "$JAR" ] && command -v javac > /dev/null; then
    javac -d "$T/java" -cp "$JAR" "$ROOT/tests/loadgen/HlogInterop.java" 2> "$T/javac.err"
    log=$(ls "$dir"/hist/*_rep1.hlog)
    java -Xshare:auto -XX:TieredStopAtLevel=1 -cp "$JAR:$T/java" HlogInterop read "$log" > "$T/java.out" 2>&1
    line=$(grep '^tag=corrected' "$T/java.out")
    count=$(echo "$line" | sed 's/.*count=\([0-9]*\).*/\1/')
    p99=$(echo "$line" | sed 's/.*p99round=\([0-9]*\).*/\1/')
    want=$(set -- $(fact agents); echo "$3")
    "$PYTHON" -c 'import sys; ours, java = float(sys.argv[1]), float(sys.argv[2]) / 1000; sys.exit(0 if abs(ours - java) <= 0.001 * max(ours, java) + 0.1 else 1)' "$(fact p99)" "$p99"
    r=$?
    ok $([ "$count" = "$want" ] && [ $r -eq 0 ] && echo 0 || echo 1) \
        "Java's HistogramLogReader on the merged log: count $count (the row's $want), p99 $p99 ns (ours $(fact p99) us)"
else
    skip "the Java HdrHistogram library or javac is not installed"
fi

conf ns netns 1 12
"$BIN/bench" --config "$T/ns.yaml" --bin "$BIN" --out "$T/results" --quiet 2> "$T/ns.err"
check ns > "$T/facts"
set -- $(fact agents)
case $(fact status) in ok*) r=0 ;; *) r=1 ;; esac
ok $([ $r -eq 0 ] && [ "$1" = 3 ] && [ "$2" = "$3" ] && [ "$(fact hosts)" = "a1=netns a2=netns a3=netns" ] && echo 0 || echo 1) \
    "the same row with netns placements: ok, 3 agents summing to the row ($2 = $3)"

# The server on an ssh host: cmb-run there accounts its tree; the stats come back over the channel.
conf rsrv ssh 1 12
sed -i -e "s|^  srv: {netns: $net-0}|  srv: {ssh: $net-0, ssh_config: $cfg}|" "$T/rsrv.yaml"
"$BIN/bench" --config "$T/rsrv.yaml" --bin "$BIN" --out "$T/results" --quiet 2> "$T/rsrv.err"
rdir=$(ls -d "$T"/results/rsrv-* | tail -1)
"$PYTHON" - "$rdir" > "$T/rsrv" <<'EOF'
import csv, sys
d = sys.argv[1]
r = list(csv.DictReader(open(d + "/runs.csv")))[0]
agents = [a for a in csv.DictReader(open(d + "/agents.csv")) if a["run"] == r["run"]]
ok = (r["status"] == "ok" and int(r["srv_requests"] or -1) == sum(int(a["requests_total"]) for a in agents)
      and float(r["server_cpu_cores"] or 0) > 0 and int(r["server_threads_peak"] or 0) >= 1
      and int(r["server_rss_peak_kb"] or 0) > 0)
print("yes" if ok else "no", r["status"], r["srv_requests"], r["server_cpu_cores"], r["server_threads_peak"],
      r["server_rss_peak_kb"], r["status_reason"][:100])
EOF
ok $(grep -q "^yes" "$T/rsrv" && echo 0 || echo 1) \
    "the server on an ssh host: ok, its --stats count what the agents got answered, its tree accounted there ($(cat "$T/rsrv"))"

# kill -9 of agent 2's load generator in the first of two rows.
conf kill ssh 3 "[12, 9]"
"$BIN/bench" --config "$T/kill.yaml" --bin "$BIN" --out "$T/results" --quiet 2> "$T/kill.err" &
pid=$!
victim=
for _ in $(seq 1 100); do
    victim=$(in_ns "$net-2" '^[^ ]*/\.cache/cmb/bin-[^ ]*/loadgen .*--start-at' | head -1)
    [ -n "$victim" ] && break
    sleep 0.1
done
[ -n "$victim" ] || diag "agent 2's load generator not seen in $net-2"
sleep 1
[ -n "$victim" ] && kill -9 "$victim"
wait $pid
kdir=$(ls -d "$T"/results/kill-* | tail -1)
"$PYTHON" - "$kdir" > "$T/kill" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1] + "/runs.csv")):
    print(r["connections"], r["status"], r["status_reason"][:160])
EOF
diag "$(tr '\n' ';' < "$T/kill")"
grep -q "^12 failed .*agent 2 on a2" "$T/kill" && grep -q "^9 ok" "$T/kill"
ok $? "kill -9 of one agent mid-row fails that row naming the agent; the next row is ok"

# SIGINT mid-row: within 3 s nothing of the run in any namespace, nor here.
conf int ssh 5 12
"$BIN/bench" --config "$T/int.yaml" --bin "$BIN" --out "$T/results" --quiet 2> "$T/int.err" &
pid=$!
running() { [ -n "$(in_ns "$net-1" '/loadgen ')" ]; } # agent 1's load generator runs in its namespace
for _ in $(seq 1 100); do running && break; sleep 0.1; done
running || diag "agent 1's load generator not seen running: $(ps -o pid,etimes,args --ppid $pid | cut -c1-160)"
sleep 0.5
kill -INT $pid
t0=$(date +%s%N)
wait $pid
rc=$?
leftover() { # processes of the run: in the namespaces (but their sshd), and ssh clients here
    for i in 0 1 2 3; do
        for p in $(ip netns pids "$net-$i"); do
            c=$(cat "/proc/$p/cmdline" 2> /dev/null | tr '\0' ' ')
            case $c in *sshd*|"") ;; *) echo "in $net-$i: $p $c" ;; esac
        done
    done
    pgrep -a -f "ssh -F $cfg"
    pgrep -a -f "$T/results/int-"
}
for _ in $(seq 1 30); do [ -z "$(leftover)" ] && break; sleep 0.1; done
ms=$((($(date +%s%N) - t0) / 1000000))
left=$(leftover)
ok $([ $rc -eq 130 ] && [ -z "$left" ] && [ $ms -le 3000 ] && echo 0 || echo 1) \
    "SIGINT of bench mid-row: exit 130 ($rc), no process of the run in any namespace after ${ms} ms"
[ -z "$left" ] || diag "$left"

# Bad hosts stop the run before anything starts.
bad() { # bad NAME WANT YAML-LINES...
    name=$1 want=$2
    shift 2
    printf '%s\n' "name: $name" "servers: [epoll-et]" "defaults: {duration: 0.5}" "$@" > "$T/$name.yaml"
    "$BIN/bench" --config "$T/$name.yaml" --bin "$BIN" --out "$T/results" > "$T/$name.out" 2>&1
    rc=$?
    ok $([ $rc -eq 2 ] && grep -q -- "$want" "$T/$name.out" && [ -z "$(ls -d "$T"/results/$name-* 2> /dev/null)" ] &&
        echo 0 || echo 1) "$name: exit 2, \"$want\", nothing started (exit $rc)"
    [ $rc -eq 2 ] && grep -q -- "$want" "$T/$name.out" || diag "$(cat "$T/$name.out")"
}
bad unknown-host "loadgen_hosts: 'nowhere' is not a host" "loadgen_hosts: [nowhere]"
bad closed-port "host 'x' (ssh root@198.18.*): not reachable" "hosts: {x: {ssh: 'root@$(awk -v h="$net-1" '$1 == h {print $2}' "$TESTNET_STATE/$net/hosts"):2'}}" \
    "loadgen_hosts: [x]"
bad missing-netns "network namespace 'no-such-ns' does not exist" "hosts: {x: {netns: no-such-ns}}" "loadgen_hosts: [x]"
nq=q$(($$ % 10000))
printf '%s\n' "name: netem" "servers: [epoll-et]" "testnet: $nq" "testnet_hosts: 2" "testnet_delay: 5ms" \
    "hosts: {x: {netns: $nq-1}}" "loadgen_hosts: [x]" > "$T/netem.yaml"
"$BIN/bench" --config "$T/netem.yaml" --bin "$BIN" --out "$T/results" > "$T/netem.out" 2>&1
rc=$?
if grep -q CONFIG_NET_SCH_NETEM "$T/netem.out"; then
    ok $([ $rc -eq 2 ] && [ -z "$(ls -d "$T"/results/netem-* 2> /dev/null)" ] && [ -z "$(ip netns list | grep "^$nq-")" ] &&
        echo 0 || echo 1) "netem asked for on a kernel without it: exit 2 naming CONFIG_NET_SCH_NETEM, nothing left"
else
    skip "this kernel has netem"
fi
mkdir -p "$T/nobin" && ln -sf "$BIN/bench" "$BIN/cmb-run" "$BIN/server-epoll-et" "$T/nobin/"
printf '%s\n' "name: nobin" "servers: [epoll-et]" "hosts: {x: {ssh: $net-1, ssh_config: $cfg}}" "loadgen_hosts: [x]" \
    > "$T/nobin.yaml"
"$T/nobin/bench" --config "$T/nobin.yaml" --bin "$T/nobin" --out "$T/results" > "$T/nobin.out" 2>&1
rc=$?
ok $([ $rc -eq 2 ] && grep -q "loadgen is not built" "$T/nobin.out" && echo 0 || echo 1) \
    "a missing binary for a remote host: exit 2 naming it (exit $rc)"

"$BIN/testnet" down "$net"
left=$(ip netns list | grep "^$net-"; ip -o link show | grep -o "tn-$net[-0-9]*")
ok $([ -z "$left" ] && echo 0 || echo 1) "no namespace or veth left"
finish
