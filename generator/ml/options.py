"""A painting job's options, each with its range and default, defined once.

The studio's form and job service, the command line and the engine all read them here: the form for its
widgets, the service to refuse a bad request with a translated sentence, the command line before it
imports torch (a bad argument is answered at once), the engine before it touches a network. A job's
``params`` are a ``JobOptions`` written with ``to_params`` and read with ``from_params``. Neither torch nor
Django is imported here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

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


BLEND_WEIGHT = Range(0.0, 1.0, 0.5)  # a blend part's weight (the parts are shared out by their sum)
STRENGTH = Range(0.0, 1.0, 1.0)  # 0 keeps the photo, 1 paints with the style at full strength
BRUSH = Range(0.25, 4.0, 1.0)  # stroke size relative to the picture
SIDE = Range(64, 4096, 1024)  # the output's long side in pixels
STUDIO_SIDES = (512, 1024, 2048, 4096)  # the sizes the studio offers (the engine takes any size in SIDE)
MODES = ("fast", "quality")
BLEND_PARTS = (2, 3)  # the fewest and most styles the studio blends
PAINTING_PART = "painting"  # a blend's part that is the job's own uploaded painting


@dataclass(frozen=True)
class JobOptions:
    """What a job paints with besides its pictures: a preset's slug (None for an uploaded painting or a blend),
    a blend's (preset slug or PAINTING_PART, weight) parts, and how it paints. Stored as the job's (and its
    artwork's) ``params``."""

    style_preset: str | None = None
    blend: tuple[tuple[str, float], ...] = ()
    strength: float = STRENGTH.default
    brush: float = BRUSH.default
    preserve_colors: bool = False
    max_side: int = int(SIDE.default)
    mode: str = MODES[0]

    def out_of_range(self) -> list[str]:
        """The names of the options the studio does not accept, in field order; [] when all are fine."""
        checks = {
            "blend": not self.blend or self.blend_fits(),
            "strength": STRENGTH.holds(self.strength),
            "brush": BRUSH.holds(self.brush),
            "max_side": self.max_side in STUDIO_SIDES,
            "mode": self.mode in MODES,
        }
        return [name for name, ok in checks.items() if not ok]

    def blend_fits(self) -> bool:
        """Two or three different styles, each weighed from 0 to 1, not all 0."""
        styles = [part for part, _ in self.blend]
        weights = [weight for _, weight in self.blend]
        return (
            BLEND_PARTS[0] <= len(styles) <= BLEND_PARTS[1]
            and len(set(styles)) == len(styles)
            and all(BLEND_WEIGHT.holds(w) for w in weights)
            and sum(weights) > 0
        )

    @property
    def blend_weights(self) -> list[tuple[str, int]]:
        """The blend's parts with their share in whole percent, as the studio shows them."""
        total = sum(w for _, w in self.blend) or 1.0
        return [(part, round(100 * w / total)) for part, w in self.blend]

    def to_params(self) -> dict[str, Any]:
        params = asdict(self)
        params["blend"] = [list(part) for part in self.blend]  # JSON has no tuples
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> JobOptions:
        """A job's options from its stored params; an option a job predates takes its default."""
        known = {name: params[name] for name in cls.__dataclass_fields__ if name in params}
        if "blend" in known:
            known["blend"] = tuple((str(part), float(weight)) for part, weight in known["blend"] or ())
        return cls(**known)

    @property
    def styles(self) -> tuple[str, ...]:
        """What it paints with: a blend's parts, or its one preset; none for the artist's own painting alone."""
        return tuple(part for part, _ in self.blend) or ((self.style_preset,) if self.style_preset else ())

    def engine_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``engine.stylize`` these options set."""
        return {
            "strength": self.strength,
            "preserve_colors": self.preserve_colors,
            "max_side": self.max_side,
            "brush": self.brush,
            "mode": self.mode,
        }


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
