"""Upload to artwork through a real Celery worker process, the real Redis and the real PostgreSQL;
and a model version flip while that worker runs jobs."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from django.core.files import File
from PIL import Image
from safetensors.torch import load_file

from generator import services
from generator.ml import files
from generator.models import Artwork, Job, ModelVersion
from tests.integration.worker import Worker, finished, job_timeout, upload, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]  # the worker must see committed rows


@pytest.fixture(scope="module")
def worker(start_worker) -> Worker:
    return start_worker()


@pytest.fixture
def alice_client(client, alice, worker_media):
    client.force_login(alice)
    return client


def test_an_uploaded_photo_becomes_an_artwork_in_the_owners_gallery(worker, alice, alice_client, chelsea):
    job = upload(alice_client, chelsea)

    job = finished(job, worker)

    assert job.attempts == 1 and job.progress == 1.0 and job.device in ("cpu", "cuda")
    assert job.worker.startswith(f"{socket.gethostname()}:")  # claimed by the worker process, not this one
    artwork = Artwork.objects.get(job=job)
    assert artwork.owner == alice and artwork.title == "Pop Outline" and artwork.seconds > 0
    with artwork.image.open("rb") as f, Image.open(f) as img:
        assert img.format == "PNG" and max(img.size) == 512 and img.size == (artwork.width, artwork.height)
    with artwork.thumbnail.open("rb") as f, Image.open(f) as thumb:
        assert thumb.format == "WEBP" and max(thumb.size) <= 400
    assert list(artwork.model_versions.values_list("kind", "sha256")) == list(
        ModelVersion.objects.filter(kind="multistyle26", is_active=True).values_list("kind", "sha256")
    )

    gallery = alice_client.get("/gallery/")
    assert f'data-artwork="{artwork.pk}"' in gallery.content.decode()
    image = alice_client.get(f"/artworks/{artwork.pk}/image.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    status = alice_client.get(f"/jobs/{job.pk}/status/").content.decode()
    assert 'data-status="succeeded"' in status and f"/artworks/{artwork.pk}/" in status


def test_a_message_delivered_twice_runs_the_job_once(worker, alice, alice_client, chelsea):
    from generator.tasks import run_next_job

    job = upload(alice_client, chelsea)  # its token is sent when the row commits
    run_next_job.apply_async(args=[job.queue], queue=job.queue)  # and the same message again, as a redelivery

    job = finished(job, worker)
    wait_until(
        lambda: f"No job waits on {job.queue}" in worker.output(),
        timeout=job_timeout(),
        what="the worker to take the second delivery",
        diagnose=worker.tail,
    )

    job.refresh_from_db()
    assert job.attempts == 1
    assert Artwork.objects.filter(owner=alice).count() == 1


def test_a_quality_job_goes_to_the_gpu_queue_and_shows_previews(worker, alice, alice_client, chelsea):
    job = upload(alice_client, chelsea, preset="udnie", mode="quality")
    assert job.queue == "gpu"  # the worker here consumes both queues, as the one-command studio's does

    job = finished(job, worker)

    assert job.attempts == 1 and Artwork.objects.filter(job=job).exists()
    assert "efficientnet_lite0" in set(job.artwork.model_versions.values_list("kind", flat=True))
    assert job.preview  # quality mode saved intermediate pictures for the job page


# --- the model registry: a version flip while the worker runs jobs --------------------------------


def retrained(tmp_path: Path) -> ModelVersion:
    """A second version of the 26-style network (every weight scaled), uploaded and validated."""
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    path = tmp_path / "multistyle-v2.safetensors"
    files.save_state({k: v * 1.02 for k, v in load_file(active.weights.path).items()}, path)
    with open(path, "rb") as f:
        upload_file = File(f, name=path.name)
        upload_file.size = path.stat().st_size
        version = services.model_version_upload(
            kind="multistyle26", label="retrained", upload=upload_file, validate="now"
        )
    assert version.status == ModelVersion.Status.READY, version.reason
    return version


def versions_of(job: Job) -> list[tuple[str, str]]:
    return sorted(job.artwork.model_versions.values_list("kind", "sha256"))


def test_a_version_flip_reaches_the_next_job_without_a_restart(worker, alice, alice_client, chelsea, tmp_path):
    old = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    new = retrained(tmp_path)

    before = finished(upload(alice_client, chelsea), worker)
    assert versions_of(before) == [("multistyle26", old.sha256)]

    # A job that has started (and recorded its versions) when the admin flips keeps what it started with
    during = upload(alice_client, chelsea)
    wait_until(
        lambda: during.model_versions.exists(),
        timeout=job_timeout(),
        every=0.02,
        what="the job to record its versions",
        diagnose=worker.tail,
    )
    services.model_version_activate(version=new)
    after = upload(alice_client, chelsea)

    during, after = finished(during, worker), finished(after, worker)
    recorded = sorted(during.model_versions.values_list("kind", "sha256"))
    assert versions_of(during) == recorded == [("multistyle26", old.sha256)]
    assert versions_of(after) == [("multistyle26", new.sha256)]
    assert Job.objects.filter(status=Job.Status.FAILED).count() == 0
    # the worker process loaded the new network beside the old one, without a restart
    assert worker.proc.poll() is None


def test_a_job_made_through_the_api_is_painted_by_the_worker_and_downloaded_with_its_token(
    worker, alice, chelsea, worker_media
):
    """The API's job endpoints end to end: create one with a token, follow it to its artwork, download the
    picture, and paint the same photo again from the artwork."""
    from django.test import Client

    from api import services as tokens

    api = Client(
        HTTP_AUTHORIZATION=f"Bearer {tokens.token_create(owner=alice, name='e2e', scopes=['read', 'write'])[1]}"
    )
    with open(chelsea, "rb") as photo:
        made = api.post("/api/v1/jobs/", {"photo": photo, "style_preset": "pop-outline", "max_side": "512"})
    assert made.status_code == 201, made.content.decode()
    job = finished(Job.objects.get(pk=made.json()["id"]), worker)

    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0 and body["position"] is None
    artwork = api.get(body["artwork"]).json()
    assert artwork["styles"] == ["pop-outline"] and max(artwork["width"], artwork["height"]) == 512
    assert artwork["provenance"]["model_versions"], artwork["provenance"]
    image = api.get(artwork["image"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.getvalue().startswith(b"\x89PNG")

    again = api.post("/api/v1/jobs/", {"from_artwork": artwork["id"], "style_preset": "udnie", "max_side": "512"})
    assert again.status_code == 201, again.content.decode()
    second = finished(Job.objects.get(pk=again.json()["id"]), worker)
    assert Artwork.objects.get(job=second).owner == alice
    assert api.get(f"/api/v1/jobs/{second.pk}/").json()["options"]["style_preset"] == "udnie"


def test_the_studio_builds_its_similar_works_index_itself_on_a_worker(worker, worker_media):
    """No command: the first start's import activates the shipped encoder, and the worker builds its index in
    the background, a chunk at a time (this worker reads the first 300 Tate works: tests/integration/worker.py)."""
    from assistant import indexing
    from assistant.ml.similar import Index
    from assistant.models import SimilarIndex

    services.models_import_shipped(kinds=["sentence_encoder", "text_head"])  # as `manage.py models import`

    def ready():
        return SimilarIndex.objects.filter(encoder__is_active=True, status=SimilarIndex.Status.READY).first()

    index = wait_until(ready, timeout=job_timeout(), what="the similar-works index", diagnose=worker.tail)
    assert 0 < index.done == index.total <= 300 and index.started <= index.finished
    assert len(Index.load(indexing.similar_index_path(index.encoder.sha256))) == index.total
