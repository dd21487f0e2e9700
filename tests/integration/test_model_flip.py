"""A version flip while a real worker runs jobs: the next job paints with the new version, none fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file

from generator import services
from generator.ml import weights
from generator.models import Job, ModelVersion
from tests.integration.test_worker_e2e import finished, upload
from tests.integration.worker import JOB_TIMEOUT, Worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker(start_worker) -> Worker:
    return start_worker()


@pytest.fixture
def alice_client(client, alice, worker_media):
    client.force_login(alice)
    return client


def retrained(tmp_path: Path) -> ModelVersion:
    """A second version of the 26-style network (every weight scaled), uploaded and validated."""
    active = ModelVersion.objects.get(kind="multistyle26", is_active=True)
    path = tmp_path / "multistyle-v2.safetensors"
    weights.save_state({k: v * 1.02 for k, v in load_file(active.weights.path).items()}, path)
    with open(path, "rb") as f:
        from django.core.files import File

        upload_file = File(f, name=path.name)
        upload_file.size = path.stat().st_size
        version = services.model_version_upload(kind="multistyle26", label="retrained", upload=upload_file,
                                                validate="now")
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
    wait_until(lambda: during.model_versions.exists(), timeout=JOB_TIMEOUT, every=0.02,
               what="the job to record its versions", diagnose=worker.tail)
    services.model_version_activate(version=new)
    after = upload(alice_client, chelsea)

    during, after = finished(during, worker), finished(after, worker)
    recorded = sorted(during.model_versions.values_list("kind", "sha256"))
    assert versions_of(during) == recorded == [("multistyle26", old.sha256)]
    assert versions_of(after) == [("multistyle26", new.sha256)]
    assert Job.objects.filter(status=Job.Status.FAILED).count() == 0
    # the worker process loaded the new network beside the old one, without a restart
    assert worker.proc.poll() is None
