"""`Authorization: Bearer ast_…`: a personal token (api.models.ApiToken). Pages keep their session and CSRF."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api import services


class BearerToken(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None  # no token: the session may still say who it is
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Bearer <token>”."))
        token = services.token_authenticate(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is unknown, revoked or expired."))
        return token.owner, token

    def authenticate_header(self, request) -> str:
        return self.keyword  # so that a refusal is a 401 with WWW-Authenticate, not a 403


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerToken"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal token made on the account page."}
