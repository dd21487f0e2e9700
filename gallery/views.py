"""The gallery's pages: parse the request, call a selector or a service, render. No business logic here.

Every page keeps the view it came from (search, filters, sort) in its address, so the artwork page's
previous/next and every "back" land where the artist was.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from assistant.selectors import saved_ideas
from gallery import downloads, selectors, services
from gallery.forms import BoardForm, BulkForm, ProfileForm, ShareForm, ViewForm
from gallery.models import Moderation, Profile, ShareLink, Tag
from gallery.services import meaning
from gallery.templatetags.gallery_cards import render_cards
from generator import listing
from generator import services as studio
from generator.http import SignedInRequest
from generator.limits import over_limit, wait_message
from generator.models import Visibility
from generator.ownership import owned_or_404
from generator.views import png_download, send_file


def _view(request: SignedInRequest, **fixed) -> tuple[ViewForm, selectors.GalleryView]:
    data = request.GET.copy()
    for name, value in fixed.items():
        data[name] = value
    form = ViewForm(data, user=request.user)
    return form, form.view()


def _back(request: SignedInRequest, default: str) -> HttpResponse:
    """To the `next` address the form carried (this site's only), else `default`."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = default
    return redirect(target)


def _error(request: SignedInRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


UUID_SLOT = uuid.UUID(int=0)
UUID_SLOT_TEXT = str(UUID_SLOT)


def _cards(artworks, view: selectors.GalleryView, matched) -> list[dict]:
    """Plain values for the cards: 48 of them render with a fraction of the template lookups model objects need.
    `matched(artwork)`: the words saying why the search found it."""
    query = view.query_string()
    thumbnail = reverse("generator:artwork-thumbnail", args=[UUID_SLOT]).replace(UUID_SLOT_TEXT, "{}")
    page_url = reverse("gallery:artwork", args=[UUID_SLOT]).replace(UUID_SLOT_TEXT, "{}") + (
        f"?{query}" if query else ""
    )
    return [
        {
            "pk": artwork.pk,
            "url": page_url.format(artwork.pk),
            "thumbnail": thumbnail.format(artwork.pk),
            "title": artwork.title,
            "created": artwork.created,
            "starred": artwork.is_starred,
            "public": artwork.visibility == Visibility.PUBLIC,
            "tags": [t.name for t in artwork.tags.all()],
            "matched": matched(artwork),
        }
        for artwork in artworks
    ]


def _grid_context(request: SignedInRequest, form: ViewForm, view: selectors.GalleryView, **fixed) -> dict:
    """The grid's context; `fixed`: what the page itself chooses (a board, a tag), not the artist's filters."""
    query = view.query_string()

    def page_of_cards() -> tuple[int, int, list[dict], str | None]:
        artworks = selectors.artworks_in_view(user=request.user, view=view)
        page = Paginator(
            artworks.only(*(selectors.MATCH_FIELDS if view.q else selectors.CARD_FIELDS)), selectors.PAGE_SIZE
        ).get_page(request.GET.get("page"))
        names = dict(selectors.style_names()) if view.q else {}

        def matched(artwork) -> list:
            return [selectors.MATCH_LABELS[k] for k in selectors.matches(artwork, view.q, style_names=names)]

        cards = _cards(page.object_list, view, matched if view.q else lambda a: [])
        # a board's page gives each card a form (with the CSRF token): rendered there, never kept
        html = None if "board" in fixed else render_cards(cards, found_in=_("Found in:"))
        return page.paginator.count, page.number, cards, html

    # The count, the cards and their markup, kept until the artist's pictures change (generator.listing): the
    # page's rows, their tags, the count and the cards' markup are most of its time.
    count, number, cards, cards_html = listing.kept(
        request.user.pk, ("grid", query, request.GET.get("page")), page_of_cards
    )
    paginator: Paginator[dict] = Paginator((), selectors.PAGE_SIZE)
    paginator.count = count  # the cached_property, known already
    page: Page[dict] = Page(cards, number, paginator)
    meaning_url = ""
    if view.q and page.number == 1:  # the words' matches now, the meaning's when a worker has read them
        meaning.meaning_search_start(owner_id=request.user.pk, q=view.q)
        meaning_url = f"{reverse('gallery:meaning')}?{query}"
    return {
        "cards": cards,
        "cards_html": cards_html,
        "form": form,
        "view": view,
        "page": page,
        "query": query,  # the fixed board or tag included: an artwork's neighbours stay in it
        "filtered": view != selectors.GalleryView(sort=view.sort, **fixed),
        "boards": selectors.board_names(user=request.user),
        "tags": selectors.tag_names(user=request.user),
        "sorts": [(key, label) for key, (label, _ordering) in selectors.SORTS.items()],
        "meaning_url": meaning_url,
    }


@login_required
@require_safe
def index(request: SignedInRequest) -> HttpResponse:
    form, view = _view(request)
    return render(request, "gallery/index.html", _grid_context(request, form, view))


@login_required
@require_safe
def tag_detail(request: SignedInRequest, name: str) -> HttpResponse:
    tag = get_object_or_404(Tag, owner=request.user, name__iexact=name)  # another artist's tag: 404 too
    form, view = _view(request, tag=tag.name)
    return render(request, "gallery/index.html", {**_grid_context(request, form, view, tag=tag.name), "tag": tag})


@login_required
@require_safe
def meaning_matches(request: SignedInRequest) -> HttpResponse:
    """The search's matches by meaning, for the grid's page to poll (htmx) or, without scripts, as a page."""
    _form, view = _view(request)
    if not view.q:
        return redirect("gallery:index")
    answer = meaning.meaning_search_result(owner_id=request.user.pk, q=view.q)
    if answer is None:  # expired, or never asked: ask now, and the next poll reads it
        meaning.meaning_search_start(owner_id=request.user.pk, q=view.q)
        answer = meaning.Answer("waiting")
    found = selectors.found_by_meaning(user=request.user, view=view, matches=answer.matches)
    why = {m.artwork_id: selectors.MEANING_LABELS[m.why] for _artwork, m in found}
    context = {
        "answer": answer,
        "view": view,
        "poll_url": request.get_full_path(),
        "gallery_url": f"{reverse('gallery:index')}?{view.query_string()}",
        "cards": _cards([a for a, _m in found], view, lambda artwork: [why[str(artwork.pk)]]),
    }
    if request.headers.get("HX-Request"):
        return render(request, "gallery/_meaning.html", context)
    return render(request, "gallery/meaning.html", context)


@login_required
@require_safe
def tag_list(request: SignedInRequest) -> HttpResponse:
    return render(request, "gallery/tags.html", {"tags": selectors.tags_for(user=request.user)})


# -- one artwork ----------------------------------------------------------------------------------------


@login_required
@require_safe
def artwork_detail(request: SignedInRequest, pk) -> HttpResponse:
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    _form, view = _view(request)
    on_boards = {item.board_id for item in artwork.board_items.all()}
    tags = {t.name.casefold() for t in artwork.tags.all()}
    versions = sorted(artwork.model_versions.all(), key=lambda v: (v.kind, v.slot))
    return render(
        request,
        "gallery/artwork.html",
        {
            "artwork": artwork,
            "view": view,
            "query": view.query_string(),
            "here": request.get_full_path(),
            "neighbours": selectors.neighbours(user=request.user, view=view, artwork=artwork),
            "boards": [(b, b.pk in on_boards) for b in selectors.boards_for(user=request.user)],
            "suggested_tags": [t for t in (artwork.suggestions or {}).get("tags", []) if t.casefold() not in tags],
            "model_versions": versions,
            "retired": any(not v.is_active for v in versions),
            "own_tags": selectors.tag_names(user=request.user),
            "moderation": Moderation.objects.filter(artwork=artwork).first(),
        },
    )


@login_required
@require_POST
def artwork_retitle(request: SignedInRequest, pk) -> HttpResponse:
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    studio.artwork_retitle(artwork=artwork, by=request.user, title=request.POST.get("title", ""))
    return _back(request, reverse("gallery:artwork", args=[pk]))


@login_required
@require_POST
def artwork_visibility(request: SignedInRequest, pk) -> HttpResponse:
    """public=1 asks for the picture to be public (after its check); public=0 makes it private again."""
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    if request.POST.get("public") == "1":
        moderation = services.artwork_publish(artwork=artwork, by=request.user)
        if moderation.passed:
            messages.success(request, _("The picture is public."))
        elif moderation.decision:
            messages.error(request, _("An admin decided this picture stays private."))
        else:
            messages.info(request, _("The picture is being checked; it becomes public once the check passes."))
    else:
        services.artwork_unpublish(artwork=artwork, by=request.user)
        messages.success(request, _("Only you can see the picture now."))
    return _back(request, reverse("gallery:artwork", args=[pk]))


@staff_member_required
@require_safe
def moderation_picture(request: SignedInRequest, pk) -> FileResponse:
    """A picture in the moderation queue, for the admins who decide on it (and only such pictures)."""
    moderation = get_object_or_404(Moderation.objects.select_related("artwork"), artwork_id=pk)
    response = send_file(moderation.artwork.image)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def artwork_repeat(request: SignedInRequest, pk) -> HttpResponse:
    """Paint the artwork again with today's models: a new job, and in time a new artwork beside this one."""
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    if over_limit(request, group="jobs", rate=settings.ARTSTUDIO_RATE_JOBS):
        messages.error(request, wait_message(settings.ARTSTUDIO_RATE_JOBS))
        return redirect("gallery:artwork", pk=artwork.pk)
    try:
        job = studio.job_repeat(job=artwork.job, by=request.user)
    except ValidationError as exc:  # the quota
        _error(request, exc)
        return redirect("gallery:artwork", pk=artwork.pk)
    messages.success(request, _("Painting it again with today's models; the new picture will sit beside this one."))
    return redirect(job)


@login_required
@require_POST
def artwork_delete(request: SignedInRequest, pk) -> HttpResponse:
    studio.artwork_delete(artwork=selectors.artwork_for(user=request.user, pk=pk), by=request.user)
    messages.success(request, _("The picture and its uploads were deleted."))
    return _back(request, reverse("gallery:index"))


@login_required
@require_POST
def artwork_star(request: SignedInRequest, pk) -> HttpResponse:
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    services.artworks_star(artworks=[artwork], by=request.user, starred=request.POST.get("starred", "1") == "1")
    return _back(request, reverse("gallery:artwork", args=[pk]))


@login_required
@require_POST
def artwork_tag(request: SignedInRequest, pk) -> HttpResponse:
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    try:
        services.artworks_tag(artworks=[artwork], by=request.user, name=request.POST.get("tag", ""))
    except ValidationError as exc:
        _error(request, exc)
    return _back(request, reverse("gallery:artwork", args=[pk]))


@login_required
@require_POST
def artwork_untag(request: SignedInRequest, pk, tag: int) -> HttpResponse:
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    services.artwork_untag(
        artwork=artwork, by=request.user, tag=owned_or_404(Tag.objects.all(), user=request.user, pk=tag)
    )
    return _back(request, reverse("gallery:artwork", args=[pk]))


@login_required
@require_POST
def artwork_board(request: SignedInRequest, pk, board: int) -> HttpResponse:
    """Put the picture on a board (on=1) or take it off (on=0)."""
    artwork = selectors.artwork_for(user=request.user, pk=pk)
    chosen = selectors.board_for(user=request.user, pk=board)
    if request.POST.get("on", "1") == "1":
        services.board_add(board=chosen, by=request.user, artworks=[artwork])
    else:
        services.board_remove(board=chosen, by=request.user, artworks=[artwork])
    return _back(request, reverse("gallery:artwork", args=[pk]))


# -- boards ---------------------------------------------------------------------------------------------


@login_required
def board_list(request: SignedInRequest) -> HttpResponse:
    """The boards in their order; posting a name creates one."""
    form = BoardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            board = services.board_create(owner=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", exc.messages)
        else:
            messages.success(request, _("Board “%(name)s” created.") % {"name": board.name})
            return _back(request, reverse("gallery:boards"))
    boards = list(selectors.boards_for(user=request.user))
    covers = selectors.board_covers(boards)
    status = 400 if request.method == "POST" else 200
    context = {"boards": [(board, covers.get(board.pk)) for board in boards], "form": form}
    return render(request, "gallery/boards.html", context, status=status)


@login_required
@require_safe
def board_detail(request: SignedInRequest, pk) -> HttpResponse:
    board = selectors.board_for(user=request.user, pk=pk)
    form, view = _view(request, board=str(board.pk))
    ideas = saved_ideas(user=request.user).filter(pk__in=board.items.filter(idea__isnull=False).values("idea"))
    addable = saved_ideas(user=request.user).exclude(pk__in=ideas.values("pk"))[:50]
    return render(
        request,
        "gallery/board.html",
        {
            **_grid_context(request, form, view, board=board.pk),
            "board": board,
            "ideas": ideas,
            "addable_ideas": addable,
            "links": selectors.links_for(board=board),
            "now": timezone.now(),
            "share_form": ShareForm(),
        },
    )


@login_required
@require_POST
def board_rename(request: SignedInRequest, pk) -> HttpResponse:
    board = selectors.board_for(user=request.user, pk=pk)
    try:
        services.board_rename(board=board, by=request.user, name=request.POST.get("name", ""))
    except ValidationError as exc:
        _error(request, exc)
    return _back(request, board.get_absolute_url())


@login_required
@require_POST
def board_move(request: SignedInRequest, pk) -> HttpResponse:
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.board_move(board=selectors.board_for(user=request.user, pk=pk), by=request.user, offset=offset)
    return _back(request, reverse("gallery:boards"))


@login_required
@require_POST
def board_delete(request: SignedInRequest, pk) -> HttpResponse:
    board = selectors.board_for(user=request.user, pk=pk)
    services.board_delete(board=board, by=request.user)
    messages.success(request, _("Board “%(name)s” deleted; its pictures are still in your gallery.") % {"name": board})
    return redirect("gallery:boards")


@login_required
@require_POST
def board_cover(request: SignedInRequest, pk) -> HttpResponse:
    board = selectors.board_for(user=request.user, pk=pk)
    chosen = request.POST.get("artwork")
    artwork = selectors.artwork_for(user=request.user, pk=chosen) if chosen else None
    try:
        services.board_set_cover(board=board, by=request.user, artwork=artwork)
    except ValidationError as exc:
        _error(request, exc)
    return _back(request, board.get_absolute_url())


@login_required
@require_POST
def board_ideas(request: SignedInRequest, pk) -> HttpResponse:
    """Put saved ideas on the board (add=1) or take one off (add=0)."""
    board = selectors.board_for(user=request.user, pk=pk)
    ideas = list(saved_ideas(user=request.user).filter(pk__in=request.POST.getlist("ideas")))
    if request.POST.get("add", "1") == "1":
        services.board_add(board=board, by=request.user, ideas=ideas)
    else:
        services.board_remove(board=board, by=request.user, ideas=ideas)
    return redirect(board)


# -- many at once ----------------------------------------------------------------------------------------


@login_required
@require_POST
def selection(request: SignedInRequest) -> HttpResponseBase:
    """What the gallery's selection bar asks for, on the checked pictures (all the artist's, or a 404)."""
    form = BulkForm(request.POST)
    default = reverse("gallery:index")
    if not form.is_valid():
        messages.error(request, _("Choose one or more pictures and what to do with them."))
        return _back(request, default)
    data = form.cleaned_data
    artworks = selectors.artworks_owned(user=request.user, ids=[str(i) for i in data["ids"]])
    action = data["action"]
    n = len(artworks)
    try:
        if action == "zip":
            return _zip_response(artworks)
        if action == "board":
            board = selectors.board_for(user=request.user, pk=data["board"])
            added = services.board_add(board=board, by=request.user, artworks=artworks)
            messages.success(
                request,
                ngettext("%(n)d picture added to “%(board)s”.", "%(n)d pictures added to “%(board)s”.", added)
                % {"n": added, "board": board.name},
            )
        elif action == "tag":
            tag = services.artworks_tag(artworks=artworks, by=request.user, name=data["tag"] or "")
            messages.success(
                request,
                ngettext("%(n)d picture tagged “%(tag)s”.", "%(n)d pictures tagged “%(tag)s”.", n)
                % {"n": n, "tag": tag.name},
            )
        elif action in ("star", "unstar"):
            services.artworks_star(artworks=artworks, by=request.user, starred=action == "star")
        elif action == "public":
            checks = [services.artwork_publish(artwork=a, by=request.user) for a in artworks]
            public = sum(1 for m in checks if m.passed)
            messages.success(
                request,
                _("%(public)d of %(n)d pictures are public; the others become public once their check passes.")
                % {"public": public, "n": n},
            )
        elif action == "private":
            for artwork in artworks:
                services.artwork_unpublish(artwork=artwork, by=request.user)
        elif action == "delete":
            services.artworks_delete(artworks=artworks, by=request.user)
            messages.success(request, ngettext("%(n)d picture deleted.", "%(n)d pictures deleted.", n) % {"n": n})
    except ValidationError as exc:
        _error(request, exc)
    return _back(request, default)


def _zip_response(artworks) -> StreamingHttpResponse:
    archive = downloads.artworks_zip(artworks)
    response = StreamingHttpResponse(archive, content_type="application/zip")
    response["Content-Length"] = str(len(archive))
    response["Content-Disposition"] = 'attachment; filename="artstudio-pictures.zip"'
    response["Cache-Control"] = "no-store"
    return response


# -- sharing: public boards, share links, the artist's page ------------------------------------------------------


@login_required
@require_POST
def board_visibility(request: SignedInRequest, pk) -> HttpResponse:
    board = selectors.board_for(user=request.user, pk=pk)
    public = request.POST.get("public") == "1"
    services.board_publish(board=board, by=request.user, public=public)
    if public:
        messages.success(request, _("The board is public; each picture on it shows once its check passes."))
    else:
        messages.success(request, _("The board is private again."))
    return redirect(board)


@login_required
@require_POST
def board_share(request: SignedInRequest, pk) -> HttpResponse:
    """A new share link: expires after the days given (none: never), downloads allowed or not."""
    board = selectors.board_for(user=request.user, pk=pk)
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(board)
    days = form.cleaned_data["days"]
    services.share_link_create(
        board=board,
        by=request.user,
        expires=timezone.now() + timedelta(days=days) if days else None,
        allow_downloads=form.cleaned_data["allow_downloads"],
    )
    messages.success(request, _("A new link to the board is ready to copy."))
    return redirect(board)


@login_required
@require_POST
def link_revoke(request: SignedInRequest, pk, link: int) -> HttpResponse:
    board = selectors.board_for(user=request.user, pk=pk)
    services.share_link_revoke(link=get_object_or_404(ShareLink, pk=link, board=board), by=request.user)
    messages.success(request, _("The link no longer works, for anybody."))
    return redirect(board)


@require_safe
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """A board shared by a link: its pictures that passed their check, for whoever holds the link."""
    link = selectors.live_link(token=token)  # fresh each time: a revoked link stops at once

    def grid() -> str:
        context = {
            "link": link,
            "artworks": selectors.shared_artworks(link=link)[: selectors.PAGE_SIZE * 4],
            "waiting": selectors.shared_waiting(link=link),
        }
        return render_to_string("gallery/_shared_grid.html", context)

    parts = ("shared", link.pk, link.allow_downloads)  # the board's pictures are its owner's
    response = render(
        request,
        "gallery/shared.html",
        {"link": link, "board": link.board, "grid": listing.kept(link.board.owner_id, parts, grid)},
    )
    response["Cache-Control"] = "private, no-store"  # a revoked link must stop working at once
    response["Referrer-Policy"] = "no-referrer"  # the token never leaves in a Referer
    return response


@require_safe
def shared_file(request: HttpRequest, token: str, pk, kind: str) -> HttpResponseBase:
    """A picture through its board's link: the thumbnail always, the PNG only where downloads are allowed."""
    link = selectors.live_link(token=token)
    artwork = selectors.shared_artwork(link=link, pk=pk)
    if kind == "image" and not link.allow_downloads:
        raise Http404
    response = send_file(artwork.thumbnail) if kind == "thumbnail" else png_download(artwork)
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def explore(request: HttpRequest) -> HttpResponse:
    """Everybody's public pictures, newest or most starred first."""
    sort = request.GET.get("sort", "new")
    sort = sort if sort in selectors.EXPLORE_SORTS else "new"

    def grid() -> str:
        page = Paginator(selectors.public_artworks(sort=sort), selectors.PAGE_SIZE).get_page(request.GET.get("page"))
        return render_to_string("gallery/_explore_grid.html", {"page": page, "sort": sort})

    # kept until any public picture (or its stars, its artist's name) changes: every artist's change forgets it
    grid_html = listing.kept(listing.PUBLIC, ("explore", sort, request.GET.get("page")), grid)
    return render(request, "gallery/explore.html", {"grid": grid_html, "sort": sort})


@require_safe
def public_artwork(request: HttpRequest, pk) -> HttpResponse:
    artwork = selectors.public_artwork(pk=pk)
    starred = request.user.is_authenticated and artwork.stars.filter(user=request.user).exists()
    return render(request, "gallery/public_artwork.html", {"artwork": artwork, "starred": starred})


@login_required
@require_POST
def public_star(request: SignedInRequest, pk) -> HttpResponse:
    artwork = selectors.public_artwork(pk=pk)
    services.artworks_star(artworks=[artwork], by=request.user, starred=request.POST.get("starred", "1") == "1")
    return redirect("gallery:public-artwork", pk=pk)


@require_safe
def artist_page(request: HttpRequest, username: str) -> HttpResponse:
    artist = selectors.artist_with_page(username=username)
    return render(
        request,
        "gallery/artist.html",
        {
            "artist": artist,
            "artworks": selectors.public_artworks(owner=artist)[: selectors.PAGE_SIZE],
            "boards": selectors.public_boards(owner=artist),
        },
    )


@require_safe
def public_board(request: HttpRequest, pk) -> HttpResponse:
    board = selectors.public_board(pk=pk)
    artworks = selectors.board_public_artworks(board=board)[: selectors.PAGE_SIZE * 4]
    return render(request, "gallery/public_board.html", {"board": board, "artworks": artworks})


@login_required
def profile(request: SignedInRequest) -> HttpResponse:
    """The artist's public page: on or off, and the name it shows."""
    current = Profile.objects.filter(user=request.user).first()
    form = ProfileForm(
        request.POST if request.method == "POST" else None,  # an empty POST turns the page off
        initial={
            "public_page": bool(current and current.public_page),
            "display_name": current.display_name if current else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("gallery:profile")
    return render(request, "gallery/profile.html", {"form": form})
