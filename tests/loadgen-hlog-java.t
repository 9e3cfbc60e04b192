#!/bin/bash
# The interval logs against the Java HdrHistogram library (Debian's libhdrhistogram-java; the small
# program tests/loadgen/HlogInterop.java is compiled with the JDK's javac): its HistogramLogReader
# reads the log of a real bin/loadgen --hlog run against bin/server-epoll-et (the JSON's count, p99
# within the histogram's precision, bin/hlog's summary equal to the library's), bin/hlog reads a log
# its HistogramLogWriter wrote (every tag's figures equal), and the library reads bin/hlog's merge.
cd "$(dirname "$0")/.." || exit 1
. tests/loadgen/lib.sh
JAR=/usr/share/java/hdrhistogram.jar

if [ ! -x "$BIN/server-epoll-et" ]; then
    echo "1..0 # SKIP no bin/server-epoll-et built yet"
    exit 0
fi
check "the JDK and the Java HdrHistogram library are installed (make deps)" \
    test -r "$JAR" -a -n "$(command -v javac)"
javac -d "$LG_TMP/java" -cp "$JAR" tests/loadgen/HlogInterop.java 2> "$LG_TMP/javac.err"
ok $? "HlogInterop.java compiles$(head -c 300 "$LG_TMP/javac.err")"
jrun() {
    java -Xshare:auto -XX:TieredStopAtLevel=1 -cp "$JAR:$LG_TMP/java" HlogInterop "$@"
}

start_server et "$BIN/server-epoll-et" --port 0 || exit 1
"$BIN/loadgen" --target "127.0.0.1:$SRV_PORT" -c 8 -t 2 -d 1.5 --warmup 0.3 -q --json "$LG_TMP/run.json" \
    --hlog "$LG_TMP/run.hlog" 2> "$LG_TMP/run.err"
ok $? "loadgen --hlog: a 1.5 s run against epoll-et$(head -c 300 "$LG_TMP/run.err")"
stop_server "$SRV_PID"

jrun write "$LG_TMP/java.hlog" read "$LG_TMP/run.hlog" > "$LG_TMP/java.out" 2>&1
ok $? "the Java library wrote a log and read ours$(grep -m1 -i exception "$LG_TMP/java.out")"
grep -v p99round "$LG_TMP/java.out" > "$LG_TMP/java-wrote.txt"
grep p99round "$LG_TMP/java.out" > "$LG_TMP/java-read.txt"
diag "$(cat "$LG_TMP/java.out")"

check "our log read by the Java library: the JSON's count in both tags, p99 within 0.1%" "$PYTHON" - \
    "$LG_TMP/run.json" "$LG_TMP/java-read.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
tags = {}
for line in open(sys.argv[2]):
    kv = dict(f.split("=", 1) for f in line.split())
    tags[kv["tag"]] = kv
bad = []
for tag, key in (("corrected", "latency_us"), ("uncorrected", "latency_uncorrected_us")):
    t = tags.get(tag)
    if not t:
        bad.append("no tag " + tag)
        continue
    got, want = int(t["p99round"]) / 1000, j[key]["p99"]
    print("# %s: count %s (JSON %d), p99 %.3f us (JSON %.1f us; the library's own rank: %.3f us)"
          % (tag, t["count"], j["requests"], got, want, int(t["p99"]) / 1000))
    if int(t["count"]) != j["requests"] or j["requests"] == 0:
        bad.append("%s count %s, JSON requests %d" % (tag, t["count"], j["requests"]))
    if abs(got - want) > want * 0.001 + 0.1:
        bad.append("%s p99 %.3f, JSON %.1f" % (tag, got, want))
print("".join("# " + b + "\n" for b in bad), end="")
sys.exit(1 if bad else 0)
PY
check "our log: StartTime is the JSON's window_start_unix, the unit stated" "$PYTHON" - "$LG_TMP/run.json" \
    "$LG_TMP/run.hlog" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
m = re.search(r"^#\[StartTime: ([0-9.]+) \(seconds since epoch\)", text, re.M)
print("# StartTime %s, window_start_unix %.6f" % (m and m.group(1), j["window_start_unix"]))
assert m and 0 <= j["window_start_unix"] - float(m.group(1)) < 0.001
assert "#[Values in nanoseconds: lowest discernible 1, highest trackable 100000000000, 3 significant digits" in text
PY

"$BIN/hlog" summary "$LG_TMP/run.hlog" > "$LG_TMP/ours-read.txt"
same "bin/hlog summary of our log equals the Java library's figures" \
    "$(cat "$LG_TMP/ours-read.txt")" "$(sed 's/ p99round=.*//' "$LG_TMP/java-read.txt")"
"$BIN/hlog" summary "$LG_TMP/java.hlog" > "$LG_TMP/ours-java.txt" 2>&1
same "bin/hlog summary of the Java library's log equals what it wrote (3 tags, 2^57 counts, lowest 1000)" \
    "$(cat "$LG_TMP/ours-java.txt")" "$(cat "$LG_TMP/java-wrote.txt")"

"$BIN/hlog" merge "$LG_TMP/run.hlog" "$LG_TMP/java.hlog" "$LG_TMP/run.hlog" > "$LG_TMP/merged.hlog" 2> "$LG_TMP/merge.err"
ok $? "bin/hlog merge of our log twice and the Java library's$(head -c 300 "$LG_TMP/merge.err")"
jrun read "$LG_TMP/merged.hlog" > "$LG_TMP/java-merged.txt" 2>&1
"$BIN/hlog" summary "$LG_TMP/merged.hlog" > "$LG_TMP/ours-merged.txt"
same "the merge read by the Java library: the same figures as bin/hlog's" \
    "$(sed 's/ p99round=.*//' "$LG_TMP/java-merged.txt")" "$(cat "$LG_TMP/ours-merged.txt")"
check "the merge counts our run twice" jtrue "$LG_TMP/run.json" \
    "'tag=corrected count=%d ' % (2 * j['requests']) in open('$LG_TMP/java-merged.txt').read()"
done_testing
