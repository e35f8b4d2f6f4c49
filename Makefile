PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint openapi bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: install, migrate var/halfsky.db, load the demo county into an empty database, serve on :8000
run: install
	$(BIN)/halfsky migrate
	$(BIN)/halfsky demo
	$(BIN)/halfsky serve --host 127.0.0.1 --port 8000

## make test: lint, the suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set
test: install
	$(BIN)/ruff check .
	$(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then echo "== again on PostgreSQL =="; TEST_DB=postgres $(BIN)/pytest; fi

lint: install
	$(BIN)/ruff check .

openapi: install
	$(BIN)/halfsky openapi

bench: install
	$(BIN)/python bench/scoped_list.py

clean:
	rm -rf $(VENV) var
