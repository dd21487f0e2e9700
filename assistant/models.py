"""An Idea: what an artist asked the assistant, what it answered, and the model versions behind the answer."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assistant.ml.text import MAX_CHARS


def idea_picture_upload_to(instance: Idea, filename: str) -> str:
    from pathlib import PurePath

    return f"users/{instance.owner_id}/ideas/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class IdeaStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    ANALYSING = "analysing", _("Reading your idea")
    WRITING = "writing", _("Writing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Idea(models.Model):
    """One question to the assistant. Kept in the artist's list of ideas when saved."""

    Status = IdeaStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ideas")
    text = models.TextField(_("idea"), max_length=MAX_CHARS, blank=True)
    picture = models.FileField(_("picture"), upload_to=idea_picture_upload_to, max_length=255, blank=True)
    seen = models.JSONField(_("what the assistant saw"), default=dict, blank=True)  # a picture's words and colours
    analysis = models.JSONField(_("analysis"), default=dict, blank=True)  # movements, subjects, moods, styles
    writing = models.JSONField(_("writing"), default=dict, blank=True)  # expansions, titles, description
    draft = models.TextField(_("text so far"), blank=True)  # the finished items so far, as text (prompting.as_text)
    status = models.CharField(_("status"), max_length=16, choices=IdeaStatus.choices, default=IdeaStatus.QUEUED)
    error = models.TextField(_("error"), blank=True)
    saved = models.BooleanField(_("saved"), default=False)
    model_versions = models.ManyToManyField(
        "generator.ModelVersion", blank=True, related_name="ideas", verbose_name=_("model versions")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ["-created"]
        indexes = [models.Index(fields=["owner", "saved", "-created"])]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=IdeaStatus.values), name="idea_status_valid"),
            models.CheckConstraint(condition=~Q(text="") | ~Q(picture=""), name="idea_has_text_or_picture"),
        ]

    def __str__(self) -> str:
        return self.text[:60] or str(_("A picture"))

    def get_absolute_url(self) -> str:
        return reverse("assistant:idea", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (IdeaStatus.DONE, IdeaStatus.FAILED, IdeaStatus.CANCELLED)


class IndexStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    BUILDING = "building", _("Building")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class SimilarIndex(models.Model):
    """The index of Tate works that "Real artworks to look at" searches, for one sentence encoder: built by a
    worker in the background, a chunk at a time, the first time the studio starts and whenever another encoder
    is activated (assistant/indexing.py). Its progress shows in the admin."""

    Status = IndexStatus

    encoder = models.OneToOneField(
        "generator.ModelVersion", on_delete=models.CASCADE, related_name="similar_index", verbose_name=_("encoder")
    )
    status = models.CharField(_("status"), max_length=16, choices=IndexStatus.choices, default=IndexStatus.QUEUED)
    done = models.PositiveIntegerField(_("works indexed"), default=0)
    total = models.PositiveIntegerField(_("works in all"), default=0)
    error = models.TextField(_("error"), blank=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    updated = models.DateTimeField(_("last sign of progress"), auto_now=True)
    run = models.UUIDField(null=True, blank=True, editable=False)  # the build's current chain of tasks

    class Meta:
        verbose_name = _("similar-works index")
        verbose_name_plural = _("similar-works indexes")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=IndexStatus.values), name="similar_index_status_valid"),
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="similar_index_done_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.encoder}: {self.get_status_display()}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0
