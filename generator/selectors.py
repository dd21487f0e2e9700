"""Reads that are more than one line. Everything here is scoped to a user: nobody sees another's work."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from generator import registry, scheduler
from generator.models import (
    Artwork,
    DailyUsage,
    Job,
    ModelComparison,
    ModelKind,
    ModelUse,
    ModelVersion,
    Preset,
    PresetKind,
    Quota,
    Visibility,
)


def visible_presets() -> QuerySet[Preset]:
    """The studio's preset grid: not hidden, a single-style preset only while its network is active, and a style of
    the 26-style network only while the active version holds it (one learned since shows once its version is
    activated, and hides again on a rollback to a version without it)."""
    active_single = ModelVersion.objects.filter(kind=ModelKind.transformer_net, slot=OuterRef("slug"), is_active=True)
    return (
        Preset.objects.filter(hidden=False)
        .filter(~Q(kind=PresetKind.SINGLE_STYLE) | Q(Exists(active_single)))
        .filter(~Q(kind=PresetKind.NETWORK) | registry.held_presets(registry.active_multistyle()))
        .order_by("position", "name")
    )


def gallery_for(*, user: User) -> QuerySet[Artwork]:
    """The user's own artworks, newest first."""
    return Artwork.objects.filter(owner=user).order_by("-created")


def recent_jobs_for(*, user: User, limit: int = 5) -> QuerySet[Job]:
    return jobs_for(user=user)[:limit]


def jobs_for(*, user: User, status: str = "") -> QuerySet[Job]:
    """The user's jobs, newest first, each with its artwork when it made one (the history page)."""
    jobs = Job.objects.filter(owner=user).select_related("artwork").order_by("-created")
    return jobs.filter(status=status) if status else jobs


def typical_seconds(*, job: Job, sample: int = 200) -> float | None:
    """How long a job like this one usually runs: the median of the studio's last `sample` succeeded jobs of
    the same mode and size, painted the same way (a preset, or a painting of the artist's own). None until
    there is one. Everybody's jobs count: a duration says nothing about whose picture it was."""
    options = job.options
    similar = Job.objects.filter(
        status=Job.Status.SUCCEEDED,
        started__isnull=False,
        finished__isnull=False,
        params__mode=options.mode,
        params__max_side=options.max_side,
    )
    if options.style_preset:
        similar = similar.filter(params__style_preset=options.style_preset)
    else:
        similar = similar.filter(Q(params__style_preset=None) | Q(params__style_preset__isnull=True))
    spans = similar.order_by("-finished").annotate(span=F("finished") - F("started")).values_list("span", flat=True)
    return _percentile(sorted(s.total_seconds() for s in spans[:sample]), 50)


@dataclass(frozen=True)
class Allowance:
    used: int
    limit: int

    @property
    def reached(self) -> bool:
        return self.used >= self.limit

    @property
    def near(self) -> bool:  # the studio warns from four fifths on
        return self.used * 5 >= self.limit * 4

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit))


@dataclass(frozen=True)
class Usage:
    """What an artist uses against their quota (an admin's numbers, or the studio's defaults)."""

    active_jobs: Allowance  # queued or running now
    jobs_today: Allowance  # started today, retries included, deleted ones too
    storage: Allowance  # bytes: uploads and finished pictures

    @property
    def near(self) -> bool:
        return any(a.near for a in (self.active_jobs, self.jobs_today, self.storage))


def usage_for(*, user: User) -> Usage:
    quota = Quota.objects.filter(user=user).first() or Quota(user_id=user.pk)
    stored = (Job.objects.filter(owner=user).aggregate(n=Sum("stored_bytes"))["n"] or 0) + (
        Artwork.objects.filter(owner=user).aggregate(n=Sum("stored_bytes"))["n"] or 0
    )
    today = DailyUsage.objects.filter(user=user, day=timezone.localdate()).values_list("jobs", flat=True).first()
    return Usage(
        active_jobs=Allowance(
            Job.objects.filter(owner=user, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count(),
            quota.active_jobs or settings.ARTSTUDIO_QUOTA_ACTIVE_JOBS,
        ),
        jobs_today=Allowance(today or 0, quota.jobs_per_day or settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY),
        storage=Allowance(stored, (quota.storage_mb or settings.ARTSTUDIO_QUOTA_STORAGE_MB) * 2**20),
    )


def queue_position(*, job: Job) -> int | None:
    """How many jobs the worker will start before this one, over every queue it serves (in the scheduler's
    fair order, not first come first served); None when it is not queued."""
    return scheduler.jobs_ahead(job)


def job_for(*, user: User, pk: uuid.UUID | str) -> Job:
    """The user's job, or 404: another person's job looks exactly like one that does not exist."""
    return get_object_or_404(Job.objects.select_related("artwork"), pk=pk, owner=user)


def artwork_seen_by(*, user: User | AnonymousUser, pk: uuid.UUID | str) -> Artwork:
    """An artwork anybody may see (a public one) or the user's own; 404 otherwise, as if it did not exist."""
    visible = Q(visibility=Visibility.PUBLIC) | (Q(owner=user) if user.is_authenticated else Q(pk__in=[]))
    return get_object_or_404(Artwork.objects.filter(visible).prefetch_related("model_versions"), pk=pk)


def artwork_for(*, user: User, pk: uuid.UUID | str) -> Artwork:
    return get_object_or_404(Artwork.objects.prefetch_related("model_versions"), pk=pk, owner=user)


@dataclass(frozen=True)
class VersionUse:
    version: ModelVersion
    uses: int  # paintings, ideas read or written for, artworks suggested for
    failures: int
    artworks: int  # made by it, deleted since or not
    p50: float | None  # seconds a succeeded use took, start to finish
    p95: float | None
    last_used: datetime | None
    sheet: dict | None = None  # its newest comparison with the active version (services.model_comparisons.standing)

    @property
    def verdict(self) -> str:
        return str(ModelComparison.Verdict(self.sheet["verdict"]).label) if self.sheet else ""


def model_dashboard(*, sample: int = 1000) -> list[VersionUse]:
    """Per model version: how often it ran, how often that failed, how long it took, when it last ran.

    From its history (ModelUse), which keeps what was deleted since. The percentiles are over the version's
    last `sample` succeeded uses, computed here so that SQLite and PostgreSQL give the same figures.
    """
    failed = Q(uses__outcome=ModelUse.Outcome.FAILED)
    versions = ModelVersion.objects.annotate(
        n_uses=Count("uses"),
        n_failed=Count("uses", filter=failed),
        n_artworks=Count("uses", filter=Q(uses__made_artwork=True)),
        last_used=Max("uses__started"),
    ).order_by("kind", "slot", "-is_active", "-created")
    rows = []
    for v in versions:
        spans = ModelUse.objects.filter(
            version=v, outcome=ModelUse.Outcome.SUCCEEDED, seconds__isnull=False
        ).values_list("seconds", flat=True)[:sample]  # (newest first: the model's ordering)
        seconds = sorted(s for s in spans if s is not None)
        rows.append(
            VersionUse(
                v,
                v.n_uses,
                v.n_failed,
                v.n_artworks,
                _percentile(seconds, 50),
                _percentile(seconds, 95),
                v.last_used,
                v.metrics.get("comparison"),
            )
        )
    return rows


def _percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted `values`."""
    if not values:
        return None
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[rank - 1]
