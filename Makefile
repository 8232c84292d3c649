# gongzhi — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= gongzhi.config.settings.dev

.PHONY: demo test test-suite test-e2e test-postgres lint assets install serve screenshots clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

assets: node_modules/.package-lock.json
	npm run --silent build

## make demo: install everything, build assets, load the demo data, serve on http://127.0.0.1:8000
demo: install assets
	$(BIN)/gongzhi migrate --no-input
	$(BIN)/gongzhi collectstatic --no-input --verbosity 0
	$(BIN)/gongzhi demo
	$(BIN)/gongzhi serve

## make test: install what the tests need and run them all (SQLite + the browser tests)
test: install assets
	$(BIN)/pytest -m "not e2e"
	bash scripts/ensure-chromium.sh
	$(BIN)/pytest -m e2e

test-suite: install assets
	$(BIN)/pytest -m "not e2e"

test-e2e: install assets
	bash scripts/ensure-chromium.sh
	$(BIN)/pytest -m e2e

lint: install
	$(BIN)/ruff check src tests bench conftest.py
	$(BIN)/ruff format --check src tests bench conftest.py
	DJANGO_SETTINGS_MODULE=gongzhi.config.settings.test $(BIN)/gongzhi makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules var src/gongzhi/static/vendor
