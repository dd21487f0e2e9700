"""Small things a newcomer meets: the reset e-mail, the favicon, the error pages, the admin's names and
the quota defaults it shows (issue 18, point 5)."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path, reverse
from PIL import Image

from artstudio.urls import urlpatterns as studio_urlpatterns

pytestmark = pytest.mark.django_db


def refused(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("a bug in a view")


# The studio's own addresses, and two views that fail on purpose (with pytest.mark.urls(__name__)).
urlpatterns = [path("refused/", refused), path("broken/", broken), *studio_urlpatterns]


@pytest.fixture
def production(settings, client) -> Client:
    """A client that gets what a visitor gets: the error pages, not Django's debug pages or exceptions."""
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


# --- The password-reset e-mail -----------------------------------------------------------------


def test_the_password_reset_mail_names_the_account(client, alice):
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})

    assert response.status_code == 302
    [message] = mail.outbox
    assert 'your Artstudio account "alice".' in message.body
    assert '""' not in message.body
    assert message.subject == "Reset your Artstudio password"


def test_the_password_reset_mail_names_the_account_in_chinese_too(client, alice):
    client.cookies["django_language"] = "zh-hans"
    client.post(reverse("password_reset"), {"email": "alice@example.com"})

    [message] = mail.outbox
    assert "Artstudio 账户“alice”的密码" in message.body


# --- The favicon -------------------------------------------------------------------------------


def test_the_favicon_answers_at_the_address_browsers_ask(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age=" in response["Cache-Control"]
    icon = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= set(icon.info["sizes"])


def test_every_page_links_the_studios_icons(client):
    html = client.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.ico" sizes="32x32">' in html
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    svg = ElementTree.parse(finders.find("favicon.svg")).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


# --- The error pages ---------------------------------------------------------------------------


def test_a_missing_page_is_a_404_in_the_studios_look(production):
    response = production.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="not-found"' in html and "Page not found" in html
    assert 'data-testid="brand"' in html  # the studio's top bar: the page extends base.html
    assert '<link rel="icon"' in html


def test_a_missing_page_speaks_chinese_to_a_chinese_visitor(production):
    production.cookies["django_language"] = "zh-hans"

    response = production.get("/no-such-page/")

    assert response.status_code == 404
    assert 'lang="zh-hans"' in response.content.decode() and "找不到这个页面" in response.content.decode()


def test_a_missing_page_does_not_repeat_its_address_yet_switches_language_in_place(production, bob):
    production.force_login(bob)
    missing = "/jobs/2e71115e-6665-42a9-b9f0-518bcd36f1df/"  # as if somebody else's job

    response = production.get(missing)
    html = response.content.decode()
    switched = production.post(reverse("set_language"), {"language": "zh-hans", "next": ""}, HTTP_REFERER=missing)

    assert response.status_code == 404 and "2e71115e" not in html  # the id in the URL stays out of the page
    assert '<input name="next" type="hidden" value="">' in html
    assert switched.status_code == 302 and switched["Location"] == missing  # back by the Referer


@pytest.mark.urls(__name__)
def test_a_refusal_is_a_403_in_the_studios_look(production):
    response = production.get("/refused/")

    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="forbidden"' in html and "not allowed to see this page" in html
    assert 'data-testid="brand"' in html


def test_a_form_posted_without_its_csrf_token_is_a_403_that_says_what_to_do(production, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post(reverse("generator:studio"), {})

    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-testid="csrf-failed"' in html and "Reload the page" in html
    assert "CSRF verification failed" in html  # Django's own words, for whoever reports the problem
    assert 'id="nav-account" class="muted">alice<' in html  # the studio's top bar, for the person signed in


@pytest.mark.urls(__name__)
def test_a_bug_is_a_500_in_the_studios_look(production):
    response = production.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-testid="server-error"' in html and "Something went wrong on our side" in html
    assert '<link rel="stylesheet" href="/static/css/artstudio.css">' in html
    assert "a bug in a view" not in html


@pytest.mark.urls(__name__)
def test_a_bug_is_a_500_in_chinese_for_a_chinese_visitor(production):
    production.cookies["django_language"] = "zh-hans"

    response = production.get("/broken/")

    assert response.status_code == 500
    html = response.content.decode()
    assert 'lang="zh-hans"' in html and "服务器出了点问题" in html


def test_the_500_page_renders_with_nothing_but_an_empty_context():
    """Django renders 500.html with an empty context and no request: the page must need neither."""
    from django.template import loader

    html = loader.get_template("500.html").render()

    assert "Something went wrong on our side" in html and 'href="/"' in html


# --- The admin ---------------------------------------------------------------------------------


def test_the_admin_is_called_artstudio_not_django(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "Django" not in re.sub(r"<script.*?</script>|href=\"[^\"]*\"", "", html, flags=re.S)
    assert "<title>Studio administration | Artstudio admin</title>" in html
    assert '<a href="/admin/">Artstudio administration</a>' in html


def test_the_admins_names_are_translated(admin_client):
    admin_client.cookies["django_language"] = "zh-hans"

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "Artstudio 管理后台" in html and "工作室管理" in html


def test_the_quota_fields_say_what_a_blank_means(admin_client, alice):
    page = admin_client.get(reverse("admin:auth_user_change", args=[alice.pk])).content.decode()

    assert "Blank: the studio's default, 20 jobs queued or running at once (ARTSTUDIO_QUOTA_ACTIVE_JOBS)." in page
    assert "Blank: the studio's default, 200 jobs a day (ARTSTUDIO_QUOTA_JOBS_PER_DAY)." in page
    assert "Uploads and finished pictures together. Blank: the studio's default, 2048 MB" in page


def test_the_quota_defaults_shown_follow_the_settings(admin_client, alice, settings):
    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 1
    settings.ARTSTUDIO_QUOTA_STORAGE_MB = 512

    page = admin_client.get(reverse("admin:auth_user_change", args=[alice.pk])).content.decode()

    assert "Blank: the studio's default, 1 job a day (ARTSTUDIO_QUOTA_JOBS_PER_DAY)." in page
    assert "Blank: the studio's default, 512 MB (ARTSTUDIO_QUOTA_STORAGE_MB)." in page
