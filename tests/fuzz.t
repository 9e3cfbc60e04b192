#!/bin/sh
# The protocol-engine fuzz harness (fuzz/fuzz_proto.c) replayed over its seed corpus, without
# libFuzzer: every seed must keep every invariant the harness checks. `make fuzz` is the real thing.
cd "$(dirname "$0")/.." && exec "${BIN:-bin}/fuzz-replay" fuzz/corpus
