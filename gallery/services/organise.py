"""Organising: boards, tags, stars, and what an artist does to many pictures at once.

Keyword-only, typed, and each checks the owner (`generator.ownership.require_owner`). A name that does not
fit gets a ValidationError with a sentence for the page; nothing is half-written (each call is one
transaction). Deleting pictures goes through the studio's own service, which removes their files too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from assistant.models import Idea
from gallery.models import NAME_LENGTH, TAG_LENGTH, Board, BoardItem, Popularity, Star, Tag
from gallery.services.moderation import artwork_publish, artwork_unpublish
from gallery.services.sharing import board_publish
from generator import services as studio
from generator.listing import listing_changed
from generator.models import Artwork, Visibility
from generator.ownership import require_owner

_UNSET: Any = object()  # "not given", where None is a value (a board's cover)


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _require_all_owned(objects: Iterable[Artwork | Idea], *, by: User) -> None:
    for obj in objects:
        require_owner(obj, by=by)


# -- boards ---------------------------------------------------------------------------------------------


def _board_name(*, owner: User, name: str, exclude: int | None = None) -> str:
    name = _clean(name)
    if not name:
        raise ValidationError({"name": _("Give the board a name.")})
    if len(name) > NAME_LENGTH:
        raise ValidationError({"name": _("A board's name has at most %(n)d characters.") % {"n": NAME_LENGTH}})
    same = Board.objects.filter(owner=owner, name__iexact=name)
    if (same.exclude(pk=exclude) if exclude is not None else same).exists():
        raise ValidationError({"name": _("You already have a board called “%(name)s”.") % {"name": name}})
    return name


def board_create(*, owner: User, name: str) -> Board:
    """A new board, last in the artist's order."""
    name = _board_name(owner=owner, name=name)
    with transaction.atomic():
        last = Board.objects.filter(owner=owner).aggregate(n=Max("position"))["n"]
        try:
            return Board.objects.create(owner=owner, name=name, position=0 if last is None else last + 1)
        except IntegrityError:  # the same name created at once in another tab: the constraint decides
            raise ValidationError({"name": _("You already have a board called “%(name)s”.") % {"name": name}}) from None


def board_rename(*, board: Board, by: User, name: str) -> Board:
    require_owner(board, by=by)
    board.name = _board_name(owner=by, name=name, exclude=board.pk)
    Board.objects.filter(pk=board.pk).update(name=board.name)
    return board


def board_move(*, board: Board, by: User, offset: int) -> list[Board]:
    """Move a board `offset` places in the artist's order (negative: towards the front); returns the new order.

    The whole order is written again, numbered from 0, in one transaction: positions never collide or
    drift, whatever earlier moves and deletions left behind."""
    require_owner(board, by=by)
    with transaction.atomic():
        boards = list(Board.objects.select_for_update().filter(owner=by).order_by("position", "created"))
        index = next(i for i, b in enumerate(boards) if b.pk == board.pk)
        boards.insert(max(0, min(len(boards) - 1, index + offset)), boards.pop(index))
        for position, b in enumerate(boards):
            if b.position != position:
                b.position = position
                Board.objects.filter(pk=b.pk).update(position=position)
    return boards


def board_delete(*, board: Board, by: User) -> None:
    """The board goes; its pictures and ideas stay where they are."""
    require_owner(board, by=by)
    board.delete()


def board_set_cover(*, board: Board, by: User, artwork: Artwork | None) -> Board:
    """Show `artwork` for the board (it must be on it); None goes back to the newest picture on it."""
    require_owner(board, by=by)
    if artwork is not None:
        require_owner(artwork, by=by)
        if not BoardItem.objects.filter(board=board, artwork=artwork).exists():
            raise ValidationError(_("Only a picture on the board can be its cover."))
    Board.objects.filter(pk=board.pk).update(cover=artwork)
    board.cover = artwork
    return board


def board_add(*, board: Board, by: User, artworks: Sequence[Artwork] = (), ideas: Sequence[Idea] = ()) -> int:
    """Put pictures and saved ideas on a board; returns how many were new there (the rest already were)."""
    require_owner(board, by=by)
    _require_all_owned([*artworks, *ideas], by=by)
    if any(not idea.saved for idea in ideas):
        raise ValidationError(_("Save an idea before you put it on a board."))
    items = [BoardItem(board=board, artwork=a) for a in artworks] + [BoardItem(board=board, idea=i) for i in ideas]
    with transaction.atomic():
        before = board.items.count()
        BoardItem.objects.bulk_create(items, ignore_conflicts=True)  # already there: the unique constraints
        listing_changed(board.owner_id)  # (a bulk insert sends no signal)
        return board.items.count() - before


def board_remove(*, board: Board, by: User, artworks: Sequence[Artwork] = (), ideas: Sequence[Idea] = ()) -> None:
    """Take pictures and ideas off a board; they stay in the gallery. A cover taken off stops being the cover."""
    require_owner(board, by=by)
    with transaction.atomic():
        board.items.filter(artwork__in=[a.pk for a in artworks]).delete()
        board.items.filter(idea__in=[i.pk for i in ideas]).delete()
        if board.cover_id is not None and any(a.pk == board.cover_id for a in artworks):
            Board.objects.filter(pk=board.pk).update(cover=None)
            board.cover = None


# -- tags -----------------------------------------------------------------------------------------------


def tag_name(text: str) -> str:
    """A tag as it is kept: spaces collapsed; a slash or a comma is not allowed (a tag has its own address)."""
    name = _clean(text)
    if not name:
        raise ValidationError({"tag": _("Type a tag.")})
    if len(name) > TAG_LENGTH:
        raise ValidationError({"tag": _("A tag has at most %(n)d characters.") % {"n": TAG_LENGTH}})
    if any(c in name for c in "/,#?"):
        raise ValidationError({"tag": _("A tag cannot contain / , # or ?.")})
    return name


def artworks_tag(*, artworks: Sequence[Artwork], by: User, name: str) -> Tag:
    """Tag pictures, creating the tag the first time it is used (matched without regard to case)."""
    name = tag_name(name)
    _require_all_owned(artworks, by=by)
    with transaction.atomic():
        tag = Tag.objects.filter(owner=by, name__iexact=name).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(owner=by, name=name)
            except IntegrityError:  # created meanwhile by another request
                tag = Tag.objects.get(owner=by, name__iexact=name)
        tag.artworks.add(*artworks)
    return tag


def artwork_untag(*, artwork: Artwork, by: User, tag: Tag) -> None:
    """Take a tag off a picture; a tag no picture carries any more goes too (the tag pages list used tags)."""
    require_owner(artwork, by=by)
    require_owner(tag, by=by)
    with transaction.atomic():
        tag.artworks.remove(artwork)
        if not tag.artworks.exists():
            tag.delete()


# -- stars ------------------------------------------------------------------------------------------------


def artworks_star(*, artworks: Sequence[Artwork], by: User, starred: bool = True) -> None:
    """Star pictures (or take the star away). An artist stars their own pictures, or anyone's public ones."""
    for artwork in artworks:
        if artwork.owner_id != by.pk and artwork.visibility != Visibility.PUBLIC:
            raise PermissionDenied
    ids = [a.pk for a in artworks]
    with transaction.atomic():
        if starred:
            Star.objects.bulk_create([Star(user=by, artwork=a) for a in artworks], ignore_conflicts=True)
        else:
            Star.objects.filter(user=by, artwork__in=ids).delete()
        # One UPDATE counts as it writes (under the row's lock), so two artists starring at once both count.
        Popularity.objects.bulk_create([Popularity(artwork_id=pk) for pk in ids], ignore_conflicts=True)
        count = Star.objects.filter(artwork=OuterRef("artwork")).values("artwork").annotate(n=Count("pk")).values("n")
        Popularity.objects.filter(artwork__in=ids).update(stars=Coalesce(Subquery(count), 0))
        listing_changed(by.pk, *(a.owner_id for a in artworks))  # the marks, and the owners' "most starred"


# -- many at once -----------------------------------------------------------------------------------------


def artworks_delete(*, artworks: Sequence[Artwork], by: User) -> int:
    """Delete pictures with every file of them, all or none: one that is not the artist's stops them all."""
    _require_all_owned(artworks, by=by)
    with transaction.atomic():
        for artwork in artworks:
            studio.artwork_delete(artwork=artwork, by=by)
    return len(artworks)


@transaction.atomic  # all of the change or none of it
def artwork_change(
    *,
    artwork: Artwork,
    by: User,
    title: str | None = None,
    tags: list[str] | None = None,
    starred: bool | None = None,
    boards: list[int] | None = None,
    public: bool | None = None,
) -> None:
    """Several changes to one picture at once (the API's PATCH), each made as the page makes it; tags and boards
    are the whole new set."""
    require_owner(artwork, by=by)
    if title is not None:
        studio.artwork_retitle(artwork=artwork, by=by, title=title)
    if tags is not None:
        wanted = {tag_name(name).casefold(): name for name in tags}
        for tag in Tag.objects.filter(owner=by, artworks=artwork):
            if tag.name.casefold() not in wanted:
                artwork_untag(artwork=artwork, by=by, tag=tag)
        for name in wanted.values():
            artworks_tag(artworks=[artwork], by=by, name=name)
    if starred is not None:
        artworks_star(artworks=[artwork], by=by, starred=starred)
    if boards is not None:
        owned = {b.pk: b for b in Board.objects.filter(owner=by)}
        if unknown := set(boards) - set(owned):
            raise ValidationError(
                {"boards": _("There is no board %(id)s among yours.") % {"id": min(unknown)}}, code="board"
            )
        on = set(artwork.board_items.filter(board__owner=by).values_list("board_id", flat=True))
        for pk in set(boards) - on:
            board_add(board=owned[pk], by=by, artworks=[artwork])
        for pk in on - set(boards):
            board_remove(board=owned[pk], by=by, artworks=[artwork])
    if public is True:
        artwork_publish(artwork=artwork, by=by)
    elif public is False:
        artwork_unpublish(artwork=artwork, by=by)


@transaction.atomic  # all of the change or none of it
def board_change(
    *,
    board: Board,
    by: User,
    name: str | None = None,
    public: bool | None = None,
    cover: Any = _UNSET,
    move: int | None = None,
) -> Board:
    """Several changes to one board at once (the API's PATCH), each made as the page makes it. `cover`: an
    artwork's id on the board, or None for the newest one."""
    require_owner(board, by=by)
    if name is not None:
        board = board_rename(board=board, by=by, name=name)
    if cover is not _UNSET:
        artwork = None if cover is None else Artwork.objects.filter(pk=cover, owner=by).first()
        if cover is not None and artwork is None:
            raise ValidationError({"cover": _("That picture is not one of yours.")})
        board = board_set_cover(board=board, by=by, artwork=artwork)
    if move:
        board_move(board=board, by=by, offset=move)
    if public is not None:
        board = board_publish(board=board, by=by, public=public)
    return board
