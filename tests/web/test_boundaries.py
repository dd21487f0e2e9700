"""The rules that keep the web process light and the settings honest."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from artstudio import settings as project_settings
from generator.ml import presets
from generator.preset_names import PRESET_NAMES
from generator.queues import Queue

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARTSTUDIO_"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_web_stack_never_imports_torch(tmp_path):
    result = run_python(
        "import django, sys; django.setup()\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "import artstudio.urls, artstudio.wsgi, artstudio.celery\n"
        "import generator.views, generator.services, generator.selectors, generator.tasks, generator.forms\n"
        "import generator.admin\n"
        "from django.test import Client\n"
        "client = Client(HTTP_HOST='localhost')\n"
        "assert client.get('/healthz').status_code in (200, 503)\n"
        "assert client.get('/').status_code == 200\n"
        "print('torch' in sys.modules)\n"
        "print(sorted(m for m in sys.modules if m.startswith('generator.ml')))",
        DJANGO_SETTINGS_MODULE="artstudio.settings",
        DJANGO_DEBUG="true",
        ARTSTUDIO_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    torch_loaded, engine_modules = result.stdout.strip().splitlines()
    assert torch_loaded == "False"
    # Pages read presets and models from the database; of the engine only its torch-free tables are loaded: the
    # kinds, and the options' ranges (with the error they raise)
    assert engine_modules == "['generator.ml', 'generator.ml.errors', 'generator.ml.kinds', 'generator.ml.options']"


def test_every_preset_name_is_in_the_translation_catalogue():
    assert set(PRESET_NAMES) == {p.name for p in presets.PRESETS.values()}


def test_every_preset_has_a_thumbnail():
    for slug in presets.PRESETS:
        assert (REPO / "static" / "presets" / f"{slug}.webp").is_file(), slug


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("Off", False), ("", False)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert project_settings.env_bool("SOME_FLAG", not expected) is expected


def test_env_helpers_refuse_bad_values_loudly(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        project_settings.env_bool("SOME_FLAG", False)
    monkeypatch.setenv("SOME_NUMBER", "twelve")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        project_settings.env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_NUMBER", "-1")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        project_settings.env_int("SOME_NUMBER", 1, minimum=0)
    monkeypatch.delenv("SOME_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SOME_REQUIRED"):
        project_settings.env_str("SOME_REQUIRED")


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="artstudio.settings",
        ARTSTUDIO_DATA_DIR="/tmp/artstudio-probe",
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_the_secure_settings_pass_the_deployment_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARTSTUDIO_"))},
            "DJANGO_SECURE": "true",
            "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9Lm2Zr" * 5,
            "ARTSTUDIO_DATA_DIR": "/tmp/artstudio-probe",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_celery_settings_keep_long_jobs_safe():
    from artstudio.celery import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit > conf.task_soft_time_limit
    assert [q.name for q in conf.task_queues] == Queue.values == ["gpu", "cpu", "text"]  # one list of queues
    assert conf.task_routes["assistant.write_idea"]["queue"] == "text"  # writing never holds a style job back


def test_kinds_and_queues_each_have_one_source():
    from generator.ml.kinds import KINDS
    from generator.models import Job, ModelKind

    assert set(ModelKind.values) == set(KINDS)  # the registry's choices are the engine's table
    assert {queue for kind in KINDS.values() for queue in kind.warm_on} <= set(Queue.values)
    assert Job._meta.get_field("queue").choices == Queue.choices
    # the launcher (which imports no Django) names the painting worker's queues itself
    from artstudio.serve import STYLE_QUEUES

    assert set(STYLE_QUEUES) == set(Queue.values) - {Queue.TEXT}


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Every module each file under `folder` imports, at its top or inside a function (migrations aside)."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


# Each app and the apps built on it: an app imports only those below it (the gallery shows the assistant's
# saved ideas on boards; the assistant never needs the gallery).
ABOVE = {"generator": {"assistant", "gallery", "api"}, "assistant": {"gallery", "api"}, "gallery": {"api"}}


@pytest.mark.parametrize("app", sorted(ABOVE))
def test_an_app_never_imports_the_apps_built_on_it(app):
    reaching_up = {
        path: sorted(name for name in names if name.split(".")[0] in ABOVE[app])
        for path, names in imported_modules(REPO / app).items()
    }

    assert {path: names for path, names in reaching_up.items() if names} == {}


def test_templates_of_an_app_name_no_page_of_the_apps_built_on_it():
    """The studio's templates link to an artwork through get_absolute_url, which the project wires up."""
    for app, above in ABOVE.items():
        for template in (REPO / "templates" / app).rglob("*.html"):
            named = set(re.findall(r"{%\s*url\s+[\'\"](\w+):", template.read_text()))
            assert not named & above, f"{template.relative_to(REPO)} names {sorted(named & above)}"


def test_the_engine_never_imports_django_and_the_tasks_never_reach_the_engine():
    engine = imported_modules(REPO / "generator" / "ml") | imported_modules(REPO / "gallery" / "ml")
    tasks = imported_modules(REPO / "generator")["generator/tasks.py"]

    assert {path for path, names in engine.items() if any(n.split(".")[0] == "django" for n in names)} == set()
    assert {name for name in tasks if name.startswith(("generator.ml", "torch"))} == set()


def test_the_studios_modes_are_the_engines():
    from generator.ml.options import MODES
    from generator.models import Mode

    assert tuple(Mode.values) == MODES
