"""The worker dashboard's data: Celery's own inspection of a real worker, the broker's queue lengths, the page.

The first tests need nothing running (a fake nvidia-smi, a fake inspect reply, a broker that is not
there); the last ones start a real worker against the real Redis and PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime

import pytest
from celery import Celery

from generator import worker_status
from generator.admin_views import workers_view
from generator.broker import BrokerUnavailable, queue_lengths
from generator.models import Job
from generator.worker_status import WorkerInfo, artstudio_device, dashboard_context, workers_overview
from tests.integration.worker import Worker, wait_until
from tests.people import SAM
from tests.speed import scaled

H200 = "NVIDIA H200, 143771, 3012\n"


@pytest.fixture
def nvidia_smi(monkeypatch):
    """Pretend nvidia-smi is installed; the list holds what it prints, and counts the calls."""
    monkeypatch.setattr(worker_status, "_device_cache", None)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}" if name == "nvidia-smi" else None)
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        assert kwargs["timeout"] <= 5  # it blocks the worker's event loop while it waits
        return subprocess.CompletedProcess(args, 0, stdout=H200, stderr="")

    monkeypatch.setattr(subprocess, "run", run)
    return calls


@pytest.fixture
def sam(django_user_model):
    """The studio's administrator."""
    return SAM.create()


def render_workers_page(rf, user) -> str:
    request = rf.get("/admin/generator/workers/")
    request.user = user
    response = workers_view(request)
    assert response.status_code == 200
    return response.render().content.decode()


class FakeInspect:
    """What app.control.inspect() returns, answering from canned replies (None: nobody answered)."""

    def __init__(self, replies: dict[str, dict | None]):
        self.replies = replies
        self.destination = self.limit = None

    def _request(self, command, **_kwargs):
        return self.replies.get(command)

    def stats(self):
        return self._request("stats")

    def active(self):
        return self._request("active")

    def active_queues(self):
        return self._request("active_queues")


def app_answering(monkeypatch, replies: dict[str, dict | None]) -> tuple[Celery, list[FakeInspect]]:
    """An app whose broker is nowhere, so the test proves that nothing but the inspect object is asked."""
    app = Celery("dashboard-test", broker="redis://127.0.0.1:1/0", set_as_current=False)
    made = []

    def inspect(**kwargs):
        assert kwargs["timeout"] == 1.0
        made.append(FakeInspect(replies))
        return made[-1]

    monkeypatch.setattr(app.control, "inspect", inspect)
    return app, made


# --- Without a worker --------------------------------------------------------------------------------


def test_the_device_command_reads_the_gpus_from_nvidia_smi(nvidia_smi, settings):
    settings.ARTSTUDIO_DEVICE = "auto"

    reply = artstudio_device(None)

    assert reply == {
        "setting": "auto",
        "gpus": [{"name": "NVIDIA H200", "memory_total_mib": 143771, "memory_used_mib": 3012}],
    }
    assert nvidia_smi == [
        ["/usr/bin/nvidia-smi", "--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"]
    ]
    assert worker_status.device_text(reply) == "cuda: NVIDIA H200 (140 GiB, 3 GiB used)"


def test_the_device_command_asks_nvidia_smi_at_most_every_ten_seconds(nvidia_smi, monkeypatch):
    artstudio_device(None)
    artstudio_device(None)
    assert len(nvidia_smi) == 1

    later = time.monotonic() + 11
    monkeypatch.setattr(time, "monotonic", lambda: later)
    artstudio_device(None)
    assert len(nvidia_smi) == 2


def test_the_worker_process_never_imports_torch_to_answer_the_device_command():
    # What the prefork parent does: load the app (which registers the command), set Django up, answer.
    code = (
        "import sys, django; from artstudio.celery import app; django.setup(); "
        "from celery.worker.control import Panel; Panel.data['artstudio_device'](None); "
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "artstudio.settings", "DJANGO_SECRET_KEY": "k" * 50}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_machine_without_nvidia_smi_has_no_gpus(monkeypatch, settings):
    monkeypatch.setattr(worker_status, "_device_cache", None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    settings.ARTSTUDIO_DEVICE = "auto"

    reply = artstudio_device(None)

    assert reply == {"setting": "auto", "gpus": []}
    assert worker_status.device_text(reply) == "cpu"
    assert worker_status.device_text({"setting": "cuda", "gpus": []}).startswith("cuda asked for, but no GPU")


def test_a_hung_nvidia_smi_counts_as_no_gpus(nvidia_smi, monkeypatch):
    def hang(args, **kwargs):
        raise subprocess.TimeoutExpired(args, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", hang)

    assert artstudio_device(None)["gpus"] == []


def test_no_worker_online_is_an_empty_list(monkeypatch):
    app, made = app_answering(monkeypatch, {})  # Inspect gives None when no node replied

    assert workers_overview(app) == []
    assert len(made) == 1


def test_the_overview_reads_one_inspect_object(monkeypatch):
    started = time.time() - 5
    stats = {
        "uptime": 75,
        "total": {"generator.run_next_job": 4, "celery.ping": 1},
        "pool": {
            "implementation": "celery.concurrency.prefork:TaskPool",
            "max-concurrency": 2,
            "processes": [101, 102],
        },
    }
    job_id = str(uuid.uuid4())
    app, made = app_answering(
        monkeypatch,
        {
            "stats": {"zeta@box": stats, "alpha@box": {**stats, "uptime": None, "total": {}}},
            "active": {
                "zeta@box": [
                    {
                        "id": "t-1",
                        "name": "generator.run_next_job",
                        "args": [job_id],
                        "time_start": started,
                        "worker_pid": 101,
                    }
                ]
            },
            "active_queues": {"zeta@box": [{"name": "gpu"}, {"name": "cpu"}], "alpha@box": [{"name": "cpu"}]},
            "artstudio_device": {
                "zeta@box": {
                    "setting": "auto",
                    "gpus": [{"name": "NVIDIA H200", "memory_total_mib": 143771, "memory_used_mib": 3012}],
                },
                "alpha@box": {"error": "No such inspect command"},
            },
        },
    )

    alpha, zeta = workers_overview(app)

    assert alpha == WorkerInfo(
        name="alpha@box",
        queues=["cpu"],
        pool="prefork",
        concurrency=2,
        processes=[101, 102],
        uptime=None,
        device="unknown",
        active=[],
        tasks_run=0,
    )
    assert zeta.name == "zeta@box" and zeta.queues == ["gpu", "cpu"] and zeta.tasks_run == 5
    assert zeta.device == "cuda: NVIDIA H200 (140 GiB, 3 GiB used)" and zeta.uptime == 75
    [task] = zeta.active
    assert task["id"] == "t-1" and task["args"] == [job_id] and task["worker_pid"] == 101
    assert isinstance(task["started"], datetime) and abs(task["started"].timestamp() - started) < 1e-3
    [inspect] = made
    assert inspect.destination == ["alpha@box", "zeta@box"] and inspect.limit == 2  # the later calls end early


def test_an_unreachable_broker_says_so_quickly():
    app = Celery("nowhere", broker="redis://127.0.0.1:1/0", set_as_current=False)

    for ask in (lambda: workers_overview(app), lambda: queue_lengths(app)):
        began = time.monotonic()
        with pytest.raises(BrokerUnavailable, match=r"^The broker at redis://127\.0\.0\.1:1/0 cannot be reached"):
            ask()
        assert time.monotonic() - began < 3

    context = dashboard_context(app)
    assert context["workers"] == [] and context["queues"] == [] and "cannot be reached" in context["error"]


@pytest.mark.django_db
def test_the_page_shows_what_a_busy_worker_runs(rf, sam, monkeypatch):
    # the task names only its queue; the job is the one pool child 7 claimed
    job_id = str(
        Job.objects.create(owner=sam, photo="users/x/photo.png", status=Job.Status.RUNNING, worker="studio:7").pk
    )
    worker = WorkerInfo(
        name="celery@studio",
        queues=["gpu", "cpu"],
        pool="prefork",
        concurrency=1,
        processes=[7],
        uptime=3600,
        device="cuda: NVIDIA H200 (140 GiB, 3 GiB used)",
        active=[
            {
                "id": "task-1",
                "name": "generator.run_next_job",
                "args": ["gpu"],
                "started": datetime.now().astimezone(),
                "worker_pid": 7,
            }
        ],
        tasks_run=12,
    )
    monkeypatch.setattr(
        "generator.admin_views.dashboard_context",
        lambda: {"workers": [worker], "queues": [("gpu", 2), ("cpu", 0)], "error": None, "start_command": "celery"},
    )

    page = render_workers_page(rf, sam)

    assert "<title>Workers |" in page and "celery@studio" in page and job_id in page and "task-1" in page
    assert "NVIDIA H200" in page and "prefork, concurrency 1" in page and "1\xa0hour" in page
    assert re.search(r"<th scope=\"row\">gpu</th>\s*<td>2</td>", page)
    assert "<script>" not in page.split('id="content-main"')[1] and "style=" not in page


@pytest.mark.django_db
def test_the_page_says_how_to_start_a_worker_when_none_is_online(rf, sam, monkeypatch):
    monkeypatch.setattr(
        "generator.admin_views.dashboard_context",
        lambda: {
            "workers": [],
            "queues": [("gpu", 0), ("cpu", 0)],
            "error": None,
            "start_command": worker_status.START_COMMAND,
        },
    )

    page = render_workers_page(rf, sam)

    assert "No worker is online. Start one with <code>celery -A artstudio worker" in page


@pytest.mark.django_db
def test_the_page_explains_a_broker_it_cannot_reach(rf, sam, monkeypatch):
    monkeypatch.setattr(
        "generator.admin_views.dashboard_context",
        lambda: {
            "workers": [],
            "queues": [],
            "error": "The broker at redis://x cannot be reached",
            "start_command": "",
        },
    )

    page = render_workers_page(rf, sam)

    assert 'class="errornote"' in page and "redis://x cannot be reached" in page and "No worker" not in page


# --- With a real worker ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker(start_worker) -> Worker:
    """A worker that answers the broadcast: its "ready." line comes first, and on a busy machine the main
    process can take more than a broadcast's timeout to reply to its first one."""
    worker = start_worker()
    wait_until(
        lambda: workers_overview(timeout=1.0),
        timeout=scaled(60),
        what="the worker to answer a broadcast",
        diagnose=worker.tail,
    )
    return worker


def node_name(worker: Worker) -> str:
    """The worker's node name, from its "<name> ready." log line (the fixture picks a random one)."""
    return re.search(r"(test-[0-9a-f]{8}@\S+) ready\.", worker.output()).group(1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_overview_lists_the_running_worker(worker):
    [info] = workers_overview(timeout=2.0)

    assert info.name == node_name(worker)
    assert set(info.queues) == {"gpu", "cpu", "text"}  # no -Q: every queue the settings define
    assert info.pool == "prefork" and info.concurrency == 1 and len(info.processes) == 1
    assert info.device.startswith("cpu"), info.device  # no GPU on the machines that run this suite
    assert info.uptime is not None and info.uptime >= 0 and info.active == [] and info.tasks_run >= 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_queue_lengths_count_the_messages_nobody_consumes_yet(worker):
    import redis

    from artstudio.celery import app
    from tests.real_services import redis_url

    idle = f"dashboard-idle-{uuid.uuid4().hex[:8]}"  # a queue the worker does not consume
    for _ in range(3):
        app.send_task("generator.run_next_job", args=["not-a-queue"], queue=idle)
    try:
        assert queue_lengths(queues=[idle, "never-declared"]) == {idle: 3, "never-declared": 0}
        lengths = queue_lengths()
        assert set(lengths) == {"gpu", "cpu", "text"} and all(n >= 0 for n in lengths.values())
        # The messages sit under the fixture's key prefix, which queue_lengths went through kombu to honour.
        prefix = app.conf.broker_transport_options["global_keyprefix"]
        with redis.Redis.from_url(redis_url()) as client:
            assert client.llen(f"{prefix}{idle}") == 3 and not client.exists(idle)
            assert not client.keys("*never-declared*")  # counting a queue does not create it
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(idle)  # the fixture deletes the binding keys with the rest
    assert queue_lengths(queues=[idle]) == {idle: 0}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_page_shows_the_online_worker(worker, rf, sam):
    page = render_workers_page(rf, sam)

    assert node_name(worker) in page and "prefork, concurrency 1" in page
    assert "No worker is online" not in page and 'class="errornote"' not in page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_api_lists_the_running_worker_and_the_queues_for_an_admin_token(worker, admin_user):
    from django.test import Client

    from api import services as tokens

    text = tokens.token_create(owner=admin_user, name="ops", scopes=["read", "admin"])[1]

    body = Client(HTTP_AUTHORIZATION=f"Bearer {text}").get("/api/v1/admin/workers/").json()

    [listed] = body["workers"]
    assert listed["name"] == node_name(worker) and set(listed["queues"]) == {"gpu", "cpu", "text"}
    assert listed["device"].startswith("cpu") and listed["concurrency"] == 1 and listed["active"] == []
    assert {q["name"] for q in body["queues"]} == {"gpu", "cpu", "text"}
    assert all(q["waiting"] >= 0 for q in body["queues"])
