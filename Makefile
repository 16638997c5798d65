# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck bench venv browser-deps axe clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# Migrates the database and generates the tool keys (both in ./coachlab-data unless
# COACHLAB_DATA_DIR says otherwise), then serves the tool with the demo LMS switched on.
run: venv
	$(VENV)/bin/coachlab db upgrade
	$(VENV)/bin/coachlab serve --host $(HOST) --port $(PORT) --demo

# Browser tests need Debian's chromium; install it when we can (root, as in CI).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || { echo "WARNING: could not install chromium; browser tests will be SKIPPED"; \
	           if [ -n "$$CI" ]; then echo "ERROR: CI must run the browser tests"; exit 1; fi; }; \
	  else \
	    echo "WARNING: /usr/bin/chromium missing and not root: browser tests will be SKIPPED"; \
	    if [ -n "$$CI" ]; then echo "ERROR: CI must run the browser tests"; exit 1; fi; \
	  fi; \
	fi

# axe-core (accessibility checks the browser tests inject into each page), pinned, from npm,
# into a git-ignored cache; never downloaded at test time. Missing axe fails the browser tests.
AXE_VERSION ?= 4.10.3
AXE_DIR ?= .cache/npm
AXE_JS := $(AXE_DIR)/node_modules/axe-core/axe.min.js

$(AXE_JS):
	@if command -v npm >/dev/null; then \
	  echo "Installing axe-core $(AXE_VERSION) into $(AXE_DIR)"; \
	  npm install --silent --no-audit --no-fund --prefix $(AXE_DIR) axe-core@$(AXE_VERSION) \
	    || { echo "ERROR: could not install axe-core; the browser tests need it"; exit 1; }; \
	else \
	  echo "ERROR: npm is missing; install Node.js/npm so the browser tests can use axe-core"; \
	  exit 1; \
	fi

axe: $(AXE_JS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Every database test runs on SQLite and on PostgreSQL (tests/conftest.py's `app` fixture);
# `make test COACHLAB_TEST_DATABASES=sqlite` for a quicker local run.
COACHLAB_TEST_DATABASES ?= sqlite,postgresql
export COACHLAB_TEST_DATABASES

test: venv browser-deps axe lint
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests (exit 5): failing"; exit 1; fi; \
	exit $$rc

bench: venv
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(AXE_DIR)
