"""The similar-works index, built by the studio itself: in the background, on the writer's worker, a chunk at a
time, the first time the studio starts and again whenever another sentence encoder is activated.

Why in chunks: embedding the 69,000 Tate works takes minutes on a CPU, and the worker that does it also writes
the assistant's words. Each chunk is one task (a few seconds) that queues the next one behind whatever artists
asked meanwhile, so an idea never waits for the whole index. The chunks' vectors are kept as files beside the
index until the last one, so a worker that dies loses one chunk, not the build; the index file itself is
written whole or not at all.

Why a run token: a build is started again when a worker starts (the one building may have died), and two
chains of tasks for the same index would do the work twice. Each start draws a new token; a step whose token
is not the index's any more stops.

The files live under MEDIA_ROOT, which every worker shares (docker-compose.yml): the worker that builds is
seldom the one that reads ideas.
"""

from __future__ import annotations

import functools
import logging
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assistant.models import SimilarIndex
from generator.models import ModelVersion

logger = logging.getLogger(__name__)

ENCODER = "sentence_encoder"
STALLED = timedelta(minutes=10)  # no progress for this long: its worker is gone (a chunk takes seconds)


def index_folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "assistant" / "similar"


def similar_index_path(encoder_sha256: str) -> Path:
    from assistant.ml.similar import index_path

    return index_path(index_folder(), encoder_sha256)


def _chunks_folder(encoder_sha256: str) -> Path:
    return index_folder() / f"building-{encoder_sha256[:16]}"


def _active_encoder() -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=ENCODER, is_active=True).first()


def similar_index_ensure(*, restart: bool = False) -> SimilarIndex | None:
    """Queue the build of the active encoder's index unless it is ready or under way. Cheap: call it freely.

    `restart` (a worker starting, an admin asking) also starts again a build that failed or may have lost its
    worker, from the last chunk kept. Returns the index's row; None without an active encoder.
    """
    encoder = _active_encoder()
    if encoder is None:
        return None
    with transaction.atomic():
        # Locked: two workers starting at once queue one build between them
        index, created = SimilarIndex.objects.select_for_update().get_or_create(encoder=encoder)
        if index.status == SimilarIndex.Status.READY and similar_index_path(encoder.sha256).exists():
            return index
        failed = index.status == SimilarIndex.Status.FAILED
        going = index.status != SimilarIndex.Status.READY and timezone.now() - index.updated < STALLED
        if not created and not restart and (failed or going):
            return index  # under way, or failed (an admin sees why and starts it again)
        run = uuid.uuid4()
        start = sum(_covered(encoder.sha256).values())  # a build goes on from its last kept chunk
        SimilarIndex.objects.filter(pk=index.pk).update(
            run=run, status=SimilarIndex.Status.QUEUED, done=start, error="", finished=None, updated=timezone.now()
        )
        transaction.on_commit(lambda: _enqueue(index.pk, run, start))
    index.refresh_from_db()
    return index


def _covered(encoder_sha256: str) -> dict[int, int]:
    """The kept chunk files that run on from the first work without a gap: start -> count. A chunk left by a
    superseded run, or made with another chunk size, is the same vectors for the same works, or not used."""
    sizes = {}
    for path in _chunks_folder(encoder_sha256).glob("chunk-*-*.safetensors"):
        start, count = path.stem.split("-")[1:3]
        sizes[int(start)] = int(count)
    covered, at = {}, 0
    while at in sizes:
        covered[at] = sizes[at]
        at += sizes[at]
    return covered


def _enqueue(index_id: int, run: uuid.UUID, start: int) -> None:
    from assistant.tasks import build_similar_index

    try:
        build_similar_index.apply_async(args=[index_id, str(run), start], retry=False)
    except Exception:  # the next worker start or idea asks again
        logger.exception("Could not queue the similar-works index (chunk at %s)", start)


def similar_index_step(*, index_id: int, run: str, start: int) -> SimilarIndex | None:
    """Embed one chunk of the Tate works from `start`, then queue the next, or write the index after the last."""
    from assistant import services

    index = SimilarIndex.objects.select_related("encoder").filter(pk=index_id, run=run).first()
    if index is None or index.status not in (SimilarIndex.Status.QUEUED, SimilarIndex.Status.BUILDING):
        return None  # superseded by a newer start, or finished
    mine = SimilarIndex.objects.filter(pk=index_id, run=run)
    try:
        helper, versions = services.assistant(settings.ARTSTUDIO_DEVICE)
        if index.encoder not in versions:  # another encoder was activated meanwhile: its own index is queued
            mine.update(status=SimilarIndex.Status.FAILED, error=_("Another sentence encoder was activated."))
            return None
        texts = [text for _work, text in _tate_works()]
        chunk = texts[start : start + settings.ARTSTUDIO_SIMILAR_CHUNK]
        folder = _chunks_folder(index.encoder.sha256)
        if chunk:
            _save_chunk(folder / f"chunk-{start}-{len(chunk)}.safetensors", helper.encoder.encode(chunk).half())
        done = start + len(chunk)
        if not mine.update(
            status=SimilarIndex.Status.BUILDING,
            done=done,
            total=len(texts),
            started=index.started or timezone.now(),
            updated=timezone.now(),
        ):
            return None
        if done < len(texts):
            _enqueue(index_id, uuid.UUID(run), done)
        else:
            _finish(index, mine)
    except Exception as exc:
        logger.exception("The similar-works index failed at work %s", start)
        mine.update(status=SimilarIndex.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return None
    index.refresh_from_db()
    return index


def _tate_works():
    """The Tate works and their texts, read once per process and file version: every chunk's task needs them."""
    path = Path(settings.ARTSTUDIO_TATE_PATH)
    return _read_tate(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def _read_tate(path: str, _version: int) -> tuple:
    from assistant.ml.similar import read_works

    return tuple(read_works(Path(path)))


def _save_chunk(target: Path, vectors) -> None:
    from generator.ml.files import save_state

    save_state({"vectors": vectors}, target)


def _finish(index: SimilarIndex, mine) -> None:
    """All chunks are in: the index file, whole, then the row says ready; the chunks go."""
    import torch
    from safetensors.torch import load_file

    from assistant.ml.similar import Index

    sha = index.encoder.sha256
    sizes = _covered(sha)
    folder = _chunks_folder(sha)
    works = [work for work, _text in _tate_works()]
    vectors = torch.cat([load_file(str(folder / f"chunk-{s}-{n}.safetensors"))["vectors"] for s, n in sizes.items()])
    if len(vectors) != len(works):
        raise ValueError(f"{len(vectors)} vectors were kept for {len(works)} works; the build starts again.")
    Index(vectors, works, sha).save(similar_index_path(sha))
    if mine.update(status=SimilarIndex.Status.READY, finished=timezone.now(), error=""):
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("The similar-works index of %s works is ready", len(works))


def similar_index_build(*, limit: int | None = None, progress=None):
    """The whole index at once, in this process (``manage.py assistant index``, for developers and benches)."""
    from assistant import services
    from assistant.ml import similar

    helper, versions = services.assistant(settings.ARTSTUDIO_DEVICE)
    encoder = next(v for v in versions if v.kind == ENCODER)
    index = similar.build(settings.ARTSTUDIO_TATE_PATH, helper.encoder, encoder.sha256, limit=limit, progress=progress)
    target = similar_index_path(encoder.sha256)
    index.save(target)
    return index, target
