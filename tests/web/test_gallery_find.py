"""Finding pictures: one search box, filters, sorts, previous/next in the view, and a page whose cost does not
grow with the gallery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gallery import selectors, services
from gallery.selectors import GalleryView
from generator.models import Artwork

pytestmark = pytest.mark.django_db


def shown(user, **view) -> list:
    return list(selectors.artworks_in_view(user=user, view=GalleryView(**view)).values_list("pk", flat=True))


@pytest.fixture
def harbour(alice, paint):
    """A picture whose title, tag, style, caption and labels each say something different."""
    artwork = paint(alice, title="Evening light", style_preset="shipwreck")
    services.artworks_tag(artworks=[artwork], by=alice, name="holiday")
    Artwork.objects.filter(pk=artwork.pk).update(
        suggestions={"caption": "boats moored in a harbour", "tags": ["marina"], "labels": ["Romanticism"]}
    )
    return Artwork.objects.get(pk=artwork.pk)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("evening", ["title"]),
        ("HOLIDAY", ["tag"]),
        ("shipwreck", ["style"]),
        ("harbour", ["idea"]),
        ("HARBOUR", ["idea"]),
        ("marina", ["label"]),
        ("romantic", ["label"]),
    ],
)
def test_one_search_box_looks_in_every_field_and_says_which_matched(alice, harbour, paint, text, where):
    paint(alice, title="Something else", style_preset="pop-outline")
    names = dict(selectors.style_names())

    found = list(selectors.artworks_in_view(user=alice, view=GalleryView(q=text)))

    assert [a.pk for a in found] == [harbour.pk]
    assert selectors.matches(found[0], text, style_names=names) == where


def test_a_title_in_any_language_is_found_by_any_of_its_words(alice, paint):
    cat = paint(alice, title="海边的猫 · Chat au bord de l'Océan")
    paint(alice, title="Something else")

    assert shown(alice, q="猫") == [cat.pk]
    assert shown(alice, q="océan") == [cat.pk]


def test_the_search_never_shows_another_artists_pictures(alice, bob, harbour, paint):
    paint(bob, title="Evening light")
    assert shown(alice, q="evening") == [harbour.pk]
    assert len(shown(bob, q="evening")) == 1 and shown(bob, q="holiday") == []


def test_the_page_names_the_matches(alice_client, harbour):
    page = alice_client.get(reverse("gallery:index"), {"q": "harbour"}).content.decode()
    assert 'data-testid="matched">Found in: what it shows' in page


def test_filters_narrow_the_view(alice, paint):
    network = paint(alice, style_preset="pop-outline", mode="fast")
    own = paint(alice, style_preset=None, style_image=_painting(), mode="fast")
    old = paint(alice, style_preset="shipwreck", mode="quality")
    Artwork.objects.filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(days=40))
    board = services.board_create(owner=alice, name="Keep")
    services.board_add(board=board, by=alice, artworks=[own])
    services.artworks_star(artworks=[old], by=alice)
    services.artworks_tag(artworks=[network, old], by=alice, name="sea")

    assert shown(alice, style="pop-outline") == [network.pk]
    assert shown(alice, style=selectors.PAINTING) == [own.pk]
    assert shown(alice, mode="quality") == [old.pk]
    assert shown(alice, board=board.pk) == [own.pk]
    assert shown(alice, starred=True) == [old.pk]
    assert shown(alice, tag="SEA") == [network.pk, old.pk]
    assert shown(alice, until=timezone.localdate() - dt.timedelta(days=30)) == [old.pk]
    assert set(shown(alice, since=timezone.localdate())) == {network.pk, own.pk}
    assert shown(alice, tag="sea", starred=True) == [old.pk]  # filters combine


def test_the_model_version_filter_finds_what_a_version_painted(alice, paint):
    artwork = paint(alice, style_preset="pop-outline")
    version = artwork.model_versions.get()
    assert shown(alice, version=version.pk) == [artwork.pk]
    assert shown(alice, version=version.pk + 1000) == []


def _painting():
    from factories import photo

    return photo("painting.jpg", fmt="JPEG")


def test_sorts_by_date_title_and_stars(alice, paint):
    b, a, c = (paint(alice, title=t) for t in ("banana", "Apple", "cherry"))
    services.artworks_star(artworks=[c], by=alice)

    assert shown(alice) == [c.pk, a.pk, b.pk]
    assert shown(alice, sort="old") == [b.pk, a.pk, c.pk]
    assert shown(alice, sort="title") == [a.pk, b.pk, c.pk]  # without regard to case
    assert shown(alice, sort="stars")[0] == c.pk


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_previous_and_next_walk_the_view_in_its_order(alice, paint, sort):
    pictures = [paint(alice, title=t) for t in ("b", "a", "b", "c", "a")]  # equal titles: the tie-break decides
    services.artworks_star(artworks=pictures[1:3], by=alice)
    view = GalleryView(sort=sort)
    order = shown(alice, sort=sort)

    walked, current = [], Artwork.objects.get(pk=order[0])
    while current is not None:
        around = selectors.neighbours(user=alice, view=view, artwork=current)
        assert around.position == len(walked) + 1 and around.total == 5
        walked.append(current.pk)
        current = around.next
    assert walked == order
    last = selectors.neighbours(user=alice, view=view, artwork=Artwork.objects.get(pk=order[-1]))
    assert last.previous.pk == order[-2]


def test_the_artwork_page_links_its_neighbours_in_the_view_it_came_from(alice_client, alice, paint):
    a, b, c = (paint(alice, title=t) for t in ("a", "b", "c"))

    page = alice_client.get(b.get_absolute_url(), {"sort": "title"}).content.decode()

    assert f'href="{a.get_absolute_url()}?sort=title" id="artwork-previous"' in page
    assert f'href="{c.get_absolute_url()}?sort=title" id="artwork-next"' in page
    assert "Keyboard shortcuts" in page


def test_a_filter_that_does_not_parse_is_left_out_with_a_note(alice_client, alice, paint):
    paint(alice)
    response = alice_client.get(reverse("gallery:index"), {"since": "yesterday", "version": "x", "sort": "zzz"})
    assert response.status_code == 200
    assert 'id="view-errors"' in response.content.decode()
    assert response.context["page"].paginator.count == 1


def queries_for(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"q": "sea"}, {"tag": "sea", "sort": "stars"}])
def test_a_gallery_page_costs_the_same_queries_for_3_pictures_or_30(alice_client, alice, paint, params):
    def fill(n):
        pictures = [paint(alice, title=f"sea {i}") for i in range(n)]
        services.artworks_tag(artworks=pictures, by=alice, name="sea")
        services.artworks_star(artworks=pictures[::2], by=alice)
        board = services.board_create(owner=alice, name=f"board {n}")
        services.board_add(board=board, by=alice, artworks=pictures)

    fill(3)
    few = queries_for(alice_client, reverse("gallery:index"), params)
    fill(27)
    many = queries_for(alice_client, reverse("gallery:index"), params)
    assert few == many


def test_the_address_keeps_the_view(alice):
    view = GalleryView(q="sea", starred=True, sort="title", since=dt.date(2026, 1, 2))
    assert view.query_string() == "q=sea&since=2026-01-02&starred=1&sort=title"
    assert GalleryView().query_string() == "" and GalleryView(sort="old").query_string() == "sort=old"


def test_the_gallerys_pages_keep_the_view(alice_client, alice, paint, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for i in range(3):
        paint(alice, title=f"sea {i}")

    page = alice_client.get(reverse("gallery:index"), {"q": "sea", "sort": "title"}).content.decode()

    assert 'href="?q=sea&amp;sort=title&amp;page=2" id="page-next"' in page


def test_the_style_filter_names_the_styles_in_the_artists_language(alice_client):
    page = alice_client.get(reverse("gallery:index"), {"style": "pop-outline"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert '<option value="pop-outline" selected>波普描边</option>' in page.content.decode()
