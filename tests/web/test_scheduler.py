"""generator/scheduler.py: the fair order, the job page's count, the reaper, and the tick's tokens."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from factories import make_job

from generator import scheduler, selectors, services
from generator.models import Job
from generator.services import jobs
from tests.people import CAROL

pytestmark = pytest.mark.django_db

HERE = socket.gethostname()


@pytest.fixture
def carol(django_user_model):
    return CAROL.create()


@pytest.fixture
def queued(no_broker, settings):
    """make_job(owner, n=1, **params) -> the new queued jobs, oldest first."""
    settings.ARTSTUDIO_QUOTA_ACTIVE_JOBS = settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 1000  # an admin's choice

    def make(owner, n: int = 1, **params) -> list[Job]:
        return [make_job(owner, **params) for _ in range(n)]

    return make


def run_in_fair_order(queue: str = "cpu") -> list[Job]:
    """What the workers would do, one job at a time: claim the fairest, finish it, until none is left."""
    order = []
    while (job := scheduler.claim_next(queue=queue, worker="test:1")) is not None:
        Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, finished=timezone.now())
        order.append(job)
    return order


def test_one_job_of_a_second_artist_goes_before_the_thirty_of_the_first(alice, bob, queued):
    alices = queued(alice, 30)
    running = scheduler.claim_next(queue="cpu", worker="test:1")  # alice's first is painting now
    assert running == alices[0]
    (bobs,) = queued(bob)  # bob submits after all 30 of alice's

    assert scheduler.claim_next(queue="cpu", worker="test:2") == bobs  # the next free worker takes bob's
    assert selectors.queue_position(job=alices[1]) == 0


def test_a_job_joins_the_queue_when_it_is_saved_not_when_its_upload_began(alice, queued, monkeypatch):
    # A worker that claims another job while this one's files are written must not see it as waiting longer.
    stored = []
    save_file = jobs.save_file
    monkeypatch.setattr(jobs, "save_file", lambda *args: (save_file(*args), stored.append(timezone.now())))

    (job,) = queued(alice)

    assert stored and job.queued_at >= stored[-1]
    assert Job.objects.get(pk=job.pk).queued_at == job.queued_at


def test_artists_take_turns_and_each_artists_jobs_keep_their_order(alice, bob, carol, queued):
    a = queued(alice, 3)
    b = queued(bob, 2)
    c = queued(carol, 1)

    order = run_in_fair_order()

    assert [j.owner.username for j in order] == ["alice", "bob", "carol", "alice", "bob", "alice"]
    assert [j for j in order if j.owner == alice] == a and [j for j in order if j.owner == bob] == b
    assert c[0] in order


def test_the_job_page_counts_exactly_the_jobs_that_start_first(alice, bob, carol, queued):
    queued(alice, 4)
    queued(bob, 1)
    Job.objects.filter(owner=bob).update(started=timezone.now() - timedelta(hours=1))  # bob painted an hour ago
    queued(bob, 2)
    queued(carol, 3)
    expected = {job.pk: selectors.queue_position(job=job) for job in Job.objects.filter(status=Job.Status.QUEUED)}

    order = run_in_fair_order()

    assert {job.pk: i for i, job in enumerate(order)} == expected


def test_the_count_includes_the_other_queue_the_same_worker_serves(alice, bob, queued, settings):
    queued(alice, 3, mode="quality")  # gpu
    (fast,) = queued(bob)  # cpu: the one worker takes gpu and cpu in turn
    settings.ARTSTUDIO_SHARED_QUEUES = [("gpu", "cpu")]
    assert selectors.queue_position(job=fast) == 1  # one quality job is taken before it
    settings.ARTSTUDIO_SHARED_QUEUES = [("gpu",), ("cpu",)]  # a worker for each (docker-compose.yml)
    assert selectors.queue_position(job=fast) == 0


def test_a_job_that_is_not_queued_has_no_position(alice, queued):
    (job,) = queued(alice)
    scheduler.claim_next(queue="cpu", worker="test:1")
    job.refresh_from_db()
    assert selectors.queue_position(job=job) is None


def test_a_surplus_token_finds_nothing_and_does_nothing(alice, queued):
    assert services.job_run_next(queue="cpu", worker="test:1") is None
    (job,) = queued(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)
    assert services.job_run_next(queue="cpu", worker="test:1") is None
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


# --- the reaper ---------------------------------------------------------------------------------


def running(job: Job, *, worker: str, heartbeat_age: float = 0, attempts: int = 1, **fields) -> Job:
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        worker=worker,
        attempts=attempts,
        started=timezone.now(),
        progress=0.4,
        heartbeat=timezone.now() - timedelta(seconds=heartbeat_age),
        **fields,
    )
    job.refresh_from_db()
    return job


def test_a_job_whose_process_on_this_host_died_goes_back_to_its_place_in_the_queue(alice, queued):
    (job,) = queued(alice)
    queued_at = job.queued_at
    running(job, worker=f"{HERE}:999999999")

    assert scheduler.reap() == {"requeued": 1}

    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.worker == "" and job.progress == 0
    assert job.queued_at == queued_at and job.attempts == 1


def test_a_job_whose_worker_went_silent_on_another_machine_is_requeued(alice, queued, settings):
    old, fresh = queued(alice, 2)
    running(old, worker="elsewhere:7", heartbeat_age=settings.ARTSTUDIO_HEARTBEAT_TIMEOUT + 1)
    running(fresh, worker="elsewhere:8", heartbeat_age=settings.ARTSTUDIO_HEARTBEAT_TIMEOUT / 2)

    assert scheduler.reap() == {"requeued": 1}
    assert Job.objects.get(pk=old.pk).status == Job.Status.QUEUED
    assert Job.objects.get(pk=fresh.pk).status == Job.Status.RUNNING


def test_a_job_on_a_live_process_here_is_left_alone(alice, queued):
    (job,) = queued(alice)
    running(job, worker=f"{HERE}:{os.getpid()}")
    assert scheduler.reap() == {}
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING


def test_a_job_that_killed_its_process_three_times_fails_with_a_message(alice, queued, settings):
    (job,) = queued(alice)
    running(job, worker=f"{HERE}:999999999", attempts=settings.ARTSTUDIO_MAX_ATTEMPTS)

    assert scheduler.reap() == {"failed": 1}

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.finished is not None
    assert "stopped while working on this picture 3 times" in job.error
    assert job.can_retry


def test_cancelling_a_job_whose_worker_died_ends_cancelled(alice, queued):
    (job,) = queued(alice)
    running(job, worker=f"{HERE}:999999999")
    services.job_cancel(job=job, by=alice)
    assert Job.objects.get(pk=job.pk).cancel_requested  # "Stopping…", until the reaper sees the dead worker

    assert scheduler.reap() == {"cancelled": 1}
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_a_reaped_jobs_old_worker_cannot_finish_it(alice, queued):
    (job,) = queued(alice)
    job = running(job, worker="elsewhere:7", heartbeat_age=10_000)
    scheduler.reap()
    scheduler.claim(job.pk, "newcomer:1")

    jobs._finish(job, Job.Status.FAILED, "the old worker woke up")  # the claim it held is gone

    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.worker == "newcomer:1" and job.error == ""


def test_a_retry_starts_counting_attempts_again(alice, queued, django_capture_on_commit_callbacks):
    (job,) = queued(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_retry(job=job, by=alice)
    assert job.status == Job.Status.QUEUED and job.attempts == 0


# --- the tick, with the real Redis ------------------------------------------------------------


@pytest.fixture
def broker():
    from tests.real_services import broker_under_prefix

    with broker_under_prefix() as prefix:
        yield prefix


def tokens() -> dict[str, int]:
    from generator.broker import queue_lengths

    return queue_lengths(queues=["gpu", "cpu"])


@pytest.mark.django_db(transaction=True)
def test_the_tick_sends_the_tokens_the_waiting_jobs_lack_and_no_more(alice, broker, monkeypatch):
    monkeypatch.setattr(scheduler, "send_tokens", lambda queue, count=1: True)  # the submits' sends are "lost"
    for _ in range(3):
        make_job(alice)
    make_job(alice, mode="quality")
    monkeypatch.undo()
    assert tokens() == {"gpu": 0, "cpu": 0}

    scheduler.tick()
    assert tokens() == {"gpu": 1, "cpu": 3}
    scheduler.tick()  # the tokens are waiting in the broker now: nothing more to send
    assert tokens() == {"gpu": 1, "cpu": 3}


@pytest.mark.django_db(transaction=True)
def test_a_submit_sends_one_token_to_its_queue_and_leaves_the_time_limit_to_the_worker(alice, broker):
    import json

    import redis

    from tests.real_services import redis_url

    make_job(alice, mode="quality")
    assert tokens() == {"gpu": 1, "cpu": 0}
    with redis.Redis.from_url(redis_url()) as client:
        message = json.loads(client.lindex(f"{broker}gpu", 0))
    assert message["headers"]["task"] == "generator.run_next_job"
    assert message["headers"]["timelimit"] == [None, None]  # not this process's: the worker's own applies


@pytest.mark.django_db(transaction=True)
def test_a_submit_while_the_broker_is_frozen_is_saved_at_once_and_its_token_sent_when_it_thaws(
    alice, settings, tmp_path, monkeypatch
):
    """The embedded Valkey, stopped with SIGSTOP: the kernel still accepts connections for it, and then
    nothing answers. The submit gives up on it after ARTSTUDIO_BROKER_SEND_TIMEOUT; the tick sends later."""
    import io
    import signal
    import time

    from kombu import pools

    from artstudio import serve
    from generator.broker import queue_lengths

    supervisor = serve.Supervisor(out=io.BytesIO())
    try:
        valkey, url = serve.start_embedded_redis(supervisor, tmp_path / "valkey", 0, {})
        assert serve.wait_for_redis(supervisor, valkey, url), supervisor.out.getvalue().decode()
        monkeypatch.setattr("artstudio.celery.app.conf.broker_url", url)
        pools.reset()
        valkey.proc.send_signal(signal.SIGSTOP)
        try:
            began = time.monotonic()
            job = make_job(alice)
            took = time.monotonic() - began
        finally:
            valkey.proc.send_signal(signal.SIGCONT)
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED and job.photo.storage.exists(job.photo.name)
        assert took < 3 * settings.ARTSTUDIO_BROKER_SEND_TIMEOUT + 2, took  # not the 30 s of a web timeout
        assert queue_lengths(queues=["cpu"]) == {"cpu": 0}  # nothing reached the frozen broker

        scheduler.tick()  # what every worker does every ARTSTUDIO_TICK_SECONDS
        assert queue_lengths(queues=["cpu"]) == {"cpu": 1}
    finally:
        pools.reset()
        supervisor.stop_all(10)


def test_a_rolled_back_transaction_sends_no_token(alice, no_broker, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        make_job(alice)
        raise RuntimeError("the view failed after the job was made")
    assert no_broker == [] and not Job.objects.exists()
