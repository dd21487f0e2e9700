"""Lint, format and types over the tree: the test command runs them, so CI does; .pre-commit-config.yaml runs
the same three before a commit. Each prints what it found when it fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from artstudio.serve import REPO

BIN = Path(sys.executable).parent
CHECKS = {
    "ruff check": ["ruff", "check", "."],
    "ruff format": ["ruff", "format", "--check", "."],
    "mypy": ["mypy"],  # the files and the django-stubs plugin come from [tool.mypy] in pyproject.toml
}


def mypy_cache() -> str:
    """mypy's cache outside the checkout, as pip and uv keep theirs: a fresh clone then re-checks only its own
    modules, not Django's and the stubs' (most of a cold run). mypy checks every entry against its source."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.environ.get("MYPY_CACHE_DIR") or os.path.join(base, "artstudio", "mypy")


@pytest.mark.parametrize("check", CHECKS)
def test_the_tree_passes(check):
    tool, *args = CHECKS[check]
    env = {**os.environ, "MYPY_CACHE_DIR": mypy_cache()}
    done = subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=600)

    assert done.returncode == 0, f"{check} found problems:\n{done.stdout}{done.stderr}"


def test_pre_commit_runs_the_same_checks():
    config = (REPO / ".pre-commit-config.yaml").read_text()

    for check in CHECKS.values():
        assert " ".join(check) in config
