"""What the assistant does when the studio announces something (generator/signals.py)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from assistant import indexing
from assistant.services import ENCODER, artwork_suggest_enqueue

logger = logging.getLogger(__name__)


def suggest_for_new_artwork(sender: Any, *, artwork_id: uuid.UUID, **_kwargs: Any) -> None:
    """Every new artwork gets title and tag suggestions, on the assistant's own queue (the painting is done)."""
    artwork_suggest_enqueue(artwork_id=artwork_id)


def index_for_new_encoder(sender: Any, *, version_id: int, kind: str, **_kwargs: Any) -> None:
    """Another sentence encoder reads ideas now: the similar-works index is built again for it."""
    if kind == ENCODER:
        indexing.similar_index_ensure()


def index_at_worker_start(sender: Any = None, **_kwargs: Any) -> None:
    """In a worker's main process, once it is ready: queue the index the first time the studio starts, or go on
    with one whose worker died. Its database connection is closed after: the pool forks from this process."""
    from django.db import connections

    try:
        indexing.similar_index_ensure(restart=True)
    except Exception:  # a worker must start whatever the database or the broker says; the next start asks again
        logger.exception("Could not queue the similar-works index")
    finally:
        connections.close_all()
