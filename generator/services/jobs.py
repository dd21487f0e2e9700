"""A painting job's life: created from an upload (quota, checks, queue), run by a worker (claim, paint,
progress, cancel, time limit), cancelled and retried.

The engine (torch) is imported inside `_paint` only, which runs in a worker: the web never loads it.
"""

from __future__ import annotations

import io
import logging
import time
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from generator import registry, scheduler, selectors, signals
from generator.ml.options import BLEND_PARTS, BRUSH, PAINTING_PART, STRENGTH, STUDIO_SIDES, JobOptions
from generator.models import Artwork, DailyUsage, Job, Mode, ModelUse, Preset, styles_text
from generator.ownership import require_owner
from generator.queues import Queue
from generator.services.files import atomic_with_files, delete_files, save_file, webp
from generator.services.model_versions import model_use_record
from generator.uploads import CheckedImage, check_image, stored_image

logger = logging.getLogger(__name__)

PREVIEW_SIDE = 1024  # the live preview's long side while quality mode paints
JOB_THUMBNAIL_SIDE = 256  # the photo's card in the history


def queue_for(*, mode: str, max_side: int) -> str:
    """Which worker queue a job goes to.

    Quality mode optimises for many steps and big prints paint many tiles: both want the GPU worker.
    A fast job up to ARTSTUDIO_CPU_MAX_SIDE (default 1024 px) takes seconds on a CPU, so it goes to
    "cpu" and never waits behind a long GPU job. A deployment with one worker consumes both queues.
    """
    if mode == Mode.QUALITY or max_side > settings.ARTSTUDIO_CPU_MAX_SIDE:
        return Queue.GPU
    return Queue.CPU


def job_create(
    *,
    owner: User,
    photo: UploadedFile | CheckedImage,
    style_image: UploadedFile | CheckedImage | None = None,
    options: JobOptions,
) -> Job:
    """Check everything, then save the uploads and the row, and queue the job once it is committed.

    The style is `options.style_preset` or `style_image`, one of the two. A picture is an upload, checked
    here, or one the studio checked before (`CheckedImage`: a remix's photo, a held upload). Raises
    ValidationError (a dict keyed by field) before anything is written.
    """
    errors = _style_errors(options, has_painting=style_image is not None)
    errors.update({name: out_of_range_message(name) for name in options.out_of_range()})
    checked: dict[str, CheckedImage] = {}
    for field, upload in (("photo", photo), ("style_image", style_image)):
        if upload is None:
            continue
        if isinstance(upload, CheckedImage):
            checked[field] = upload
            continue
        try:
            checked[field] = check_image(upload, field=field)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    queue = queue_for(mode=options.mode, max_side=options.max_side)
    job = Job(owner=owner, queue=queue, params=options.to_params())
    with Image.open(io.BytesIO(checked["photo"].data)) as picture:
        picture.draft("RGB", (JOB_THUMBNAIL_SIDE * 2, JOB_THUMBNAIL_SIDE * 2))  # a JPEG decodes at a fraction
        thumbnail = webp(picture.convert("RGB"), side=JOB_THUMBNAIL_SIDE, quality=78)
    job.stored_bytes = sum(len(c.data) for c in checked.values()) + len(thumbnail)
    with atomic_with_files() as written:
        _count_against_quota(owner=owner, new_bytes=job.stored_bytes)
        save_file(job.photo, "photo" + checked["photo"].suffix, checked["photo"].data, written)
        save_file(job.thumbnail, "photo.webp", thumbnail, written)
        if "style_image" in checked:
            save_file(job.style_image, "style" + checked["style_image"].suffix, checked["style_image"].data, written)
        job.queued_at = timezone.now()  # it joins the queue now, after its files: the fair order's first come
        job.save()
        # Only now may a worker look for it; if the broker does not answer, the job waits in the database
        # and the workers' tick sends its token later (generator/scheduler.py).
        transaction.on_commit(lambda: scheduler.send_tokens(queue))
    return job


def _style_errors(options: JobOptions, *, has_painting: bool) -> dict[str, str]:
    """What is wrong with a job's style: one preset, one painting of the artist's own, or a blend of styles."""
    style_preset = options.style_preset
    visible = selectors.visible_presets()
    if options.blend:
        parts = [part for part, _ in options.blend]
        slugs = [part for part in parts if part != PAINTING_PART]
        known = set(visible.filter(slug__in=slugs).values_list("slug", flat=True))
        if style_preset:
            return {"style_preset": _("Pick one style or a blend, not both.")}
        if unknown := [slug for slug in slugs if slug not in known]:
            return {"blend": _("There is no style called “%(slug)s”.") % {"slug": unknown[0]}}
        if (PAINTING_PART in parts) != has_painting:
            return {"style_image": _("A blend with your own painting needs the painting, and only then.")}
        return {}
    if bool(style_preset) == has_painting:
        return {
            "style_preset": _("Pick one of the styles or upload a painting, not both.")
            if style_preset
            else _("Pick one of the styles or upload a painting.")
        }
    if style_preset and not visible.filter(slug=style_preset).exists():
        return {"style_preset": _("There is no style called “%(slug)s”.") % {"slug": style_preset}}
    return {}


def out_of_range_message(option: str) -> str:
    """What the studio says of an option out of its range (generator/ml/options.py holds the ranges)."""
    if option == "blend":
        return _("A blend mixes %(fewest)s or %(most)s different styles, each weighed from 0 to 1 (not all 0).") % {
            "fewest": BLEND_PARTS[0],
            "most": BLEND_PARTS[1],
        }
    if option == "strength":
        return _("Strength goes from %(low)s to %(high)s.") % {"low": f"{STRENGTH.low:g}", "high": f"{STRENGTH.high:g}"}
    if option == "brush":
        return _("Brush size goes from %(low)s to %(high)s.") % {"low": f"{BRUSH.low:g}", "high": f"{BRUSH.high:g}"}
    if option == "max_side":
        sides = ", ".join(str(side) for side in STUDIO_SIDES[:-1])
        return _("Choose an output size of %(sides)s or %(last)s pixels.") % {"sides": sides, "last": STUDIO_SIDES[-1]}
    return _("Choose fast or quality mode.")


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


def job_cancel(*, job: Job, by: User) -> Job:
    """A queued job stops at once; a running one is asked to stop (the worker checks the flag)."""
    require_owner(job, by=by)
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
    require_owner(job, by=by)
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
        self.job.preview.save("preview.webp", ContentFile(webp(image, side=PREVIEW_SIDE, quality=80)), save=False)
        Job.objects.filter(pk=self.job.pk).update(preview=self.job.preview.name)
        if old:
            self.job.preview.storage.delete(old)


def _finish(job: Job, status: str, error: str = "") -> None:
    finished = timezone.now()
    with transaction.atomic():
        if _mine(job).update(status=status, error=error, finished=finished):
            _record_use(job, status, finished)


def _record_use(job: Job, outcome: str, finished, *, made_artwork: bool = False) -> None:
    """The job in its versions' history (the model dashboard), which outlives the job and its artwork."""
    model_use_record(
        versions=job.model_versions.all(),
        purpose=ModelUse.Purpose.PAINTING,
        outcome=outcome,
        started=job.started,
        finished=finished,
        made_artwork=made_artwork,
    )


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

    options = job.options
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
                **options.engine_arguments(),
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
        styles=styles_text(job.options.styles),
        device=result.device,
        seconds=round(result.seconds, 3),
        width=image.width,
        height=image.height,
        title=_style_title(job),
    )
    with atomic_with_files() as written:
        # The status change and the artwork commit together: a job is never "succeeded" without its
        # picture, and a job cancelled or taken over meanwhile does not get one.
        finished = timezone.now()
        done = _mine(job).update(
            status=Job.Status.SUCCEEDED, progress=1.0, finished=finished, device=result.device, error=""
        )
        if not done:
            return None
        _record_use(job, ModelUse.Outcome.SUCCEEDED, finished, made_artwork=True)
        thumbnail = webp(image)
        save_file(artwork.image, "artwork.png", full.getvalue(), written)
        save_file(artwork.thumbnail, "thumbnail.webp", thumbnail, written)
        artwork.stored_bytes = len(full.getvalue()) + len(thumbnail)
        artwork.save()
        # Exactly the versions the engine reports it used, each one of those the job was given
        used = (chosen.version_for(ref.kind, ref.sha256, ref.slot) for ref in result.models)
        artwork.model_versions.set([version for version in used if version is not None])
        transaction.on_commit(lambda: signals.announce_artwork_created(artwork.pk))
    return artwork


def _style_title(job: Job) -> str:
    """The preset's name ("Udnie + The Scream" for a blend of presets), or blank for a painting the person
    uploaded (templates show "Untitled")."""
    if job.options.blend:
        names = dict(Preset.objects.values_list("slug", "name"))
        return " + ".join(names.get(part, "") for part, _ in job.options.blend if part in names)[:120]
    slug = job.options.style_preset
    return Preset.objects.filter(slug=slug).values_list("name", flat=True).first() or "" if slug else ""


def job_delete(*, job: Job, by: User) -> None:
    """Delete a finished job with its files; a job that made a picture goes with its artwork."""
    from generator.services.artworks import artwork_delete

    require_owner(job, by=by)
    if not job.is_finished:
        raise ValidationError(_("Cancel the job before you delete it."))
    artwork = Artwork.objects.filter(job=job).first()
    if artwork is not None:
        artwork_delete(artwork=artwork, by=by)
        return
    files = [(f.storage, f.name) for f in job.files()]
    with transaction.atomic():
        job.delete()
        transaction.on_commit(lambda: delete_files(files))


def job_repeat(*, job: Job, by: User) -> Job:
    """The same photo, style and settings painted again as a new job, with the models active today; the old job
    and its artwork stay as they are (the new one gets its own copies of the pictures)."""
    require_owner(job, by=by)
    return job_create(
        owner=by,
        photo=stored_image(job.photo),
        style_image=stored_image(job.style_image) if job.style_image else None,
        options=job.options,
    )
