#!/bin/sh
# Unit tests of the engine's keep-alive limits (tests/unit/test_keepalive.c).
exec "${BIN:-bin}/test-keepalive"
