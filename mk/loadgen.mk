# mk/loadgen.mk - bin/loadgen, its unit tests and the test servers its tests start.

LOADGEN_SRCS := loadgen/main.c loadgen/opts.c loadgen/engine.c loadgen/conn.c loadgen/timer.c loadgen/proto.c \
                loadgen/result.c loadgen/report.c loadgen/hist.c loadgen/hresp.c
LOADGEN_OBJS := $(LOADGEN_SRCS:%.c=$(OBJ)/%.o)
LDLIBS_loadgen := -lm

all: $(BIN)/loadgen

$(BIN)/loadgen: $(LOADGEN_OBJS)
	$(call link)

# Unit tests are TAP programs; tests/loadgen-*.t start them through $BIN.
LDLIBS_loadgen-hist-test := -lm
$(BIN)/loadgen-hist-test: $(OBJ)/tests/loadgen/hist_test.o $(OBJ)/loadgen/hist.o
	$(call link)
$(BIN)/loadgen-hresp-test: $(OBJ)/tests/loadgen/hresp_test.o $(OBJ)/loadgen/hresp.o
	$(call link)
$(BIN)/loadgen-echod: $(OBJ)/tests/loadgen/echod.o $(OBJ)/tests/loadgen/testsrv.o
	$(call link)
$(BIN)/loadgen-closer: $(OBJ)/tests/loadgen/closer.o $(OBJ)/tests/loadgen/testsrv.o
	$(call link)

TEST_BINS += $(BIN)/loadgen $(BIN)/loadgen-hist-test $(BIN)/loadgen-hresp-test $(BIN)/loadgen-echod \
             $(BIN)/loadgen-closer

# The bare client tests/bench/loadgen-floor.sh measures the load generator against (not a test).
$(BIN)/loadgen-floor: $(OBJ)/tests/loadgen/floor.o
	$(call link)
