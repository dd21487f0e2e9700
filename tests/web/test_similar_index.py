"""The similar-works index the studio builds itself (issue 21): queued at a worker's start and for a new encoder,
built a chunk at a time, going on after a lost worker, failing visibly, and shown in the admin while it is made.
An artist who asks before it is ready reads that it is being prepared, never a command.

The tasks are run here one by one, as a worker would take them from the queue (tests/integration has a real
worker build one at its start).
"""

from __future__ import annotations

import gzip
import json

import pytest
from django.urls import reverse

from assistant import indexing, services
from assistant.models import Idea, SimilarIndex
from generator.models import ModelVersion

WORKS = 25
CHUNK = 10


@pytest.fixture
def tate(tmp_path, settings):
    """A small Tate file: 25 works with titles and subjects (and two without a title, which are left out)."""
    path = tmp_path / "tate.jsonl.gz"
    subjects = ["sea", "ship", "storm", "harbour", "mountain", "snow", "portrait", "woman", "flowers", "garden"]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i in range(WORKS + 2):
            title = "" if i in (3, 7) else f"Work {i}: {subjects[i % 10]} and {subjects[(i * 3) % 10]}"
            record = {"acno": f"N{i:05}", "title": title, "artist": f"Painter {i}", "date": str(1800 + i)}
            f.write(json.dumps({**record, "subjects2": [subjects[i % 10], subjects[(i + 1) % 10]]}) + "\n")
    settings.ARTSTUDIO_TATE_PATH = path
    settings.ARTSTUDIO_SIMILAR_CHUNK = CHUNK
    return path


@pytest.fixture
def queue(monkeypatch):
    """The index's tasks as sent, instead of to the broker: [(index id, run, start), ...]."""
    sent: list[tuple] = []
    monkeypatch.setattr(
        "assistant.tasks.build_similar_index.apply_async", lambda args, **kwargs: sent.append(tuple(args))
    )
    return sent


def work_off(queue: list[tuple]) -> list[int]:
    """Run the queued steps in order, as the writer's worker would; the starts of those run."""
    starts = []
    while queue:
        index_id, run, start = queue.pop(0)
        starts.append(start)
        indexing.similar_index_step(index_id=index_id, run=run, start=start)
    return starts


def test_the_index_is_queued_once_and_built_a_chunk_at_a_time_into_one_file(
    assistant_models, tate, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = indexing.similar_index_ensure()
        again = indexing.similar_index_ensure()  # already queued: nothing more

    assert first.pk == again.pk and len(queue) == 1 and first.status == SimilarIndex.Status.QUEUED
    assert work_off(queue) == [0, 10, 20]
    index = SimilarIndex.objects.get()
    assert (index.status, index.done, index.total, index.error) == (SimilarIndex.Status.READY, 25, 25, "")
    encoder = ModelVersion.objects.get(kind="sentence_encoder", is_active=True)
    path = indexing.similar_index_path(encoder.sha256)
    assert path.exists() and not list(path.parent.glob("building-*"))  # the chunks are gone
    with django_capture_on_commit_callbacks(execute=True):
        assert indexing.similar_index_ensure().status == SimilarIndex.Status.READY
    assert not queue  # ready: nothing to do

    from assistant.ml.similar import Index, read_works

    built = Index.load(path)
    helper, _versions = services.assistant()
    assert len(built) == WORKS and built.encoder_sha256 == encoder.sha256
    texts = dict(read_works(tate))
    for work in (built.works[0], built.works[12], built.works[-1]):  # in the first, a middle and the last chunk
        (nearest, _score), *_ = built.nearest(helper.encoder.encode([texts[work]])[0], k=1)
        assert nearest == work  # each vector is its own work's, in order across the chunks


def test_an_idea_asked_before_the_index_is_ready_says_it_is_being_prepared_and_after_shows_works(
    alice, assistant_models, tate, queue, django_capture_on_commit_callbacks, client
):
    from assistant.views import _answer_context  # noqa: F401  (the page below renders it)

    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        early = Idea.objects.create(owner=alice, text="a ship in a storm off the harbour")
        services.idea_analyse(idea_id=early.pk)

    page = client.get(early.get_absolute_url()).content.decode()
    assert "being prepared" in page and "manage.py" not in page
    assert not Idea.objects.get(pk=early.pk).analysis["similar"]
    assert len(queue) == 1  # the analysis asked for the index (the first start's request may have been lost)

    work_off(queue)
    later = Idea.objects.create(owner=alice, text="a ship in a storm off the harbour")
    services.idea_analyse(idea_id=later.pk)

    later.refresh_from_db()
    assert later.analysis["similar"] and "no_index" not in later.analysis["codes"]
    assert "being prepared" not in client.get(later.get_absolute_url()).content.decode()


def test_a_restart_goes_on_from_the_last_chunk_kept_and_the_old_run_stops(
    assistant_models, tate, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        indexing.similar_index_ensure()
    index_id, old_run, start = queue.pop(0)
    indexing.similar_index_step(index_id=index_id, run=old_run, start=start)  # chunk 0-9 kept; its worker dies
    queue.clear()

    with django_capture_on_commit_callbacks(execute=True):
        indexing.similar_index_ensure(restart=True)  # a worker starts

    assert [(i, start) for i, _run, start in queue] == [(index_id, 10)]
    assert indexing.similar_index_step(index_id=index_id, run=old_run, start=10) is None  # superseded: stops
    assert work_off(queue) == [10, 20]
    assert SimilarIndex.objects.get().status == SimilarIndex.Status.READY


def test_a_failed_build_says_why_and_waits_for_a_restart(
    assistant_models, tate, queue, django_capture_on_commit_callbacks, monkeypatch
):
    from assistant.ml.encoder import SentenceEncoder

    with django_capture_on_commit_callbacks(execute=True):
        indexing.similar_index_ensure()
    with monkeypatch.context() as broken:
        broken.setattr(SentenceEncoder, "encode", lambda *args, **kwargs: 1 / 0)
        work_off(queue)

    failed = SimilarIndex.objects.get()
    assert failed.status == SimilarIndex.Status.FAILED and "ZeroDivisionError" in failed.error
    with django_capture_on_commit_callbacks(execute=True):
        indexing.similar_index_ensure()  # an idea asks: a failure is not retried in a loop
    assert not queue
    with django_capture_on_commit_callbacks(execute=True):
        indexing.similar_index_ensure(restart=True)
    work_off(queue)
    assert SimilarIndex.objects.get().status == SimilarIndex.Status.READY


def test_a_worker_start_and_a_new_encoder_each_queue_the_index(
    assistant_models, tate, queue, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import connections

    from assistant.receivers import index_at_worker_start
    from generator import services as studio

    closed = []  # (in a worker, its connections are closed after: the pool forks from that process)
    monkeypatch.setattr(connections, "close_all", lambda: closed.append(True))
    with django_capture_on_commit_callbacks(execute=True):
        index_at_worker_start()
    assert len(queue) == 1 and closed

    shipped = ModelVersion.objects.get(kind="sentence_encoder", is_active=True)
    other = ModelVersion.objects.create(
        kind="sentence_encoder", label="another", status=ModelVersion.Status.READY, sha256="f" * 64
    )
    with django_capture_on_commit_callbacks(execute=True):
        studio.model_version_activate(version=other)

    assert SimilarIndex.objects.filter(encoder=other, status=SimilarIndex.Status.QUEUED).exists()
    assert len(queue) == 2 and queue[1][0] == SimilarIndex.objects.get(encoder=other).pk
    assert SimilarIndex.objects.filter(encoder=shipped).exists()  # kept, for a rollback


def test_the_admin_shows_how_far_the_index_is_and_can_start_it_again(
    admin_client, assistant_models, tate, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        indexing.similar_index_ensure()
    index_id, run, start = queue.pop(0)
    indexing.similar_index_step(index_id=index_id, run=run, start=start)

    page = admin_client.get(reverse("admin:assistant_similarindex_changelist")).content.decode()
    assert "10 of 25 works (40 %)" in page and "Building" in page

    queue.clear()  # (the step queued the next chunk; say its worker died)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:assistant_similarindex_changelist"),
            {"action": "build_again", "_selected_action": [index_id]},
        )
    assert response.status_code == 302 and [start for _i, _r, start in queue] == [10]
