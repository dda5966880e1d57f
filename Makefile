# Two commands matter on a fresh machine: `make demo` and `make test`.
# Both create .venv if it is missing and install sameday into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo tour test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,demo]"
	@touch $(STAMP)

## demo: the quickstart, end to end on a simulated world (embedded defaults, no server needed)
demo: $(STAMP)
	$(BIN)/sameday demo

## tour: every command once on the starter project (init, run, publish, rollback, compile, serve)
tour: $(STAMP)
	$(BIN)/python scripts/tour.py

## test: ruff, mypy and the whole pytest suite
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

## bench: every benchmark under benchmarks/ (minutes; figures go to docs/benchmarks.md)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	for b in benchmarks/*_bench.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
