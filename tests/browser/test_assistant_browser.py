"""The creative assistant in a real browser, answered by a real Celery worker with the shipped models
(the sentence encoder, the classifier heads and SmolLM2), on the real Redis and PostgreSQL.

An artist asks on the assistant's page and watches the answer arrive in place (labels and styles,
then the words as they are written), keeps the idea, and opens the studio on a suggested style; in
the studio's own panel, a suggested style is picked in the form without leaving the page. The pages
are photographed: ARTSTUDIO_SCREENSHOTS=DIR keeps the pictures there.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.pages import loaded_width, sign_up
from tests.integration.worker import job_timeout
from tests.people import ALICE, BOB

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),  # see test_studio_browser.py
]


@pytest.fixture
def assistant_registry(worker_media):
    """The assistant's shipped models, active in the database the worker reads (the writer is ~540 MB)."""
    from assistant import indexing
    from generator import services

    versions = services.models_import_shipped(kinds=["sentence_encoder", "text_head", "text_generator"])
    indexing.similar_index_build(limit=500)  # the first 500 Tate works: enough for five neighbours, in seconds
    return versions


def test_an_artist_asks_watches_the_answer_arrive_keeps_the_idea_and_paints_a_suggestion(
    new_page, assistant_registry, start_worker, shots, chelsea
):
    from playwright.sync_api import expect

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_up(page, ALICE)
    page.click("#nav-assistant")
    expect(page).to_have_url(re.compile(r"/assistant/$"))

    page.fill("#id_text", "a lighthouse in a storm at dusk")
    page.click("#idea-submit")
    expect(page).to_have_url(re.compile(r"/assistant/ideas/[0-9a-f-]{36}/$"))
    idea_url = page.url
    answer = page.locator("#idea-answer")
    expect(answer).to_have_attribute("data-status", "queued")  # no worker yet
    page.evaluate("""() => {
        window.seen = {statuses: [document.querySelector('#idea-answer').dataset.status], shown: [],
                       itemsWhileWriting: 0};
        const items = '[data-testid=idea-titles] li, [data-testid=idea-expansions] li, [data-testid=idea-description]';
        new MutationObserver(() => {
            const s = document.querySelector('#idea-answer')?.dataset.status;
            if (s && window.seen.statuses.at(-1) !== s) window.seen.statuses.push(s);
            const writing = document.querySelector('[data-testid=idea-writing]');
            if (!writing) return;
            for (const el of writing.querySelectorAll(items)) {  // every text the page ever showed as words
                const text = el.textContent.trim();
                if (!window.seen.shown.includes(text)) window.seen.shown.push(text);
            }
            const other = [...writing.children].filter(el => !el.matches('ol, ul, p, [data-testid=idea-description]'));
            if (other.length) window.seen.shown.push('<something else: ' + other[0].outerHTML + '>');
            if (s === 'writing') window.seen.itemsWhileWriting = Math.max(
                window.seen.itemsWhileWriting, writing.querySelectorAll(items).length);
        }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    }""")
    navigations = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and navigations.append(frame.url))

    worker = start_worker()

    expect(page.locator("[data-testid=style-suggestion]")).to_have_count(3, timeout=job_timeout() * 1000)
    expect(page.locator("[data-testid=movement]")).to_have_count(3)
    expect(page.locator("[data-testid=mood]")).to_have_count(3)
    expect(answer).to_have_attribute("data-status", "done", timeout=job_timeout() * 1000)
    seen = page.evaluate("window.seen")
    assert seen["statuses"][0] == "queued" and seen["statuses"][-1] == "done", seen
    assert seen["itemsWhileWriting"] >= 1, "the words appear while they are written, not only at the end"
    final = page.locator(
        "[data-testid=idea-titles] li, [data-testid=idea-expansions] li, [data-testid=idea-description]"
    ).all_inner_texts()
    # Never a raw draft: each text the page showed is an item of the finished answer (complete, filtered, kept)
    assert set(seen["shown"]) <= {t.strip() for t in final}, seen["shown"]
    assert navigations == [] and page.url == idea_url  # htmx swapped the answer in place
    titles = page.locator("[data-testid=idea-titles] li")
    assert 1 <= titles.count() <= 3 and all(t.strip() for t in titles.all_inner_texts())
    expect(page.locator("[data-testid=idea-expansions] li").first).to_be_visible()
    expect(page.locator("[data-testid=idea-description]")).not_to_be_empty()
    works = page.locator("[data-testid=similar-work] a")
    assert works.count() >= 3
    assert all(
        re.fullmatch(r"https://www\.tate\.org\.uk/art/artworks/[\w-]+", works.nth(i).get_attribute("href"))
        for i in range(works.count())
    )
    for img in page.locator("[data-testid=style-suggestion] img").element_handles():
        assert loaded_width(page, img) > 0
    page.screenshot(path=str(shots / "assistant-answer.png"), full_page=True)

    page.click("#idea-save")
    expect(page.locator("#idea-save")).to_contain_text("Saved")
    page.click("#nav-assistant")
    expect(page.locator("#saved-ideas")).to_contain_text("a lighthouse in a storm at dusk")

    # A suggested style opens the studio on it.
    page.goto(idea_url)
    first = page.locator("[data-testid=style-suggestion]").first
    slug = first.get_attribute("data-slug")
    first.click()
    expect(page).to_have_url(re.compile(rf"/studio/\?style={slug}$"))
    expect(page.locator(f"#preset-{slug}")).to_be_checked()

    # The studio's panel answers in place, and a click on a suggestion picks it in the form below.
    panel = page.locator("#assistant-panel")
    panel.locator("summary").click()
    panel.locator("#idea-submit").click()  # nothing typed: the form comes back with its error, in place
    expect(panel.locator("[data-testid=errors-text]")).to_contain_text("Type an idea")
    panel.locator("#id_text").fill("sunflowers in a blue vase on a kitchen table")
    panel.locator("#idea-submit").click()
    suggestion = panel.locator("[data-testid=style-suggestion]")
    expect(suggestion).to_have_count(3, timeout=job_timeout() * 1000)
    expect(panel.locator("[data-testid=errors-text]")).to_have_count(0)  # the form is clean again
    expect(panel.locator("#id_text")).to_have_value("sunflowers in a blue vase on a kitchen table")
    studio_url = page.url
    pick = suggestion.nth(1)
    slug = pick.get_attribute("data-slug")
    pick.click()
    expect(page.locator(f"#preset-{slug}")).to_be_checked()
    assert page.url == studio_url  # the photo the artist chose would still be there
    page.screenshot(path=str(shots / "studio-panel.png"), full_page=True)

    # Painted in that style, the artwork gets a suggested title and tags; one click takes the title.
    page.set_input_files("#id_photo", str(chelsea))
    page.select_option("#id_max_side", "512")
    page.click("#studio-submit")
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    expect(page.locator("#job-status")).to_have_attribute("data-status", "succeeded", timeout=job_timeout() * 1000)
    page.click("#artwork-link")
    suggested = page.locator("[data-testid=suggested-tag]")
    deadline = time.monotonic() + job_timeout()
    while suggested.count() == 0 and time.monotonic() < deadline:  # written by the worker after the painting
        page.wait_for_timeout(1000)
        page.reload()
    assert suggested.count() >= 2, "no suggested tags arrived"
    page.screenshot(path=str(shots / "artwork-suggestions.png"), full_page=True)
    assert 1 <= page.locator("[data-testid=use-title]").count() <= 3
    title = page.locator(".suggested-title q").first.inner_text()
    page.locator("[data-testid=use-title]").first.click()
    expect(page.locator("h1")).to_have_text(title)

    # Someone else cannot open the idea.
    other = new_page()
    sign_up(other, BOB)
    assert other.goto(idea_url).status == 404
    assert worker.stop() == 0
