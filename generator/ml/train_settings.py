"""A training run's settings, and what they may be: no torch here, so the web process checks an admin's settings
before anything is queued (generator/ml/training.py trains with them)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import StyleError


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 400
    size: int = 256  # the side of the square crops the network learns on
    batch: int = 2
    lr: float = 2e-3
    style_weight: float = 4.0  # relative to the content term's 1
    content_weight: float = 1.0
    tv_weight: float = 0.2
    # The coarse tone term: the picture's light and shade, seen at TONE_CELLS cells a side, follows the photo's
    # (1 - their correlation). It keeps a clear sky from being blotted; 0 leaves it out.
    tone_weight: float = 0.0
    painting_side: int = 384  # the painting's long side when its Gram matrices are read
    min_scale: float = 0.4  # a crop covers between this share and all of the photo's short side
    sample_every: int = 100  # steps between samples (step 0 and the last step always have one)
    sample_side: int = 256
    checkpoint_seconds: float = 180.0
    seed: int = 0

    def check(self) -> TrainSettings:
        """The settings, or a StyleError that says which one is wrong and what it may be."""
        rules = [
            ("steps", 1 <= self.steps <= 1_000_000, "a whole number from 1"),
            ("size", 64 <= self.size <= 1024 and self.size % 4 == 0, "a multiple of 4 from 64 to 1024"),
            ("batch", 1 <= self.batch <= 64, "from 1 to 64"),
            ("lr", 0 < self.lr <= 1, "above 0 and at most 1"),
            ("style_weight", 0 < self.style_weight <= 1e6, "above 0"),
            ("content_weight", 0 <= self.content_weight <= 1e6, "0 or more"),
            ("tv_weight", 0 <= self.tv_weight <= 1e3, "0 or more"),
            ("tone_weight", 0 <= self.tone_weight <= 1e3, "0 or more"),
            ("painting_side", 64 <= self.painting_side <= 2048, "from 64 to 2048"),
            ("min_scale", 0 < self.min_scale <= 1, "above 0 and at most 1"),
            ("sample_every", self.sample_every >= 1, "1 or more"),
            ("checkpoint_seconds", self.checkpoint_seconds > 0, "above 0"),
        ]
        for name, ok, what in rules:
            if not ok:
                raise StyleError(f"The setting {name} must be {what}; it is {getattr(self, name)!r}.")
        return self

    @classmethod
    def defaults(cls, kind: str, device: str = "cpu") -> TrainSettings:
        """Good settings for what is trained and where: a run of about ten minutes on a 2-core CPU (bench/train.py
        measures its speed), a longer, larger one on a GPU. One style of the 26-style network learns a few
        thousand numbers from a trained network; a single-style network learns 1.7 million from nothing."""
        gpu = str(device).startswith("cuda")
        if kind == "multistyle26":
            return cls(steps=4000, batch=8, sample_every=500) if gpu else cls(steps=1500, batch=2, sample_every=250)
        if kind == "transformer_net":
            return (
                cls(steps=20000, batch=8, lr=1e-3, sample_every=1000)
                if gpu
                else cls(steps=300, size=192, batch=1, lr=2e-3, sample_every=50)
            )
        raise StyleError(f"Only the 26-style network and single-style networks can be trained, not {kind}.")

    @classmethod
    def with_changes(cls, kind: str, device: str = "cpu", **changes: object) -> TrainSettings:
        """The defaults for `kind` on `device` with some settings changed; a StyleError names a setting that
        does not exist or a value that is wrong."""
        known = {f.name for f in fields(cls)}
        base = cls.defaults(kind, device)
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise StyleError(f"There is no setting {name!r}; the settings are {', '.join(sorted(known))}.")
            try:
                if isinstance(value, bool) or not isinstance(value, int | float | str):
                    raise ValueError
                number = float(value)
            except ValueError:
                raise StyleError(f"The setting {name} must be a number; it is {value!r}.") from None
            if isinstance(getattr(base, name), int):
                if not number.is_integer():
                    raise StyleError(f"The setting {name} must be a whole number; it is {value!r}.")
                values[name] = int(number)
            else:
                values[name] = number
        return replace(base, **values).check()
