"""What the assistant does when the studio announces something (generator/signals.py)."""

from __future__ import annotations

import uuid
from typing import Any

from assistant.services import artwork_suggest_enqueue


def suggest_for_new_artwork(sender: Any, *, artwork_id: uuid.UUID, **_kwargs: Any) -> None:
    """Every new artwork gets title and tag suggestions, on the assistant's own queue (the painting is done)."""
    artwork_suggest_enqueue(artwork_id=artwork_id)
