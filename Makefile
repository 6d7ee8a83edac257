# Two commands: `make demo` serves the API with the coalition loaded;
# `make test` runs the whole suite (PostgreSQL when reachable, and SQLite).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/coalition)
TEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-postgres test-sqlite schema install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	@echo "==> installing runtime dependencies"
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	@echo "==> installing test dependencies"
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	@echo "==> migrating the database ($${DATABASE_URL:-SQLite db.sqlite3})"
	$(BIN)/python manage.py migrate --noinput
	@echo "==> loading the coalition and demo data"
	$(BIN)/python manage.py seed_coalition
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py demo_banner --host $(HOST) --port $(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	@$(MAKE) --no-print-directory test-postgres
	@$(MAKE) --no-print-directory test-sqlite

# --dist loadfile: the tests of one file share a worker, so each tests/live module
# starts its server (and database) once.
test-postgres: $(VENV)/.installed-dev
	@if $(BIN)/python tests/pg_reachable.py "$(PG_URL)"; then \
		echo "==> test suite on PostgreSQL ($(PG_URL))"; \
		DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -p no:cacheprovider; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL at $(PG_URL) is unreachable and REQUIRE_POSTGRES is set."; exit 1; \
	else \
		echo "!!> PostgreSQL at $(PG_URL) is unreachable: skipping the PostgreSQL run."; \
		echo "    Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set DATABASE_URL."; \
	fi

test-sqlite: $(VENV)/.installed-dev
	@echo "==> test suite on SQLite"
	DATABASE_URL="sqlite:///$(CURDIR)/var/test.sqlite3" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -p no:cacheprovider

# Regenerate the committed GraphQL SDL and OpenAPI document after an API change.
schema: $(VENV)/.installed
	$(BIN)/python manage.py graphql_schema --schema schema.schema.schema --out schema/schema.graphql
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema/openapi.yaml

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3
