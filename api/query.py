"""A query parameter that does not parse is a 400 naming it, never silently ignored: a script that asks for
`?status=redy` learns of its typo instead of reading a list it did not ask for."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext as _
from rest_framework import exceptions

# what an id in a URL looks like: anything else is not a route (a 404), never a lookup that fails (a 400)
UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
NUMBER = "[0-9]{1,18}"  # within the database's bigint
BIGINT = range(-(2**63), 2**63)


def refuse(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]}, code="invalid")


def flag(request, name: str) -> bool:
    """`?name=true` or `1`; absent, `false` or `0`: false."""
    value = request.query_params.get(name)
    if value is None:
        return False
    value = value.lower()
    if value in ("0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise refuse(name, _("Say true or false."))


def choice(request, name: str, choices: Iterable[str]) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in choices:
        raise refuse(name, _("“%(value)s” is not one of the choices.") % {"value": value})
    return value


def whole_number(request, name: str, minimum: int = 0) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]+", value) or int(value) < minimum:
        raise refuse(name, _("Say a whole number from %(minimum)s.") % {"minimum": minimum})
    return int(value)


def integer(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not re.fullmatch(r"-?[0-9]+", value):  # int() would also take "٣" or " 3_0 "
        raise refuse(name, _("Say a whole number."))
    return int(value)
