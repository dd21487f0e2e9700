"""The admin's and the command line's side of the model registry and the presets."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse
from factories import make_job, picture_bytes, transformer_net_checkpoint

from generator import registry, services
from generator.models import ModelVersion, Preset
from tests.people import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(django_user_model):
    from django.test import Client

    admin = ROOT.create()
    client = Client()  # its own: alice_client is pytest-django's `client`
    client.force_login(admin)
    return client


def test_an_admin_uploads_a_community_style_and_it_appears_in_the_studio(
    admin_client, alice_client, tmp_path, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "generator.tasks.validate_model_version.apply_async", lambda args, queue, **kw: sent.append(args[0])
    )
    checkpoint = transformer_net_checkpoint(tmp_path / "candy.pth")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(
            reverse("admin:generator_modelversion_add"),
            {
                "kind": "transformer_net",
                "slot": "candy",
                "label": "Candy",
                "licence": "BSD-3-Clause",
                "credit": "pytorch/examples",
                "notes": "",
                "weights_file": SimpleUploadedFile("candy.pth", checkpoint.read_bytes()),
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    version = ModelVersion.objects.get(slot="candy")
    assert version.status == ModelVersion.Status.VALIDATING and sent == [version.pk]

    services.model_version_validate(version_id=version.pk)  # what the cpu worker does with the message
    page = admin_client.get(reverse("admin:generator_modelversion_change", args=[version.pk])).content.decode()
    assert "Ready" in page and reverse("admin:generator_modelversion_sample", args=[version.pk]) in page
    assert (
        admin_client.get(reverse("admin:generator_modelversion_sample", args=[version.pk]))["Content-Type"]
        == "image/webp"
    )
    studio = alice_client.get(reverse("generator:studio")).content.decode()
    assert 'id="preset-candy"' in studio and reverse("generator:preset-thumbnail", args=["candy"]) in studio


def test_the_admin_form_refuses_a_wrong_slot_on_the_form_itself(admin_client, tmp_path):
    checkpoint = transformer_net_checkpoint(tmp_path / "candy.pth")
    response = admin_client.post(
        reverse("admin:generator_modelversion_add"),
        {
            "kind": "transformer_net",
            "slot": "",
            "label": "Candy",
            "weights_file": SimpleUploadedFile("candy.pth", checkpoint.read_bytes()),
        },
    )
    assert response.status_code == 200 and "needs a short name" in response.content.decode()
    assert not ModelVersion.objects.filter(label="Candy").exists()


def test_activate_and_roll_back_are_admin_actions(admin_client, tmp_path):
    from test_model_registry import another_multistyle, weights_upload

    old = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    new = services.model_version_upload(
        kind="multistyle26", label="v2", validate="now", upload=weights_upload(another_multistyle(tmp_path))
    )
    changelist = reverse("admin:generator_modelversion_changelist")
    admin_client.post(changelist, {"action": "activate", "_selected_action": [new.pk]})
    assert registry.active_versions().get(kind="multistyle26") == new
    admin_client.post(changelist, {"action": "rollback", "_selected_action": [new.pk]})
    assert registry.active_versions().get(kind="multistyle26") == old
    response = admin_client.post(changelist, {"action": "activate", "_selected_action": [old.pk, new.pk]}, follow=True)
    assert "exactly one" in response.content.decode()


def test_the_model_and_worker_dashboards_render_for_staff_only(admin_client, alice_client, alice, settings):
    services.job_run(job_id=make_job(alice).pk)
    page = admin_client.get(reverse("admin:generator_modelversion_dashboard")).content.decode()
    assert 'data-testid="model-dashboard"' in page and "26-style network" in page
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nobody there: the page says so instead of failing
    from artstudio.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        workers = admin_client.get(reverse("admin:generator_workers"))
    finally:
        app.conf.broker_url = saved
    assert workers.status_code == 200 and "cannot be reached" in workers.content.decode()
    for url in (
        reverse("admin:generator_modelversion_dashboard"),
        reverse("admin:generator_workers"),
        reverse("admin:generator_modelversion_changelist"),
    ):
        assert alice_client.get(url).status_code == 302  # to the admin's login: not staff


def test_an_admin_adds_hides_renames_and_reorders_presets(admin_client, alice_client):
    response = admin_client.post(
        reverse("admin:generator_preset_add"),
        {
            "name": "Water Lilies",
            "slug": "",
            "credit": "Claude Monet",
            "description": "",
            "painting_file": SimpleUploadedFile("lilies.png", picture_bytes((300, 200))),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lilies = Preset.objects.get(slug="water-lilies")
    assert lilies.kind == Preset.Kind.PAINTING and lilies.painting and lilies.thumbnail

    starry = Preset.objects.get(slug="starry-night")
    starry.hidden = True
    starry.save()
    Preset.objects.filter(slug="udnie").update(name="Udnie (Picabia)", position=0)
    lilies.position = 0
    lilies.save()
    Preset.objects.exclude(slug__in=["udnie", "water-lilies"]).update(position=10)
    html = alice_client.get(reverse("generator:studio")).content.decode()
    assert 'id="preset-starry-night"' not in html and "Udnie (Picabia)" in html
    positions = [html.index(f'id="preset-{slug}"') for slug in ("udnie", "water-lilies", "the-scream")]
    assert positions == sorted(positions)


def test_a_painting_preset_paints_its_own_painting(alice, admin_client):
    admin_client.post(
        reverse("admin:generator_preset_add"),
        {
            "name": "Stripes",
            "slug": "stripes",
            "credit": "",
            "description": "",
            "painting_file": SimpleUploadedFile("stripes.png", picture_bytes((200, 200))),
        },
    )
    artwork = services.job_run(job_id=make_job(alice, style_preset="stripes").pk)
    assert artwork is not None and artwork.title == "Stripes"
    assert set(artwork.model_versions.values_list("kind", flat=True)) == {"magenta_predictor", "magenta_transformer"}


def test_a_hidden_preset_cannot_be_chosen(alice):
    Preset.objects.filter(slug="udnie").update(hidden=True)
    with pytest.raises(Exception, match="no style called"):
        make_job(alice, style_preset="udnie")


# --- the command line ---------------------------------------------------------------------------


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("models", *args, stdout=out)
    return out.getvalue()


def test_the_command_line_mirrors_every_admin_action(tmp_path):
    listing = run("list")
    assert listing.count("*") == 4 and "multistyle26" in listing

    out = run(
        "upload",
        str(transformer_net_checkpoint(tmp_path / "candy.pth")),
        "--kind",
        "transformer_net",
        "--slot",
        "candy",
        "--label",
        "Candy",
    )
    version = ModelVersion.objects.get(slot="candy")
    assert version.status == ModelVersion.Status.READY and f"{version.pk:>4}" in out and version.is_active

    second = transformer_net_checkpoint(tmp_path / "candy2.pth", seed=5)
    run("upload", str(second), "--kind", "transformer_net", "--slot", "candy", "--label", "Candy 2")
    newer = ModelVersion.objects.get(label="Candy 2")
    assert "*" in run("activate", str(newer.pk)).split()[0]
    run("rollback", "transformer_net", "--slot", "candy")
    assert registry.active_versions().get(slot="candy") == version
    assert "transformer_net[candy]" in run("list", "--kind", "transformer_net")


def test_the_command_line_says_why_an_upload_was_refused(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"junk" * 100)
    with pytest.raises(CommandError, match="rejected: This file is not a PyTorch or safetensors weights file"):
        run("upload", str(tmp_path / "junk.pth"), "--kind", "multistyle26")
    huge = tmp_path / "huge.pth"
    with open(huge, "wb") as f:
        f.truncate(2 * 1024**3)  # sparse: takes no disk space, and is never read
    with pytest.raises(CommandError, match="at most"):
        run("upload", str(huge), "--kind", "multistyle26")
    with pytest.raises(CommandError, match="no earlier version"):
        run("rollback", "magenta_predictor")
    assert not Path(tmp_path / "missing.pth").exists()
    with pytest.raises(CommandError, match="Cannot read"):
        run("upload", str(tmp_path / "missing.pth"), "--kind", "multistyle26")


def test_only_a_staff_members_weights_upload_may_exceed_the_picture_limit(
    admin_client, alice_client, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr("generator.tasks.validate_model_version.apply_async", lambda *a, **k: None)
    settings.ARTSTUDIO_MAX_UPLOAD_BYTES = 10_000  # far below a checkpoint's 6.7 MB
    checkpoint = transformer_net_checkpoint(tmp_path / "candy.pth").read_bytes()
    admin_client.post(
        reverse("admin:generator_modelversion_add"),
        {
            "kind": "transformer_net",
            "slot": "candy",
            "label": "Candy",
            "weights_file": SimpleUploadedFile("candy.pth", checkpoint),
        },
    )
    version = ModelVersion.objects.get(slot="candy")
    assert version.size == len(checkpoint) and version.weights.size == len(checkpoint)  # kept whole

    from generator.uploads import TruncatingUploadHandler

    seen = []
    real = TruncatingUploadHandler.receive_data_chunk
    monkeypatch.setattr(
        TruncatingUploadHandler,
        "receive_data_chunk",
        lambda self, data, start: seen.append(r := real(self, data, start)) or r,
    )
    alice_client.post(reverse("generator:studio"), {"weights_file": SimpleUploadedFile("x.pth", checkpoint)})
    assert sum(len(chunk) for chunk in seen if chunk) == settings.ARTSTUDIO_MAX_UPLOAD_BYTES + 1
