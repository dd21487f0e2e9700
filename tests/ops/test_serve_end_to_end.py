"""`python -m artstudio.serve` for real: it comes up healthy, brings back what dies, and Ctrl-C leaves nothing
behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from artstudio.healthcheck import healthz_status
from artstudio.serve import REPO, free_port
from tests.integration.worker import wait_until
from tests.ops.procs import alive, cmdline, descendants, parent, processes_mentioning
from tests.speed import scaled

pytestmark = pytest.mark.slow

# Sized on a busy 2-core box, and as much longer as this machine is slower (tests.speed)
START_TIMEOUT = 300  # migrate, weights import, collectstatic, then a worker and gunicorn
RESTART_TIMEOUT = 120  # the worker's boot after the web's, or a process started again
CHILD_STOP_TIMEOUT = 30  # each child's, after the launcher's SIGTERM
STOP_TIMEOUT = 90
GONE_TIMEOUT = 5  # a grandchild's exit after the launcher's (its parent waited for it, or killed it)


def studio_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARTSTUDIO_", "CELERY_"))}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    env.update(
        ARTSTUDIO_DATA_DIR=str(data_dir),
        ARTSTUDIO_PORT=str(port),
        ARTSTUDIO_REDIS_PORT="0",  # any free port, so the test never meets a running studio
        ARTSTUDIO_WEB_WORKERS="1",
        ARTSTUDIO_WARM_ENGINE="false",  # the worker need not load the networks to prove it starts
        ARTSTUDIO_STOP_TIMEOUT=str(round(scaled(CHILD_STOP_TIMEOUT))),
    )
    return env


def wait_healthy(proc: subprocess.Popen, url: str, log: Path) -> None:
    timeout = scaled(START_TIMEOUT)
    deadline = time.monotonic() + timeout
    while healthz_status(url, timeout=2) != 200:
        assert proc.poll() is None, f"the launcher exited ({proc.returncode}):\n{log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"no healthy /healthz in {timeout:g}s:\n{log.read_text()[-4000:]}"
        time.sleep(1)


@pytest.fixture
def studio(tmp_path: Path):
    """A running studio: (launcher process, data folder, port, log file), healthy and with its worker ready."""
    data_dir, port, log = tmp_path / "var", free_port(), tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "artstudio.serve"],
            cwd=REPO,
            env=studio_env(data_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}/healthz", log)
        # Let the worker finish booting: its pool child is part of what must be cleaned up.
        deadline = time.monotonic() + scaled(RESTART_TIMEOUT)
        while b"ready." not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(1)
        yield proc, data_dir, port, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in descendants(proc.pid):  # only if the launcher failed its job
            os.kill(pid, signal.SIGKILL)


def test_the_studio_starts_restarts_what_dies_and_a_sigint_stops_every_process(studio):
    """One launcher for the three things (it takes a minute to start): it comes up with every process, brings back
    a process that dies while still serving, and Ctrl-C stops them all, the restarted ones included."""
    proc, data_dir, port, log = studio
    url = f"http://127.0.0.1:{port}/healthz"
    family = descendants(proc.pid)
    assert len(family) >= 5, family  # valkey, celery + its pool child, gunicorn + its worker

    # The banner's advice works as printed: a plain manage.py, nothing exported but the state folder
    # (the test's is not the default var/), finds the launcher's key and database.
    admin = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            "admin",
            "--email",
            "admin@example.com",
        ],
        cwd=REPO,
        env={**studio_env(data_dir, port), "DJANGO_SUPERUSER_PASSWORD": "a-long-admin-password-1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert admin.returncode == 0, admin.stderr
    with sqlite3.connect(f"file:{data_dir / 'db.sqlite3'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT is_superuser FROM auth_user WHERE username = 'admin'").fetchone() == (1,)

    # A process that dies is started again, and the studio keeps serving.
    [web] = [pid for pid in family if "gunicorn" in cmdline(pid) and parent(pid) == proc.pid]
    [valkey] = [pid for pid in family if "valkey" in cmdline(pid) and parent(pid) == proc.pid]
    os.kill(web, signal.SIGKILL)  # its orphaned worker still holds the port: the launcher kills it too
    os.kill(valkey, signal.SIGKILL)
    deadline = time.monotonic() + scaled(RESTART_TIMEOUT)
    while not ("web exited unexpectedly" in log.read_text() and healthz_status(url, timeout=2) == 200):
        assert proc.poll() is None, log.read_text()[-4000:]
        assert time.monotonic() < deadline, log.read_text()[-4000:]
        time.sleep(1)
    text = log.read_text()
    assert "valkey exited unexpectedly (-9); starting it again in 1s" in text
    assert "web exited unexpectedly (-9); starting it again in 1s" in text
    again = descendants(proc.pid)
    assert web not in again and valkey not in again
    assert any("gunicorn" in cmdline(pid) and parent(pid) == proc.pid for pid in again)
    assert any("valkey" in cmdline(pid) and parent(pid) == proc.pid for pid in again)

    # Ctrl-C: every process stops on SIGTERM, the state stays on disk, nothing is left running.
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=scaled(STOP_TIMEOUT))

    text = log.read_text()
    assert code == 0, text[-4000:]
    assert "Artstudio is running at http://127.0.0.1:" in text
    assert f"ARTSTUDIO_DATA_DIR={data_dir} " in text and " manage.py createsuperuser" in text
    assert "did not stop" not in text  # every child stopped on SIGTERM, none needed a kill
    wait_until(
        lambda: not alive(family | again),
        timeout=scaled(GONE_TIMEOUT),
        what="its processes to be gone",
        diagnose=lambda: log.read_text()[-4000:],
    )
    assert processes_mentioning(str(data_dir)) == []
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (data_dir / "db.sqlite3").exists()
    assert any((data_dir / "valkey" / "appendonlydir").iterdir())
    assert healthz_status(url, timeout=2) is None
