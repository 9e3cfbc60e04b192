#!/bin/sh
# testnet - a test network of Linux network namespaces standing in for hosts: N namespaces on a
# bridge, each with an address from the benchmarking range 198.18.0.0/15 (RFC 2544), an sshd on a
# throwaway key, and optionally its link shaped; all of it removed again, also after a failure or
# Ctrl-C. The runner's multi-host configs and tests/testnet.t use it; it needs root.
#
#   testnet up   NAME N [--rate RATE] [--delay D] [--loss P]   create NAME-0 .. NAME-(N-1)
#   testnet down NAME                                          remove all of it (idempotent)
#   testnet run  NAME N [options] -- COMMAND [ARG...]          up, run COMMAND, down whatever happens
#   testnet info NAME                                          the hosts: namespace, address, ssh alias
#
# NAME: 1 to 6 lowercase letters or digits (it prefixes interface names, at most 15 characters).
# Namespace NAME-i has 198.18.K.(i+2)/24 on eth0, K the first free /24; the bridge tn-NAME in the
# root namespace has 198.18.K.1, so the runner reaches every sshd. State lives in
# /run/cmb-testnet/NAME/: ssh_config (Host NAME-i, key, known hosts), the key, each sshd's config,
# log and pid. COMMAND gets TESTNET_DIR and TESTNET_SSH_CONFIG in its environment.
# --rate shapes each namespace's egress with tc tbf (e.g. 100mbit); --delay and --loss need netem,
# and where the kernel has no netem (CONFIG_NET_SCH_NETEM) they are an error naming it, never a
# silent no-op. Exit status: 0 done, 1 cannot (not root, a tool missing, a kernel feature missing),
# 2 usage; run: COMMAND's status.
set -u

STATE=${TESTNET_STATE:-/run/cmb-testnet}
SSHD=${SSHD:-/usr/sbin/sshd}

die() { echo "testnet: $2" >&2; exit "$1"; }
usage() { sed -n '7,10p' "$0" | sed 's/^# *//' >&2; exit 2; }

check_name() {
    case $1 in '' | *[!a-z0-9]*) die 2 "name '$1': 1 to 6 lowercase letters or digits" ;; esac
    [ ${#1} -le 6 ] || die 2 "name '$1': at most 6 characters"
}

need_root() {
    [ "$(id -u)" = 0 ] || die 1 "needs root (network namespaces, bridges, sshd)"
    for t in ip tc ssh-keygen "$SSHD"; do
        command -v "$t" > /dev/null 2>&1 || die 1 "$t is not installed (make deps: iproute2, openssh-server)"
    done
}

# The first 198.18.K.0/24 that no interface of the root namespace uses.
free_subnet() {
    used=$(ip -o -4 addr show 2> /dev/null | awk '{print $4}')
    for k in $(seq 0 255); do
        echo "$used" | grep -q "^198\.18\.$k\." || { echo "$k"; return 0; }
    done
    die 1 "no free /24 left in 198.18.0.0/16"
}

# Kill what we started in namespace $1 (our sshd and anything run inside it), then remove it.
remove_ns() {
    pids=$(ip netns pids "$1" 2> /dev/null)
    [ -n "$pids" ] && kill -TERM $pids 2> /dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -z "$(ip netns pids "$1" 2> /dev/null)" ] && break
        sleep 0.1
    done
    pids=$(ip netns pids "$1" 2> /dev/null)
    [ -n "$pids" ] && kill -KILL $pids 2> /dev/null
    ip netns del "$1" 2> /dev/null
}

down() {
    name=$1
    dir=$STATE/$name
    for ns in $(ip netns list 2> /dev/null | awk '{print $1}' | grep "^$name-[0-9][0-9]*$"); do
        remove_ns "$ns"
    done
    ip link del "tn-$name" 2> /dev/null
    # The kernel destroys a deleted namespace's veth pairs a moment later: wait for them, so that
    # nothing of ours is left when down returns.
    for _ in $(seq 1 50); do
        ip -o link show 2> /dev/null | grep -q ": tn-$name-[0-9]*@" || break
        sleep 0.1
    done
    rm -rf "$dir"
    return 0
}

# netem is a kernel qdisc: try it on a scratch veth pair in a scratch namespace.
have_netem() {
    scratch=$1-netem
    ip netns add "$scratch" 2> /dev/null || return 1
    ip -n "$scratch" link set lo up
    ip -n "$scratch" link add tnprobe0 type dummy 2> /dev/null && ip -n "$scratch" link set tnprobe0 up
    ip netns exec "$scratch" tc qdisc add dev tnprobe0 root netem delay 1ms > /dev/null 2>&1
    rc=$?
    ip netns del "$scratch"
    return $rc
}

up() {
    name=$1 n=$2
    shift 2
    rate= delay= loss=
    while [ $# -gt 0 ]; do
        case $1 in
        --rate) [ $# -ge 2 ] || usage; rate=$2; shift 2 ;;
        --delay) [ $# -ge 2 ] || usage; delay=$2; shift 2 ;;
        --loss) [ $# -ge 2 ] || usage; loss=$2; shift 2 ;;
        *) die 2 "unknown option '$1'" ;;
        esac
    done
    case $n in '' | *[!0-9]*) die 2 "N '$n': a number of namespaces, 1 to 200" ;; esac
    [ "$n" -ge 1 ] && [ "$n" -le 200 ] || die 2 "N $n: 1 to 200 namespaces"
    dir=$STATE/$name
    [ -e "$dir" ] && die 1 "test network '$name' exists ($dir): testnet down $name first"
    if [ -n "$delay$loss" ] && ! have_netem "$name"; then
        die 1 "--delay and --loss need the netem qdisc, and this kernel has none (CONFIG_NET_SCH_NETEM is off and tc cannot load sch_netem): they cannot be emulated here"
    fi
    mkdir -p "$dir" /run/sshd || die 1 "cannot create $dir"
    chmod 700 "$dir"
    k=$(free_subnet)
    echo "$k" > "$dir/subnet"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/key" -C "cmb-testnet-$name" || die 1 "ssh-keygen failed"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" -C "cmb-testnet-$name-host" || die 1 "ssh-keygen failed"
    cp "$dir/key.pub" "$dir/authorized_keys"
    ip link add "tn-$name" type bridge || die 1 "cannot create bridge tn-$name"
    ip addr add "198.18.$k.1/24" dev "tn-$name" && ip link set "tn-$name" up || die 1 "cannot configure tn-$name"
    : > "$dir/ssh_config"
    : > "$dir/known_hosts"
    i=0
    while [ "$i" -lt "$n" ]; do
        ns=$name-$i addr=198.18.$k.$((i + 2))
        ip netns add "$ns" || die 1 "cannot create namespace $ns"
        ip link add "tn-$name-$i" type veth peer name eth0 netns "$ns" || die 1 "cannot create veth for $ns"
        ip link set "tn-$name-$i" master "tn-$name" up
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr/24" dev eth0 && ip -n "$ns" link set eth0 up || die 1 "cannot configure $ns"
        ip -n "$ns" route add default via "198.18.$k.1" 2> /dev/null
        # The egress of each host: tbf for the rate, netem (under it, when both) for delay and loss.
        if [ -n "$rate" ]; then
            ip netns exec "$ns" tc qdisc add dev eth0 root handle 1: tbf rate "$rate" burst 64kb latency 50ms ||
                die 2 "--rate '$rate': tc tbf refused it (e.g. 100mbit, 1gbit)"
        fi
        if [ -n "$delay$loss" ]; then
            where="root"
            [ -n "$rate" ] && where="parent 1:1 handle 10:"
            ip netns exec "$ns" tc qdisc add dev eth0 $where netem ${delay:+delay "$delay"} ${loss:+loss "$loss"} ||
                die 2 "netem refused --delay '$delay' --loss '$loss'"
        fi
        cat > "$dir/sshd_config-$i" <<EOF
ListenAddress $addr
Port 22
HostKey $dir/host_key
PidFile $dir/sshd-$i.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
MaxStartups 200
MaxSessions 200
LogLevel ERROR
EOF
        ip netns exec "$ns" "$SSHD" -f "$dir/sshd_config-$i" -E "$dir/sshd-$i.log" ||
            die 1 "sshd did not start in $ns (see $dir/sshd-$i.log)"
        echo "$addr $(cat "$dir/host_key.pub" | cut -d' ' -f1-2)" >> "$dir/known_hosts"
        cat >> "$dir/ssh_config" <<EOF
Host $ns
    HostName $addr
    User root
    IdentityFile $dir/key
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
EOF
        echo "$ns $addr" >> "$dir/hosts"
        i=$((i + 1))
    done
    # Every sshd answers before up returns: a caller's first ssh must not race its start.
    i=0
    while [ "$i" -lt "$n" ]; do
        tries=0
        until ssh -F "$dir/ssh_config" "$name-$i" true 2> /dev/null; do
            tries=$((tries + 1))
            [ $tries -lt 50 ] || die 1 "sshd in $name-$i does not answer (see $dir/sshd-$i.log)"
            sleep 0.1
        done
        i=$((i + 1))
    done
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
up)
    [ $# -ge 2 ] || usage
    check_name "$1"
    need_root
    name=$1
    trap 'down "$name"; exit 130' INT TERM
    ( up "$@" ) || { rc=$?; down "$name"; exit $rc; }
    ;;
down)
    [ $# -eq 1 ] || usage
    check_name "$1"
    need_root
    down "$1"
    ;;
info)
    [ $# -eq 1 ] || usage
    check_name "$1"
    [ -f "$STATE/$1/hosts" ] || die 1 "no test network '$1'"
    cat "$STATE/$1/hosts"
    ;;
run)
    [ $# -ge 2 ] || usage
    check_name "$1"
    need_root
    name=$1 n=$2
    shift 2
    opts=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts="$opts $1"; shift; done
    [ $# -ge 2 ] || usage
    shift
    trap 'down "$name"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    ( up "$name" "$n" $opts ) || exit $?
    # In the background so that a signal to us is handled at once, not after COMMAND ends; it is
    # passed on as SIGTERM (a background command of a script ignores SIGINT), then we wait for it.
    TESTNET_DIR=$STATE/$name TESTNET_SSH_CONFIG=$STATE/$name/ssh_config "$@" &
    child=$!
    trap 'kill -TERM $child 2> /dev/null; wait $child; exit 130' INT
    trap 'kill -TERM $child 2> /dev/null; wait $child; exit 143' TERM
    wait $child
    exit $?
    ;;
*) usage ;;
esac
