# The two set-up commands: `make demo` and `make test`. Each creates .venv and installs the
# project into it when missing (or when pyproject.toml changed), then runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench vendor clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mrv demo --out demo-output

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.plots --json
	$(BIN)/python -m benchmarks.campaign --json

# Re-vendor the web pages' browser libraries from npm (web/package.json → api/web/static/vendor).
vendor: $(STAMP)
	$(BIN)/python tools/vendor_js.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache web/node_modules test-artifacts
