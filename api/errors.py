"""One shape for every error the API answers: {"errors": [{"code", "message", "field"}]}, the messages the same
sentences the pages show (a ValidationError from a service keeps its words and its code)."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler


class Conflict(exceptions.APIException):
    """The request is well formed, but the thing it acts on is not in a state that allows it (a version already
    checked, a job that cannot be tried again, no earlier version to roll back to)."""

    status_code = 409
    default_code = "state"


@contextmanager
def as_conflict():
    """A service's refusal because of the state of things, answered as a 409 with its sentence."""
    try:
        yield
    except DjangoValidationError as exc:
        raise Conflict(" ".join(exc.messages)) from exc


def _flatten(detail, field: str | None = None) -> list[dict]:
    """Each error with the path to what it is about: "title", or "tags.9" for the tenth tag of a list."""
    if isinstance(detail, dict):
        return [e for key, value in detail.items() for e in _flatten(value, _path(field, key))]
    if isinstance(detail, list):
        return [e for value in detail for e in _flatten(value, field)]
    return [{"code": getattr(detail, "code", "error"), "message": str(detail), "field": field}]


def _path(field: str | None, key) -> str | None:
    if key == "non_field_errors":
        return field
    return f"{field}.{key}" if field else str(key)


def handle(exc, context):
    if isinstance(exc, DjangoValidationError):  # a service refused: its sentence, as the page shows it
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else [str(m) for m in exc.messages],
            code=getattr(exc, "code", None) or "invalid",
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.NotFound()  # another artist's thing does not exist, for the API as for the pages
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": _flatten(exc.detail if isinstance(exc, exceptions.APIException) else response.data)}
    return response
