"""Every write of the assistant, and the one place that turns active model versions into a working assistant.

An idea is answered in two steps, each a Celery task: ``idea_analyse`` (cpu queue, tens of
milliseconds: labels and styles from the classifier heads) and ``idea_write`` (text queue, seconds:
the language model's expansions, titles and description, saved as they come so the page shows them).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistant import indexing
from assistant.ml.text import IdeaError, StyleCard, check
from assistant.models import Idea
from generator import registry, selectors
from generator.listing import listing_changed
from generator.models import ModelUse, ModelVersion
from generator.ownership import require_owner
from generator.services import check_image, model_use_record

logger = logging.getLogger(__name__)

ENCODER, HEAD, WRITER, PICTURE = "sentence_encoder", "text_head", "text_generator", "efficientnet_lite0"
HEAD_SLOTS = ("subject", "movement", "mood")
READING, WRITING = ModelUse.Purpose.READING, ModelUse.Purpose.WRITING
# A person's choice of styles for ideas: its validation split fits how styles are ranked (assistant/ml/styles.py)
STYLE_CHOICES = Path(__file__).resolve().parent / "data" / "style_choices.jsonl"


# The assistant's models speak English; the pages say the same in the artist's language.
IDEA_ERRORS = {
    "empty": gettext_lazy("Type an idea (a few words are enough), or drop a picture."),
    "too_long": gettext_lazy(
        "Keep the idea under %(max)s characters; this one has %(length)s. A sentence or two works best."
    ),
    "no_words": gettext_lazy(
        "The assistant reads words, and this idea has none (only symbols, digits or emoji). Describe it in a few words."
    ),
}
NOTES = {
    "not_english": gettext_lazy(
        "The assistant's models read English only, so they cannot tell movements, subjects "
        "or moods from this idea. Write it in English, or drop a picture: the assistant "
        "reads pictures in any language."
    ),
    "no_index": gettext_lazy(
        "Similar artworks are being prepared: the studio is indexing the Tate collection in the background, "
        "which takes a few minutes after its first start. Ask again then to see them."
    ),
    "no_heads": gettext_lazy("No classifier heads are active, so the assistant suggests styles only."),
}


def notes_for(analysis: dict) -> list[str]:
    return [str(NOTES[c]) for c in analysis.get("codes", []) if c in NOTES]


class NotInstalled(Exception):
    """The assistant's models are not active on this studio; the message says what an admin can do."""


# -- the models in use --------------------------------------------------------------------------------


def active(kinds: Iterable[str]) -> list[ModelVersion]:
    return list(registry.active_versions().filter(kind__in=list(kinds)))


def style_cards() -> list[StyleCard]:
    """The visible presets as the assistant matches them: their descriptions and example ideas."""
    return [
        StyleCard(p.slug, _(p.name), p.description, tuple(p.prompts or ()), tuple(p.tags or ()), p.keeps_photo)
        for p in selectors.visible_presets()
    ]


_lock = threading.Lock()
_assistants: dict[tuple, object] = {}


def assistant(device: str = "cpu"):
    """An Assistant built from the active encoder and heads and the visible presets; one per process and state."""
    from assistant.ml.assist import Assistant
    from assistant.ml.encoder import SentenceEncoder
    from assistant.ml.styles import read_choices
    from generator.ml.loading import ModelSet, load, resolve_device

    versions = active([ENCODER, HEAD])
    encoder = next((v for v in versions if v.kind == ENCODER), None)
    if encoder is None:
        raise NotInstalled(
            _(
                "The assistant has no active sentence encoder. An admin can import the shipped one "
                "with `manage.py models import`."
            )
        )
    cards = style_cards()
    index_file = indexing.similar_index_path(encoder.sha256)
    stamp = index_file.stat().st_mtime_ns if index_file.exists() else None
    key = (tuple(sorted((v.kind, v.slot, v.sha256) for v in versions)), tuple(cards), stamp)
    with _lock:
        found = _assistants.get(key)
        if found is None:
            models = ModelSet.of(registry.weights_of(v) for v in versions)
            dev = resolve_device(device)
            heads = {slot: load(models[(HEAD, slot)], dev) for kind, slot in models if kind == HEAD}
            index = None
            if stamp is not None:
                from assistant.ml.similar import Index

                index = Index.load(index_file)
            encoder_net = load(models[(ENCODER, "")], dev)
            assert isinstance(encoder_net, SentenceEncoder)  # the kind's network (generator/ml/kinds.py)
            found = Assistant(encoder_net, heads, cards, index)
            found.fit_styles(read_choices(STYLE_CHOICES, "validation"))  # a fraction of a second
            _assistants.clear()  # an activation or a preset edit: the old one is not coming back
            _assistants[key] = found
    return found, versions


LABEL_KEYS = ("movements", "subjects", "moods")


def writer_version() -> ModelVersion:
    """The active text generator's version (nothing loaded), or NotInstalled saying what an admin can do."""
    version = next(iter(active([WRITER])), None)
    if version is None:
        raise NotInstalled(
            _(
                "The assistant has no active text generator, so it cannot write. An admin can import "
                "the shipped one with `manage.py models import`."
            )
        )
    return version


def writer(device: str = "cpu"):
    """The active text generator, loaded once per process, ready to write: on the CPU with its weights packed
    (Writer.pack_for_cpu) unless ARTSTUDIO_WRITER_PACKED is off. Fine-tuning reads a copy of its own."""
    from assistant.ml.writer import Writer
    from generator.ml.loading import load, resolve_device

    version = writer_version()
    model = load(registry.weights_of(version), resolve_device(device))
    assert isinstance(model, Writer)  # the kind's network (generator/ml/kinds.py)
    if settings.ARTSTUDIO_WRITER_PACKED:
        with _lock:
            model.pack_for_cpu()  # once: it is the loader's cached instance
    return model, version


# -- ideas ----------------------------------------------------------------------------------------


def idea_create(*, owner: User, text: str = "", picture: UploadedFile | None = None) -> Idea:
    """Check the idea, keep it, and queue its analysis after the commit. Raises ValidationError by field."""
    if picture is None:
        try:
            text = check(text)
        except IdeaError as exc:
            params = {k: f"{v:,}" for k, v in exc.params.items()}
            raise ValidationError({"text": str(IDEA_ERRORS[exc.code]) % params}) from None
    else:
        text = (text or "").strip()[:200]
    idea = Idea(owner=owner, text=text)
    if picture is not None:
        checked = check_image(picture, field="picture")  # the studio's own checks: size, bombs, formats
        idea.picture.save(f"idea{checked.suffix}", ContentFile(checked.data), save=False)
    try:
        with transaction.atomic():
            idea.save()
            transaction.on_commit(lambda: _enqueue_analysis(idea.pk))
    except Exception:
        if idea.picture:
            idea.picture.delete(save=False)
        raise
    return idea


def _enqueue_analysis(idea_id: uuid.UUID) -> None:
    from assistant.tasks import analyse_idea

    _enqueue(
        analyse_idea,
        idea_id,
        _("The studio's task queue is not answering, so the assistant could not start. Please try again in a minute."),
    )


def _enqueue_writing(idea_id: uuid.UUID) -> None:
    from assistant.tasks import write_idea

    _enqueue(
        write_idea,
        idea_id,
        _("The studio's task queue is not answering, so the assistant could not write. Please try again in a minute."),
    )


def _enqueue(task, idea_id: uuid.UUID, unreachable: str) -> None:
    """Send the idea on; runs after the commit. A broker that cannot be reached fails the idea visibly."""
    try:
        task.delay(str(idea_id))
    except Exception:
        logger.exception("Could not queue %s for idea %s", task.name, idea_id)
        _fail(idea_id, unreachable)


def _fail(idea_id, message: str) -> None:
    Idea.objects.filter(pk=idea_id).exclude(status=Idea.Status.DONE).update(status=Idea.Status.FAILED, error=message)


def _claim(idea_id, start: str, to: str) -> bool:
    # A conditional update: a message delivered twice finds the idea already taken and does nothing.
    return Idea.objects.filter(pk=idea_id, status=start).update(status=to) == 1


def idea_analyse(*, idea_id: uuid.UUID | str) -> Idea | None:
    """Labels, styles (and for a picture, what it shows); then the writing is queued."""
    if not _claim(idea_id, Idea.Status.QUEUED, Idea.Status.ANALYSING):
        return None
    idea = Idea.objects.get(pk=idea_id)
    started, versions = timezone.now(), []
    try:
        helper, versions = assistant(settings.ARTSTUDIO_DEVICE)
        text = idea.text
        seen: dict = {}
        if idea.picture:
            seen, picture_version = _look_at(idea)
            versions = [*versions, picture_version]
            text = seen["idea"] + (f". {idea.text}" if idea.text else "")
        # A picture is to be painted: styles that would erase it are not suggested
        spare = settings.ARTSTUDIO_ERASES_BELOW if idea.picture else None
        analysis = helper.classify(text, spare_photo=spare).as_json()
    except NotInstalled as exc:
        _fail(idea.pk, str(exc))
        return None
    except Exception:
        logger.exception("Idea %s could not be analysed", idea.pk)
        _fail(idea.pk, _("Something went wrong while reading this idea. Please try again."))
        model_use_record(versions=versions, purpose=READING, outcome=ModelUse.Outcome.FAILED, started=started)
        return None
    if "no_index" in analysis["codes"]:
        indexing.similar_index_ensure()  # queued at the first start; asked again here in case it was lost
    english = "not_english" not in analysis["codes"]
    with transaction.atomic():
        model_use_record(versions=versions, purpose=READING, outcome=ModelUse.Outcome.SUCCEEDED, started=started)
        idea.model_versions.set(versions)
        updated = Idea.objects.filter(pk=idea.pk, status=Idea.Status.ANALYSING).update(
            seen=seen, analysis=analysis, status=Idea.Status.WRITING if english else Idea.Status.DONE
        )
        if updated and english:
            transaction.on_commit(lambda: _enqueue_writing(idea.pk))
    idea.refresh_from_db()
    return idea


def _look_at(idea: Idea) -> tuple[dict, ModelVersion]:
    """What the picture network sees in the idea's picture: subject words, colours, brightness."""
    return _look_at_file(idea.picture)


def _look_at_file(field) -> tuple[dict, ModelVersion]:
    import io

    from PIL import Image

    from assistant.ml import picture
    from generator.ml.loading import load, resolve_device

    version = next(iter(active([PICTURE])), None)
    if version is None:
        raise NotInstalled(
            _(
                "The studio has no active perceptual network, so the assistant cannot look at "
                "pictures. An admin can import the shipped one with `manage.py models import`."
            )
        )
    net = load(registry.weights_of(version), resolve_device(settings.ARTSTUDIO_DEVICE))
    with field.open("rb") as f, Image.open(io.BytesIO(f.read())) as img:
        facts = picture.describe(img, net)  # describe() turns it upright (EXIF) and RGB itself
    return {
        "idea": picture.as_idea(facts),
        "summary": facts.summary,
        "confident": facts.confident,
        "subjects": [[w, round(c, 3)] for w, c in facts.subjects],
        "palette": [[hex_, round(share, 3)] for hex_, share in facts.palette],
        "colour_words": facts.colour_words,
        "brightness": facts.brightness,
    }, version


def idea_write(*, idea_id: uuid.UUID | str) -> Idea | None:
    """The language model's titles, richer prompts and description, each item saved once it is complete and has
    passed the filters (never the raw draft). Stops within a few tokens of the artist's cancel."""
    from assistant.ml import prompting

    idea = Idea.objects.filter(pk=idea_id, status=Idea.Status.WRITING).first()
    if idea is None:
        return None
    started = timezone.now()
    try:
        model, version = writer(settings.ARTSTUDIO_DEVICE)
        helper, helpers = assistant(settings.ARTSTUDIO_DEVICE)
    except NotInstalled as exc:
        _fail(idea.pk, str(exc))
        return None
    text = idea.seen.get("idea", "") + (f". {idea.text}" if idea.seen and idea.text else "") if idea.seen else idea.text
    labels = {key: [item["label"] for item in idea.analysis.get(key, [])] for key in LABEL_KEYS}
    rank = helper.closeness_to(text)
    used = [version, *(v for v in helpers if v.kind == ENCODER)]  # the writer, and the encoder that ranks
    mine = Idea.objects.filter(pk=idea.pk, status=Idea.Status.WRITING)

    def cancelled() -> bool:
        return not mine.exists()

    writing: dict = {"expansions": [], "titles": [], "description": ""}
    try:
        for section, items in prompting.write_all(
            model, text, labels, rank=rank, cancelled=cancelled, nearer=helper.nearer
        ):
            writing[section] = items
            mine.update(writing=writing, draft=prompting.as_text(writing))
    except prompting.Cancelled:
        model_use_record(versions=used, purpose=WRITING, outcome=ModelUse.Outcome.CANCELLED, started=started)
        return None
    except Exception:
        logger.exception("Idea %s could not be written", idea.pk)
        model_use_record(versions=used, purpose=WRITING, outcome=ModelUse.Outcome.FAILED, started=started)
        _fail(
            idea.pk,
            _(
                "Something went wrong while writing for this idea. The labels and styles above still "
                "stand; try again for the words."
            ),
        )
        return None
    with transaction.atomic():
        model_use_record(versions=used, purpose=WRITING, outcome=ModelUse.Outcome.SUCCEEDED, started=started)
        idea.model_versions.add(version)
        mine.update(writing=writing, draft=prompting.as_text(writing), status=Idea.Status.DONE)
    idea.refresh_from_db()
    return idea


def idea_cancel(*, idea: Idea, by: User) -> Idea:
    """Stop an idea that is still being read or written: what is written so far stays. ValidationError (a
    conflict, in the API) once it has finished."""
    require_owner(idea, by=by)
    unfinished = [Idea.Status.QUEUED, Idea.Status.ANALYSING, Idea.Status.WRITING]
    if not Idea.objects.filter(pk=idea.pk, status__in=unfinished).update(status=Idea.Status.CANCELLED):
        raise ValidationError(_("This idea has finished: there is nothing to cancel."), code="state")
    idea.refresh_from_db()
    return idea


# -- suggestions for a new artwork -------------------------------------------------------------------


def artwork_suggest_enqueue(*, artwork_id) -> None:
    from assistant.tasks import suggest_for_artwork

    try:
        suggest_for_artwork.apply_async(args=[str(artwork_id)], retry=False)  # never hold up the painting
    except Exception:  # a suggestion is a nicety: the artwork is saved, and it never fails because of one
        logger.exception("Could not queue suggestions for artwork %s", artwork_id)


def artwork_suggest(*, artwork_id) -> dict | None:
    """Tags (movement, subjects, mood) and titles for an artwork, from its photo and its style."""
    from assistant.ml import prompting
    from generator.models import Artwork, Preset

    artwork = Artwork.objects.select_related("job").filter(pk=artwork_id).first()
    if artwork is None or artwork.suggestions:
        return None  # deleted meanwhile, or already done (a message delivered twice)
    started = timezone.now()
    try:
        helper, versions = assistant(settings.ARTSTUDIO_DEVICE)
        seen, picture_version = _look_at_file(artwork.job.photo)
        model, writer_version = writer(settings.ARTSTUDIO_DEVICE)
    except NotInstalled as exc:
        logger.info("No suggestions for artwork %s: %s", artwork_id, exc)
        return None
    preset = Preset.objects.filter(slug=artwork.options.style_preset or "").first()
    style = f", painted in the style of {preset.name}: {preset.description}" if preset else ", as a painting"
    text = seen["idea"] + style
    # What it shows comes from the picture alone; its movement and mood from the picture and the style together.
    shown, analysis = helper.classify_many([seen["idea"], text])
    analysis.subjects = shown.subjects
    tags = (
        [m for m, c in analysis.movements[:1]]
        + [s for s, _ in analysis.subjects[:3]]
        + [m for m, _ in analysis.moods[:1]]
        + [w for w, _ in seen["subjects"][:2] if seen["confident"]]
    )
    titles = prompting.titles(model, seen["idea"], analysis.labels(), n=3, rank=helper.closeness_to(text))
    labels = analysis.labels()
    suggestions = {
        "titles": titles,
        "tags": list(dict.fromkeys(tags)),
        # What the gallery's search reads besides the tags: the words the picture was seen as, and the labels.
        "caption": seen["idea"],
        "labels": list(dict.fromkeys(labels["movements"][:2] + labels["subjects"][:3] + labels["moods"][:2])),
        "versions": [v.pk for v in [*versions, picture_version, writer_version]],
    }
    with transaction.atomic():
        if Artwork.objects.filter(pk=artwork.pk, suggestions={}).update(suggestions=suggestions):
            model_use_record(
                versions=[*versions, picture_version, writer_version],
                purpose=ModelUse.Purpose.SUGGESTING,
                outcome=ModelUse.Outcome.SUCCEEDED,
                started=started,
            )
    listing_changed(artwork.owner_id)  # the search reads the words
    return suggestions


def idea_save(*, idea: Idea, by: User, saved: bool = True) -> Idea:
    require_owner(idea, by=by)
    Idea.objects.filter(pk=idea.pk).update(saved=saved)
    idea.saved = saved
    return idea


def idea_delete(*, idea: Idea, by: User) -> None:
    require_owner(idea, by=by)
    picture = idea.picture.name
    storage = idea.picture.storage
    idea.delete()
    if picture:
        transaction.on_commit(lambda: storage.delete(picture))
