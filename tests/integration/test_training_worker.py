"""A training run on a real worker, the real Redis and the real PostgreSQL: killed mid-run, it goes on from its
checkpoint on the next worker, and ends in a ready version."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from generator import services
from generator.ml import compare
from generator.models import ModelVersion, TrainingRun
from generator.services.training_runs import checkpoint_path
from tests.integration.worker import job_timeout, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # the worker must see committed rows

STEPS = 80


def test_a_run_whose_worker_is_killed_goes_on_from_its_checkpoint(start_worker, worker_media, chelsea, settings):
    """The worker ticks every second, so the restarted one soon finds the run of the dead one; the run saves a
    checkpoint every second, so the kill loses at most a second of training."""
    settings.ARTSTUDIO_COMPARE_SIDE = 96
    worker = start_worker(ARTSTUDIO_TICK_SECONDS="1", ARTSTUDIO_COMPARE_SIDE="96")
    painting = compare.SHEET_PAINTINGS[0]
    run = services.training_request(
        name="Wave",
        kind="transformer_net",
        slot="wave",
        painting=SimpleUploadedFile("wave.jpg", painting.read_bytes(), "image/jpeg"),
        photos=[SimpleUploadedFile("cat.png", chelsea.read_bytes(), "image/png")],
        shipped_photos=False,
        options={"steps": STEPS, "size": 64, "batch": 1, "painting_side": 64, "sample_side": 64,
                 "sample_every": 20, "checkpoint_seconds": 1},
    )  # fmt: skip

    def checkpointed():
        run.refresh_from_db()
        return run.status == TrainingRun.Status.RUNNING and checkpoint_path(run.pk).exists() and run.step >= 5

    wait_until(checkpointed, timeout=job_timeout(), every=0.05, what="a checkpoint", diagnose=worker.tail)
    worker.kill()  # the whole process group: no warm shutdown, no last checkpoint
    killed_at = TrainingRun.objects.get(pk=run.pk)
    assert killed_at.status == TrainingRun.Status.RUNNING and killed_at.step < STEPS

    worker.start()

    def done():
        run.refresh_from_db()
        return run.is_finished

    wait_until(done, timeout=job_timeout(), what="the run to finish", diagnose=worker.tail)
    assert run.status == TrainingRun.Status.DONE, f"{run.error}\n{worker.tail()}"
    assert run.attempts == 2 and run.step == STEPS
    resumed = [line for line in worker.output().splitlines() if f"Training run {run.pk} resumes" in line]
    assert len(resumed) == 1, worker.tail()
    from_step = int(resumed[0].rsplit(" ", 1)[1])
    assert 1 <= from_step <= killed_at.step  # from the checkpoint, not from the start
    assert [point[0] for point in run.losses] == list(range(1, STEPS + 1))  # each step once
    assert [s["step"] for s in run.samples] == [0, 20, 40, 60, 80]
    assert run.version.status == ModelVersion.Status.READY and not run.version.is_active
    assert not checkpoint_path(run.pk).exists()
