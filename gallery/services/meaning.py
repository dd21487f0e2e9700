"""The search by meaning: "stormy sea" finds a harbour painted with The Shipwreck, though no word is shared.

The sentence encoder the assistant runs (all-MiniLM-L6-v2) reads two things of each picture: what it shows
(its title, the caption the assistant saw in the photo, its tags and labels: one vector a picture, kept in
`Meaning`) and the style it was painted in (the preset's name and description: one vector a preset, kept in the
worker's memory). A picture's score is the better of the two cosines with the query, so the page can say which
it matched: what it shows, or its style.

The web never imports torch, so a search runs on a worker (the "cpu" queue, beside the idea analysis that loads
the same encoder): the gallery page shows the word matches at once and asks for these (`meaning_search_start`),
and the worker leaves its answer in the shared cache (Redis) under the artist and the query, where the page's
next poll reads it (`meaning_search_result`). A picture whose text changed since it was read, or that was read
by another encoder, is read again at the next search, so nothing has to announce a change.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gallery.models import Meaning, Tag
from generator.ml.options import JobOptions
from generator.models import Artwork, Preset

logger = logging.getLogger(__name__)

LIMIT = 48  # the matches a search keeps: a page of cards
# What counts as a match: a cosine of at least FLOOR, and within MARGIN of the best match. all-MiniLM-L6-v2 puts
# a short phrase and an unrelated text below ~0.3 (the 95th percentile of phrase/picture pairs measured for this
# search: 0.29) and a text about the same thing at 0.35-0.5. The margin drops the tail of a query that has a
# clear answer ("fire": a fiery style at 0.49, a sleeping cat at 0.30). tests/web/test_gallery_meaning.py checks
# both sides with phrases no shipped picture uses.
FLOOR = 0.3
MARGIN = 0.15
KEEP_SECONDS = 60  # how long an answer is reused (a reload, the next page): a new title shows after that
WAIT_SECONDS = 30  # how long the page waits for a worker before it says none answered
SUBJECT, STYLE = "subject", "style"


@dataclass(frozen=True)
class Match:
    artwork_id: str
    score: float
    why: str  # SUBJECT or STYLE


@dataclass(frozen=True)
class Answer:
    state: str  # "waiting", "done", "unavailable"
    matches: tuple[Match, ...] = ()
    message: str = ""
    waited: float = 0.0  # seconds since it was asked for (or since the worker last said how far it read)
    read: tuple[int, int] | None = None  # pictures read so far, of how many, while a first search reads them


def _key(owner_id: int, q: str) -> str:
    digest = hashlib.sha256(q.strip().casefold().encode()).hexdigest()[:32]
    return f"gallery-meaning:{owner_id}:{digest}"


# -- the web's side: ask, then read the answer -----------------------------------------------------------


def meaning_search_start(*, owner_id: int, q: str) -> None:
    """Queue the search unless the same one is waiting or was answered in the last minute (cache.add: one wins)."""
    from gallery.tasks import search_by_meaning

    key = _key(owner_id, q)
    if not cache.add(key, {"state": "waiting", "asked": time.time()}, timeout=KEEP_SECONDS):
        return
    try:
        search_by_meaning.apply_async(args=[owner_id, q], retry=False)
    except Exception:  # the broker did not answer: the word matches stand, and the page says why
        logger.exception("Could not queue a search by meaning")
        cache.set(
            key,
            {"state": "unavailable", "message": _("The search by meaning could not be queued (no broker).")},
            timeout=10,
        )


def meaning_search_result(*, owner_id: int, q: str) -> Answer | None:
    """The answer so far; None when nobody asked (or it expired): the caller asks again."""
    found = cache.get(_key(owner_id, q))
    if found is None:
        return None
    matches = tuple(Match(*m) for m in found.get("matches", ()))
    waited = time.time() - found.get("asked", time.time())
    if found["state"] == "waiting" and waited > WAIT_SECONDS:
        return Answer("unavailable", message=_("No worker answered: the search by meaning is not running."))
    read = found.get("read")
    return Answer(found["state"], matches, found.get("message", ""), waited, tuple(read) if read else None)


# -- the worker's side ---------------------------------------------------------------------------------


def subject_text(title: str, suggestions: dict, tags: Iterable[str]) -> str:
    """What a picture shows, in words: its title, the caption the assistant saw, its tags and labels."""
    words = list(dict.fromkeys([*tags, *suggestions.get("tags", ()), *suggestions.get("labels", ())]))
    parts = [title.strip(), str(suggestions.get("caption", "")).strip(), ", ".join(words)]
    return ". ".join(p for p in parts if p)


def style_text(preset: Preset) -> str:
    return ". ".join(p for p in (preset.name, preset.description.strip(), ", ".join(preset.tags or ())) if p)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_style_vectors: dict[tuple[str, str], object] = {}  # (encoder sha256, digest of the text) -> vector


def _styles(encoder, sha: str) -> dict[str, object]:
    """slug -> the vector of its preset's text; each text is read once per worker process."""
    texts = {p.slug: style_text(p) for p in Preset.objects.all()}
    missing = sorted({t for t in texts.values() if (sha, _digest(t)) not in _style_vectors})
    if missing:
        for text, vector in zip(missing, encoder.encode(missing), strict=True):
            _style_vectors[(sha, _digest(text))] = vector
    return {slug: _style_vectors[(sha, _digest(text))] for slug, text in texts.items()}


def meaning_search(*, owner_id: int, q: str) -> Answer:
    """The worker's part: read what changed, score every picture of the artist, and leave the answer."""
    from assistant.services import ENCODER, NotInstalled, assistant

    key = _key(owner_id, q)

    def progress(done: int, total: int) -> None:  # the first search over thousands of pictures takes a while
        cache.set(key, {"state": "waiting", "asked": time.time(), "read": [done, total]}, timeout=KEEP_SECONDS)

    try:
        helper, versions = assistant(settings.ARTSTUDIO_DEVICE)
    except NotInstalled as exc:
        answer = Answer("unavailable", message=str(exc))
    else:
        sha = next(v.sha256 for v in versions if v.kind == ENCODER)
        answer = Answer("done", tuple(_rank(helper.encoder, sha, owner_id, q, progress)))
    cache.set(
        key,
        {"state": answer.state, "message": answer.message, "matches": [astuple(m) for m in answer.matches]},
        timeout=KEEP_SECONDS,
    )
    return answer


def _rank(encoder, sha: str, owner_id: int, q: str, progress) -> list[Match]:
    import torch

    artworks = list(Artwork.objects.filter(owner_id=owner_id).values_list("pk", "title", "suggestions", "params"))
    tags: dict = {}
    for artwork_id, name in Tag.objects.filter(owner_id=owner_id, artworks__isnull=False).values_list(
        "artworks", "name"
    ):
        tags.setdefault(artwork_id, []).append(name)
    texts = {
        pk: subject_text(title, suggestions or {}, sorted(tags.get(pk, ()))) for pk, title, suggestions, _ in artworks
    }
    vectors = _read_again(encoder, sha, owner_id, texts, progress)
    stored = Meaning.objects.filter(artwork__owner_id=owner_id, encoder_sha256=sha).values_list("artwork_id", "vector")
    for pk, blob in stored:
        if pk not in vectors:  # those just read are in memory already
            vectors[pk] = torch.frombuffer(bytearray(blob), dtype=torch.float16).float()
    artworks = [a for a in artworks if a[0] in vectors]  # one added since the list was read waits for the next
    if not artworks:
        return []
    query = encoder.encode([q])[0]
    subject_scores = (torch.stack([vectors[pk] for pk, *_ in artworks]) @ query).tolist()
    style_scores = {slug: float(vector @ query) for slug, vector in _styles(encoder, sha).items()}
    scored = []
    for (pk, _title, _suggestions, params), subject in zip(artworks, subject_scores, strict=True):
        style = max(
            (style_scores.get(slug, -1.0) for slug in JobOptions.from_params(params or {}).styles), default=-1.0
        )
        # the better of the two decides; the other orders pictures of one style among themselves
        scored.append((max(subject, style), min(subject, style), SUBJECT if subject >= style else STYLE, pk))
    scored.sort(reverse=True)
    if not scored:
        return []
    least = max(FLOOR, scored[0][0] - MARGIN)
    return [Match(str(pk), round(score, 4), why) for score, _other, why, pk in scored[:LIMIT] if score >= least]


def _read_again(encoder, sha: str, owner_id: int, texts: dict, progress) -> dict:
    """Encode the pictures whose text (or encoder) changed since they were read, and keep their vectors.
    Returns those vectors (float32) by artwork id."""
    known = dict(
        (pk, (enc, digest))
        for pk, enc, digest in Meaning.objects.filter(artwork__owner_id=owner_id).values_list(
            "artwork_id", "encoder_sha256", "digest"
        )
    )
    stale = [pk for pk, text in texts.items() if known.get(pk) != (sha, _digest(text))]
    if not stale:
        return {}
    vectors = encoder.encode([texts[pk] for pk in stale], progress=progress).half()
    rows = [
        Meaning(artwork_id=pk, encoder_sha256=sha, digest=_digest(texts[pk]), vector=vector.numpy().tobytes())
        for pk, vector in zip(stale, vectors, strict=True)
    ]
    try:
        with transaction.atomic():
            Meaning.objects.bulk_create(
                rows,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["artwork"],
                update_fields=["encoder_sha256", "digest", "vector"],
            )
    except IntegrityError:  # a picture was deleted while it was read: the next search reads the rest again
        logger.info("A picture went while the search by meaning read it; its vectors wait for the next search")
    return {pk: vector.float() for pk, vector in zip(stale, vectors, strict=True)}
