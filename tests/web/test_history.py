"""The everyday loop: every job in a history with a picture of it, how long a job runs and usually takes, the
quota said once, and deleting that leaves no file behind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from factories import files_under, make_job, noise_bytes, upload

from generator import selectors, services
from generator.models import Job
from generator.templatetags.studio import clock

pytestmark = pytest.mark.django_db


def test_a_job_keeps_a_small_picture_of_its_photo(alice, no_broker):
    from PIL import Image

    job = make_job(alice)

    with Image.open(job.thumbnail.open("rb")) as picture:
        assert picture.format == "WEBP" and max(picture.size) <= 256
    assert job.stored_bytes == job.photo.size + job.thumbnail.size  # it counts against the quota


def test_the_history_lists_every_job_with_its_picture(alice_client, alice, bob, paint):
    done = paint(alice, title="Harbour")
    failed = make_job(alice)
    Job.objects.filter(pk=failed.pk).update(status=Job.Status.FAILED, error="The photo is too dark to paint.")
    make_job(bob)

    page = alice_client.get(reverse("generator:history")).content.decode()
    only_failed = alice_client.get(reverse("generator:history"), {"status": "failed"}).content.decode()

    assert page.count('class="history-item') == 2
    assert reverse("generator:artwork-thumbnail", args=[done.pk]) in page  # the result
    assert reverse("generator:job-thumbnail", args=[failed.pk]) in page  # the photo
    assert "The photo is too dark to paint." in page and "Harbour" in page
    assert str(failed.pk) in only_failed and str(done.job_id) not in only_failed


def test_a_running_job_says_how_long_it_has_run_and_usually_takes(alice_client, alice, paint):
    for seconds in (50, 70, 90):  # earlier jobs of the same kind
        job = paint(alice).job
        Job.objects.filter(pk=job.pk).update(started=timezone.now() - dt.timedelta(seconds=seconds))
        Job.objects.filter(pk=job.pk).update(finished=timezone.now())
    running = make_job(alice)
    Job.objects.filter(pk=running.pk).update(
        status=Job.Status.RUNNING, started=timezone.now() - dt.timedelta(seconds=42)
    )

    page = alice_client.get(reverse("generator:job-status", args=[running.pk])).content.decode()

    assert selectors.typical_seconds(job=Job.objects.get(pk=running.pk)) == pytest.approx(70, abs=1)
    assert "0:42 so far, usually about 1:10" in page


def test_a_job_unlike_any_before_has_no_estimate(alice, no_broker):
    assert selectors.typical_seconds(job=make_job(alice, mode="quality")) is None


def test_clock_reads_like_a_clock():
    assert [clock(s) for s in (None, 0, 42.4, 725, 3729)] == ["", "0:00", "0:42", "12:05", "1:02:09"]


def test_the_quota_is_said_once_when_a_job_is_refused(alice_client, alice, no_broker, settings):
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 1
    make_job(alice)

    response = alice_client.post(
        reverse("generator:studio"),
        {
            "photo": upload(noise_bytes((64, 64))),
            "style_source": "preset",
            "style_preset": "pop-outline",
            "strength": "1",
            "brush": "1",
            "max_side": "512",
            "mode": "fast",
        },
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert page.count("start tomorrow") == 1 and 'data-testid="usage-reached"' not in page
    # and before anything is posted, the meter says it
    assert 'data-testid="usage-reached"' in alice_client.get(reverse("generator:studio")).content.decode()


def test_deleting_a_failed_job_removes_its_files(
    alice_client, alice, no_broker, isolated_data, django_capture_on_commit_callbacks
):
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    assert files_under(isolated_data)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("generator:job-delete", args=[job.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("generator:history")
    assert not Job.objects.exists() and files_under(isolated_data) == []


def test_a_job_still_queued_is_not_deleted(alice, no_broker):
    from django.core.exceptions import ValidationError

    job = make_job(alice)
    with pytest.raises(ValidationError, match="Cancel the job"):
        services.job_delete(job=job, by=alice)
    assert Job.objects.filter(pk=job.pk).exists()


def test_files_no_row_points_to_are_reported_and_removed(alice, no_broker, isolated_data, capsys):
    import os

    job = make_job(alice)
    stray = isolated_data / "users" / str(alice.pk) / "photos" / "left-by-a-crash.jpg"
    stray.write_bytes(b"x" * 2048)
    an_hour_ago = timezone.now().timestamp() - 3700
    os.utime(stray, (an_hour_ago, an_hour_ago))
    fresh = stray.with_name("being-written.jpg")
    fresh.write_bytes(b"y")  # younger than an hour: its row may be committing

    call_command("files", "orphans")
    report = capsys.readouterr().out
    assert "left-by-a-crash.jpg" in report and "being-written" not in report and job.photo.name not in report
    assert stray.exists()

    call_command("files", "orphans", "--delete")
    assert not stray.exists() and fresh.exists() and os.path.exists(job.photo.path)


def test_pages_keep_the_filter_they_were_asked_with(alice_client, alice, no_broker, monkeypatch):
    monkeypatch.setattr("generator.views.HISTORY_PAGE_SIZE", 2)
    for _ in range(3):
        Job.objects.filter(pk=make_job(alice).pk).update(status=Job.Status.FAILED)

    first = alice_client.get(reverse("generator:history"), {"status": "failed"}).content.decode()
    second = alice_client.get(reverse("generator:history"), {"status": "failed", "page": "2"}).content.decode()

    assert 'href="?status=failed&amp;page=2" id="page-next"' in first
    assert second.count('class="history-item') == 1 and 'href="?status=failed&amp;page=1" id="page-previous"' in second
