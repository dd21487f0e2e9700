"""Per-person rate limits, counted by django-ratelimit in the shared cache (Redis).

Signed-in artists are counted by account, visitors by address (artstudio/client_ip.py). When the
cache cannot be reached the request goes through: Redis is also the broker, and a submit then gets
the broker's own clear answer instead of a rate limit it did not hit.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def over_limit(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this POST against `group`'s rate; True when it is over."""
    try:
        return is_ratelimited(request, group=group, key="user_or_ip", rate=rate, method="POST", increment=True)
    except (RedisError, OSError):
        logger.warning("Rate limit %s not counted: the cache is unreachable", group, exc_info=True)
        return False


def wait_message(rate: str) -> str:
    """What a person told to slow down reads: how long to wait comes from the rate's period."""
    unit = rate.rstrip()[-1:]
    wait = {"s": _("a few seconds"), "m": _("a minute"), "h": _("an hour"), "d": _("a day")}.get(unit, _("a while"))
    return _("That was a lot of requests in a short time. Please wait %(wait)s and try again.") % {"wait": wait}


def form_over_limit(request: HttpRequest, form, *, group: str, rate: str) -> bool:
    """For a page whose form posts: count the POST, and when it is over the rate, the form carries the
    message (shown where its other errors are) and the view answers 429."""
    if request.method != "POST" or not over_limit(request, group=group, rate=rate):
        return False
    form.is_valid()  # errors can be added to a form only once it is cleaned
    form.add_error(None, wait_message(rate))
    return True
