"""The pages: who may see what, the studio form, the live job status, the gallery, the language switch."""

from __future__ import annotations

import pytest
from django.urls import reverse
from factories import files_under, make_job, noise_bytes, photo, upload

from generator.models import Artwork, Job
from tests.people import ALICE

pytestmark = pytest.mark.django_db


def studio_post(**overrides) -> dict:
    data = {
        "photo": photo(),
        "style_source": "preset",
        "style_preset": "starry-night",
        "strength": "0.8",
        "brush": "1.5",
        "max_side": "512",
        "mode": "fast",
    }
    data.update(overrides)
    return data


def test_the_health_check_says_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.parametrize("name", ["generator:studio", "gallery:index"])
def test_the_studio_and_gallery_need_a_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_home_page_invites_anonymous_visitors_to_sign_up(client):
    response = client.get("/")
    assert response.status_code == 200 and b'id="home-signup"' in response.content


def test_a_visitor_can_sign_up_and_lands_in_the_studio(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": "paint-me-a-river-42",
            "password2": "paint-me-a-river-42",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("generator:studio")
    assert django_user_model.objects.filter(username="carol").exists()
    assert client.get(reverse("generator:studio")).status_code == 200


def test_a_person_can_log_in(client, alice):
    response = client.post(reverse("login"), ALICE.login())
    assert response.status_code == 302


def test_the_password_reset_mail_is_sent(client, alice, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and "/accounts/reset/" in mailoutbox[0].body


def test_the_studio_shows_every_preset(alice_client):
    from generator.ml.presets import PRESETS

    html = alice_client.get(reverse("generator:studio")).content.decode()
    for slug in PRESETS:
        assert f'id="preset-{slug}"' in html and reverse("generator:preset-thumbnail", args=[slug]) in html
    for field in [
        "id_photo",
        "id_style_image",
        "id_strength",
        "id_brush",
        "id_preserve_colors",
        "id_max_side",
        "mode-fast",
        "mode-quality",
        "studio-submit",
    ]:
        assert f'id="{field}"' in html


def test_posting_the_studio_form_creates_a_job_and_opens_its_page(
    alice_client, alice, no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("generator:studio"), studio_post(preserve_colors="on"))
    job = Job.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.params == {
        "style_preset": "starry-night",
        "blend": [],
        "strength": 0.8,
        "brush": 1.5,
        "preserve_colors": True,
        "max_side": 512,
        "mode": "fast",
    }
    assert no_broker == ["cpu"]


def test_a_painting_can_be_the_style(alice_client, alice, no_broker):
    response = alice_client.post(
        reverse("generator:studio"), studio_post(style_source="upload", style_image=photo("painting.jpg", fmt="JPEG"))
    )
    assert response.status_code == 302
    job = Job.objects.get(owner=alice)
    assert job.params["style_preset"] is None and job.style_image.name.endswith(".jpg")


def test_a_bad_upload_is_shown_on_the_form_and_nothing_is_written(alice_client, isolated_data):
    response = alice_client.post(
        reverse("generator:studio"), studio_post(photo=upload(b"%PDF-1.4 not a photo", "photo.jpg"))
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="errors-photo"' in html and "not a picture" in html
    assert not Job.objects.exists() and files_under(isolated_data) == []


def test_an_upload_over_the_limit_is_refused_without_keeping_it_whole(alice_client, settings, isolated_data):
    settings.ARTSTUDIO_MAX_UPLOAD_BYTES = 1000
    big = upload(noise_bytes((300, 300)))
    assert big.size > 100_000
    response = alice_client.post(reverse("generator:studio"), studio_post(photo=big))
    assert response.status_code == 400 and "larger than the" in response.content.decode()
    assert not Job.objects.exists() and files_under(isolated_data) == []


def test_choosing_to_upload_a_painting_without_one_is_an_error(alice_client):
    response = alice_client.post(reverse("generator:studio"), studio_post(style_source="upload"))
    assert response.status_code == 400 and b'data-testid="errors-style_image"' in response.content


def test_a_queued_job_polls_and_shows_its_place_in_the_queue(alice_client, alice, bob):
    make_job(bob)
    job = make_job(alice)
    html = alice_client.get(reverse("generator:job-status", args=[job.pk])).content.decode()
    assert 'data-status="queued"' in html and 'hx-trigger="every 1s"' in html
    assert 'data-ahead="1"' in html and 'id="job-cancel"' in html


def test_a_running_job_shows_its_progress(alice_client, alice):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, progress=0.42)
    html = alice_client.get(reverse("generator:job-status", args=[job.pk])).content.decode()
    assert 'id="job-progress"' in html and 'value="42"' in html and "42% done" in html


def test_a_finished_job_stops_polling_and_shows_the_artwork(alice_client, alice_artwork):
    html = alice_client.get(reverse("generator:job-status", args=[alice_artwork.job_id])).content.decode()
    assert 'data-status="succeeded"' in html and "hx-get" not in html
    assert reverse("gallery:artwork", args=[alice_artwork.pk]) in html


def test_a_failed_job_shows_its_error_and_offers_a_retry(alice_client, alice):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error="The photo is too dark to paint.")
    html = alice_client.get(reverse("generator:job", args=[job.pk])).content.decode()
    assert "The photo is too dark to paint." in html and 'id="job-retry"' in html and "hx-get" not in html


def test_cancel_is_a_post_that_stops_a_queued_job(alice_client, alice):
    job = make_job(alice)
    assert alice_client.get(reverse("generator:job-cancel", args=[job.pk])).status_code == 405
    response = alice_client.post(reverse("generator:job-cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'data-status="cancelled"' in response.content
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED


def test_the_gallery_shows_only_my_own_artworks(alice_client, bob_client, alice_artwork):
    assert str(alice_artwork.pk) in alice_client.get(reverse("gallery:index")).content.decode()
    bobs = bob_client.get(reverse("gallery:index")).content.decode()
    assert str(alice_artwork.pk) not in bobs and 'id="gallery-empty"' in bobs


def test_the_artwork_page_lists_its_model_versions(alice_client, alice_artwork):
    html = alice_client.get(reverse("gallery:artwork", args=[alice_artwork.pk])).content.decode()
    versions = list(alice_artwork.model_versions.all())
    assert versions
    for version in versions:
        assert version.label in html and version.sha256[:12] in html
    assert 'data-testid="artwork-retired"' not in html


def test_the_owner_gets_the_files(alice_client, alice_artwork):
    image = alice_client.get(reverse("generator:artwork-image", args=[alice_artwork.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    thumb = alice_client.get(reverse("generator:artwork-thumbnail", args=[alice_artwork.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    job_photo = alice_client.get(reverse("generator:job-photo", args=[alice_artwork.job_id]))
    assert job_photo.status_code == 200 and job_photo["Content-Type"] == "image/png"
    download = alice_client.get(reverse("generator:artwork-image", args=[alice_artwork.pk]) + "?download=1")
    assert "attachment" in download["Content-Disposition"]


def test_bob_gets_404_for_everything_of_alices(bob_client, alice_artwork):
    job = alice_artwork.job
    for url in [
        reverse("gallery:artwork", args=[alice_artwork.pk]),
        reverse("generator:artwork-image", args=[alice_artwork.pk]),
        reverse("generator:artwork-thumbnail", args=[alice_artwork.pk]),
        reverse("generator:job", args=[job.pk]),
        reverse("generator:job-status", args=[job.pk]),
        reverse("generator:job-photo", args=[job.pk]),
        reverse("generator:job-preview", args=[job.pk]),
    ]:
        assert bob_client.get(url).status_code == 404, url
    for url in [
        reverse("generator:job-cancel", args=[job.pk]),
        reverse("generator:job-retry", args=[job.pk]),
        reverse("gallery:artwork-delete", args=[alice_artwork.pk]),
    ]:
        assert bob_client.post(url).status_code == 404, url
    assert Artwork.objects.filter(pk=alice_artwork.pk).exists()


def test_deleting_an_artwork_removes_it_its_job_and_every_file(
    alice_client, alice_artwork, isolated_data, django_capture_on_commit_callbacks
):
    assert files_under(isolated_data)  # photo, result, thumbnail
    assert alice_client.get(reverse("gallery:artwork-delete", args=[alice_artwork.pk])).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("gallery:artwork-delete", args=[alice_artwork.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("gallery:index")
    assert not Artwork.objects.filter(pk=alice_artwork.pk).exists()
    assert not Job.objects.filter(pk=alice_artwork.job_id).exists()
    assert files_under(isolated_data) == []


def test_media_files_are_not_served_by_url(alice_client, alice_artwork):
    assert alice_client.get("/media/" + alice_artwork.image.name).status_code == 404


def test_switching_to_chinese_renders_the_pages_in_chinese(alice_client):
    response = alice_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/studio/"})
    assert response.status_code == 302
    html = alice_client.get(reverse("generator:studio")).content.decode()
    assert 'lang="zh-hans"' in html
    assert "工作室" in html and "星夜" in html  # "Studio", and the preset "The Starry Night"
