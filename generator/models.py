"""The studio's data: a Job (one stylize request), the Artwork it makes, the model versions behind it.

Files live under MEDIA_ROOT in per-user folders with random names and are never served publicly:
views hand them out after checking the owner. Writes go through ``generator.services``.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Concat, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from generator.ml.kinds import KINDS, MAX_STYLES
from generator.ml.options import JobOptions
from generator.queues import Queue


def _random_name(folder: str, filename: str) -> str:
    """A random name in `folder`; only the (lower-cased) suffix of the upload is kept."""
    return f"{folder}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def _user_path(instance: Job | Artwork, folder: str, filename: str) -> str:
    """A random name in the owner's own folder."""
    return _random_name(f"users/{instance.owner_id}/{folder}", filename)


def photo_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "photos", filename)


def style_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "styles", filename)


def preview_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "previews", filename)


def job_thumbnail_upload_to(instance: Job, filename: str) -> str:
    return _user_path(instance, "thumbnails", filename)


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


# The kinds come from the engine's one table (generator/ml/kinds.py, which imports no torch).
ModelKind = models.TextChoices(  # type: ignore[call-overload]  # django-stubs knows only the class syntax
    "ModelKind", {k.value: (k.value, _(k.label)) for k in KINDS.values()}
)


class ModelSource(models.TextChoices):
    PACKAGE = "package", _("Package import")
    UPLOAD = "upload", _("Upload")
    TRAINING = "training", _("Training run")


class ModelStatus(models.TextChoices):
    VALIDATING = "validating", _("Validating")
    READY = "ready", _("Ready")
    REJECTED = "rejected", _("Rejected")


def weights_upload_to(instance: ModelVersion, filename: str) -> str:
    return _random_name(f"models/{instance.kind}", filename)


def model_sample_upload_to(instance: ModelVersion, filename: str) -> str:
    return _random_name(f"models/{instance.kind}/samples", filename)


class ModelVersion(models.Model):
    """One set of weights for one kind of network: the registry's unit of upload, activation and rollback.

    The active version of each (kind, slot) is the one that paints. A slot tells apart the networks
    of a kind that has many side by side (each single-style network is its own style); other kinds
    have the one slot "". Every artwork keeps the versions that made it.
    """

    Kind = ModelKind
    Source = ModelSource
    Status = ModelStatus

    kind = models.CharField(_("kind"), max_length=32, choices=ModelKind.choices)
    slot = models.SlugField(
        _("slot"),
        max_length=64,
        blank=True,
        help_text=_("Single-style networks: the style's short name. Other kinds: blank."),
    )
    label = models.CharField(_("label"), max_length=120)
    weights = models.FileField(_("weights file"), upload_to=weights_upload_to, max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=ModelSource.choices, default=ModelSource.UPLOAD)
    licence = models.CharField(_("licence"), max_length=120, blank=True)
    credit = models.CharField(_("credit"), max_length=300, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    styles = models.PositiveSmallIntegerField(
        _("styles"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("26-style network: how many styles its weights hold (the shipped 26 and any learned since)."),
    )
    # 26-style network: which preset each style learned since the shipped 26 belongs to, {"26": "great-wave"}. A
    # row's number alone does not say: two versions trained from one may each add a different style as row 26.
    learned = models.JSONField(_("learned styles"), default=dict, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=ModelStatus.choices, default=ModelStatus.VALIDATING)
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why validation rejected it."))
    sample = models.FileField(_("sample picture"), upload_to=model_sample_upload_to, max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("last activated"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["kind", "slot", "-created"]
        constraints = [
            # The database, not the code, guarantees one active version per kind (and slot), even
            # when two admins activate at once. A partial unique index: SQLite and PostgreSQL both have them.
            models.UniqueConstraint(
                fields=["kind", "slot"], condition=Q(is_active=True), name="one_active_version_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status=ModelStatus.READY), name="only_ready_versions_are_active"
            ),
            models.CheckConstraint(condition=Q(kind__in=list(KINDS)), name="model_version_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ModelStatus.values), name="model_version_status_valid"),
            models.CheckConstraint(condition=Q(source__in=ModelSource.values), name="model_version_source_valid"),
        ]
        indexes = [models.Index(fields=["kind", "slot", "is_active"], name="model_version_lookup")]

    def __str__(self) -> str:
        slot = f" “{self.slot}”" if self.slot else ""
        return f"{self.get_kind_display()}{slot}: {self.label} ({self.short_sha or self.get_status_display()})"

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]


class UsePurpose(models.TextChoices):
    PAINTING = "painting", _("Painting")
    READING = "reading", _("Reading an idea")
    WRITING = "writing", _("Writing for an idea")
    SUGGESTING = "suggesting", _("Suggesting for an artwork")


class UseOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ModelUse(models.Model):
    """One time a model version did its work (a painting, an idea read or written for, an artwork's
    suggestions): the version's history on the model dashboard. It points at nothing it made, so deleting an
    artwork, a job, an idea or an account leaves the model's history as it was."""

    Purpose = UsePurpose
    Outcome = UseOutcome

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="uses", verbose_name=_("version"))
    purpose = models.CharField(_("purpose"), max_length=16, choices=UsePurpose.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=UseOutcome.choices)
    started = models.DateTimeField(_("started"), default=timezone.now)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)  # start to finish; unknown for old jobs
    made_artwork = models.BooleanField(_("made an artwork"), default=False)

    class Meta:
        verbose_name = _("model use")
        verbose_name_plural = _("model uses")
        ordering = ["-started"]
        indexes = [models.Index(fields=["version", "-started"], name="model_use_history")]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=UsePurpose.values), name="model_use_purpose_valid"),
            models.CheckConstraint(condition=Q(outcome__in=UseOutcome.values), name="model_use_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.version_id} {self.purpose} {self.outcome}"


def comparison_sheet_upload_to(instance: ModelComparison, filename: str) -> str:
    return _random_name(f"models/{instance.version.kind}/comparisons", filename)


class ComparisonStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ComparisonVerdict(models.TextChoices):
    BETTER = "better", _("Better")
    WORSE = "worse", _("Worse")
    MIXED = "mixed", _("Better in one way, worse in another")
    SAME = "same", _("No clear difference")
    ALONE = "", _("Nothing to compare with")


class ModelComparison(models.Model):
    """A version painted beside another (the one active when it was asked for) on the evaluation sheet, and
    judged by measures training never optimises (generator/ml/compare.py). The newest finished one is the
    version's standing: it shows on the dashboard, and activating a version that lost asks to confirm."""

    Status = ComparisonStatus
    Verdict = ComparisonVerdict

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="comparisons", verbose_name=_("version")
    )
    against = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compared with"),
        help_text=_("The version active when the comparison was asked for; blank when there was none."),
    )
    status = models.CharField(_("status"), max_length=16, choices=ComparisonStatus.choices, default="queued")
    side = models.PositiveIntegerField(_("long side (px)"))
    progress = models.FloatField(_("progress"), default=0.0)
    verdict = models.CharField(_("verdict"), max_length=16, choices=ComparisonVerdict.choices, blank=True)
    results = models.JSONField(_("results"), default=dict, blank=True)
    sheet = models.FileField(_("contact sheet"), upload_to=comparison_sheet_upload_to, max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("model comparison")
        verbose_name_plural = _("model comparisons")
        ordering = ["-created"]
        indexes = [models.Index(fields=["version", "status", "-created"], name="model_comparison_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ComparisonStatus.values), name="model_comparison_status"),
            models.CheckConstraint(
                condition=Q(verdict__in=ComparisonVerdict.values), name="model_comparison_verdict_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} vs {self.against_id or '-'}: {self.get_status_display()}"


def training_upload_to(instance: TrainingRun, filename: str) -> str:
    return _random_name("training", filename)


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Training")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


TRAINABLE_KINDS = ("multistyle26", "transformer_net")
TRAINABLE_KIND_CHOICES = [(k, ModelKind(k).label) for k in TRAINABLE_KINDS]


class TrainingRun(models.Model):
    """A style trained from a painting by a worker (generator/ml/training.py says how): one style of the 26-style
    network fine-tuned, or a single-style network, from scratch or from a ready version. It runs on the `gpu`
    queue in slices (it gives its worker to artists' jobs that wait), checkpoints so that another worker resumes
    it, and ends in a new inactive version compared with the active one (generator/services/training_runs.py)."""

    Status = TrainingStatus
    FINISHED = (TrainingStatus.DONE, TrainingStatus.FAILED, TrainingStatus.CANCELLED)

    name = models.CharField(_("name"), max_length=120, help_text=_("The new version's label (and a new style's name)."))
    kind = models.CharField(_("network"), max_length=32, choices=TRAINABLE_KIND_CHOICES)
    style_index = models.PositiveSmallIntegerField(
        _("style"), null=True, blank=True, help_text=_("26-style network: the number of the style that learns.")
    )
    new_style = models.BooleanField(
        _("a new style"),
        default=False,
        help_text=_("26-style network: the style is added to the network (its number is the next free one)."),
    )
    slot = models.SlugField(
        _("short name"),
        max_length=64,
        blank=True,
        help_text=_("A single-style network's style, or a new style's preset: its short name."),
    )
    start_from = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trained from"),
        help_text=_("The version whose weights it starts from; blank: a single-style network from scratch."),
    )
    painting = models.FileField(
        _("painting"),
        upload_to=training_upload_to,
        max_length=255,
        blank=True,
        help_text=_("Blank: the style's own pictures (a shipped style fine-tuned to keep more of the photo)."),
    )
    credit = models.CharField(_("credit"), max_length=300, blank=True)
    photos = models.JSONField(_("content photos"), default=list, blank=True)  # media names of the admin's photos
    shipped_photos = models.BooleanField(_("the shipped training photos"), default=True)
    options = models.JSONField(_("settings"), default=dict, blank=True)  # TrainSettings; the defaults fill in at start
    status = models.CharField(_("status"), max_length=16, choices=TrainingStatus.choices, default="queued")
    step = models.PositiveIntegerField(_("step"), default=0)
    steps = models.PositiveIntegerField(_("steps"), null=True, blank=True)  # known once a worker has its settings
    seconds = models.FloatField(_("seconds of training"), default=0.0)
    steps_per_second = models.FloatField(_("steps per second"), null=True, blank=True)
    losses = models.JSONField(_("losses"), default=list, blank=True)  # [[step, style, content, tv, total], ...]
    samples = models.JSONField(_("samples"), default=list, blank=True)  # [{"step": n, "pictures": [name, ...]}]
    checkpoint = models.CharField(_("checkpoint"), max_length=255, blank=True)  # a media name
    device = models.CharField(_("device"), max_length=16, blank=True)
    worker = models.CharField(_("worker"), max_length=255, blank=True)
    heartbeat = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("starts"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    version = models.ForeignKey(
        ModelVersion,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_runs",
        verbose_name=_("version made"),
    )
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")
        ordering = ["-created"]
        indexes = [models.Index(fields=["status"], name="training_run_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TrainingStatus.values), name="training_run_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=TRAINABLE_KINDS), name="training_run_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind="transformer_net", new_style=False)
                | Q(kind="multistyle26", style_index__isnull=False, style_index__lt=MAX_STYLES),
                name="training_run_style_given",
            ),
            models.CheckConstraint(
                condition=Q(kind="multistyle26", new_style=False) | ~Q(slot=""), name="training_run_slot_given"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class PresetKind(models.TextChoices):
    NETWORK = "network", _("26-style network")
    PAINTING = "painting", _("Painting")
    SINGLE_STYLE = "single_style", _("Single-style network")


def preset_upload_to(instance: Preset, filename: str) -> str:
    return _random_name("presets", filename)


class Preset(models.Model):
    """A style in the studio's grid: one of the 26 network styles, a painting, or a single-style network.

    The shipped ones are created by `manage.py models import`; admins add paintings, and every ready
    single-style network becomes one. Hidden presets stay for the jobs and artworks that used them.
    """

    Kind = PresetKind

    slug = models.SlugField(_("short name"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=PresetKind.choices, default=PresetKind.PAINTING)
    network_index = models.PositiveSmallIntegerField(_("network style number"), null=True, blank=True)
    painting = models.FileField(_("painting"), upload_to=preset_upload_to, max_length=255, blank=True)
    thumbnail = models.FileField(_("thumbnail"), upload_to=preset_upload_to, max_length=255, blank=True)
    credit = models.CharField(_("credit"), max_length=300, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    description = models.TextField(
        _("description"),
        blank=True,
        help_text=_(
            "What the style looks like and what it suits; the assistant matches "
            "ideas against it and shows it as the reason."
        ),
    )
    prompts = models.JSONField(
        _("example ideas"), default=list, blank=True, help_text=_("A few ideas this style paints well, one per line.")
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower comes first."))
    keeps_photo = models.FloatField(
        _("keeps the photo"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "How much of a photo's structure this style keeps, from 0 (none) to 1 (all), measured by a worker on "
            "the evaluation sheet with the active networks. The assistant does not suggest a style that keeps too "
            "little for a picture."
        ),
    )
    keeps_photo_with = models.CharField(max_length=200, blank=True, editable=False)  # the networks that measured it
    hidden = models.BooleanField(_("hidden"), default=False)
    shipped = models.BooleanField(_("shipped with the studio"), default=False, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("preset")
        verbose_name_plural = _("presets")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PresetKind.values), name="preset_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=PresetKind.NETWORK) | Q(network_index__isnull=False, network_index__lt=MAX_STYLES),
                name="network_preset_has_index",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def model_slot(self) -> str:
        """The single-style network's slot in the model registry: the preset's slug."""
        return self.slug


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
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("owner")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)
    queue = models.CharField(_("queue"), max_length=16, choices=Queue.choices, default=Queue.CPU)
    params = models.JSONField(_("parameters"), default=dict)  # JobOptions.to_params(); read with .options
    photo = models.FileField(_("photo"), upload_to=photo_upload_to, max_length=255)
    style_image = models.FileField(_("style image"), upload_to=style_upload_to, max_length=255, blank=True)
    preview = models.FileField(_("preview"), upload_to=preview_upload_to, max_length=255, blank=True)
    # The photo, small (WebP): the history's card for a job that made no picture
    thumbnail = models.FileField(_("thumbnail"), upload_to=job_thumbnail_upload_to, max_length=255, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)  # a retry joins the back of the queue
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)  # "hostname:pid" of the claim
    heartbeat = models.DateTimeField(_("last sign of life"), null=True, blank=True)  # stamped while it runs
    stored_bytes = models.PositiveBigIntegerField(_("bytes stored"), default=0)  # the uploads, for the quota
    device = models.CharField(_("device"), max_length=16, blank=True)
    # The versions the worker was told to paint with, recorded when it claims the job.
    model_versions = models.ManyToManyField(
        ModelVersion, related_name="jobs", blank=True, verbose_name=_("model versions")
    )

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["status", "queue", "queued_at"], name="job_queue_order"),
            models.Index(fields=["owner", "started"], name="job_owner_last_started"),
        ]  # the fair order
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="job_progress_0_to_1"),
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="job_status_valid"),
            models.CheckConstraint(condition=Q(queue__in=Queue.values), name="job_queue_valid"),
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
    def options(self) -> JobOptions:
        return JobOptions.from_params(self.params)

    @property
    def style_label(self) -> str:
        return self.options.style_preset or ""

    @property
    def seconds(self) -> float | None:
        """How long it ran (so far, while it runs); None before it starts."""
        if self.started is None:
            return None
        return ((self.finished or timezone.now()) - self.started).total_seconds()

    def files(self) -> list:
        """Every file the job keeps (uploads, preview, thumbnail), for deleting them with it."""
        return [f for f in (self.photo, self.style_image, self.preview, self.thumbnail) if f]


TEXT: models.TextField = models.TextField()  # the output type of the expressions below


def styles_text(styles: tuple[str, ...]) -> str:
    """Artwork.styles: the slugs framed by spaces, so that `styles__contains=" udnie "` finds one whole slug."""
    return f" {' '.join(styles)} " if styles else ""


class Artwork(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artworks", verbose_name=_("owner")
    )
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="artwork", verbose_name=_("job"))
    image = models.FileField(_("image"), upload_to=artwork_upload_to, max_length=255)  # lossless PNG
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_upload_to, max_length=255)  # WebP
    title = models.CharField(_("title"), max_length=120, blank=True)
    # JobOptions.styles framed by spaces (" shipwreck udnie ", "" for the artist's own painting): what the
    # gallery's style filter and search read, a short text column instead of the JSON parameters of every row.
    styles = models.CharField(_("styles"), max_length=400, blank=True, default="", editable=False)
    # What the gallery's word search reads, lower-cased in one column the database keeps up to date: the title and
    # the assistant's caption, tags and labels (the lists as JSON text: a search looks for words in them).
    words = models.GeneratedField(
        expression=Lower(
            Concat(
                "title",
                *(
                    part
                    for key in ("caption", "tags", "labels")
                    for part in (Value(" | "), Coalesce(KT(f"suggestions__{key}"), Value(""), output_field=TEXT))
                ),
                output_field=TEXT,
            )
        ),
        output_field=TEXT,
        db_persist=True,
    )
    # The creative assistant's suggestions for it: {"titles": [...], "tags": [...], "versions": [ids]}
    suggestions = models.JSONField(_("suggestions"), default=dict, blank=True)
    params = models.JSONField(_("parameters"), default=dict)  # its job's, as it was painted; read with .options
    device = models.CharField(_("device"), max_length=16)
    seconds = models.FloatField(_("seconds"))
    stored_bytes = models.PositiveBigIntegerField(_("bytes stored"), default=0)  # picture and thumbnail
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    model_versions = models.ManyToManyField(ModelVersion, related_name="artworks", verbose_name=_("model versions"))

    class Meta:
        verbose_name = _("artwork")
        verbose_name_plural = _("artworks")
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["owner", "-created"], name="artwork_gallery_order"),
            # the style filter counts an artist's pictures from the index alone (SQLite: 4 ms -> 0.4 ms at 5,000)
            models.Index(fields=["owner", "styles"], name="artwork_owner_styles"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seconds__gte=0), name="artwork_seconds_not_negative"),
            models.CheckConstraint(condition=Q(width__gt=0) & Q(height__gt=0), name="artwork_has_size"),
            models.CheckConstraint(condition=Q(visibility__in=Visibility.values), name="artwork_visibility_valid"),
        ]

    def __str__(self) -> str:
        return self.title or str(self.pk)

    def files(self) -> list:
        """The picture and its thumbnail."""
        return [f for f in (self.image, self.thumbnail) if f]

    # get_absolute_url: the gallery's page (settings.ABSOLUTE_URL_OVERRIDES)

    @property
    def options(self) -> JobOptions:
        return JobOptions.from_params(self.params)


class Quota(models.Model):
    """What one artist may use, where an admin has set it; a blank number takes the studio's default
    (ARTSTUDIO_QUOTA_* settings). Read through ``selectors.usage_for``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="quota",
        verbose_name=_("artist"),
    )
    active_jobs = models.PositiveIntegerField(_("jobs queued or running at once"), null=True, blank=True)
    jobs_per_day = models.PositiveIntegerField(_("jobs per day"), null=True, blank=True)
    storage_mb = models.PositiveIntegerField(
        _("storage (MB)"), null=True, blank=True, help_text=_("Uploads and finished pictures together.")
    )

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")

    def __str__(self) -> str:
        return str(self.user)


class DailyUsage(models.Model):
    """Jobs started per artist and day. A count kept apart from the jobs, so that deleting pictures
    does not give back the day's work already done."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    jobs = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="one_usage_row_per_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.jobs}"
