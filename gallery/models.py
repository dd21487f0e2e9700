"""How an artist organises their pictures: boards (albums), tags and stars.

The pictures themselves are the studio's (`generator.Artwork`) and the saved ideas the assistant's
(`assistant.Idea`); this app only points at them, so deleting a board or a tag never deletes a picture.
Writes go through ``gallery.services``, reads of more than a line through ``gallery.selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

NAME_LENGTH = 80
TAG_LENGTH = 40


class Board(models.Model):
    """An album: pictures and saved ideas side by side, in the artist's own order of boards."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="boards", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=NAME_LENGTH)
    position = models.PositiveIntegerField(_("position"), default=0)
    # The picture shown for the board; when none is chosen (or it was deleted), the newest one on it.
    cover = models.ForeignKey(
        "generator.Artwork",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cover"),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("board")
        verbose_name_plural = _("boards")
        ordering = ["position", "created"]
        constraints = [
            # Two boards of one artist never share a name, whatever the case: a menu of boards stays readable.
            models.UniqueConstraint("owner", Lower("name"), name="board_name_unique_per_artist"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("gallery:board", args=[self.pk])


class BoardItem(models.Model):
    """One picture or one saved idea on a board (exactly one of the two)."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items", verbose_name=_("board"))
    artwork = models.ForeignKey(
        "generator.Artwork", on_delete=models.CASCADE, null=True, blank=True, related_name="board_items"
    )
    idea = models.ForeignKey("assistant.Idea", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    added = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("board item")
        verbose_name_plural = _("board items")
        ordering = ["-added", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(artwork__isnull=False, idea__isnull=True) | Q(artwork__isnull=True, idea__isnull=False),
                name="board_item_is_artwork_or_idea",
            ),
            # Adding what is already there is a no-op, even when two tabs add it at once.
            models.UniqueConstraint(
                fields=["board", "artwork"], condition=Q(artwork__isnull=False), name="board_artwork_once"
            ),
            models.UniqueConstraint(fields=["board", "idea"], condition=Q(idea__isnull=False), name="board_idea_once"),
        ]

    def __str__(self) -> str:
        return f"{self.board_id}: {self.artwork_id or self.idea_id}"


class Tag(models.Model):
    """A word an artist files pictures under. Tags are each artist's own."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=TAG_LENGTH)
    artworks = models.ManyToManyField("generator.Artwork", related_name="tags", blank=True, verbose_name=_("artworks"))
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint("owner", Lower("name"), name="tag_name_unique_per_artist")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("gallery:tag", args=[self.name])


class Star(models.Model):
    """A favourite. An artist stars their own pictures; the explore page counts everybody's stars."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    artwork = models.ForeignKey("generator.Artwork", on_delete=models.CASCADE, related_name="stars")
    created = models.DateTimeField(_("starred"), auto_now_add=True)

    class Meta:
        verbose_name = _("star")
        verbose_name_plural = _("stars")
        constraints = [models.UniqueConstraint(fields=["user", "artwork"], name="one_star_per_artist")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.artwork_id}"
