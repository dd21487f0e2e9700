"""What a caller may do: signed in (a session or a token), and a token only within its scopes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from api.models import ApiToken, Scope


def token_of(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class TokenScopes(permissions.BasePermission):
    """Reads need the read scope, writes the write scope; a session (the pages' own scripts) has both."""

    message = _("This token's scopes do not allow this; make one with the scope it needs.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        token = token_of(request)
        if token is None:
            return True
        needed = Scope.READ if request.method in permissions.SAFE_METHODS else Scope.WRITE
        return needed in token.scopes


class AdminScope(permissions.BasePermission):
    """The admin's endpoints: a staff member, and with a token, one holding the admin scope."""

    message = _("This needs a staff member's account, and a token with the admin scope.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated and request.user.is_staff):
            return False
        token = token_of(request)
        return token is None or Scope.ADMIN in token.scopes
