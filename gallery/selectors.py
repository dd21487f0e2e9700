"""The gallery's reads: one artist's pictures through a view (search, filters, sort), boards and tags.

A view is a `GalleryView` (what the filter form and the page's address say); `artworks_in_view` turns it into
one queryset, whose page costs the same few queries however many pictures the artist has: the star and the
tags of every card come in the same round trips (an annotation and one prefetch).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Lower
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallery.models import Board, BoardItem, ShareLink, Star, Tag
from generator.models import Artwork, ModelVersion, Preset
from generator.ownership import owned_or_404

PAGE_SIZE = 48
# What a card reads (gallery.views._cards; matches() too, for a search): a page loads only these, not the JSON
# parameters and suggestions of 48 pictures it does not show.
CARD_FIELDS = ("id", "title", "created", "visibility")
MATCH_FIELDS = (*CARD_FIELDS, "params", "suggestions")
PAINTING = "painting"  # the style filter's value for a picture painted after the artist's own painting

# sort name -> (label, ordering). The primary key ends every ordering, so "next" is always defined.
SORTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "new": (_("Newest first"), ("-created", "-id")),
    "old": (_("Oldest first"), ("created", "id")),
    "title": (_("Title"), ("title_key", "-created", "-id")),
    "stars": (_("Most stars"), ("-n_stars", "-created", "-id")),  # n_stars: the kept count (Popularity)
}

# What a text search looks in, in the order the page names the matches.
MATCH_LABELS = {
    "title": _("title"),
    "tag": _("tag"),
    "style": _("style"),
    "idea": _("what it shows"),
    "label": _("assistant's label"),
}

# Why the search by meaning found a picture (gallery.services.meaning's SUBJECT and STYLE).
MEANING_LABELS = {
    "subject": _("Close in meaning to what it shows"),
    "style": _("Close in meaning to its style"),
}


@dataclass(frozen=True)
class GalleryView:
    """What the artist is looking at: a search, filters and a sort. Every field is optional."""

    q: str = ""
    style: str = ""  # a preset's slug, or PAINTING
    mode: str = ""
    version: int | None = None  # a ModelVersion's id
    since: dt.date | None = None
    until: dt.date | None = None
    board: int | None = None
    tag: str = ""
    starred: bool = False
    public: bool = False
    sort: str = "new"

    def query_string(self, **changes: Any) -> str:
        """This view (with `changes`) as an address's query string, default values left out."""
        view = replace(self, **changes)
        query = QueryDict(mutable=True)
        for f in fields(view):
            value = getattr(view, f.name)
            if value in (None, "", False) or (f.name == "sort" and value == "new"):
                continue
            query[f.name] = "1" if value is True else str(value)
        return query.urlencode()


def _stars_and_tags(queryset: QuerySet[Artwork], *, user: User) -> QuerySet[Artwork]:
    return queryset.annotate(
        is_starred=Exists(Star.objects.filter(user=user, artwork=OuterRef("pk"))),
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by(Lower("name"))))


def _style_slugs(text: str) -> list[str]:
    """The presets whose name contains `text` (in English, as they are stored)."""
    return list(Preset.objects.filter(name__icontains=text).values_list("slug", flat=True))


def _painted_with(slugs: list[str]) -> Q:
    """Pictures painted with any of these presets, alone or in a blend (Artwork.styles: one short text column)."""
    condition = Q(pk__in=[])
    for slug in slugs:
        condition |= Q(styles__contains=f" {slug} ")
    return condition


def _search(queryset: QuerySet[Artwork], text: str, *, user: User) -> QuerySet[Artwork]:
    # The pictures of the artist's tags holding the text: one list the database makes once (a correlated EXISTS
    # would look for tags once per picture).
    tagged = Tag.artworks.through.objects.filter(tag__owner=user, tag__name__icontains=text).values("artwork_id")
    # Artwork.words: the title and the assistant's words, lower-cased in one column (LIKE over it costs little)
    return queryset.filter(Q(words__contains=text.lower()) | Q(pk__in=tagged) | _painted_with(_style_slugs(text)))


def artworks_in_view(*, user: User, view: GalleryView) -> QuerySet[Artwork]:
    """The user's own pictures that the view shows, in its order."""
    queryset = Artwork.objects.filter(owner=user)
    if view.q:
        queryset = _search(queryset, view.q, user=user)
    if view.style == PAINTING:  # no preset and no blend: the artist's own painting
        queryset = queryset.filter(styles="")
    elif view.style:
        queryset = queryset.filter(_painted_with([view.style]))
    if view.mode:
        queryset = queryset.filter(params__mode=view.mode)
    if view.version is not None:
        queryset = queryset.filter(model_versions=view.version)
    if view.since:
        queryset = queryset.filter(created__date__gte=view.since)
    if view.until:
        queryset = queryset.filter(created__date__lte=view.until)
    if view.board is not None:
        queryset = queryset.filter(board_items__board=view.board, board_items__board__owner=user)
    if view.tag:
        queryset = queryset.filter(tags__owner=user, tags__name__iexact=view.tag)
    if view.starred:
        queryset = queryset.filter(pk__in=Star.objects.filter(user=user).values("artwork_id"))
    if view.public:
        queryset = queryset.filter(visibility="public")
    queryset = queryset.annotate(title_key=Lower("title"))
    if view.sort == "stars":
        queryset = queryset.annotate(n_stars=Coalesce(F("popularity__stars"), 0))
    return _stars_and_tags(queryset, user=user).order_by(*SORTS.get(view.sort, SORTS["new"])[1])


def found_by_meaning(
    *, user: User, view: GalleryView, matches, besides_words: bool = True
) -> list[tuple[Artwork, Any]]:
    """The pictures a search by meaning found (gallery.services.meaning.Match, best first) that the view's filters
    keep, each with its match; `besides_words`: less those the view's words found already (the gallery's page
    shows them above)."""
    ids = [m.artwork_id for m in matches]
    if not ids:
        return []
    kept = artworks_in_view(user=user, view=replace(view, q="")).filter(pk__in=ids)
    if besides_words:
        kept = kept.exclude(pk__in=artworks_in_view(user=user, view=view).filter(pk__in=ids).values("pk"))
    found = {str(artwork.pk): artwork for artwork in kept}
    return [(found[m.artwork_id], m) for m in matches if m.artwork_id in found]


def matches(artwork: Artwork, text: str, *, style_names: dict[str, str]) -> list[str]:
    """Which of the searched fields hold `text`, for the card to say why it was found (keys of MATCH_LABELS)."""
    needle = text.casefold()
    suggestions = artwork.suggestions or {}

    def has(*values: object) -> bool:
        return any(needle in str(v).casefold() for v in values if v)

    found = {
        "title": has(artwork.title),
        "tag": has(*(t.name for t in artwork.tags.all())),
        "style": has(*(style_names.get(slug, "") for slug in artwork.options.styles)),
        "idea": has(suggestions.get("caption")),
        "label": has(*suggestions.get("tags", ()), *suggestions.get("labels", ())),
    }
    return [key for key, hit in found.items() if hit]


def _comes_after(ordering: tuple[str, ...], artwork: Artwork) -> Q:
    """Rows after `artwork` in `ordering` (a keyset condition): on the first field that differs, the later one."""
    condition = Q(pk__in=[])
    equal = Q()
    for field in ordering:
        name = field.lstrip("-")
        value = getattr(artwork, name if name != "id" else "pk")
        later = Q(**{f"{name}__lt" if field.startswith("-") else f"{name}__gt": value})
        if value is None:  # NULL sorts apart; only title_key can be one, and Lower("") is ""
            later = Q(pk__in=[])
        condition |= equal & later
        equal &= Q(**{name: value})
    return condition


@dataclass(frozen=True)
class Neighbours:
    previous: Artwork | None
    next: Artwork | None
    position: int  # 1-based, in the view
    total: int


def neighbours(*, user: User, view: GalleryView, artwork: Artwork) -> Neighbours | None:
    """The pictures before and after `artwork` in the view; None when the view does not show it."""
    queryset = artworks_in_view(user=user, view=view)
    current = queryset.filter(pk=artwork.pk).first()
    if current is None:
        return None
    ordering = SORTS.get(view.sort, SORTS["new"])[1]
    reverse = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in ordering)
    after = _comes_after(ordering, current)
    before = _comes_after(reverse, current)
    return Neighbours(
        previous=queryset.filter(before).order_by(*reverse).first(),
        next=queryset.filter(after).order_by(*ordering).first(),
        position=queryset.filter(before).count() + 1,
        total=queryset.count(),
    )


def artwork_for(*, user: User, pk: Any) -> Artwork:
    """The user's picture with its tags, star and model versions, or 404."""
    return owned_or_404(
        _stars_and_tags(Artwork.objects.prefetch_related("model_versions", "board_items"), user=user),
        user=user,
        pk=pk,
    )


def artworks_owned(*, user: User, ids: list[str]) -> list[Artwork]:
    """Exactly these pictures of the user's; a missing id (or another artist's) is a 404."""
    wanted = set(ids)
    found = list(
        Artwork.objects.filter(owner=user, pk__in=wanted).select_related("job").prefetch_related("model_versions")
    )
    if len(found) != len(wanted):
        raise Http404
    return found


def boards_for(*, user: User) -> QuerySet[Board]:
    """The user's boards in their order, each with how many pictures and ideas it holds."""
    return (
        Board.objects.filter(owner=user)
        .annotate(
            n_artworks=Count("items__artwork"),
            n_ideas=Count("items__idea"),
        )
        .order_by("position", "created")
    )


def board_for(*, user: User, pk: Any) -> Board:
    return owned_or_404(Board.objects.all(), user=user, pk=pk)


def board_covers(boards: list[Board]) -> dict[int, Any]:
    """Each board's cover picture id: the chosen one, else the newest picture on it; one query for all."""
    covers: dict[int, Any] = {b.pk: b.cover_id for b in boards if b.cover_id}
    missing = [b.pk for b in boards if not b.cover_id]
    if missing:
        newest = (
            BoardItem.objects.filter(board__in=missing, artwork__isnull=False)
            .order_by("board", "-added", "-pk")
            .values_list("board", "artwork")
        )
        for board, artwork in newest:
            covers.setdefault(board, artwork)
    return covers


def tags_for(*, user: User) -> QuerySet[Tag]:
    return Tag.objects.filter(owner=user).annotate(n=Count("artworks")).order_by(Lower("name"))


def style_names() -> list[tuple[str, str]]:
    """(slug, name) of every preset, hidden ones too (older pictures were painted with them), by name: the style
    filter's choices. The preset table is small; the artist's pictures are not scanned for it."""
    return sorted(Preset.objects.values_list("slug", "name"), key=lambda item: item[1].casefold())


def board_names(*, user: User) -> list[tuple[int, str]]:
    """(id, name) of the user's boards in their order: menus need no counts."""
    return list(Board.objects.filter(owner=user).order_by("position", "created").values_list("pk", "name"))


def tag_names(*, user: User) -> list[str]:
    return list(Tag.objects.filter(owner=user).order_by(Lower("name")).values_list("name", flat=True))


def painting_versions() -> QuerySet[ModelVersion]:
    """Every version of the painting networks (a small table): the model-version filter's choices."""
    from generator.ml.kinds import STUDIO_KINDS

    return ModelVersion.objects.filter(kind__in=STUDIO_KINDS).order_by("kind", "slot", "-created")


# -- what others see ------------------------------------------------------------------------------------------

# A picture others may see through a board's link: its check passed (safe and not rejected, or approved).
PASSED = Q(moderation__decision="approved") | (Q(moderation__status="safe") & ~Q(moderation__decision="rejected"))

EXPLORE_SORTS = {"new": ("-created", "-id"), "stars": ("-n_stars", "-created", "-id")}


def public_artworks(*, sort: str = "new", owner: User | None = None) -> QuerySet[Artwork]:
    """Everybody's public pictures (or one artist's), newest or most starred first, each with its star count."""
    queryset = Artwork.objects.filter(visibility="public")
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return (
        queryset.annotate(n_stars=Coalesce(F("popularity__stars"), 0))
        .select_related("owner", "owner__gallery_profile")
        .order_by(*EXPLORE_SORTS.get(sort, EXPLORE_SORTS["new"]))
    )


def public_artwork(*, pk: Any) -> Artwork:
    return get_object_or_404(public_artworks(), pk=pk)


def artist_with_page(*, username: str) -> User:
    """An artist whose public page is on; 404 for anybody else (the page's existence says nothing)."""
    return get_object_or_404(User, username=username, gallery_profile__public_page=True, is_active=True)


def public_boards(*, owner: User) -> QuerySet[Board]:
    return Board.objects.filter(owner=owner, public=True).order_by("position", "created")


def public_board(*, pk: Any) -> Board:
    return get_object_or_404(Board.objects.select_related("owner"), pk=pk, public=True)


def board_public_artworks(*, board: Board) -> QuerySet[Artwork]:
    return public_artworks().filter(board_items__board=board)


def live_link(*, token: str) -> ShareLink:
    """The share link with this token while it works; 404 once it is revoked or expired (as if it never was)."""
    link = get_object_or_404(ShareLink.objects.select_related("board", "board__owner"), token=token)
    if not link.is_live(timezone.now()):
        raise Http404
    return link


def shared_artworks(*, link: ShareLink) -> QuerySet[Artwork]:
    """The board's pictures that passed their check, newest on the board first."""
    return Artwork.objects.filter(board_items__board=link.board).filter(PASSED).order_by("-board_items__added", "-id")


def shared_artwork(*, link: ShareLink, pk: Any) -> Artwork:
    return get_object_or_404(shared_artworks(link=link), pk=pk)


def shared_waiting(*, link: ShareLink) -> int:
    """How many of the board's pictures are not shown through its link (not checked yet, or held)."""
    return Artwork.objects.filter(board_items__board=link.board).exclude(PASSED).count()


def links_for(*, board: Board) -> QuerySet[ShareLink]:
    return board.links.order_by("-created")
