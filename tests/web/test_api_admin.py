"""The API's admin endpoints (issue 20): the model registry (upload, validate, activate, roll back), the
moderation queue (approve, reject, check again), the workers; staff only, and a token needs the admin scope.
Also the assistant's words as they are written, and the studio's rate of new jobs holding for a retry."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from factories import transformer_net_checkpoint
from safetensors.torch import load_file

from api import services as tokens
from gallery.models import Decision, Moderation, ModerationStatus
from generator.ml import files
from generator.models import Artwork, ModelVersion

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/admin/models/"
MODERATION = "/api/v1/admin/moderation/"


def bearer(text: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")


@pytest.fixture
def admin_api(admin_user) -> Client:
    return bearer(tokens.token_create(owner=admin_user, name="ops", scopes=["read", "write", "admin"])[1])


@pytest.fixture
def validations(monkeypatch) -> list[int]:
    """The versions sent to a `cpu` worker for validation, instead of reaching Redis."""
    sent: list[int] = []
    monkeypatch.setattr(
        "generator.tasks.validate_model_version.apply_async", lambda args, queue, **kwargs: sent.append(args[0])
    )
    return sent


def weights_file(path, name=None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")


def test_the_admin_endpoints_need_staff_and_with_a_token_the_admin_scope(alice, admin_user, admin_api):
    staff_without_scope = bearer(tokens.token_create(owner=admin_user, name="r", scopes=["read", "write"])[1])
    artist = bearer(tokens.token_create(owner=alice, name="r", scopes=["read", "write"])[1])
    staff_session = Client()
    staff_session.force_login(admin_user)

    assert admin_api.get(MODELS).status_code == 200 and staff_session.get(MODELS).status_code == 200
    for refused in (staff_without_scope, artist):
        answer = refused.get(MODELS)
        assert answer.status_code == 403
        assert answer.json()["errors"][0]["message"].startswith("This needs a staff member's account")
    assert Client().get(MODERATION).status_code == 401


def test_an_upload_is_validated_by_a_worker_then_activated_and_shows_its_sample(
    admin_api, validations, tmp_path, django_capture_on_commit_callbacks
):
    from generator import tasks

    with django_capture_on_commit_callbacks(execute=True):
        made = admin_api.post(
            MODELS,
            {
                "kind": "transformer_net",
                "slot": "mosaic",
                "label": "Mosaic",
                "licence": "BSD-3-Clause",
                "weights_file": weights_file(transformer_net_checkpoint(tmp_path / "mosaic.pth")),
            },
        )

    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["status"] == "validating" and not body["is_active"] and body["created_by"] == "admin"
    assert validations == [body["id"]]  # checked by a worker after the commit
    again = admin_api.post(f"{MODELS}{body['id']}/validate/")  # the check was lost: ask again
    assert again.status_code == 200 and validations == [body["id"], body["id"]]

    tasks.validate_model_version(body["id"])  # what the worker runs

    ready = admin_api.get(f"{MODELS}{body['id']}/").json()
    assert ready["status"] == "ready" and len(ready["sha256"]) == 64 and ready["metrics"]["smoke_seconds"] > 0
    sample = admin_api.get(ready["sample"])
    assert sample.status_code == 200 and sample["Content-Type"] == "image/webp"
    checked = admin_api.post(f"{MODELS}{body['id']}/validate/")
    assert checked.status_code == 409 and checked.json()["errors"] == [
        {"code": "state", "message": "This version has been checked already: it is ready.", "field": None}
    ]
    listed = admin_api.get(MODELS, {"kind": "transformer_net"}).json()["results"]
    assert [v["id"] for v in listed] == [body["id"]]


def test_a_new_version_is_activated_and_rolled_back_as_in_the_admin(admin_api, studio_models, tmp_path):
    from generator import services

    shipped = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    state = {k: v * 1.02 for k, v in load_file(shipped.weights.path).items()}
    files.save_state(state, tmp_path / "v2.safetensors")
    version = services.model_version_upload(
        kind="multistyle26", label="v2", upload=weights_file(tmp_path / "v2.safetensors"), validate="now"
    )

    # The actions take JSON or nothing: a form body is refused (415), an empty POST is fine
    form = admin_api.post(f"{MODELS}{version.pk}/activate/", {"confirm": "true"})
    assert form.status_code == 415 and not ModelVersion.objects.get(pk=version.pk).is_active
    activated = admin_api.post(f"{MODELS}{version.pk}/activate/", content_type="application/json")

    assert activated.status_code == 200 and activated.json()["is_active"]
    assert ModelVersion.objects.get(kind="multistyle26", is_active=True) == version
    rolled = admin_api.post(f"{MODELS}rollback/", {"kind": "multistyle26"}, content_type="application/json")
    assert rolled.status_code == 200 and rolled.json()["id"] == shipped.pk and rolled.json()["is_active"]
    nothing = admin_api.post(f"{MODELS}rollback/", {"kind": "open_nsfw"}, content_type="application/json")
    assert nothing.status_code == 409
    assert nothing.json()["errors"][0]["message"] == "There is no earlier version of this model to roll back to."


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"kind": "espresso", "slot": ""}, "kind", "is not a valid choice"),
        ({"kind": "transformer_net", "slot": ""}, "slot", "needs a short name"),
        ({"kind": "multistyle26", "slot": "x"}, "slot", "Only single-style networks have a short name"),
        ({"kind": "transformer_net", "slot": "m", "no file": True}, "weights_file", "No file was submitted"),
    ],
)
def test_an_upload_the_admin_would_refuse_is_a_400_with_its_words_and_keeps_nothing(
    admin_api, validations, tmp_path, data, field, says
):
    before = set(ModelVersion.objects.values_list("pk", flat=True))
    if not data.pop("no file", False):
        data["weights_file"] = weights_file(transformer_net_checkpoint(tmp_path / "w.pth"))

    answer = admin_api.post(MODELS, data)

    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["field"] == field and says in error["message"], error
    assert set(ModelVersion.objects.values_list("pk", flat=True)) == before and validations == []


def test_the_moderation_queue_lists_what_waits_and_the_decisions_act_as_in_the_admin(
    alice, paint, admin_api, monkeypatch, django_capture_on_commit_callbacks
):
    checks: list[str] = []
    monkeypatch.setattr("gallery.tasks.moderate_artwork.apply_async", lambda args, **kwargs: checks.append(args[0]))
    flagged, unchecked, safe = paint(alice, title="Bathers"), paint(alice, title="Dusk"), paint(alice)
    Moderation.objects.create(artwork=flagged, status=ModerationStatus.FLAGGED, score=0.4, wants_public=True)
    Moderation.objects.create(artwork=unchecked, status=ModerationStatus.UNAVAILABLE, wants_public=True)
    Moderation.objects.create(artwork=safe, status=ModerationStatus.SAFE, score=0.01)

    waiting = admin_api.get(MODERATION).json()["results"]

    assert [m["artwork"] for m in waiting] == [str(flagged.pk), str(unchecked.pk)]  # who asked first, first
    assert waiting[0]["title"] == "Bathers" and waiting[0]["owner"] == "alice" and waiting[0]["score"] == 0.4
    assert len(admin_api.get(MODERATION, {"all": "1"}).json()["results"]) == 3
    picture = admin_api.get(waiting[0]["picture"])
    assert picture.status_code == 200 and picture["Cache-Control"] == "private, no-store"

    approved = admin_api.post(f"{MODERATION}{flagged.pk}/approve/").json()
    rejected = admin_api.post(f"{MODERATION}{unchecked.pk}/reject/").json()

    assert approved["decision"] == Decision.APPROVED and approved["decided_by"] == "admin"
    assert Artwork.objects.get(pk=flagged.pk).visibility == "public"  # its artist asked for it
    assert rejected["decision"] == Decision.REJECTED and Artwork.objects.get(pk=unchecked.pk).visibility == "private"
    assert admin_api.get(MODERATION).json()["results"] == []
    with django_capture_on_commit_callbacks(execute=True):
        again = admin_api.post(f"{MODERATION}{unchecked.pk}/recheck/").json()
    assert again["status"] == ModerationStatus.PENDING and again["decision"] == "" and checks == [str(unchecked.pk)]
    assert admin_api.post(f"{MODERATION}00000000-0000-0000-0000-000000000000/approve/").status_code == 404


def test_the_workers_endpoint_says_when_the_broker_cannot_be_reached(admin_api, settings):
    from artstudio.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nobody listens there
    try:
        answer = admin_api.get("/api/v1/admin/workers/")
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL

    assert answer.status_code == 503
    [error] = answer.json()["errors"]
    assert error["code"] == "broker_unavailable" and "cannot be reached" in error["message"]


# -- the assistant's words as they are written ----------------------------------------------------------


def test_the_words_come_as_they_are_written_each_asked_only_once(alice, monkeypatch):
    from assistant import services as assistant
    from assistant.ml import prompting
    from assistant.models import Idea

    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: None)
    client = bearer(tokens.token_create(owner=alice, name="w", scopes=["read", "write"])[1])
    idea = assistant.idea_create(owner=alice, text="a lighthouse in a storm")
    words = f"/api/v1/ideas/{idea.pk}/words/"

    def written(status, **writing):  # as the writer's task saves each finished item (assistant/services.py)
        Idea.objects.filter(pk=idea.pk).update(status=status, writing=writing, draft=prompting.as_text(writing))

    written(Idea.Status.WRITING, titles=["The Keeper"])
    first = client.get(words)
    written(Idea.Status.WRITING, titles=["The Keeper", "Night Watch"])
    second = client.get(words, {"after": first.json()["next"]})
    written(Idea.Status.DONE, titles=["The Keeper", "Night Watch"])
    last = client.get(words, {"after": second.json()["next"]})

    assert first.json()["text"] == "Titles\nThe Keeper" and first["Retry-After"] == "1"
    assert second.json()["text"] == "\nNight Watch" and not second.json()["finished"]
    assert last.json()["text"] == "" and last.json()["finished"] and "Retry-After" not in last
    assert last.json()["writing"] == {"titles": ["The Keeper", "Night Watch"]}
    assert client.get(words, {"after": "x"}).status_code == 400
    assert client.get(words, {"after": "99999"}).json()["text"] == ""
    other = bearer(tokens.token_create(owner=Idea.objects.get(pk=idea.pk).owner, name="x", scopes=["write"])[1])
    assert other.get(words).status_code == 403  # a token without the read scope


def test_an_idea_can_be_stopped_once_and_keeps_what_was_written(alice, monkeypatch):
    from assistant import services as assistant
    from assistant.models import Idea

    monkeypatch.setattr("assistant.tasks.analyse_idea.delay", lambda idea_id: None)
    client = bearer(tokens.token_create(owner=alice, name="w", scopes=["read", "write"])[1])
    idea = assistant.idea_create(owner=alice, text="a lighthouse in a storm")
    Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.WRITING, writing={"titles": ["Beacon"]})

    stopped = client.post(f"/api/v1/ideas/{idea.pk}/cancel/")
    again = client.post(f"/api/v1/ideas/{idea.pk}/cancel/")

    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    assert stopped.json()["writing"] == {"titles": ["Beacon"]}
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "state"
    assert client.get(f"/api/v1/ideas/{idea.pk}/words/").json()["finished"]


def test_a_retry_counts_against_the_studios_rate_of_new_jobs(alice, no_broker, settings):
    from factories import make_job

    from generator.models import Job

    settings.ARTSTUDIO_RATE_JOBS = "1/m"
    failed = [make_job(alice), make_job(alice)]
    Job.objects.filter(pk__in=[j.pk for j in failed]).update(status=Job.Status.FAILED, error="x")
    client = bearer(tokens.token_create(owner=alice, name="w", scopes=["read", "write"])[1])

    first, second = (client.post(f"/api/v1/jobs/{job.pk}/retry/") for job in failed)

    assert first.status_code == 200 and second.status_code == 429 and int(second["Retry-After"]) == 60
    assert second.json()["errors"][0]["message"].startswith("That was a lot of requests in a short time.")
    assert Job.objects.get(pk=failed[1].pk).status == Job.Status.FAILED
