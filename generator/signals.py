"""What the base app announces, for the apps built on it to act on; it never calls up into them.

Each signal is sent once the change has committed, with `send_robust`: a listener that fails is logged and
never undoes or fails what happened (a painting is done whether or not the assistant can suggest a title).
"""

from __future__ import annotations

import logging
import uuid

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A new artwork was saved with its job's result; kwargs: artwork_id.
artwork_created = Signal()


def announce_artwork_created(artwork_id: uuid.UUID) -> None:
    for receiver, outcome in artwork_created.send_robust(sender=None, artwork_id=artwork_id):
        if isinstance(outcome, Exception):
            logger.error("%r failed on artwork %s", receiver, artwork_id, exc_info=outcome)


# A model version became the active one of its kind (and slot); kwargs: version_id, kind.
model_version_activated = Signal()


def announce_model_version_activated(version_id: int, kind: str) -> None:
    for receiver, outcome in model_version_activated.send_robust(sender=None, version_id=version_id, kind=kind):
        if isinstance(outcome, Exception):
            logger.error("%r failed on model version %s", receiver, version_id, exc_info=outcome)
