#!/bin/sh
# Every robustness case against every bin/server-*; with $ROBUST_TABLE set, the results table is
# written there (make test-robustness: results/robustness-<variant>.md).
cd "$(dirname "$0")/../.." && exec "${PYTHON:-/usr/bin/python3}" tests/robustness/run \
    ${ROBUST_TABLE:+--table "$ROBUST_TABLE"}
