"""Every file of the hostile corpus (tests/fixtures/hostile/, made by its make_corpus.py) posted to the
studio as a person would: refused ones leave no row and no byte behind and say why in words a person
understands; odd but valid pictures are accepted and stored re-encoded, without their metadata or
anything hidden behind the picture, and are served back with a type the server chose.

How long each refusal takes is measured by bench/hostile.py (target: at most 500 ms)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import files_under
from PIL import Image

from generator.models import Job

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())

# What the refusal says, by the corpus's reason: words a person understands, not a Pillow error.
SAYS = {
    "empty": ["empty"],
    "not-a-picture": ["not a picture the studio can read", "damaged or cut short"],
    "format": ["the studio reads JPEG, PNG and WebP pictures"],
    "bomb": ["megapixel"],
    "damaged": ["damaged or cut short"],
    "too-small": ["both sides need at least 32 pixels"],
    "aspect": ["up to 16:1", "crop"],
}
# Bytes that must not survive the re-encode: payloads, scripts, metadata
NEVER_STORED = [b"POLYGLOT-PAYLOAD", b"PK\x03\x04", b"<script", b"<?php", b"Exif\x00\x00", b"GPS"]


def entry_id(entry: dict) -> str:
    return f"{entry['expect']}-{entry['file']}"


def post_photo(client, entry: dict):
    data = (CORPUS / entry["file"]).read_bytes()
    name = entry.get("upload_name", entry["file"])
    return client.post(
        reverse("generator:studio"),
        {
            "photo": SimpleUploadedFile(name, data, content_type="image/png"),
            "style_source": "preset",
            "style_preset": "starry-night",
            "strength": "1",
            "brush": "1",
            "max_side": "512",
            "mode": "fast",
        },
    )


def test_the_corpus_is_big_and_every_file_is_described():
    on_disk = {p.name for p in CORPUS.iterdir() if p.name not in ("make_corpus.py", "manifest.json")}
    described = {e["file"] for e in MANIFEST}
    assert on_disk == described
    assert len(MANIFEST) >= 30
    assert {e["reason"] for e in MANIFEST if e["expect"] == "refuse"} == set(SAYS)


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["expect"] == "refuse"], ids=entry_id)
def test_a_hostile_file_is_refused_clearly_and_leaves_nothing(alice_client, isolated_data, no_broker, entry):
    response = post_photo(alice_client, entry)
    assert response.status_code == 400
    html = response.content.decode()
    errors = html[html.index('data-testid="errors-photo"') :][:600]
    assert any(words.lower() in errors.lower() for words in SAYS[entry["reason"]]), errors
    assert "Traceback" not in html and "PIL" not in errors
    assert Job.objects.count() == 0 and files_under(isolated_data) == [] and no_broker == []


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["expect"] == "accept"], ids=entry_id)
def test_an_odd_but_valid_picture_is_stored_re_encoded_without_its_metadata(alice_client, no_broker, entry):
    response = post_photo(alice_client, entry)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get()
    stored = job.photo.read()
    assert job.photo.name.endswith((".jpg", ".png")) and "php" not in job.photo.name and ".." not in job.photo.name
    for needle in NEVER_STORED:
        assert needle not in stored, needle
    with Image.open(io.BytesIO(stored)) as img:
        assert img.format in ("JPEG", "PNG") and not img.getexif()
        assert not any(key in img.info for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment"))
        img.load()
    assert job.stored_bytes == len(stored) + job.thumbnail.size  # the photo and its small copy

    served = alice_client.get(reverse("generator:job-photo", args=[job.pk]))
    assert served["Content-Type"] == {"JPEG": "image/jpeg", "PNG": "image/png"}[img.format]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == stored


def test_a_rotated_photo_is_stored_upright(alice_client, no_broker):
    [entry] = [e for e in MANIFEST if e["file"] == "exif-rotated.jpg"]
    with Image.open(CORPUS / entry["file"]) as original:
        assert original.getexif().get(0x0112) == 6 and original.size == (128, 96)
    post_photo(alice_client, entry)
    with Image.open(Job.objects.get().photo) as stored:
        assert stored.size == (96, 128)  # turned, since no EXIF is left to say so


def test_a_cameras_multi_picture_jpeg_is_a_photo(alice_client, no_broker):
    [entry] = [e for e in MANIFEST if e["file"].endswith(".mpo")]
    assert Image.open(CORPUS / entry["file"]).format == "MPO"
    assert post_photo(alice_client, entry).status_code == 302
    assert Job.objects.get().photo.name.endswith(".jpg")


def test_a_40_by_100000_strip_is_refused_with_what_to_do(alice_client, isolated_data, no_broker):
    [entry] = [e for e in MANIFEST if e["file"] == "tall-40x100000.png"]
    html = post_photo(alice_client, entry).content.decode()
    assert "40×100000 pixels" in html and "Please crop it" in html
    assert files_under(isolated_data) == []
