from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from assistant.models import Idea
from generator.ownership import owned_or_404


def idea_for(*, user: User, pk) -> Idea:
    """An idea its owner may see; anyone else gets a 404, as for jobs and artworks."""
    return owned_or_404(Idea.objects.all(), user=user, pk=pk)


def saved_ideas(*, user: User) -> QuerySet[Idea]:
    return Idea.objects.filter(owner=user, saved=True)


def recent_ideas(*, user: User, limit: int = 8) -> QuerySet[Idea]:
    return Idea.objects.filter(owner=user)[:limit]
