# coro.mk: the coroutine switch's unit tests and microbenchmark. Everything that
# depends on the coroutine switch is built twice: the default switch and the ucontext fallback, whose
# objects are compiled with CORO_UCONTEXT on both sides (the context layout differs).

$(OBJ)/tests/coro/ucontext/%.o: | deps
	@mkdir -p $(@D)
	@echo "  CC      $< (ucontext)"
	$(Q)$(CC) $(CFLAGS) -DCORO_UCONTEXT -c -o $@ $<
$(OBJ)/tests/coro/ucontext/coro_bench.o: tests/coro/coro_bench.c
$(OBJ)/tests/coro/ucontext/test_coro.o: tests/coro/test_coro.c
$(OBJ)/tests/coro/ucontext/coro.o: servers/common/coro.c

# Unit tests of the switch (tests/coro-switch.t and coro-switch-ucontext.t).
$(BIN)/test-coro: $(OBJ)/tests/coro/test_coro.o $(OBJ)/servers/common/coro.o
	$(call link)
$(BIN)/test-coro-ucontext: $(OBJ)/tests/coro/ucontext/test_coro.o $(OBJ)/tests/coro/ucontext/coro.o
	$(call link)
LDLIBS_test-coro := -lm
LDLIBS_test-coro-ucontext := -lm
TEST_BINS += $(BIN)/test-coro $(BIN)/test-coro-ucontext

# The switch-cost microbenchmark, not part of `make test`:
#   make coro-bench && bin/coro-bench && bin/coro-bench-ucontext
.PHONY: coro-bench
coro-bench: $(BIN)/coro-bench $(BIN)/coro-bench-ucontext
$(BIN)/coro-bench: $(OBJ)/tests/coro/coro_bench.o $(OBJ)/servers/common/coro.o
	$(call link)
$(BIN)/coro-bench-ucontext: $(OBJ)/tests/coro/ucontext/coro_bench.o $(OBJ)/tests/coro/ucontext/coro.o
	$(call link)
