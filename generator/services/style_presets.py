"""The studio's style presets: the shipped ones, an admin's painting added, and the slugs they go by."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from generator.models import ModelVersion, Preset, TrainingRun
from generator.queues import Queue
from generator.services.files import atomic_with_files, delete_files, save_file, webp
from generator.uploads import check_image

logger = logging.getLogger(__name__)


def refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def next_position() -> int:
    """After every preset: where a new one joins the grid."""
    return (Preset.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1


def shipped_presets(presets) -> None:
    """The built-in presets, created once; an admin's later renames, hiding, order and words are kept."""
    static = Path(settings.BASE_DIR) / "static" / "presets"
    texts = presets.preset_texts()
    for position, p in enumerate(presets.PRESETS.values()):
        words = texts.get(p.slug, {})
        # Presets from before the assistant had words get the shipped ones, once, where they have none
        Preset.objects.filter(slug=p.slug, description="").update(description=words.get("description", ""))
        Preset.objects.filter(slug=p.slug, prompts=[]).update(prompts=words.get("prompts", []))
        if Preset.objects.filter(slug=p.slug).exists():
            continue
        preset = Preset(
            slug=p.slug,
            name=p.name,
            tags=list(p.tags),
            credit=p.credit,
            position=position,
            shipped=True,
            kind=Preset.Kind.NETWORK if p.kind == "network" else Preset.Kind.PAINTING,
            network_index=p.index,
            description=words.get("description", ""),
            prompts=words.get("prompts", []),
        )
        with atomic_with_files() as written:
            if p.painting_path:
                save_file(preset.painting, p.painting_path.name, p.painting_path.read_bytes(), written)
            thumbnail = static / f"{p.slug}.webp"
            if thumbnail.exists():
                save_file(preset.thumbnail, thumbnail.name, thumbnail.read_bytes(), written)
            preset.save()


def check_preset_slug(slug: str) -> str:
    if not slug:
        raise refuse("slug", _("Give the preset a short name (letters, digits, -)."))
    if (
        Preset.objects.filter(slug=slug).exists()
        or ModelVersion.objects.filter(slot=slug).exists()
        or TrainingRun.objects.filter(slot=slug).exclude(status__in=TrainingRun.FINISHED).exists()  # a run's style
    ):
        raise refuse("slug", _("Another style already has the short name “%(slug)s”; choose another.") % {"slug": slug})
    return slug


def preset_add_painting(
    *,
    name: str,
    painting: UploadedFile,
    credit: str = "",
    slug: str = "",
    description: str = "",
    prompts: list[str] | None = None,
) -> Preset:
    """An admin's painting becomes a preset; its thumbnail is the painting itself, made smaller, until a `cpu`
    worker paints the reference photo in it like every other preset's (presets_measure)."""
    from django.utils.text import slugify

    checked = check_image(painting, field="painting_file")
    slug = check_preset_slug(slug or slugify(name)[:64])
    with Image.open(io.BytesIO(checked.data)) as img:
        thumbnail = webp(ImageOps.exif_transpose(img).convert("RGB"), side=256)
    preset = Preset(
        slug=slug,
        name=name,
        credit=credit,
        description=description,
        kind=Preset.Kind.PAINTING,
        prompts=prompts or [],
        position=next_position(),
    )
    with atomic_with_files() as written:
        save_file(preset.painting, "painting" + checked.suffix, checked.data, written)
        save_file(preset.thumbnail, "thumbnail.webp", thumbnail, written)
        preset.save()
        presets_measure_later()
    return preset


def presets_measure(
    *, device: str = "auto", side: int = 384, photos: tuple[Path, ...] | None = None, limit: int | None = None
) -> int:
    """Measure how much of a photo each preset keeps (generator.ml.compare.keeps_photo) with the networks active now;
    a preset already measured with them is left alone. At most `limit` presets (all if None); returns how many
    were measured. A worker runs it one preset a task (a second or two), so artists' jobs go between."""
    from generator import registry
    from generator.ml import compare
    from generator.ml.loading import ModelSet

    measured = 0
    for preset in Preset.objects.order_by("position", "pk"):
        if limit is not None and measured >= limit:
            break
        key = measured_with(preset)
        if (
            key is None
            or preset.keeps_photo_with == key
            or (preset.kind == Preset.Kind.PAINTING and not preset.painting)
        ):
            continue  # it cannot paint now (measured once it can), or it is measured with these networks already
        try:
            versions = registry.active_for(registry.needed(preset=preset, mode="fast"))
            models = ModelSet.of(registry.weights_of(v) for v in versions)
            style = registry.preset_style(preset)
            photos_ = photos or compare.SHEET_PHOTOS
            kept: float | None = round(compare.keeps_photo(models, style, photos=photos_, side=side, device=device), 4)
            if preset.kind == Preset.Kind.PAINTING and not preset.shipped and not preset.keeps_photo_with:
                _paint_thumbnail(preset, models, style, device)  # an admin's painting, measured the first time
        except Exception:  # one preset that cannot paint (a broken painting file) never stops the others
            logger.exception("Could not measure preset %s", preset.slug)
            kept = None  # unknown: it is suggested as before, and measured again with the next networks
        Preset.objects.filter(pk=preset.pk).update(keeps_photo=kept, keeps_photo_with=key)
        measured += 1
    return measured


def measured_with(preset: Preset) -> str | None:
    """What a preset's measure is kept with (Preset.keeps_photo_with): the active networks that paint it, by their
    digests; None while one of them has no active version, or the active 26-style network lacks its style."""
    from generator import registry

    try:
        versions = registry.active_for(registry.needed(preset=preset, mode="fast"))
    except registry.NoActiveVersion:
        return None
    if preset.kind == Preset.Kind.NETWORK and not any(registry.holds(v, preset) for v in versions):
        return None  # a style learned since, which the active version does not hold
    return ",".join(v.sha256[:16] for v in versions)


def thumbnail_of(style, models, device: str = "auto") -> bytes:
    """A preset's thumbnail as every shipped one is made: its style painted on the reference photo, 256 px
    (generator.ml.cli.render_thumbnails), as WebP."""
    from generator.ml.engine import stylize
    from generator.ml.presets import REFERENCE_PHOTO

    picture = stylize(REFERENCE_PHOTO, style, models=models, max_side=256, device=device).image
    return webp(picture, side=256, method=6)


def _paint_thumbnail(preset: Preset, models, style, device: str) -> None:
    """An admin's painting preset's thumbnail (``thumbnail_of``). Until a worker has painted it, it is the
    painting itself."""
    thumbnail = thumbnail_of(style, models, device)
    old = (preset.thumbnail.storage, preset.thumbnail.name) if preset.thumbnail else None
    with atomic_with_files() as written:
        save_file(preset.thumbnail, "thumbnail.webp", thumbnail, written)
        Preset.objects.filter(pk=preset.pk).update(thumbnail=preset.thumbnail.name)
        if old:
            transaction.on_commit(lambda: delete_files([old]))


def presets_measure_later() -> None:
    """Have a `cpu` worker measure the presets not yet measured with the active networks (after the commit), unless
    ARTSTUDIO_MEASURE_PRESETS is off."""
    if not settings.ARTSTUDIO_MEASURE_PRESETS:
        return

    def send() -> None:
        from generator.tasks import measure_presets

        try:
            measure_presets.apply_async(queue=Queue.CPU)
        except Exception:  # a measure is a nicety: the next worker start asks again
            logger.exception("Could not queue the presets' measures")

    transaction.on_commit(send)


PAINTING_KINDS = ("multistyle26", "transformer_net", "magenta_predictor", "magenta_transformer")


def measure_for_new_network(sender, *, version_id: int, kind: str, **_kwargs) -> None:
    """A receiver of generator.signals.model_version_activated: another painting network paints the presets now."""
    if kind in PAINTING_KINDS:
        presets_measure_later()
