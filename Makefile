# estatehub — two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
DLT := .venv-dlt/.installed

.PHONY: help demo up test browser fonts lint format bench bench-dlt-env clean
help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(RUNTIME) fonts  ## run the main job on the embedded default (SQLite) against the sandbox, through Airflow
	$(BIN)/python -m estatehub demo

up: $(RUNTIME) fonts  ## Airflow standalone over the sandbox at http://127.0.0.1:8080, DAGs unpaused (Ctrl-C stops)
	$(BIN)/python -m estatehub up

test: $(DEV) browser  ## run the whole test suite (PostgreSQL tests must run when CI=true)
	$(BIN)/python -m pytest

browser: fonts  ## headless Chromium and a CJK font (Debian packages) for the screenshot tests, when missing
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

fonts:  ## a CJK font (Debian fonts-wqy-microhei) when none is installed: the KPI e-mail's charts label in Chinese
	@fc-list :lang=zh family 2>/dev/null | grep -q . || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }

lint: $(DEV)  ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)  ## ruff format
	$(BIN)/ruff format .

bench: $(DEV) $(DLT)  ## the one benchmark table of the README (not part of the test run); BENCH_ARGS=--quick: a smoke run
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-dlt-env: $(DLT)  ## dlt, the benchmark's peer, in its own venv (.venv-dlt): its dependencies kept apart from Airflow's

$(DLT): bench/requirements-dlt.txt
	$(PYTHON) -m venv .venv-dlt
	.venv-dlt/bin/pip install --quiet -r bench/requirements-dlt.txt
	touch $@

clean:  ## remove the venv and the data folder
	rm -rf $(VENV) .venv-dlt var
