PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FE := frontend
FE_DEPS := $(FE)/node_modules/.package-lock.json

.PHONY: install upgrade run test lint format openapi bench clean spa test-frontend test-contract

# uv installs exactly what uv.lock pins (pyproject.toml stays the source); pip only fetches uv itself.
UV_VERSION := 0.13.9
UV := $(BIN)/uv

$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) && $(UV) --version | grep -q ' $(UV_VERSION)' \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'
	VIRTUAL_ENV=$(abspath $(VENV)) $(UV) sync --locked --extra dev --inexact --quiet
	touch $(STAMP)

install: $(STAMP)

## make upgrade: refresh uv.lock to the newest versions pyproject.toml allows, then install them
upgrade:
	test -x $(UV) || $(MAKE) install
	$(UV) lock --upgrade
	$(MAKE) install

## make run: install, build the SPA, migrate var/halfsky.db, load the demo county into an empty database, serve on :8000
run: install spa
	$(BIN)/halfsky migrate
	$(BIN)/halfsky demo
	$(BIN)/halfsky serve --host 127.0.0.1 --port 8000

## make test: lint, the suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then echo "== again on PostgreSQL =="; TEST_DB=postgres $(BIN)/pytest; fi
	$(MAKE) test-contract
	$(MAKE) test-frontend

## The contract: openapi-python-client generates every schema and response; a short schemathesis run over every operation
test-contract: install
	$(BIN)/python -m tests.contract.check

lint: install $(FE_DEPS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd $(FE) && npx prettier --check .

## make format: one style for the whole tree (ruff format, prettier)
format: install $(FE_DEPS)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd $(FE) && npx prettier --write .

openapi: install $(FE_DEPS)
	$(BIN)/halfsky openapi
	cd $(FE) && npx openapi-typescript ../openapi/openapi.json -o src/api/schema.d.ts

bench: install
	$(BIN)/python bench/scoped_list.py

clean:
	rm -rf $(VENV) var $(FE)/node_modules $(FE)/dist

## The SPA: npm ci when node_modules is missing or stale, then vite build into frontend/dist (served at /)
$(FE_DEPS): $(FE)/package-lock.json
	cd $(FE) && npm ci --no-audit --no-fund
	touch $(FE_DEPS)

spa: $(FE_DEPS)
	cd $(FE) && npx vite build

## Frontend checks: generated types match openapi.json, vue-tsc, Vitest, then browser tests on the built SPA
test-frontend: install spa
	cd $(FE) && npx openapi-typescript ../openapi/openapi.json -o /tmp/halfsky-schema.$$$$.d.ts >/dev/null \
	  && { diff -q src/api/schema.d.ts /tmp/halfsky-schema.$$$$.d.ts >/dev/null \
	       || { rm -f /tmp/halfsky-schema.$$$$.d.ts; echo "src/api/schema.d.ts is stale: run make openapi"; exit 1; }; \
	       rm -f /tmp/halfsky-schema.$$$$.d.ts; }
	cd $(FE) && npx prettier --check .
	cd $(FE) && npx vue-tsc --noEmit -p tsconfig.json
	cd $(FE) && npx vitest run
	cd $(FE) && demo=$$(mktemp -d) && HALFSKY_E2E_DEMO=$$demo/demo node --test --test-concurrency=1 e2e/; \
	  status=$$?; rm -rf $$demo; exit $$status
