"""Limits that keep one person from taking the studio from everyone else: login lockout (django-axes),
per-person rate limits (django-ratelimit), the quotas admins set, and the headers every page carries."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from factories import files_under, make_job, photo

from artstudio.client_ip import client_ip
from generator import selectors, services
from generator.models import DailyUsage, Job, Quota
from tests.people import ALICE

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
RIGHT = ALICE.password


def log_in(client: Client, password: str, *, path: str = "/accounts/login/", **headers):
    return client.post(path, {"username": "alice", "password": password}, **headers)


def studio_post(client: Client, **extra):
    return client.post(
        reverse("generator:studio"),
        {
            "photo": photo(),
            "style_source": "preset",
            "style_preset": "starry-night",
            "strength": "1",
            "brush": "1",
            "max_side": "512",
            "mode": "fast",
            **extra,
        },
    )


# --- Login lockout -----------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, WRONG).status_code == 200  # the form again, with its error
    locked = log_in(client, WRONG)
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    right = log_in(client, RIGHT)
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert "15 minutes" in right.content.decode()


def test_a_spoofed_forwarded_for_header_does_not_reset_the_count(client, alice, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert log_in(client, RIGHT, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_the_admin_login_is_locked_the_same_way(client, alice, settings):
    alice.is_staff = True
    alice.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, WRONG, path="/admin/login/")
    response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": RIGHT})
    assert response.status_code == 429 and "_auth_user_id" not in client.session


def test_another_address_is_not_locked_out(alice, settings):
    attacker, owner = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="198.51.100.20")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        log_in(attacker, WRONG)
    assert log_in(owner, RIGHT).status_code == 302


def test_a_right_password_before_the_limit_clears_the_failures(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, WRONG)
    assert log_in(client, RIGHT).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, WRONG)
    assert log_in(client, RIGHT).status_code == 302


# --- The client's address ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.5", "", "203.0.113.5"),
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),  # not from a proxy: the header is the client's own words
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),  # the proxy says who it served
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the client's own first entry is not believed
        ("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.3", "198.51.100.1"),  # two proxies of ours
        ("10.0.0.2", "not-an-address", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_the_forwarded_for_header_is_believed_only_from_a_trusted_proxy(settings, peer, forwarded, expected):
    settings.ARTSTUDIO_TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_behind_a_trusted_proxy_each_client_is_counted_apart(alice, settings):
    settings.ARTSTUDIO_TRUSTED_PROXIES = ["10.0.0.0/24"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(proxy, WRONG, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert log_in(proxy, RIGHT, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert log_in(proxy, RIGHT, HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 302


# --- Rate limits -------------------------------------------------------------------------------


def test_posting_jobs_faster_than_the_rate_is_refused_with_a_clear_message(
    alice_client, isolated_data, no_broker, settings
):
    settings.ARTSTUDIO_RATE_JOBS = "2/m"
    assert [studio_post(alice_client).status_code for _ in range(2)] == [302, 302]
    refused = studio_post(alice_client)
    assert refused.status_code == 429
    assert "Please wait a minute and try again" in refused.content.decode()
    assert Job.objects.count() == 2 and len(files_under(isolated_data)) == 4  # each photo and its thumbnail


def test_the_rate_counts_each_artist_apart(alice_client, bob_client, no_broker, settings):
    settings.ARTSTUDIO_RATE_JOBS = "1/m"
    assert studio_post(alice_client).status_code == 302
    assert studio_post(alice_client).status_code == 429
    assert studio_post(bob_client).status_code == 302


def test_retries_count_against_the_job_rate(alice_client, alice, settings):
    settings.ARTSTUDIO_RATE_JOBS = "1/m"
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    assert alice_client.post(reverse("generator:job-retry", args=[job.pk])).status_code == 302
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    refused = alice_client.post(reverse("generator:job-retry", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert refused.status_code == 429 and 'data-testid="job-action-error"' in refused.content.decode()
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


def test_asking_the_assistant_too_often_is_refused(alice_client, settings, monkeypatch):
    settings.ARTSTUDIO_RATE_ASSISTANT = "1/h"
    monkeypatch.setattr("assistant.tasks.analyse_idea.apply_async", lambda *args, **kwargs: None)
    assert alice_client.post(reverse("assistant:ask"), {"text": "a lighthouse in a storm"}).status_code == 302
    refused = alice_client.post(reverse("assistant:ask"), {"text": "a fox in snow"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 429 and "Please wait an hour" in refused.content.decode()


def test_logins_from_one_address_over_many_accounts_are_throttled(client, alice, settings):
    settings.ARTSTUDIO_RATE_LOGIN = "3/h"
    for name in ("carol", "dave", "erin"):
        assert client.post("/accounts/login/", {"username": name, "password": WRONG}).status_code == 200
    throttled = log_in(client, RIGHT)
    assert throttled.status_code == 429 and "Please wait an hour" in throttled.content.decode()
    assert (
        Client(REMOTE_ADDR="198.51.100.20")
        .post("/accounts/login/", {"username": "alice", "password": RIGHT})
        .status_code
        == 302
    )


def test_an_unreachable_cache_lets_the_request_through(alice_client, no_broker, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args, **kwargs):
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr("generator.limits.is_ratelimited", down)
    assert studio_post(alice_client).status_code == 302


# --- Quotas ------------------------------------------------------------------------------------


def test_the_studio_shows_what_is_used_before_a_limit_is_hit(alice_client, alice, settings):
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 5
    for _ in range(4):
        make_job(alice)
    html = alice_client.get(reverse("generator:studio")).content.decode()
    assert 'data-testid="usage-jobs-today" data-used="4" data-limit="5"' in html
    assert 'data-testid="usage-near"' in html and "Jobs today: 4 of 5" in html


def test_a_job_past_the_active_jobs_quota_is_refused_and_nothing_is_written(
    alice, alice_client, isolated_data, settings
):
    settings.ARTSTUDIO_QUOTA_ACTIVE_JOBS = 2
    make_job(alice)
    make_job(alice)
    written = files_under(isolated_data)
    response = studio_post(alice_client)
    assert response.status_code == 400
    assert "You already have 2 jobs waiting or running" in response.content.decode()
    assert Job.objects.count() == 2 and files_under(isolated_data) == written


def test_an_admin_sets_one_artists_quota(alice, bob, settings):
    settings.ARTSTUDIO_QUOTA_ACTIVE_JOBS = 1
    Quota.objects.create(user=alice, active_jobs=3)
    for _ in range(3):
        make_job(alice)
    make_job(bob)
    with pytest.raises(ValidationError, match="3 jobs waiting"):
        make_job(alice)
    with pytest.raises(ValidationError, match="1 jobs waiting"):
        make_job(bob)


def test_deleting_pictures_does_not_give_back_the_days_jobs(alice, settings, django_capture_on_commit_callbacks):
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 2
    first = make_job(alice)
    make_job(alice)
    first.delete()
    assert DailyUsage.objects.get(user=alice).jobs == 2
    with pytest.raises(ValidationError, match="all 2 of today's jobs"):
        make_job(alice)


def test_a_retry_counts_as_a_job_of_the_day(alice, settings):
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 1
    job = make_job(alice)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    job.refresh_from_db()
    with pytest.raises(ValidationError, match="today's jobs"):
        services.job_retry(job=job, by=alice)
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


def test_the_storage_quota_counts_uploads_and_pictures(alice, alice_artwork, settings):
    usage = selectors.usage_for(user=alice)
    artwork_bytes = alice_artwork.image.size + alice_artwork.thumbnail.size
    assert usage.storage.used == alice_artwork.job.photo.size + alice_artwork.job.thumbnail.size + artwork_bytes
    settings.ARTSTUDIO_QUOTA_STORAGE_MB = 1
    Quota.objects.create(user=alice, storage_mb=None)  # blank: the default
    alice_artwork.stored_bytes = 2**20
    alice_artwork.save()
    with pytest.raises(ValidationError, match="Please delete some pictures"):
        make_job(alice)


def test_the_admin_edits_a_quota_on_the_artists_page(admin_client, alice):
    url = reverse("admin:auth_user_change", args=[alice.pk])
    page = admin_client.get(url).content.decode()
    assert "quota-0-jobs_per_day" in page and "In use now" in page
    form = {
        "username": "alice",
        "email": "alice@example.com",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "quota-TOTAL_FORMS": "1",
        "quota-INITIAL_FORMS": "0",
        "quota-MIN_NUM_FORMS": "0",
        "quota-MAX_NUM_FORMS": "1",
        "quota-0-jobs_per_day": "7",
        "quota-0-user": str(alice.pk),
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Quota.objects.get(user=alice).jobs_per_day == 7
    assert selectors.usage_for(user=User.objects.get(pk=alice.pk)).jobs_today.limit == 7


# --- Headers -----------------------------------------------------------------------------------


def test_every_page_carries_a_strict_content_security_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'self'"
    assert "unsafe" not in policy


def test_pages_refuse_browser_features_they_do_not_use(client):
    policy = client.get("/")["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_the_language_cookie_is_for_the_server_only(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    cookie = response.cookies["django_language"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_a_file_opened_on_its_own_can_run_nothing(alice_client, alice_artwork):
    response = alice_client.get(reverse("generator:artwork-image", args=[alice_artwork.pk]))
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
