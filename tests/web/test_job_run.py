"""services.job_run, job_cancel and job_retry, with the real engine on tiny pictures."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from django.utils import timezone
from factories import make_job, photo
from PIL import Image

from generator import services
from generator.ml.errors import Cancelled, StyleError
from generator.models import Artwork, Job, ModelVersion, Preset
from generator.services import files

pytestmark = pytest.mark.django_db


def test_it_paints_the_picture_and_keeps_the_artwork_with_its_model_versions(alice):
    job = make_job(alice, style_preset="pop-outline", max_side=512)
    assert Preset.objects.get(slug="pop-outline").kind == Preset.Kind.NETWORK

    artwork = services.job_run(job_id=job.pk, worker="test:1")

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.progress == 1.0 and job.attempts == 1
    assert job.started and job.finished and job.device == "cpu"
    assert artwork == Artwork.objects.get(job=job)
    assert artwork.owner == alice and artwork.params == job.params and artwork.title == "Pop Outline"
    with artwork.image.open("rb") as f, Image.open(f) as img:
        assert img.format == "PNG" and img.size == (artwork.width, artwork.height)
        assert img.size == (512, 341)  # the asked-for long side, the photo's proportions
    with artwork.thumbnail.open("rb") as f, Image.open(f) as thumb:
        assert thumb.format == "WEBP" and max(thumb.size) <= files.THUMBNAIL_SIDE
    # exactly the active version of the one network it needed, on the job and on the artwork
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    assert list(artwork.model_versions.all()) == [active] == list(job.model_versions.all())


def test_a_painting_upload_is_used_as_the_style(alice):
    job = make_job(alice, style_preset=None, style_image=photo("painting.png", size=(80, 80)), strength=0.6)
    artwork = services.job_run(job_id=job.pk)
    assert artwork is not None
    assert set(artwork.model_versions.values_list("kind", flat=True)) == {"magenta_predictor", "magenta_transformer"}
    assert artwork.title == ""


def test_a_job_delivered_twice_runs_once(alice, monkeypatch):
    job = make_job(alice)
    calls = []
    from generator.ml import engine

    real = engine.stylize
    monkeypatch.setattr(engine, "stylize", lambda *a, **k: calls.append(1) or real(*a, **k))

    assert services.job_run(job_id=job.pk, worker=f"{socket.gethostname()}:{os.getpid()}") is not None
    assert services.job_run(job_id=job.pk, worker="other:2") is None
    assert len(calls) == 1
    assert Artwork.objects.count() == 1


def test_a_running_job_is_not_claimed_again(alice):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, started=timezone.now(), worker=f"{socket.gethostname()}:{os.getpid()}"
    )
    assert services.job_run(job_id=job.pk, worker="another:1") is None
    job.refresh_from_db()
    assert job.worker == f"{socket.gethostname()}:{os.getpid()}"


def test_a_vanished_job_is_nothing_to_do(alice):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).delete()
    assert services.job_run(job_id=job.pk) is None


def test_bad_input_fails_the_job_with_the_engines_message(alice, monkeypatch):
    job = make_job(alice)

    def refuse(*args, **kwargs):
        raise StyleError("The photo is only 20x20 pixels; both sides need at least 32 pixels.")

    monkeypatch.setattr("generator.ml.engine.stylize", refuse)
    assert services.job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "The photo is only 20x20 pixels; both sides need at least 32 pixels."
    assert not Artwork.objects.exists()


def test_an_unexpected_error_fails_the_job_with_a_generic_message(alice, monkeypatch, caplog):
    job = make_job(alice)

    def crash(*args, **kwargs):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr("generator.ml.engine.stylize", crash)
    services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "CUDA" not in job.error and "try again" in job.error.lower()
    assert "illegal memory access" in caplog.text  # the traceback goes to the log, not to the person


def test_a_cancel_request_stops_a_running_job(alice, monkeypatch):
    job = make_job(alice)

    def slow_engine(*args, progress, cancel, **kwargs):
        progress(0.3, None)
        services.job_cancel(job=Job.objects.get(pk=job.pk), by=alice)  # the person clicks Cancel
        assert Job.objects.get(pk=job.pk).cancel_requested
        if cancel():
            raise Cancelled("stopped")
        raise AssertionError("the cancel flag was not seen")

    monkeypatch.setattr("generator.ml.engine.stylize", slow_engine)
    monkeypatch.setattr(
        "generator.services.jobs._Reporter.cancel", lambda self: Job.objects.get(pk=job.pk).cancel_requested
    )
    assert services.job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished


def test_progress_is_written_and_quality_previews_are_saved(alice, monkeypatch, settings):
    settings.ARTSTUDIO_PROGRESS_EVERY = 0
    job = make_job(alice, mode="quality")
    assert job.queue == "gpu"
    seen = []

    def engine(*args, progress, cancel, **kwargs):
        progress(0.5, Image.new("RGB", (64, 48), "red"))
        seen.append(Job.objects.get(pk=job.pk))
        raise Cancelled("enough")

    monkeypatch.setattr("generator.ml.engine.stylize", engine)
    services.job_run(job_id=job.pk)
    mid = seen[0]
    assert mid.progress == 0.5 and mid.status == Job.Status.RUNNING
    assert mid.preview.name.startswith(f"users/{alice.pk}/previews/")
    with mid.preview.open("rb") as f, Image.open(f) as img:
        assert img.format == "WEBP"


def test_a_queued_job_is_cancelled_at_once(alice):
    job = services.job_cancel(job=make_job(alice), by=alice)
    assert job.status == Job.Status.CANCELLED and job.finished
    assert services.job_run(job_id=job.pk) is None  # its message, when it arrives, does nothing


def test_someone_else_cannot_cancel_or_retry(alice, bob):
    from django.core.exceptions import PermissionDenied

    job = make_job(alice)
    with pytest.raises(PermissionDenied):
        services.job_cancel(job=job, by=bob)
    with pytest.raises(PermissionDenied):
        services.job_retry(job=job, by=bob)


def test_a_failed_job_can_be_retried_and_is_queued_again_on_commit(
    alice, no_broker, django_capture_on_commit_callbacks
):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="boom", progress=0.4)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_retry(job=job, by=alice)
    assert job.status == Job.Status.QUEUED and job.error == "" and job.progress == 0
    assert no_broker == ["cpu"]


def test_a_succeeded_job_is_not_retried(alice, no_broker, django_capture_on_commit_callbacks):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_retry(job=job, by=alice)
    assert job.status == Job.Status.SUCCEEDED and no_broker == []


def test_the_task_hands_the_queue_to_the_service(alice, monkeypatch):
    from generator.tasks import run_next_job

    ran = []
    monkeypatch.setattr("generator.services.job_run_next", lambda *, queue: ran.append(queue))
    run_next_job.apply(args=["not-a-queue"])
    run_next_job.apply(args=["gpu"])
    assert ran == ["gpu"]


def test_each_worker_child_warms_the_active_versions_its_queues_use(monkeypatch, settings):
    from generator import worker_process
    from generator.ml import engine

    settings.ARTSTUDIO_DEVICE = "cpu"
    calls = []
    monkeypatch.setattr(engine, "warm_up", lambda models, device: calls.append(({k for k, _ in models}, device)))
    monkeypatch.setattr(worker_process, "_worker_queues", ["cpu"])
    worker_process._warm_up()
    assert calls == [({"multistyle26", "magenta_predictor", "magenta_transformer"}, "cpu")]
    monkeypatch.setattr(
        worker_process, "_worker_queues", ["gpu"]
    )  # quality mode runs there: the perceptual network too
    worker_process._warm_up()
    assert calls[-1][0] == {"multistyle26", "magenta_predictor", "magenta_transformer", "efficientnet_lite0"}


def test_the_warm_up_runs_beside_the_child_start_so_it_never_delays_the_ready_signal(monkeypatch, settings):
    from generator import worker_process

    started, release = threading.Event(), threading.Event()
    monkeypatch.setattr(worker_process, "_warm_up", lambda: started.set() or release.wait(10))
    thread = worker_process.warm_engine()  # returns while the warm-up is still loading: Celery's 4 s deadline is safe
    assert started.wait(5) and thread.is_alive()
    release.set()
    thread.join(5)
    assert not thread.is_alive()
    settings.ARTSTUDIO_WARM_ENGINE = False
    assert worker_process.warm_engine() is None


def test_a_worker_childs_openmp_threads_sleep_while_they_wait_unless_told_otherwise(monkeypatch, settings):
    from generator import worker_process

    settings.ARTSTUDIO_TORCH_THREADS = 0
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    worker_process.limit_threads()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"  # a spinning painting starves the writer beside it
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    worker_process.limit_threads()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
