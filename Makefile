# gongzhi — the two commands a newcomer needs are `make demo` and `make test`.
# Everything else here is what those two are made of.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := src tests bench conftest.py

.PHONY: demo serve test test-suite test-e2e lint typecheck install assets translations clean bench

# The virtualenv, with the pinned versions of constraints.txt (reinstalled when either
# file changes).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Front-end packages from the npm registry, exactly as package-lock.json records them.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Copies the browser builds into src/gongzhi/static/vendor (no CDN at run time).
assets: node_modules/.package-lock.json
	npm run --silent build

# .po -> .mo for the English interface (needs gettext's msgfmt from apt).
translations: install
	bash scripts/ensure-gettext.sh
	$(BIN)/gongzhi compilemessages --ignore .venv --ignore node_modules --ignore .git \
		--verbosity 0

## make demo: install everything, build assets, load the demo data, serve on http://127.0.0.1:8000
demo: install assets translations
	$(BIN)/gongzhi migrate --no-input
	$(BIN)/gongzhi collectstatic --no-input --verbosity 0
	$(BIN)/gongzhi demo
	$(BIN)/gongzhi serve

## make serve: serve what the database holds (no demo data loaded)
serve: install assets translations
	$(BIN)/gongzhi migrate --no-input
	$(BIN)/gongzhi collectstatic --no-input --verbosity 0
	$(BIN)/gongzhi serve

## make test: install what the tests need and run them all (the suite, then the browser tests)
test: test-suite test-e2e

## make test-suite: everything but the browser tests (set DATABASE_URL for PostgreSQL)
test-suite: install assets translations
	$(BIN)/pytest -m "not e2e"

## make test-e2e: the browser tests, in Debian's chromium (installed with apt if missing)
test-e2e: install assets translations
	bash scripts/ensure-chromium.sh
	$(BIN)/pytest -m e2e

## make bench: the benchmark suite of docs/performance.md (BENCH_SCALE=quick for a short run)
bench: install assets translations
	bash bench/run

## make lint: ruff (check + format) and no model change without its migration
lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	DJANGO_SETTINGS_MODULE=gongzhi.config.settings.test \
		$(BIN)/gongzhi makemigrations --check --dry-run
	$(MAKE) typecheck

## make typecheck: mypy with django-stubs on the services and selectors (part of make lint)
typecheck: install
	$(BIN)/mypy src/gongzhi/*/services.py src/gongzhi/*/selectors.py

clean:
	rm -rf $(VENV) node_modules var src/gongzhi/static/vendor
