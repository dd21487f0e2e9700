"""What the gallery's rows tell the listings (generator.listing) when one is saved or deleted: whose lists show
something else now. Writes in bulk (bulk_create, update) send no signals: their services call listing_changed."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from gallery.models import Board, BoardItem, Moderation, Popularity, Star, Tag
from generator.listing import listing_changed
from generator.models import Artwork


def _owner_of(artwork_id) -> int | None:
    return Artwork.objects.filter(pk=artwork_id).values_list("owner_id", flat=True).first()


@receiver(post_save, sender=Star)
@receiver(post_delete, sender=Star)
def _star(sender, instance: Star, **kwargs) -> None:
    listing_changed(instance.user_id, _owner_of(instance.artwork_id))  # the starred mark; the owner's "most starred"


@receiver(post_save, sender=Popularity)
@receiver(post_delete, sender=Popularity)
@receiver(post_save, sender=Moderation)
def _of_artwork(sender, instance, **kwargs) -> None:
    listing_changed(_owner_of(instance.artwork_id))


@receiver(post_save, sender=Tag)
@receiver(post_delete, sender=Tag)
@receiver(post_save, sender=Board)
@receiver(post_delete, sender=Board)
def _owned(sender, instance, **kwargs) -> None:
    listing_changed(instance.owner_id)


@receiver(post_save, sender=BoardItem)
@receiver(post_delete, sender=BoardItem)
def _board_item(sender, instance: BoardItem, **kwargs) -> None:
    listing_changed(Board.objects.filter(pk=instance.board_id).values_list("owner_id", flat=True).first())


@receiver(m2m_changed, sender=Tag.artworks.through)
def _tagged(sender, instance: Tag | Artwork, **kwargs) -> None:
    listing_changed(instance.owner_id)  # a tag's pictures, or a picture's tags: one owner either way
