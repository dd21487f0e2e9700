"""The Content-Security-Policy in a real browser: the studio's pages, htmx and the admin all work under
it (tests/browser/conftest.py fails any test whose pages the policy blocked something on), and it
does block what it should."""

from __future__ import annotations

import pytest

from tests.people import ALICE, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]


def test_the_admin_works_under_the_policy(new_page, django_user_model):
    from playwright.sync_api import expect

    ROOT.create()
    artist = ALICE.create()
    page = new_page()
    response = page.goto("/admin/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.fill("#id_username", "root")
    page.fill("#id_password", ROOT.password)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    # The pages with the admin's own scripts: a change list with actions, and a user's page with the quota
    page.goto("/admin/generator/modelversion/")
    expect(page.locator("#changelist")).to_be_visible()
    page.goto(f"/admin/auth/user/{artist.pk}/change/")
    page.fill("#id_quota-0-jobs_per_day", "7")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    artist.refresh_from_db()
    assert artist.quota.jobs_per_day == 7


def test_the_policy_blocks_an_inline_script(browser, live_server):
    context = browser.new_context(base_url=live_server.url)  # not new_page: what is blocked here is expected
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text))
    page.goto("/")
    # What an injected <script> would do: the browser refuses to run it
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => window.pwned") is None
    assert any("Content Security Policy" in text for text in blocked)
    context.close()


def test_an_artist_sees_their_quota_before_reaching_it_and_a_lockout_says_what_to_do(
    new_page, django_user_model, settings, shots
):
    from django.utils import timezone
    from playwright.sync_api import expect

    from generator.models import DailyUsage

    settings.ARTSTUDIO_QUOTA_JOBS_PER_DAY = 5
    alice = ALICE.create()
    DailyUsage.objects.create(user=alice, day=timezone.localdate(), jobs=4)
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/accounts/login/")
    page.fill("#id_username", ALICE.username)
    page.fill("#id_password", ALICE.password)
    page.click("#login-submit")
    expect(page.locator("#usage")).to_contain_text("Jobs today: 4 of 5")
    expect(page.locator("[data-testid=usage-near]")).to_be_visible()
    page.screenshot(path=str(shots / "studio-usage.png"))

    stranger = new_page()
    stranger.set_viewport_size({"width": 1280, "height": 900})
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        stranger.goto("/accounts/login/")
        stranger.fill("#id_username", "alice")
        stranger.fill("#id_password", "not-the-password")
        stranger.click("#login-submit")
    expect(stranger.locator("[data-testid=locked-out]")).to_contain_text("Please try again in 15 minutes")
    stranger.screenshot(path=str(shots / "locked-out.png"))
