#!/bin/sh
# Unit tests of the load generator's HTTP response parser (loadgen/hresp.c): the program prints TAP.
exec "${BIN:-bin}/loadgen-hresp-test"
