"""The check before a picture is public: an artist asks, a worker runs the nudity check, an admin decides the rest.

An artwork is private until its Moderation has passed (`Moderation.passed`): the check said safe, or an admin
approved it. Asking queues the check on the "cpu" queue after the commit; the picture goes public the moment it
is found safe. Flagged and unavailable (no active model, a failure, a broker that did not answer) both wait for an
admin, so a missing model never reads as safe. The network runs in the worker only (`_score`): the web never
imports torch.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gallery.models import Decision, Moderation, ModerationStatus
from generator import registry
from generator.listing import listing_changed
from generator.models import Artwork, ModelVersion, Visibility
from generator.ownership import require_owner

logger = logging.getLogger(__name__)

KIND = "open_nsfw"


def artwork_publish(*, artwork: Artwork, by: User) -> Moderation:
    """Ask for the picture to be public: at once if it passed its check before, else once the check passes."""
    require_owner(artwork, by=by)
    with transaction.atomic():
        moderation, _created = Moderation.objects.select_for_update().get_or_create(artwork=artwork)
        moderation.wants_public = True
        if moderation.passed:
            moderation.save(update_fields=["wants_public"])
            Artwork.objects.filter(pk=artwork.pk).update(visibility=Visibility.PUBLIC)
            listing_changed(artwork.owner_id)
            artwork.visibility = Visibility.PUBLIC
            return moderation
        if moderation.decision == Decision.REJECTED:  # an admin said no: asking again changes nothing
            moderation.save(update_fields=["wants_public"])
            return moderation
        moderation.status, moderation.reason = ModerationStatus.PENDING, ""
        moderation.save()
        transaction.on_commit(lambda: enqueue_check(artwork.pk))
    return moderation


def artwork_unpublish(*, artwork: Artwork, by: User) -> None:
    """Private again (the check's answer is kept: publishing later needs no second check)."""
    require_owner(artwork, by=by)
    with transaction.atomic():
        Moderation.objects.filter(artwork=artwork).update(wants_public=False)
        Artwork.objects.filter(pk=artwork.pk).update(visibility=Visibility.PRIVATE)
        listing_changed(artwork.owner_id)
    artwork.visibility = Visibility.PRIVATE


def enqueue_check(artwork_id: uuid.UUID) -> None:
    from gallery.tasks import moderate_artwork

    try:
        moderate_artwork.apply_async(args=[str(artwork_id)], retry=False)
    except Exception:  # the broker did not answer: the check is unavailable, and an admin sees it
        logger.exception("Could not queue the check of artwork %s", artwork_id)
        Moderation.objects.filter(artwork_id=artwork_id, status=ModerationStatus.PENDING).update(
            status=ModerationStatus.UNAVAILABLE, reason=_("The check could not be queued (the broker did not answer).")
        )


def artwork_moderate(*, artwork_id: uuid.UUID | str) -> Moderation | None:
    """The worker's part: score the picture, record the answer, and make it public if it is safe and wanted."""
    moderation = Moderation.objects.select_related("artwork__job").filter(artwork_id=artwork_id).first()
    if moderation is None:
        return None  # the picture was deleted meanwhile
    version = ModelVersion.objects.filter(kind=KIND, is_active=True).first()
    if version is None:
        status, score, reason = ModerationStatus.UNAVAILABLE, None, _("No nudity check is active.")
    else:
        try:
            score = _score(moderation.artwork, version)
        except Exception:
            logger.exception("The check of artwork %s failed", artwork_id)
            status, score, reason = ModerationStatus.UNAVAILABLE, None, _("The check failed on this picture.")
        else:
            flagged = score >= settings.ARTSTUDIO_NSFW_THRESHOLD
            status = ModerationStatus.FLAGGED if flagged else ModerationStatus.SAFE
            reason = _("It may show nudity or sexual content.") if flagged else ""
    with transaction.atomic():
        Moderation.objects.filter(pk=moderation.pk).update(
            status=status,
            score=score,
            threshold=settings.ARTSTUDIO_NSFW_THRESHOLD,
            model_version=version,
            reason=reason,
            checked=timezone.now(),
        )
        moderation.refresh_from_db()
        if moderation.passed and moderation.wants_public:
            Artwork.objects.filter(pk=moderation.artwork_id).update(visibility=Visibility.PUBLIC)
        listing_changed(moderation.artwork.owner_id)  # what a shared board shows: the pictures that passed
    return moderation


def _score(artwork: Artwork, version: ModelVersion) -> float:
    """The higher of the painting's score and the photo's it was painted from: painted, a nude keeps its shapes
    but loses the skin the network looks for (bench/nsfw_threshold.py measured recall falling from 82 % on the
    pictures as they are to 19 % painted), so the photo is where the check sees what the painting shows."""
    import torch

    from gallery.ml.open_nsfw import preprocess
    from generator.ml.imaging import load_image
    from generator.ml.loading import load, resolve_device

    device = resolve_device(settings.ARTSTUDIO_DEVICE)
    net = load(registry.weights_of(version), device)
    pictures = [artwork.image, artwork.job.photo] if artwork.job.photo else [artwork.image]
    batch = torch.cat([preprocess(load_image(registry.read_file(field))) for field in pictures])
    with torch.inference_mode():
        return float(net(batch.to(device)).max().item())


def moderation_decide(*, moderation: Moderation, by: User, approve: bool) -> Moderation:
    """An admin's decision on a flagged or unchecked picture; an approved one goes public if the artist asked."""
    with transaction.atomic():
        moderation.decision = Decision.APPROVED if approve else Decision.REJECTED
        moderation.decided_by, moderation.decided = by, timezone.now()
        moderation.save(update_fields=["decision", "decided_by", "decided"])
        visible = Visibility.PUBLIC if approve and moderation.wants_public else Visibility.PRIVATE
        Artwork.objects.filter(pk=moderation.artwork_id).update(visibility=visible)
        listing_changed(Artwork.objects.values_list("owner_id", flat=True).get(pk=moderation.artwork_id))
    logger.info("Moderation of artwork %s: %s by %s", moderation.artwork_id, moderation.decision, by)
    return moderation


def moderation_recheck(*, moderation: Moderation) -> None:
    """Run the check again (a model was activated since, or the broker is back); the decision is cleared."""
    Moderation.objects.filter(pk=moderation.pk).update(
        status=ModerationStatus.PENDING, decision=Decision.NONE, decided_by=None, decided=None, reason=""
    )
    listing_changed(Artwork.objects.values_list("owner_id", flat=True).filter(pk=moderation.artwork_id).first())
    transaction.on_commit(lambda: enqueue_check(moderation.artwork_id))
