"""Celery tasks: take an id, call a service. No torch at module level (see generator/tasks.py)."""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from django.db import InterfaceError, OperationalError

from gallery import services
from gallery.services import meaning

logger = logging.getLogger(__name__)


@shared_task(
    name="gallery.moderate_artwork",
    autoretry_for=(OperationalError, InterfaceError),  # the database blinked: checking again is harmless
    retry_backoff=True,
    max_retries=5,
)
def moderate_artwork(artwork_id: str) -> None:
    try:
        uuid.UUID(str(artwork_id))
    except ValueError:
        logger.warning("got %r, which is not an artwork id; dropping it", artwork_id)
        return
    services.artwork_moderate(artwork_id=artwork_id)


@shared_task(name="gallery.search_by_meaning")  # nothing to retry: the page asks again once the answer expires
def search_by_meaning(owner_id: int, q: str) -> None:
    meaning.meaning_search(owner_id=int(owner_id), q=str(q)[:200])
