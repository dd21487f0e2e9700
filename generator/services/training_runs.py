"""A style trained from a painting by a worker: asked for (everything checked before anything is queued), run in
slices on the `gpu` queue, cancelled, resumed after a dead worker, and registered as a new inactive version with
its comparison (generator/ml/training.py trains; generator/services/model_comparisons.py compares).

- **Slices.** The task trains until it has held its worker for ARTSTUDIO_TRAIN_HOLD_SECONDS while an artist's job
  waits on that worker's queues; then it saves its checkpoint, goes back to the queue and sends itself again, so
  the job runs first. With nobody waiting it trains on.
- **Dead workers.** A running run stamps its heartbeat; the scheduler's tick (generator/worker_process.py) sends a
  run whose worker died back to the queue, and the next worker resumes from the last checkpoint (saved every
  few minutes and at every slice's end).
- **Cancel.** The run asks for its cancel flag about once a second; a cancelled run registers nothing and its
  checkpoint goes; its samples stay to be looked at.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path, PurePath

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from generator import registry
from generator.ml.kinds import MAX_STYLES, SHIPPED_STYLES
from generator.models import TRAINABLE_KINDS, Job, ModelVersion, Preset, TrainingRun
from generator.queues import Queue
from generator.scheduler import Heartbeat, this_worker, worker_is_dead
from generator.services.files import atomic_with_files, delete_files, save_file, webp
from generator.services.model_comparisons import comparison_request, comparison_run
from generator.services.model_versions import model_version_validate
from generator.services.style_presets import next_position, refuse, thumbnail_of
from generator.uploads import check_image

logger = logging.getLogger(__name__)

LOSS_POINTS = 400  # the loss curves keep at most about this many points, each the mean of its steps
SAVE_EVERY = 1.0  # seconds between the row's updates (step, losses) and the looks at the cancel flag
LOSS_COLUMNS = ("step", "style", "content", "tv", "total")  # a point of TrainingRun.losses
# The samples' two photos, from the evaluation sheet (never trained on): a face, and a clear sky over mountains
SAMPLE_PHOTOS = ("portrait_woman", "mountain_landscape")


# --- Asking -------------------------------------------------------------------------------------------


def training_request(
    *,
    name: str,
    kind: str,
    by: User | None = None,
    style_index: int | None = None,
    new_style: bool = False,
    slot: str = "",
    start_from: ModelVersion | None = None,
    painting: File | None = None,
    painting_preset: Preset | None = None,
    credit: str = "",
    photos: Sequence[File] = (),
    shipped_photos: bool = True,
    options: dict | None = None,
    queue: bool = True,
) -> TrainingRun:
    """Check everything a run needs, keep it as a queued run, and (queue=True) send it to a worker after the
    commit. A ValidationError keyed by form field says what is wrong; nothing is written then.

    - kind "multistyle26": `style_index` learns, starting from the active 26-style network (or `start_from`);
      with no painting its target is its own pictures (fine-tuned to keep more of the photo). With `new_style`, a
      style is added to the network instead (its number the next free one) and learns from the painting; `slot`
      is its preset's short name, and the preset shows once the version that holds it is activated.
    - kind "transformer_net": a single-style network for a new or existing style `slot`, from scratch or
      fine-tuned from the ready version `start_from`; it needs a painting.
    """
    from generator.ml.errors import StyleError
    from generator.ml.train_settings import TrainSettings

    name = name.strip()
    if not name:
        raise refuse("name", _("Name the style (it becomes the new version's label)."))
    if kind not in TRAINABLE_KINDS:
        raise refuse("kind", _("Only the 26-style network and single-style networks can be trained."))
    if kind == "multistyle26":
        if new_style:
            if not slot:
                raise refuse("slot", _("A new style needs a short name for its preset (letters, digits, -)."))
            check_new_style_slot(slot)
            if painting is None and painting_preset is None:
                raise refuse("painting", _("A new style learns from a painting: pick one or upload one."))
        else:
            slot = ""
            if style_index is None:
                raise refuse("style_index", _("Choose which of the 26 styles learns."))
        if start_from is None:
            start_from = registry.active_versions().filter(kind=kind).first()
            if start_from is None:
                raise refuse("start_from", _("The 26-style network has no active version to start from."))
    else:
        style_index, new_style = None, False
        if not slot:
            raise refuse("slot", _("A single-style network needs a short name for its style (letters, digits, -)."))
        check_model_upload_slot(slot)
        if painting is None and painting_preset is None:
            raise refuse("painting", _("A single-style network learns from a painting: pick one or upload one."))
    if start_from is not None:
        start_from = ModelVersion.objects.get(pk=start_from.pk)
        if start_from.kind != kind or start_from.status != ModelVersion.Status.READY:
            raise refuse("start_from", _("Start from a ready version of the network that is trained, or from nothing."))
    if kind == "multistyle26":
        assert start_from is not None  # the active version when none was named
        held = start_from.styles or SHIPPED_STYLES
        if new_style:
            style_index = _new_style_index(start_from)
        elif style_index is None or not 0 <= style_index < held:
            raise refuse(
                "style_index", _("That version holds styles 0 to %(last)s; choose one of them.") % {"last": held - 1}
            )
    if painting is not None and painting_preset is not None:
        raise refuse("painting", _("Pick a painting or upload one, not both."))
    if painting_preset is not None and (painting_preset.kind != Preset.Kind.PAINTING or not painting_preset.painting):
        raise refuse("painting_preset", _("That preset has no painting to learn from."))
    checked = check_image(painting, field="painting") if painting is not None else None
    photos_checked = [check_image(photo, field="photos") for photo in photos]
    if not shipped_photos and not photos_checked:
        raise refuse("photos", _("Training needs content photos: keep the shipped ones or upload some."))
    try:
        TrainSettings.with_changes(kind, "cpu", **(options or {}))
    except StyleError as exc:
        raise refuse("options", str(exc)) from None

    run = TrainingRun(
        name=name,
        kind=kind,
        style_index=style_index,
        new_style=new_style,
        slot=slot,
        start_from=start_from,
        credit=credit.strip() or (painting_preset.credit if painting_preset else ""),
        shipped_photos=shipped_photos,
        options=dict(options or {}),
        requested_by=by,
    )
    saved: list[str] = []
    try:
        with atomic_with_files() as written:
            if checked is not None:
                save_file(run.painting, "painting" + checked.suffix, checked.data, written)
            elif painting_preset is not None:
                with painting_preset.painting.open("rb") as f:
                    suffix = PurePath(painting_preset.painting.name).suffix.lower()
                    save_file(run.painting, "painting" + suffix, f.read(), written)
            for photo in photos_checked:
                saved.append(default_storage.save(f"training/photos/photo{photo.suffix}", ContentFile(photo.data)))
            run.photos = saved
            run.save()
            if queue:
                transaction.on_commit(lambda: _enqueue(run.pk))
    except BaseException:
        delete_files([(default_storage, name) for name in saved])
        raise
    return run


def check_model_upload_slot(slot: str) -> None:
    """A single-style network's short name: free, or already a single-style network's (a new version of it)."""
    if Preset.objects.filter(slug=slot).exclude(kind=Preset.Kind.SINGLE_STYLE).exists():
        raise refuse("slot", _("A painting or network preset already has the short name “%(slot)s”.") % {"slot": slot})
    if TrainingRun.objects.filter(slot=slot).exclude(status__in=TrainingRun.FINISHED).exists():
        raise refuse("slot", _("Another run is training the style “%(slot)s” now.") % {"slot": slot})


def check_new_style_slot(slot: str) -> None:
    """A new style's preset short name: no preset has it, and no other run is adding a style by that name."""
    if Preset.objects.filter(slug=slot).exists():
        raise refuse("slot", _("A preset already has the short name “%(slot)s”.") % {"slot": slot})
    if TrainingRun.objects.filter(slot=slot).exclude(status__in=TrainingRun.FINISHED).exists():
        raise refuse("slot", _("Another run is training the style “%(slot)s” now.") % {"slot": slot})


def _new_style_index(start_from: ModelVersion) -> int:
    """The number a style added to `start_from` gets: the next after its rows (another version trained from the same
    one may give its own new style that number too: each version says whose each row is, ModelVersion.learned)."""
    index = start_from.styles or SHIPPED_STYLES
    if index >= MAX_STYLES:
        raise refuse(
            "start_from",
            _("That version holds %(n)s styles, the most the network may; fine-tune one of them instead.")
            % {"n": index},
        )
    return index


def _enqueue(run_id: int) -> None:
    from generator.tasks import train_style

    try:
        train_style.apply_async(args=(run_id,), queue=Queue.GPU)
    except Exception:
        logger.exception("Could not enqueue training run %s", run_id)
        _end(
            run_id,
            TrainingRun.Status.FAILED,
            _("The run could not be queued because the task queue is unreachable. Start it again in a moment."),
        )
        _forget_checkpoint(run_id)


def training_cancel(*, run: TrainingRun) -> TrainingRun:
    """Stop a run: one waiting ends now; a running one stops at its next look at the flag (within seconds)."""
    TrainingRun.objects.filter(pk=run.pk).exclude(status__in=TrainingRun.FINISHED).update(cancel_requested=True)
    waiting = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED)
    if waiting.update(status=TrainingRun.Status.CANCELLED, finished=timezone.now()):
        _forget_checkpoint(run.pk)
    run.refresh_from_db()
    return run


# --- Running ------------------------------------------------------------------------------------------


def training_work(
    *,
    run_id: int,
    device: str = "auto",
    hold_seconds: float | None = None,
    queues: Sequence[str] = (),
    progress: Callable[[TrainingRun], None] | None = None,
) -> TrainingRun | None:
    """Train run `run_id` in this process, from its checkpoint if it has one, until it is done, cancelled, or
    has held this worker for `hold_seconds` while an artist's job waits on `queues` (then it is queued again
    and sent to a worker). None if the run is not waiting (another delivery of its task took it)."""
    from generator.ml.errors import Cancelled, Paused, StyleError

    worker = this_worker()
    now = timezone.now()
    claimed = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED, cancel_requested=False).update(
        status=TrainingRun.Status.RUNNING,
        worker=worker,
        heartbeat=now,
        attempts=F("attempts") + 1,
        started=Coalesce("started", Value(now)),  # its first start, kept when it resumes
        error="",
    )
    if not claimed:
        return None
    run = TrainingRun.objects.get(pk=run_id)
    try:
        with Heartbeat(run.pk, worker, model=TrainingRun):
            state = _train(run, device=device, hold_seconds=hold_seconds, queues=queues, progress=progress)
            _register(run, state, device=device)
    except Paused:
        TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.RUNNING).update(
            status=TrainingRun.Status.QUEUED, worker="", heartbeat=None
        )
        logger.info("Training run %s gives its worker to the artists' jobs at step %s", run.pk, run.step)
        _enqueue(run.pk)
    except (Cancelled, KeyboardInterrupt) as stopped:  # Ctrl-C at the command line cancels too
        _end(run.pk, TrainingRun.Status.CANCELLED)
        _forget_checkpoint(run.pk)
        if isinstance(stopped, KeyboardInterrupt):
            raise
    except StyleError as exc:
        _end(run.pk, TrainingRun.Status.FAILED, str(exc))
    except Exception:
        logger.exception("Training run %s failed", run.pk)
        _end(
            run.pk,
            TrainingRun.Status.FAILED,
            _("The training failed because of an error in the studio; see the worker's log."),
        )
    run.refresh_from_db()
    return run


def checkpoint_path(run_id: int) -> Path:
    """Where a run's checkpoint lives: under MEDIA_ROOT, which every worker of a studio shares."""
    return Path(settings.MEDIA_ROOT) / "training" / "checkpoints" / f"run-{run_id}.pt"


def _train(run: TrainingRun, *, device: str, hold_seconds, queues, progress) -> dict:
    import torch

    from generator.ml import compare, training
    from generator.ml.errors import StyleError
    from generator.ml.imaging import load_image
    from generator.ml.loading import ModelSet, from_file, resolve_device
    from generator.ml.nets.efficientnet import EfficientNetLite0
    from generator.ml.nets.multistyle import MultiStyleNet
    from generator.ml.train_settings import TrainSettings

    dev = resolve_device(device)
    if run.options and run.steps is not None:  # resumed: the settings it started with
        train_settings = TrainSettings(**run.options).check()
    else:
        train_settings = TrainSettings.with_changes(run.kind, dev.type, **run.options)
        run.options, run.steps, run.device = asdict(train_settings), train_settings.steps, dev.type
        TrainingRun.objects.filter(pk=run.pk).update(options=run.options, steps=run.steps, device=run.device)
    perceptual = from_file(registry.weights_of(registry.active_for([("efficientnet_lite0", "")])[0]))
    assert isinstance(perceptual, EfficientNetLite0)
    if run.kind == "multistyle26" and run.start_from is None:  # deleted while the run waited
        raise StyleError(_("The version this run started from was deleted. Start the run again from another."))
    network = from_file(registry.weights_of(run.start_from)) if run.start_from else training.new_single_style()
    if run.new_style:
        assert isinstance(network, MultiStyleNet)  # a 26-style version: the request checked it
        network, index = training.add_style(network)
        assert index == run.style_index  # the next row of the version it starts from, as the request said
    photos = training.load_photos(training.training_photos()) if run.shipped_photos else []
    for name in run.photos:
        with default_storage.open(name, "rb") as f:
            photos.append(load_image(f.read(), what="photo"))
    if run.painting:
        with run.painting.open("rb") as f:
            paintings = [load_image(f.read(), what="painting")]
    else:  # a shipped style's own pictures: a style is what the network paints
        assert run.start_from is not None and run.style_index is not None
        own = ModelSet.of([registry.weights_of(run.start_from)])
        paintings = training.own_pictures(own, run.style_index, photos[:8])
    torch.manual_seed(train_settings.seed)
    trainer = training.Trainer(
        network, paintings, photos, perceptual, train_settings, style=run.style_index, device=dev
    )
    path = checkpoint_path(run.pk)
    if path.exists():
        logger.info("Training run %s resumes from its checkpoint at step %s", run.pk, trainer.resume(path))
    TrainingRun.objects.filter(pk=run.pk).update(checkpoint=str(path.relative_to(settings.MEDIA_ROOT)))
    report = _Reporter(run, trainer_steps=train_settings.steps, progress=progress)
    held_since = time.monotonic()

    def pause() -> bool:
        if hold_seconds is None or time.monotonic() - held_since < hold_seconds:
            return False
        if not Job.objects.filter(status=Job.Status.QUEUED, queue__in=list(queues) or Queue.values).exists():
            return False
        report.save()  # the step it stops at, for the page and the next slice
        return True

    return trainer.run(
        progress=report.step,
        cancel=report.cancelled,
        checkpoint=path,
        samples=report.samples,
        sample_photos=training.load_photos(
            [p for name in SAMPLE_PHOTOS for p in compare.SHEET_PHOTOS if p.stem == name]
        ),
        pause=pause,
    )


class _Reporter:
    """What a run shows while it trains: its row updated about once a second (step, speed, losses averaged
    into at most LOSS_POINTS points), its samples as pictures, and the cancel flag read at the same pace."""

    def __init__(self, run: TrainingRun, *, trainer_steps: int, progress):
        self.run = run
        self.every = max(1, math.ceil(trainer_steps / LOSS_POINTS))
        self.bucket: list[dict[str, float]] = []
        self.progress = progress
        self.last_save = 0.0
        self.seconds_before = run.seconds
        self.started = time.monotonic()
        self.first_step: int | None = None
        self.cancel = False

    def step(self, step) -> None:
        run = self.run
        if self.first_step is None:  # what was shown past the checkpoint it resumed from is trained again
            self.first_step = step.step - 1
            run.losses = [point for point in run.losses if point[0] <= self.first_step]
            self._drop_samples(lambda sample: sample["step"] > self.first_step)
        self.bucket.append(step.losses)
        if step.step % self.every == 0 or step.step == step.total:
            mean = {k: sum(b[k] for b in self.bucket) / len(self.bucket) for k in self.bucket[0]}
            run.losses.append([step.step] + [round(mean[k], 6) for k in LOSS_COLUMNS[1:]])
            self.bucket = []
        run.step = step.step
        elapsed = time.monotonic() - self.started
        run.seconds = self.seconds_before + elapsed
        if elapsed > 0:
            run.steps_per_second = (step.step - self.first_step) / elapsed
        if time.monotonic() - self.last_save >= SAVE_EVERY or step.step == step.total:
            self.save()

    def save(self) -> None:
        run = self.run
        self.last_save = time.monotonic()
        TrainingRun.objects.filter(pk=run.pk).update(
            step=run.step, seconds=run.seconds, steps_per_second=run.steps_per_second, losses=run.losses
        )
        self.cancel = TrainingRun.objects.filter(pk=run.pk, cancel_requested=True).exists()
        if self.progress:
            self.progress(run)

    def cancelled(self) -> bool:
        if time.monotonic() - self.last_save >= SAVE_EVERY:
            self.save()
        return self.cancel

    def samples(self, step: int, pictures: list) -> None:
        run = self.run
        names = []
        for i, picture in enumerate(pictures):
            name = default_storage.save(
                f"training/samples/run-{run.pk}-{step}-{i}.webp", ContentFile(webp(picture, side=512))
            )
            names.append(name)
        self._drop_samples(lambda sample: sample["step"] == step)
        run.samples.append({"step": step, "pictures": names})
        TrainingRun.objects.filter(pk=run.pk).update(samples=run.samples)

    def _drop_samples(self, which) -> None:
        dropped = [sample for sample in self.run.samples if which(sample)]
        self.run.samples = [sample for sample in self.run.samples if not which(sample)]
        delete_files([(default_storage, name) for sample in dropped for name in sample["pictures"]])


def _register(run: TrainingRun, state: dict, *, device: str) -> None:
    """The trained weights become a ready, inactive version (validated as an upload is: it loads and paints),
    compared with the active version on the evaluation sheet; the run is done."""
    from generator.ml.files import save_state

    with tempfile.TemporaryDirectory(prefix="artstudio-train-") as tmp:
        path = Path(tmp) / "trained.safetensors"
        save_state(state, path)
        learned = dict(run.start_from.learned) if run.kind == "multistyle26" and run.start_from else {}
        if run.new_style:
            learned[str(run.style_index)] = run.slot  # this row is that preset's style in this version
        version = ModelVersion(
            kind=run.kind,
            slot="" if run.new_style else run.slot,  # a new style's short name is its preset's, not a slot
            learned=learned,
            label=run.name,
            credit=run.credit,
            source=ModelVersion.Source.TRAINING,
            status=ModelVersion.Status.VALIDATING,
            created_by=run.requested_by,
            notes=_("Trained by run %(id)s: %(steps)s steps on %(device)s.")
            % {"id": run.pk, "steps": run.steps, "device": run.device},
            metrics={
                "training": {
                    "run": run.pk,
                    "steps": run.steps,
                    "seconds": round(run.seconds, 1),
                    "losses": run.losses[-1] if run.losses else None,
                }
            },
        )
        with atomic_with_files() as written, open(path, "rb") as f:
            version.size = path.stat().st_size
            save_file(version.weights, "trained.safetensors", f, written)
            version.save()
    checked = model_version_validate(version_id=version.pk)
    if checked is None:
        version.refresh_from_db()
        message = _("The trained network did not pass the registry's checks: %(reason)s") % {"reason": version.reason}
        _end(run.pk, TrainingRun.Status.FAILED, message)
        return
    TrainingRun.objects.filter(pk=run.pk).update(version=version)
    styles = None
    if run.new_style:
        _new_style_preset(run, version)
    if run.kind == "multistyle26":
        preset = Preset.objects.filter(kind=Preset.Kind.NETWORK, network_index=run.style_index).first()
        styles = [(run.style_index, preset.name if preset else f"style {run.style_index}")]
    comparison = comparison_request(version=version, by=run.requested_by, queue=False)
    painting = Path(run.painting.path) if run.painting else None
    comparison_run(comparison_id=comparison.pk, device=device, styles=styles, painting=painting)
    _end(run.pk, TrainingRun.Status.DONE)
    _forget_checkpoint(run.pk)


def _new_style_preset(run: TrainingRun, version: ModelVersion) -> None:
    """A style added to the 26-style network is a network preset, with the run's name and credit, its thumbnail
    painted on the reference photo as every preset's is; the studio's grid shows it once a version that holds it
    is active."""
    from generator.ml import engine
    from generator.ml.loading import ModelSet

    version.refresh_from_db()
    style = engine.Network("multistyle26", index=run.style_index)
    thumbnail = thumbnail_of(style, ModelSet.of([registry.weights_of(version)]))
    preset = Preset(
        slug=run.slot,
        name=run.name,
        kind=Preset.Kind.NETWORK,
        network_index=run.style_index,
        credit=run.credit,
        position=next_position(),
    )
    with atomic_with_files() as written:
        save_file(preset.thumbnail, "thumbnail.webp", thumbnail, written)
        preset.save()


def _training_metrics(run: TrainingRun) -> dict:
    last = dict(zip(LOSS_COLUMNS, run.losses[-1], strict=True)) if run.losses else {}
    return {
        "run": run.pk,
        "steps": run.steps,
        "device": run.device,
        "seconds": round(run.seconds, 1),
        "final_losses": last,
        "trained_from": run.start_from_id,
        "style_index": run.style_index,
    }


def _end(run_id: int, status: str, error: str = "") -> None:
    TrainingRun.objects.filter(pk=run_id).exclude(status__in=TrainingRun.FINISHED).update(
        status=status, error=error, finished=timezone.now(), worker="", heartbeat=None
    )


def _forget_checkpoint(run_id: int) -> None:
    path = checkpoint_path(run_id)
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".tmp").unlink(missing_ok=True)
    TrainingRun.objects.filter(pk=run_id).update(checkpoint="")


# --- Dead workers and lost messages -----------------------------------------------------------------------


def training_reap(*, now: datetime | None = None) -> dict[str, int]:
    """Runs whose worker died go back to the queue and are sent again (the next worker resumes from the
    checkpoint); a cancelled one ends cancelled; one whose worker died ARTSTUDIO_MAX_ATTEMPTS times fails."""
    now = now or timezone.now()
    done = {"requeued": 0, "cancelled": 0, "failed": 0}
    running = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).values_list(
        "pk", "worker", "heartbeat", "attempts", "cancel_requested"
    )
    for pk, worker, heartbeat, attempts, cancel_requested in running:
        if not worker_is_dead(worker, heartbeat, now=now):
            continue
        same = TrainingRun.objects.filter(pk=pk, status=TrainingRun.Status.RUNNING, worker=worker)
        if cancel_requested:
            if same.update(status=TrainingRun.Status.CANCELLED, finished=now, worker="", heartbeat=None):
                done["cancelled"] += 1
                _forget_checkpoint(pk)
        elif attempts >= settings.ARTSTUDIO_MAX_ATTEMPTS:
            message = _("The worker training this style stopped %(n)s times, so it was not tried again.") % {
                "n": attempts
            }
            done["failed"] += same.update(
                status=TrainingRun.Status.FAILED, finished=now, error=message, worker="", heartbeat=None
            )
        elif same.update(status=TrainingRun.Status.QUEUED, worker="", heartbeat=None):
            done["requeued"] += 1
            _enqueue(pk)
    if any(done.values()):
        logger.warning("Training runs of dead workers: %s", done)
    return done


def run_losses(run: TrainingRun) -> dict[str, list]:
    """The loss curves as columns (step, style, content, tv, total), as the admin's chart draws them."""
    columns = list(zip(*run.losses, strict=True)) if run.losses else [() for _column in LOSS_COLUMNS]
    return dict(zip(LOSS_COLUMNS, (list(c) for c in columns), strict=True))
