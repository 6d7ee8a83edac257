# Two commands: `make demo` serves the API with the coalition loaded;
# `make test` runs the whole suite (PostgreSQL when reachable, and SQLite).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/coalition)
TEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000
BROKER ?= $(or $(CELERY_BROKER_URL),$(REDIS_URL),redis://127.0.0.1:6379/0)
# The staff web app's browser tests (tests/web) drive Debian's chromium with Playwright;
# no browser is ever downloaded by Playwright itself.
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test test-postgres test-sqlite schema install requirements clean chromium screenshots

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

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "==> installing Debian's chromium for the browser tests (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; \
	fi

demo: $(VENV)/.installed
	@echo "==> migrating the database ($${DATABASE_URL:-SQLite db.sqlite3})"
	$(BIN)/python manage.py migrate --noinput
	@echo "==> loading the coalition and demo data"
	$(BIN)/python manage.py seed_coalition
	$(BIN)/python manage.py seed_demo
	@mkdir -p var
	@if ! $(BIN)/python -c "import redis; redis.Redis.from_url('$(BROKER)', socket_connect_timeout=1).ping()" 2>/dev/null; then \
		if command -v redis-server >/dev/null 2>&1; then \
			echo "==> starting Redis, the task queue's broker (log: var/redis.log)"; \
			redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
				--dir $(CURDIR)/var --logfile $(CURDIR)/var/redis.log; sleep 1; \
		else \
			echo "!!> No Redis at $(BROKER) and no redis-server to start: webhooks wait in the"; \
			echo "    outbox until a broker runs (install redis-server, or set CELERY_BROKER_URL)."; \
		fi; \
	fi
	@$(BIN)/python manage.py demo_banner --host $(HOST) --port $(PORT)
	@echo "Staff web app: http://$(HOST):$(PORT)/  (sign in as intake.peralta, caseworker.camba,"
	@echo "  analyst.council or admin.idc; password coalition-demo-2017)"
	@echo
	@echo "==> starting the webhook worker (log: var/celery.log) and the API"
	@$(BIN)/celery -A config worker -B --loglevel INFO --concurrency 2 >> var/celery.log 2>&1 & \
		worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev chromium
	@echo "==> checking the layering (import-linter: .importlinter)"
	$(BIN)/lint-imports --no-cache
	@$(MAKE) --no-print-directory test-postgres
	@$(MAKE) --no-print-directory test-sqlite

# --dist loadfile: the tests of one file share a worker, so each tests/live module
# starts its server (and database) once.
test-postgres: $(VENV)/.installed-dev chromium
	@if $(BIN)/python tests/pg_reachable.py "$(PG_URL)"; then \
		echo "==> test suite on PostgreSQL ($(PG_URL))"; \
		DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -p no:cacheprovider; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL at $(PG_URL) is unreachable and REQUIRE_POSTGRES is set."; exit 1; \
	else \
		echo "!!> PostgreSQL at $(PG_URL) is unreachable: skipping the PostgreSQL run."; \
		echo "    Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set DATABASE_URL."; \
	fi

test-sqlite: $(VENV)/.installed-dev chromium
	@echo "==> test suite on SQLite"
	DATABASE_URL="sqlite:///$(CURDIR)/var/test.sqlite3" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -p no:cacheprovider

# Copy the README's screenshots from the last browser-test run (tests/web).
SCREENSHOTS := 03-intake 05-inbox 06-referral-completed 07-dashboard-funder
screenshots:
	@for name in $(SCREENSHOTS); do \
		test -f var/screenshots/$$name.png || { echo "var/screenshots/$$name.png is missing: run make test first."; exit 1; }; \
		cp var/screenshots/$$name.png docs/screenshots/; done
	@echo "==> copied $(SCREENSHOTS) to docs/screenshots/"

# Regenerate the committed GraphQL SDL, OpenAPI document and docs/errors.md after an
# API change.
schema: $(VENV)/.installed
	$(BIN)/python manage.py graphql_schema --schema schema.schema.schema --out schema/schema.graphql
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file schema/openapi.yaml
	$(BIN)/python manage.py errors_doc

# Regenerate the pinned requirements.txt and requirements-dev.txt from the .in files
# (pip-compile keeps the current pins unless an .in file needs another version).
requirements: $(VENV)/.installed-dev
	CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links requirements.in -o requirements.txt
	CUSTOM_COMPILE_COMMAND="make requirements" $(BIN)/pip-compile --quiet --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3
