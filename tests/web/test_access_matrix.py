"""Who gets what from every URL the studio serves: an authorisation and CSRF matrix.

Every route the URL resolver knows (the admin's included) is described in a table below: who may read it,
which methods its view serves, and what everybody else gets. Each route is then asked by each persona
with each method, through the real views, with real ids in the URL. A route missing from the table, or a
table entry whose route is gone, fails the build: a new page gets its row the day it is added.

The personas: an anonymous visitor; bob, another artist; alice, who owns every object in the URLs; and
staff (a superuser: nobody's owner on the site itself, and the only one let into the admin).

A new page: add its route to ROUTES (an admin page falls under ADMIN_ROUTES, by the pattern of its name).
Besides the status, each case checks where a redirect goes, that nothing of alice's shows in anybody
else's response, that nothing of hers changed unless she asked, and that an answer only some people may
read is not marked for public caches. Staff are asked for admin pages with GET only: they may change
anything there, and the admin's own tests cover its forms. A case where the studio is wrong is marked in
KNOWN_WRONG (strict xfail), so the fix turns it into a failure to remove.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from factories import make_job, photo, picture_bytes

from api import services as api_services
from api.models import ApiToken
from assistant.models import Idea, SimilarIndex
from gallery.models import Board, BoardItem, Moderation, Profile, ShareLink, Star, Tag
from generator.models import Artwork, Job, ModelComparison, ModelVersion, Preset, TrainingRun
from tests import people

pytestmark = pytest.mark.django_db

ANON, BOB, ALICE, STAFF = "anonymous", "bob", "alice", "staff"
PERSONAS = (ANON, BOB, ALICE, STAFF)
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
SAFE = ("GET", "HEAD", "OPTIONS")

# What a view serves; any other method gets 405
ANY = frozenset(METHODS)  # a plain function view: it answers whatever it is sent
READ_ONLY = frozenset({"GET", "HEAD"})  # require_safe: a HEAD is a GET without the body
POST_ONLY = frozenset({"POST"})  # require_POST
FORM_VIEW = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT"})  # Django's FormView: PUT is handled as POST
TEMPLATE_VIEW = frozenset(SAFE)
LOGOUT_VIEW = frozenset({"POST", "OPTIONS"})  # Django 5's LogoutView: logging out is a POST
LOGOUTS = ("logout", "admin:logout")


# --- The world: alice's things, made once for the whole module ------------------------------------------

SECRET_TITLE = "Harbour at dusk alice-secret-title"
SECRET_IDEA = "a lighthouse in a storm alice-secret-idea"
SECRET_BOARD = "Harbours alice-secret-board"
SECRET_TAG = "alice-secret-tag"


@dataclass
class World:
    alice: object
    bob: object
    staff: object
    artwork: Artwork  # alice's, painted by the engine: its job has the photo, it has image and thumbnail
    queued_job: Job  # alice's, from an uploaded painting, with a preview; cancelling stops it
    failed_job: Job  # alice's; retrying queues it again
    idea: Idea  # alice's, a picture idea
    public_artwork: Artwork  # alice's, public (an admin approved it)
    board: Board  # alice's, with the artwork on it
    tag: Tag  # alice's, on the artwork
    preset: Preset  # visible, with a thumbnail
    hidden_preset: Preset  # hidden: only staff sees its thumbnail
    version: ModelVersion  # with a sample picture
    group: object
    reset_args: dict  # alice's real password-reset link
    sessions: dict[str, str]  # persona -> session key
    held_token: str = ""  # alice's photo held for the studio (a remix)
    public_board: object = None  # alice's, public, with the public artwork; shared by the links below
    links: dict = field(default_factory=dict)  # "live" (downloads allowed), "revoked", "expired" -> ShareLink
    api_token: object = None  # alice's personal API token (read and write)
    tokens: dict = field(default_factory=dict)  # TOKENS' kinds -> the token's text (the API's own matrix)
    comparison: object = None  # a finished comparison of a version with the active one, with its contact sheet
    training_run: object = None  # a queued run of staff's, with a sample picture at step 0; cancelling ends it
    csrf_cookie: str = ""  # set by a page with a form, for the CSRF tests
    state: tuple = ()  # alice_state() as every case starts: each one is rolled back to it
    runs: list = field(default_factory=list)  # runs_state() as every case starts
    accounts: int = 0  # how many users there are

    @property
    def job(self) -> Job:
        return self.artwork.job

    @property
    def secrets(self) -> list[str]:
        """What nobody but alice (and staff, in the admin) may read in a response."""
        ids = [self.artwork.pk, self.job.pk, self.queued_job.pk, self.failed_job.pk, self.idea.pk]
        return [*map(str, ids), SECRET_TITLE, SECRET_IDEA, SECRET_BOARD, SECRET_TAG, self.alice.email]

    def admin_row(self, model):
        """The row an admin URL of `model` points at: alice's where she has one."""
        ours = {
            "auth.user": self.alice,
            "auth.group": self.group,
            "generator.job": self.job,
            "generator.artwork": self.artwork,
            "generator.preset": self.preset,
            "generator.modelversion": self.version,
            "assistant.idea": self.idea,
        }
        row = ours.get(model._meta.label_lower) or model._default_manager.order_by("pk").first()
        assert row is not None, f"the matrix's world has no {model._meta.label}: make one in world()"
        return row


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, data_dir, tmp_path_factory):
    """Alice's things, built once: painting the artwork takes a second and there are thousands of cases.

    They live in a transaction rolled back after the module; each case runs in a savepoint inside it
    (pytest-django's `db`), so whatever one case changes is gone before the next.
    """
    from artstudio.celery import app
    from tests.shared_weights import SHIPPED

    (data_dir / "static").mkdir(exist_ok=True)
    overrides = override_settings(
        DATA_DIR=data_dir,
        MEDIA_ROOT=tmp_path_factory.mktemp("matrix-media"),
        STATIC_ROOT=data_dir / "static",
        ARTSTUDIO_SHIPPED_WEIGHTS_DIR=SHIPPED,
        # a fast hash: the world and the CSRF tests log in and sign up a few times
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    broker = pytest.MonkeyPatch()  # as conftest's no_broker: nothing reaches Redis
    broker.setattr("generator.tasks.run_next_job.apply_async", lambda *args, **kwargs: None)
    broker.setattr("assistant.tasks.suggest_for_artwork.apply_async", lambda *args, **kwargs: None)
    broker.setattr("assistant.tasks.analyse_idea.delay", lambda *args, **kwargs: None)
    broker.setattr("assistant.tasks.write_idea.delay", lambda *args, **kwargs: None)
    broker.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # the worker dashboard: nobody there
    overrides.enable()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            world = _build_world()
            yield world
            transaction.set_rollback(True)
    finally:
        overrides.disable()
        broker.undo()


def _build_world() -> World:
    from django.contrib.auth.models import Group

    from assistant import services as assistant_services
    from gallery import services as gallery_services
    from generator import held, services
    from generator.ml.kinds import STUDIO_KINDS

    services.models_import_shipped(kinds=STUDIO_KINDS)
    alice, bob, staff = people.ALICE.create(), people.BOB.create(), people.ROOT.create()
    artwork = services.job_run(job_id=make_job(alice, style_preset="pop-outline").pk)
    services.artwork_retitle(artwork=artwork, by=alice, title=SECRET_TITLE)
    artwork.refresh_from_db()
    queued = make_job(alice, style_preset=None, style_image=photo("painting.jpg", fmt="JPEG"))
    queued.preview.save("preview.webp", ContentFile(picture_bytes(fmt="WEBP")))  # as a running worker leaves one
    failed = make_job(alice)
    Job.objects.filter(pk=failed.pk).update(status=Job.Status.FAILED, error="The photo is too dark to paint.")
    idea = assistant_services.idea_create(owner=alice, text=SECRET_IDEA, picture=photo())
    board = gallery_services.board_create(owner=alice, name=SECRET_BOARD)
    gallery_services.board_add(board=board, by=alice, artworks=[artwork])
    tag = gallery_services.artworks_tag(artworks=[artwork], by=alice, name=SECRET_TAG)
    Moderation.objects.create(artwork=artwork, status="flagged", wants_public=True)  # in the admin's queue
    public = services.job_run(job_id=make_job(alice, style_preset="pop-outline").pk)
    gallery_services.moderation_decide(
        moderation=Moderation.objects.create(artwork=public, wants_public=True), by=staff, approve=True
    )
    preset, hidden = Preset.objects.filter(hidden=False).exclude(thumbnail="").order_by("slug")[:2]
    Preset.objects.filter(pk=hidden.pk).update(hidden=True)
    version = ModelVersion.objects.order_by("pk").first()
    SimilarIndex.objects.create(encoder=version, status="building", done=1, total=2)  # (any version will do)
    version.sample.save("sample.webp", ContentFile(picture_bytes(fmt="WEBP")))  # as validation leaves one
    sessions = {}
    for persona, user in ((ALICE, alice), (BOB, bob), (STAFF, staff)):
        client = Client()
        client.force_login(user)
        sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    # after the logins: a reset token is only good while alice's last login stays as it is
    reset_args = {
        "uidb64": urlsafe_base64_encode(force_bytes(alice.pk)),
        "token": default_token_generator.make_token(alice),
    }
    world = World(
        alice,
        bob,
        staff,
        artwork,
        queued,
        failed,
        idea,
        public,
        board,
        tag,
        preset,
        hidden,
        version,
        Group.objects.create(name="curators"),
        reset_args,
        sessions,
    )
    world.held_token = held.hold_stored(owner=alice, field=artwork.job.photo)
    world.public_board = gallery_services.board_create(owner=alice, name="Open studio")
    gallery_services.board_add(board=world.public_board, by=alice, artworks=[public])
    gallery_services.board_publish(board=world.public_board, by=alice)
    gallery_services.profile_update(user=alice, public_page=True, display_name="Alice")
    for name in ("live", "revoked", "expired"):
        world.links[name] = gallery_services.share_link_create(board=world.public_board, by=alice, allow_downloads=True)
    gallery_services.share_link_revoke(link=world.links["revoked"], by=alice)
    ShareLink.objects.filter(pk=world.links["expired"].pk).update(expires=timezone.now() - timedelta(days=1))
    world.api_token, _text = api_services.token_create(owner=alice, name="script", scopes=["read", "write"])
    world.comparison = ModelComparison.objects.create(version=version, side=64, status="done", verdict="same")
    world.comparison.sheet.save("sheet.webp", ContentFile(picture_bytes(fmt="WEBP")))
    sample = default_storage.save("training/samples/run-sample.webp", ContentFile(picture_bytes(fmt="WEBP")))
    world.training_run = TrainingRun(name="Wave", kind="transformer_net", slot="wave", requested_by=staff)
    world.training_run.samples = [{"step": 0, "pictures": [sample]}]
    world.training_run.painting.save("wave.png", ContentFile(picture_bytes()), save=False)
    world.training_run.save()
    for kind, (owner, scopes) in {
        "alice-read": (alice, ["read"]),
        "alice-write": (alice, ["write"]),
        "alice-expired": (alice, ["read", "write"]),
        "alice-revoked": (alice, ["read", "write"]),
        "bob": (bob, ["read", "write"]),
        "staff-admin": (staff, ["read", "write", "admin"]),
        "staff-no-admin": (staff, ["read", "write"]),
    }.items():
        token, world.tokens[kind] = api_services.token_create(owner=owner, name=kind, scopes=scopes)
        if kind == "alice-expired":
            ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(minutes=1))
        if kind == "alice-revoked":
            api_services.token_revoke(token=token, by=alice)
    browser = Client()
    browser.get(reverse("login"))  # a page with a form sets the CSRF cookie
    world.csrf_cookie = browser.cookies[settings.CSRF_COOKIE_NAME].value
    _login_lockout_rows()
    world.state, world.accounts, world.runs = alice_state(world), get_user_model().objects.count(), runs_state()
    return world


def _login_lockout_rows() -> None:
    """Rows for the admin's login-lockout pages (django-axes), made as logins make them."""
    if not apps.is_installed("axes"):
        return
    Client().post(reverse("login"), {"username": "alice", "password": "not-her-password"})
    failures = apps.get_model("axes", "AccessFailureLog")
    if not failures.objects.exists():  # only written when AXES_ENABLE_ACCESS_FAILURE_LOG is on
        failures.objects.create(
            username="alice", ip_address="127.0.0.1", user_agent="matrix", http_accept="*/*", path_info=reverse("login")
        )


@pytest.fixture(autouse=True)
def isolated_data(world):
    """Instead of conftest's media folder for each test: the world's files are in the module's own."""
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def registry_ready(world):
    """Instead of conftest's model import for each test: the world imported the shipped models once."""
    return world


def alice_state(world: World) -> tuple:
    """Everything of alice's that a request by somebody else must leave as it was."""
    user = get_user_model().objects.values_list("password", "email", "is_active", "is_staff").get(pk=world.alice.pk)
    jobs = Job.objects.filter(owner=world.alice).values_list(
        "pk", "status", "cancel_requested", "queued_at", "artwork__pk", "artwork__title", "artwork__visibility"
    )  # one-to-one
    ideas = Idea.objects.filter(owner=world.alice).values_list("pk", "saved", "status")
    boards = Board.objects.filter(owner=world.alice).values_list("pk", "name", "position", "cover")
    items = BoardItem.objects.filter(board__owner=world.alice).values_list("board", "artwork", "idea")
    tags = Tag.objects.filter(owner=world.alice).values_list("pk", "name", "artworks")
    stars = Star.objects.filter(user=world.alice).values_list("user", "artwork")  # others may star her public work
    checks = Moderation.objects.filter(artwork__owner=world.alice).values_list("artwork", "wants_public", "status")
    links = ShareLink.objects.filter(board__owner=world.alice).values_list("pk", "revoked", "expires")
    page = Profile.objects.filter(user=world.alice).values_list("public_page", "display_name")
    tokens = ApiToken.objects.filter(owner=world.alice).values_list("pk", "revoked", "expires", "scopes")
    return (
        user,
        sorted(jobs),
        sorted(ideas),
        sorted(boards),
        sorted(map(str, items)),
        sorted(map(str, tags)),
        sorted(map(str, stars)),
        sorted(map(str, checks)),
        sorted(map(str, links)),
        list(page),
        sorted(map(str, tokens)),
    )


# --- What a response may be, and who a route is for ---------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    to: str | None = None  # where a redirect goes: LOGIN, ADMIN_LOGIN or a URL name

    def __str__(self) -> str:
        return f"{self.status}" + (f" to {self.to}" if self.to else "")


LOGIN, ADMIN_LOGIN = "<the login page>", "<the admin's login page>"
OK = Answer(200)
REDIRECT = Answer(302)  # where the view chooses (after a cancel, the job's page, and so on)
TO_LOGIN = Answer(302, LOGIN)
TO_ADMIN_LOGIN = Answer(302, ADMIN_LOGIN)
FORBIDDEN = Answer(403)
NOT_FOUND = Answer(404)
NOT_ALLOWED = Answer(405)

UNAUTHORISED = Answer(401)  # the API's answer to a caller it does not know

PUBLIC = "public"  # everybody
MEMBERS = "members"  # signed-in people; anonymous visitors are sent to log in
OWNER = "owner"  # alice: her object is in the URL; to anybody else it does not exist (404)
ADMIN = "admin"  # staff; anybody else is sent to the admin's login, whatever the method
STAFF_API = "staff-api"  # the API's admin endpoints: staff; 401 for a caller it does not know, 403 for others


@dataclass(frozen=True)
class Route:
    audience: str
    methods: frozenset[str]  # what the view serves
    args: Callable[[World], dict] = lambda world: {}  # the URL's arguments
    ok: Answer | dict[str, Answer] = OK  # what a reader gets (per method, where it differs)
    readers: tuple[str, ...] | None = None  # who may read it, if not the whole audience
    signed_in: Answer | None = None  # a public page that sends signed-in people elsewhere
    strangers: Answer = TO_ADMIN_LOGIN  # admin pages: what people without staff rights get
    special: dict[tuple[str, str], Answer] = field(default_factory=dict)  # (persona, method) -> answer
    changes: bool = False  # alice's POST changes her things (and nobody else's request may)
    writes: frozenset[str] = frozenset({"POST"})  # the methods that do, when it changes something
    post: Callable[[World], dict] | None = None  # form data that would do something, for the CSRF tests
    poster: str | None = None  # who posts in the CSRF tests, if not the audience's usual persona
    label: str = ""  # which variant of a route this is

    def who_reads(self) -> tuple[str, ...]:
        if self.readers is not None:
            return self.readers
        return {PUBLIC: PERSONAS, MEMBERS: (BOB, ALICE, STAFF), OWNER: (ALICE,), ADMIN: (STAFF,), STAFF_API: (STAFF,)}[
            self.audience
        ]

    def expected(self, persona: str, method: str) -> Answer:
        if (persona, method) in self.special:
            return self.special[persona, method]
        if self.audience in (MEMBERS, OWNER) and persona == ANON:
            return TO_LOGIN  # login_required comes first, whatever the method
        if self.audience == ADMIN and persona != STAFF:
            return self.strangers  # admin_view comes first, whatever the method
        if self.audience == STAFF_API and persona != STAFF:
            return UNAUTHORISED if persona == ANON else FORBIDDEN  # DRF asks who, then whether, then what method
        if method not in self.methods:
            return NOT_ALLOWED  # checked before the object is looked up: it tells nobody whether it exists
        if self.signed_in and persona != ANON:
            return self.signed_in
        if persona not in self.who_reads():
            return NOT_FOUND
        return self.ok.get(method, OK) if isinstance(self.ok, dict) else self.ok


# a view that asks nobody to log in: a visitor gets what bob gets (405 for a method it does not serve)
API_ANON = {(ANON, method): UNAUTHORISED for method in METHODS}  # DRF asks who it is before anything else
ANON_NOT_FOUND = {(ANON, method): NOT_FOUND if method in READ_ONLY else NOT_ALLOWED for method in METHODS}


def pk(attribute: str) -> Callable[[World], dict]:
    return lambda world: {"pk": getattr(world, attribute).pk}


# --- The tables ------------------------------------------------------------------------------------------

ROUTES: dict[str, Route | tuple[Route, ...]] = {
    "healthz": Route(PUBLIC, READ_ONLY),  # a HEAD probe (load balancers send them) is answered too
    "favicon": Route(PUBLIC, READ_ONLY),
    "set_language": Route(PUBLIC, ANY, ok=REDIRECT, post=lambda world: {"language": "zh-hans", "next": "/"}),
    "signup": Route(
        PUBLIC,
        ANY,
        signed_in=Answer(302, "generator:studio"),
        post=lambda world: {
            "username": "carol",
            "email": "carol@example.com",
            "password1": "paint-me-a-river-42",
            "password2": "paint-me-a-river-42",
        },
    ),
    "login": Route(PUBLIC, FORM_VIEW, post=lambda world: people.ALICE.login()),
    "logout": Route(PUBLIC, LOGOUT_VIEW, ok={"POST": Answer(302, "generator:home")}, poster=ALICE),
    "password_change": Route(
        MEMBERS,
        FORM_VIEW,
        post=lambda world: {
            "old_password": people.ALICE.password,
            "new_password1": "a-new-long-password-7",
            "new_password2": "a-new-long-password-7",
        },
    ),
    "password_change_done": Route(MEMBERS, TEMPLATE_VIEW),
    "password_reset": Route(PUBLIC, FORM_VIEW, post=lambda world: {"email": "alice@example.com"}),
    "password_reset_done": Route(PUBLIC, TEMPLATE_VIEW),
    # a valid link sends whoever follows it on to its set-password page (the token moves into the session)
    "password_reset_confirm": Route(PUBLIC, ANY, args=lambda world: world.reset_args, ok=REDIRECT),
    "password_reset_complete": Route(PUBLIC, TEMPLATE_VIEW),
    "generator:home": Route(PUBLIC, ANY, signed_in=Answer(302, "generator:studio")),
    # an empty POST is a form with errors (400); PUT, PATCH and DELETE just show the page again
    "generator:studio": Route(
        MEMBERS,
        ANY,
        ok={"POST": Answer(400)},
        post=lambda world: {
            "photo": photo(),
            "style_source": "preset",
            "style_preset": world.preset.slug,
            "strength": "0.8",
            "brush": "1.5",
            "max_side": "512",
            "mode": "fast",
        },
    ),
    "gallery:index": Route(MEMBERS, READ_ONLY),
    # The API: a caller without a session or a token gets 401, whatever the method (tests/web/test_api.py
    # covers tokens and scopes); its schema and docs page are anybody's.
    "api:preset-list": Route(MEMBERS, READ_ONLY, special=API_ANON),
    "api:artwork-list": Route(MEMBERS, READ_ONLY, special=API_ANON),
    # an empty PATCH changes nothing; a DELETE deletes
    "api:artwork-detail": Route(
        OWNER,
        READ_ONLY | {"PATCH", "DELETE"},
        args=pk("artwork"),
        ok={"DELETE": Answer(204)},
        special=API_ANON,
        changes=True,
        writes=frozenset({"DELETE"}),
    ),
    "api:artwork-image": Route(OWNER, READ_ONLY, args=pk("artwork"), special=API_ANON),
    "api:artwork-thumbnail": Route(OWNER, READ_ONLY, args=pk("artwork"), special=API_ANON),
    # an empty POST is a job with nothing to paint (400)
    "api:job-list": Route(
        MEMBERS,
        READ_ONLY | {"POST"},
        ok={"POST": Answer(400)},
        special=API_ANON,
        post=lambda world: {"photo": photo(), "style_preset": world.preset.slug},
    ),
    "api:job-detail": Route(OWNER, READ_ONLY, args=pk("job"), special=API_ANON),
    "api:job-cancel": Route(OWNER, POST_ONLY, args=pk("queued_job"), changes=True, special=API_ANON),
    "api:job-retry": Route(OWNER, POST_ONLY, args=pk("failed_job"), changes=True, special=API_ANON),
    "api:board-list": Route(
        MEMBERS,
        READ_ONLY | {"POST"},
        ok={"POST": Answer(400)},  # an empty POST names no board
        special=API_ANON,
        post=lambda world: {"name": "A forged board"},
    ),
    "api:board-detail": Route(
        OWNER,
        READ_ONLY | {"PATCH", "DELETE"},
        args=pk("board"),
        ok={"DELETE": Answer(204)},
        special=API_ANON,
        changes=True,
        writes=frozenset({"DELETE"}),
    ),
    "api:tag-list": Route(MEMBERS, READ_ONLY, special=API_ANON),
    "api:link-list": Route(
        MEMBERS,
        READ_ONLY | {"POST"},
        ok={"POST": Answer(400)},  # an empty POST names no board
        special=API_ANON,
        post=lambda world: {"board": world.public_board.pk},
    ),
    "api:link-detail": Route(OWNER, READ_ONLY, args=lambda world: {"pk": world.links["live"].pk}, special=API_ANON),
    "api:link-revoke": Route(
        OWNER, POST_ONLY, args=lambda world: {"pk": world.links["live"].pk}, changes=True, special=API_ANON
    ),
    "api:artwork-meaning": Route(MEMBERS, READ_ONLY, ok=Answer(400), special=API_ANON),  # no q: nothing to find
    "api:explore-list": Route(MEMBERS, READ_ONLY, special=API_ANON),
    "api:idea-list": Route(
        MEMBERS,
        READ_ONLY | {"POST"},
        ok={"POST": Answer(400)},  # an empty POST is no idea
        special=API_ANON,
        post=lambda world: {"text": "a forged idea"},
    ),
    "api:idea-detail": Route(
        OWNER,
        READ_ONLY | {"PATCH", "DELETE"},
        args=pk("idea"),
        ok={"DELETE": Answer(204)},  # an empty PATCH changes nothing
        special=API_ANON,
        changes=True,
        writes=frozenset({"DELETE"}),
    ),
    "api:idea-picture": Route(OWNER, READ_ONLY, args=pk("idea"), special=API_ANON),
    "api:idea-words": Route(OWNER, READ_ONLY, args=pk("idea"), special=API_ANON),
    "api:idea-cancel": Route(OWNER, POST_ONLY, args=pk("idea"), changes=True, special=API_ANON),
    # The admin's endpoints: staff ask them only to read here (as in the admin, they may change anything;
    # tests/web/test_api.py covers each action)
    "api:model-list": Route(STAFF_API, READ_ONLY | {"POST"}),
    "api:model-detail": Route(STAFF_API, READ_ONLY, args=pk("version")),
    "api:model-sample": Route(STAFF_API, READ_ONLY, args=pk("version")),
    "api:model-validate": Route(STAFF_API, POST_ONLY, args=pk("version")),
    "api:model-activate": Route(STAFF_API, POST_ONLY, args=pk("version")),
    "api:model-rollback": Route(STAFF_API, POST_ONLY),
    "api:model-compare": Route(STAFF_API, POST_ONLY, args=pk("version"), ok=Answer(409)),  # it is the active one
    "api:comparison-list": Route(STAFF_API, READ_ONLY),
    "api:comparison-detail": Route(STAFF_API, READ_ONLY, args=pk("comparison")),
    "api:comparison-sheet": Route(STAFF_API, READ_ONLY, args=pk("comparison")),
    "api:training-run-list": Route(STAFF_API, READ_ONLY | {"POST"}),
    "api:training-run-detail": Route(STAFF_API, READ_ONLY, args=pk("training_run")),
    "api:training-run-sample": Route(STAFF_API, READ_ONLY, args=pk("training_run"), ok=NOT_FOUND),  # no step asked
    "api:training-run-cancel": Route(STAFF_API, POST_ONLY, args=pk("training_run")),
    "api:moderation-list": Route(STAFF_API, READ_ONLY),
    "api:moderation-detail": Route(STAFF_API, READ_ONLY, args=lambda world: {"artwork": world.artwork.pk}),
    "api:moderation-picture": Route(STAFF_API, READ_ONLY, args=lambda world: {"artwork": world.artwork.pk}),
    **{
        f"api:moderation-{verb}": Route(STAFF_API, POST_ONLY, args=lambda world: {"artwork": world.artwork.pk})
        for verb in ("approve", "reject", "recheck")
    },
    "api:workers": Route(STAFF_API, READ_ONLY, ok=Answer(503)),  # the matrix runs no broker
    # any other address under /api/ (here /api//): a 404 in the API's shape, once it knows who asks
    "api:no-such-endpoint": Route(MEMBERS, ANY, ok=NOT_FOUND, special=API_ANON),
    "api:schema": Route(PUBLIC, READ_ONLY),
    "api:docs": Route(PUBLIC, READ_ONLY),
    # an empty POST is a form with errors (400); PUT, PATCH and DELETE just show the page again
    "api:tokens": Route(
        MEMBERS, ANY, ok={"POST": Answer(400)}, post=lambda world: {"name": "forged", "scopes": ["read"], "days": 0}
    ),
    "api:token-revoke": Route(OWNER, POST_ONLY, args=pk("api_token"), ok=REDIRECT, changes=True),
    # without a search it sends the artist to the gallery; with one, each reads their own answer
    # (tests/web/test_gallery_meaning.py)
    "gallery:meaning": Route(MEMBERS, READ_ONLY, ok=Answer(302, "gallery:index")),
    # staff are nobody's owner here: alice's pages are a 404 to them too (the admin is where they look)
    "generator:history": Route(MEMBERS, READ_ONLY),
    # a signed token names alice's own file: to anybody else it names nothing
    "generator:held-picture": Route(OWNER, READ_ONLY, args=lambda world: {"token": world.held_token}),
    "generator:job": Route(OWNER, ANY, args=pk("job")),
    "generator:job-delete": Route(OWNER, POST_ONLY, args=pk("failed_job"), ok=REDIRECT, changes=True),
    "generator:job-thumbnail": Route(OWNER, ANY, args=pk("job")),
    "generator:job-status": Route(OWNER, ANY, args=pk("job")),
    # the jobs these act on are ones the POST would change: a queued one to cancel, a failed one to retry
    "generator:job-cancel": Route(OWNER, POST_ONLY, args=pk("queued_job"), ok=REDIRECT, changes=True),
    "generator:job-retry": Route(OWNER, POST_ONLY, args=pk("failed_job"), ok=REDIRECT, changes=True),
    "generator:job-photo": Route(OWNER, ANY, args=pk("job")),
    "generator:job-style": Route(OWNER, ANY, args=pk("queued_job")),
    "generator:job-preview": Route(OWNER, ANY, args=pk("queued_job")),
    "generator:preset-thumbnail": (
        Route(PUBLIC, READ_ONLY, args=lambda world: {"slug": world.preset.slug}, label="visible"),
        Route(
            PUBLIC, READ_ONLY, args=lambda world: {"slug": world.hidden_preset.slug}, readers=(STAFF,), label="hidden"
        ),
    ),
    "gallery:artwork": Route(OWNER, READ_ONLY, args=pk("artwork")),
    "gallery:artwork-star": Route(OWNER, POST_ONLY, args=pk("artwork"), ok=REDIRECT, changes=True),
    "gallery:artwork-repeat": Route(OWNER, POST_ONLY, args=pk("artwork"), ok=REDIRECT, changes=True),
    # an empty tag is refused with a message: nothing changes
    "gallery:artwork-tag": Route(
        OWNER, POST_ONLY, args=pk("artwork"), ok=REDIRECT, post=lambda world: {"tag": "a forged tag"}
    ),
    "gallery:artwork-untag": Route(
        OWNER,
        POST_ONLY,
        args=lambda world: {"pk": world.artwork.pk, "tag": world.tag.pk},
        ok=REDIRECT,
        changes=True,
    ),
    # on=1 by default: the picture is on the board already, so alice's empty POST changes nothing
    "gallery:artwork-board": Route(
        OWNER,
        POST_ONLY,
        args=lambda world: {"pk": world.artwork.pk, "board": world.board.pk},
        ok=REDIRECT,
        post=lambda world: {"on": "0"},
    ),
    "gallery:tags": Route(MEMBERS, READ_ONLY),
    "gallery:tag": Route(OWNER, READ_ONLY, args=lambda world: {"name": world.tag.name}),
    # an empty POST is a form with errors (400); PUT, PATCH and DELETE just show the page again
    "gallery:boards": Route(MEMBERS, ANY, ok={"POST": Answer(400)}, post=lambda world: {"name": "Forged board"}),
    "gallery:board": Route(OWNER, READ_ONLY, args=pk("board")),
    "gallery:board-rename": Route(
        OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT, post=lambda world: {"name": "A forged name"}
    ),
    "gallery:board-move": Route(OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT, changes=True),  # down one
    "gallery:board-delete": Route(OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT, changes=True),
    "gallery:board-cover": Route(
        OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT, post=lambda world: {"artwork": world.artwork.pk}
    ),
    "gallery:board-ideas": Route(OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT),
    # anybody signed in may post a selection; one that names another artist's picture is a 404
    "gallery:selection": Route(
        MEMBERS,
        POST_ONLY,
        ok=REDIRECT,
        post=lambda world: {"action": "star", "ids": [str(world.artwork.pk)]},
    ),
    "gallery:artwork-delete": Route(OWNER, POST_ONLY, args=pk("artwork"), ok=REDIRECT, changes=True),
    "gallery:artwork-retitle": Route(
        OWNER,
        POST_ONLY,
        args=pk("artwork"),
        ok=REDIRECT,
        changes=True,
        post=lambda world: {"title": "A title somebody forged"},
    ),
    # a private picture is alice's alone (not even a login page for a visitor: it does not exist); a public one
    # is for everybody
    "generator:artwork-image": (
        Route(OWNER, READ_ONLY, args=pk("artwork"), special=ANON_NOT_FOUND, label="private"),
        Route(PUBLIC, READ_ONLY, args=pk("public_artwork"), label="public"),
    ),
    "generator:artwork-thumbnail": (
        Route(OWNER, READ_ONLY, args=pk("artwork"), special=ANON_NOT_FOUND, label="private"),
        Route(PUBLIC, READ_ONLY, args=pk("public_artwork"), label="public"),
    ),
    # an empty POST makes it private: it is, but alice's request to publish it (in the admin's queue) is withdrawn
    "gallery:artwork-visibility": Route(
        OWNER, POST_ONLY, args=pk("artwork"), ok=REDIRECT, changes=True, post=lambda world: {"public": "1"}
    ),
    "gallery:moderation-picture": Route(ADMIN, READ_ONLY, args=pk("artwork")),
    # an empty POST makes the (private) board private: nothing changes
    "gallery:board-visibility": Route(
        OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT, post=lambda world: {"public": "1"}
    ),
    # an empty POST lacks how long the link works: a message, nothing made
    "gallery:board-share": Route(OWNER, POST_ONLY, args=pk("board"), ok=REDIRECT, post=lambda world: {"days": "7"}),
    "gallery:link-revoke": Route(
        OWNER,
        POST_ONLY,
        args=lambda world: {"pk": world.public_board.pk, "link": world.links["live"].pk},
        ok=REDIRECT,
        changes=True,
    ),
    # alice's empty POST turns her public page off
    "gallery:profile": Route(
        MEMBERS, ANY, ok={"POST": REDIRECT}, changes=True, post=lambda world: {"public_page": "on"}
    ),
    "gallery:explore": Route(PUBLIC, READ_ONLY),
    "gallery:public-artwork": Route(PUBLIC, READ_ONLY, args=pk("public_artwork")),
    # anybody signed in stars a public picture (their own star: alice's things stay as they were)
    "gallery:public-star": Route(MEMBERS, POST_ONLY, args=pk("public_artwork"), ok=REDIRECT, changes=True),
    "gallery:public-board": Route(PUBLIC, READ_ONLY, args=pk("public_board")),
    "gallery:artist": Route(PUBLIC, READ_ONLY, args=lambda world: {"username": world.alice.get_username()}),
    **{
        name: tuple(
            Route(
                PUBLIC,
                READ_ONLY,
                args=lambda world, state=state, extra=extra: {"token": world.links[state].token, **extra(world)},
                ok=OK if state == "live" else NOT_FOUND,
                label=state,
            )
            for state in ("live", "revoked", "expired")
        )
        for name, extra in (
            ("gallery:shared", lambda world: {}),
            ("gallery:shared-thumbnail", lambda world: {"pk": world.public_artwork.pk}),
            ("gallery:shared-image", lambda world: {"pk": world.public_artwork.pk}),
        )
    },
    "assistant:ask": Route(MEMBERS, ANY, ok={"POST": Answer(400)}, post=lambda world: {"text": "a fox in the snow"}),
    "assistant:idea": Route(OWNER, ANY, args=pk("idea")),
    "assistant:idea-status": Route(OWNER, READ_ONLY, args=pk("idea")),
    "assistant:idea-save": Route(
        OWNER, POST_ONLY, args=pk("idea"), ok=REDIRECT, changes=True, post=lambda world: {"saved": "1"}
    ),
    "assistant:idea-cancel": Route(OWNER, POST_ONLY, args=pk("idea"), ok=REDIRECT, changes=True),
    "assistant:idea-delete": Route(OWNER, POST_ONLY, args=pk("idea"), ok=REDIRECT, changes=True),
    "assistant:idea-picture": Route(OWNER, READ_ONLY, args=pk("idea")),
}

# The admin, by pattern of the route's name (the first rule that matches wins). All of it is for staff
# only but its login page; the rules differ only in what staff get. Each route is still asked concretely.
ADMIN_ROUTES: list[tuple[str, Route]] = [
    (r"admin:login", Route(PUBLIC, FORM_VIEW, special={(STAFF, "GET"): Answer(302, "admin:index")})),
    # the admin sends people without staff rights from its logout to its index (and so to its login)
    (r"admin:logout", Route(ADMIN, LOGOUT_VIEW, strangers=Answer(302, "admin:index"))),
    (r"admin:autocomplete", Route(ADMIN, TEMPLATE_VIEW, ok=FORBIDDEN)),  # asked without its query
    (r"admin:view_on_site", Route(ADMIN, ANY, ok=REDIRECT)),
    (r"admin:\(admin/\w+/\w+/<path:object_id>/\)", Route(ADMIN, ANY, ok=REDIRECT)),  # old links to change pages
    (r"admin:\(admin/\(\?P<url>.*\)\$\)", Route(ADMIN, ANY, ok=NOT_FOUND)),  # the catch-all
    # refused to staff as well: presets and versions in use are never deleted, ideas come from artists,
    # comparisons come from the compare action (and are the record behind a version's standing),
    # and the lockout logs are written by logins only
    (
        r"admin:(generator_preset_delete|generator_modelversion_delete|assistant_idea_add|axes_\w+_add"
        r"|gallery_moderation_add|gallery_moderation_delete|assistant_similarindex_add|assistant_similarindex_delete"
        r"|generator_modelcomparison_add|generator_modelcomparison_delete|generator_trainingrun_delete)",
        Route(ADMIN, ANY, ok=FORBIDDEN),
    ),
    # a training run is cancelled by a POST (its page has the button); it ends cancelled and stays
    (r"admin:generator_trainingrun_cancel", Route(ADMIN, POST_ONLY, ok=REDIRECT, changes=True)),
    (r"admin:.*", Route(ADMIN, ANY)),
]


# --- Every route, and one or more concrete URLs for each ----------------------------------------------------


def walk(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """(full name, full pattern) of every route; one without a name is named by its pattern, in parentheses."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + str(entry.pattern), ":".join(filter(None, [namespace, entry.namespace])))
        else:
            name = entry.name or f"({prefix}{entry.pattern})"
            yield (f"{namespace}:{name}" if namespace else name), prefix + str(entry.pattern)


def served_routes() -> dict[str, str]:
    """Full name -> pattern. A name defined twice is one route: the throttled login and password-reset
    views come before django.contrib.auth.urls' own, and the first pattern is the one that answers."""
    routes: dict[str, str] = {}
    for name, pattern in walk():
        routes.setdefault(name, pattern)
    return routes


def routes_for(name: str) -> tuple[Route, ...]:
    if name in ROUTES:
        found = ROUTES[name]
        return found if isinstance(found, tuple) else (found,)
    for rule, route in ADMIN_ROUTES:
        if re.fullmatch(rule, name):
            return (route,)
    return ()


@dataclass(frozen=True)
class Place:
    """One concrete URL of a route."""

    name: str
    pattern: str
    route: Route
    app_label: str = ""  # the admin's app index lists its apps in its pattern: one URL for each

    @property
    def id(self) -> str:
        return self.name + "".join(f"({x})" for x in (self.route.label, self.app_label) if x)

    def url(self, world: World) -> str:
        if not self.name.startswith("admin:"):
            return reverse(self.name, kwargs=self.route.args(world))
        if self.app_label:
            return reverse("admin:app_list", kwargs={"app_label": self.app_label})
        if "(?P<url>" in self.pattern:
            return reverse("admin:index") + "no-such-page/"
        values: dict[str, object] = {}
        if self.name == "admin:view_on_site":
            values = {"content_type_id": ContentType.objects.get_for_model(Artwork).pk, "object_id": world.artwork.pk}
        elif model := self.model():
            row = world.admin_row(model)
            values = {"object_id": row.pk, "id": row.pk, "pk": row.pk, "step": 0, "i": 0}  # a run's first sample
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), self.pattern)

    def model(self):
        owner = re.match(r"admin/(\w+)/(\w+)/", self.pattern)
        try:
            return apps.get_model(*owner.groups()) if owner else None
        except LookupError:  # admin/password_change/done/
            return None


def all_places() -> list[Place]:
    places = []
    for name, pattern in served_routes().items():
        listed = re.search(r"\(\?P<app_label>([\w|]+)\)", pattern)
        app_labels = listed[1].split("|") if listed else [""]
        places += [Place(name, pattern, route, label) for route in routes_for(name) for label in app_labels]
    return places


PLACES = all_places()


def client_for(world: World, persona: str, **options) -> Client:
    client = Client(**options)
    if persona != ANON:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


def send(client: Client, method: str, url: str, **extra):
    return getattr(client, method.lower())(url, **extra)


def body_of(response) -> bytes:
    # Not response.close() afterwards: the test client closes a file response once it is read, and a
    # second close would send request_finished, on which Django closes the connection (and the world).
    return b"".join(response.streaming_content) if response.streaming else response.content


def location_for(answer: Answer, url: str) -> str | None:
    if answer.to in (LOGIN, ADMIN_LOGIN):
        login = reverse("login" if answer.to == LOGIN else "admin:login")
        return f"{login}?{urlencode({'next': url}, safe='/')}"
    return reverse(answer.to) if answer.to else None


def signed_in_as(client: Client) -> str | None:
    key = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if not (key and key.value):
        return None
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key.value).get("_auth_user_id")


# --- The tables are complete -------------------------------------------------------------------------------


def test_the_matrix_describes_every_route_the_site_serves():
    undescribed = sorted(name for name in served_routes() if not routes_for(name))
    assert not undescribed, f"describe these routes in ROUTES ({__file__}): {undescribed}"


def test_the_matrix_names_no_route_that_is_gone():
    served = served_routes()
    gone = sorted(set(ROUTES) - set(served))
    gone += [rule for rule, _ in ADMIN_ROUTES if not any(re.fullmatch(rule, name) for name in served)]
    assert not gone, f"no such route any more: {gone}"


def test_the_admin_rules_let_nobody_without_staff_rights_in():
    """Whatever the rules say staff get, everybody else is sent away from every admin page but its login."""
    for place in PLACES:
        if place.name.startswith("admin:") and place.name != "admin:login":
            assert place.route.audience == ADMIN and place.route.strangers.status == 302, place.id


def test_the_owners_pages_show_what_the_leak_checks_look_for(world):
    """Otherwise "none of alice's secrets in bob's page" would prove nothing."""
    client = client_for(world, ALICE)
    pages = {
        reverse("gallery:artwork", args=[world.artwork.pk]): SECRET_TITLE,
        reverse("gallery:index"): str(world.artwork.pk),
        reverse("generator:job", args=[world.job.pk]): str(world.artwork.pk),
        reverse("assistant:idea", args=[world.idea.pk]): SECRET_IDEA,
    }
    for url, secret in pages.items():
        assert secret in client.get(url).content.decode(), url


# --- The matrix ------------------------------------------------------------------------------------------

# Where the studio does not do what the table says: (place id, persona, method) -> what is wrong.
# An entry: ("generator:job-cancel", BOB, "POST"): "job_cancel answers 200 to another artist's job".
KNOWN_WRONG: dict[tuple[str, str, str], str] = {}


def matrix_cases() -> list:
    cases = []
    for place in PLACES:
        for persona in PERSONAS:
            if place.route.audience == ADMIN and persona != STAFF:
                continue  # test_the_admin_sends_everybody_without_staff_rights_to_its_login
            for method in METHODS:
                if place.route.audience == ADMIN and method != "GET":
                    continue  # staff may do anything there: the admin's own tests cover its forms
                if place.route.audience == STAFF_API and persona == STAFF and method not in SAFE:
                    continue  # the same: tests/web/test_api.py covers each of the admin's actions
                wrong = KNOWN_WRONG.get((place.id, persona, method))
                marks = [pytest.mark.xfail(strict=True, reason=wrong)] if wrong else []
                cases.append(pytest.param(place, persona, method, id=f"{place.id}-{persona}-{method}", marks=marks))
    return cases


@pytest.mark.parametrize(("place", "persona", "method"), matrix_cases())
def test_each_persona_gets_exactly_what_the_table_says(world, place, persona, method):
    url = place.url(world)
    expected = place.route.expected(persona, method)

    response = send(client_for(world, persona), method, url)

    body = body_of(response)
    assert response.status_code == expected.status, f"{method} {url} as {persona}: expected {expected}"
    if (where := location_for(expected, url)) is not None:
        assert response["Location"] == where
    if response.status_code == 200 and place.route.who_reads() != PERSONAS:
        # a cache between the studio and its visitors (a proxy, a CDN) may keep a public answer for anybody
        assert "public" not in response.get("Cache-Control", ""), "only some may read this, but it is public"
    # What might write is checked for what it wrote (reads skip it: it costs queries, thousands of times)
    if method not in SAFE or place.route.changes:
        if persona == ALICE and method in place.route.writes and place.route.changes:
            assert alice_state(world) != world.state, f"alice's own {method} did nothing"
        else:
            assert alice_state(world) == world.state, f"{method} {url} as {persona} changed alice's things"
    if place.name in LOGOUTS and (persona, method) != (ALICE, "POST"):
        assert signed_in_as(client_for(world, ALICE)) == str(world.alice.pk), "alice was signed out"
    if persona != ALICE and place.route.audience not in (ADMIN, STAFF_API):
        leaked = [secret for secret in world.secrets if secret.encode() in body]
        assert not leaked, f"{method} {url} as {persona} shows alice's {leaked}"


def lockout_cases() -> list:
    return [
        pytest.param(place, persona, id=f"{place.id}-{persona}")
        for place in PLACES
        if place.route.audience == ADMIN
        for persona in (ANON, BOB, ALICE)
    ]


@pytest.mark.parametrize(("place", "persona"), lockout_cases())
def test_the_admin_sends_everybody_without_staff_rights_to_its_login(world, place, persona):
    """One case per page and persona, every method in it: the answer never depends on the method."""
    url = place.url(world)
    expected = place.route.expected(persona, "GET")
    client = client_for(world, persona)

    for method in METHODS:
        response = send(client, method, url)

        assert (response.status_code, response.get("Location")) == (expected.status, location_for(expected, url)), (
            f"{method} {url} as {persona}"
        )
        assert body_of(response) == b"", f"{method} {url} as {persona} rendered a page"
    assert alice_state(world) == world.state
    assert signed_in_as(client_for(world, ALICE)) == str(world.alice.pk)


@pytest.mark.parametrize(
    ("name", "persona", "data"),
    [
        ("login", ANON, people.ALICE.login()),
        ("admin:login", ANON, people.ROOT.login()),
        ("set_language", ALICE, {"language": "zh-hans"}),
        ("logout", ALICE, {}),
    ],
)
def test_no_form_sends_anybody_to_another_site(world, name, persona, data):
    """A `next` pointing elsewhere (a link in a phishing mail) is ignored: the answer stays on the studio."""
    response = client_for(world, persona).post(reverse(name), {**data, "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"].startswith("/"), response.get("Location")
    assert not response["Location"].startswith("//")


def without_csrf_tokens(body: bytes) -> bytes:
    """A page's CSRF token is masked afresh each time the page is drawn: random, it tells nothing."""
    return re.sub(rb'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]{64}', rb"\1<token>", body)


def nobodys_key(value):
    """A key of the same kind as `value` that nothing has."""
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, int):
        return 2**31 - 1
    return f"nobodys-{uuid.uuid4().hex[:8]}"


def test_another_artists_object_looks_exactly_like_a_missing_one(world):
    """Bob learns nothing from the 404, not even that alice's object exists."""
    client = client_for(world, BOB)
    for place in PLACES:
        if place.route.audience != OWNER:
            continue
        real = place.url(world)
        missing = reverse(place.name, kwargs={k: nobodys_key(v) for k, v in place.route.args(world).items()})
        for method in ("GET", "POST"):
            mine, nobodys = send(client, method, real), send(client, method, missing)
            seen = [(answer.status_code, without_csrf_tokens(body_of(answer))) for answer in (mine, nobodys)]
            assert seen[0] == seen[1], (place.id, method)


# --- The API with tokens ---------------------------------------------------------------------------------------
# Every endpoint and method again, with a personal token instead of a session: each kind of token gets what its
# scopes allow of what its owner's session gets; an expired or revoked one is a 401 whatever it asks.

TOKENS = ("alice-read", "alice-write", "alice-expired", "alice-revoked", "bob", "staff-admin", "staff-no-admin")


def token_expected(route: Route, token: str, method: str) -> Answer:
    if token in ("alice-expired", "alice-revoked"):
        return UNAUTHORISED
    if route.audience == STAFF_API and token != "staff-admin":
        return FORBIDDEN  # staff, and the admin scope
    if (token == "alice-read" and method not in SAFE) or (token == "alice-write" and method in SAFE):
        return FORBIDDEN  # reads need the read scope, anything else the write scope
    persona = {"bob": BOB, "staff-admin": STAFF, "staff-no-admin": STAFF}.get(token, ALICE)
    return route.expected(persona, method)


def token_cases() -> list:
    api = [p for p in PLACES if p.name.startswith("api:") and p.name not in ("api:schema", "api:docs")]
    return [
        pytest.param(place, token, method, id=f"{place.id}-{token}-{method}")
        for place in api
        if not place.pattern.startswith("account/")  # the token page is a page: the session's
        for token in TOKENS
        for method in METHODS
        if not (place.route.audience == STAFF_API and token == "staff-admin" and method not in SAFE)  # as above
    ]


@pytest.mark.parametrize(("place", "token", "method"), token_cases())
def test_each_token_gets_what_its_scopes_allow(world, place, token, method):
    url = place.url(world)
    expected = token_expected(place.route, token, method)

    response = send(Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[token]}"), method, url)

    assert response.status_code == expected.status, f"{method} {url} with {token}'s token: expected {expected}"
    if token not in ("alice-read", "alice-write") or method in SAFE:
        return
    if token == "alice-write" and method in place.route.writes and place.route.changes:
        assert alice_state(world) != world.state, f"alice's own {method} did nothing"
    elif method not in place.route.methods or token == "alice-read":
        assert alice_state(world) == world.state, f"{method} {url} with {token}'s token changed alice's things"


# --- CSRF ----------------------------------------------------------------------------------------------------


def csrf_cases(kinds: tuple[str, ...]) -> list:
    """Every route whose view serves a POST, posted by one who may: a visitor on a public page, alice on
    hers, staff in the admin. (A route with variants is posted to once.)"""
    cases, seen = [], set()
    for place in PLACES:
        if "POST" not in place.route.methods or (place.name, place.app_label) in seen:
            continue
        seen.add((place.name, place.app_label))
        persona = (
            place.route.poster
            or {PUBLIC: ANON, MEMBERS: ALICE, OWNER: ALICE, ADMIN: STAFF, STAFF_API: STAFF}[place.route.audience]
        )
        cases += [pytest.param(place, persona, kind, id=f"{place.id}-{persona}-{kind}") for kind in kinds]
    return cases


def csrf_client(world: World, persona: str) -> Client:
    """A browser that was shown a form (it has the CSRF cookie), and whose POSTs are checked."""
    client = client_for(world, persona, enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = world.csrf_cookie
    return client


def runs_state() -> list:
    """The admin's training runs, which a forged POST must not cancel."""
    return sorted(TrainingRun.objects.values_list("pk", "status", "cancel_requested"))


def observe(world: World, client: Client) -> tuple:
    """What any of the POSTs could change: alice's things, the training runs, the accounts, the mail, the
    browser's login and language."""
    language = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return (
        alice_state(world),
        runs_state(),
        get_user_model().objects.count(),
        len(mail.outbox),
        signed_in_as(client),
        language.value if language else None,
    )


def observed_at_start(world: World, persona: str) -> tuple:
    """observe() as every case starts, known without asking the database: each case is rolled back to it."""
    user = {ALICE: world.alice, BOB: world.bob, STAFF: world.staff}.get(persona)
    return world.state, world.runs, world.accounts, len(mail.outbox), str(user.pk) if user else None, None


@pytest.mark.parametrize(("place", "persona", "kind"), csrf_cases(("no-token", "forged-token")))
def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(world, place, persona, kind):
    url = place.url(world)
    client = csrf_client(world, persona)
    data = place.route.post(world) if place.route.post else {}
    if kind == "forged-token":
        data["csrfmiddlewaretoken"] = get_random_string(64)  # well formed, but not the cookie's
    before = observed_at_start(world, persona)

    response = client.post(url, data)

    refusal = b"CSRF Failed" if url.startswith("/api/") else b"CSRF verification failed"  # DRF's, Django's
    assert response.status_code == 403 and refusal in response.content
    assert observe(world, client) == before


@pytest.mark.parametrize(("place", "persona", "kind"), csrf_cases(("valid-token",)))
def test_a_post_with_the_csrf_token_gets_through(world, place, persona, kind):
    url = place.url(world)
    client = csrf_client(world, persona)
    before = observed_at_start(world, persona)

    if place.route.post:  # in the form, as a browser sends it
        response = client.post(url, {**place.route.post(world), "csrfmiddlewaretoken": world.csrf_cookie})
    else:  # in the header, as htmx sends it
        response = client.post(url, headers={"X-CSRFToken": world.csrf_cookie})

    assert b"CSRF verification failed" not in body_of(response) and b"CSRF Failed" not in body_of(response)
    if place.route.audience != ADMIN:  # some admin pages refuse staff a POST (403) on purpose
        assert response.status_code != 403
    if place.route.post or place.route.changes or place.name in LOGOUTS:
        assert observe(world, client) != before, "the POST got through but did nothing"
