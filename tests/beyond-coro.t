#!/bin/sh
# Unit tests of the coroutine switch this build uses (tests/beyond/test_coro.c).
exec "${BIN:-bin}/test-coro"
