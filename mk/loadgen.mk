# mk/loadgen.mk - bin/loadgen, bin/hlog, their unit tests and the test servers their tests start.

LOADGEN_SRCS := loadgen/main.c loadgen/opts.c loadgen/engine.c loadgen/conn.c loadgen/timer.c loadgen/proto.c \
                loadgen/result.c loadgen/report.c loadgen/hist.c loadgen/hresp.c loadgen/hlog.c
LOADGEN_OBJS := $(LOADGEN_SRCS:%.c=$(OBJ)/%.o)
LDLIBS_loadgen := -lz -lm
# The interval logs alone: bin/hlog (merge, summary) and the unit test link them without the engine.
HLOG_OBJS := $(OBJ)/loadgen/hlog.o $(OBJ)/loadgen/hist.o
LDLIBS_hlog := -lz -lm
LDLIBS_loadgen-hlog-test := -lz -lm

all: $(BIN)/loadgen $(BIN)/hlog

$(BIN)/loadgen: $(LOADGEN_OBJS)
	$(call link)
$(BIN)/hlog: $(OBJ)/loadgen/hlog_main.o $(HLOG_OBJS)
	$(call link)

# Unit tests are TAP programs; tests/loadgen-*.t start them through $BIN.
LDLIBS_loadgen-hist-test := -lm
$(BIN)/loadgen-hist-test: $(OBJ)/tests/loadgen/hist_test.o $(OBJ)/loadgen/hist.o
	$(call link)
$(BIN)/loadgen-hresp-test: $(OBJ)/tests/loadgen/hresp_test.o $(OBJ)/loadgen/hresp.o
	$(call link)
$(BIN)/loadgen-hlog-test: $(OBJ)/tests/loadgen/hlog_test.o $(HLOG_OBJS)
	$(call link)
$(BIN)/loadgen-echod: $(OBJ)/tests/loadgen/echod.o $(OBJ)/tests/loadgen/testsrv.o
	$(call link)
$(BIN)/loadgen-closer: $(OBJ)/tests/loadgen/closer.o $(OBJ)/tests/loadgen/testsrv.o
	$(call link)

TEST_BINS += $(BIN)/loadgen $(BIN)/loadgen-hist-test $(BIN)/loadgen-hresp-test $(BIN)/loadgen-echod \
             $(BIN)/loadgen-closer $(BIN)/hlog $(BIN)/loadgen-hlog-test

# The bare client tests/bench/loadgen-floor.sh measures the load generator against (not a test).
$(BIN)/loadgen-floor: $(OBJ)/tests/loadgen/floor.o
	$(call link)
