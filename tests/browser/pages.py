"""What the browser tests do again and again: sign a persona up, and wait for a picture to arrive."""

from __future__ import annotations

import re

from tests.people import Persona


def sign_up(page, persona: Persona) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.click("#home-signup")
    page.fill("#id_username", persona.username)
    page.fill("#id_email", persona.email)
    page.fill("#id_password1", persona.password)
    page.fill("#id_password2", persona.password)
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(r"/studio/$"))
    expect(page.locator("#nav-account")).to_have_text(persona.username)


def loaded_width(page, img) -> int:
    """The picture's natural width once the browser has it: visible is not yet loaded, so wait for that."""
    handle = img.element_handle() if hasattr(img, "element_handle") else img
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle)
    return page.evaluate("img => img.naturalWidth", handle)
