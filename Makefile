# chengzhen — the two commands: `make run` (set up, demo county, serve) and `make test`.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
# Python 3.12+ is required (Django 6.1). Take the first one found on PATH or under pyenv.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 \
              $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do \
            if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
            then command -v $$p; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL for the second pass of the suite; skipped (and said so) when no server answers.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

# Browser libraries (Leaflet for the life-circle study maps) come from the npm registry at build
# time, pinned by package-lock.json, and are served by the platform itself (no CDN at run time).
NPM ?= npm
VENDOR := src/chengzhen/static/vendor
LEAFLET := $(VENDOR)/leaflet/leaflet.js

.PHONY: install run serve demo test test-sqlite test-postgres lint bench clean

install: $(VENV)/.installed $(LEAFLET)

$(LEAFLET): package.json package-lock.json
	@command -v $(NPM) >/dev/null 2>&1 || { echo "npm is needed for the browser libraries (Debian/Ubuntu: apt-get install npm)." >&2; exit 1; }
	$(NPM) ci --no-audit --no-fund
	rm -rf $(VENDOR)/leaflet && mkdir -p $(VENDOR)/leaflet
	cp -R node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map \
	  node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	@touch $@

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed (Django 6.1); none found on PATH or under pyenv." >&2; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

run: install
	$(BIN)/chengzhen migrate --no-input -v 0
	$(BIN)/chengzhen demo
	@# the background worker (large imports and exports, scheduled jobs) and the scheduler
	@# (nightly audit verification, hourly housekeeping) run beside the web server and stop with it
	@$(BIN)/chengzhen db_worker --no-startup-delay --no-reload & worker=$$!; \
	  $(BIN)/chengzhen crontask --no-heartbeat & scheduler=$$!; \
	  trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/chengzhen serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/chengzhen migrate --no-input -v 0
	$(BIN)/chengzhen demo

test: install test-sqlite test-postgres

test-sqlite: install
	@echo "== test suite on SQLite =="
	DATABASE_URL= $(BIN)/python -m pytest -n 2 -q

test-postgres: install
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL ($(PG_TEST_URL)) =="; \
	  DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -n 2 -q; \
	else echo "== PostgreSQL not reachable at $(PG_TEST_URL): PostgreSQL pass skipped (.ci/run starts one) =="; \
	  if [ -n "$$CI" ]; then exit 1; fi; fi

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var node_modules $(VENDOR)
