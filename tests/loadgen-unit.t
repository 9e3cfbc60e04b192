#!/bin/sh
# Unit tests of the load generator: histogram and HTTP response parser (TAP from the programs).
BIN=${BIN:-bin}
echo "1..2"
out=$("$BIN/loadgen-hist-test" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
[ $rc -eq 0 ] && echo "ok 1 - histogram unit tests" || echo "not ok 1 - histogram unit tests"
out=$("$BIN/loadgen-hresp-test" 2>&1); rc=$?
echo "$out" | grep -v '^ok' | sed 's/^/# /'
[ $rc -eq 0 ] && echo "ok 2 - http response parser unit tests" || echo "not ok 2 - http response parser unit tests"
