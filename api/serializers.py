"""What the API answers, read from the same rows the pages show (no business logic here: writes go through the
apps' services)."""

from __future__ import annotations

import uuid

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assistant.models import Idea
from gallery.models import Board, Moderation, ShareLink, Tag
from generator import provenance, selectors
from generator.ml.kinds import KINDS, MAX_STYLES
from generator.ml.options import BRUSH, STRENGTH, STUDIO_SIDES
from generator.models import TRAINABLE_KIND_CHOICES, Artwork, Job, ModelComparison, ModelVersion, Preset, TrainingRun
from generator.services.training_runs import LOSS_COLUMNS, run_losses


class _OnlyText:
    """Text, and only text: DRF's CharField takes a JSON number as its digits ({"name": 9} becomes "9"), which
    hides a caller's mistake (a form or multipart field is always text). And the length the schema states is the
    length of what was sent: DRF would measure it after trimming the spaces around it."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class Text(_OnlyText, serializers.CharField):
    pass


class Slug(_OnlyText, serializers.SlugField):
    pass


NULLABLE_URI = serializers.URLField(allow_null=True)  # a link that is null until there is something to link to


# Stand-ins for an id in a reversed URL, each of a shape its patterns accept and no URL otherwise holds
_SLOTS = {int: "987654321098765", uuid.UUID: "00000000-0000-4000-8000-0000f00df00d"}


def _link(serializer: serializers.Field, name: str, arg) -> str:
    """The absolute URL of `name` for `arg`. A list of 48 artworks needs 150 of them: each pattern is reversed
    once a request, with a stand-in for the id, and the id put in its place (reverse() is ~20 µs a call)."""
    context = serializer.context
    kind = int if isinstance(arg, int) else uuid.UUID if isinstance(arg, uuid.UUID) else None
    if kind is None:  # a slug: as it comes
        return context["request"].build_absolute_uri(reverse(name, args=[arg]))
    templates = context.setdefault("_url_templates", {})  # the list's children share their parent's context
    if name not in templates:
        templates[name] = context["request"].build_absolute_uri(reverse(name, args=[_SLOTS[kind]]))
    return templates[name].replace(_SLOTS[kind], str(arg))


class PresetSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = Preset
        fields = ["slug", "name", "kind", "tags", "description", "credit", "thumbnail"]

    def get_name(self, preset: Preset) -> str:
        return gettext(preset.name)  # the shipped names are translated, as on the pages

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, preset: Preset) -> str:
        return _link(self, "generator:preset-thumbnail", preset.slug)


# what ArtworkSerializer reads of a row (a list's rows need no more: the captions and labels stay in the database)
ARTWORK_FIELDS = ("id", "owner_id", "title", "created", "visibility", "width", "height", "params")


class ArtworkSerializer(serializers.ModelSerializer):
    # declared, not derived: a model field's validators carry the database's integer range, and the schema
    # must not change with the database it was made on
    width = serializers.IntegerField(read_only=True)
    height = serializers.IntegerField(read_only=True)
    styles = serializers.ListField(child=serializers.CharField(), source="options.styles", read_only=True)
    mode = serializers.CharField(source="options.mode", read_only=True)
    tags = serializers.SerializerMethodField()
    starred = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = Artwork
        fields = [
            "id", "title", "created", "visibility", "width", "height", "styles", "mode", "tags", "starred",
            "image", "thumbnail", "page",
        ]  # fmt: skip

    def get_tags(self, artwork: Artwork) -> list[str]:
        """The artist's own words: to anybody else (a public picture), none."""
        if artwork.owner_id != self.context["request"].user.pk:
            return []
        return [tag.name for tag in artwork.tags.all()]

    def get_starred(self, artwork: Artwork) -> bool:
        return bool(getattr(artwork, "is_starred", False))

    @extend_schema_field(OpenApiTypes.URI)
    def get_image(self, artwork: Artwork) -> str:
        return _link(self, "api:artwork-image", artwork.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, artwork: Artwork) -> str:
        return _link(self, "api:artwork-thumbnail", artwork.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_page(self, artwork: Artwork) -> str:
        return _link(self, "gallery:artwork", artwork.pk)


class ArtworkDetailSerializer(ArtworkSerializer):
    boards = serializers.SerializerMethodField()
    provenance = serializers.SerializerMethodField()

    class Meta(ArtworkSerializer.Meta):
        fields = [*ArtworkSerializer.Meta.fields, "boards", "provenance"]

    def get_boards(self, artwork: Artwork) -> list[int]:
        """The ids of the caller's boards it is on (another artist's boards are theirs to know)."""
        user = self.context["request"].user
        return sorted(artwork.board_items.filter(board__owner=user).values_list("board_id", flat=True))

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_provenance(self, artwork: Artwork) -> dict:
        """The parameters and model versions it was painted with: what its downloaded PNG carries."""
        return provenance.provenance(artwork)


class JobSerializer(serializers.ModelSerializer):
    options = serializers.JSONField(source="params", read_only=True)
    position = serializers.SerializerMethodField()
    artwork = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id", "status", "progress", "position", "queue", "options", "error", "created", "started", "finished",
            "device", "artwork", "page",
        ]  # fmt: skip
        read_only_fields = fields

    def get_position(self, job: Job) -> int | None:
        """How many jobs start before this one (the scheduler's fair order); null unless it is queued."""
        return selectors.queue_position(job=job)

    @extend_schema_field(NULLABLE_URI)
    def get_artwork(self, job: Job) -> str | None:
        """The finished picture's address in the API; null until the job has succeeded."""
        artwork = getattr(job, "artwork", None)
        return None if artwork is None else _link(self, "api:artwork-detail", artwork.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_page(self, job: Job) -> str:
        return _link(self, "generator:job", job.pk)


class JobCreateSerializer(serializers.Serializer):
    """The studio's form, field for field (generator.forms.StudioForm checks it, as it does the page's)."""

    photo = serializers.FileField(required=False, help_text="The photo to paint (or `from_artwork`).")
    from_artwork = serializers.UUIDField(required=False, help_text="Paint again the photo of one of your artworks.")
    style_source = serializers.ChoiceField(choices=["preset", "upload", "blend"], default="preset")
    style_preset = Text(required=False, help_text="A preset's slug (GET /api/v1/presets/).")
    style_image = serializers.FileField(required=False, help_text="A painting, when style_source is upload.")
    blend_1 = Text(required=False)
    blend_1_weight = serializers.FloatField(required=False, min_value=0, max_value=1)
    blend_2 = Text(required=False)
    blend_2_weight = serializers.FloatField(required=False, min_value=0, max_value=1)
    blend_3 = Text(required=False)
    blend_3_weight = serializers.FloatField(required=False, min_value=0, max_value=1)
    strength = serializers.FloatField(required=False, min_value=STRENGTH.low, max_value=STRENGTH.high)
    brush = serializers.FloatField(required=False, min_value=BRUSH.low, max_value=BRUSH.high)
    preserve_colors = serializers.BooleanField(required=False)
    max_side = serializers.ChoiceField(choices=STUDIO_SIDES, required=False, help_text="The longer side, in pixels")
    mode = serializers.ChoiceField(choices=["fast", "quality"], default="fast")


class ArtworkUpdateSerializer(serializers.Serializer):
    """What an artist changes on a picture; each field optional, tags and boards the whole new set."""

    title = Text(required=False, allow_blank=True, max_length=120)
    tags = serializers.ListField(child=Text(max_length=40), required=False)
    starred = serializers.BooleanField(required=False)
    boards = serializers.ListField(child=serializers.IntegerField(), required=False, help_text="Board ids")
    public = serializers.BooleanField(
        required=False, help_text="Ask for it to be public: it is once the nudity check passes (or an admin agrees)."
    )


class BoardSerializer(serializers.ModelSerializer):
    artworks = serializers.IntegerField(source="n_artworks", read_only=True, help_text="How many pictures")
    ideas = serializers.IntegerField(source="n_ideas", read_only=True, help_text="How many saved ideas")
    cover = serializers.UUIDField(source="cover_id", read_only=True, allow_null=True)
    page = serializers.SerializerMethodField()

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.CharField: Text}

    class Meta:
        model = Board
        fields = ["id", "name", "position", "public", "cover", "created", "artworks", "ideas", "page"]
        read_only_fields = ["id", "position", "public", "created"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_page(self, board: Board) -> str:
        return _link(self, "gallery:board", board.pk)


class BoardUpdateSerializer(serializers.Serializer):
    name = Text(required=False, max_length=80)
    public = serializers.BooleanField(required=False)
    cover = serializers.UUIDField(required=False, allow_null=True, help_text="An artwork on it; null: the newest")
    move = serializers.IntegerField(required=False, help_text="Places to move it in your order (negative: forward)")


class TagSerializer(serializers.ModelSerializer):
    artworks = serializers.IntegerField(source="n", read_only=True, help_text="How many pictures carry it")

    class Meta:
        model = Tag
        fields = ["id", "name", "artworks"]


class ShareLinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    live = serializers.SerializerMethodField()

    class Meta:
        model = ShareLink
        fields = ["id", "board", "url", "allow_downloads", "expires", "revoked", "created", "live"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, link: ShareLink) -> str:
        return self.context["request"].build_absolute_uri(link.get_absolute_url())

    def get_live(self, link: ShareLink) -> bool:
        return link.is_live(timezone.now())


class ShareLinkCreateSerializer(serializers.Serializer):
    board = serializers.IntegerField()
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650, help_text="Omitted: no end")
    allow_downloads = serializers.BooleanField(default=False)


class MatchSerializer(ArtworkSerializer):
    """An artwork the search by meaning found, with why: its subject or its style, and how close."""

    why = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()

    class Meta(ArtworkSerializer.Meta):
        fields = [*ArtworkSerializer.Meta.fields, "why", "score"]

    @extend_schema_field(serializers.ChoiceField(choices=["subject", "style"]))
    def get_why(self, artwork: Artwork) -> str:
        return self.context["matches"][str(artwork.pk)].why

    def get_score(self, artwork: Artwork) -> float:
        return self.context["matches"][str(artwork.pk)].score


class MeaningSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["waiting", "done", "unavailable"])
    message = Text(allow_blank=True)
    results = MatchSerializer(many=True)


class IdeaSerializer(serializers.ModelSerializer):
    picture = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    class Meta:
        model = Idea
        fields = [
            "id", "text", "picture", "status", "error", "analysis", "writing", "draft", "saved", "created",
            "updated", "page",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URI)
    def get_picture(self, idea: Idea) -> str | None:
        return _link(self, "api:idea-picture", idea.pk) if idea.picture else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_page(self, idea: Idea) -> str:
        return _link(self, "assistant:idea", idea.pk)


class IdeaCreateSerializer(serializers.Serializer):
    text = Text(required=False, allow_blank=True, trim_whitespace=False)
    picture = serializers.FileField(required=False)


class IdeaUpdateSerializer(serializers.Serializer):
    saved = serializers.BooleanField(required=False, help_text="Keep it in your saved ideas, or not")


# -- the admin's endpoints -----------------------------------------------------------------------------------


class ModelVersionSerializer(serializers.ModelSerializer):
    slot = Text(read_only=True, help_text="Single-style networks: the style; other kinds: empty")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    size = serializers.IntegerField(read_only=True, help_text="Bytes")
    sample = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id", "kind", "slot", "label", "status", "reason", "is_active", "activated_at", "sha256", "size",
            "source", "licence", "credit", "notes", "metrics", "sample", "created_by", "created",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URI)
    def get_sample(self, version: ModelVersion) -> str | None:
        """The picture its validation painted (ready versions)."""
        return _link(self, "api:model-sample", version.pk) if version.sample else None


class ModelVersionUploadSerializer(serializers.Serializer):
    """The admin's upload form, field for field (generator.services.model_versions checks it, as it does there)."""

    kind = serializers.ChoiceField(
        choices=[(kind, label) for kind, label in ModelVersion.Kind.choices if KINDS[kind].uploadable],
        help_text="The kinds an admin may upload (the others come from the shipped packages or from training)",
    )
    slot = Slug(  # a slug, as the registry's field: the schema says its pattern
        required=False, allow_blank=True, default="", max_length=64, help_text="Single-style networks: the style"
    )
    label = Text(required=False, allow_blank=True, default="", max_length=120)
    weights_file = serializers.FileField(help_text="A .safetensors, .pt or .pth weights file")
    licence = Text(required=False, allow_blank=True, default="", max_length=120)
    credit = Text(required=False, allow_blank=True, default="", max_length=300)
    notes = Text(required=False, allow_blank=True, default="")


class ActivateSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Activate it even though it lost to the active version on the evaluation sheet (otherwise a 409)",
    )


class CompareSerializer(serializers.Serializer):
    side = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=64, max_value=4096,
        help_text="The sheet's long side in pixels (default: the studio's setting, 1024)",
    )  # fmt: skip


class ModelComparisonSerializer(serializers.ModelSerializer):
    sheet = serializers.SerializerMethodField()
    results = serializers.JSONField(
        read_only=True,
        help_text="Means per measure for the candidate and the version it was compared with, the paired changes "
        "with their 95 % intervals, and per style figures (generator/ml/compare.py)",
    )

    class Meta:
        model = ModelComparison
        fields = [
            "id", "version", "against", "status", "progress", "side", "verdict", "results", "sheet", "error",
            "created", "finished",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URI)
    def get_sheet(self, comparison: ModelComparison) -> str | None:
        """The contact sheet (WebP): photo, active and candidate pictures, and 1:1 crops; when done."""
        return _link(self, "api:comparison-sheet", comparison.pk) if comparison.sheet else None


class TrainingRunSerializer(serializers.ModelSerializer):
    slot = Text(read_only=True, help_text="Single-style networks: the style; a new style: its preset; otherwise empty")
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    options = serializers.JSONField(
        read_only=True, help_text="The settings it trains with (those asked for, until a worker fills in the rest)"
    )
    losses = serializers.SerializerMethodField()
    samples = serializers.SerializerMethodField()
    comparison = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "name", "kind", "style_index", "new_style", "slot", "start_from", "credit", "shipped_photos",
            "options", "status", "step", "steps", "steps_per_second", "seconds", "device", "attempts",
            "cancel_requested", "losses", "samples", "version", "comparison", "error", "requested_by", "created",
            "started", "finished",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "description": "The loss curves as columns, each point the mean of its steps (at most about 400)",
            "properties": {k: {"type": "array", "items": {"type": "number"}} for k in LOSS_COLUMNS},
        }
    )
    def get_losses(self, run: TrainingRun) -> dict:
        return run_losses(run)

    @extend_schema_field(
        {
            "type": "array",
            "description": "The pictures of the two fixed photos at each sample's step, step 0 first",
            "items": {
                "type": "object",
                "properties": {
                    "step": {"type": "integer"},
                    "pictures": {"type": "array", "items": {"type": "string", "format": "uri"}},
                },
            },
        }
    )
    def get_samples(self, run: TrainingRun) -> list[dict]:
        url = self.context["request"].build_absolute_uri(reverse("api:training-run-sample", args=[run.pk]))
        return [
            {"step": s["step"], "pictures": [f"{url}?step={s['step']}&photo={i}" for i in range(len(s["pictures"]))]}
            for s in run.samples
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_comparison(self, run: TrainingRun) -> int | None:
        """The comparison of the version it made with the active one (its own endpoint has the figures)."""
        if run.version is None:
            return None
        return run.version.comparisons.order_by("-created").values_list("pk", flat=True).first()


class TrainingRequestSerializer(serializers.Serializer):
    """The admin's "Train a style" form, field for field (generator.services.training_runs checks it all)."""

    name = Text(max_length=120)
    kind = serializers.ChoiceField(
        choices=TRAINABLE_KIND_CHOICES,
        help_text="multistyle26: fine-tune one of its styles (or, with new_style, add one); transformer_net: a "
        "single-style network",
    )
    style_index = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=MAX_STYLES - 1,
        help_text="multistyle26: which style (0-25 shipped, and any learned since)",
    )
    new_style = serializers.BooleanField(
        required=False,
        default=False,
        help_text="multistyle26: add a new style to the network, learned from the painting (no style_index; slot "
        "names its preset, which shows once the version made is activated)",
    )
    slot = Slug(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="transformer_net: the style; a new style: its preset's short name",
    )
    start_from = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="A ready version to start from (multistyle26: the active one if left out; transformer_net: "
        "from scratch if left out)",
    )
    painting = serializers.FileField(required=False, allow_null=True, default=None, help_text="The painting")
    painting_preset = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Preset.objects.filter(kind="painting"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Or a painting preset's painting",
    )
    credit = Text(required=False, allow_blank=True, default="", max_length=300)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="Content photos of your own"
    )
    shipped_photos = serializers.BooleanField(required=False, default=True, help_text="And the shipped photos")
    options = serializers.JSONField(
        required=False,
        default=dict,
        help_text="Settings to change (steps, size, batch, lr, style_weight, content_weight, tv_weight, ...); "
        "the others are the defaults for the worker's device",
    )


class RollbackSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ModelVersion.Kind.choices)
    slot = Slug(required=False, allow_blank=True, default="", max_length=64)


class ModerationSerializer(serializers.ModelSerializer):
    artwork = serializers.UUIDField(source="artwork_id", read_only=True)
    title = serializers.CharField(source="artwork.title", read_only=True)
    owner = serializers.CharField(source="artwork.owner.username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    score = serializers.FloatField(read_only=True, allow_null=True, help_text="open_nsfw's probability, 0 to 1")
    threshold = serializers.FloatField(read_only=True, allow_null=True)
    picture = serializers.SerializerMethodField()

    class Meta:
        model = Moderation
        fields = [
            "artwork", "title", "owner", "status", "score", "threshold", "model_version", "reason", "wants_public",
            "requested", "checked", "decision", "decided_by", "decided", "picture",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_picture(self, moderation: Moderation) -> str:
        return _link(self, "api:moderation-picture", moderation.artwork_id)


class ActiveTaskSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    args = serializers.ListField(child=serializers.JSONField())
    started = serializers.DateTimeField(allow_null=True)
    worker_pid = serializers.IntegerField(allow_null=True)


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField()
    queues = serializers.ListField(child=serializers.CharField())
    pool = serializers.CharField()
    concurrency = serializers.IntegerField(allow_null=True)
    processes = serializers.ListField(child=serializers.IntegerField())
    uptime = serializers.FloatField(allow_null=True, help_text="Seconds")
    device = serializers.CharField()
    active = ActiveTaskSerializer(many=True)
    tasks_run = serializers.IntegerField()


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    waiting = serializers.IntegerField(help_text="Messages no worker has taken yet")


class WorkersSerializer(serializers.Serializer):
    workers = WorkerSerializer(many=True)
    queues = QueueSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class ErrorsSerializer(serializers.Serializer):
    """Every error the API answers has this shape; the messages are the sentences the pages show."""

    errors = ErrorSerializer(many=True)


class WordsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Idea.Status.choices)
    text = serializers.CharField(allow_blank=True, help_text="The words written since `after`")
    next = serializers.IntegerField(help_text="Ask again with `after` set to this")
    finished = serializers.BooleanField(help_text="Nothing more will be written: the answer is done or failed")
    writing = serializers.DictField(allow_null=True, help_text="The finished answer, once done")
    error = serializers.CharField(allow_blank=True)
