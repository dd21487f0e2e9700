"""services.job_create: every upload is checked before anything is written; the job is queued on commit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from factories import bomb_png, files_under, make_job, noise_bytes, photo, picture_bytes, upload

from generator import services
from generator.models import Job

pytestmark = pytest.mark.django_db


def refused(owner, field: str, **overrides) -> str:
    with pytest.raises(ValidationError) as caught:
        make_job(owner, **overrides)
    assert field in caught.value.message_dict, caught.value.message_dict
    return " ".join(caught.value.message_dict[field])


def assert_nothing_written(media) -> None:
    assert Job.objects.count() == 0
    assert files_under(media) == []


def test_it_saves_the_photo_under_the_owners_folder_with_a_random_name(alice, isolated_data):
    job = make_job(alice, photo=photo("My Holiday.PNG"))
    assert job.status == Job.Status.QUEUED
    assert job.photo.name.startswith(f"users/{alice.pk}/photos/")
    assert "Holiday" not in job.photo.name and job.photo.name.endswith(".png")
    assert files_under(isolated_data) == sorted([isolated_data / job.photo.name, isolated_data / job.thumbnail.name])
    assert job.params == {
        "style_preset": "pop-outline",
        "blend": [],
        "strength": 1.0,
        "brush": 1.0,
        "preserve_colors": False,
        "max_side": 512,
        "mode": "fast",
    }


def test_it_names_the_file_by_its_content_not_its_extension(alice):
    job = make_job(alice, photo=upload(picture_bytes(fmt="PNG"), "photo.jpg", "image/jpeg"))
    assert job.photo.name.endswith(".png")


def test_it_rejects_a_text_file_named_like_a_picture(alice, isolated_data):
    message = refused(alice, "photo", photo=upload(b"just some words, not a picture\n" * 10, "photo.jpg"))
    assert "not a picture" in message
    assert_nothing_written(isolated_data)


def test_it_rejects_a_gif_even_though_pillow_reads_it(alice, isolated_data):
    refused(alice, "photo", photo=upload(picture_bytes(fmt="GIF"), "photo.gif", "image/gif"))
    assert_nothing_written(isolated_data)


def test_it_rejects_a_truncated_picture(alice, isolated_data):
    whole = picture_bytes((400, 300), "JPEG", quality=95)
    message = refused(alice, "photo", photo=upload(whole[: len(whole) // 2], "photo.jpg", "image/jpeg"))
    assert "damaged or cut short" in message
    assert_nothing_written(isolated_data)


def test_it_rejects_a_file_over_the_byte_limit(alice, isolated_data, settings):
    settings.ARTSTUDIO_MAX_UPLOAD_BYTES = 1000
    message = refused(alice, "photo", photo=upload(noise_bytes((300, 300))))
    assert "limit" in message
    assert_nothing_written(isolated_data)


def test_it_rejects_a_picture_over_the_megapixel_limit(alice, isolated_data, settings):
    settings.ARTSTUDIO_MAX_PIXELS = 5000  # 96 x 64 = 6144 pixels
    message = refused(alice, "photo", photo=photo())
    assert "megapixels" in message
    assert_nothing_written(isolated_data)


def test_it_rejects_a_decompression_bomb(alice, isolated_data):
    message = refused(alice, "photo", photo=upload(bomb_png(), "bomb.png"))
    assert "decompression bomb" in message
    assert_nothing_written(isolated_data)


def test_it_rejects_a_picture_too_small_to_paint(alice, isolated_data):
    refused(alice, "photo", photo=photo(size=(20, 20)))
    assert_nothing_written(isolated_data)


def test_it_checks_the_style_painting_too_and_writes_nothing(alice, isolated_data):
    refused(alice, "style_image", style_preset=None, style_image=upload(b"GIF89a nonsense", "painting.png"))
    assert_nothing_written(isolated_data)


def test_it_needs_exactly_one_style(alice, isolated_data):
    refused(alice, "style_preset", style_preset=None)
    refused(alice, "style_preset", style_image=photo("painting.png"))
    refused(alice, "style_preset", style_preset="no-such-style")
    assert_nothing_written(isolated_data)


@pytest.mark.parametrize(("field", "value"), [("strength", 1.5), ("brush", 0.1), ("max_side", 777), ("mode", "slow")])
def test_it_rejects_parameters_out_of_range(alice, isolated_data, field, value):
    refused(alice, field, **{field: value})
    assert_nothing_written(isolated_data)


def test_it_keeps_an_uploaded_painting_as_the_style(alice):
    job = make_job(alice, style_preset=None, style_image=photo("painting.webp", fmt="WEBP"))
    assert job.params["style_preset"] is None
    # a WebP is kept as the lossless PNG of what was decoded
    assert job.style_image.name.startswith(f"users/{alice.pk}/styles/") and job.style_image.name.endswith(".png")


def test_it_removes_written_files_when_the_row_cannot_be_saved(alice, isolated_data, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Job, "save", broken_save)
    with pytest.raises(RuntimeError):
        make_job(alice, style_preset=None, style_image=photo("painting.png"))
    monkeypatch.undo()
    assert_nothing_written(isolated_data)


@pytest.mark.django_db(transaction=True)  # a real commit, and what runs after it
def test_a_committed_job_keeps_its_files_when_queueing_it_is_killed(alice, isolated_data, monkeypatch):
    def killed(*args, **kwargs):
        raise SystemExit(1)  # what gunicorn's timeout raises in a request stuck on a stalled broker

    monkeypatch.setattr("generator.tasks.run_next_job.apply_async", killed)
    with pytest.raises(SystemExit):
        make_job(alice, style_preset=None, style_image=photo("painting.png"))
    job = Job.objects.get()
    assert sorted(files_under(isolated_data)) == sorted(
        [isolated_data / job.photo.name, isolated_data / job.style_image.name, isolated_data / job.thumbnail.name]
    )


def test_it_enqueues_only_after_the_transaction_commits(alice, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_job(alice)
    assert no_broker == []  # nothing sent while the row was not yet visible to a worker
    for callback in callbacks:
        callback()
    assert no_broker == ["cpu"]


def test_a_job_waits_in_the_database_when_the_queue_is_unreachable(
    alice, monkeypatch, django_capture_on_commit_callbacks
):
    def unreachable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("generator.tasks.run_next_job.apply_async", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(alice)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.error == ""  # the workers' tick sends its token later
    assert job.photo.storage.exists(job.photo.name)


@pytest.mark.parametrize(
    ("mode", "max_side", "queue"),
    [
        ("fast", 512, "cpu"),
        ("fast", 1024, "cpu"),
        ("fast", 2048, "gpu"),
        ("quality", 512, "gpu"),
    ],
)
def test_big_or_quality_jobs_go_to_the_gpu_queue(mode, max_side, queue):
    assert services.queue_for(mode=mode, max_side=max_side) == queue


def test_the_cpu_threshold_comes_from_settings(settings):
    settings.ARTSTUDIO_CPU_MAX_SIDE = 2048
    assert services.queue_for(mode="fast", max_side=2048) == "cpu"
