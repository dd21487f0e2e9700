"""The real services some tests need (Redis, PostgreSQL, Chromium), and the project's rule for them:
a test that needs one skips with a reason when it is absent, except under CI=true, where it fails."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# The local defaults; a dedicated Redis database number keeps test keys away from a studio's.
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/artstudio"
REDIS_URL = "redis://127.0.0.1:6379/13"


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip the test with `reason` when the thing is not available; under CI=true, fail instead."""
    if available:
        return
    if on_ci():
        pytest.fail(f"{reason} (CI=true: it must be there)", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str:
    return os.environ.get("ARTSTUDIO_TEST_POSTGRES_URL", POSTGRES_URL)


@functools.cache
def postgres_reachable() -> bool:
    import psycopg
    from dj_database_url import parse

    db = parse(postgres_url())
    try:
        with psycopg.connect(
            dbname="postgres",
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"],
            port=db["PORT"] or 5432,
            connect_timeout=3,
        ):
            return True
    except psycopg.Error:
        return False


def redis_url() -> str:
    return os.environ.get("ARTSTUDIO_TEST_REDIS_URL", REDIS_URL)


@functools.cache
def redis_reachable() -> bool:
    import redis

    try:
        with redis.Redis.from_url(redis_url(), socket_connect_timeout=3, socket_timeout=3) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def chromium() -> Path | None:
    """The system Chromium Playwright drives (Playwright's own browser downloads are not used)."""
    for candidate in (os.environ.get("ARTSTUDIO_TEST_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@contextlib.contextmanager
def broker_under_prefix() -> Iterator[str]:
    """This process's Celery app sends to the test Redis, every key under a prefix of its own (yielded),
    so parallel runs and a studio on the same server never see each other's messages; the keys are
    deleted afterwards. Needs Redis: skips (fails under CI=true) without it."""
    require(redis_reachable(), f"needs Redis at {redis_url()} (set ARTSTUDIO_TEST_REDIS_URL)")
    import redis
    from kombu import pools

    from artstudio.celery import app

    prefix = f"artstudio-test-{uuid.uuid4().hex[:12]}:"
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = redis_url()
    app.conf.broker_transport_options = {**saved[1], "global_keyprefix": prefix}
    _forget_connections(app, pools)
    try:
        yield prefix
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        _forget_connections(app, pools)
        with redis.Redis.from_url(redis_url()) as client:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)


def _forget_connections(app, pools) -> None:
    """Drop the app's cached broker connections so the next send uses the current broker settings."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
