"""What an artist does to a finished artwork: retitle it, delete it with every file of it and its job.

An artwork is made by its job (jobs._artwork_save), never here.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from generator.listing import listing_changed
from generator.models import Artwork
from generator.ownership import require_owner
from generator.services.files import delete_files


def artwork_delete(*, artwork: Artwork, by: User) -> None:
    """Remove an artwork, the job that made it, and every file of both (photo, painting, result)."""
    job = artwork.job
    require_owner(job, by=by)
    files = [(f.storage, f.name) for f in (*artwork.files(), *job.files())]
    with transaction.atomic():
        job.delete()  # the artwork goes with it (CASCADE)
        # Files go only once the rows are gone for good: a rollback must not leave a row without its file.
        transaction.on_commit(lambda: delete_files(files))


def artwork_retitle(*, artwork: Artwork, by: User, title: str) -> Artwork:
    require_owner(artwork, by=by)
    title = " ".join(title.split())[:120]
    Artwork.objects.filter(pk=artwork.pk).update(title=title)
    listing_changed(artwork.owner_id)
    artwork.title = title
    return artwork
