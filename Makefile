# Orion's everyday commands. `make run` takes a fresh clone to a running Orion;
# `make test` runs the whole test suite. Both install what they need first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint format system-packages graph clean

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Development settings with a fresh random secret key, written once.
.env:
	@printf '%s\n' \
	  "# Written by 'make run' for local development; see .env.example." \
	  "ORION_DEBUG=true" \
	  "ORION_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  > .env
	@echo "Wrote .env for local development."

run: $(INSTALLED) .env
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py bootstrap_admin
	$(BIN)/python manage.py serve

# The browser tests drive Debian's Chromium; install it when it is missing.
system-packages:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium'." >&2; exit 1; \
	  fi; }

test: $(INSTALLED) system-packages
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Redraw the state machine diagram in docs/ (needs Graphviz's `dot`).
graph: $(INSTALLED)
	ORION_DEBUG=true $(BIN)/python manage.py graph_transitions notifications.Notification > docs/state-machine.dot
	dot -Tsvg docs/state-machine.dot -o docs/state-machine.svg

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
