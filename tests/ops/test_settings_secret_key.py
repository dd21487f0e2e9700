"""settings.py finds the launcher's secret key, so `python manage.py ...` after `artstudio-serve` needs no export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from artstudio.serve import REPO, ensure_secret_key

PRINT_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def settings_run(data_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter (not under pytest, so not in test mode), production defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARTSTUDIO_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="artstudio.settings", ARTSTUDIO_DATA_DIR=str(data_dir), **extra)
    return subprocess.run([sys.executable, "-c", PRINT_KEY], cwd=REPO, env=env, capture_output=True, text=True)


def test_without_the_variable_it_uses_the_key_the_launcher_keeps_in_the_state_folder(tmp_path: Path):
    key = ensure_secret_key(tmp_path)

    run = settings_run(tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == key


def test_the_variable_wins_over_the_file(tmp_path: Path):
    ensure_secret_key(tmp_path)

    run = settings_run(tmp_path, DJANGO_SECRET_KEY="v" * 60)

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "v" * 60


def test_with_neither_it_refuses_to_start_and_says_what_to_do(tmp_path: Path):
    run = settings_run(tmp_path / "empty")

    assert run.returncode != 0
    assert "ImproperlyConfigured" in run.stderr
    assert "Set DJANGO_SECRET_KEY, or run artstudio-serve once" in run.stderr
    assert str(tmp_path / "empty" / "secret_key") in run.stderr
