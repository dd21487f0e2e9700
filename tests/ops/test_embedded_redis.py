"""The embedded Valkey really runs, speaks Redis, stops without leftovers and keeps its data."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import redis

from artstudio import serve
from tests.ops.procs import processes_mentioning


@pytest.fixture
def supervisor() -> serve.Supervisor:
    sup = serve.Supervisor(out=io.BytesIO())
    yield sup
    sup.stop_all(10)  # whatever a failing test left running


def start(sup: serve.Supervisor, folder: Path) -> tuple[serve.Child, redis.Redis]:
    child, url = serve.start_embedded_redis(sup, folder, 0, {})
    assert serve.wait_for_redis(sup, child, url), sup.out.getvalue().decode()
    return child, redis.Redis.from_url(url, socket_timeout=5)


def test_the_embedded_server_answers_ping_set_and_get(supervisor: serve.Supervisor, tmp_path: Path):
    _, client = start(supervisor, tmp_path / "valkey")

    assert client.ping() is True
    assert client.set("artstudio:greeting", "bonjour")
    assert client.get("artstudio:greeting") == b"bonjour"
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert client.config_get("appendonly")["appendonly"] == "yes"
    client.close()


def test_it_stops_without_leaving_a_process_and_keeps_queued_jobs_across_a_restart(
    supervisor: serve.Supervisor, tmp_path: Path
):
    folder = tmp_path / "valkey"
    child, client = start(supervisor, folder)
    client.lpush("gpu", "job-1", "job-2")  # what a queued Celery message looks like to Redis: a list
    client.close()

    supervisor.stop_all(10, last=[child])

    assert child.proc.returncode == 0  # a clean shutdown on SIGTERM, not a kill
    assert processes_mentioning(str(folder)) == []
    assert b"ready to exit" in supervisor.out.getvalue()  # its log went through the supervisor

    again = serve.Supervisor(out=io.BytesIO())
    try:
        _, client = start(again, folder)
        assert client.lrange("gpu", 0, -1) == [b"job-2", b"job-1"]
        client.close()
    finally:
        again.stop_all(10)
    assert processes_mentioning(str(folder)) == []


def test_its_log_lines_carry_the_process_name(supervisor: serve.Supervisor, tmp_path: Path):
    start(supervisor, tmp_path / "valkey")[1].close()
    supervisor.pump(0.5)  # the last lines may still sit in the pipe when PING first answers

    lines = supervisor.out.getvalue().decode().splitlines()

    assert lines and all(line.startswith("valkey  | ") for line in lines)
    assert any("Ready to accept connections" in line for line in lines)


def test_a_taken_port_is_refused_with_advice(supervisor: serve.Supervisor, tmp_path: Path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(serve.LaunchError, match="ARTSTUDIO_REDIS_PORT"):
            serve.start_embedded_redis(supervisor, tmp_path, port, {})
    assert supervisor.children == []
