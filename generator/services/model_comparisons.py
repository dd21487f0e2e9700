"""A version compared with the active one on the evaluation sheet (generator/ml/compare.py says how), in a worker
or, from the command line, in this process; the newest finished comparison is the version's standing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from generator import registry
from generator.ml.kinds import SHIPPED_STYLES
from generator.models import ModelComparison, ModelVersion, Preset
from generator.queues import Queue
from generator.services.files import atomic_with_files, save_file, webp
from generator.services.style_presets import refuse

logger = logging.getLogger(__name__)

# What each kind paints with beside itself, and what the measures read with (the judge): always the active
# versions, so a candidate and the version it is compared with are painted and judged alike.
_PARTNERS = {
    "multistyle26": (),
    "transformer_net": (),
    "magenta_predictor": (("magenta_transformer", ""),),
    "magenta_transformer": (("magenta_predictor", ""),),
    "efficientnet_lite0": (("magenta_predictor", ""), ("magenta_transformer", "")),  # quality mode
}
_JUDGE = (("magenta_predictor", ""), ("efficientnet_lite0", ""))
SHEET_SIDE = 16383  # WebP's limit: the contact sheet is kept at its size, its crops at 1:1


def comparison_request(
    *, version: ModelVersion, by: User | None = None, side: int | None = None, queue: bool = True
) -> ModelComparison:
    """Ask for `version` to be compared with the active version of its kind (and style).

    queue=True has a worker on the `gpu` queue run it after the commit (the CPU worker takes that queue
    where there is no GPU); the command line passes False and runs it itself.
    """
    version = ModelVersion.objects.get(pk=version.pk)  # its state now, not when the caller read it
    if version.kind not in _PARTNERS:
        raise refuse(
            "kind",
            _(
                "Only the networks that paint can be compared on the evaluation sheet; %(kind)s versions have "
                "their own measures."
            )
            % {"kind": version.get_kind_display()},
        )
    if version.status != ModelVersion.Status.READY:
        raise refuse(
            "status",
            _("Only a ready version can be compared; this one is %(status)s.")
            % {"status": version.get_status_display().lower()},
        )
    if version.is_active:
        raise refuse("version", _("This version is the active one: compare another version of its kind with it."))
    side = side or settings.ARTSTUDIO_COMPARE_SIDE
    if not 64 <= side <= 4096:
        raise refuse("side", _("The sheet is painted at 64 to 4096 pixels on the long side."))
    against = registry.active_versions().filter(kind=version.kind, slot=version.slot).first()
    with transaction.atomic():
        comparison = ModelComparison.objects.create(version=version, against=against, side=side, requested_by=by)
        if queue:
            transaction.on_commit(lambda: _enqueue(comparison.pk))
    return comparison


def _enqueue(comparison_id: int) -> None:
    from generator.tasks import compare_model_version

    try:
        compare_model_version.apply_async(args=(comparison_id,), queue=Queue.GPU)
    except Exception:
        logger.exception("Could not enqueue model comparison %s", comparison_id)
        _fail(
            comparison_id,
            _("The comparison could not be queued because the task queue is unreachable. Ask again in a moment."),
        )


def comparison_run(
    *,
    comparison_id: int,
    progress: Callable[[float], None] | None = None,
    device: str = "auto",
    styles=None,
    painting: Path | None = None,
) -> ModelComparison | None:
    """Paint the sheet with the candidate and the version it is compared with, measure, and keep the results.

    `styles` (26-style network: [(index, name)]) narrows the sheet (a training run's style; tests). `painting`:
    the painting a network's style was trained from, which its pictures are measured against. None if the
    comparison is not waiting (a second delivery of its task, or it was run already).
    """
    from generator.ml import compare
    from generator.ml.errors import StyleError
    from generator.ml.loading import ModelSet

    claimed = ModelComparison.objects.filter(pk=comparison_id, status=ModelComparison.Status.QUEUED).update(
        status=ModelComparison.Status.RUNNING
    )
    if not claimed:
        return None
    comparison = ModelComparison.objects.select_related("version", "against").get(pk=comparison_id)
    version = comparison.version
    try:
        partners = registry.active_for(list(_PARTNERS[version.kind]))
        judge = ModelSet.of(registry.weights_of(v) for v in registry.active_for(list(_JUDGE)))
        candidate = ModelSet.of(registry.weights_of(v) for v in [version, *partners])
        against = comparison.against
        reference = ModelSet.of(registry.weights_of(v) for v in [against, *partners]) if against else None
        arbitrary = None  # what the reference paints instead, for a style that only the candidate holds
        if version.kind == "multistyle26":
            shared = registry.held_presets(version) & (registry.held_presets(against) if against else Q())
            if styles is None:  # every style both versions paint
                styles = list(
                    Preset.objects.filter(shared, kind=Preset.Kind.NETWORK)
                    .order_by("network_index")
                    .values_list("network_index", "name")
                )
            elif against is not None and not all(_same_row(version, against, index) for index, _name in styles):
                # a style the version compared with does not hold: a style learned from a painting is measured
                # against the arbitrary-style path painting the same painting, the one way the studio painted it
                # before; without a painting there is nothing to hold it against, and it is measured alone
                if painting is None:
                    reference = None
                else:
                    arbitrary = painting.read_bytes()
                    magenta = registry.active_for([("magenta_predictor", ""), ("magenta_transformer", "")])
                    reference = ModelSet.of(registry.weights_of(v) for v in [against, *magenta])
        cases = compare.cases_for(version.kind, slot=version.slot, styles=styles, painting=painting, against=arbitrary)
        last = [0.0]

        def report(fraction: float) -> None:
            if progress:
                progress(fraction)
            if fraction - last[0] >= 0.05 or fraction >= 1:
                last[0] = fraction
                ModelComparison.objects.filter(pk=comparison_id).update(progress=fraction)

        result = compare.compare(
            cases,
            kind=version.kind,
            slot=version.slot,
            candidate=candidate,
            reference=reference,
            judge=judge,
            side=comparison.side,
            device=device,
            progress=report,
        )
    except (StyleError, registry.NoActiveVersion) as exc:
        _fail(comparison_id, str(exc))
        return None
    except Exception:
        logger.exception("Model comparison %s failed", comparison_id)
        _fail(comparison_id, _("The comparison failed because of an error in the studio; see the worker's log."))
        return None
    return _keep(comparison, result)


def _same_row(version: ModelVersion, against: ModelVersion, index: int) -> bool:
    """Whether two versions of the 26-style network paint one style at `index`: a shipped one, or the same style
    learned since."""
    if index < SHIPPED_STYLES:
        return True
    row = str(index)
    return row in version.learned and version.learned.get(row) == against.learned.get(row)


def _keep(comparison: ModelComparison, result) -> ModelComparison:
    summary = result.summary()
    with atomic_with_files() as written:
        if result.sheet is not None:
            save_file(comparison.sheet, "sheet.webp", webp(result.sheet, side=SHEET_SIDE, quality=90), written)
        comparison.results = summary
        comparison.verdict = summary["verdict"]
        comparison.status = ModelComparison.Status.DONE
        comparison.progress = 1.0
        comparison.finished = timezone.now()
        comparison.save(update_fields=["sheet", "results", "verdict", "status", "progress", "finished"])
        version = ModelVersion.objects.select_for_update().get(pk=comparison.version_id)
        version.metrics = {**version.metrics, "comparison": standing(comparison)}
        version.save(update_fields=["metrics"])
    return comparison


def standing(comparison: ModelComparison) -> dict:
    """The few figures a version keeps in its metrics (the dashboard shows them)."""
    results = comparison.results
    return {
        "id": comparison.pk,
        "against": comparison.against_id,
        "verdict": comparison.verdict,
        "side": comparison.side,
        "cases": results.get("cases"),
        "changes": results.get("changes", {}),
        "mean": results.get("mean", {}),
        "finished": comparison.finished.isoformat() if comparison.finished else None,
    }


def _fail(comparison_id: int, message: str) -> None:
    ModelComparison.objects.filter(pk=comparison_id).filter(
        Q(status=ModelComparison.Status.QUEUED) | Q(status=ModelComparison.Status.RUNNING)
    ).update(status=ModelComparison.Status.FAILED, error=message, finished=timezone.now())


def latest_comparison(version: ModelVersion) -> ModelComparison | None:
    return version.comparisons.filter(status=ModelComparison.Status.DONE).order_by("-created").first()


def lost_to_active(version: ModelVersion) -> ModelComparison | None:
    """The newest finished comparison of `version` if it lost to the version active now, else None."""
    found = latest_comparison(version)
    if found is None or found.verdict != ModelComparison.Verdict.WORSE:
        return None
    active = registry.active_versions().filter(kind=version.kind, slot=version.slot).first()
    return found if active is not None and found.against_id == active.pk else None


def what_it_lost(comparison: ModelComparison) -> str:
    """In words, where the candidate did worse than the version it was compared with."""
    changes = comparison.results.get("changes", {})
    said = []
    if changes.get("structure", {}).get("is") == "worse":
        said.append(_("it keeps less of the photo (structure %(d)+.3f)") % {"d": changes["structure"]["difference"]})
    if changes.get("style", {}).get("is") == "worse":
        said.append(
            _("it paints further from the paintings (style distance %(d)+.3f)") % {"d": changes["style"]["difference"]}
        )
    return "; ".join(said)
