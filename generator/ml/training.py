"""Train a style from a painting: one style of the 26-style network, or a single-style network. Pure PyTorch.

- **One style of the 26-style network** (Dumoulin et al. 2017, "A learned representation for artistic style"):
  only that style's conditional instance-norm scale and shift (its row of every ``gamma`` and ``beta``) learn;
  every other weight, and every other style's row, stays as it was (bit for bit: their gradients are masked).
  Fine-tuning an existing style starts from its current row.
- **A single-style network** (``TransformerNet``, Johnson et al. 2016), from scratch or from a ready version.

The loss is read under the registry's perceptual network (EfficientNet-Lite0, the one quality mode uses):
Gram style loss over its stages 1-4 against the painting, feature content loss at stage 4 against the photo, and
total variation. Each term is relative (divided by the size of what it is compared with), so one set of weights
suits any painting and photo. Content is photos cropped at random scales and flipped.

A ``Trainer`` runs a fixed number of steps; it can be stopped at any step (``cancel``), saves a checkpoint every
few minutes that a new process resumes from exactly (the weights, the optimiser, the step, the random state),
reports each step's losses, and paints samples on fixed photos (step 0 included). No Django here.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .errors import Cancelled, StyleError
from .imaging import fit_long_side, load_image, resize_long_side, to_image, to_tensor
from .metrics import gram
from .nets.efficientnet import EfficientNetLite0
from .nets.multistyle import MultiStyleNet
from .nets.transformer_net import TransformerNet

PHOTOS = Path(__file__).resolve().parent / "assets" / "photos"  # the shipped training photos (never the sheet)
STYLE_LAYERS = (0, 1, 2, 3)  # EfficientNetLite0.features(): stages 1-4, as quality mode
CONTENT_LAYER = 3  # stage 4: shapes, not the photo's own texture


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 400
    size: int = 256  # the side of the square crops the network learns on
    batch: int = 2
    lr: float = 2e-3
    style_weight: float = 4.0  # relative to the content term's 1
    content_weight: float = 1.0
    tv_weight: float = 0.2
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
    def defaults(cls, kind: str, device: torch.device | str = "cpu") -> TrainSettings:
        """Good settings for what is trained and where: a run of about ten minutes on a 2-core CPU (bench/train.py
        measures its speed), a longer, larger one on a GPU. One style of the 26-style network learns a few
        thousand numbers from a trained network; a single-style network learns 1.7 million from nothing."""
        gpu = torch.device(device).type == "cuda"
        if kind == "multistyle26":
            return cls(steps=4000, batch=8, sample_every=500) if gpu else cls(steps=1500, batch=2, sample_every=250)
        if kind == "transformer_net":
            return (
                cls(steps=20000, batch=8, lr=1e-3, sample_every=1000)
                if gpu
                else cls(steps=300, size=192, batch=1, lr=2e-3, sample_every=50)
            )
        raise StyleError(f"Only the 26-style network and single-style networks can be trained, not {kind}.")


@dataclass
class Step:
    """What one step reports: its number (1-based), the losses, and the time so far."""

    step: int
    total: int
    losses: dict[str, float]
    seconds: float


@dataclass
class Checkpoint:
    step: int
    network: dict[str, torch.Tensor]
    optimiser: dict
    random: torch.Tensor
    history: list[dict[str, float]] = field(default_factory=list)
    settings: dict = field(default_factory=dict)


class Trainer:
    """One training run of one network on one painting.

    `network` is a MultiStyleNet (with `style` the index of the style to train) or a TransformerNet; it is trained
    in place. `painting` is the style's picture, or several (their Gram matrices are averaged: a style known
    only by what a network paints, as the 26 shipped ones are, is its pictures of a few photos). `perceptual` is
    the EfficientNet-Lite0 the loss reads with; it never changes.
    """

    def __init__(
        self,
        network: nn.Module,
        painting: Image.Image | Sequence[Image.Image],
        photos: Sequence[Image.Image],
        perceptual: EfficientNetLite0,
        settings: TrainSettings,
        *,
        style: int | None = None,
        device: torch.device | str = "cpu",
    ):
        self.settings = settings.check()
        if not photos:
            raise StyleError("Training needs at least one content photo.")
        self.device = torch.device(device)
        self.net = network.to(self.device).train()
        self.perceptual = perceptual.to(self.device).eval().requires_grad_(False)
        self.style = style
        self.condition: torch.Tensor | None = None
        if isinstance(network, MultiStyleNet):
            if style is None or not 0 <= style < network.cfg.num_styles:
                raise StyleError(f"Choose which of the network's {network.cfg.num_styles} styles to train.")
            self.condition = F.one_hot(torch.tensor([style]), network.cfg.num_styles).float().to(self.device)
            self._train_only_style(network, style)
        elif not isinstance(network, TransformerNet):
            raise StyleError("Only the 26-style network and single-style networks can be trained.")
        self.parameters = [p for p in self.net.parameters() if p.requires_grad]
        self.optimiser = torch.optim.Adam(self.parameters, lr=settings.lr)
        self.random = torch.Generator().manual_seed(settings.seed)
        # Photos kept a little larger than the largest crop needs; every crop is cut from these
        longest = math.ceil(settings.size / settings.min_scale)
        self.photos = [to_tensor(resize_long_side(p, longest) if max(p.size) > longest else p) for p in photos]
        paintings = [painting] if isinstance(painting, Image.Image) else list(painting)
        if not paintings:
            raise StyleError("Training needs the style's painting.")
        grams = [self._grams(to_tensor(resize_long_side(p, settings.painting_side)).to(self.device)) for p in paintings]
        self.painting_grams = [torch.stack(layer).mean(dim=0) for layer in zip(*grams, strict=True)]
        self.step = 0
        self.history: list[dict[str, float]] = []

    # -- what learns ---------------------------------------------------------------------------------

    @staticmethod
    def _train_only_style(net: MultiStyleNet, style: int) -> None:
        net.requires_grad_(False)
        for name, p in net.named_parameters():
            if name.endswith(".gamma") or name.endswith(".beta"):
                p.requires_grad_(True)
                mask = torch.zeros_like(p)
                mask[style] = 1.0
                p.register_hook(lambda grad, mask=mask: grad * mask)

    # -- the loss ------------------------------------------------------------------------------------

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.perceptual.features(x, depth=max(*STYLE_LAYERS, CONTENT_LAYER) + 1)

    def _grams(self, x: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            feats = self._features(x)
        return [gram(feats[i]) for i in STYLE_LAYERS]

    def losses(self, photo: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The weighted loss of the network's picture of `photo` (N, 3, S, S) and its parts."""
        s = self.settings
        out = self.net(photo, self.condition.expand(photo.shape[0], -1) if self.condition is not None else None)
        out = out.clamp(0, 1) if isinstance(self.net, MultiStyleNet) else out
        mine = self._features(out)
        with torch.no_grad():
            theirs = self._features(photo)
        style = torch.stack(
            [
                (gram(mine[i]) - target).square().sum(dim=(1, 2)).mean() / target.square().sum()
                for i, target in zip(STYLE_LAYERS, self.painting_grams, strict=True)
            ]
        ).mean()
        target = theirs[CONTENT_LAYER]
        content = (mine[CONTENT_LAYER] - target).square().mean() / target.square().mean().clamp_min(1e-8)
        tv = (out[..., 1:, :] - out[..., :-1, :]).abs().mean() + (out[..., :, 1:] - out[..., :, :-1]).abs().mean()
        total = s.style_weight * style + s.content_weight * content + s.tv_weight * tv
        named = (("style", style), ("content", content), ("tv", tv), ("total", total))
        parts = {name: float(value.detach()) for name, value in named}
        return total, parts

    # -- the data ------------------------------------------------------------------------------------

    def batch(self) -> torch.Tensor:
        """Square crops at random scales, flipped at random: (batch, 3, size, size)."""
        s, g = self.settings, self.random
        crops = []
        for _ in range(s.batch):
            photo = self.photos[int(torch.randint(len(self.photos), (1,), generator=g))]
            h, w = photo.shape[-2:]
            share = s.min_scale + (1 - s.min_scale) * float(torch.rand(1, generator=g))
            side = max(8, round(min(h, w) * share))
            top = int(torch.randint(h - side + 1, (1,), generator=g))
            left = int(torch.randint(w - side + 1, (1,), generator=g))
            crop = photo[..., top : top + side, left : left + side]
            crop = F.interpolate(crop, size=(s.size, s.size), mode="bilinear", align_corners=False, antialias=True)
            if float(torch.rand(1, generator=g)) < 0.5:
                crop = crop.flip(-1)
            crops.append(crop)
        return torch.cat(crops).clamp(0, 1).to(self.device)

    # -- a step, a run -------------------------------------------------------------------------------

    def train_step(self) -> dict[str, float]:
        self.optimiser.zero_grad(set_to_none=True)
        total, parts = self.losses(self.batch())
        if not math.isfinite(parts["total"]):
            raise StyleError("The loss is no longer a number; lower the learning rate and try again.")
        total.backward()
        self.optimiser.step()
        self.step += 1
        self.history.append(parts)
        return parts

    def run(
        self,
        *,
        progress: Callable[[Step], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        checkpoint: Path | None = None,
        samples: Callable[[int, list[Image.Image]], None] | None = None,
        sample_photos: Sequence[Image.Image] = (),
    ) -> dict[str, torch.Tensor]:
        """Train from the current step to the last; returns the whole network's weights (on the CPU).

        Resumes from `checkpoint` when it exists; saves it every `checkpoint_seconds` and at the end. `samples`
        gets (step, pictures of `sample_photos`) at step 0, every `sample_every` steps and at the last step.
        """
        s = self.settings
        stopped = cancel or (lambda: False)
        if checkpoint is not None and checkpoint.exists():
            self.load(torch.load(checkpoint, weights_only=False))
        elif samples and sample_photos:
            samples(0, self.paint(sample_photos))
        started = last_saved = time.monotonic()
        while self.step < s.steps:
            if stopped():
                raise Cancelled()
            parts = self.train_step()
            if progress:
                progress(Step(self.step, s.steps, parts, time.monotonic() - started))
            if samples and sample_photos and (self.step % s.sample_every == 0 or self.step == s.steps):
                samples(self.step, self.paint(sample_photos))
            if checkpoint is not None and time.monotonic() - last_saved >= s.checkpoint_seconds:
                self.save(checkpoint)
                last_saved = time.monotonic()
        if checkpoint is not None:
            self.save(checkpoint)
        return {k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()}

    @torch.no_grad()
    def paint(self, photos: Sequence[Image.Image]) -> list[Image.Image]:
        """The network's pictures of `photos` at the sample size, as it paints now."""
        self.net.eval()
        try:
            out = []
            for photo in photos:
                x = fit_long_side(to_tensor(photo), self.settings.sample_side)
                h, w = (d - d % 4 for d in x.shape[-2:])
                x = x[..., :h, :w].to(self.device)
                out.append(to_image(self.net(x, self.condition).clamp(0, 1).cpu()))
            return out
        finally:
            self.net.train()

    # -- checkpoints ---------------------------------------------------------------------------------

    def snapshot(self) -> Checkpoint:
        return Checkpoint(
            step=self.step,
            network={k: v.detach().cpu().clone() for k, v in self.net.state_dict().items()},
            optimiser=self.optimiser.state_dict(),
            random=self.random.get_state(),
            history=list(self.history),
            settings=asdict(self.settings),
        )

    def save(self, path: Path) -> None:
        """Write the checkpoint whole or not at all (a temporary file, then a rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        snap = self.snapshot()
        torch.save(asdict(snap), tmp)
        os.replace(tmp, path)

    def load(self, saved: dict | Checkpoint) -> None:
        snap = saved if isinstance(saved, Checkpoint) else Checkpoint(**saved)
        theirs, mine = dict(snap.settings), asdict(self.settings)
        theirs.pop("steps", None), mine.pop("steps")  # a run may be given more steps and go on
        if theirs != mine:
            raise StyleError("The checkpoint was made with other settings; start the run again.")
        self.net.load_state_dict(snap.network)
        self.optimiser.load_state_dict(snap.optimiser)
        self.random.set_state(snap.random)
        self.step = snap.step
        self.history = list(snap.history)


def load_photos(paths: Sequence[Path]) -> list[Image.Image]:
    return [load_image(p, what="photo") for p in paths]


def training_photos() -> list[Path]:
    """The shipped content photos (generator/ml/assets/photos), never the evaluation sheet's."""
    return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
