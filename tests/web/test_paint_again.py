"""Painting again: a remix opens the studio with the same photo and settings, "run again" paints a new artwork
with today's models, and a form sent back with an error keeps the photo the artist chose."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from factories import noise_bytes, photo, picture_bytes, upload

from generator import held
from generator.models import Artwork, Job

pytestmark = pytest.mark.django_db

SETTINGS = {"strength": "0.6", "brush": "2", "max_side": "1024", "mode": "fast"}


def content(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def studio_post(client, **fields):
    return client.post(reverse("generator:studio"), {"style_source": "preset", **SETTINGS, **fields})


def test_remix_opens_the_studio_with_the_photo_and_settings(alice_client, alice, paint):
    artwork = paint(alice, style_preset="shipwreck", strength=0.6, brush=2.0, max_side=1024)

    response = alice_client.get(reverse("generator:studio"), {"remix": artwork.pk})
    page = response.content.decode()

    assert 'data-testid="remix-notice"' in page and 'data-testid="held-photo"' in page
    assert 'id="preset-shipwreck" checked' in page
    assert 'value="0.6"' in page and 'value="1024" selected' in page
    token = response.context["held"]["photo"]
    assert held.held_name(owner=alice, token=token) == artwork.job.photo.name


def test_a_remix_paints_the_same_photo_without_encoding_it_again(alice_client, alice, paint):
    artwork = paint(alice, style_preset="shipwreck")
    token = alice_client.get(reverse("generator:studio"), {"remix": artwork.pk}).context["held"]["photo"]

    response = studio_post(alice_client, held_photo=token, style_preset="pop-outline")

    job = Job.objects.exclude(pk=artwork.job_id).get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert content(job.photo) == content(artwork.job.photo) and job.photo.name != artwork.job.photo.name
    assert job.options.style_preset == "pop-outline" and job.options.strength == 0.6
    assert default_storage.exists(artwork.job.photo.name)  # the old job keeps its own


def test_a_remix_of_a_painting_keeps_the_painting(alice_client, alice, paint):
    artwork = paint(alice, style_preset=None, style_image=photo("painting.jpg", fmt="JPEG"))
    opened = alice_client.get(reverse("generator:studio"), {"remix": artwork.pk})
    context = opened.context

    assert context["held"]["style"] and 'id="held-style"' in opened.content.decode()
    assert 'id="style-source-upload" checked' in opened.content.decode()
    response = studio_post(
        alice_client, style_source="upload", held_photo=context["held"]["photo"], held_style=context["held"]["style"]
    )

    job = Job.objects.exclude(pk=artwork.job_id).get()
    assert response.status_code == 302 and content(job.style_image) == content(artwork.job.style_image)


def test_nobody_remixes_another_artists_picture(alice, bob_client, paint):
    artwork = paint(alice)
    assert bob_client.get(reverse("generator:studio"), {"remix": artwork.pk}).status_code == 404
    assert bob_client.get(reverse("generator:studio"), {"remix": "not-an-id"}).status_code == 200


def test_a_token_for_another_artists_photo_holds_nothing(alice, bob, bob_client, paint):
    artwork = paint(alice)
    alices = held.hold_stored(owner=alice, field=artwork.job.photo)

    response = studio_post(bob_client, held_photo=alices, style_preset="pop-outline")

    assert response.status_code == 400 and "Choose a photo to paint." in response.content.decode()
    assert Job.objects.filter(owner=bob).count() == 0
    with pytest.raises(ValueError):
        held.hold_stored(owner=bob, field=artwork.job.photo)


def test_a_form_with_an_error_keeps_the_photo_for_the_next_try(
    alice_client, alice, no_broker, django_capture_on_commit_callbacks
):
    data = picture_bytes((96, 64))
    first = studio_post(alice_client, photo=upload(data), style_source="upload")  # no painting: an error

    token = first.context["held"]["photo"]
    name = held.held_name(owner=alice, token=token)
    assert first.status_code == 400 and name and name.startswith(f"users/{alice.pk}/held/")
    assert f'value="{token}"' in first.content.decode()
    shown = alice_client.get(reverse("generator:held-picture", args=[token]))
    kept = b"".join(shown.streaming_content)

    with django_capture_on_commit_callbacks(execute=True):
        second = studio_post(alice_client, held_photo=token, style_preset="pop-outline")

    job = Job.objects.get()
    assert second.status_code == 302
    assert content(job.photo) == kept  # as it was checked at the first try, not encoded again
    assert not default_storage.exists(name)  # the job has its own copy; the held one is gone


def test_a_bad_photo_is_said_at_once_when_the_form_has_another_error(alice_client, no_broker):
    response = studio_post(
        alice_client, photo=upload(b"not a picture", "photo.jpg", "image/jpeg"), style_source="upload"
    )

    page = response.content.decode()
    assert response.status_code == 400 and "not a picture the studio can read" in page
    assert response.context["held"]["photo"] == ""


def test_run_again_paints_a_new_artwork_beside_the_old_one(alice_client, alice, paint):
    artwork = paint(alice, title="Harbour", style_preset="pop-outline", strength=0.7)

    response = alice_client.post(reverse("gallery:artwork-repeat", args=[artwork.pk]))

    again = Job.objects.exclude(pk=artwork.job_id).get()
    assert response.status_code == 302 and response["Location"] == again.get_absolute_url()
    assert again.status == Job.Status.QUEUED and again.options == artwork.options
    assert content(again.photo) == content(artwork.job.photo)
    assert Artwork.objects.get(pk=artwork.pk).title == "Harbour"  # the old one is untouched


def test_run_again_counts_against_the_quota(alice_client, alice, paint, settings):
    artwork = paint(alice)
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 1

    response = alice_client.post(reverse("gallery:artwork-repeat", args=[artwork.pk]), follow=True)

    assert Job.objects.count() == 1 and "today" in response.content.decode()


def test_an_upload_sent_back_is_held_once(alice_client, no_broker, isolated_data):
    from factories import files_under

    studio_post(alice_client, photo=upload(noise_bytes((200, 200))), style_source="upload")
    assert len([p for p in files_under(isolated_data) if "/held/" in str(p)]) == 1
