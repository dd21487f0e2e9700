"""The address a request comes from, for login lockout (django-axes) and per-address rate limits.

X-Forwarded-For is written by whoever sends the request, so it is believed only when the connection
itself comes from a proxy named in ARTSTUDIO_TRUSTED_PROXIES; then the client is the right-most
address in the header that is not one of those proxies (each proxy appends the address it saw).
django-ipware judges the header by its own content instead of by the connection, which a client can
forge, so the rule is written here.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in settings.ARTSTUDIO_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    if not _trusted(peer):
        return peer
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(forwarded):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy passed on garbage: count the request against the proxy
    return peer
