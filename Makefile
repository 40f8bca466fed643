# Accord: the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint clean chromium

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Accord needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/accord init
	$(BIN)/accord demo load --once --tokens
	$(BIN)/accord serve --host $(HOST) --port $(PORT)

# The browser tests (tests/web) drive Debian's Chromium; install it with apt where it is missing
# (never a browser download). Fails loudly when it cannot be installed.
CHROMIUM ?= /usr/bin/chromium
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )apt-get

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "make: $(CHROMIUM) is missing; installing Debian's chromium for the browser tests"; \
	  { $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium >/dev/null; } \
	  || { echo "make: could not install chromium with apt-get; the web tests need it (apt-get install -y chromium)" >&2; exit 1; }; \
	  [ -x "$(CHROMIUM)" ] || { echo "make: chromium was installed but $(CHROMIUM) does not exist" >&2; exit 1; }; \
	fi

test: $(VENV)/.installed chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) accord.db accord.db-wal accord.db-shm
