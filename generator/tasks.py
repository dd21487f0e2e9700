"""Celery tasks: thin wrappers that take an id and call a service.

They never reach the engine: the services do, inside the worker's children. What a worker process does
when it starts (the scheduler's tick, the children's threads and warm-up) is in generator/worker_process.py.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from generator import services
from generator.queues import Queue

logger = logging.getLogger(__name__)


@shared_task(
    name="generator.run_next_job",
    # Only transient database trouble is worth another try; the claim makes a retry harmless.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def run_next_job(queue: str) -> None:
    """A token: run the fairest job waiting on `queue` (generator/scheduler.py says why no job id)."""
    if queue not in Queue.values:
        logger.warning("run_next_job got %r, which is not a queue; dropping it", queue)
        return
    services.job_run_next(queue=queue)  # records "<host>:<pid>", which the reaper uses to spot a dead child


@shared_task(name="generator.validate_model_version", acks_late=True)
def validate_model_version(version_id: int) -> None:
    """Check an admin's weights upload: it loads into its kind's network and paints a fixed photo."""
    services.model_version_validate(version_id=version_id)


@shared_task(name="generator.compare_model_version", acks_late=True)
def compare_model_version(comparison_id: int) -> None:
    """Paint the evaluation sheet with a version and the active one, and keep the measures."""
    services.comparison_run(comparison_id=comparison_id)


@shared_task(name="generator.measure_presets")
def measure_presets() -> None:
    """How much of a photo a preset keeps, with the networks active now: one preset, then the task queues itself
    for the next (behind the jobs that came meanwhile); presets measured already are skipped. A chain queued before
    ARTSTUDIO_MEASURE_PRESETS was turned off stops at its next task."""
    if settings.ARTSTUDIO_MEASURE_PRESETS and services.presets_measure(limit=1):
        measure_presets.apply_async(queue=Queue.CPU)


@shared_task(name="generator.train_style")
def train_style(run_id: int) -> None:
    """Train a style until it is done, cancelled, or has held this worker long enough while artists' jobs wait
    (then it goes back to the queue and this task is sent again: generator/services/training_runs.py)."""
    from generator import worker_process

    services.training_work(
        run_id=run_id,
        device=settings.ARTSTUDIO_DEVICE,
        hold_seconds=settings.ARTSTUDIO_TRAIN_HOLD_SECONDS,
        queues=worker_process.queues(),
    )
