"""Shared fixtures: the personas, the shipped sample pictures and small synthetic ones, and the database.

The database: when a PostgreSQL server answers (ARTSTUDIO_TEST_POSTGRES_URL, default the local one), the
whole run uses it, in a test database of its own, so that the integration and browser tests can hand
committed rows to a real worker process; otherwise SQLite, and the tests that need PostgreSQL skip.
"""

from __future__ import annotations

import contextlib
import io
import uuid
from pathlib import Path

import pytest
from PIL import Image

from tests.people import ALICE, BOB
from tests.real_services import postgres_reachable, postgres_url

ASSETS = Path(__file__).resolve().parents[1] / "generator" / "ml" / "assets"
PHOTOS = sorted((ASSETS / "photos").iterdir())
PAINTINGS = sorted((ASSETS / "styles").iterdir())


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """pytest-django's hook for changing DATABASES just before the test databases are created."""
    if not postgres_reachable():
        return
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        parsed = dj_database_url.parse(postgres_url(), conn_max_age=0)
        # The same dict object, which django.db.connections also holds; the SQLite OPTIONS do not apply.
        merged = {**db, "OPTIONS": {}, **parsed}
        db.clear()
        db.update(merged)
    # A name of its own, so that runs from several checkouts on one server never share (or drop) one.
    db["TEST"] = {**db.get("TEST", {}), "NAME": f"test_artstudio_{uuid.uuid4().hex[:12]}"}
    connections.close_all()
    with contextlib.suppress(AttributeError):  # none made yet
        del connections["default"]  # a wrapper made for SQLite before this point would keep its backend


@pytest.fixture
def alice(db):
    return ALICE.create()


@pytest.fixture
def bob(db):
    return BOB.create()


@pytest.fixture
def chelsea() -> Path:
    return ASSETS / "photos" / "chelsea.png"


@pytest.fixture
def astronaut() -> Path:
    return ASSETS / "photos" / "astronaut.png"


@pytest.fixture
def starry() -> Path:
    return ASSETS / "styles" / "starry_night.jpg"


def png_bytes(img: Image.Image, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **options)
    return buf.getvalue()


@pytest.fixture
def studio_models(db, settings):
    """The model registry as a fresh studio has it: the shipped networks active, the shipped presets."""
    from generator import services
    from generator.ml.kinds import STUDIO_KINDS
    from tests.shared_weights import SHIPPED

    settings.ARTSTUDIO_SHIPPED_WEIGHTS_DIR = SHIPPED
    return services.models_import_shipped(kinds=STUDIO_KINDS)
