#!/bin/sh
# Unit tests of the protocol engine (tests/unit/test_proto.c).
exec "${BIN:-bin}/test-proto"
