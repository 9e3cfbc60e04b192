#!/bin/sh
# testnet.t - the test network of namespaces (runner/testnet.sh, bin/testnet): three namespaces
# on a bridge, each reachable over ssh with the throwaway key in batch mode, its address from
# 198.18.0.0/15 and its egress shaped by tbf; a server in one answers a load generator in another;
# netem asked for on a kernel without it is an error naming it, with nothing created; a failed
# start and a SIGTERM mid-run both leave no namespace, veth, bridge, state or sshd behind.
. "$(dirname "$0")/runner/lib.sh"

TN=$BIN/testnet
if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/sshd ] || ! command -v ip > /dev/null; then
    echo "1..0 # skip needs root, sshd (openssh-server) and ip (iproute2)"
    exit 0
fi
name=t$(($$ % 100000))
name2=u$(($$ % 100000))
export TESTNET_STATE=$T/state
cleanup() { "$TN" down "$name" 2> /dev/null; "$TN" down "$name2" 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT

# Anything of a test network called $1 still there: namespaces, links, state, sshd processes.
leftover() {
    ip netns list | awk '{print $1}' | grep "^$1-"
    ip -o link show | grep -o "tn-$1[-0-9]*"
    [ -e "$TESTNET_STATE/$1" ] && echo "state $TESTNET_STATE/$1"
    for p in $(pgrep -x sshd); do
        grep -q "$TESTNET_STATE/$1/" "/proc/$p/cmdline" 2> /dev/null && echo "sshd $p"
    done
}

"$TN" up "$name" 3 --rate 100mbit 2> "$T/err"
ok $? "up: three namespaces with an sshd each"
[ $? -eq 0 ] || diag "$(cat "$T/err")"
cfg=$TESTNET_STATE/$name/ssh_config
good=0
for i in 0 1 2; do
    addr=$(awk -v h="$name-$i" '$1 == h {print $2}' "$TESTNET_STATE/$name/hosts")
    out=$(ssh -F "$cfg" "$name-$i" 'ip -o -4 addr show dev eth0; tc qdisc show dev eth0' 2>&1)
    case $out in *"inet $addr/24"*"qdisc tbf"*"rate 100Mbit"*) good=$((good + 1)) ;; *) diag "$name-$i: $out" ;; esac
done
ok $([ $good -eq 3 ] && echo 0 || echo 1) "ssh in batch mode reaches each, which has its 198.18 address and a tbf at 100mbit"
case $(awk '{print $2}' "$TESTNET_STATE/$name/hosts" | tr '\n' ' ') in
198.18.*.2\ 198.18.*.3\ 198.18.*.4\ ) r=0 ;; *) r=1 ;; esac
ok $r "the addresses are from the benchmarking range 198.18.0.0/15"

if [ -x "$BIN/server-epoll-et" ] && [ -x "$BIN/loadgen" ]; then
    srv=$(awk -v h="$name-0" '$1 == h {print $2}' "$TESTNET_STATE/$name/hosts")
    ip netns exec "$name-0" "$BIN/server-epoll-et" --host "$srv" --port 8080 > "$T/srv.out" 2>&1 &
    spid=$!
    for _ in $(seq 1 50); do grep -q . "$T/srv.out" && break; sleep 0.1; done
    ip netns exec "$name-1" "$BIN/loadgen" --target "$srv:8080" --connections 4 --duration 0.5 --warmup 0.1 \
        --json "$T/lg.json" > /dev/null 2>&1
    kill -TERM $spid
    wait $spid
    req=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$T/lg.json" 2>/dev/null)
    ok $([ "${req:-0}" -gt 0 ] && echo 0 || echo 1) "a server in $name-0 answers a load generator in $name-1 ($req requests)"
else
    skip "server-epoll-et or loadgen not built"
fi

"$TN" down "$name"
ok $? "down"
left=$(leftover "$name")
ok $([ -z "$left" ] && echo 0 || echo 1) "down leaves no namespace, veth, bridge, state or sshd"
[ -z "$left" ] || diag "$left"

"$TN" up "$name" 2 --delay 5ms > "$T/netem" 2>&1
rc=$?
if grep -q "CONFIG_NET_SCH_NETEM" "$T/netem"; then
    ok $([ $rc -eq 1 ] && [ -z "$(leftover "$name")" ] && echo 0 || echo 1) \
        "--delay on a kernel without netem: exit 1 naming CONFIG_NET_SCH_NETEM, nothing created"
else
    ok $([ $rc -eq 0 ] && echo 0 || echo 1) "--delay where the kernel has netem: up"
    "$TN" down "$name"
fi

"$TN" up "$name" 2 --hops 3 > "$T/bad" 2>&1
ok $([ $? -eq 2 ] && grep -q "unknown option '--hops'" "$T/bad" && echo 0 || echo 1) "an unknown option: exit 2"
"$TN" up "Bad" 2 > "$T/bad" 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "a name with capitals: exit 2"

SSHD=/nonexistent/sshd "$TN" up "$name" 2 > "$T/nosshd" 2>&1
rc=$?
ok $([ $rc -eq 1 ] && [ -z "$(leftover "$name")" ] && echo 0 || echo 1) "sshd missing: exit 1, nothing left (exit $rc)"

# SIGTERM while the command runs: the command is stopped and the network removed, within 3 s.
"$TN" run "$name2" 2 -- sleep 30 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -f "$TESTNET_STATE/$name2/hosts" ] && [ "$(wc -l < "$TESTNET_STATE/$name2/hosts")" -eq 2 ] && break; sleep 0.1; done
sleep 0.5
kill -TERM $pid
t0=$(date +%s%N)
wait $pid
rc=$?
for _ in $(seq 1 30); do [ -z "$(leftover "$name2")" ] && break; sleep 0.1; done
ms=$((($(date +%s%N) - t0) / 1000000))
left=$(leftover "$name2")
ok $([ $rc -eq 143 ] && [ -z "$left" ] && [ $ms -le 3000 ] && echo 0 || echo 1) \
    "run: SIGTERM mid-command exits 143 and removes everything (${ms} ms)"
[ -z "$left" ] || diag "$left"
"$TN" run "$name2" 1 -- sh -c 'ssh -F "$TESTNET_SSH_CONFIG" '"$name2"'-0 true && exit 7' > /dev/null 2>&1
rc=$?
ok $([ $rc -eq 7 ] && [ -z "$(leftover "$name2")" ] && echo 0 || echo 1) \
    "run: the command reaches the hosts through TESTNET_SSH_CONFIG; its exit status is run's, nothing left"
finish
