# Two entry points for a fresh machine (see README):
#   make sample   set up, then scan the bundled sample corpus into out/sample
#   make test     set up, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup sample test bench train eval clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

sample: setup
	$(BIN)/csei scan corpora/sample --out out/sample

test: setup
	bash scripts/system-deps.sh chromium postgresql
	CSEI_TEST_PG_URL=$${CSEI_TEST_PG_URL:-$$(bash scripts/start-postgres.sh)} $(BIN)/python -m pytest -q --durations=15

train: setup
	$(BIN)/csei train

eval: setup
	$(BIN)/csei eval --out out/eval

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf out .pytest_cache
