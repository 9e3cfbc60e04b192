#!/bin/bash
# --start-at: two load generators given one wall-clock time T open their measured windows within a
# few ms of T (the skews are printed; the bound asserted is a loose 50 ms) after their warmups, and
# their merged interval logs count both runs' requests; a T closer than the warmup shortens the
# warmup; a T already past opens the window at once, and stderr and the JSON say how late.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh

if [ ! -x "$BIN/server-epoll-et" ]; then
    echo "1..0 # SKIP no bin/server-epoll-et built yet"
    exit 0
fi
start_server et "$BIN/server-epoll-et" --port 0 || exit 1
at() {      # at SECONDS: the wall-clock time that many seconds from now, as --start-at takes it
    "$PYTHON" -c 'import sys, time; print("%.3f" % (time.time() + float(sys.argv[1])))' "$1"
}
lg() {      # lg NAME T [ARGS...]: a short closed-loop run starting its window at T
    local name=$1 t=$2
    shift 2
    "$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" -c 2 -d 1 -q --start-at "$t" --json "$LG_TMP/$name.json" \
        --hlog "$LG_TMP/$name.hlog" "$@" 2> "$LG_TMP/$name.err"
}

T=$(at 1.5)
lg a "$T" --warmup 0.5 &
A=$!
lg b "$T" --warmup 0.5 &
B=$!
wait $A; ra=$?
wait $B; rb=$?
ok $((ra | rb)) "two loadgens with --start-at $T: both ran (exit $ra, $rb)"
check "both windows opened within 50 ms of T after a whole warmup, and of each other" "$PYTHON" - \
    "$T" "$LG_TMP/a.json" "$LG_TMP/b.json" <<'PY'
import json, sys
t = float(sys.argv[1])
js = [json.load(open(p)) for p in sys.argv[2:]]
for name, j in zip("ab", js):
    print("# loadgen %s: window_start_unix %.6f, start_skew_us %+.1f, warmup %.6f s, %d requests"
          % (name, j["window_start_unix"], j["start_skew_us"], j["warmup_actual_s"], j["requests"]))
    assert abs(j["start_at_unix"] - t) < 1e-6 and abs(j["window_start_unix"] - t) < 0.05
    assert abs(j["start_skew_us"] - (j["window_start_unix"] - t) * 1e6) < 2
    assert abs(j["start_skew_us"]) < 50000 and 0.45 < j["warmup_actual_s"] <= 0.5 and j["requests"] > 0
print("# the windows opened %.1f us apart" % ((js[0]["window_start_unix"] - js[1]["window_start_unix"]) * 1e6))
assert abs(js[0]["window_start_unix"] - js[1]["window_start_unix"]) < 0.05
PY
"$BIN/hlog" merge "$LG_TMP/a.hlog" "$LG_TMP/b.hlog" > "$LG_TMP/m.hlog" 2> "$LG_TMP/m.err"
ok $? "bin/hlog merge of both logs$(head -c 200 "$LG_TMP/m.err")"
check "the merged log counts both runs' requests, second by second aligned" "$PYTHON" - "$LG_TMP/a.json" \
    "$LG_TMP/b.json" "$($BIN/hlog summary "$LG_TMP/m.hlog")" "$(grep -c '^Tag=corrected,' "$LG_TMP/m.hlog")" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print("# " + sys.argv[3].replace("\n", "\n# "))
assert "tag=corrected count=%d " % (a["requests"] + b["requests"]) in sys.argv[3]
assert sys.argv[4] == "1"      # one second of window: one interval each, merged into one
PY

T=$(at 0.4)
lg short "$T" --warmup 2
ok $? "--start-at 0.4 s ahead with --warmup 2: ran"
check "the warmup was shortened and the window still opened at T" jtrue "$LG_TMP/short.json" \
    'print("# start_skew_us %+.1f, warmup %.3f s" % (j["start_skew_us"], j["warmup_actual_s"])) or
     abs(j["start_skew_us"]) < 50000 and 0 < j["warmup_actual_s"] < 0.4 and j["requests"] > 0'

T=$(at -5)
lg past "$T" --warmup 1
ok $? "--start-at 5 s ago: ran"
check "a past T opens the window at once (no warmup), 5 s late, and stderr says so" jtrue "$LG_TMP/past.json" \
    'print("# start_skew_us %+.1f, warmup %.3f s; %s" % (j["start_skew_us"], j["warmup_actual_s"],
                                                         open("'"$LG_TMP/past.err"'").read().strip())) or
     5e6 <= j["start_skew_us"] < 6e6 and j["warmup_actual_s"] == 0 and j["requests"] > 0 and
     "the window opens at once" in open("'"$LG_TMP/past.err"'").read()'
stop_server "$SRV_PID"
done_testing
