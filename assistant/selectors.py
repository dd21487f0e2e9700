from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from assistant.models import Idea


def idea_for(*, user: AbstractBaseUser, pk) -> Idea:
    """An idea its owner may see; anyone else gets a 404, as for jobs and artworks."""
    return get_object_or_404(Idea, pk=pk, owner=user)


def saved_ideas(*, user: AbstractBaseUser) -> QuerySet[Idea]:
    return Idea.objects.filter(owner=user, saved=True)


def recent_ideas(*, user: AbstractBaseUser, limit: int = 8) -> QuerySet[Idea]:
    return Idea.objects.filter(owner=user)[:limit]
