"""Sharing: a board by a link (random, expiring, revocable, downloads optional), public boards and pictures, the
explore page and an artist's opt-in page. What others see has passed the check; a dead link opens nothing."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gallery import services
from gallery.models import Moderation, ModerationStatus, ShareLink
from generator.models import Artwork

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr("gallery.tasks.moderate_artwork.apply_async", lambda args, **kwargs: sent.append(args[0]))
    return sent


def passed(artwork) -> None:
    Moderation.objects.update_or_create(artwork=artwork, defaults={"status": ModerationStatus.SAFE})


@pytest.fixture
def board_with_two(alice, paint):
    """alice's board with a checked picture and one not checked yet."""
    board = services.board_create(owner=alice, name="Harbours")
    checked, unchecked = paint(alice, title="Checked"), paint(alice, title="Unchecked")
    services.board_add(board=board, by=alice, artworks=[checked, unchecked])
    passed(checked)
    return board, checked, unchecked


def test_a_share_link_shows_the_pictures_that_passed_their_check(
    alice, board_with_two, queued, django_capture_on_commit_callbacks
):
    board, checked, unchecked = board_with_two
    with django_capture_on_commit_callbacks(execute=True):
        link = services.share_link_create(board=board, by=alice)

    response = Client().get(link.get_absolute_url())
    page = response.content.decode()

    assert len(link.token) >= 43  # 32 random bytes
    assert response.status_code == 200 and "Checked" in page and "Unchecked" not in page
    assert "1 more picture shows once it has been checked" in page
    assert queued == [str(unchecked.pk)]  # the link sent the unchecked picture to its check
    assert response["Cache-Control"] == "private, no-store" and response["Referrer-Policy"] == "no-referrer"
    thumbnail = Client().get(reverse("gallery:shared-thumbnail", args=[link.token, checked.pk]))
    assert thumbnail.status_code == 200
    assert Client().get(reverse("gallery:shared-thumbnail", args=[link.token, unchecked.pk])).status_code == 404
    assert Artwork.objects.get(pk=checked.pk).visibility == "private"  # shared is not public


def test_downloads_through_a_link_only_where_allowed(alice, board_with_two, queued):
    board, checked, _ = board_with_two
    closed = services.share_link_create(board=board, by=alice)
    open_ = services.share_link_create(board=board, by=alice, allow_downloads=True)

    assert Client().get(reverse("gallery:shared-image", args=[closed.token, checked.pk])).status_code == 404
    download = Client().get(reverse("gallery:shared-image", args=[open_.token, checked.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert download["Cache-Control"] == "private, no-store"
    # the picture says what made it, as the owner's own download does
    picture = Image.open(io.BytesIO(b"".join(download.streaming_content)))
    assert json.loads(picture.text["artstudio"])["id"] == str(checked.pk)


def test_a_revoked_or_expired_link_opens_nothing(alice, board_with_two, queued):
    board, checked, _ = board_with_two
    revoked = services.share_link_create(board=board, by=alice)
    expiring = services.share_link_create(board=board, by=alice, expires=timezone.now() + dt.timedelta(days=1))
    services.share_link_revoke(link=revoked, by=alice)
    ShareLink.objects.filter(pk=expiring.pk).update(expires=timezone.now() - dt.timedelta(seconds=1))

    for link in (revoked, expiring):
        assert Client().get(link.get_absolute_url()).status_code == 404
        assert Client().get(reverse("gallery:shared-thumbnail", args=[link.token, checked.pk])).status_code == 404
    assert Client().get(reverse("gallery:shared", args=["not-a-token"])).status_code == 404
    with pytest.raises(ValidationError, match="expired already"):
        services.share_link_create(board=board, by=alice, expires=timezone.now() - dt.timedelta(days=1))


def test_a_link_shows_only_its_own_boards_pictures(alice, board_with_two, paint, queued):
    board, _, _ = board_with_two
    elsewhere = paint(alice, title="Elsewhere")
    passed(elsewhere)
    link = services.share_link_create(board=board, by=alice)
    assert Client().get(reverse("gallery:shared-thumbnail", args=[link.token, elsewhere.pk])).status_code == 404


def test_the_owner_makes_and_revokes_links_on_the_board_page(alice_client, alice, board_with_two, queued):
    board, _, _ = board_with_two

    alice_client.post(reverse("gallery:board-share", args=[board.pk]), {"days": "7", "allow_downloads": "on"})
    link = ShareLink.objects.get()
    page = alice_client.get(board.get_absolute_url()).content.decode()
    assert link.get_absolute_url() in page and link.allow_downloads
    assert abs((link.expires - timezone.now()) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)

    alice_client.post(reverse("gallery:link-revoke", args=[board.pk, link.pk]))
    assert ShareLink.objects.get().revoked is not None


def test_nobody_revokes_another_artists_link(alice, bob, board_with_two, queued):
    from django.core.exceptions import PermissionDenied

    link = services.share_link_create(board=board_with_two[0], by=alice)
    with pytest.raises(PermissionDenied):
        services.share_link_revoke(link=link, by=bob)


def test_a_public_board_shows_its_public_pictures(alice, board_with_two, queued, django_capture_on_commit_callbacks):
    board, checked, unchecked = board_with_two
    url = reverse("gallery:public-board", args=[board.pk])
    assert Client().get(url).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        services.board_publish(board=board, by=alice)

    page = Client().get(url).content.decode()
    assert "Checked" in page and "Unchecked" not in page  # the second waits for its check
    assert Artwork.objects.get(pk=checked.pk).visibility == "public" and queued == [str(unchecked.pk)]


def test_explore_lists_public_pictures_newest_or_most_starred(alice, bob, paint):
    quiet, loved, private = paint(alice, title="Quiet"), paint(alice, title="Loved"), paint(alice, title="Secret")
    Artwork.objects.filter(pk__in=[quiet.pk, loved.pk]).update(visibility="public")
    for user in (alice, bob):
        services.artworks_star(artworks=[Artwork.objects.get(pk=loved.pk)], by=user)

    newest = Client().get(reverse("gallery:explore")).content.decode()
    starred = Client().get(reverse("gallery:explore"), {"sort": "stars"}).content.decode()

    assert "Secret" not in newest and newest.index("Loved") < newest.index("Quiet")
    assert starred.index("Loved") < starred.index("Quiet") and private.pk


def test_a_public_picture_has_a_page_anybody_opens_and_others_star(alice, bob, paint):
    artwork = paint(alice, title="Harbour", style_preset="pop-outline")
    url = reverse("gallery:public-artwork", args=[artwork.pk])
    assert Client().get(url).status_code == 404
    Artwork.objects.filter(pk=artwork.pk).update(visibility="public")

    assert "Harbour" in Client().get(url).content.decode()
    bobs = Client()
    bobs.force_login(bob)
    bobs.post(reverse("gallery:public-star", args=[artwork.pk]))
    assert 'aria-pressed="true"' in bobs.get(url).content.decode()


def test_an_artists_page_is_there_only_when_they_turn_it_on(alice_client, alice, paint):
    artwork = paint(alice, title="Harbour")
    Artwork.objects.filter(pk=artwork.pk).update(visibility="public")
    url = reverse("gallery:artist", args=["alice"])
    assert Client().get(url).status_code == 404

    alice_client.post(reverse("gallery:profile"), {"public_page": "on", "display_name": " Alice  Liddell "})

    page = Client().get(url).content.decode()
    assert "Alice Liddell" in page and "Harbour" in page
    assert Client().get(reverse("gallery:artist", args=["nobody"])).status_code == 404


@pytest.mark.parametrize("proxy", ["nginx", "apache"])
def test_a_proxy_can_send_the_files_the_view_authorised(alice_client, alice, paint, settings, proxy):
    artwork = paint(alice)
    settings.ARTSTUDIO_SENDFILE = proxy
    url = reverse("generator:artwork-thumbnail", args=[artwork.pk])

    response = alice_client.get(url)

    assert response.status_code == 200 and b"".join(response.streaming_content) == b""
    if proxy == "nginx":
        assert response["X-Accel-Redirect"] == f"/protected-media/{artwork.thumbnail.name}"
    else:
        assert response["X-Sendfile"] == artwork.thumbnail.path
    assert response["Content-Type"] == "image/webp"
    assert Client().get(url).status_code == 404  # still only to whom the view allows
