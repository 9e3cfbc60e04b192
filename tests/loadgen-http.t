#!/bin/bash
# The load generator against nginx (one worker, `return 200 "Hello, World!"`): 1, 100 and 10,000
# connections without errors, connection modes, pipelining, status classes, and the output files
# (--csv appends under one header, --timeseries one row per second, --hist HdrHistogram text).
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

if ! command -v nginx > /dev/null; then
    echo "1..0 # SKIP nginx not installed (make deps)"
    exit 0
fi
start_nginx 1 || { echo "Bail out! nginx did not start"; exit 1; }
T="127.0.0.1:$NGINX_PORT"

# lg NAME ARGS...: one bounded run with a JSON result in $LG_TMP/NAME.json
lg() {
    local name=$1
    shift
    timeout 60 "$BIN/loadgen" --target "$T" -q --json "$LG_TMP/$name.json" "$@" > "$LG_TMP/$name.out" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || diag "loadgen $*: exit $rc: $(cat "$LG_TMP/$name.out")"
    return $rc
}

for c in 1 100; do
    lg "c$c" -c "$c" -d 1 --csv "$LG_TMP/runs.csv"
    ok $? "http $c connections: exit 0"
    check "http $c connections: 0 errors, all 2xx, none incomplete" jtrue "$LG_TMP/c$c.json" \
        'j["errors_total"] == 0 and j["incomplete"] == 0 and j["status"]["2xx"] == j["requests_total"] > 0'
    check "http $c connections: bytes in are whole responses" jtrue "$LG_TMP/c$c.json" \
        'j["bytes_in"] % j["requests_total"] == 0'
done

lg c10k -c 10000 -t 2 -d 2 --warmup 1 --connect-rate 20000 --timeout 3
check "http 10,000 connections: 0 errors, all connected and answered" jtrue "$LG_TMP/c10k.json" \
    'j["errors_total"] == 0 and j["connects_total"] == 10000 and j["incomplete"] == 0 and j["requests"] >= 10000'

lg close -c 10 -d 1 --conn-mode close
check "conn-mode close: one connection per request, connect time measured" jtrue "$LG_TMP/close.json" \
    'j["errors_total"] == 0 and 0 <= j["connects_total"] - j["requests_sent"] <= 10 and j["connect_us"]["max"] > 0'

lg reqs -c 10 -d 1 --conn-mode reqs=10 --pipeline 4
check "reqs=10 with pipeline 4: the server closes after the 10th, no errors" jtrue "$LG_TMP/reqs.json" \
    'j["errors_total"] == 0 and abs(j["connects_total"] * 10 - j["requests_sent"]) <= 100'

lg pipe -c 10 -d 1 --pipeline 16
check "pipeline 16: 0 errors" jtrue "$LG_TMP/pipe.json" 'j["errors_total"] == 0 and j["requests"] > 0'

lg notfound -c 2 -d 0.5 --path /status/404 --max-errors 0
check "404s are counted as status_4xx and break --max-errors (exit 2)" test $? -eq 2
check "404s: every answer counted in status 4xx" jtrue "$LG_TMP/notfound.json" \
    'j["status"]["4xx"] == j["requests_total"] == j["errors"]["status_4xx"] > 0'
lg busy -c 2 -d 0.5 --path /status/503
check "503s: counted as status_5xx, below no --max-errors (exit 0)" test $? -eq 0
check "503s: every answer counted in status 5xx" jtrue "$LG_TMP/busy.json" \
    'j["status"]["5xx"] == j["requests_total"] == j["errors"]["status_5xx"] > 0'

lg series -c 5 -d 2 --warmup 1 --timeseries "$LG_TMP/ts.csv" --hist "$LG_TMP/lat.hgrm" --csv "$LG_TMP/runs.csv"
check "timeseries: header and one row per second of warmup and measurement" \
    "$PYTHON" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
phases = [r["phase"] for r in rows]
assert phases[:3] == ["warmup", "measure", "measure"], phases
assert sum(int(r["requests"]) for r in rows) > 0
' "$LG_TMP/ts.csv"
check "timeseries: per-second requests add up to the total" \
    test "$(awk -F, 'NR > 1 { s += $3 } END { print s }' "$LG_TMP/ts.csv")" = "$(jget "$LG_TMP/series.json" 'j["requests_total"]')"
check "hist: HdrHistogram percentile text ending at percentile 1.0 with the measured count" \
    "$PYTHON" -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"], lines[0]
rows = [l.split() for l in lines[2:] if l and not l.startswith("#")]
assert float(rows[-1][1]) == 1.0 and int(rows[-1][2]) == int(sys.argv[2]), rows[-1]
assert any(l.startswith("#[Mean") for l in lines)
' "$LG_TMP/lat.hgrm" "$(jget "$LG_TMP/series.json" 'j["requests"]')"
check "csv: one header, one row per run, same width" "$PYTHON" -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0][0] == "target" and len(rows) == 4, len(rows)
assert all(len(r) == len(rows[0]) for r in rows)
assert sum(1 for r in rows if r[0] == "target") == 1
' "$LG_TMP/runs.csv"
check "json: every key of the contract (docs/DESIGN.md)" jtrue "$LG_TMP/series.json" '
all(k in j for k in "target proto connections idle threads procs duration_s warmup_s rate arrival size pipeline conn_mode requests requests_total requests_sent incomplete throughput_rps bytes_in bytes_out latency_us latency_uncorrected_us connect_us connects intended_rps achieved_rps send_lag_us errors errors_total status idle_open cpu bottleneck bottleneck_reason".split())
and set(j["latency_us"]) == set("min mean stdev p50 p90 p99 p999 p9999 max".split())
and set(j["latency_uncorrected_us"]) == set(j["latency_us"])
and set(j["connect_us"]) == set("min mean p50 p99 max".split())
and set(j["send_lag_us"]) == {"p50", "p99", "max"}
and set(j["errors"]) == set("connect connect_timeout reset read write timeout bad_response mismatch status_4xx status_5xx".split())
and set(j["status"]) == {"1xx", "2xx", "3xx", "4xx", "5xx"}
and all(k in j["cpu"] for k in ("user_s", "sys_s", "us_per_request", "share"))
and j["bottleneck"] in ("loadgen", "none")'

done_testing
