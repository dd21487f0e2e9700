"""The gallery in a real browser: make boards, tag, search (by words and by meaning), share a board, open the
link in a fresh context, revoke it, and the link is dead. The pages are photographed: ARTSTUDIO_SCREENSHOTS=DIR
keeps the pictures.

The pictures are made by the studio's own services with the engine replaced by a quick one (painting is
tests/browser/test_studio_browser.py's subject); the nudity check runs as the worker would run it, in place of
the broker, with the shipped open_nsfw.
"""

from __future__ import annotations

import re

import pytest

from tests.people import ALICE

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

TITLES = ("Cat at night", "Harbour at dusk", "Coffee on the quay")


@pytest.fixture
def alices_pictures(worker_media, monkeypatch):
    """alice and three finished pictures of hers; the check runs in place of the broker."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gallery import services as gallery
    from gallery.services import meaning
    from generator import services
    from generator.ml import engine
    from generator.ml.options import JobOptions
    from tests.conftest import ASSETS
    from tests.quick_engine import quick_stylize

    monkeypatch.setattr(engine, "stylize", quick_stylize)
    monkeypatch.setattr("generator.tasks.run_next_job.apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr("assistant.tasks.suggest_for_artwork.apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr(
        "gallery.tasks.moderate_artwork.apply_async",
        lambda args, **kwargs: gallery.artwork_moderate(artwork_id=args[0]),
    )
    monkeypatch.setattr(  # the search by meaning too, with the shipped sentence encoder
        "gallery.tasks.search_by_meaning.apply_async",
        lambda args, **kwargs: meaning.meaning_search(owner_id=args[0], q=args[1]),
    )
    services.models_import_shipped(kinds=["open_nsfw", "sentence_encoder", "text_head"])
    alice = ALICE.create()
    photos = sorted((ASSETS / "photos").iterdir())[: len(TITLES)]
    for path, title in zip(photos, TITLES, strict=True):
        job = services.job_create(
            owner=alice,
            photo=SimpleUploadedFile(path.name, path.read_bytes()),
            options=JobOptions(style_preset="pop-outline", max_side=512),
        )
        artwork = services.job_run(job_id=job.pk)
        services.artwork_retitle(artwork=artwork, by=alice, title=title)
    return alice


def log_in(page) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", ALICE.username)
    page.fill("#id_password", ALICE.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/studio/$"))


def test_boards_tags_search_and_a_shared_link_that_dies_when_revoked(new_page, alices_pictures, shots):
    from playwright.sync_api import expect

    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page)

    # A board
    page.click("#nav-gallery")
    page.click("#gallery-boards")
    page.fill("[data-testid=board-name]", "Harbours")
    page.click("#board-create button[type=submit]")
    expect(page.locator("[data-testid=boards] .board-name")).to_have_text(["Harbours"])

    # Two pictures onto it: a click, then a shift-click for the range
    page.click("#gallery-all")
    boxes = page.locator("input.select-box")
    expect(boxes).to_have_count(3)
    boxes.nth(0).click()
    boxes.nth(1).click(modifiers=["Shift"])
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    page.click("#bulk-board-add")
    expect(page.locator("[data-testid=messages]")).to_contain_text("2 pictures added to “Harbours”")

    # A tag on all of them: select the page, type the tag, Enter
    page.click("#select-all")
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    page.fill("#bulk-tag", "seaside")
    page.press("#bulk-tag", "Enter")
    expect(page.locator("[data-testid=messages]")).to_contain_text("3 pictures tagged “seaside”")
    page.screenshot(path=shots / "gallery-tagged.png", full_page=True)

    # The search box finds by title and says where
    page.fill("[data-testid=gallery-search]", "harbour")
    page.press("[data-testid=gallery-search]", "Enter")
    expect(page.locator(".gallery-item")).to_have_count(1)
    expect(page.locator("[data-testid=matched]")).to_contain_text("title")
    page.fill("[data-testid=gallery-search]", "seaside")
    page.press("[data-testid=gallery-search]", "Enter")
    expect(page.locator(".gallery-item")).to_have_count(3)
    page.screenshot(path=shots / "gallery-search.png", full_page=True)

    # No title or tag holds "kitten"; the search by meaning finds the cat, says why, and it can be selected
    page.fill("[data-testid=gallery-search]", "kitten")
    page.press("[data-testid=gallery-search]", "Enter")
    expect(page.locator("#gallery-no-words")).to_be_visible()
    found = page.locator("[data-testid=meaning-gallery] .gallery-item")
    expect(found.first).to_contain_text("Cat at night")
    expect(found.first.locator("[data-testid=matched]")).to_contain_text("Close in meaning to what it shows")
    found.first.locator("input.select-box").click()
    expect(page.locator("#selection-count")).to_have_text("1 selected")
    page.screenshot(path=shots / "gallery-meaning.png", full_page=True)

    # Share the board by a link, downloads allowed
    page.click("#gallery-boards")
    page.click("[data-testid=boards] .board-name")
    page.click("#board-share > summary")
    page.check("#id_allow_downloads")
    page.click("[data-testid=share-create]")
    link = page.locator("[data-testid=share-url]").input_value()
    assert re.search(r"/s/[A-Za-z0-9_-]{43}/$", link), link
    page.screenshot(path=shots / "board-shared.png", full_page=True)

    # Somebody else, in a fresh context, opens it: the board's two pictures, each checked
    stranger = new_page()
    stranger.goto(link)
    cards = stranger.locator("[data-testid=public-grid] .gallery-item")
    expect(cards).to_have_count(2)
    expect(stranger.locator("h1")).to_have_text("Harbours")
    stranger.screenshot(path=shots / "shared-link.png", full_page=True)
    thumbnail = stranger.locator("[data-testid=public-grid] img").first.get_attribute("src")
    assert stranger.goto(thumbnail).status == 200

    # Revoked: the link and its files are dead at once
    page.click("[data-testid=share-revoke]")
    expect(page.locator("[data-testid=share-links] li").first).to_have_attribute("data-live", "0")
    assert stranger.goto(link).status == 404
    assert stranger.goto(thumbnail).status == 404
