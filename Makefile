# The everyday commands. `make run` on a fresh machine installs the studio and starts it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run install test test-ops lint compose-config

run: $(VENV)/.installed
	$(BIN)/artstudio-serve

install: $(VENV)/.installed

# Each stamp is remade when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

test: $(VENV)/.installed-test
	.ci/ensure-chromium
	$(BIN)/python -m pytest

test-ops: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/ops

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# docker-compose.yml as Docker Compose reads it, with .env.example as the .env (no Docker engine needed).
compose-config: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests/ops/test_compose.py
