"""The API's rate limits, counted in the shared cache (Redis) like the pages' (generator/limits.py): one per
token, and one per artist over all their tokens and their session. A 429 says when to try again (Retry-After).
When the cache cannot be reached the request goes through, as on the pages."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from api.permissions import token_of

logger = logging.getLogger(__name__)


class _Counted(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("API rate %s not counted: the cache is unreachable", self.scope, exc_info=True)
            return True


class PerToken(_Counted):
    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        token = token_of(request)
        return None if token is None else self.cache_format % {"scope": self.scope, "ident": token.pk}


class PerArtist(_Counted):
    scope = "artist"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user.is_authenticated:
            return None  # refused before it counts: every endpoint needs a session or a token
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
