#!/bin/sh
# The same unit tests against the portable ucontext fallback, so every `make test` exercises both.
exec "${BIN:-bin}/test-coro-ucontext"
