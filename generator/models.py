"""The studio's data: a Job (one stylize request), the Artwork it makes, the model versions behind it.

Files live under MEDIA_ROOT in per-user folders with random names and are never served publicly:
views hand them out after checking the owner. Writes go through ``generator.services``.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _user_path(instance: Job | Artwork, folder: str, filename: str) -> str:
    """A random name in the owner's own folder; only the (lower-cased) suffix of the upload is kept."""
    suffix = PurePath(filename).suffix.lower()
    return f"users/{instance.owner_id}/{folder}/{uuid.uuid4().hex}{suffix}"


def photo_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "photos", filename)


def style_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "styles", filename)


def preview_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "previews", filename)


def artwork_upload_to(instance: Artwork, filename: str) -> str:
    return _user_path(instance, "artworks", filename)


def thumbnail_upload_to(instance: Artwork, filename: str) -> str:
    return _user_path(instance, "thumbnails", filename)


class Mode(models.TextChoices):
    FAST = "fast", _("Fast")
    QUALITY = "quality", _("Quality")


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private")
    PUBLIC = "public", _("Public")


class ModelVersion(models.Model):
    """The exact weights (name + sha256) a picture was painted with; the seed of the model registry."""

    name = models.CharField(_("name"), max_length=64)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["name", "-created"]
        constraints = [models.UniqueConstraint(fields=["name", "sha256"], name="unique_model_version")]

    def __str__(self) -> str:
        return f"{self.name} {self.short_sha}"

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Job(models.Model):
    Status = JobStatus

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs",
                              verbose_name=_("owner"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)
    queue = models.CharField(_("queue"), max_length=16, default="cpu")
    # {"style_preset": slug | None, "strength", "brush", "preserve_colors", "max_side", "mode"}
    params = models.JSONField(_("parameters"), default=dict)
    photo = models.FileField(_("photo"), upload_to=photo_upload_to, max_length=255)
    style_image = models.FileField(_("style image"), upload_to=style_upload_to, max_length=255, blank=True)
    preview = models.FileField(_("preview"), upload_to=preview_upload_to, max_length=255, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)  # a retry joins the back of the queue
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)  # "hostname:pid" of the claim
    device = models.CharField(_("device"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "queue", "queued_at"], name="job_queue_order")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="job_progress_0_to_1"),
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="job_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("generator:job", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.CANCELLED)

    @property
    def can_cancel(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING) and not self.cancel_requested

    @property
    def percent(self) -> int:
        return round(self.progress * 100)

    @property
    def style_label(self) -> str:
        return self.params.get("style_preset") or ""


class Artwork(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artworks",
                              verbose_name=_("owner"))
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="artwork", verbose_name=_("job"))
    image = models.FileField(_("image"), upload_to=artwork_upload_to, max_length=255)  # lossless PNG
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_upload_to, max_length=255)  # WebP
    title = models.CharField(_("title"), max_length=120, blank=True)
    params = models.JSONField(_("parameters"), default=dict)
    device = models.CharField(_("device"), max_length=16)
    seconds = models.FloatField(_("seconds"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices,
                                  default=Visibility.PRIVATE)
    # Last in the class body: from here on the name ``models`` is this field, not django.db.models.
    models = models.ManyToManyField(ModelVersion, related_name="artworks", verbose_name=_("model versions"))

    class Meta:
        verbose_name = _("artwork")
        verbose_name_plural = _("artworks")
        ordering = ["-created"]
        indexes = [models.Index(fields=["owner", "-created"], name="artwork_gallery_order")]
        constraints = [
            models.CheckConstraint(condition=Q(seconds__gte=0), name="artwork_seconds_not_negative"),
            models.CheckConstraint(condition=Q(width__gt=0) & Q(height__gt=0), name="artwork_has_size"),
            models.CheckConstraint(condition=Q(visibility__in=Visibility.values),
                                   name="artwork_visibility_valid"),
        ]

    def __str__(self) -> str:
        return self.title or str(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("generator:artwork", args=[self.pk])
