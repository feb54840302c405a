# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# `make run` serves on 127.0.0.1:$(PORT); `PORT=8123 make run` or `make run PORT=8123`.
PORT ?= 8000

.PHONY: run test lint format worker beat bench bench-capacity screenshots messages migrate seed clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { echo "Creating the virtual environment in $(VENV)/…"; $(PYTHON) -m venv $(VENV); }
	@echo "Updating pip…"
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "Installing the pinned packages of requirements-dev.txt (a minute or two the first time)…"
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)
	@echo "Packages installed."

# First run on a fresh machine: venv, SQLite, demo data (once), then the server
# and the periodic tasks until Ctrl-C (scripts/run_demo.py says what it sets).
run: $(STAMP)
	@PORT=$(PORT) $(PY) scripts/run_demo.py

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

# The demo's settings, so the links it prints work on `make run`'s server.
seed: $(STAMP)
	@PORT=$(PORT) $(PY) scripts/run_demo.py seed

clean:
	rm -rf $(VENV) .seeded db.sqlite3 staticfiles
