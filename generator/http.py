"""The request a signed-in page gets, as the type checker sees it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class SignedInRequest(HttpRequest):
    """A request past @login_required (or the admin's staff check): its user is a User, never AnonymousUser.
    For annotations only; Django builds the requests."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user where a signature must take a plain HttpRequest (an admin method's override)."""
    assert isinstance(request.user, User), "only signed-in requests reach here"
    return request.user
