"""What a person does first in the browser tests: sign up."""

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
