"""The gallery's grid and the API's artwork list are kept per artist (generator.listing) and served again until
something they show changes: each kind of change is seen on the next page, another artist's changes keep
the list, and without the cache the pages still answer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery import services as gallery
from gallery.models import Moderation
from generator import services as studio

pytestmark = pytest.mark.django_db


def grid(client, path: str = "/gallery/") -> tuple[str, int]:
    """The page's text and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path)
    assert page.status_code == 200
    return page.content.decode(), len(queries)


def test_a_kept_grid_is_served_without_its_rows_until_something_in_it_changes(alice_client, alice, bob, paint):
    paint(alice, title="Harbour")
    _page, first = grid(alice_client)

    page, again = grid(alice_client)
    paint(bob, title="Bob's own")  # another artist's change: alice's list is still good
    _page, after_bob = grid(alice_client)

    assert "Harbour" in page and again < first and after_bob == again  # no count, no rows, no tags
    paint(alice, title="Lighthouse")
    page, after_alice = grid(alice_client)
    assert "Lighthouse" in page and "2 pictures" in page and after_alice == first


CHANGES = {
    "retitled": lambda a, alice, bob: studio.artwork_retitle(artwork=a, by=alice, title="Renamed at dusk"),
    "tagged": lambda a, alice, bob: gallery.artworks_tag(artworks=[a], by=alice, name="seascape"),
    "starred": lambda a, alice, bob: gallery.artworks_star(artworks=[a], by=alice),
    "on a board": lambda a, alice, bob: gallery.board_add(
        board=gallery.board_create(owner=alice, name="Coast"), by=alice, artworks=[a]
    ),
    "made public": lambda a, alice, bob: gallery.moderation_decide(
        moderation=Moderation.objects.create(artwork=a, status="flagged", wants_public=True), by=bob, approve=True
    ),
    "deleted": lambda a, alice, bob: gallery.artworks_delete(artworks=[a], by=alice),
}
SEEN = {
    "retitled": ("/gallery/", "Renamed at dusk"),
    "tagged": ("/gallery/?q=seascape", "1 picture"),
    "starred": ("/gallery/?starred=1", "1 picture"),
    "on a board": ("/gallery/?q=harbour", "1 picture"),  # (the board filter's id is made in the change)
    "made public": ("/gallery/?public=1", "1 picture"),
    "deleted": ("/gallery/", "0 pictures"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_kind_of_change_is_on_the_next_page(alice_client, alice, bob, paint, change, no_broker):
    artwork = paint(alice, title="Harbour")
    path, expected = SEEN[change]
    before, _n = grid(alice_client, path)  # kept now
    assert expected not in before or change == "on a board"

    CHANGES[change](artwork, alice, bob)

    after, _n = grid(alice_client, path)
    assert expected in after
    if change == "on a board":
        board = alice.boards.get()
        assert "1 picture" in grid(alice_client, f"/gallery/?board={board.pk}")[0]


def test_the_api_list_is_kept_and_changes_with_a_patch(alice, paint):
    from django.test import Client

    from api import services as tokens

    artwork = paint(alice, title="Harbour")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.token_create(owner=alice, name='x', scopes=['read', 'write'])[1]}")
    assert [a["title"] for a in api.get("/api/v1/artworks/").json()["results"]] == ["Harbour"]
    with CaptureQueriesContext(connection) as kept:
        api.get("/api/v1/artworks/")

    api.patch(f"/api/v1/artworks/{artwork.pk}/", {"title": "Harbour at dusk"}, content_type="application/json")

    assert [a["title"] for a in api.get("/api/v1/artworks/").json()["results"]] == ["Harbour at dusk"]
    assert not any("generator_artwork" in q["sql"] for q in kept.captured_queries)  # served as kept


def test_without_the_cache_the_pages_are_made_afresh(alice_client, alice, paint, monkeypatch):
    from django.core.cache import cache

    def unreachable(*args, **kwargs):
        raise ConnectionError("the cache is down")

    paint(alice, title="Harbour")
    monkeypatch.setattr(cache, "get", unreachable)

    page, _n = grid(alice_client)
    paint(alice, title="Lighthouse")  # and a change is told to nobody, without failing
    page2, _n = grid(alice_client)

    assert "Harbour" in page and "Lighthouse" in page2


def make_public(artwork, by) -> None:
    gallery.moderation_decide(
        moderation=Moderation.objects.create(artwork=artwork, status="flagged", wants_public=True), by=by, approve=True
    )


def test_explore_is_kept_until_any_public_picture_changes(alice_client, alice, bob, admin_user, paint):
    make_public(paint(alice, title="Harbour"), admin_user)
    assert "Harbour" in grid(alice_client, "/explore/")[0]
    _page, kept = grid(alice_client, "/explore/")

    make_public(paint(bob, title="Bob's dunes"), admin_user)  # another artist's picture goes public
    page, made_again = grid(alice_client, "/explore/")
    studio.artwork_retitle(artwork=bob.artworks.get(), by=bob, title="Dunes at noon")
    retitled, _n = grid(alice_client, "/explore/")

    assert kept < made_again and "Bob&#x27;s dunes" in page and "Dunes at noon" in retitled


def test_a_shared_board_is_kept_but_a_revoked_link_is_dead_at_once(client, alice, admin_user, paint):
    board = gallery.board_create(owner=alice, name="Coast")
    first = paint(alice, title="Harbour")
    make_public(first, admin_user)
    gallery.board_add(board=board, by=alice, artworks=[first])
    link = gallery.share_link_create(board=board, by=alice)
    url = f"/s/{link.token}/"
    assert "Harbour" in grid(client, url)[0]

    second = paint(alice, title="Lighthouse")
    gallery.board_add(board=board, by=alice, artworks=[second])
    make_public(second, admin_user)
    assert "Lighthouse" in grid(client, url)[0]

    gallery.share_link_revoke(link=link, by=alice)
    assert client.get(url).status_code == 404


def test_the_api_explore_feed_is_kept_until_a_public_picture_or_the_callers_stars_change(alice, bob, admin_user, paint):
    from django.test import Client

    from api import services as tokens

    make_public(paint(alice, title="Harbour"), admin_user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.token_create(owner=bob, name='x', scopes=['read', 'write'])[1]}")
    assert [(a["title"], a["starred"]) for a in api.get("/api/v1/explore/").json()["results"]] == [("Harbour", False)]

    gallery.artworks_star(artworks=[alice.artworks.get()], by=bob)
    starred = api.get("/api/v1/explore/").json()["results"]
    make_public(paint(alice, title="Lighthouse"), admin_user)
    both = api.get("/api/v1/explore/").json()["results"]

    assert [(a["title"], a["starred"]) for a in starred] == [("Harbour", True)]
    assert [a["title"] for a in both] == ["Lighthouse", "Harbour"]
