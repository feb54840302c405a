# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format worker beat bench bench-capacity screenshots messages migrate seed clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# First run on a fresh machine: venv, SQLite, demo data (once), dev server.
run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "Dealership Portal: http://127.0.0.1:8000"
	@echo "Demo logins (password: dealership-demo):"
	@echo "  sales@example.com  technician@example.com  advisor@example.com  manager@example.com"
	@echo ""
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

# The whole suite. Uses DATABASE_URL / REDIS_URL when set; tests needing a
# service skip with a reason unless REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1.
test: $(STAMP)
	DEBUG=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(STAMP)
	$(BIN)/celery -A dealership worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A dealership beat --loglevel=INFO

# Both need DATABASE_URL=postgres://… and REDIS_URL=redis://… (see README, Benchmarks).
bench: $(STAMP)
	$(PY) scripts/bench.py

bench-capacity: $(STAMP)
	$(PY) scripts/capacity.py

# docs/screenshots/*.png from a fresh demo (Playwright on /usr/bin/chromium).
screenshots: $(STAMP)
	$(PY) scripts/screenshots.py

messages: $(STAMP)
	DEBUG=1 $(PY) manage.py makemessages -l ja --ignore=.venv --ignore=staticfiles --ignore=tests --no-obsolete
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

migrate: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate

seed: $(STAMP)
	DEBUG=1 $(PY) manage.py seed_demo

clean:
	rm -rf $(VENV) .seeded db.sqlite3 staticfiles
