"""How an artist organises their pictures: boards (albums), tags and stars.

The pictures themselves are the studio's (`generator.Artwork`) and the saved ideas the assistant's
(`assistant.Idea`); this app only points at them, so deleting a board or a tag never deletes a picture.
Writes go through ``gallery.services``, reads of more than a line through ``gallery.selectors``.
"""

from __future__ import annotations

import secrets

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
    # On the artist's public page and readable by anybody; only its pictures that passed their check show.
    public = models.BooleanField(_("public"), default=False)

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


class Popularity(models.Model):
    """How many artists starred a picture, kept with every star (gallery.services.artworks_star), so that "most
    starred" reads an index instead of counting every star of every public picture on each request."""

    artwork = models.OneToOneField(
        "generator.Artwork", on_delete=models.CASCADE, primary_key=True, related_name="popularity"
    )
    stars = models.PositiveIntegerField(_("stars"), default=0, db_index=True)

    class Meta:
        verbose_name = _("popularity")
        verbose_name_plural = _("popularity")

    def __str__(self) -> str:
        return f"{self.artwork_id}: {self.stars}"


class Meaning(models.Model):
    """What a picture shows, as the sentence encoder reads it: the vector the search by meaning compares a query
    with (gallery.services.meaning). `digest` is that of the text it was read from, so a new title, tag or
    caption (or a new encoder) is read again at the next search and nothing else is."""

    artwork = models.OneToOneField(
        "generator.Artwork", on_delete=models.CASCADE, primary_key=True, related_name="meaning"
    )
    encoder_sha256 = models.CharField(_("encoder"), max_length=64)
    digest = models.CharField(_("digest of the text read"), max_length=64)
    vector = models.BinaryField(_("vector"))  # 384 float16, little-endian: 768 bytes a picture

    class Meta:
        verbose_name = _("meaning")
        verbose_name_plural = _("meanings")

    def __str__(self) -> str:
        return f"{self.artwork_id} ({self.encoder_sha256[:12]})"


class ModerationStatus(models.TextChoices):
    PENDING = "pending", _("Being checked")
    SAFE = "safe", _("Safe")
    FLAGGED = "flagged", _("Flagged")
    UNAVAILABLE = "unavailable", _("Check unavailable")


class Decision(models.TextChoices):
    NONE = "", _("Not reviewed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Moderation(models.Model):
    """The check a picture passes before anybody but its owner may see it.

    The nudity check answers safe, flagged or unavailable (no active model, a failure, a broker that did not
    answer). Only "safe" or an admin's approval lets the picture out: flagged and unavailable both wait in the
    admin's moderation queue, so a missing model never reads as safe.
    """

    Status = ModerationStatus

    artwork = models.OneToOneField(
        "generator.Artwork", on_delete=models.CASCADE, related_name="moderation", verbose_name=_("artwork")
    )
    status = models.CharField(
        _("check"), max_length=16, choices=ModerationStatus.choices, default=ModerationStatus.PENDING
    )
    score = models.FloatField(_("score"), null=True, blank=True, help_text=_("open_nsfw's probability, 0 to 1."))
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    model_version = models.ForeignKey(
        "generator.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("model version"),
    )
    reason = models.CharField(_("why"), max_length=300, blank=True)
    wants_public = models.BooleanField(_("the artist asked to make it public"), default=False)
    requested = models.DateTimeField(_("asked"), auto_now_add=True)
    checked = models.DateTimeField(_("checked"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("moderation")
        verbose_name_plural = _("moderation queue")
        ordering = ["-requested"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ModerationStatus.values), name="moderation_status_valid"),
            models.CheckConstraint(condition=Q(decision__in=Decision.values), name="moderation_decision_valid"),
        ]
        indexes = [models.Index(fields=["status", "decision"], name="moderation_queue")]

    def __str__(self) -> str:
        return f"{self.artwork_id}: {self.get_status_display()}"

    @property
    def passed(self) -> bool:
        """May the picture be seen by others: approved by an admin, or safe and not rejected."""
        return self.decision == Decision.APPROVED or (
            self.status == ModerationStatus.SAFE and self.decision != Decision.REJECTED
        )

    @property
    def waits_for_review(self) -> bool:
        return self.status in (ModerationStatus.FLAGGED, ModerationStatus.UNAVAILABLE) and not self.decision


def new_token() -> str:
    """32 random bytes, URL-safe: a share link nobody guesses."""
    return secrets.token_urlsafe(32)


class ShareLink(models.Model):
    """A board shared by a link: whoever has the link sees the board's pictures that passed their check, until
    the link expires or is revoked. Downloads only where the owner allowed them."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="links", verbose_name=_("board"))
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token, editable=False)
    allow_downloads = models.BooleanField(_("allow downloads"), default=False)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.board_id}: …{self.token[-6:]}"

    def get_absolute_url(self) -> str:
        return reverse("gallery:shared", args=[self.token])

    def is_live(self, now) -> bool:
        return self.revoked is None and (self.expires is None or self.expires > now)


class Profile(models.Model):
    """What an artist shows the world: an opt-in public page with their public pictures and boards."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="gallery_profile"
    )
    public_page = models.BooleanField(_("public page"), default=False)
    display_name = models.CharField(_("name shown"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("artist's page")
        verbose_name_plural = _("artists' pages")

    def __str__(self) -> str:
        return self.display_name or str(self.user)
