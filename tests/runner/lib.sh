# tests/runner/lib.sh - shared helpers of the runner's TAP tests (sourced, POSIX sh).
#
# BIN (default bin) is where bench, loadgen, server-* and runner-test/ are; PYTHON a python3 with
# the standard library (csv). Each test works in its own temp dir, removed at exit.

BIN=${BIN:-bin}
PYTHON=${PYTHON:-/usr/bin/python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/runner-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
failed=0

ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { echo "# $*"; }
skip() { n=$((n + 1)); echo "ok $n # skip $*"; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; }

# A bin dir of symlinks in $T/bin: the fakes always; real binaries given as arguments.
#   mkbin [real-name...]   e.g. mkbin loadgen server-epoll-lt
mkbin() {
    mkdir -p "$T/bin"
    for f in fake fakefork fakenoready fakecrash fakestubborn fakeorphan; do
        ln -sf "$BIN/runner-test/fake-server" "$T/bin/server-$f"
    done
    ln -sf "$BIN/runner-test/fake-loadgen" "$T/bin/loadgen"
    for f in "$@"; do ln -sf "$BIN/$f" "$T/bin/$f"; done
}

# Real servers that are built, in the order given: "have_servers a b c" prints those present.
have_servers() {
    for m in "$@"; do [ -x "$BIN/server-$m" ] && printf '%s ' "$m"; done
}

# Column of runs.csv for every row (or one row when a 3rd argument selects it by run key prefix).
col() { # col RUNS.CSV COLUMN [SERVER]
    "$PYTHON" -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if len(sys.argv) < 4 or r["server"] == sys.argv[3]:
        print(r.get(sys.argv[2], "<no such column>"))' "$@"
}

# Processes whose command line mentions the temp dir (servers and loadgens are started with
# paths inside it): there must be none once bench has exited.
leftovers() {
    "$PYTHON" -c '
import os, sys
me = os.getpid()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == me:
        continue
    try:
        cmd = open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if sys.argv[1] + "/" in cmd:
        print(p, cmd)' "$T"
}

# Per-run cgroups left behind by a bench that has exited.
leftover_cgroups() { # leftover_cgroups BENCH-PID
    find /sys/fs/cgroup/cpuacct /sys/fs/cgroup/pids /sys/fs/cgroup/memory -maxdepth 4 -type d \
        -name "cmb-bench-$1-*" 2>/dev/null
}
