"""Lint, format and types over the tree: the test command runs them, so CI does; .pre-commit-config.yaml runs
the same three before a commit. Each prints what it found when it fails."""

from __future__ import annotations

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


@pytest.mark.parametrize("check", CHECKS)
def test_the_tree_passes(check):
    tool, *args = CHECKS[check]
    done = subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, cwd=REPO, timeout=600)

    assert done.returncode == 0, f"{check} found problems:\n{done.stdout}{done.stderr}"


def test_pre_commit_runs_the_same_checks():
    config = (REPO / ".pre-commit-config.yaml").read_text()

    for check in CHECKS.values():
        assert " ".join(check) in config
