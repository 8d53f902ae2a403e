# jobcenter: `make run` starts it, `make test` checks it. Both work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run run-pg test install install-test system-deps postgresql-server lint format bench clean

# $(call quietly,command): run it with its output kept in $(VENV)/install.log, shown only if
# it fails (pip's lines are noise when all goes well, and the clue when it does not).
quietly = $(1) >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; \
	echo 'Failed: $(1) (its output is above and in $(VENV)/install.log)' >&2; exit 1; }

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	@echo "Installing jobcenter and its dependencies into $(VENV) (a minute or two, the first time)..."
	@$(call quietly,$(PY) -m pip install --upgrade pip)
	@$(call quietly,$(PY) -m pip install -e .)
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	@echo "Installing what the tests need into $(VENV)..."
	@$(call quietly,$(PY) -m pip install -e ".[test]")
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test system-deps

# $(call install_missing,TARGET): install the Debian packages named in $$missing (as root),
# or say how to and stop.
install_missing = if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing: run 'sudo apt-get install$$missing' (or make $(1) as root)"; exit 1; \
	  fi; \
	fi

# Debian packages the tests need: a PostgreSQL server (the suite starts its own), Chromium
# (the dashboard's end-to-end tests drive it with Playwright; no browser download), and curl,
# jq and bash (tests/api/test_docs.py runs docs/api.md's examples). Installed when running as root.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	for tool in chromium curl jq bash; do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; \
	done; \
	$(call install_missing,test)

# The PostgreSQL server make run-pg starts (Debian's package, as for the tests).
postgresql-server:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing=" postgresql"; \
	$(call install_missing,run-pg)

# Quiet until serve's banner: the address, the admin's password (first start only), Ctrl-C.
run: install
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@exec $(PY) manage.py serve --port $(PORT) $(if $(WORKERS),--workers $(WORKERS) )--bootstrap

# make run with the jobs and the graph store in a PostgreSQL server of its own under var/pg/
# (set up the first time, stopped with the rest), and two workers: jobcenter/core/run_pg.py.
run-pg: install postgresql-server
	@exec $(PY) -m jobcenter.core.run_pg -- $(MAKE) --no-print-directory run WORKERS=2

# Two passes: on SQLite with the SQLite graph store, on PostgreSQL with the PostgreSQL graph
# store (the stores' own tests run on both backends in each pass).
test: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	JOBCENTER_TEST_DB=sqlite $(VENV)/bin/pytest
	JOBCENTER_TEST_DB=postgres JOBCENTER_GRAPH_STORE=postgresql $(VENV)/bin/pytest

lint:
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: install  # DuckDB and polars: the throughput benchmark's anchors (issue 14)
	@$(call quietly,$(PY) -m pip install -e ".[bench]")
	$(PY) benchmarks/import_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info
