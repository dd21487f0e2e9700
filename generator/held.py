"""Pictures held for the studio's next submit: the photo of a remix, or an upload the form sent back with an error.

A browser cannot fill a file input again, so the page carries a signed token for the picture instead and the
artist does not choose it twice. A token names a file in its owner's own folder: a job's stored photo or
painting (a remix), or a checked upload saved under `held/` (a form with errors). Held uploads have no row: the
one a job takes is deleted once the job is committed, and an abandoned one is an orphan that
`manage.py files orphans --delete` removes after an hour.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import User
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generator.uploads import CheckedImage, stored_image

SALT = "artstudio.held-picture"
MAX_AGE = 24 * 3600  # a page left open for a day still submits


def _folder(owner: User) -> str:
    return f"users/{owner.pk}/"


def hold_upload(*, owner: User, checked: CheckedImage) -> str:
    """Save a checked upload under the owner's held/ folder; the token for the form."""
    name = default_storage.save(f"{_folder(owner)}held/{uuid.uuid4().hex}{checked.suffix}", ContentFile(checked.data))
    return signing.dumps({"u": owner.pk, "n": name}, salt=SALT)


def hold_stored(*, owner: User, field) -> str:
    """A token for a picture already stored for one of the owner's jobs (a remix)."""
    if not field.name.startswith(_folder(owner)):
        raise ValueError("not the owner's file")
    return signing.dumps({"u": owner.pk, "n": field.name}, salt=SALT)


def held_name(*, owner: User, token: str) -> str | None:
    """The file a token names, if it is the owner's and still there; None for a bad, old or foreign token."""
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    name = value.get("n", "") if isinstance(value, dict) else ""
    if value.get("u") != owner.pk or not name.startswith(_folder(owner)) or ".." in name:
        return None
    return name if default_storage.exists(name) else None


def held_image(*, owner: User, token: str) -> CheckedImage | None:
    name = held_name(owner=owner, token=token)
    if name is None:
        return None
    return stored_image(default_storage.open(name))


def release(*, owner: User, token: str) -> None:
    """Delete a held upload once a job has its own copy (a job's stored photo is never deleted here)."""
    name = held_name(owner=owner, token=token)
    if name and name.startswith(f"{_folder(owner)}held/"):
        default_storage.delete(name)
