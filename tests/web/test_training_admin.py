"""Training runs in the admin: started from the add form, watched on a live page (status.json, the samples),
cancelled; only staff reach any of it. (The page in a real browser: tests/browser/test_training_admin_browser.py.)"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client, TestCase
from django.urls import reverse
from factories import files_under, picture_bytes, upload
from PIL import Image

from generator.models import ModelComparison, ModelVersion, Preset, TrainingRun
from tests.people import ROOT

pytestmark = pytest.mark.django_db

ADD = "admin:generator_trainingrun_add"


@pytest.fixture
def root(db):
    return ROOT.create()


@pytest.fixture
def admin_client(root) -> Client:
    client = Client()  # its own: alice_client is pytest-django's `client`
    client.force_login(root)
    return client


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, str]]:
    """The runs sent to a worker (instead of reaching Redis)."""
    runs: list[tuple[int, str]] = []
    monkeypatch.setattr("generator.tasks.train_style.apply_async", lambda args, queue: runs.append((args[0], queue)))
    return runs


def webp_bytes(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 32), color).save(buf, format="WEBP")
    return buf.getvalue()


def a_run(**fields) -> TrainingRun:
    return TrainingRun.objects.create(**{"name": "Wave", "kind": "transformer_net", "slot": "wave", **fields})


def a_running_run() -> TrainingRun:
    """A run half-way, as a worker's reports leave it: losses every 10 steps, samples at steps 0 and 50."""
    samples = [
        {
            "step": step,
            "pictures": [
                default_storage.save(f"training/samples/run-x-{step}-{i}.webp", ContentFile(webp_bytes((step, i, 9))))
                for i in range(2)
            ],
        }
        for step in (50, 0)  # as a resumed run may keep them: the page sorts them
    ]
    losses = [[s, 1.0 / s, 2.0, 0.1, 4.0 / s + 2.1] for s in range(10, 60, 10)]
    return a_run(
        status="running", step=50, steps=300, steps_per_second=2.5, seconds=20.0, losses=losses, samples=samples
    )


def form(**changes) -> dict:
    data = {
        "name": "The Great Wave",
        "kind": "transformer_net",
        "style_index": "",
        "slot": "great-wave",
        "start_from": "",
        "painting_preset": "",
        "painting": upload(picture_bytes((200, 140)), "wave.png"),
        "credit": "Katsushika Hokusai, c. 1831",
        "photos": [upload(picture_bytes((160, 120), color=(30, 90, 200)), f"street-{i}.png") for i in range(2)],
        "steps": "50",
        "size": "",
        "lr": "",
        "style_weight": "",
        "content_weight": "",
    }
    return {**data, **changes}  # shipped_photos unchecked: a checkbox left out of the post is off


def test_an_admin_starts_a_single_style_run_with_an_uploaded_painting_and_photos(admin_client, root, sent):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(reverse(ADD), form())

    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:generator_trainingrun_change", args=[run.pk]
    )
    assert sent == [(run.pk, "gpu")] and run.status == TrainingRun.Status.QUEUED
    assert run.requested_by == root and run.kind == "transformer_net" and run.slot == "great-wave"
    assert run.name == "The Great Wave" and run.credit == "Katsushika Hokusai, c. 1831"
    assert run.painting and len(run.photos) == 2 and not run.shipped_photos  # both photos of the one input
    assert run.options == {"steps": 50}  # the blank settings are left to the worker's device
    painting = admin_client.get(reverse("admin:generator_trainingrun_painting", args=[run.pk]))
    with Image.open(io.BytesIO(b"".join(painting.streaming_content))) as img:
        assert img.size == (200, 140)  # the painting it learns from, on its page


def test_a_shipped_style_is_fine_tuned_from_its_own_pictures_with_the_settings_given(admin_client, sent):
    style = Preset.objects.get(kind=Preset.Kind.NETWORK, network_index=3)
    changes = {"kind": "multistyle26", "style_index": "3", "slot": "", "painting": "", "photos": []}
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(reverse(ADD), form(**changes, shipped_photos="on", steps="", lr="0.001", size="128"))

    run = TrainingRun.objects.get()
    assert run.style_index == 3 and not run.painting and run.shipped_photos and run.photos == []
    assert run.start_from == ModelVersion.objects.get(kind="multistyle26", is_active=True)
    assert run.options == {"lr": 0.001, "size": 128} and sent == [(run.pk, "gpu")]
    listed = admin_client.get(reverse("admin:generator_trainingrun_changelist")).content.decode()
    assert style.name in listed and "0 / –" in listed


def test_an_admin_adds_a_new_style_to_the_26_style_network_from_a_painting(admin_client, sent):
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(reverse(ADD), form(kind="new_style"))

    run = TrainingRun.objects.get()
    assert run.kind == "multistyle26" and run.new_style and run.style_index == 26 and run.slot == "great-wave"
    assert run.start_from == ModelVersion.objects.get(kind="multistyle26", is_active=True) and run.painting
    listed = admin_client.get(reverse("admin:generator_trainingrun_changelist")).content.decode()
    assert "new style The Great Wave" in listed and sent == [(run.pk, "gpu")]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"painting": upload(b"not a picture at all", "wave.png")}, "painting", "not a picture"),
        ({"painting": ""}, "painting", "learns from a painting"),
        ({"photos": []}, "photos", "needs content photos"),
        ({"slot": "the-scream"}, "slot", "already has the short name"),  # a painting preset's
        ({"kind": "multistyle26", "slot": ""}, "style_index", "Choose which"),
        ({"kind": "new_style", "slot": ""}, "slot", "needs a short name"),
        ({"kind": "new_style", "painting": ""}, "painting", "learns from a painting"),
        ({"kind": "new_style", "slot": "the-scream"}, "slot", "already has the short name"),
        ({"size": "130"}, "size", "multiple of step size 4"),
    ],
)
def test_bad_input_shows_on_the_form_and_makes_nothing(admin_client, sent, isolated_data, changes, field, says):
    response = admin_client.post(reverse(ADD), form(**changes))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert says in " ".join(errors.get(field, [])), errors
    assert says in response.content.decode()
    assert not TrainingRun.objects.exists() and sent == []
    assert files_under(isolated_data / "training") == []


def test_the_add_form_names_the_styles_paintings_and_the_defaults_of_both_devices(admin_client):
    page = admin_client.get(reverse(ADD)).content.decode()

    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page and "multiple" in page
    assert "Stained Glass" in page and "Start training" in page
    assert "1500 on a CPU, 4000 on a GPU" in page  # a fine-tune's steps (TrainSettings.defaults)
    assert "300 on a CPU, 20000 on a GPU" in page  # a single-style network's


def test_status_json_has_the_figures_the_chart_and_the_samples_the_page_draws(admin_client):
    run = a_running_run()

    data = admin_client.get(reverse("admin:generator_trainingrun_status", args=[run.pk])).json()

    assert data["status"] == "running" and data["finished"] is False
    assert (data["step"], data["steps"], data["steps_per_second"]) == (50, 300, 2.5)
    assert data["seconds_left"] == pytest.approx(100.0)  # 250 steps at 2.5 a second
    assert data["text"]["progress"] == "50 / 300" and data["text"]["left"] == "1 min 40 s"
    assert data["text"]["elapsed"] == "20 s" and data["text"]["status"] == "Training"
    assert data["losses"]["step"] == [10, 20, 30, 40, 50] and data["losses"]["total"][0] == pytest.approx(2.5)
    assert set(data["losses"]) == {"step", "style", "content", "tv", "total"}
    assert [s["step"] for s in data["samples"]] == [0, 50]  # step 0 first
    assert data["error"] == "" and data["version"] is None and data["comparison"] is None

    picture = admin_client.get(data["samples"][1]["pictures"][1])
    assert picture["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(b"".join(picture.streaming_content))) as img:
        assert img.getpixel((0, 0))[:2] == pytest.approx((50, 1), abs=3)  # step 50's second photo
    assert admin_client.get(reverse("admin:generator_trainingrun_sample", args=[run.pk, 50, 2])).status_code == 404
    assert admin_client.get(reverse("admin:generator_trainingrun_sample", args=[run.pk, 7, 0])).status_code == 404


def test_a_finished_run_links_its_version_and_comparison_and_says_why_one_failed(admin_client):
    version = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    comparison = ModelComparison.objects.create(version=version, side=96, status="done", verdict="same")
    done = a_run(status="done", step=300, steps=300, version=version)
    failed = a_run(slot="x", status="failed", error="The painting was too dark to learn from.")

    data = admin_client.get(reverse("admin:generator_trainingrun_status", args=[done.pk])).json()
    assert data["finished"] is True and data["seconds_left"] is None
    assert data["version"]["url"] == reverse("admin:generator_modelversion_change", args=[version.pk])
    assert data["comparison"]["url"] == reverse("admin:generator_modelcomparison_change", args=[comparison.pk])
    page = admin_client.get(reverse("admin:generator_trainingrun_change", args=[done.pk])).content.decode()
    assert data["comparison"]["url"] in page and "No clear difference" in page
    assert reverse("admin:generator_trainingrun_cancel", args=[done.pk]) not in page  # nothing to cancel

    page = admin_client.get(reverse("admin:generator_trainingrun_change", args=[failed.pk])).content.decode()
    assert "The painting was too dark to learn from." in page


def test_the_run_page_has_the_chart_the_samples_and_while_unfinished_the_cancel_button(admin_client):
    run = a_running_run()

    page = admin_client.get(reverse("admin:generator_trainingrun_change", args=[run.pk])).content.decode()

    assert 'id="training-chart"' in page and 'id="training-data"' in page and "uPlot.iife.min.js" in page
    assert reverse("admin:generator_trainingrun_status", args=[run.pk]) in page
    for step in (0, 50):
        for i in (0, 1):
            assert reverse("admin:generator_trainingrun_sample", args=[run.pk, step, i]) in page
    assert page.index("sample/0/0.webp") < page.index("sample/50/0.webp")  # step 0 first, the newest last
    assert f'action="{reverse("admin:generator_trainingrun_cancel", args=[run.pk])}"' in page
    assert "<script>" not in page and 'style="' not in page  # the Content-Security-Policy allows neither
    assert 'name="_save"' not in page  # read-only: the worker changes a run, not the admin


def test_cancel_cancels_a_queued_run_and_a_get_changes_nothing(admin_client, root):
    run = a_run()
    cancel = reverse("admin:generator_trainingrun_cancel", args=[run.pk])

    assert admin_client.get(cancel).status_code == 405
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED

    response = admin_client.post(cancel, follow=True)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELLED and run.finished
    assert response.redirect_chain == [(reverse("admin:generator_trainingrun_change", args=[run.pk]), 302)]
    assert "is cancelled" in response.content.decode()


def test_only_staff_see_start_or_cancel_runs(alice_client, sent):
    run = a_running_run()
    urls = [
        reverse("admin:generator_trainingrun_changelist"),
        reverse(ADD),
        reverse("admin:generator_trainingrun_change", args=[run.pk]),
        reverse("admin:generator_trainingrun_status", args=[run.pk]),
        reverse("admin:generator_trainingrun_sample", args=[run.pk, 0, 0]),
    ]
    for url in urls:
        response = alice_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url

    posted = [
        alice_client.post(reverse(ADD), form()),
        alice_client.post(reverse("admin:generator_trainingrun_cancel", args=[run.pk])),
    ]

    assert all(r.status_code == 302 and r["Location"].startswith(reverse("admin:login")) for r in posted)
    assert list(TrainingRun.objects.values_list("pk", "status")) == [(run.pk, "running")] and sent == []
    assert not TrainingRun.objects.get().cancel_requested


def test_a_staff_member_without_the_training_permissions_is_refused(django_user_model, sent):
    run = a_run()
    clerk = django_user_model.objects.create_user("clerk", "clerk@example.com", "c-long-password-5", is_staff=True)
    client = Client()
    client.force_login(clerk)

    assert client.get(reverse("admin:generator_trainingrun_status", args=[run.pk])).status_code == 403
    assert client.get(reverse("admin:generator_trainingrun_sample", args=[run.pk, 0, 0])).status_code == 403
    assert client.post(reverse("admin:generator_trainingrun_cancel", args=[run.pk])).status_code == 403
    assert client.post(reverse(ADD), form()).status_code == 403
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED and TrainingRun.objects.count() == 1 and sent == []
