"""The model registry: the database's active version paints; upload, validate, activate, roll back."""

from __future__ import annotations

import io
import pickle
import threading
from pathlib import Path

import pytest
import torch
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import TestCase
from factories import make_job, transformer_net_checkpoint
from safetensors.torch import load_file

from generator import registry, selectors, services
from generator.ml import files, weights
from generator.ml.kinds import STUDIO_KINDS
from generator.models import Artwork, Job, ModelVersion, Preset
from tests.shared_weights import SHIPPED

pytestmark = pytest.mark.django_db


def weights_upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")


def upload(path: Path, *, kind: str = "transformer_net", slot: str = "mosaic", **options) -> ModelVersion:
    """Upload and validate in this process, running what waits for the commit (the files' clean-up)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        version = services.model_version_upload(
            kind=kind,
            slot=slot,
            label=options.pop("label", "Mosaic"),
            upload=weights_upload(path),
            validate="now",
            **options,
        )
    version.refresh_from_db()
    return version


def model_files(media: Path) -> list[Path]:
    return sorted(p for p in (media / "models").rglob("*") if p.is_file())


def another_multistyle(tmp_path: Path, factor: float = 1.02) -> Path:
    """The shipped 26-style network with every weight scaled: a second, different version of that kind."""
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    state = {k: v * factor for k, v in load_file(active.weights.path).items()}
    path = tmp_path / "multistyle-v2.safetensors"
    files.save_state(state, path)
    return path


# --- the database chooses -------------------------------------------------------------------------


def test_the_first_start_imports_every_shipped_network_as_the_active_version(studio_models, isolated_data):
    active = registry.active_versions()
    assert sorted(active.values_list("kind", flat=True)) == sorted(k for k, _ in weights.SOURCES if k in STUDIO_KINDS)
    for version in active:
        assert version.source == ModelVersion.Source.PACKAGE and version.status == ModelVersion.Status.READY
        assert files.file_sha256(Path(version.weights.path)) == version.sha256 and version.licence
    assert Preset.objects.filter(shipped=True).count() == 31
    # A second start changes nothing
    assert [v.pk for v in services.models_import_shipped(kinds=STUDIO_KINDS)] == [v.pk for v in studio_models]
    assert ModelVersion.objects.count() == 5 and Preset.objects.count() == 31  # 4 kinds, and the tuned network


def test_the_first_start_paints_with_the_tuned_26_style_network_and_keeps_the_wheels_to_roll_back_to(
    studio_models, tmp_path
):
    [tuned] = weights.tuned(["multistyle26"])
    original_sha = weights.shipped(SHIPPED, ["multistyle26"])[("multistyle26", "")].sha256
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    assert active.sha256 == tuned.sha256 != original_sha and "tuned" in active.label
    assert active.source == ModelVersion.Source.PACKAGE and "bench/tune_shipped.py" in active.notes
    original = ModelVersion.objects.get(kind="multistyle26", sha256=original_sha)
    assert original.status == ModelVersion.Status.READY and not original.is_active

    # Rolled back to the wheel's own: the next start leaves it so
    assert services.model_version_rollback(kind="multistyle26") == original
    services.models_import_shipped(kinds=STUDIO_KINDS)
    assert ModelVersion.objects.get(kind="multistyle26", is_active=True) == original

    # A studio whose admin chose a network of their own keeps it when the tuned one first arrives
    ModelVersion.objects.filter(sha256=tuned.sha256).delete()
    mine = services.model_version_upload(
        kind="multistyle26", label="mine", validate="now", upload=weights_upload(another_multistyle(tmp_path))
    )
    services.model_version_activate(version=mine)
    services.models_import_shipped(kinds=STUDIO_KINDS)
    assert ModelVersion.objects.get(kind="multistyle26", is_active=True) == mine
    assert ModelVersion.objects.get(sha256=tuned.sha256).status == ModelVersion.Status.READY


def test_the_database_allows_one_active_version_per_kind(studio_models):
    current = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(
            kind="multistyle26", label="second", sha256="0" * 64, is_active=True, status=ModelVersion.Status.READY
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # only ready versions may be active
        ModelVersion.objects.filter(pk=current.pk).update(status=ModelVersion.Status.REJECTED)
    # Other slots of a slotted kind are independent
    ModelVersion.objects.create(kind="transformer_net", slot="a", label="a", is_active=True, status="ready")
    ModelVersion.objects.create(kind="transformer_net", slot="b", label="b", is_active=True, status="ready")


def test_activating_a_version_switches_the_next_job_and_rolling_back_restores_the_old_one(alice, tmp_path):
    old = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    new = services.model_version_upload(
        kind="multistyle26", label="retrained", validate="now", upload=weights_upload(another_multistyle(tmp_path))
    )
    assert new.status == ModelVersion.Status.READY and not new.is_active  # ready, but not yet chosen
    first = services.job_run(job_id=make_job(alice).pk)
    assert list(first.model_versions.all()) == [old]

    services.model_version_activate(version=new)
    second = services.job_run(job_id=make_job(alice).pk)
    assert list(second.model_versions.all()) == [new]
    old.refresh_from_db()
    assert not old.is_active and registry.active_versions().filter(kind="multistyle26").get() == new

    services.model_version_rollback(kind="multistyle26")
    third = services.job_run(job_id=make_job(alice).pk)
    assert list(third.model_versions.all()) == [old]
    # the pictures differ because the weights do
    assert first.image.read() != second.image.read()


def test_a_job_already_running_finishes_on_the_version_it_started_with(alice, tmp_path, monkeypatch):
    from generator.ml import engine

    old = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    new = services.model_version_upload(
        kind="multistyle26", label="retrained", validate="now", upload=weights_upload(another_multistyle(tmp_path))
    )
    real = engine.stylize

    def activate_midway(*args, **kwargs):
        services.model_version_activate(version=new)  # an admin flips the version while the job paints
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "stylize", activate_midway)
    artwork = services.job_run(job_id=make_job(alice).pk)
    assert list(artwork.model_versions.all()) == [old] == list(artwork.job.model_versions.all())


def test_an_artwork_made_by_a_retired_version_still_opens_and_says_so(alice, alice_client, tmp_path):
    artwork = services.job_run(job_id=make_job(alice).pk)
    services.model_version_activate(
        version=services.model_version_upload(
            kind="multistyle26", label="retrained", validate="now", upload=weights_upload(another_multistyle(tmp_path))
        )
    )
    response = alice_client.get(artwork.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="artwork-retired"' in html and 'data-testid="version-retired"' in html


def test_rolling_back_with_no_earlier_version_is_a_clear_error(studio_models):
    with pytest.raises(ValidationError, match="no earlier version"):
        services.model_version_rollback(kind="magenta_predictor")


def test_a_job_whose_network_has_no_active_version_fails_with_a_clear_message(alice):
    job = make_job(alice)
    ModelVersion.objects.filter(kind="multistyle26").update(is_active=False)
    assert services.job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no active 26-style network" in job.error


@pytest.mark.django_db(transaction=True)
def test_two_admins_activating_at_once_leave_exactly_one_active_version(studio_models, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite lets one writer in at a time, so nothing can race there")
    a = services.model_version_upload(
        kind="multistyle26", label="a", validate="now", upload=weights_upload(another_multistyle(tmp_path, 1.01))
    )
    b = services.model_version_upload(
        kind="multistyle26", label="b", validate="now", upload=weights_upload(another_multistyle(tmp_path, 1.03))
    )
    errors, start = [], threading.Barrier(2)

    def activate(version):
        try:
            start.wait()
            for _ in range(10):
                services.model_version_activate(version=version)
        except Exception as exc:  # noqa: BLE001  (the test reports any failure)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=activate, args=(v,)) for v in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert ModelVersion.objects.filter(kind="multistyle26", is_active=True).count() == 1


# --- uploads ----------------------------------------------------------------------------------------


def test_a_pytorch_examples_checkpoint_becomes_a_preset_that_paints(alice, tmp_path, isolated_data):
    version = upload(transformer_net_checkpoint(tmp_path / "mosaic.pth"))

    assert version.status == ModelVersion.Status.READY and version.is_active, version.reason
    stored = Path(version.weights.path)
    assert stored.suffix == ".safetensors" and files.file_sha256(stored) == version.sha256
    assert version.metrics["parameters"] == 1_679_235 and version.metrics["smoke_seconds"] > 0
    assert version.sample and model_files(isolated_data) == sorted(
        p for p in model_files(isolated_data) if p.suffix in (".safetensors", ".webp")
    )  # the .pth upload is gone
    preset = Preset.objects.get(slug="mosaic")
    assert preset.kind == Preset.Kind.SINGLE_STYLE and preset.name == "Mosaic" and preset.thumbnail
    assert selectors.visible_presets().filter(slug="mosaic").exists()

    artwork = services.job_run(job_id=make_job(alice, style_preset="mosaic").pk)
    assert artwork is not None and artwork.title == "Mosaic"
    assert list(artwork.model_versions.all()) == [version]


def test_an_old_checkpoint_with_instance_norm_running_stats_is_accepted(tmp_path):
    version = upload(transformer_net_checkpoint(tmp_path / "old.pth", old_format=True), slot="old-style")
    assert version.status == ModelVersion.Status.READY, version.reason
    assert not any("running" in k for k in load_file(version.weights.path))


def test_a_second_version_of_a_style_waits_for_an_admin_to_activate_it(tmp_path):
    first = upload(transformer_net_checkpoint(tmp_path / "v1.pth", seed=1))
    second = upload(transformer_net_checkpoint(tmp_path / "v2.pth", seed=2), label="Mosaic v2")
    assert first.is_active and second.status == ModelVersion.Status.READY and not second.is_active
    assert Preset.objects.filter(slug="mosaic").count() == 1


def _payload_pickle(marker: Path) -> bytes:
    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    return pickle.dumps({"conv1.conv2d.weight": Payload()})


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "case",
    ["another architecture", "a pickle that runs code", "a truncated file", "a missing key", "not weights at all"],
)
def test_a_rejected_upload_keeps_its_reason_and_no_weights_file(case, tmp_path, isolated_data):
    from generator.ml.nets.multistyle import MultiStyleNet

    marker = tmp_path / "payload-ran"
    good = transformer_net_checkpoint(tmp_path / "good.pth").read_bytes()
    missing = torch.load(io.BytesIO(good), weights_only=True)
    del missing["deconv3.conv2d.bias"]
    content, reason = {
        "another architecture": (_torch_bytes(MultiStyleNet().state_dict()), "missing"),
        "a pickle that runs code": (_payload_pickle(marker), "code"),
        "a truncated file": (good[: len(good) // 2], "damaged or cut short"),
        "a missing key": (_torch_bytes(missing), "deconv3.conv2d.bias"),
        "not weights at all": (b"<html><body>hello</body></html>", "not a PyTorch or safetensors"),
    }[case]
    before = model_files(isolated_data)
    (tmp_path / "upload.pth").write_bytes(content)

    version = upload(tmp_path / "upload.pth")

    assert version.status == ModelVersion.Status.REJECTED and reason in version.reason, version.reason
    assert not version.weights and not version.sha256 and not version.is_active
    assert model_files(isolated_data) == before
    assert not marker.exists(), "the pickle's payload must never run"
    assert not Preset.objects.filter(slug="mosaic").exists()


def test_an_untrained_network_is_refused_because_it_paints_one_flat_colour(tmp_path):
    from generator.ml.nets.transformer_net import TransformerNet

    torch.manual_seed(0)
    torch.save(TransformerNet().state_dict(), tmp_path / "untrained.pth")
    version = upload(tmp_path / "untrained.pth")
    assert version.status == ModelVersion.Status.REJECTED and "flat colour" in version.reason


class _HugeUnreadable:
    """A 2 GB upload whose bytes must never be touched."""

    name = "huge.pth"
    size = 2 * 1024**3

    def read(self, *args):
        raise AssertionError("the file was read")

    chunks = __iter__ = open = seek = read


def test_a_2_gb_file_is_refused_before_it_is_read(isolated_data):
    before = model_files(isolated_data)
    with pytest.raises(ValidationError, match="at most 1,024 MB"):
        services.model_version_upload(kind="transformer_net", slot="mosaic", label="huge", upload=_HugeUnreadable())
    assert ModelVersion.objects.filter(label="huge").count() == 0 and model_files(isolated_data) == before


@pytest.mark.parametrize(
    ("kind", "slot", "message"),
    [
        ("transformer_net", "", "needs a short name"),
        ("multistyle26", "mosaic", "leave it blank"),
        ("no-such-kind", "", "Choose one of the model kinds"),
        ("transformer_net", "starry-night", "already has the short name"),
    ],
)
def test_an_upload_with_a_wrong_kind_or_slot_is_refused_at_once(tmp_path, kind, slot, message):
    path = transformer_net_checkpoint(tmp_path / "w.pth")
    with pytest.raises(ValidationError, match=message):
        services.model_version_upload(kind=kind, slot=slot, label="x", upload=weights_upload(path))
    assert not ModelVersion.objects.filter(label="x").exists()


def test_an_upload_is_validated_by_a_cpu_worker_after_the_commit(
    tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        "generator.tasks.validate_model_version.apply_async", lambda args, queue, **kw: sent.append((args[0], queue))
    )
    with django_capture_on_commit_callbacks(execute=True):
        version = services.model_version_upload(
            kind="transformer_net",
            slot="mosaic",
            label="Mosaic",
            upload=weights_upload(transformer_net_checkpoint(tmp_path / "m.pth")),
        )
    assert version.status == ModelVersion.Status.VALIDATING and sent == [(version.pk, "cpu")]
    from generator import tasks

    tasks.validate_model_version(version.pk)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.READY


# --- the dashboard's figures -----------------------------------------------------------------------


def test_the_model_dashboard_counts_jobs_failures_and_times_per_version(alice, monkeypatch):
    from generator import selectors
    from generator.ml import engine

    for _ in range(3):
        services.job_run(job_id=make_job(alice).pk)
    monkeypatch.setattr(engine, "stylize", lambda *a, **k: 1 / 0)
    services.job_run(job_id=make_job(alice).pk)

    row = next(r for r in selectors.model_dashboard() if r.version.kind == "multistyle26")
    assert (row.uses, row.failures, row.artworks) == (4, 1, 3)
    assert 0 < row.p50 <= row.p95 and row.last_used is not None
    assert Artwork.objects.filter(model_versions=row.version).count() == 3


def test_deleting_artworks_and_jobs_leaves_the_models_history_as_it_was(alice):
    for _ in range(2):
        services.job_run(job_id=make_job(alice).pk)

    def figures():
        row = next(r for r in selectors.model_dashboard() if r.version.kind == "multistyle26")
        return row.uses, row.failures, row.artworks, row.p50, row.last_used

    before = figures()
    for artwork in Artwork.objects.filter(owner=alice):
        services.artwork_delete(artwork=artwork, by=alice)
    alice.delete()  # the account too

    assert not Job.objects.exists()
    assert figures() == before and before[:3] == (2, 0, 2)


def test_a_job_the_scheduler_gives_up_on_counts_as_a_failure_of_its_versions(alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from generator import scheduler

    job = make_job(alice)
    versions = registry.for_job(job).versions
    job.model_versions.set(versions)
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, worker="gone:1", heartbeat=long_ago, started=long_ago, attempts=99
    )

    assert scheduler.reap()["failed"] == 1
    row = next(r for r in selectors.model_dashboard() if r.version.pk == versions[0].pk)
    assert (row.uses, row.failures, row.artworks) == (1, 1, 0)


def test_the_database_refuses_a_job_on_a_queue_that_does_not_exist(alice):
    job = make_job(alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(queue="tpu")


def test_uploading_weights_the_studio_already_has_is_refused_naming_the_version(studio_models):
    shipped = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = services.model_version_upload(
            kind="multistyle26", label="again", validate="now", upload=weights_upload(Path(shipped.weights.path))
        )
    again.refresh_from_db()
    assert again.status == ModelVersion.Status.REJECTED and f"same as version {shipped.pk}" in again.reason
    assert not again.weights


def test_a_single_style_preset_leaves_the_grid_while_its_style_has_no_active_version(tmp_path):
    version = upload(transformer_net_checkpoint(tmp_path / "mosaic.pth"))
    assert selectors.visible_presets().filter(slug="mosaic").exists()
    ModelVersion.objects.filter(pk=version.pk).update(is_active=False)
    assert not selectors.visible_presets().filter(slug="mosaic").exists()
    assert Preset.objects.filter(slug="mosaic").exists()  # kept, for the artworks that name it


@pytest.mark.django_db(transaction=True)
def test_the_history_starts_from_the_jobs_ideas_and_suggestions_the_studio_still_has():
    """Migrations generator 0011 and assistant 0002: the uses the studio could see before it kept a history."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before = [("generator", "0010_artwork_owner_styles"), ("assistant", "0001_initial")]
    after = [("generator", "0011_model_use"), ("assistant", "0002_idea_model_history")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        User, Job, Artwork = (old.get_model(name) for name in ("auth.User", "generator.Job", "generator.Artwork"))
        Version, Idea = old.get_model("generator", "ModelVersion"), old.get_model("assistant", "Idea")
        painter = Version.objects.create(kind="multistyle26", label="paints", status="ready")
        writer = Version.objects.create(kind="text_generator", label="writes", status="ready")
        reader = Version.objects.create(kind="sentence_encoder", label="reads", status="ready")
        owner = User.objects.create(username="carol")
        start = timezone.now() - timedelta(minutes=5)
        done = Job.objects.create(owner=owner, status="succeeded", started=start, finished=start + timedelta(seconds=3))
        Job.objects.create(owner=owner, status="failed", started=start, finished=start + timedelta(seconds=1))
        Job.objects.create(owner=owner, status="queued")  # not finished: not a use yet
        for job in Job.objects.all():
            job.model_versions.set([painter])
        Artwork.objects.create(
            owner=owner, job=done, seconds=3, width=1, height=1, suggestions={"versions": [reader.pk, writer.pk, 999]}
        )
        idea = Idea.objects.create(owner=owner, text="a pier at night", status="done")
        idea.model_versions.set([reader, writer])

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        ModelUse = executor.loader.project_state(after).apps.get_model("generator", "ModelUse")

        uses = sorted(ModelUse.objects.values_list("version_id", "purpose", "outcome", "seconds", "made_artwork"))
        assert uses == sorted(
            [
                (painter.pk, "painting", "succeeded", 3.0, True),
                (painter.pk, "painting", "failed", 1.0, False),
                (reader.pk, "suggesting", "succeeded", None, False),
                (writer.pk, "suggesting", "succeeded", None, False),
                (reader.pk, "reading", "succeeded", None, False),
                (writer.pk, "writing", "succeeded", None, False),
            ]
        )
    finally:
        call_command("migrate", verbosity=0)  # the rest of the run expects the latest schema
