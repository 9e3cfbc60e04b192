#!/bin/sh
# Unit tests of the coroutine switch this build uses (tests/coro/test_coro.c).
exec "${BIN:-bin}/test-coro"
