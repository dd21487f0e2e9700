"""Reads that are more than one line. Everything here is scoped to a user: nobody sees another's work."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from generator.models import Artwork, Job


def gallery_for(*, user: AbstractBaseUser) -> QuerySet[Artwork]:
    """The user's own artworks, newest first."""
    return Artwork.objects.filter(owner=user).order_by("-created")


def recent_jobs_for(*, user: AbstractBaseUser, limit: int = 5) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).select_related("artwork").order_by("-created")[:limit]


def queue_position(*, job: Job) -> int | None:
    """How many queued jobs are ahead of this one in its queue; None when it is not queued."""
    if job.status != Job.Status.QUEUED:
        return None
    return Job.objects.filter(status=Job.Status.QUEUED, queue=job.queue, queued_at__lt=job.queued_at).count()


def job_for(*, user: AbstractBaseUser, pk: uuid.UUID | str) -> Job:
    """The user's job, or 404: another person's job looks exactly like one that does not exist."""
    return get_object_or_404(Job.objects.select_related("artwork"), pk=pk, owner=user)


def artwork_for(*, user: AbstractBaseUser, pk: uuid.UUID | str) -> Artwork:
    return get_object_or_404(Artwork.objects.prefetch_related("models"), pk=pk, owner=user)
