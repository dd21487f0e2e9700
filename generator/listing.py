"""A version for each artist's pictures as their lists show them, so that a list can be kept and served again
until something in it changes.

The version is a random token in the cache (Redis, shared by every web process). Anything that changes what an
artist's lists show (a picture made, retitled, deleted, made public; a tag, a star, a board's pictures) forgets
it, once at the change and once more when the change commits: a list made in between, from rows not yet
committed, is kept under a version nobody asks for again. Forgotten, or evicted, a version is simply a new random
one: a list kept under an old one is never found again, and so is never served stale.

The writes reach this from two sides: model signals (gallery.receivers, generator's own below) for rows saved or
deleted one by one, and `listing_changed` called by the services that write with `update()` or `bulk_create()`,
which send no signals.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import translation

from generator.models import Artwork

logger = logging.getLogger(__name__)

KEEP_SECONDS = 600  # a kept list, at most (a version lives until the next change)
T = TypeVar("T")


PUBLIC = "public"  # the lists of everybody's public pictures (explore): any artist's change forgets their version


def _version_key(scope: int | str) -> str:
    return f"listing-version:{scope}"


def listing_changed(*owner_ids: int | None) -> None:
    """These artists' lists show something else now: forget their versions (and the public lists', which any
    artist's pictures may be on), now and after the commit."""
    keys = [_version_key(owner_id) for owner_id in set(owner_ids) if owner_id is not None]
    if not keys:
        return
    keys.append(_version_key(PUBLIC))

    def forget() -> None:
        try:
            cache.delete_many(keys)
        except Exception:  # the cache is unreachable: nothing is served from it either (kept() renders afresh)
            logger.warning("Could not forget the listing versions %s", keys, exc_info=True)

    forget()
    transaction.on_commit(forget)


def current_version(scope: int | str) -> str | None:
    """The artist's (or PUBLIC's) version now: a new random one if it was forgotten. Raises if the cache is
    unreachable."""
    version = cache.get(_version_key(scope))
    if version is None:
        cache.add(_version_key(scope), uuid.uuid4().hex, timeout=None)
        version = cache.get(_version_key(scope))
    return version


def kept(owner_id: int | str, parts: Iterable[Any], make: Callable[[], T]) -> T:
    """`make()`'s value for this artist's current version (or PUBLIC's) and `parts` (the view, the page...; the
    language is added), from the cache when it was made before; made, and kept, when not. Without the cache,
    just made."""
    try:
        version = current_version(owner_id)
        described = repr((owner_id, version, translation.get_language(), *parts))
        key = "listing:" + hashlib.sha256(described.encode()).hexdigest()
        value = cache.get(key)
    except Exception:
        logger.warning("The listing cache is unreachable: made afresh", exc_info=True)
        return make()
    if value is None:
        value = make()
        if version is not None:  # a version that vanished at once (evicted): nothing is kept under None
            try:
                cache.set(key, value, timeout=KEEP_SECONDS)
            except Exception:
                logger.warning("Could not keep a listing", exc_info=True)
    return value


@receiver(post_save, sender=Artwork)
@receiver(post_delete, sender=Artwork)
def _artwork_changed(sender, instance: Artwork, **kwargs) -> None:
    listing_changed(instance.owner_id)


@receiver(m2m_changed, sender=Artwork.model_versions.through)
def _versions_changed(sender, instance, pk_set=None, **kwargs) -> None:
    if isinstance(instance, Artwork):
        listing_changed(instance.owner_id)
    else:  # a model version's artworks: the owners of those
        listing_changed(*Artwork.objects.filter(pk__in=pk_set or ()).values_list("owner_id", flat=True))
