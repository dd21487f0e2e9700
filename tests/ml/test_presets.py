from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from generator.ml import presets
from generator.ml.cli import render_thumbnails
from generator.ml.errors import StyleError

STATIC = Path(__file__).resolve().parents[2] / "static" / "presets"


def test_the_library_holds_all_26_network_styles_and_the_five_paintings():
    network = [p for p in presets.PRESETS.values() if p.kind == "network"]
    paintings = [p for p in presets.PRESETS.values() if p.kind == "painting"]
    assert sorted(p.index for p in network) == list(range(26))
    assert len(paintings) == 5 and all(p.painting_path.exists() and p.credit for p in paintings)
    for p in presets.PRESETS.values():
        assert p.name and p.tags and p.slug == p.slug.lower().replace(" ", "-")


def test_an_unknown_preset_is_a_clear_error():
    with pytest.raises(StyleError, match="no preset called 'sunflowers'"):
        presets.get("sunflowers")


def test_every_preset_has_a_shipped_thumbnail():
    for slug in presets.PRESETS:
        with Image.open(STATIC / f"{slug}.webp") as thumb:
            assert max(thumb.size) == 256


def test_thumbnails_are_rendered_on_the_reference_photo(tmp_path, models):
    (path,) = render_thumbnails(tmp_path, models, side=96, slugs=["woven-bricks"])
    with Image.open(path) as thumb:
        assert thumb.format == "WEBP" and thumb.size == (96, 96)  # the astronaut photo is square
