# robust.mk: the robustness suite, the protocol-engine fuzzer and its corpus replay.
#
#   make test-robustness             every robustness case against every bin/server-*, the corpus
#                                    replay, and results/robustness-<variant>.md (the README table)
#   make fuzz [FUZZ_SECONDS=60]      libFuzzer on the protocol engine under ASan and UBSan (clang)
#   make robustness-readme           copy results/robustness-default.md into README.md's table

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_OBJ     := obj/fuzz
FUZZ_BIN     := bin/fuzz-proto
# Coverage and sanitizers for the engine; libFuzzer's main() only for the harness binary.
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(filter-out -Wformat=2,$(WARN)) \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -MMD -MP
FUZZ_SRCS    := fuzz/fuzz_proto.c $(PROTO_SRCS)
ROBUST_TABLE := results/robustness-$(VARIANT).md

.PHONY: test-robustness fuzz robustness-readme

# The harness linked with the replay driver instead of libFuzzer: built like any test, so SAN=...
# applies; tests/fuzz.t runs it over fuzz/corpus.
$(BIN)/fuzz-replay: $(OBJ)/fuzz/replay.o $(OBJ)/fuzz/fuzz_proto.o $(PROTO_OBJS)
	$(call link)

TEST_BINS += $(BIN)/fuzz-replay

$(FUZZ_OBJ)/%.o: %.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BIN): $(FUZZ_SRCS:%.c=$(FUZZ_OBJ)/%.o)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^

# New inputs go to fuzz/corpus-work/ (git-ignored); crashes to fuzz/crash-*. The seed corpus in
# fuzz/corpus/ is only read.
fuzz: $(FUZZ_BIN)
	@mkdir -p fuzz/corpus-work
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=32768 -timeout=10 -rss_limit_mb=2048 \
	    -dict=fuzz/http.dict -artifact_prefix=fuzz/ -print_final_stats=1 fuzz/corpus-work fuzz/corpus

test-robustness: all $(TEST_BINS)
	@mkdir -p results
	@BIN=$(BIN) SAN=$(SAN) PYTHON=$(PYTHON) ROBUST_TABLE=$(ROBUST_TABLE) $(PROVE) $(PROVE_FLAGS) \
	    tests/robustness/full.t tests/fuzz.t
	@echo "  TABLE   $(ROBUST_TABLE)"

robustness-readme:
	@$(PYTHON) tests/robustness/readme.py results/robustness-default.md README.md
