#!/bin/sh
# Unit tests of the interval logs (loadgen/hlog.c: encoding, decoding, a log read back, exact
# addition) and bin/hlog merge of three agents' logs against one log of all their values.
exec "${BIN:-bin}/loadgen-hlog-test" "${BIN:-bin}/hlog"
