"""Web test fixtures: personas, and a private data folder so tests never write into var/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_weights import data_dir_sharing_weights

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A temporary ARTSTUDIO_DATA_DIR whose weights/ is the one tests/ml uses, so weights import once."""
    return data_dir_sharing_weights(tmp_path_factory.mktemp("artstudio-data"))


@pytest.fixture(autouse=True)
def isolated_data(data_dir, settings, monkeypatch, tmp_path) -> Path:
    """Each test gets its own MEDIA_ROOT, so it can check exactly which files were written (the model
    registry's weights files included)."""
    media = tmp_path / "media"
    settings.DATA_DIR = data_dir
    settings.MEDIA_ROOT = media
    settings.STATIC_ROOT = data_dir / "static"
    settings.STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing folder
    return media


@pytest.fixture(autouse=True)
def registry_ready(studio_models):
    """Every web test starts from a studio whose shipped models and presets are imported."""
    return studio_models


@pytest.fixture
def assistant_models(settings, registry_ready):
    """The assistant's shipped encoder and heads, imported like the painting networks (no language model)."""
    from assistant.services import ENCODER, HEAD
    from generator.services import models_import_shipped
    from tests.shared_weights import SHIPPED

    settings.ARTSTUDIO_SHIPPED_WEIGHTS_DIR = SHIPPED
    return models_import_shipped(kinds=[ENCODER, HEAD])


@pytest.fixture
def alice_artwork(alice):
    """A finished artwork of alice's, painted by the real engine at 512 px."""
    from factories import make_job

    from generator import services

    job = make_job(alice, style_preset="pop-outline")
    return services.job_run(job_id=job.pk)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(alice, bob):
    from django.test import Client

    c = Client()
    c.force_login(bob)
    return c


@pytest.fixture
def no_broker(monkeypatch):
    """Record the tokens sent to the queues (the queue each named) instead of reaching Redis."""
    sent = []
    monkeypatch.setattr(
        "generator.tasks.run_next_job.apply_async",
        lambda args, queue, **kw: sent.append(queue) if args == [queue] else sent.append(args),
    )
    # the assistant's suggestions for a new artwork: tests/web/test_assistant.py covers them
    monkeypatch.setattr("assistant.tasks.suggest_for_artwork.apply_async", lambda *args, **kwargs: None)
    return sent


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English: a request in another language leaves it active in the thread."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache, keyed by user id; ids repeat between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def paint(monkeypatch, no_broker):
    """make(owner, title=..., **options): a finished artwork in a few milliseconds. The job is made, claimed
    and saved by the studio's own services; only the engine is replaced, by one that hands the photo back
    (with the versions it was given), so the gallery's tests can fill a gallery quickly."""
    from factories import make_job

    from generator import services
    from generator.ml import engine
    from tests.quick_engine import quick_stylize

    monkeypatch.setattr(engine, "stylize", quick_stylize)

    def make(owner, *, title: str | None = None, **options):
        artwork = services.job_run(job_id=make_job(owner, **options).pk)
        assert artwork is not None, "the quick engine failed"
        if title is not None:
            services.artwork_retitle(artwork=artwork, by=owner, title=title)
        return artwork

    return make
