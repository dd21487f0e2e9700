"""Views: parse the request, call a selector or a service, render. No business logic here."""

from __future__ import annotations

import mimetypes
import uuid
from functools import partial, wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from generator import held, provenance, selectors, services
from generator.forms import BLEND_SLOTS, SignupForm, StudioForm
from generator.http import SignedInRequest
from generator.limits import form_over_limit, over_limit, wait_message
from generator.models import Artwork, Job, Preset, Visibility
from generator.uploads import check_image

# A picture opened on its own tab: the browser's image viewer styles it inline, and nothing in it may run
# or load anything (sandbox), whatever the file turned out to be.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" when the database answers; 503 otherwise. For the launcher and container checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("generator:studio")
    return render(request, "generator/home.html", {"presets": _preset_cards(selectors.visible_presets()[:8])})


def throttled(view):
    """Login, sign-up and password-reset posts, counted per address (ARTSTUDIO_RATE_LOGIN): guessing
    across many accounts from one address slows down. django-axes locks one account tried too often."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        rate = settings.ARTSTUDIO_RATE_LOGIN
        if request.method == "POST" and over_limit(request, group="login", rate=rate):
            return render(request, "registration/throttled.html", {"message": wait_message(rate)}, status=429)
        return view(request, *args, **kwargs)

    return wrapped


@throttled
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("generator:studio")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # just made: no password check
        messages.success(request, _("Welcome to Artstudio, %(name)s!") % {"name": user.get_username()})
        return redirect("generator:studio")
    return render(request, "registration/signup.html", {"form": form})


def _preset_cards(presets) -> list[dict]:
    return [
        {
            "slug": p.slug,
            "name": _(p.name),
            "tags": p.tags,
            "kind": p.kind,
            "credit": p.credit,
            "thumbnail": reverse("generator:preset-thumbnail", args=[p.slug]) if p.thumbnail else "",
        }
        for p in presets
    ]


@require_safe
def preset_thumbnail(request: HttpRequest, slug: str) -> FileResponse:
    """A preset's thumbnail; public, like the home page that shows some of them."""
    presets = Preset.objects.all() if request.user.is_staff else Preset.objects.filter(hidden=False)
    preset = get_object_or_404(presets, slug=slug)
    response = send_file(preset.thumbnail)
    # a hidden preset is for staff only: no shared cache may keep it for everybody
    response["Cache-Control"] = "private, max-age=3600" if preset.hidden else "public, max-age=3600"
    return response


@login_required
def studio(request: SignedInRequest) -> HttpResponse:
    presets = list(selectors.visible_presets())
    remix = _remix_source(request)
    form = StudioForm(
        request.POST or None,
        request.FILES or None,
        presets=presets,
        owner=request.user,
        initial=_remix_initial(request, remix) if remix else None,
    )
    limited = form_over_limit(request, form, group="jobs", rate=settings.ARTSTUDIO_RATE_JOBS)
    if not limited and request.method == "POST" and form.is_valid():
        photo, painting = form.pictures()
        try:
            job = services.job_create(owner=request.user, photo=photo, style_image=painting, options=form.options())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            for name in ("photo", "style"):  # the job has its own copies now
                if token := form.held(name):
                    transaction.on_commit(partial(held.release, owner=request.user, token=token))
            return redirect(job)
    held_tokens = {name: form.held(name) for name in ("photo", "style")}
    if request.method == "POST" and not limited and any(field != NON_FIELD_ERRORS for field in form.errors):
        # the artist has something in the form to fix: keep the pictures for the next try. A refusal (the rate,
        # the quota) writes nothing.
        held_tokens.update(_hold_uploads(request, form))
    status = 429 if limited else 400 if request.method == "POST" else 200
    selected = form["style_preset"].value() or "starry-night"
    if request.method == "GET" and request.GET.get("style") in {p.slug for p in presets}:
        selected = request.GET["style"]  # the assistant's suggestions open the studio on a style
    context = {
        "form": form,
        "presets": _preset_cards(presets),
        "selected_preset": selected,
        "held": held_tokens,
        "remix": remix,
        "recent_jobs": selectors.recent_jobs_for(user=request.user),
        "usage": selectors.usage_for(user=request.user),
        "blend_fields": [(form[f"blend_{i}"], form[f"blend_{i}_weight"]) for i in BLEND_SLOTS],
    }
    return render(request, "generator/studio.html", context, status=status)


def _remix_source(request: SignedInRequest) -> Artwork | None:
    """The artwork a "Remix" link opens the studio with (the artist's own), or None."""
    pk = request.GET.get("remix", "") if request.method == "GET" else ""
    try:
        uuid.UUID(pk)
    except ValueError:
        return None
    return selectors.artwork_for(user=request.user, pk=pk)


def _remix_initial(request: SignedInRequest, artwork: Artwork) -> dict:
    """The studio's form as the artwork was painted: its photo and painting held, its settings chosen."""
    options, job = artwork.options, artwork.job
    initial = {
        "held_photo": held.hold_stored(owner=request.user, field=job.photo),
        "style_source": "blend" if options.blend else "preset" if options.style_preset else "upload",
        "style_preset": options.style_preset,
        "strength": options.strength,
        "brush": options.brush,
        "preserve_colors": options.preserve_colors,
        "max_side": options.max_side,
        "mode": options.mode,
    }
    for i, (part, weight) in enumerate(options.blend, start=1):
        initial[f"blend_{i}"], initial[f"blend_{i}_weight"] = part, weight
    if job.style_image:
        initial["held_style"] = held.hold_stored(owner=request.user, field=job.style_image)
    return initial


def _hold_uploads(request: SignedInRequest, form: StudioForm) -> dict[str, str]:
    """A form sent back with errors keeps the pictures it was given: each good upload is held for the next try
    (and a bad one is said to be bad now, not after the artist has fixed the rest)."""
    tokens = {}
    for name, field in (("photo", "photo"), ("style", "style_image")):
        upload = request.FILES.get(field)
        if upload is None or form.has_error(field):
            continue
        try:
            checked = check_image(upload, field=field)
        except ValidationError as exc:
            form.add_error(field, exc.message_dict[field])
            continue
        tokens[name] = held.hold_upload(owner=request.user, checked=checked)
    return tokens


@login_required
@require_safe
def held_picture(request: SignedInRequest, token: str) -> FileResponse:
    """A picture held for the studio's next submit, for its owner (the form's preview)."""
    name = held.held_name(owner=request.user, token=token)
    if name is None:
        raise Http404
    response = send_file(default_storage.open(name))
    response["Cache-Control"] = "private, no-store"
    return response


def _job_context(request: HttpRequest, job: Job) -> dict:
    return {
        "job": job,
        "position": selectors.queue_position(job=job),
        "typical": None if job.is_finished else selectors.typical_seconds(job=job),
        "artwork": getattr(job, "artwork", None) if job.status == Job.Status.SUCCEEDED else None,
    }


HISTORY_PAGE_SIZE = 30


@login_required
@require_safe
def job_history(request: SignedInRequest) -> HttpResponse:
    """Every job of the artist's, newest first, with a picture of each (the result, else the photo)."""
    status = request.GET.get("status", "")
    status = status if status in Job.Status.values else ""
    page = Paginator(selectors.jobs_for(user=request.user, status=status), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    names = dict(Preset.objects.values_list("slug", "name"))
    for job in page.object_list:
        job.style_name = _(names[job.style_label]) if job.style_label in names else ""
    return render(request, "generator/history.html", {"page": page, "status": status, "statuses": Job.Status.choices})


@login_required
@require_POST
def job_delete(request: SignedInRequest, pk) -> HttpResponse:
    job = selectors.job_for(user=request.user, pk=pk)
    try:
        services.job_delete(job=job, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(job)
    messages.success(request, _("The job and its uploads were deleted."))
    return redirect("generator:history")


@login_required
def job_detail(request: SignedInRequest, pk) -> HttpResponse:
    job = selectors.job_for(user=request.user, pk=pk)
    return render(request, "generator/job.html", _job_context(request, job))


@login_required
@never_cache
def job_status(request: SignedInRequest, pk) -> HttpResponse:
    """The live part of the job page; htmx polls it until the job finishes."""
    job = selectors.job_for(user=request.user, pk=pk)
    return render(request, "generator/_job_status.html", _job_context(request, job))


@login_required
@require_POST
def job_cancel(request: SignedInRequest, pk) -> HttpResponse:
    job = services.job_cancel(job=selectors.job_for(user=request.user, pk=pk), by=request.user)
    if job.status == Job.Status.CANCELLED:
        messages.info(request, _("The job was cancelled."))
    elif job.cancel_requested:
        messages.info(request, _("Stopping the job…"))
    return _back_to_job(request, job)


@login_required
@require_POST
def job_retry(request: SignedInRequest, pk) -> HttpResponse:
    job = selectors.job_for(user=request.user, pk=pk)
    if over_limit(request, group="jobs", rate=settings.ARTSTUDIO_RATE_JOBS):
        return _back_to_job(request, job, error=wait_message(settings.ARTSTUDIO_RATE_JOBS), status=429)
    try:
        job = services.job_retry(job=job, by=request.user)
    except ValidationError as exc:  # the quota
        return _back_to_job(request, job, error=" ".join(exc.messages), status=409)
    if job.status == Job.Status.QUEUED:
        messages.success(request, _("The job is queued again."))
    return _back_to_job(request, job)


def _back_to_job(request: HttpRequest, job: Job, *, error: str = "", status: int = 200) -> HttpResponse:
    """The job's live part for htmx, else its page; an error shows on either."""
    if request.headers.get("HX-Request"):
        return render(
            request, "generator/_job_status.html", {**_job_context(request, job), "error": error}, status=status
        )
    if error:
        messages.error(request, error)
    return redirect(job)


def send_file(field, *, download_name: str | None = None) -> FileResponse:
    """A stored file, after the view has decided who may have it. With ARTSTUDIO_SENDFILE set, the web process
    only names the file and the proxy in front sends it (nginx: X-Accel-Redirect to an internal location;
    Apache: X-Sendfile with the path), so a big picture never ties up a web worker."""
    if not field:
        raise Http404
    if settings.ARTSTUDIO_SENDFILE:
        return _proxy_sends(field, download_name)
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"  # by our own name for it
    response = FileResponse(
        handle, content_type=content_type, as_attachment=download_name is not None, filename=download_name or ""
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = FILE_POLICY  # django-csp leaves a header that is already set
    return response


def _proxy_sends(field, download_name: str | None) -> FileResponse:
    name = field.name
    if not field.storage.exists(name):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(
        iter(()), content_type=content_type, as_attachment=download_name is not None, filename=download_name or ""
    )
    if settings.ARTSTUDIO_SENDFILE == "nginx":
        response["X-Accel-Redirect"] = settings.ARTSTUDIO_SENDFILE_PREFIX.rstrip("/") + "/" + quote(name)
    else:  # apache (mod_xsendfile)
        response["X-Sendfile"] = field.path
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = FILE_POLICY
    return response


@login_required
def job_file(request: SignedInRequest, pk, kind: str) -> FileResponse:
    """A job's photo, style painting or preview, for its owner only."""
    job = selectors.job_for(user=request.user, pk=pk)
    field = {"photo": job.photo, "style": job.style_image, "preview": job.preview, "thumbnail": job.thumbnail}[kind]
    response = send_file(field)
    if kind == "preview":
        response["Cache-Control"] = "no-store"  # it changes while the job runs
    return response


@require_safe
def artwork_file(request: HttpRequest, pk, kind: str) -> HttpResponseBase:
    """An artwork's picture or thumbnail: a public one for anybody, a private one for its owner (anybody else
    gets the 404 of a picture that does not exist). `?download=1`: the PNG under its title, with its
    parameters and model versions in its text chunks."""
    artwork = selectors.artwork_seen_by(user=request.user, pk=pk)
    public = artwork.visibility == Visibility.PUBLIC
    if kind == "thumbnail" or not request.GET.get("download"):
        shown = send_file(artwork.thumbnail if kind == "thumbnail" else artwork.image)
        # A public picture may sit in a shared cache, briefly: made private again, it is gone from them soon
        shown["Cache-Control"] = "public, max-age=600" if public else "private, max-age=3600"
        return shown
    return png_download(artwork)


def png_download(artwork: Artwork) -> StreamingHttpResponse:
    """The PNG as an attachment under its title, its parameters and model versions in its text chunks."""
    try:
        pieces, length = provenance.artwork_png(artwork)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    download = StreamingHttpResponse(pieces, content_type="image/png")
    download["Content-Length"] = str(length)
    download["Content-Disposition"] = content_disposition_header(True, provenance.download_name(artwork)) or ""
    download["Cache-Control"] = "private, no-cache"  # a new title or tag changes what it carries
    download["Content-Security-Policy"] = FILE_POLICY
    return download
