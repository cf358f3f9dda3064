# Rapport: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Rapport needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	# caldav needs urllib3-future; built this way it does not replace urllib3 for everything else.
	URLLIB3_NO_OVERRIDE=1 $(BIN)/pip install --quiet --no-binary urllib3-future -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/rapport migrate
	$(BIN)/rapport demo --if-empty
	$(BIN)/rapport serve --with-worker --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	RAPPORT_VAR_DIR=$(CURDIR)/var/test $(BIN)/mypy
	DJANGO_SETTINGS_MODULE=rapport.settings RAPPORT_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m django check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=rapport.settings RAPPORT_VAR_DIR=$(CURDIR)/var/test $(BIN)/python -m django makemigrations --check --dry-run

test: lint
	$(BIN)/python -m tests.runner --workers $(PYTEST_WORKERS)

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
