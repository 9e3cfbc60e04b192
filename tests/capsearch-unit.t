#!/bin/sh
# Unit tests of the capacity search on simulated servers (tests/unit/test_capsearch.c).
exec "${BIN:-bin}/test-capsearch"
