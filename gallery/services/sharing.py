"""Sharing: a board made public or shared by a link, and an artist's opt-in public page.

Whatever others see has passed the nudity check (`Moderation.passed`): making a board public asks for each of its
pictures to be public (each through its check), and a share link asks for the check of every picture on the board
without making it public; pictures still being checked, flagged or unchecked never show on either.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gallery.models import Board, Moderation, ModerationStatus, Profile, ShareLink
from gallery.services.moderation import artwork_publish, enqueue_check
from generator.models import Artwork
from generator.ownership import require_owner


def board_publish(*, board: Board, by: User, public: bool = True) -> Board:
    """A public board is on the artist's page and readable by anybody; making it public asks for its pictures to
    be public too (each after its check). Private again, the board is hidden; its pictures stay as they are."""
    require_owner(board, by=by)
    with transaction.atomic():
        Board.objects.filter(pk=board.pk).update(public=public)
        board.public = public
        if public:
            for artwork in Artwork.objects.filter(board_items__board=board):
                artwork_publish(artwork=artwork, by=by)
    return board


def share_link_create(
    *, board: Board, by: User, expires: datetime | None = None, allow_downloads: bool = False
) -> ShareLink:
    """A new link to the board; every picture on it not checked yet is sent to the check."""
    require_owner(board, by=by)
    if expires is not None and expires <= timezone.now():
        raise ValidationError({"expires": _("The link would have expired already: choose a later date.")})
    with transaction.atomic():
        link = ShareLink.objects.create(board=board, expires=expires, allow_downloads=allow_downloads)
        unchecked = Artwork.objects.filter(board_items__board=board, moderation__isnull=True)
        for artwork in unchecked:
            Moderation.objects.create(artwork=artwork, status=ModerationStatus.PENDING)
            transaction.on_commit(partial(enqueue_check, artwork.pk))
    return link


def share_link_revoke(*, link: ShareLink, by: User) -> ShareLink:
    """The link stops working at once, for everybody, its files included."""
    require_owner(link.board, by=by)
    if link.revoked is None:
        link.revoked = timezone.now()
        ShareLink.objects.filter(pk=link.pk).update(revoked=link.revoked)
    return link


def profile_update(*, user: User, public_page: bool, display_name: str) -> Profile:
    name = " ".join(display_name.split())[:80]
    profile, _created = Profile.objects.update_or_create(
        user=user, defaults={"public_page": public_page, "display_name": name}
    )
    return profile
