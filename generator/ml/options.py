"""A painting job's options, each with its range and default, defined once.

The engine checks them here before it touches a network, and the command line checks them here before it
imports torch, so a bad argument is answered at once. Neither torch nor Django is imported: the studio's
web process may read this table too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import StyleError


@dataclass(frozen=True)
class Range:
    """A number an option may take: `low` to `high` inclusive, `default` when it is not given."""

    low: float
    high: float
    default: float

    def holds(self, value: object) -> bool:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and self.low <= value <= self.high
        )


STRENGTH = Range(0.0, 1.0, 1.0)  # 0 keeps the photo, 1 paints with the style at full strength
BRUSH = Range(0.25, 4.0, 1.0)  # stroke size relative to the picture
SIDE = Range(64, 4096, 1024)  # the output's long side in pixels
MODES = ("fast", "quality")


def check_options(*, strength: object, max_side: object, brush: object, mode: object) -> None:
    """Raise StyleError with a sentence an artist can act on for the first option out of its range."""
    if not STRENGTH.holds(strength):
        raise StyleError(f"Strength must be between {STRENGTH.low:g} and {STRENGTH.high:g}, not {strength!r}.")
    if not (isinstance(max_side, int) and SIDE.holds(max_side)):
        raise StyleError(
            f"The output size must be a whole number of pixels from {SIDE.low:g} to {SIDE.high:g}, not {max_side!r}."
        )
    if not BRUSH.holds(brush):
        raise StyleError(f"Brush size must be between {BRUSH.low:g} and {BRUSH.high:g}, not {brush!r}.")
    if mode not in MODES:
        raise StyleError(f"Mode must be 'fast' or 'quality', not {mode!r}.")


def check_weight(weight: object) -> None:
    """A blend weight: zero or more (a blend's weights are normalised by their sum)."""
    if not (isinstance(weight, int | float) and not isinstance(weight, bool) and math.isfinite(weight) and weight >= 0):
        raise StyleError(f"Blend weights must be zero or more, not {weight!r}.")
