"""The one owner rule: an artist reads and changes only what they own.

Reads answer 404 for another person's object, so it looks exactly like one that does not exist; writes
raise PermissionDenied. Staff are artists like any other here: the admin has its own permissions. Jobs,
artworks and the assistant's ideas all follow it, through these two functions.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404

M = TypeVar("M", bound=Model)


class Owned(Protocol):
    owner_id: Any


def owned_or_404(queryset: QuerySet[M], *, user: User, pk: Any) -> M:
    """The user's object with this key, or Http404."""
    return get_object_or_404(queryset, pk=pk, owner=user)


def require_owner(obj: Owned, *, by: User) -> None:
    """PermissionDenied unless `by` owns `obj`."""
    if obj.owner_id != by.pk:
        raise PermissionDenied
