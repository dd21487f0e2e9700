"""What the browser tests do again and again: sign up, and wait for a picture to arrive."""

from __future__ import annotations

import re

PASSWORD = "a-long-password-1"


def sign_up(page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.click("#home-signup")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(r"/studio/$"))
    expect(page.locator("#nav-account")).to_have_text(username)


def loaded_width(page, img) -> int:
    """The picture's natural width once the browser has it: visible is not yet loaded, so wait for that."""
    handle = img.element_handle() if hasattr(img, "element_handle") else img
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle)
    return page.evaluate("img => img.naturalWidth", handle)
