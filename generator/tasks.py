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
from celery.signals import worker_process_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from generator import services

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


@worker_process_init.connect
def warm_engine(**_kwargs) -> None:
    """Load the networks once per worker child, so the first job pays no loading cost.

    Runs in the child right after the fork; only here (and in job_run) is torch imported.
    """
    if not settings.ARTSTUDIO_WARM_ENGINE:
        return
    try:
        from generator.ml import engine

        engine.warm_up(settings.ARTSTUDIO_DEVICE)
    except Exception:  # a cold start is slower, not broken: the job loads what it needs
        logger.exception("Could not warm the style engine in worker process %s", os.getpid())
