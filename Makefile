# The everyday commands. `make run` on a fresh machine installs the studio and starts it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run install test test-ops lint upgrade compose-config

run: $(VENV)/.installed
	$(BIN)/artstudio-serve

install: $(VENV)/.installed

# Each stamp is remade when the lock changes. uv installs exactly what uv.lock pins (uv sync --locked).
$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==0.13.8

$(VENV)/.installed: pyproject.toml uv.lock $(BIN)/uv
	$(BIN)/uv sync -q --locked
	rm -f $(VENV)/.installed-test
	touch $@

$(VENV)/.installed-test: pyproject.toml uv.lock $(BIN)/uv
	$(BIN)/uv sync -q --locked --extra test
	rm -f $(VENV)/.installed
	touch $@

test: $(VENV)/.installed-test
	.ci/ensure-chromium
	$(BIN)/python -m pytest

test-ops: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/ops

# What the test command checks before the tests (tests/ops/test_code_checks.py), on its own.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every pin in uv.lock to the newest release pyproject.toml's ranges allow; then run the tests and commit uv.lock.
upgrade: $(BIN)/uv
	$(BIN)/uv lock --upgrade

# docker-compose.yml as Docker Compose reads it, with .env.example as the .env (no Docker engine needed).
compose-config: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests/ops/test_compose.py
