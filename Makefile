# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Three test workers on this 2-core machine: a browser test leaves its core idle about a fifth
# of the time (waiting for a page, a stream, the other screen), and the third worker fills it.
# Measured one run after the other: the whole suite took 176 s against 196 s with two workers on
# SQLite, and 194 s against 252 s on PostgreSQL. Browser tests run in the same pytest call.
PYTEST_WORKERS ?= 3
# A worker that runs out of tests takes pending ones from another, so none sits idle at the
# end: the whole suite took 6 min 3 s against 6 min 27 s with the default, run one after the other.
PYTEST_DIST ?= worksteal
PYTEST_ARGS ?=

.PHONY: run test lint format test-browser bench clean whiteboard whiteboard-check sse sse-check

# The stamp is rebuilt when the dependency list changes, so `make test` also updates the venv.
$(VENV)/.installed: pyproject.toml
	@python=$$(sh scripts/find-python.sh) && echo "Using $$python" && \
	  { [ -x $(PY) ] || $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# Test-only JavaScript tools, pinned in package-lock.json: axe-core and the Nu HTML checker (run by
# the machine's Java). --ignore-scripts: vnu-jar's postinstall would try to download a Java runtime.
# Without npm the browser suite skips those checks off CI (on CI they fail), so say how to get it.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --ignore-scripts && touch $@; \
	else \
	  echo "npm is not installed: the accessibility and HTML checks will be skipped."; \
	  echo "Install Node.js and npm (Debian: sudo apt-get install -y nodejs npm) and a Java runtime"; \
	  echo "(sudo apt-get install -y default-jre-headless), then run make test again."; \
	fi

# The same ASGI server and push path as production (README, Running in production), on SQLite.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	$(PY) -m config.serve --host 127.0.0.1 --port $(PORT)

# mypy reads its files and flags from pyproject.toml; its cache (.mypy_cache) makes a rerun fast.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint node_modules/.installed
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS)

test-browser: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) tests/browser $(PYTEST_ARGS)

# The load benchmark (see README, Performance): live sessions on the push stream, SQLite, or
# PostgreSQL when DATABASE_URL is set. Its load generator is Python (asyncio); nothing to install.
bench: $(VENV)/.installed
	$(PY) bench/load.py

# The whiteboard bundle (Excalidraw + React, see frontend/board/build.mjs) is committed, so
# `make run` needs no Node. These rebuild it from package-lock.json; the check (run by CI) builds
# into a temporary folder and fails if a single byte differs from the committed one.
WHITEBOARD_DIR := static/vendor/excalidraw

whiteboard:
	npm ci --no-audit --no-fund --ignore-scripts && touch node_modules/.installed
	node frontend/board/build.mjs $(WHITEBOARD_DIR)

whiteboard-check:
	npm ci --no-audit --no-fund --ignore-scripts && touch node_modules/.installed
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  node frontend/board/build.mjs "$$tmp/excalidraw" && \
	  if diff -r "$$tmp/excalidraw" $(WHITEBOARD_DIR) >/dev/null; then \
	    echo "The committed whiteboard bundle matches a fresh build."; \
	  else \
	    diff -rq "$$tmp/excalidraw" $(WHITEBOARD_DIR); \
	    echo "$(WHITEBOARD_DIR) differs from a fresh build: run make whiteboard and commit it."; \
	    exit 1; \
	  fi

# htmx's server-sent events extension (the room's push stream) is committed as the npm package
# ships it, with its licence; `sse` copies it from the version package-lock.json pins, and the
# check (run by CI) fails if the committed copy differs from that package by a single byte.
SSE_DIR := static/vendor/htmx-ext-sse
SSE_FILES := dist/sse.js:sse.js LICENSE:LICENSE

sse:
	npm ci --no-audit --no-fund --ignore-scripts && touch node_modules/.installed
	@for pair in $(SSE_FILES); do cp node_modules/htmx-ext-sse/$${pair%%:*} $(SSE_DIR)/$${pair##*:}; done
	@echo "Copied htmx-ext-sse $$(node -p 'require("htmx-ext-sse/package.json").version') to $(SSE_DIR)."

sse-check: node_modules/.installed
	@for pair in $(SSE_FILES); do \
	  cmp -s node_modules/htmx-ext-sse/$${pair%%:*} $(SSE_DIR)/$${pair##*:} || { \
	    echo "$(SSE_DIR)/$${pair##*:} differs from the pinned htmx-ext-sse: run make sse and commit it."; \
	    exit 1; }; \
	done; echo "The committed htmx-ext-sse matches the pinned package."

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache node_modules
