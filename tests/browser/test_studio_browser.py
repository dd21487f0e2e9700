"""The studio in a real browser: Chromium (headless, driven by Playwright) against pytest-django's live server,
with jobs run by a real Celery worker process on the real Redis and PostgreSQL.

Playwright's browser downloads are not used: it drives the system Chromium (`.ci/ensure-chromium`
installs it). Without Chromium, Redis or PostgreSQL the test skips, and under CI=true it fails.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.pages import loaded_width, sign_up
from tests.integration.worker import job_timeout
from tests.people import ALICE, BOB

pytestmark = [
    pytest.mark.slow,
    # The live server starts before the test points STATIC_ROOT at its own folder; static files come from
    # the finders anyway (htmx, CSS), so WhiteNoise's note about the default folder does not matter here.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


def test_a_new_artist_paints_a_photo_and_only_they_can_see_it(new_page, start_worker, chelsea):
    from playwright.sync_api import expect

    page = new_page()
    sign_up(page, ALICE)

    # The studio form: a photo, a preset that is not the default, the small output size.
    page.set_input_files("#id_photo", str(chelsea))
    expect(page.locator("#photo-preview")).to_be_visible()
    page.click("label[for=preset-pop-outline]")
    expect(page.locator("#preset-pop-outline")).to_be_checked()
    page.select_option("#id_max_side", "512")
    page.click("#studio-submit")
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    job_url = page.url

    # No worker runs yet, so the job is certainly still queued when the page first shows it.
    status = page.locator("#job-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(page.locator("#job-status-badge")).to_have_text("Queued")
    # Record every status the page shows, and mark this document: a reload or navigation would lose both.
    page.evaluate("""() => {
        window.seenStatuses = [document.querySelector('#job-status').dataset.status];
        new MutationObserver(() => {
            const s = document.querySelector('#job-status')?.dataset.status;
            if (s && window.seenStatuses.at(-1) !== s) window.seenStatuses.push(s);
        }).observe(document.body, {subtree: true, childList: true, attributes: true});
    }""")
    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))

    worker = start_worker()

    expect(status).to_have_attribute("data-status", "succeeded", timeout=job_timeout() * 1000)
    expect(page.locator("#job-status-badge")).to_have_text("Succeeded")
    seen = page.evaluate("window.seenStatuses")
    assert seen[0] == "queued" and seen[-1] == "succeeded", seen  # "running" too, if a poll caught it
    assert navigations == [] and page.url == job_url  # htmx swapped the status in place
    result = page.locator("#job-result")
    expect(result).to_be_visible()
    assert loaded_width(page, result) == 512
    artwork_url = page.locator("#artwork-link").get_attribute("href")

    # The gallery shows it, and it opens.
    page.click("#nav-gallery")
    expect(page).to_have_url(re.compile(r"/gallery/$"))
    items = page.locator(".gallery-item")
    expect(items).to_have_count(1)
    expect(items.locator("img")).to_have_attribute("alt", "Pop Outline")
    items.first.locator("a").click()
    expect(page).to_have_url(re.compile(re.escape(artwork_url) + "$"))
    image = page.locator("#artwork-image")
    expect(image).to_be_visible()
    assert loaded_width(page, image) == 512
    expect(page.locator('#artwork-models li[data-kind="multistyle26"]')).to_contain_text("26-style network")
    image_url = image.get_attribute("src")

    # Someone else, in a browser of their own, sees none of it.
    other = new_page()
    sign_up(other, BOB)
    other.click("#nav-gallery")
    expect(other.locator("#gallery-empty")).to_be_visible()
    expect(other.locator(".gallery-item")).to_have_count(0)
    for url in (artwork_url, image_url, job_url):
        assert other.goto(url).status == 404, url
    assert page.goto(image_url).status == 200  # while its owner still gets it

    assert worker.stop() == 0  # a clean warm shutdown
