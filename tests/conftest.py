"""Shared fixtures: the shipped sample pictures and small synthetic ones."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

ASSETS = Path(__file__).resolve().parents[1] / "generator" / "ml" / "assets"
PHOTOS = sorted((ASSETS / "photos").iterdir())
PAINTINGS = sorted((ASSETS / "styles").iterdir())


@pytest.fixture
def chelsea() -> Path:
    return ASSETS / "photos" / "chelsea.png"


@pytest.fixture
def astronaut() -> Path:
    return ASSETS / "photos" / "astronaut.png"


@pytest.fixture
def starry() -> Path:
    return ASSETS / "styles" / "starry_night.jpg"


def png_bytes(img: Image.Image, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **options)
    return buf.getvalue()
