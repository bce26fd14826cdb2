# Frontdesk: `make demo` starts the product with demo data; `make test` runs the whole suite.
# Every target installs what it needs first, so both work on a fresh machine.

PYTHON ?= python3.13
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
PYTEST := $(PY) -m pytest

.PHONY: api-schema help install demo serve worker test test-fast test-postgres test-browser lint format bench chromium messages clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 && $(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null || { \
	  echo "Frontdesk needs Python 3.13 as '$(PYTHON)'. Install it (pyenv install 3.13, or your system's python3.13 package)"; \
	  echo "or run 'make PYTHON=/path/to/python3.13 ...'."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Frontdesk with its test tools

demo: install ## Set up SQLite with the demo organisation, start the server and the worker
	$(PY) -m frontdesk demo

serve: install ## Start the server only (ASGI: HTTP and websockets)
	$(PY) -m frontdesk serve

worker: install ## Start the background task worker only
	$(PY) -m frontdesk worker

chromium: ## Install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

# Browser tests run in their own pytest process: Playwright's sync API keeps an event loop running
# in the main thread, which the asyncio-based tests must not inherit.
test: install chromium ## The whole suite on SQLite, browser tests included
	$(PYTEST) -m "not browser"
	$(PYTEST) -m browser

test-fast: install ## The suite without the browser tests
	$(PYTEST) -m "not browser"

test-postgres: install chromium ## The whole suite on PostgreSQL and Redis (PG_URL, REDIS)
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PYTEST) -m "not browser"
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(PYTEST) -m browser

lint: install ## ruff, mypy, import contracts, Django checks, migrations and API snapshot
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=frontdesk.config.settings.base $(PY) -m frontdesk check
	DJANGO_SETTINGS_MODULE=frontdesk.config.settings.production SECRET_KEY=lint-only-$$(date +%s)-not-a-real-secret-key-for-deploy-checks \
	  $(PY) -m frontdesk check --deploy --fail-level WARNING
	DJANGO_SETTINGS_MODULE=frontdesk.config.settings.base $(PY) -m frontdesk makemigrations --check --dry-run

format: install ## Format the code
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

bench: install ## Run the benchmarks and print their tables (see BENCHMARKS.md)
	$(PY) -m bench.run

messages: install ## Recompile translations after editing the .po files
	cd src/frontdesk && ../../$(PY) -m frontdesk compilemessages

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var

api-schema: install ## Rewrite docs/api/openapi.json after an intended API change
	DJANGO_SETTINGS_MODULE=frontdesk.config.settings.base $(PY) -c "import django; django.setup(); \
	from tests.core.test_openapi_snapshot import SNAPSHOT, current_schema; SNAPSHOT.write_text(current_schema())"
