# tests.mk: compiled unit tests (started by tests/*.t wrappers through $BIN).

$(BIN)/test-proto: $(OBJ)/tests/unit/test_proto.o $(PROTO_OBJS)
	$(call link)

TEST_BINS += $(BIN)/test-proto

$(BIN)/test-keepalive: $(OBJ)/tests/unit/test_keepalive.o $(PROTO_OBJS)
	$(call link)

TEST_BINS += $(BIN)/test-keepalive

# The capacity search on simulated servers: the search is pure, so it links alone.
$(BIN)/test-capsearch: $(OBJ)/tests/unit/test_capsearch.o $(OBJ)/runner/capsearch.o
	$(call link)
LDLIBS_test-capsearch := -lm

TEST_BINS += $(BIN)/test-capsearch

# The thread sanitizer on what has threads: the threaded servers (and the process models, whose
# shared code is the same) under the conformance tests, the engine, and the multi-threaded load
# generator. CI runs it; the event-loop servers are single-threaded and covered by SAN=address.
TSAN_TESTS   = tests/proto.t tests/conformance.t tests/loadgen-echo.t tests/loadgen-http.t \
               tests/loadgen-servers.t
TSAN_SERVERS = pthread,threadpool,reuseport,prefork,fork

.PHONY: test-tsan
test-tsan:
	SERVERS=$(TSAN_SERVERS) $(MAKE) test SAN=thread TESTS="$(TSAN_TESTS)"
