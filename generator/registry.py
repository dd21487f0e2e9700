"""The seam between the model registry (the database) and the engine (generator/ml).

The database chooses: the active ``ModelVersion`` of each kind (and slot) is what paints. This
module turns those rows into the explicit files and hashes the engine takes (an ``ml`` ModelSet);
the engine caches networks per process by (kind, sha256, device), so a newly activated version
loads on the next job without a restart, and a job already running keeps what it started with.
Nothing here imports torch at module level: the web process imports this module too.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from generator.ml.kinds import KINDS, SHIPPED_STYLES
from generator.models import Job, Mode, ModelKind, ModelVersion, Preset, PresetKind


class NoActiveVersion(Exception):
    """A job needs a kind of network that has no active version; the message is for the artist."""


def active_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(is_active=True, status=ModelVersion.Status.READY)


@dataclass(frozen=True)
class JobModels:
    """What a job paints with: the engine's style argument and the exact versions behind it."""

    style: object  # an ml Network, or the painting's bytes
    versions: tuple[ModelVersion, ...]

    def model_set(self):
        from generator.ml.loading import ModelSet

        return ModelSet.of(weights_of(v) for v in self.versions)

    def version_for(self, kind: str, sha256: str, slot: str = "") -> ModelVersion | None:
        return next((v for v in self.versions if (v.kind, v.sha256, v.slot) == (kind, sha256, slot)), None)


def needed(*, preset: Preset | None, mode: str) -> list[tuple[str, str]]:
    """The (kind, slot) of every network a job with this style and mode runs."""
    if preset is not None and preset.kind == PresetKind.NETWORK:
        keys = [(ModelKind.multistyle26, "")]
    elif preset is not None and preset.kind == PresetKind.SINGLE_STYLE:
        keys = [(ModelKind.transformer_net, preset.model_slot)]
    else:  # a painting: a preset's or the artist's own
        keys = [(ModelKind.magenta_predictor, ""), (ModelKind.magenta_transformer, "")]
    if mode == Mode.QUALITY:
        keys.append((ModelKind.efficientnet_lite0, ""))
    return keys


def for_job(job: Job) -> JobModels:
    """The style and the active versions that `job` paints with, read now (at the job's start)."""
    if job.options.blend:
        return _blend_for_job(job)
    slug = job.options.style_preset
    preset = Preset.objects.filter(slug=slug).first() if slug else None
    if slug and preset is None:
        raise NoActiveVersion(
            _("The style “%(slug)s” was removed from the studio. Pick another style.") % {"slug": slug}
        )
    style = read_file(job.style_image) if preset is None else preset_style(preset)
    keys = needed(preset=preset, mode=job.options.mode)
    return JobModels(style, tuple(active_for(keys)))


def holds(version: ModelVersion | None, preset: Preset) -> bool:
    """Whether a version of the 26-style network paints a network preset: one of the shipped 26, or a style learned
    since whose row in this version is that preset's (ModelVersion.learned)."""
    index = preset.network_index
    if version is None or index is None:
        return False
    return index < SHIPPED_STYLES or version.learned.get(str(index)) == preset.slug


def held_presets(version: ModelVersion | None) -> Q:
    """The network presets `version` paints (see ``holds``), as a filter on presets."""
    if version is None:
        return Q(pk__in=[])
    q = Q(network_index__lt=SHIPPED_STYLES)
    for row, slug in version.learned.items():
        q |= Q(network_index=int(row), slug=slug)
    return q


def active_multistyle() -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=ModelKind.multistyle26, is_active=True).first()


def preset_style(preset: Preset):
    """What the engine paints a preset with: a network's style, or the preset's painting. A style learned since
    the shipped 26 that the active 26-style network does not hold (after a rollback) is NoActiveVersion."""
    from generator.ml.engine import Network

    if preset.kind == PresetKind.NETWORK:
        assert preset.network_index is not None  # a network preset has its number (a constraint)
        if preset.network_index >= SHIPPED_STYLES and not holds(active_multistyle(), preset):
            raise NoActiveVersion(
                _("The style “%(name)s” is not in the active 26-style network now. Pick another style.")
                % {"name": preset.name}
            )
        return Network(ModelKind.multistyle26, index=preset.network_index)
    if preset.kind == PresetKind.SINGLE_STYLE:
        return Network(ModelKind.transformer_net, slot=preset.model_slot)
    return read_file(preset.painting)


def _blend_for_job(job: Job) -> JobModels:
    """A blend's parts as the engine's Blend, and every network they need. The 26-style network blends its own
    styles by itself; anything else is mixed as style vectors by the arbitrary-style networks, which read a
    network style's vector off its painting of a reference photo (so that network is needed too)."""
    from generator.ml.engine import Blend
    from generator.ml.options import PAINTING_PART

    options = job.options
    presets = {p.slug: p for p in Preset.objects.filter(slug__in=[part for part, _ in options.blend])}
    missing = [part for part, _ in options.blend if part != PAINTING_PART and part not in presets]
    if missing:
        raise NoActiveVersion(
            _("The style “%(slug)s” was removed from the studio. Pick another style.") % {"slug": missing[0]}
        )
    parts = tuple(
        (read_file(job.style_image) if part == PAINTING_PART else preset_style(presets[part]), weight)
        for part, weight in options.blend
    )
    chosen = [presets.get(part) for part, _ in options.blend]
    keys: list[tuple[str, str]] = []
    for preset in chosen:
        keys += [key for key in needed(preset=preset, mode=options.mode) if key not in keys]
    if not all(p is not None and p.kind == PresetKind.NETWORK for p in chosen):
        keys += [key for key in needed(preset=None, mode=options.mode) if key not in keys]
    return JobModels(Blend(parts), tuple(active_for(keys)))


def active_for(keys: list[tuple[str, str]]) -> list[ModelVersion]:
    """The active version of each (kind, slot), in order; NoActiveVersion (for the artist) names the first missing."""
    found = {(v.kind, v.slot): v for v in active_versions().filter(kind__in={k for k, _ in keys})}
    missing = [key for key in keys if key not in found]
    if missing:
        kind, slot = missing[0]
        raise NoActiveVersion(
            _(
                "The studio has no active %(kind)s%(slot)s, so this picture cannot be painted. "
                "An admin needs to activate one in Model versions."
            )
            % {"kind": str(ModelKind(kind).label).lower(), "slot": f" “{slot}”" if slot else ""}
        )
    return [found[key] for key in keys]


def weights_of(version: ModelVersion):
    """The engine's handle on a version: a local file path and the sha256 it must have."""
    from generator.ml.loading import Weights

    return Weights(version.kind, local_path(version), version.sha256, version.slot)


def local_path(version: ModelVersion) -> Path:
    """A path this process can open for a version's weights (a remote storage's copy is named by sha256)."""
    return _on_disk(version.weights, settings.DATA_DIR / "cache" / "weights" / f"{version.sha256}.safetensors")


def local_upload_path(version: ModelVersion, scratch: Path) -> Path:
    """An uploaded (not yet validated) weights file as a local path, copied into `scratch` if need be."""
    return _on_disk(version.weights, scratch / Path(version.weights.name).name)


def _on_disk(field, copy_to: Path) -> Path:
    """The storage's own path on a file system; otherwise a local copy at `copy_to`, made once, whole."""
    try:
        return Path(field.path)
    except NotImplementedError:
        if not copy_to.exists():
            copy_to.parent.mkdir(parents=True, exist_ok=True)
            part = copy_to.with_suffix(".part")
            with field.open("rb") as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst)
            part.replace(copy_to)
        return copy_to


def read_file(field) -> bytes:
    """A stored file's bytes, for the engine (which never sees storages)."""
    with field.open("rb") as f:
        return f.read()


def warm_up(*, queues: list[str] | tuple[str, ...], device: str) -> list[ModelVersion]:
    """Load the active versions the given queues' jobs use; paint tiny pictures with the painting ones."""
    from generator.ml import engine
    from generator.ml.loading import ModelSet, preload, resolve_device

    wanted = {k.value for k in KINDS.values() if set(k.warm_on) & set(queues)}
    versions = list(active_versions().filter(kind__in=wanted))
    painting = [v for v in versions if KINDS[v.kind].studio and not v.slot]  # one network a style: on demand
    text = [v for v in versions if not KINDS[v.kind].studio]
    engine.warm_up(ModelSet.of(weights_of(v) for v in painting), device)
    preload(ModelSet.of(weights_of(v) for v in text), resolve_device(device))
    return painting + text
