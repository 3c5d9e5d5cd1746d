# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Browser tests run in the same pytest call; 2 workers fit a 2-core machine.
PYTEST_ARGS ?=

.PHONY: run test lint format test-browser bench clean

# The stamp is rebuilt when the dependency list changes, so `make test` also updates the venv.
$(VENV)/.installed: pyproject.toml
	@python=$$(sh scripts/find-python.sh) && echo "Using $$python" && \
	  { [ -x $(PY) ] || $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

test-browser: $(VENV)/.installed
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache
