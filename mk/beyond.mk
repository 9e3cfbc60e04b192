# beyond.mk: tests and the microbenchmark of issue 4 (coroutine, uring, reuseport). Everything that
# depends on the coroutine switch is built twice: the default switch and the ucontext fallback, whose
# objects are compiled with CORO_UCONTEXT on both sides (the context layout differs).

$(OBJ)/tests/beyond/ucontext/%.o: | deps
	@mkdir -p $(@D)
	@echo "  CC      $< (ucontext)"
	$(Q)$(CC) $(CFLAGS) -DCORO_UCONTEXT -c -o $@ $<
$(OBJ)/tests/beyond/ucontext/coro_bench.o: tests/beyond/coro_bench.c
$(OBJ)/tests/beyond/ucontext/test_coro.o: tests/beyond/test_coro.c
$(OBJ)/tests/beyond/ucontext/coro.o: servers/common/coro.c

# Unit tests of the switch (tests/beyond-coro.t runs both).
$(BIN)/test-coro: $(OBJ)/tests/beyond/test_coro.o $(OBJ)/servers/common/coro.o
	$(call link)
$(BIN)/test-coro-ucontext: $(OBJ)/tests/beyond/ucontext/test_coro.o $(OBJ)/tests/beyond/ucontext/coro.o
	$(call link)
LDLIBS_test-coro := -lm
LDLIBS_test-coro-ucontext := -lm
TEST_BINS += $(BIN)/test-coro $(BIN)/test-coro-ucontext

# The switch-cost microbenchmark, not part of `make test`:
#   make coro-bench && bin/coro-bench && bin/coro-bench-ucontext
.PHONY: coro-bench
coro-bench: $(BIN)/coro-bench $(BIN)/coro-bench-ucontext
$(BIN)/coro-bench: $(OBJ)/tests/beyond/coro_bench.o $(OBJ)/servers/common/coro.o
	$(call link)
$(BIN)/coro-bench-ucontext: $(OBJ)/tests/beyond/ucontext/coro_bench.o $(OBJ)/tests/beyond/ucontext/coro.o
	$(call link)
