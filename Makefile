# Multitude developer tasks (GNU make).  `make` alone lists the targets.
#
#   make run                  migrate, seed demo data, serve http://127.0.0.1:8000 (SQLite, DEBUG=1)
#                             with the tasks worker beside it (emails printed in the terminal)
#   make test                 ruff + service check + pytest against PostgreSQL and Redis
#   make test PYTEST_ARGS='-k tally -x'
#   make venv PYTHON=/path/to/python3.13
#
# Every tool runs from .venv/bin, so nothing needs activating.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?= --participants 500
# Used by `make test` only; `make run` keeps the settings' defaults (SQLite under var/,
# in-memory channel layer) unless these are already set in your environment.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/multitude
REDIS_URL ?= redis://127.0.0.1:6379/0
# Debian's Chromium for the Playwright browser tests (Playwright's own download can't be used).
ifneq ($(wildcard /usr/bin/chromium),)
PLAYWRIGHT_CHROMIUM_EXECUTABLE ?= /usr/bin/chromium
endif

# --- choosing the interpreter -------------------------------------------------------------
# The first Python >= 3.12 among these wins. pyenv shims that exist but point at no
# installed version fail the version check and are skipped.
PYENV_ROOT ?= /root/.pyenv
PY_CANDIDATES := python3.13 python3.12 \
	$(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python) \
	$(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python) \
	python3
PY_OK := import sys; sys.exit(sys.version_info < (3, 12))
# PYTHON=... on the command line is a demand: it must be >= 3.12. From the environment it
# is only the first candidate.
ifeq ($(origin PYTHON),command line)
PY_STRICT := $(PYTHON)
else
PY_CANDIDATES := $(PYTHON) $(PY_CANDIDATES)
PY_STRICT :=
endif

TEST_ENV := DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' TESTING=1 \
	$(if $(PLAYWRIGHT_CHROMIUM_EXECUTABLE),PLAYWRIGHT_CHROMIUM_EXECUTABLE='$(PLAYWRIGHT_CHROMIUM_EXECUTABLE)')

.PHONY: help venv run test lint audit fmt bench messages clean

help: ## list the targets
	@echo "Multitude make targets:"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'
	@echo "Variables: PYTHON PORT=$(PORT) DATABASE_URL REDIS_URL PYTEST_ARGS BENCH_ARGS"

venv: $(STAMP) ## create .venv (Python >= 3.12) and install the project's dependencies

# Reinstalls only when pyproject.toml changes (or .venv is missing / too old a Python).
# PYTHON only matters when .venv is (re)created: `make clean venv PYTHON=...` to switch.
$(STAMP): pyproject.toml
	@if [ -x $(BIN)/python ] && $(BIN)/python -c '$(PY_OK)' >/dev/null 2>&1; then \
		echo "Using existing $(VENV) ($$($(BIN)/python --version)); make clean venv to rebuild it"; \
	else \
		py=''; \
		if [ -n '$(PY_STRICT)' ]; then \
			if '$(PY_STRICT)' -c '$(PY_OK)' >/dev/null 2>&1; then py='$(PY_STRICT)'; \
			else echo "error: PYTHON=$(PY_STRICT) is not a working Python >= 3.12" >&2; exit 1; fi; \
		else \
			for c in $(PY_CANDIDATES); do \
				if "$$c" -c '$(PY_OK)' >/dev/null 2>&1; then py="$$c"; break; fi; \
			done; \
		fi; \
		if [ -z "$$py" ]; then \
			echo "error: no Python >= 3.12 found (tried: $(strip $(PY_CANDIDATES))); install one or pass PYTHON=/path/to/python3.12" >&2; \
			exit 1; \
		fi; \
		echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
		rm -rf $(VENV); \
		"$$py" -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install -q --upgrade pip
	@# [tool.setuptools] packages = [] makes this an editable install of no package:
	@# it installs the dependencies (and the test extra) and nothing else.
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

run: venv ## migrate, seed demo data, start the tasks worker and serve on 127.0.0.1:PORT (DEBUG=1)
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	@if [ -n "$$(find . -maxdepth 2 -type d -name locale -not -path './$(VENV)/*')" ]; then \
		if command -v msgfmt >/dev/null 2>&1; then \
			echo "$(BIN)/python manage.py compilemessages"; \
			$(BIN)/python manage.py compilemessages --ignore=$(VENV) --ignore=var --ignore=staticfiles; \
		else \
			echo "note: msgfmt (gettext) not found; skipping compilemessages (apt-get install gettext)"; \
		fi; \
	fi
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	@# The tasks worker (emails, webhooks; printed here, see docs/notifications.md) runs
	@# beside the server and stops with it. No --reload: one process, so the trap ends it.
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py db_worker --no-reload --interval 1 & \
		worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
		DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: venv ## lint, check PostgreSQL/Redis are up, run pytest (PYTEST_ARGS=...)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(TEST_ENV) $(BIN)/python scripts/check_services.py
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

audit: venv ## pip-audit: known vulnerabilities in the installed dependencies
	$(BIN)/pip-audit --skip-editable --progress-spinner off

lint: venv ## ruff check + ruff format --check + import-linter (the apps depend one way)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: venv ## ruff format + ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	@touch $@

bench: $(BENCH_STAMP) ## live benchmark, quick (N=500; BENCH_ARGS='--participants 2000' for more)
	$(TEST_ENV) $(BIN)/python bench/live_assembly.py $(BENCH_ARGS)

messages: venv ## update the es and fr message catalogues (makemessages)
	mkdir -p locale
	$(BIN)/python manage.py makemessages -l es -l fr --ignore=var --ignore=staticfiles

clean: ## remove .venv, var/ (the dev database), staticfiles/ and caches
	rm -rf $(VENV) var staticfiles test-results .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
