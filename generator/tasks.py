"""Celery tasks: thin wrappers that take an id and call a service.

Nothing here imports torch at module level: the worker's prefork parent imports this module, and
the parent must never initialise CUDA (a CUDA context does not survive fork(); children inheriting
one crash or hang). Each child loads the engine after the fork, in ``warm_engine``.
"""

from __future__ import annotations

import logging
import os
import uuid

from celery import shared_task
from celery.signals import celeryd_after_setup, worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from generator import registry, services
from generator.queues import Queue

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="generator.stylize_job",
    # Only transient database trouble is worth another try; the claim makes a retry harmless.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def stylize_job(self, job_id: str) -> None:
    try:
        uuid.UUID(str(job_id))
    except ValueError:
        logger.warning("stylize_job got %r, which is not a job id; dropping it", job_id)
        return
    services.job_run(job_id=job_id)  # records "<host>:<pid>", which a later claim uses to spot a dead child


@shared_task(name="generator.validate_model_version", acks_late=True)
def validate_model_version(version_id: int) -> None:
    """Check an admin's weights upload: it loads into its kind's network and paints a fixed photo."""
    services.model_version_validate(version_id=version_id)


# The queues this worker consumes, learnt in the main process before the pool forks its children.
_worker_queues: list[str] = []


@celeryd_after_setup.connect
def remember_queues(sender, instance, **_kwargs) -> None:
    _worker_queues[:] = sorted(instance.app.amqp.queues.consume_from or Queue.values)


@worker_process_init.connect
def limit_threads(**_kwargs) -> None:
    """ARTSTUDIO_TORCH_THREADS, in the child (connected first, so the warm-up below runs with it)."""
    if settings.ARTSTUDIO_TORCH_THREADS:
        import torch

        torch.set_num_threads(settings.ARTSTUDIO_TORCH_THREADS)


@worker_process_init.connect
def warm_engine(**_kwargs) -> None:
    """Load the active versions this worker's queues use, once per worker child, before the first job.

    Runs in the child right after the fork; only in a child is torch imported.
    """
    if not settings.ARTSTUDIO_WARM_ENGINE:
        return
    try:
        registry.warm_up(queues=_worker_queues or Queue.values, device=settings.ARTSTUDIO_DEVICE)
    except Exception:  # a cold start is slower, not broken: the job loads what it needs
        logger.exception("Could not warm the style engine in worker process %s", os.getpid())
