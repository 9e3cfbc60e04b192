#!/bin/sh
# Unit tests of the load generator's histogram (loadgen/hist.c): the program prints TAP.
exec "${BIN:-bin}/loadgen-hist-test"
