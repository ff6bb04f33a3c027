# Every target bootstraps .venv (Python 3.11+) on first use, so a fresh clone needs only python3, make and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: serve test bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "audit-mockserver needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)  ## serve every vendor on http://$(HOST):$(PORT) (extra flags: make serve ARGS='--now 2024-05-01T12:00:00Z')
	$(BIN)/mockserver serve --host $(HOST) --port $(PORT) $(ARGS)

test: $(STAMP)  ## the whole suite: unit, integration, conformance (schemathesis), official clients
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)  ## load benchmarks, figures as ratios to a baseline measured in the same run
	$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis dist build bench/results
