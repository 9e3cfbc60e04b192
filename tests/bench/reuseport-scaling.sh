#!/bin/sh
# scaling.sh: throughput of server-reuseport with --workers 1 and --workers 2 under CPU-bound requests
# (--work-us 1000), alternating the two so that a change in the machine's other load hits both alike.
# Load: wrk (Debian's), one thread, closed loop, CONNS connections, DUR seconds per run. Prints one line
# per run (requests/s, server CPU in cores, wrk CPU seconds, CPU the rest of the machine used meanwhile
# in cores, load average) and the medians. Not part of `make test`.
#
#   tests/bench/reuseport-scaling.sh [REPEATS] [DUR] [CONNS] [CPUS]
# CPUS (e.g. 0,1): pin the server there with taskset; wrk then runs on the same CPUs (the machine has
# two), and its CPU seconds show what it took from the server. NICE=-19 (root) runs the server and
# wrk at that priority, so that other work on a shared machine takes less of the two cores from them.
reps=${1:-5}; dur=${2:-5}; conns=${3:-64}; cpus=${4:-}
bin=${BIN:-bin}/server-reuseport
tmp=$(mktemp -d /tmp/cmb-scaling-XXXXXX) || exit 1
spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
clk=$(getconf CLK_TCK)
pin=; [ -n "$cpus" ] && pin="taskset -c $cpus"
prio=; [ -n "${NICE:-}" ] && prio="nice -n $NICE"

cpu_ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

for r in $(seq "$reps"); do
    for w in 1 2; do
        rm -f "$tmp/out" # a stale ready line from the previous server must not be read for this one
        $prio $pin "$bin" --port 0 --workers $w --work-us 1000 --proto http >"$tmp/out" 2>"$tmp/err" &
        spid=$!
        i=0; until grep -q '^ready' "$tmp/out" 2>/dev/null || [ $i -ge 400 ]; do sleep 0.05; i=$((i+1)); done
        port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$tmp/out")
        [ -n "$port" ] || { echo "server-reuseport did not start: $(cat "$tmp/err")" >&2; exit 1; }
        c0=$(cpu_ticks $spid); b0=$(busy_ticks)
        /usr/bin/time -f "%U %S" -o "$tmp/wrkcpu" \
            $prio wrk -t1 -c"$conns" -d"${dur}s" --timeout 30s "http://127.0.0.1:$port/" >"$tmp/wrk"
        c1=$(cpu_ticks $spid); b1=$(busy_ticks)
        kill -TERM $spid; wait $spid; spid=
        rps=$(awk '/Requests\/sec/ { print $2 }' "$tmp/wrk")
        errs=$(grep -E 'Socket errors|Non-2xx' "$tmp/wrk" | tr '\n' ' ')
        cores=$(awk -v a="$c0" -v b="$c1" -v k="$clk" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / k / d }')
        wrk_s=$(awk '{ print $1 + $2 }' "$tmp/wrkcpu")
        # What the rest of the machine ran meanwhile (other users' work), in cores.
        other=$(awk -v a="$b0" -v b="$b1" -v k="$clk" -v d="$dur" -v s="$cores" -v g="$wrk_s" \
                'BEGIN { o = (b - a) / k / d - s - g / d; printf "%.2f", o < 0 ? 0 : o }')
        echo "workers=$w rps=$rps server_cores=$cores wrk_cpu_s=$wrk_s other_cores=$other" \
             "load=$(cut -d' ' -f1 /proc/loadavg) $errs" | tee -a "$tmp/runs"
    done
done
for w in 1 2; do
    awk -v w="workers=$w" '$1 == w { sub("rps=", "", $2); print $2 }' "$tmp/runs" | sort -n |
        awk -v w="$w" '{ a[NR] = $1 } END { printf "median workers=%s: %.1f req/s over %d runs\n", w, a[int((NR + 1) / 2)], NR }'
done
