"""Downloads carry what made the picture: parameters and model versions in the PNG's text chunks, a readable
name, and a zip of many pictures that streams."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from PIL import Image

from generator import provenance

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_download_is_named_for_its_title_and_carries_its_parameters_and_versions(alice_client, alice, paint):
    artwork = paint(alice, title='Harbour: "dusk" / 港口', style_preset="pop-outline", strength=0.7)

    response = alice_client.get(reverse("generator:artwork-image", args=[artwork.pk]), {"download": "1"})
    data = body(response)

    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Harbour%20dusk%20%E6%B8%AF%E5%8F%A3.png"
    assert int(response["Content-Length"]) == len(data)
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()  # every chunk's CRC is checked on the way
        info = json.loads(picture.text["artstudio"])
        assert picture.text["Software"] == "Artstudio"
        assert picture.size == (artwork.width, artwork.height)
    assert info["parameters"]["style_preset"] == "pop-outline" and info["parameters"]["strength"] == 0.7
    assert info["title"] == 'Harbour: "dusk" / 港口'
    assert [v["sha256"] for v in info["model_versions"]] == [v.sha256 for v in artwork.model_versions.all()]


def test_the_picture_shown_in_the_page_is_the_file_as_it_was_saved(alice_client, alice, paint):
    artwork = paint(alice)
    shown = body(alice_client.get(reverse("generator:artwork-image", args=[artwork.pk])))
    assert shown == artwork.image.open("rb").read()


def test_an_untitled_picture_is_named_by_its_id():
    from types import SimpleNamespace

    assert provenance.download_name(SimpleNamespace(title="", pk="0123456789abcdef")) == "artstudio-01234567.png"
    assert provenance.download_name(SimpleNamespace(title=" ..:: ", pk="fedcba9876543210")) == "artstudio-fedcba98.png"


def test_text_chunks_go_in_only_a_png():
    with pytest.raises(ValueError, match="not a PNG"):
        list(provenance.png_with_text([b"GIF89a" + b"\0" * 40], {}))


def test_a_zip_of_the_selection_holds_each_picture_and_its_json_under_unique_names(alice_client, alice, paint):
    pictures = [paint(alice, title="Sea") for _ in range(2)] + [paint(alice, title="")]

    response = alice_client.post(reverse("gallery:selection"), {"action": "zip", "ids": [str(p.pk) for p in pictures]})
    data = body(response)

    assert response.streaming and response["Content-Type"] == "application/zip"
    assert int(response["Content-Length"]) == len(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = sorted(archive.namelist())
        untitled = provenance.download_name(pictures[2])
        assert names == sorted(
            ["Sea.png", "Sea.json", "Sea (2).png", "Sea (2).json", untitled, untitled[:-4] + ".json"]
        )
        with Image.open(io.BytesIO(archive.read("Sea (2).png"))) as picture:
            picture.load()
            assert json.loads(picture.text["artstudio"]) == json.loads(archive.read("Sea (2).json"))


def test_a_picture_whose_file_is_gone_is_listed_instead_of_breaking_the_zip(alice_client, alice, paint):
    kept, lost = paint(alice, title="Kept"), paint(alice, title="Lost")
    lost.image.storage.delete(lost.image.name)

    response = alice_client.post(reverse("gallery:selection"), {"action": "zip", "ids": [str(kept.pk), str(lost.pk)]})

    with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
        assert sorted(archive.namelist()) == ["Kept.json", "Kept.png", "missing.txt"]
        assert str(lost.pk) in archive.read("missing.txt").decode()


def test_the_zip_reads_each_file_only_when_it_gets_there(alice, paint, monkeypatch):
    """Nothing is read when the zip is made, and one file at a time afterwards: memory stays flat."""
    from gallery import downloads

    pictures = [paint(alice, title=f"p{i}") for i in range(3)]
    events = []
    real = provenance.file_chunks

    def watched(field):
        events.append(("open", field.name))
        yield from real(field)
        events.append(("done", field.name))

    monkeypatch.setattr(downloads, "file_chunks", watched)
    archive = downloads.artworks_zip(pictures)
    assert events == []
    for _piece in archive:
        assert len([e for e in events if e[0] == "open"]) - len([e for e in events if e[0] == "done"]) <= 1
    assert events == [(e, p.image.name) for p in pictures for e in ("open", "done")]
