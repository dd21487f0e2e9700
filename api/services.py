"""Every write the API app makes: tokens made and revoked (the API's resources call the other apps' services)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken, Scope
from generator.ownership import require_owner

PREFIX = "ast_"  # says what the string is, in a leaked log or a secret scanner
TOUCH_EVERY = timedelta(minutes=1)  # last_used is written at most this often: not one UPDATE a request


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, owner: User, name: str, scopes: list[str], expires: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token and its text, which is never shown again (only its digest is kept)."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("Give the token a name, to know it by later."), code="name")
    wanted = list(dict.fromkeys(scopes))
    if not wanted or any(s not in Scope.values for s in wanted):
        raise ValidationError(_("Choose what the token may do: read, write, or both."), code="scopes")
    if Scope.ADMIN in wanted and not owner.is_staff:
        raise ValidationError(_("Only staff members can make a token with the admin scope."), code="scopes")
    if expires is not None and expires <= timezone.now():
        raise ValidationError(_("The end date has to be in the future."), code="expires")
    text = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        owner=owner, name=name[:80], prefix=text[:12], digest=digest(text), scopes=wanted, expires=expires
    )
    return token, text


def token_revoke(*, token: ApiToken, by: User) -> None:
    """Dead at once: the next request with it is refused (revoking twice changes nothing)."""
    require_owner(token, by=by)
    ApiToken.objects.filter(pk=token.pk, revoked=None).update(revoked=timezone.now())


def token_authenticate(text: str) -> ApiToken | None:
    """The live token with this text, its last use noted; None for an unknown, revoked or expired one."""
    if not text.startswith(PREFIX):
        return None
    token = ApiToken.objects.select_related("owner").filter(digest=digest(text)).first()
    now = timezone.now()
    if token is None or not token.is_live(now) or not token.owner.is_active:
        return None
    if token.last_used is None or now - token.last_used > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token
