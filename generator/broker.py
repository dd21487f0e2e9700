"""The broker, as the scheduler and the dashboard use it: a connection that fails fast with a sentence
(BrokerUnavailable) instead of retrying for long, and how many messages wait in each queue."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

if TYPE_CHECKING:
    from celery import Celery
    from kombu import Connection


class BrokerUnavailable(Exception):
    """The broker (Redis) could not be reached, so nothing can be said about the workers."""


def default_app(app: Celery | None) -> Celery:
    if app is not None:
        return app
    from artstudio.celery import app as studio_app  # not at import time: that module imports this one

    return studio_app


@contextlib.contextmanager
def broker(
    app: Celery | None = None, *, write: bool, timeout: float, socket_timeout: float | None = None
) -> Iterator[Connection]:
    """A broker connection that fails within about `timeout` seconds instead of retrying for long; with a
    `socket_timeout`, also when the broker accepts the connection and then never answers (a stalled server).
    Not for broadcasts: their replies are read with blocking pops that a short socket timeout would cut.

    The app's own options (the global_keyprefix among them) still apply: Celery merges these into
    broker_transport_options.
    """
    app = default_app(app)
    factory = app.connection_for_write if write else app.connection_for_read
    options = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "socket_connect_timeout": timeout}
    if socket_timeout is not None:
        options["socket_timeout"] = socket_timeout
    conn = factory(connect_timeout=timeout, transport_options=options)
    try:
        with conn:
            yield conn
    except (OperationalError, *conn.connection_errors) as exc:
        where = maybe_sanitize_url(conn.as_uri(include_password=True))  # as_uri() masks even a missing password
        raise BrokerUnavailable(f"The broker at {where} cannot be reached: {exc}") from exc


def queue_lengths(
    app: Celery | None = None, queues: list[str] | None = None, *, timeout: float = 2.0
) -> dict[str, int]:
    """How many messages wait in each queue (default: the task_queues); a queue not declared yet has 0."""
    app = default_app(app)
    if queues is None:
        queues = [queue.name for queue in app.conf.task_queues or ()] or [app.conf.task_default_queue]
    lengths = {}
    with broker(app, write=False, timeout=timeout, socket_timeout=timeout) as conn:
        # On Redis a queue is a list (one per priority step) and a missing list is an empty one, so there
        # a plain declare is the count: it creates nothing and reads the lengths through the channel, which
        # applies the global_keyprefix. A passive declare would be wrong there: kombu (5.7) checks with an
        # EXISTS that its prefixing client leaves unprefixed, so under a prefix no queue ever "exists".
        passive = conn.transport.driver_type != "redis"
        for name in queues:
            with conn.channel() as channel:  # one each: on AMQP a failed passive declare closes its channel
                try:
                    lengths[name] = channel.queue_declare(queue=name, passive=passive).message_count
                except conn.channel_errors:  # NOT_FOUND: nothing was ever sent there
                    lengths[name] = 0
    return lengths
