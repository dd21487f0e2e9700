"""A style trained from a painting in a worker: asked for with every input checked first, trained in slices that
give the worker to artists' jobs, cancelled, resumed after a dead worker, and registered as a version that
validates, compares, activates and paints in the studio. (A real worker killed mid-run: tests/integration.)"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone
from factories import files_under, make_job, noise_bytes, picture_bytes, upload
from safetensors.torch import load_file

from generator import registry, selectors, services
from generator.ml import compare
from generator.models import Job, ModelComparison, ModelVersion, Preset, TrainingRun
from generator.services import style_presets, training_runs

pytestmark = pytest.mark.django_db

TINY = {"steps": 4, "size": 64, "batch": 1, "painting_side": 64, "sample_side": 64, "sample_every": 2}
PAINTING = compare.SHEET_PAINTINGS[0]  # The Great Wave


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The runs sent to a worker (instead of reaching Redis)."""
    runs: list[int] = []
    monkeypatch.setattr("generator.tasks.train_style.apply_async", lambda args, queue: runs.append((args[0], queue)))
    return runs


@pytest.fixture
def small_sheet(settings):
    settings.ARTSTUDIO_COMPARE_SIDE = 96  # the measures work alike on small pictures


def a_photo() -> object:
    return upload(noise_bytes((160, 120)), "street.png")


def wave_run(**changes) -> TrainingRun:
    asked = {
        "name": "Wave",
        "kind": "transformer_net",
        "slot": "wave",
        "painting": upload(PAINTING.read_bytes(), "wave.jpg", "image/jpeg"),
        "credit": "Katsushika Hokusai, c. 1831",
        "photos": [a_photo()],
        "shipped_photos": False,
        "options": TINY,
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.training_request(**{**asked, **changes})


def test_a_few_steps_make_a_version_that_validates_compares_activates_and_paints(alice, sent, small_sheet, no_broker):
    run = wave_run()
    assert sent == [(run.pk, "gpu")] and run.status == TrainingRun.Status.QUEUED and run.steps is None

    run = services.training_work(run_id=run.pk, device="cpu")

    assert run.status == TrainingRun.Status.DONE, run.error
    assert run.step == run.steps == 4 and run.steps_per_second > 0 and run.attempts == 1 and run.device == "cpu"
    assert [point[0] for point in run.losses] == [1, 2, 3, 4] and all(p[4] > 0 for p in run.losses)
    assert [s["step"] for s in run.samples] == [0, 2, 4] and all(len(s["pictures"]) == 2 for s in run.samples)
    assert not run.checkpoint and not training_runs.checkpoint_path(run.pk).exists()  # done with it

    version = run.version
    assert version.status == ModelVersion.Status.READY and version.source == ModelVersion.Source.TRAINING
    assert not version.is_active and version.label == "Wave" and version.credit == "Katsushika Hokusai, c. 1831"
    assert version.sample and version.metrics["training"]["steps"] == 4
    comparison = version.comparisons.get()
    assert comparison.status == ModelComparison.Status.DONE and comparison.against is None
    assert "style" in comparison.results["mean"]["candidate"]  # its pictures measured against the painting
    assert version.metrics["comparison"]["id"] == comparison.pk
    preset = Preset.objects.get(slug="wave")  # a preset that shows once a version of it is active
    assert preset.kind == Preset.Kind.SINGLE_STYLE and preset.credit == version.credit and preset.thumbnail

    services.model_version_activate(version=version)
    job = make_job(alice, style_preset="wave", max_side=512)
    artwork = services.job_run(job_id=job.pk)
    assert artwork is not None and list(artwork.model_versions.all()) == [version]


def test_a_shipped_style_is_fine_tuned_from_its_own_pictures_and_only_its_row_changes(sent, small_sheet):
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = services.training_request(
            name="Stained Glass, keeps the photo",
            kind="multistyle26",
            style_index=3,
            photos=[a_photo()],
            shipped_photos=False,
            options=TINY,
        )
    assert run.start_from == active and not run.painting

    run = services.training_work(run_id=run.pk, device="cpu")

    assert run.status == TrainingRun.Status.DONE, run.error
    before, after = load_file(active.weights.path), load_file(run.version.weights.path)
    changed = {k for k in before if not (before[k] == after[k]).all()}
    assert changed and all(k.endswith((".gamma", ".beta")) for k in changed)
    for k in changed:  # style 3's scale and shift alone
        assert (before[k][:3] == after[k][:3]).all() and (before[k][4:] == after[k][4:]).all()
    comparison = run.version.comparisons.get()
    assert comparison.against == active and comparison.results["cases"] == len(compare.SHEET_PHOTOS)
    assert list(comparison.results["styles"]) == ["Stained Glass"]


def new_style_run(**changes) -> TrainingRun:
    return wave_run(
        **{"kind": "multistyle26", "new_style": True, "slot": "great-wave", "name": "The Great Wave", **changes}
    )


def test_a_new_style_is_added_to_the_26_style_network_and_shows_once_its_version_is_active(
    alice, sent, small_sheet, no_broker
):
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    assert active.styles == 26
    run = new_style_run()
    assert run.new_style and run.style_index == 26 and run.start_from == active and run.slot == "great-wave"

    run = services.training_work(run_id=run.pk, device="cpu")

    assert run.status == TrainingRun.Status.DONE, run.error
    version = run.version
    assert version.styles == 27 and not version.is_active and version.label == "The Great Wave"
    before, after = load_file(active.weights.path), load_file(version.weights.path)
    for k, v in before.items():  # the 26 styles and every shared weight bit for bit; a 27th row learned
        if k.endswith((".gamma", ".beta")):
            assert after[k].shape[0] == 27 and (after[k][:26] == v).all()
        else:
            assert (after[k] == v).all()
    assert any(not (after[k][26] == before[k].mean(dim=0)).all() for k in before if k.endswith(".gamma"))
    preset = Preset.objects.get(slug="great-wave")
    assert preset.kind == Preset.Kind.NETWORK and preset.network_index == 26 and preset.thumbnail
    assert preset.name == "The Great Wave" and preset.credit == "Katsushika Hokusai, c. 1831"
    assert not selectors.visible_presets().filter(slug="great-wave").exists()  # the active version lacks it
    assert style_presets.measured_with(preset) is None  # nor is it measured before it can paint
    comparison = version.comparisons.get()  # against the arbitrary-style path painting the same painting
    assert comparison.status == ModelComparison.Status.DONE and comparison.against == active
    assert list(comparison.results["styles"]) == ["The Great Wave"]
    assert {"style", "palette"} <= set(comparison.results["mean"]["reference"])

    with TestCase.captureOnCommitCallbacks(execute=True):  # another new style from the same version: its own row 26
        other = new_style_run(slot="red-fuji", name="Red Fuji")
    assert other.style_index == 26 and version.learned == {"26": "great-wave"}

    services.model_version_activate(version=version, confirmed=True)  # 4 steps lose to the arbitrary path: asked
    assert selectors.visible_presets().filter(slug="great-wave").exists()
    assert style_presets.measured_with(preset) == version.sha256[:16]
    artwork = services.job_run(job_id=make_job(alice, style_preset="great-wave", max_side=512).pk)
    assert artwork is not None and list(artwork.model_versions.all()) == [version]
    with TestCase.captureOnCommitCallbacks(execute=True):  # the next new style is the 28th
        assert new_style_run(slot="blue-fuji").style_index == 27

    services.model_version_rollback(kind="multistyle26")  # back to 26 styles: the preset hides again
    assert not selectors.visible_presets().filter(slug="great-wave").exists()
    with pytest.raises(ValidationError):
        make_job(alice, style_preset="great-wave")


def test_a_learned_row_paints_only_the_preset_its_version_learned_it_for():
    shipped = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    wave = Preset.objects.create(slug="great-wave", name="The Great Wave", kind="network", network_index=26)
    fuji = Preset.objects.create(slug="red-fuji", name="Red Fuji", kind="network", network_index=26)
    stained = Preset.objects.get(kind="network", network_index=3)
    with_wave = ModelVersion(kind="multistyle26", styles=27, learned={"26": "great-wave"})
    with_fuji = ModelVersion(kind="multistyle26", styles=27, learned={"26": "red-fuji"})
    assert registry.holds(with_wave, wave) and not registry.holds(with_wave, fuji)
    assert registry.holds(with_fuji, fuji) and not registry.holds(with_fuji, wave)
    assert registry.holds(shipped, stained) and not registry.holds(shipped, wave) and not registry.holds(None, stained)
    held = Preset.objects.filter(registry.held_presets(with_fuji), kind="network")
    assert set(held.values_list("slug", flat=True)) >= {"red-fuji", stained.slug} and wave not in held
    assert not selectors.visible_presets().filter(slug__in=["great-wave", "red-fuji"]).exists()  # the shipped one
    with pytest.raises(registry.NoActiveVersion, match="The Great Wave"):
        registry.preset_style(wave)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slot": ""}, "slot"),
        ({"slot": "the-scream"}, "slot"),  # a preset's short name
        ({"painting": None}, "painting"),  # a new style learns from a painting
    ],
)
def test_a_new_style_needs_a_free_short_name_and_a_painting(sent, isolated_data, changes, field):
    with pytest.raises(ValidationError) as refused:
        new_style_run(**changes)
    assert field in refused.value.message_dict, refused.value.message_dict
    assert not TrainingRun.objects.exists() and sent == []


def test_a_run_gives_its_worker_to_a_waiting_job_and_resumes_from_its_checkpoint(alice, sent, small_sheet, no_broker):
    run = wave_run(options={**TINY, "steps": 6})
    make_job(alice, style_preset="pop-outline")  # an artist's job waits

    run = services.training_work(run_id=run.pk, device="cpu", hold_seconds=0, queues=["cpu"])

    assert run.status == TrainingRun.Status.QUEUED and run.step == 1 and not run.worker
    assert training_runs.checkpoint_path(run.pk).exists() and run.checkpoint
    assert sent == [(run.pk, "gpu"), (run.pk, "gpu")]  # behind the job, on the same queue
    Job.objects.update(status=Job.Status.SUCCEEDED)  # the job ran
    first_started = run.started

    run = services.training_work(run_id=run.pk, device="cpu", hold_seconds=0, queues=["cpu"])

    assert run.status == TrainingRun.Status.DONE, run.error
    assert run.attempts == 2 and [p[0] for p in run.losses] == [1, 2, 3, 4, 5, 6]  # went on from step 1
    assert run.started == first_started  # its first start
    assert [s["step"] for s in run.samples] == [0, 2, 4, 6]


def test_cancel_stops_a_run_within_a_second_of_steps_and_registers_nothing(sent, isolated_data):
    run = wave_run(options={**TINY, "steps": 100_000})
    asked_at: list[int] = []

    def cancel_at_step_two(state: TrainingRun) -> None:
        if state.step >= 2 and not asked_at:
            asked_at.append(state.step)
            services.training_cancel(run=state)

    run = services.training_work(run_id=run.pk, device="cpu", progress=cancel_at_step_two)

    assert run.status == TrainingRun.Status.CANCELLED and run.finished and run.version is None
    assert run.step < 100_000 and not ModelVersion.objects.filter(source=ModelVersion.Source.TRAINING).exists()
    assert not training_runs.checkpoint_path(run.pk).exists()
    assert not Preset.objects.filter(slug="wave").exists()

    waiting = wave_run(slot="wave-2")
    assert services.training_cancel(run=waiting).status == TrainingRun.Status.CANCELLED  # never started
    assert services.training_work(run_id=waiting.pk, device="cpu") is None  # its message finds nothing to do


def test_a_run_whose_worker_died_goes_back_to_the_queue_and_is_sent_again(sent, settings):
    settings.ARTSTUDIO_MAX_ATTEMPTS = 3
    old = timezone.now() - timedelta(hours=1)
    dead = {"status": TrainingRun.Status.RUNNING, "worker": "elsewhere:1", "heartbeat": old}
    runs = [wave_run(slot=f"wave-{i}") for i in range(4)]
    sent.clear()
    TrainingRun.objects.filter(pk=runs[0].pk).update(**dead, attempts=1, step=7)
    TrainingRun.objects.filter(pk=runs[1].pk).update(**dead, attempts=1, cancel_requested=True)
    TrainingRun.objects.filter(pk=runs[2].pk).update(**dead, attempts=3)
    TrainingRun.objects.filter(pk=runs[3].pk).update(**{**dead, "heartbeat": timezone.now()}, attempts=1)

    assert services.training_reap() == {"requeued": 1, "cancelled": 1, "failed": 1}

    statuses = [TrainingRun.objects.get(pk=r.pk).status for r in runs]
    assert statuses == ["queued", "cancelled", "failed", "running"]  # the last one's worker is alive
    assert sent == [(runs[0].pk, "gpu")] and TrainingRun.objects.get(pk=runs[0].pk).step == 7  # kept its place


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"painting": upload(b"not a picture", "wave.jpg", "image/jpeg")}, "painting"),
        ({"painting": None}, "painting"),
        ({"options": {"steps": 0}}, "options"),
        ({"options": {"lr": "fast"}}, "options"),
        ({"options": {"learning_rate": 1}}, "options"),
        ({"slot": ""}, "slot"),
        ({"slot": "the-scream"}, "slot"),  # a painting preset's short name
        ({"name": "  "}, "name"),
        ({"kind": "magenta_predictor"}, "kind"),
        ({"kind": "multistyle26", "style_index": 26}, "style_index"),
        ({"photos": [upload(picture_bytes()[:40], "cut.png")]}, "photos"),
        ({"photos": []}, "photos"),  # and no shipped photos either
    ],
)
def test_bad_input_is_refused_before_anything_is_written_or_queued(sent, isolated_data, changes, field):
    with pytest.raises(ValidationError) as refused:
        wave_run(**changes)
    assert field in refused.value.message_dict, refused.value.message_dict
    assert not TrainingRun.objects.exists() and sent == []
    assert files_under(isolated_data / "training") == []


def test_the_settings_left_out_are_the_defaults_for_the_workers_device(sent):
    run = wave_run(options={"size": 64, "batch": 1, "painting_side": 64, "sample_side": 64})
    assert run.options == {"size": 64, "batch": 1, "painting_side": 64, "sample_side": 64}

    def stop_soon(state: TrainingRun) -> None:
        services.training_cancel(run=state)

    run = services.training_work(run_id=run.pk, device="cpu", progress=stop_soon)
    assert run.steps == 300 and run.options["steps"] == 300 and run.options["lr"] == 2e-3  # the CPU's defaults


def test_the_command_trains_here_with_a_progress_bar_and_reports_the_version(tmp_path, small_sheet):
    photo = tmp_path / "street.png"
    photo.write_bytes(noise_bytes((160, 120)))
    settings = [f"--set={name}={value}" for name, value in TINY.items()]
    out = io.StringIO()

    call_command(
        "models", "train", "--name", "Wave", "--slot", "wave", "--painting", str(PAINTING), "--photo", str(photo),
        "--no-shipped-photos", "--credit", "Hokusai", "--device", "cpu", *settings, stdout=out,
    )  # fmt: skip

    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.DONE and run.step == 4 and run.credit == "Hokusai"
    said = out.getvalue()
    assert f"training run {run.pk}: 4 steps" in said and f"{run.version.pk}  transformer_net[wave]" in said
    assert f"comparison {run.version.comparisons.get().pk}: version {run.version.pk}" in said

    with pytest.raises(CommandError, match="The setting steps must be"):
        call_command("models", "train", "--name", "Again", "--style", "3", "--set", "steps=-1", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("models", "train", "--name", "Again", "--slot", "x", "--painting", str(tmp_path / "gone.jpg"))
    assert TrainingRun.objects.count() == 1


def test_the_command_queues_a_new_style_for_a_worker(sent):
    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command(
            "models", "train", "--name", "The Great Wave", "--new-style", "great-wave", "--painting", str(PAINTING),
            "--queue", stdout=out,
        )  # fmt: skip
    run = TrainingRun.objects.get()
    assert run.kind == "multistyle26" and run.new_style and run.style_index == 26 and run.slot == "great-wave"
    assert sent == [(run.pk, "gpu")] and "waiting for a worker" in out.getvalue()


def test_the_api_starts_follows_and_cancels_a_run_for_admins_only(admin_user, alice, sent, small_sheet):
    from django.test import Client

    from api import services as tokens

    def bearer(user, scopes):
        return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.token_create(owner=user, name='t', scopes=scopes)[1]}")

    api = bearer(admin_user, ["read", "write", "admin"])
    asked = {
        "name": "Wave",
        "kind": "transformer_net",
        "slot": "wave",
        "painting": upload(PAINTING.read_bytes(), "wave.jpg", "image/jpeg"),
        "photos": [upload(noise_bytes((160, 120)), "a.png"), upload(noise_bytes((120, 160)), "b.png")],
        "shipped_photos": "false",
        "options": json.dumps(TINY),
    }
    bad = api.post("/api/v1/admin/training-runs/", {**asked, "options": json.dumps({"steps": 0})})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "options"
    for file in (asked["painting"], *asked["photos"]):
        file.seek(0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        made = api.post("/api/v1/admin/training-runs/", asked)
    assert made.status_code == 202, made.content.decode()
    body = made.json()
    assert body["status"] == "queued" and body["requested_by"] == admin_user.username and sent == [(body["id"], "gpu")]
    run = TrainingRun.objects.get(pk=body["id"])
    assert len(run.photos) == 2 and run.options == TINY and not run.shipped_photos

    run = services.training_work(run_id=run.pk, device="cpu")
    shown = api.get(f"/api/v1/admin/training-runs/{run.pk}/").json()
    assert shown["status"] == "done" and shown["losses"]["step"] == [1, 2, 3, 4] and len(shown["losses"]["total"]) == 4
    assert shown["version"] == run.version_id and shown["comparison"] == run.version.comparisons.get().pk
    picture = api.get(shown["samples"][0]["pictures"][1])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
    assert api.get(f"/api/v1/admin/training-runs/{run.pk}/sample/?step=1&photo=0").status_code == 404  # no such step
    assert api.post(f"/api/v1/admin/training-runs/{run.pk}/cancel/").status_code == 409  # it has ended

    waiting = wave_run(slot="wave-2")
    cancelled = api.post(f"/api/v1/admin/training-runs/{waiting.pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    listed = api.get("/api/v1/admin/training-runs/?status=cancelled").json()["results"]
    assert [r["id"] for r in listed] == [waiting.pk]
    painting = upload(PAINTING.read_bytes(), "wave.jpg", "image/jpeg")
    new = {
        "name": "The Great Wave",
        "kind": "multistyle26",
        "new_style": "true",
        "slot": "great-wave",
        "painting": painting,
    }
    with TestCase.captureOnCommitCallbacks(execute=True):
        added = api.post("/api/v1/admin/training-runs/", new)
    assert added.status_code == 202, added.content.decode()
    assert (
        added.json()["new_style"] is True and added.json()["style_index"] == 26 and added.json()["slot"] == "great-wave"
    )
    for outsider in (bearer(alice, ["read", "write"]), bearer(admin_user, ["read", "write"])):
        assert outsider.get(f"/api/v1/admin/training-runs/{run.pk}/").status_code == 403
        assert outsider.post(f"/api/v1/admin/training-runs/{waiting.pk}/cancel/").status_code == 403
