#!/bin/sh
# Unit tests of the peers' pieces (runner/peerout.c, runner/extsrv.c) on real wrk and h2load outputs in
# tests/peers/: the program prints TAP.
exec "${BIN:-bin}/runner-test/peers-test" "$(dirname "$0")/peers"
