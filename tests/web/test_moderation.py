"""Nothing is public before the nudity check: safe goes public, flagged and unavailable wait for an admin, and a
missing model never reads as safe. Public pictures are served to anybody, private ones to their owner only."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from gallery import services
from gallery.models import Decision, Moderation, ModerationStatus
from generator.models import Artwork, ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def nudity_check(studio_models):
    """The shipped open_nsfw, imported and active as on a fresh studio."""
    from generator import services as studio

    [version] = studio.models_import_shipped(kinds=["open_nsfw"])
    return version


@pytest.fixture
def queued(monkeypatch):
    """The checks sent to the broker (artwork ids), instead of reaching Redis."""
    sent = []
    monkeypatch.setattr("gallery.tasks.moderate_artwork.apply_async", lambda args, **kwargs: sent.append(args[0]))
    return sent


def publish(artwork, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.artwork_publish(artwork=artwork, by=by)


def visibility(artwork) -> str:
    return Artwork.objects.values_list("visibility", flat=True).get(pk=artwork.pk)


def test_asking_to_publish_queues_the_check_and_keeps_the_picture_private(
    alice, paint, queued, django_capture_on_commit_callbacks
):
    artwork = paint(alice)

    moderation = publish(artwork, alice, django_capture_on_commit_callbacks)

    assert moderation.status == ModerationStatus.PENDING and moderation.wants_public
    assert queued == [str(artwork.pk)] and visibility(artwork) == "private"


def test_a_safe_picture_goes_public_when_its_check_passes(
    alice, paint, queued, nudity_check, django_capture_on_commit_callbacks
):
    artwork = paint(alice)
    publish(artwork, alice, django_capture_on_commit_callbacks)

    moderation = services.artwork_moderate(artwork_id=artwork.pk)  # what the worker runs

    assert moderation.status == ModerationStatus.SAFE and 0 <= moderation.score < moderation.threshold
    assert moderation.model_version == nudity_check and visibility(artwork) == "public"
    # made private and public again: no second check is needed
    services.artwork_unpublish(artwork=artwork, by=alice)
    assert visibility(artwork) == "private"
    publish(artwork, alice, django_capture_on_commit_callbacks)
    assert visibility(artwork) == "public" and queued == [str(artwork.pk)]


def test_a_flagged_picture_waits_for_an_admin(
    alice, paint, queued, nudity_check, settings, django_capture_on_commit_callbacks
):
    settings.ARTSTUDIO_NSFW_THRESHOLD = 0.0  # every score is at or above it
    artwork = paint(alice)
    publish(artwork, alice, django_capture_on_commit_callbacks)

    moderation = services.artwork_moderate(artwork_id=artwork.pk)

    assert moderation.status == ModerationStatus.FLAGGED and moderation.waits_for_review
    assert visibility(artwork) == "private"


def test_the_check_sees_the_photo_a_painting_was_made_from(
    alice, paint, queued, nudity_check, django_capture_on_commit_callbacks
):
    """Painted, a nude keeps its shapes but loses the skin the network looks for; the photo still shows it."""
    from pathlib import Path

    from django.core.files.base import ContentFile

    labelled = Path(__file__).resolve().parents[2] / "bench" / "data" / "nsfw"
    artwork = paint(alice)
    plain = io.BytesIO()
    Image.new("RGB", (256, 256), (30, 60, 120)).save(plain, format="PNG")  # a flat blue: scores 0.01
    artwork.image.save("plain.png", ContentFile(plain.getvalue()))  # a painting that shows nothing

    def checked_with_photo(name: str) -> Moderation:
        artwork.job.photo.save(name, ContentFile((labelled / name).read_bytes()))
        Moderation.objects.filter(artwork=artwork).delete()
        publish(artwork, alice, django_capture_on_commit_callbacks)
        return services.artwork_moderate(artwork_id=artwork.pk)

    assert checked_with_photo("nude/ingres_grande_odalisque.jpg").status == ModerationStatus.FLAGGED
    assert checked_with_photo("clothed/vermeer_milkmaid.jpg").status == ModerationStatus.SAFE


def test_without_an_active_model_the_check_is_unavailable_never_safe(
    alice, paint, queued, django_capture_on_commit_callbacks
):
    assert not ModelVersion.objects.filter(kind="open_nsfw", is_active=True).exists()
    artwork = paint(alice)
    publish(artwork, alice, django_capture_on_commit_callbacks)

    moderation = services.artwork_moderate(artwork_id=artwork.pk)

    assert moderation.status == ModerationStatus.UNAVAILABLE and moderation.waits_for_review
    assert "No nudity check is active" in moderation.reason and visibility(artwork) == "private"


def test_a_broker_that_does_not_answer_leaves_the_check_unavailable(
    alice, paint, monkeypatch, django_capture_on_commit_callbacks
):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379")

    monkeypatch.setattr("gallery.tasks.moderate_artwork.apply_async", unreachable)
    artwork = paint(alice)

    publish(artwork, alice, django_capture_on_commit_callbacks)

    moderation = Moderation.objects.get(artwork=artwork)
    assert moderation.status == ModerationStatus.UNAVAILABLE and moderation.waits_for_review
    assert visibility(artwork) == "private"


def test_an_admins_decision_is_final_until_checked_again(
    alice, paint, queued, admin_user, django_capture_on_commit_callbacks
):
    artwork = paint(alice)
    publish(artwork, alice, django_capture_on_commit_callbacks)
    moderation = services.artwork_moderate(artwork_id=artwork.pk)  # no model: unavailable

    services.moderation_decide(moderation=moderation, by=admin_user, approve=True)
    assert visibility(artwork) == "public"
    services.moderation_decide(moderation=moderation, by=admin_user, approve=False)
    assert visibility(artwork) == "private"
    again = publish(artwork, alice, django_capture_on_commit_callbacks)
    assert again.decision == Decision.REJECTED and visibility(artwork) == "private" and len(queued) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.moderation_recheck(moderation=moderation)
    assert Moderation.objects.get(pk=moderation.pk).status == ModerationStatus.PENDING and len(queued) == 2


def test_a_public_picture_is_served_to_anybody_and_a_private_one_to_its_owner(alice, bob, paint, admin_user):
    artwork = paint(alice)
    image = reverse("generator:artwork-image", args=[artwork.pk])
    thumbnail = reverse("generator:artwork-thumbnail", args=[artwork.pk])
    anybody, bobs = Client(), Client()
    bobs.force_login(bob)

    assert [c.get(image).status_code for c in (anybody, bobs)] == [404, 404]
    moderation = Moderation.objects.create(artwork=artwork, wants_public=True)
    services.moderation_decide(moderation=moderation, by=admin_user, approve=True)

    for client in (anybody, bobs):
        shown = client.get(thumbnail)
        assert shown.status_code == 200 and shown["Cache-Control"] == "public, max-age=600"
    services.artwork_unpublish(artwork=artwork, by=alice)
    assert anybody.get(image).status_code == 404


def test_the_moderation_queue_opens_on_what_waits_and_shows_the_picture(
    admin_client, alice, paint, queued, django_capture_on_commit_callbacks
):
    waiting, safe = paint(alice, title="Waiting one"), paint(alice, title="Safe one")
    publish(waiting, alice, django_capture_on_commit_callbacks)
    services.artwork_moderate(artwork_id=waiting.pk)  # unavailable
    Moderation.objects.create(artwork=safe, status=ModerationStatus.SAFE)

    page = admin_client.get(reverse("admin:gallery_moderation_changelist")).content.decode()

    assert "Waiting one" in page and "Safe one" not in page
    assert admin_client.get(reverse("gallery:moderation-picture", args=[waiting.pk])).status_code == 200
    response = admin_client.post(
        reverse("admin:gallery_moderation_changelist"),
        {"action": "approve", "_selected_action": [Moderation.objects.get(artwork=waiting).pk]},
    )
    assert response.status_code == 302 and visibility(waiting) == "public"


def test_only_staff_see_a_picture_in_the_queue(alice, bob_client, paint):
    artwork = paint(alice)
    Moderation.objects.create(artwork=artwork)
    response = bob_client.get(reverse("gallery:moderation-picture", args=[artwork.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_artwork_page_says_who_can_see_it(alice_client, alice, paint, queued):
    artwork = paint(alice)

    alice_client.post(reverse("gallery:artwork-visibility", args=[artwork.pk]), {"public": "1"})
    page = alice_client.get(artwork.get_absolute_url()).content.decode()

    assert 'data-testid="moderation-pending"' in page and 'data-testid="make-private"' in page


def test_many_pictures_are_made_public_at_once(alice_client, alice, paint, queued, django_capture_on_commit_callbacks):
    pictures = [paint(alice) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("gallery:selection"), {"action": "public", "ids": [str(p.pk) for p in pictures]})
    assert sorted(queued) == sorted(str(p.pk) for p in pictures)
    assert Moderation.objects.filter(wants_public=True).count() == 3
