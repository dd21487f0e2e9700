"""The built-in style library: 26 styles of the multi-style network and five public-domain paintings.

Network presets pick (or blend) the multi-style network's learned styles; painting presets feed a
painting to the arbitrary-style network. Names and tags of the 26 network styles were given by
looking at each one rendered on the astronaut photo (``artstudio-stylize --thumbnails DIR`` renders them).
Pure data: nothing here paints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import StyleError

ASSETS = Path(__file__).resolve().parent / "assets"
REFERENCE_PHOTO = ASSETS / "photos" / "astronaut.png"


def preset_texts() -> dict[str, dict]:
    """Each shipped preset's description and example ideas (for the assistant), by slug."""
    import json

    path = ASSETS / "preset_texts.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@dataclass(frozen=True)
class Preset:
    slug: str
    name: str
    tags: tuple[str, ...]
    index: int | None = None  # the multi-style network's style number
    painting: str | None = None  # a file under assets/styles/
    credit: str = ""
    kind: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", "network" if self.index is not None else "painting")

    @property
    def painting_path(self) -> Path | None:
        return ASSETS / "styles" / self.painting if self.painting else None


_NETWORK = [
    (0, "sunlit-pastel", "Sunlit Pastel", ("pastel", "warm", "soft")),
    (1, "pop-outline", "Pop Outline", ("bold", "graphic", "yellow", "outlines")),
    (2, "pale-sketch", "Pale Sketch", ("sketch", "light", "pencil")),
    (3, "stained-glass", "Stained Glass", ("vivid", "abstract", "red", "blue")),
    (4, "rosy-watercolour", "Rosy Watercolour", ("watercolour", "pastel", "red")),
    (5, "amber-impression", "Amber Impression", ("impressionism", "warm", "orange")),
    (6, "midnight-mosaic", "Midnight Mosaic", ("dark", "blue", "cellular")),
    (7, "fauve-blocks", "Fauve Blocks", ("fauvism", "bold colour", "blocks")),
    (8, "crayon-doodle", "Crayon Doodle", ("crayon", "light", "pink")),
    (9, "tile-mosaic", "Tile Mosaic", ("mosaic", "pattern", "red", "teal")),
    (10, "sepia-oil", "Sepia Oil", ("oil", "sepia", "brown")),
    (11, "ink-on-cream", "Ink on Cream", ("ink", "line", "light")),
    (12, "lavender-haze", "Lavender Haze", ("pastel", "soft", "violet")),
    (13, "verdant-pop", "Verdant Pop", ("green", "bold", "graphic")),
    (14, "frosted-wash", "Frosted Wash", ("wash", "pale", "blue")),
    (15, "nouveau-lines", "Nouveau Lines", ("ornamental", "lines", "pastel")),
    (16, "cobalt-strokes", "Cobalt Strokes", ("brushstrokes", "blue", "ochre")),
    (17, "woven-bricks", "Woven Bricks", ("geometric", "abstract", "red")),
    (18, "old-parchment", "Old Parchment", ("vintage", "sepia", "line")),
    (19, "blue-impasto", "Blue Impasto", ("impasto", "blue", "yellow")),
    (20, "crimson-fire", "Crimson Fire", ("expressionism", "red", "fiery")),
    (21, "poster-pop", "Poster Pop", ("flat", "pink", "bold")),
    (22, "comic-ink", "Comic Ink", ("illustration", "cool", "outlines")),
    (23, "charcoal", "Charcoal", ("monochrome", "dark", "charcoal")),
    (24, "delft-sketch", "Delft Sketch", ("sketch", "blue", "cream")),
    (25, "copper-weave", "Copper Weave", ("texture", "orange", "blue")),
]

_PAINTINGS = [
    Preset(
        "starry-night",
        "The Starry Night",
        ("post-impressionism", "swirls", "night", "blue"),
        painting="starry_night.jpg",
        credit="Vincent van Gogh, 1889 (public domain)",
    ),
    Preset(
        "the-scream",
        "The Scream",
        ("expressionism", "waves", "orange", "anxious"),
        painting="the_scream.jpg",
        credit="Edvard Munch, 1893 (public domain)",
    ),
    Preset(
        "shipwreck",
        "The Shipwreck",
        ("romanticism", "sea", "storm", "muted"),
        painting="shipwreck.jpg",
        credit="J. M. W. Turner, 1805 (public domain)",
    ),
    Preset(
        "woman-with-a-hat",
        "Woman with a Hat",
        ("fauvism", "bold colour", "brushwork"),
        painting="woman_with_hat.jpg",
        credit="Henri Matisse, 1905 (public domain)",
    ),
    Preset(
        "udnie",
        "Udnie",
        ("cubism", "abstract", "geometric", "cool"),
        painting="udnie.jpg",
        credit="Francis Picabia, 1913 (public domain)",
    ),
]

PRESETS: dict[str, Preset] = {
    p.slug: p for p in [Preset(slug, name, tags, index=i) for i, slug, name, tags in _NETWORK] + _PAINTINGS
}


def get(slug: str) -> Preset:
    try:
        return PRESETS[slug]
    except KeyError:
        raise StyleError(f"There is no preset called {slug!r}. Pick one from the preset list.") from None
