# tests.mk: compiled unit tests (started by tests/*.t wrappers through $BIN).

$(BIN)/test-proto: $(OBJ)/tests/unit/test_proto.o $(OBJ)/servers/common/proto.o \
                   $(OBJ)/servers/common/static.o
	$(call link)

TEST_BINS += $(BIN)/test-proto
