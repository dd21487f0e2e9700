"""The presets' names, marked for translation.

generator/ml never imports Django, so the message catalogue learns the names here; views show
``gettext(preset.name)``. A test checks that this list and generator.ml.presets agree.
"""

from django.utils.translation import gettext_noop

PRESET_NAMES = (
    gettext_noop("Sunlit Pastel"),
    gettext_noop("Pop Outline"),
    gettext_noop("Pale Sketch"),
    gettext_noop("Stained Glass"),
    gettext_noop("Rosy Watercolour"),
    gettext_noop("Amber Impression"),
    gettext_noop("Midnight Mosaic"),
    gettext_noop("Fauve Blocks"),
    gettext_noop("Crayon Doodle"),
    gettext_noop("Tile Mosaic"),
    gettext_noop("Sepia Oil"),
    gettext_noop("Ink on Cream"),
    gettext_noop("Lavender Haze"),
    gettext_noop("Verdant Pop"),
    gettext_noop("Frosted Wash"),
    gettext_noop("Nouveau Lines"),
    gettext_noop("Cobalt Strokes"),
    gettext_noop("Woven Bricks"),
    gettext_noop("Old Parchment"),
    gettext_noop("Blue Impasto"),
    gettext_noop("Crimson Fire"),
    gettext_noop("Poster Pop"),
    gettext_noop("Comic Ink"),
    gettext_noop("Charcoal"),
    gettext_noop("Delft Sketch"),
    gettext_noop("Copper Weave"),
    gettext_noop("The Starry Night"),
    gettext_noop("The Scream"),
    gettext_noop("The Shipwreck"),
    gettext_noop("Woman with a Hat"),
    gettext_noop("Udnie"),
)
