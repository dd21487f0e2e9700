"""Every write the gallery makes, one module per idea; callers use the names below, from this package.

- `organise`: boards, tags, stars, and what an artist does to many pictures at once;
- `moderation`: the check before a picture is public, and the admin's decisions;
- `sharing`: public pictures and boards, share links;
- `meaning`: the search by meaning (the page asks, a worker answers; its names are used as `meaning.*`).
"""

from gallery.services.moderation import (
    artwork_moderate,
    artwork_publish,
    artwork_unpublish,
    moderation_decide,
    moderation_recheck,
)
from gallery.services.organise import (
    artwork_change,
    artwork_untag,
    artworks_delete,
    artworks_star,
    artworks_tag,
    board_add,
    board_change,
    board_create,
    board_delete,
    board_move,
    board_remove,
    board_rename,
    board_set_cover,
    tag_name,
)
from gallery.services.sharing import board_publish, profile_update, share_link_create, share_link_revoke

__all__ = [
    "artwork_change",
    "board_change",
    "artwork_moderate",
    "artwork_publish",
    "artwork_unpublish",
    "artwork_untag",
    "artworks_delete",
    "artworks_star",
    "artworks_tag",
    "board_add",
    "board_create",
    "board_delete",
    "board_move",
    "board_publish",
    "board_remove",
    "board_rename",
    "board_set_cover",
    "moderation_decide",
    "moderation_recheck",
    "profile_update",
    "share_link_create",
    "share_link_revoke",
    "tag_name",
]
