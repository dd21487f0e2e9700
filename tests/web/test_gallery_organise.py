"""The gallery's organising: boards, tags, stars, free titles, and many pictures at once."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from factories import files_under

from assistant import services as assistant_services
from gallery import selectors, services
from gallery.models import Board, BoardItem, Star, Tag
from generator.models import Artwork, Job

pytestmark = pytest.mark.django_db


# -- boards ---------------------------------------------------------------------------------------------


def test_a_board_is_created_last_in_order_and_its_name_is_unique_whatever_the_case(alice, bob):
    first = services.board_create(owner=alice, name="  Harbours  ")
    second = services.board_create(owner=alice, name="Portraits")

    assert (first.name, first.position, second.position) == ("Harbours", 0, 1)
    with pytest.raises(ValidationError, match="already have a board"):
        services.board_create(owner=alice, name="harbours")
    assert services.board_create(owner=bob, name="Harbours").owner == bob  # names are each artist's own
    with pytest.raises(ValidationError, match="name"):
        services.board_create(owner=alice, name="   ")


def test_boards_are_renamed_and_moved_and_the_order_is_renumbered(alice):
    a, b, c = (services.board_create(owner=alice, name=n) for n in "ABC")

    services.board_move(board=c, by=alice, offset=-1)
    services.board_move(board=a, by=alice, offset=-5)  # past the front stays at the front
    services.board_rename(board=b, by=alice, name="Bees")

    assert [(x.name, x.position) for x in selectors.boards_for(user=alice)] == [("A", 0), ("C", 1), ("Bees", 2)]
    with pytest.raises(ValidationError, match="already have"):
        services.board_rename(board=b, by=alice, name="a")


def test_a_picture_sits_on_several_boards_and_deleting_a_board_keeps_it(alice, paint):
    artwork = paint(alice)
    harbours = services.board_create(owner=alice, name="Harbours")
    blue = services.board_create(owner=alice, name="Blue")

    assert services.board_add(board=harbours, by=alice, artworks=[artwork]) == 1
    assert services.board_add(board=harbours, by=alice, artworks=[artwork]) == 0  # already there
    services.board_add(board=blue, by=alice, artworks=[artwork])
    services.board_delete(board=harbours, by=alice)

    assert Artwork.objects.filter(pk=artwork.pk).exists()
    assert list(BoardItem.objects.values_list("board__name", flat=True)) == ["Blue"]


def test_a_boards_cover_is_the_chosen_picture_else_the_newest_on_it(alice, paint):
    old, new = paint(alice), paint(alice)
    board = services.board_create(owner=alice, name="Harbours")
    services.board_add(board=board, by=alice, artworks=[old])
    services.board_add(board=board, by=alice, artworks=[new])

    assert selectors.board_covers([board]) == {board.pk: new.pk}
    services.board_set_cover(board=board, by=alice, artwork=old)
    assert selectors.board_covers([Board.objects.get(pk=board.pk)]) == {board.pk: old.pk}
    services.board_remove(board=board, by=alice, artworks=[old])  # the cover taken off stops being the cover
    assert selectors.board_covers([Board.objects.get(pk=board.pk)]) == {board.pk: new.pk}
    with pytest.raises(ValidationError, match="on the board"):
        services.board_set_cover(board=board, by=alice, artwork=old)


def test_saved_ideas_sit_on_boards_beside_pictures(alice, no_broker, monkeypatch):
    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda *args, **kwargs: None)
    idea = assistant_services.idea_create(owner=alice, text="a lighthouse in a storm")
    board = services.board_create(owner=alice, name="Storms")

    with pytest.raises(ValidationError, match="Save an idea"):
        services.board_add(board=board, by=alice, ideas=[idea])
    assistant_services.idea_save(idea=idea, by=alice)
    services.board_add(board=board, by=alice, ideas=[idea])

    assert list(board.items.values_list("idea", flat=True)) == [idea.pk]
    assert selectors.boards_for(user=alice).get().n_ideas == 1


def test_nobody_changes_another_artists_board(alice, bob, paint):
    board = services.board_create(owner=alice, name="Harbours")
    bobs = paint(bob)

    for change in (
        lambda: services.board_rename(board=board, by=bob, name="Mine now"),
        lambda: services.board_delete(board=board, by=bob),
        lambda: services.board_add(board=board, by=bob, artworks=[bobs]),
        lambda: services.board_move(board=board, by=bob, offset=1),
    ):
        with pytest.raises(PermissionDenied):
            change()
    assert Board.objects.get(pk=board.pk).name == "Harbours" and not board.items.exists()


# -- tags, stars, titles ------------------------------------------------------------------------------------


def test_a_tag_is_made_once_and_found_again_whatever_the_case(alice, paint):
    one, two = paint(alice), paint(alice)

    first = services.artworks_tag(artworks=[one], by=alice, name=" Blue  hour ")
    again = services.artworks_tag(artworks=[two], by=alice, name="blue hour")

    assert first.pk == again.pk and first.name == "Blue hour"
    assert set(first.artworks.values_list("pk", flat=True)) == {one.pk, two.pk}
    for bad in ("", "a/b", "x" * 41):
        with pytest.raises(ValidationError):
            services.artworks_tag(artworks=[one], by=alice, name=bad)


def test_a_tag_no_picture_carries_any_more_goes(alice, paint):
    one, two = paint(alice), paint(alice)
    tag = services.artworks_tag(artworks=[one, two], by=alice, name="sea")

    services.artwork_untag(artwork=one, by=alice, tag=tag)
    assert Tag.objects.filter(pk=tag.pk).exists()
    services.artwork_untag(artwork=two, by=alice, tag=tag)
    assert not Tag.objects.filter(pk=tag.pk).exists()


def test_the_assistants_suggested_tag_is_one_click_away(alice_client, alice, paint):
    artwork = paint(alice)
    Artwork.objects.filter(pk=artwork.pk).update(suggestions={"titles": [], "tags": ["harbour", "calm"]})
    page = alice_client.get(reverse("gallery:artwork", args=[artwork.pk])).content.decode()
    assert 'data-testid="suggested-tag">+ harbour' in page

    alice_client.post(reverse("gallery:artwork-tag", args=[artwork.pk]), {"tag": "harbour"})

    page = alice_client.get(reverse("gallery:artwork", args=[artwork.pk])).content.decode()
    assert list(Tag.objects.filter(artworks=artwork).values_list("name", flat=True)) == ["harbour"]
    assert 'data-testid="suggested-tag">+ harbour' not in page  # offered only while it is not a tag yet
    assert 'data-testid="suggested-tag">+ calm' in page


def test_the_tag_page_shows_only_the_pictures_with_that_tag(alice_client, alice, paint):
    tagged, other = paint(alice, title="Tagged one"), paint(alice, title="Another one")
    services.artworks_tag(artworks=[tagged], by=alice, name="Sea")

    page = alice_client.get(reverse("gallery:tag", args=["sea"])).content.decode()

    assert str(tagged.pk) in page and str(other.pk) not in page
    assert alice_client.get(reverse("gallery:tag", args=["nothing"])).status_code == 404


def test_an_artist_stars_their_own_pictures_and_public_ones_only(alice, bob, paint):
    mine, bobs = paint(alice), paint(bob)

    services.artworks_star(artworks=[mine], by=alice)
    services.artworks_star(artworks=[mine], by=alice)  # twice is once
    assert Star.objects.filter(user=alice).count() == 1
    with pytest.raises(PermissionDenied):
        services.artworks_star(artworks=[bobs], by=alice)  # private
    Artwork.objects.filter(pk=bobs.pk).update(visibility="public")
    services.artworks_star(artworks=[Artwork.objects.get(pk=bobs.pk)], by=alice)
    services.artworks_star(artworks=[mine], by=alice, starred=False)
    assert list(Star.objects.filter(user=alice).values_list("artwork", flat=True)) == [bobs.pk]


def test_the_star_button_stars_and_unstars(alice_client, alice, paint):
    artwork = paint(alice)
    url = reverse("gallery:artwork-star", args=[artwork.pk])

    alice_client.post(url, {"starred": "1"})
    assert 'aria-pressed="true"' in alice_client.get(artwork.get_absolute_url()).content.decode()
    alice_client.post(url, {"starred": "0"})
    assert not Star.objects.exists()


def test_an_artist_types_any_title(alice_client, alice, paint):
    artwork = paint(alice)

    response = alice_client.post(
        reverse("gallery:artwork-retitle", args=[artwork.pk]), {"title": "  Le port   à l'aube — 港口  "}
    )

    assert response.status_code == 302
    assert Artwork.objects.get(pk=artwork.pk).title == "Le port à l'aube — 港口"


# -- many at once -------------------------------------------------------------------------------------------


def select(client, action: str, artworks, **data):
    return client.post(reverse("gallery:selection"), {"action": action, "ids": [str(a.pk) for a in artworks], **data})


def test_selected_pictures_go_on_a_board_get_a_tag_and_a_star(alice_client, alice, paint):
    pictures = [paint(alice) for _ in range(3)]
    board = services.board_create(owner=alice, name="Harbours")

    select(alice_client, "board", pictures[:2], board=board.pk)
    select(alice_client, "tag", pictures, tag="sea")
    response = select(alice_client, "star", pictures[1:], next="/gallery/?sort=title")

    assert response.status_code == 302 and response["Location"] == "/gallery/?sort=title"
    assert set(board.items.values_list("artwork", flat=True)) == {p.pk for p in pictures[:2]}
    assert Tag.objects.get(name="sea").artworks.count() == 3
    assert set(Star.objects.values_list("artwork", flat=True)) == {p.pk for p in pictures[1:]}


def test_a_selection_with_another_artists_picture_does_nothing(alice_client, alice, bob, paint):
    mine, bobs = paint(alice), paint(bob)

    response = select(alice_client, "delete", [mine, bobs])

    assert response.status_code == 404
    assert Artwork.objects.count() == 2


def test_selected_pictures_are_deleted_with_their_files(
    alice_client, alice, paint, isolated_data, django_capture_on_commit_callbacks
):
    pictures = [paint(alice) for _ in range(2)]
    keep = paint(alice)

    with django_capture_on_commit_callbacks(execute=True):
        select(alice_client, "delete", pictures)

    assert list(Artwork.objects.values_list("pk", flat=True)) == [keep.pk]
    assert Job.objects.count() == 1
    left = {p.name for p in files_under(isolated_data)}
    assert left == {
        p.rsplit("/", 1)[-1] for p in (keep.image.name, keep.thumbnail.name, *(f.name for f in keep.job.files()))
    }


def test_an_unknown_action_or_no_selection_is_a_message_not_an_error(alice_client, alice, paint):
    artwork = paint(alice)

    nothing = alice_client.post(reverse("gallery:selection"), {"action": "star"}, follow=True)
    unknown = select(alice_client, "explode", [artwork])

    assert nothing.status_code == 200 and "Choose one or more pictures" in nothing.content.decode()
    assert unknown.status_code == 302 and Artwork.objects.count() == 1


def test_the_star_count_is_kept_with_every_star(alice, bob, paint):
    from gallery.models import Popularity
    from tests.people import CAROL

    carol = CAROL.create()
    artwork = paint(alice)
    Artwork.objects.filter(pk=artwork.pk).update(visibility="public")
    artwork.refresh_from_db()

    for user in (alice, bob, carol):
        services.artworks_star(artworks=[artwork], by=user)
    services.artworks_star(artworks=[artwork], by=bob)  # twice is once
    services.artworks_star(artworks=[artwork], by=carol, starred=False)

    assert Popularity.objects.get(artwork=artwork).stars == Star.objects.filter(artwork=artwork).count() == 2
