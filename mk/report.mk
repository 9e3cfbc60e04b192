# mk/report.mk - the matplotlib report (report/*.py, run by Debian's /usr/bin/python3).
#
#   make report  [RUN=results/latest]          -> report/<run name>/index.html, summary.md, *.png
#   make compare A=results/<run> B=results/<run> -> report/compare-<A>-vs-<B>/index.html, compare.md
#   make claims  [CLAIMS=configs/claims/*.yaml] [CLAIMS_BUDGET=20m]
#                                              -> runs them, then report/claims/index.html, claims.md
#   make claims-report [CLAIMS_RUNS=results]   -> the verdicts again from the newest claim runs

RUN         ?= results/latest
CLAIMS      ?= $(sort $(wildcard configs/claims/*.yaml))
CLAIMS_RUNS ?= results
CLAIMS_FLAGS ?=
# Wall time the claim configs' repeats: auto may take in all (their first 3 repeats, about 12 min
# here, always run; the rest of the budget goes to rounds of the pairs not yet narrow).
CLAIMS_BUDGET ?= 20m

.PHONY: report compare claims claims-report

report:
	@$(PYTHON) report/report.py $(RUN)

compare:
	@if [ -z "$(A)" ] || [ -z "$(B)" ]; then \
	  echo "usage: make compare A=results/<run> B=results/<run>" >&2; exit 2; fi
	@$(PYTHON) report/compare.py $(A) $(B)

# Every claim config goes through the runner (a server that is not built gives failed rows, which
# the verdicts call "inconclusive: server not built"), then the verdicts are written.
claims: all
	@$(PYTHON) report/check_claims.py run --bench $(BIN)/bench --bin $(BIN) --results $(CLAIMS_RUNS) \
	  --budget $(CLAIMS_BUDGET) $(CLAIMS_FLAGS) $(CLAIMS)

claims-report:
	@$(PYTHON) report/check_claims.py verdicts --bin $(BIN) --results $(CLAIMS_RUNS) $(CLAIMS_FLAGS) $(CLAIMS)

# The report tests read tests/report/fixture/, a real small run: this reruns it and replaces it.
.PHONY: report-fixture
report-fixture: all
	@rm -rf results/fixture-tmp && mkdir -p results/fixture-tmp
	$(BIN)/bench --config tests/report/fixture.yaml --bin $(BIN) --out results/fixture-tmp --quiet
	@new=$$(ls -d results/fixture-tmp/fixture-* | tail -1); \
	  rm -rf tests/report/fixture && cp -r "$$new" tests/report/fixture && rm -rf results/fixture-tmp && \
	  echo "report-fixture: tests/report/fixture/ from $$new"

# The peers fixture (tests/report-peers.t): nginx and epoll-et under loadgen, wrk and h2load.
.PHONY: report-peers-fixture
report-peers-fixture: all
	@rm -rf results/fixture-tmp && mkdir -p results/fixture-tmp
	$(BIN)/bench --config tests/report/peers-fixture.yaml --bin $(BIN) --out results/fixture-tmp --quiet
	@new=$$(ls -d results/fixture-tmp/peers-fixture-* | tail -1); rm -f "$$new/log"; \
	  rm -rf tests/report/peers-fixture && cp -r "$$new" tests/report/peers-fixture && rm -rf results/fixture-tmp && \
	  echo "report-peers-fixture: tests/report/peers-fixture/ from $$new"
