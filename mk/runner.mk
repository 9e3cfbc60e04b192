# mk/runner.mk - bin/bench (the runner, runner/*.c) and `make bench`.
#
#   make bench [CONFIG=configs/quick.yaml] [BENCH_FLAGS="--only epoll-et --dry-run"] [BENCH_OUT=results]

RUNNER_SRC := $(wildcard runner/*.c)
RUNNER_OBJ := $(RUNNER_SRC:%.c=$(OBJ)/%.o)
LDLIBS_bench := -lyaml -lm -lz
# The interval logs' reader (loadgen/hlog.c): the runner adds the histograms of a row's agents.
RUNNER_OBJ += $(OBJ)/loadgen/hlog.o $(OBJ)/loadgen/hist.o
# meta.json records how the binaries were built: the runner is built by the same make run.
CFLAGS_runmeta = -DCMB_CC='"$(CC)"' -DCMB_CFLAGS='"$(strip $(CFLAGS))"'

all: $(BIN)/bench $(BIN)/testnet $(BIN)/cmb-run

# What bench runs on another host around a load generator or a server: it stops the program when
# bench (or the connection) goes away, and accounts a server's tree there with bench's own code.
# Its own program (libc only), copied to the hosts by preflight.
CMB_RUN_OBJ := $(addprefix $(OBJ)/runner/,agent/cmb-run.o acct.o acct_cg.o acct_proc.o acct_procwalk.o spawn.o util.o)
$(BIN)/cmb-run: $(CMB_RUN_OBJ)
	$(call link)

# The test network of namespaces standing in for hosts (a shell script: ip, tc, sshd).
$(BIN)/testnet: runner/testnet.sh
	@mkdir -p $(@D)
	@echo "  INSTALL $@"
	$(Q)install -m 755 $< $@

# The project's models from servers/models.tsv: cfg_models[], one C string per C model (lang c),
# the models `servers: all` means, and cfg_py_models[], the Python ones (lang py), known to a
# config even where they are not built (a sanitizer build has none: their rows fail, as a C
# model's would). The headers are rewritten whenever the list changes, and the objects that
# include them rebuild.
$(OBJ)/gen/models.h $(OBJ)/gen/py-models.h: servers/models.tsv mk/runner.mk
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)awk -F'\t' -v lang=$(if $(findstring py-models,$@),py,c) \
	    'BEGIN { print "/* generated from servers/models.tsv by mk/runner.mk: do not edit */" } \
	    !/^#/ && NF && $$2 == lang { printf "\"%s\",\n", $$1 }' $< > $@.tmp && mv $@.tmp $@
$(OBJ)/runner/cfg_servers.o: $(OBJ)/gen/models.h $(OBJ)/gen/py-models.h
CFLAGS_cfg_servers = -I$(OBJ)/gen
$(BIN)/bench: $(RUNNER_OBJ)
	$(call link)

CONFIG      ?= configs/quick.yaml
BENCH_FLAGS ?=
BENCH_OUT   ?= results
# Everything `all` builds (servers, loadgen, bench) first; then the report of the run just made,
# whose last line is the path of its index.html (not after --dry-run or --check, which run nothing,
# nor after a run that failed or was interrupted: bench's exit status says so).
bench: all
	$(BIN)/bench --config $(CONFIG) --bin $(BIN) --out $(BENCH_OUT) $(BENCH_FLAGS)
	@case " $(BENCH_FLAGS) " in *" --dry-run "*|*" --check "*) ;; \
	  *) $(PYTHON) report/report.py $(BENCH_OUT)/latest ;; esac

# Test helpers: a fake server (with misbehaving variants chosen by the name it runs under) and a
# fake loadgen, so the runner's process control is tested independently of the real ones.
RUNNER_TEST_BINS := $(BIN)/runner-test/fake-server $(BIN)/runner-test/fake-loadgen
TEST_BINS += $(BIN)/bench $(RUNNER_TEST_BINS)
$(BIN)/runner-test/%: $(OBJ)/tests/runner/%.o
	$(call link)

# Unit tests of the peers' pieces (runner/peerout.c, runner/extsrv.c): every runner object but
# bench's main. tests/runner-peers.t runs it.
LDLIBS_peers-test := -lyaml -lm -lz
$(BIN)/runner-test/peers-test: $(OBJ)/tests/runner/peers_test.o $(filter-out $(OBJ)/runner/bench.o,$(RUNNER_OBJ))
	$(call link)
TEST_BINS += $(BIN)/runner-test/peers-test

# The config's copy in meta.json, printed without a run (tests/runner-plans.t).
LDLIBS_cfg-json := -lyaml -lm -lz
$(BIN)/runner-test/cfg-json: $(OBJ)/tests/runner/cfg_json.o $(filter-out $(OBJ)/runner/bench.o,$(RUNNER_OBJ))
	$(call link)
TEST_BINS += $(BIN)/runner-test/cfg-json

# repeats: auto on scripted figures (tests/runner-repeats.t).
LDLIBS_repeats-test := -lyaml -lm -lz
$(BIN)/runner-test/repeats-test: $(OBJ)/tests/runner/repeats_test.o $(filter-out $(OBJ)/runner/bench.o,$(RUNNER_OBJ))
	$(call link)
TEST_BINS += $(BIN)/runner-test/repeats-test
