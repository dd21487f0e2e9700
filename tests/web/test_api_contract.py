"""The API keeps its contract (issue 20): Schemathesis generates requests from the OpenAPI schema the studio
serves and sends them in process, through the whole Django stack; every check it has runs on every answer (no
5xx, every status code, content type, header and body as the schema says, bad input refused, good input
accepted, auth not ignored), first operation by operation, then in sequences that follow the links between
operations (the stateful phase: make a board, read it, change it, delete it, read it again ...).

The caller is a staff member with a token holding every scope, so the admin's endpoints are exercised too, in
a studio that has pictures, a board, a share link, an idea and the shipped models to act on.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api import services as tokens
from api.throttles import PerArtist, PerToken

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = 25  # per operation and kind of data (allowed, forbidden)
SEQUENCES = 100  # the stateful phase: sequences of up to 10 calls
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a request through the whole stack on a busy 2-core machine
    derandomize=True,  # the same cases every run: a failure here is reproducible, never a fluke
    suppress_health_check=list(HealthCheck),  # the fixtures are per test function, shared by its examples
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: shrinking costs minutes
)


@pytest.fixture
def studio(admin_user, alice, paint, settings, monkeypatch):
    """A studio with things to act on, a caller who may do everything, and no broker or limit in the way."""
    from gallery import services as gallery
    from gallery.models import Moderation

    for throttle in (PerToken, PerArtist):  # (DRF reads its settings once, at import: patch the classes)
        monkeypatch.setattr(throttle, "THROTTLE_RATES", {"token": "100000/m", "artist": "100000/m"})
    settings.ARTSTUDIO_RATE_JOBS = settings.ARTSTUDIO_RATE_ASSISTANT = "100000/m"
    for task in ("assistant.tasks.analyse_idea.delay", "assistant.tasks.write_idea.delay"):
        monkeypatch.setattr(task, lambda *args, **kwargs: None)
    for task in ("gallery.tasks.moderate_artwork.apply_async", "gallery.tasks.search_by_meaning.apply_async"):
        monkeypatch.setattr(task, lambda *args, **kwargs: None)
    monkeypatch.setattr("generator.tasks.validate_model_version.apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr("generator.tasks.train_style.apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr("api.admin_views.dashboard_context", lambda: {"workers": [], "queues": [], "error": None})
    mine = paint(admin_user, title="Harbour at dusk")
    paint(alice, title="Alice's own")
    board = gallery.board_create(owner=admin_user, name="Seascapes")
    gallery.board_add(board=board, by=admin_user, artworks=[mine])
    gallery.share_link_create(board=board, by=admin_user)
    Moderation.objects.update_or_create(artwork=mine, defaults={"status": "flagged", "wants_public": True})
    return tokens.token_create(owner=admin_user, name="contract", scopes=["read", "write", "admin"])[1]


# Where a request the schema allows may still be refused with a 400, because the rule is about the thing sent or
# the caller's own things, which no schema can state. Everywhere else, and for every other check, the defaults.
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/v1/jobs/": "the photo must be a picture; the style a preset, a painting or a blend that exists",
    "POST /api/v1/admin/models/": "the weights must load into the kind's network; only single-style ones have a slot",
    "POST /api/v1/admin/training-runs/": "a 26-style run names its style, a single-style one its short name and a "
    "painting; the painting and photos must be pictures; the settings must exist and be in range",
    "POST /api/v1/ideas/": "an idea is words or a picture, one of them; the picture must be one",
    "GET /api/v1/artworks/": "a board, model version or style filter names one of the caller's; since <= until",
    "GET /api/v1/artworks/meaning/": "as the list's filters",
    "PATCH /api/v1/artworks/{id}/": "the boards must be the caller's; a tag has letters in it",
    "POST /api/v1/boards/": "names are the artist's own, one board each, with letters in them",
    "PATCH /api/v1/boards/{id}/": "as a new board's name; the cover must be one of the caller's pictures",
}
# Multipart bodies carry text only: Schemathesis's "wrong type" (a boolean for the idea's text) arrives as the text
# "false", which is good data. Its other forbidden data for these operations is still sent, and must not fail them.
MULTIPART_ONLY = (
    "POST /api/v1/jobs/",
    "POST /api/v1/ideas/",
    "POST /api/v1/admin/models/",
    "POST /api/v1/admin/training-runs/",
)
RULES = {
    "operations": [
        {
            "include-name": name,
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]},
                **({"negative_data_rejection": {"enabled": False}} if name in MULTIPART_ONLY else {}),
            },
        }
        for name in RULES_BEYOND_THE_SCHEMA
    ]
}


@pytest.fixture
def api_schema(studio):
    """The schema the studio serves, its requests sent to the WSGI application in this process. As Django's
    test client does, the handler is kept from closing the test's database connection after each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        # the caller's token as the configured header: Schemathesis knows it is real auth, and its own checks
        # (a request without it, or with a made-up one, must be refused) take it away or replace it
        config = schemathesis.Config.from_dict({**RULES, "headers": {"Authorization": f"Bearer {studio}"}})
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_keeps_the_contract(api_schema, studio):
    """Each operation in turn, with data the schema allows and data it forbids (which must be refused)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40  # every endpoint is in the schema
    broken = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @SETTINGS
            def keeps_it(case):
                case.call_and_validate()

            try:
                keeps_it()
            except Unsatisfiable:  # nothing it takes can be made wrong (no parameters, no body): nothing to send
                assert mode == GenerationMode.NEGATIVE and not operation.query and not operation.body, operation.label
            except (Exception, BaseExceptionGroup) as failure:  # every operation is tried; all broken ones reported
                broken.append(f"{operation.label}, {mode.value} data:\n{failure}")
    assert not broken, "\n\n".join(broken)


def test_sequences_of_calls_keep_the_contract(api_schema, studio):
    class Studio(api_schema.as_state_machine()):  # type: ignore[misc]
        """Each sequence starts from the same studio: what one made is rolled back before the next, so that a
        failing sequence replays exactly as it failed."""

        def setup(self) -> None:
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

    Studio.run(settings=settings(SETTINGS, max_examples=SEQUENCES, stateful_step_count=10))
