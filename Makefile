# The two commands a newcomer needs: `make run` (the demo, no network) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench chromium postgresql clean

# A concurrent apt-get (another checkout's make test) holds dpkg's lock: wait for it, never fail.
APT := apt-get -o DPkg::Lock::Timeout=300

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Debian's Chromium for the browser tests (a Playwright browser download fails on this network).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then $(APT) update -q && $(APT) install -y -q chromium; \
	  else sudo $(APT) update -q && sudo $(APT) install -y -q chromium; fi; }

# Debian's PostgreSQL 15 server binaries: the tests start a throwaway cluster of their own (tests/pg.py).
postgresql:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
	  if [ "$$(id -u)" = 0 ]; then $(APT) update -q && $(APT) install -y -q postgresql-15; \
	  else sudo $(APT) update -q && sudo $(APT) install -y -q postgresql-15; fi; }

run: $(STAMP)
	$(BIN)/statuspage demo

test: $(TEST_STAMP) chromium postgresql
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(TEST_STAMP)
	$(BIN)/ruff check statuspage tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(TEST_STAMP) postgresql
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info site data
