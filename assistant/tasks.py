"""Celery tasks: take an idea's id, call a service. No torch at module level (see generator/tasks.py)."""

from __future__ import annotations

import logging
import uuid
from typing import TypedDict

from celery import shared_task
from django.db import InterfaceError, OperationalError

from assistant import indexing, services

logger = logging.getLogger(__name__)


class _RetryOptions(TypedDict):
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: bool
    max_retries: int


_TRANSIENT: _RetryOptions = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 5,
}


def _an_id(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        logger.warning("got %r, which is not an idea id; dropping it", value)
        return False
    return True


@shared_task(name="assistant.analyse_idea", **_TRANSIENT)
def analyse_idea(idea_id: str) -> None:
    if _an_id(idea_id):
        services.idea_analyse(idea_id=idea_id)


@shared_task(name="assistant.suggest_for_artwork", **_TRANSIENT)
def suggest_for_artwork(artwork_id: str) -> None:
    if _an_id(artwork_id):
        services.artwork_suggest(artwork_id=artwork_id)


@shared_task(name="assistant.write_idea", **_TRANSIENT)
def write_idea(idea_id: str) -> None:
    if _an_id(idea_id):
        services.idea_write(idea_id=idea_id)


@shared_task(name="assistant.build_similar_index", **_TRANSIENT)
def build_similar_index(index_id: int, run: str, start: int) -> None:
    """One chunk of the similar-works index (assistant/indexing.py); it queues the next itself."""
    indexing.similar_index_step(index_id=index_id, run=run, start=start)
