"""Train a style from a painting: one style of the 26-style network, or a single-style network. Pure PyTorch.

- **One style of the 26-style network** (Dumoulin et al. 2017, "A learned representation for artistic style"):
  only that style's conditional instance-norm scale and shift (its row of every ``gamma`` and ``beta``) learn;
  every other weight, and every other style's row, stays as it was (bit for bit: their gradients are masked).
  Fine-tuning an existing style starts from its current row; a new style is a row added to them (``add_style``).
- **A single-style network** (``TransformerNet``, Johnson et al. 2016), from scratch or from a ready version.

The loss is read under the registry's perceptual network (EfficientNet-Lite0, the one quality mode uses):
Gram style loss over its stages 1-4 against the painting, feature content loss at stage 4 against the photo,
total variation, and (``tone_weight``) a coarse tone term that keeps a clear sky clear. Each term is relative
(divided by the size of what it is compared with), so one set of weights suits any painting and photo. Content
is photos cropped at random scales and flipped.

A ``Trainer`` runs a fixed number of steps; it can be stopped at any step (``cancel``), saves a checkpoint every
few minutes that a new process resumes from exactly (the weights, the optimiser, the step, the random state),
reports each step's losses, and paints samples on fixed photos (step 0 included). No Django here.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .errors import Cancelled, Paused, StyleError
from .imaging import fit_long_side, load_image, luminance, resize_long_side, to_image, to_tensor
from .kinds import MAX_STYLES
from .loading import ModelSet
from .metrics import gram
from .nets.efficientnet import EfficientNetLite0
from .nets.multistyle import MultiStyleNet
from .nets.transformer_net import TransformerNet
from .train_settings import TrainSettings

PHOTOS = Path(__file__).resolve().parent / "assets" / "photos"  # the shipped training photos (never the sheet)
STYLE_LAYERS = (0, 1, 2, 3)  # EfficientNetLite0.features(): stages 1-4, as quality mode
CONTENT_LAYER = 3  # stage 4: shapes, not the photo's own texture


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


TONE_CELLS = 16  # the coarse tone term's grid: a blot covers a few of its cells, a brush stroke a small part of one


def coarse_tone(picture: torch.Tensor, photo: torch.Tensor) -> torch.Tensor:
    """1 - the correlation of the picture's and the photo's luminance averaged over a TONE_CELLS grid, per
    picture, averaged over the batch: 0 when the picture's light and shade follow the photo's at that scale (a
    style may still change their contrast and level), up to 2 when they are reversed."""
    cells = [F.adaptive_avg_pool2d(luminance(x), TONE_CELLS).flatten(1) for x in (picture, photo)]
    a, b = (c - c.mean(dim=1, keepdim=True) for c in cells)
    return (1 - (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-6)).mean()


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
        tone = coarse_tone(out, photo)
        total = s.style_weight * style + s.content_weight * content + s.tv_weight * tv + s.tone_weight * tone
        named = (("style", style), ("content", content), ("tv", tv), ("tone", tone), ("total", total))
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
        pause: Callable[[], bool] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Train from the current step to the last; returns the whole network's weights (on the CPU).

        Resumes from `checkpoint` when it exists; saves it every `checkpoint_seconds` and at the end. `samples`
        gets (step, pictures of `sample_photos`) at step 0, every `sample_every` steps and at the last step.
        `cancel` is asked before each step (Cancelled); `pause` after each step: the checkpoint is saved, and
        Paused raised, for a new call (in this process or another) to go on from.
        """
        s = self.settings
        stopped = cancel or (lambda: False)
        if pause is not None and checkpoint is None:
            raise ValueError("A run that can pause needs a checkpoint to resume from.")
        if checkpoint is not None and checkpoint.exists() and self.step == 0:
            self.resume(checkpoint)
        if self.step == 0 and samples and sample_photos:
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
            if pause is not None and self.step < s.steps and pause():
                assert checkpoint is not None
                self.save(checkpoint)
                raise Paused()
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

    def resume(self, checkpoint: Path) -> int:
        """Go on from a checkpoint this run saved (its own file: it holds the optimiser's state, read with
        pickle); returns the step it was saved at."""
        self.load(torch.load(checkpoint, weights_only=False))
        return self.step

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


def new_single_style(seed: int = 0) -> TransformerNet:
    """A single-style network to train from scratch. Its last layer starts scaled to the 0..255 pixels the
    network works in, painting mid-grey shapes of the photo: PyTorch's default start paints near-black (the
    output is divided by 255), which a CPU-length run barely moves and the registry refuses as flat."""
    torch.manual_seed(seed)
    net = TransformerNet()
    with torch.no_grad():
        net.deconv3.conv2d.weight.mul_(300.0)
        net.deconv3.conv2d.bias.fill_(127.5)
    return net


def add_style(network: MultiStyleNet) -> tuple[MultiStyleNet, int]:
    """A copy of the 26-style network with one more style, and its number: the new style's scale and shift start as
    the mean of the others' (the average style, from which a painting's own is a short way), every other weight as
    it was. Training that style alone (``Trainer(style=...)``) learns it; the rest stays bit for bit."""
    n = network.cfg.num_styles
    if n >= MAX_STYLES:
        raise StyleError(f"The 26-style network holds {n} styles, the most it may; fine-tune one of them instead.")
    state = {
        k: torch.cat([v, v.mean(dim=0, keepdim=True)]) if k.endswith((".gamma", ".beta")) else v.clone()
        for k, v in network.state_dict().items()
    }
    bigger = MultiStyleNet(replace(network.cfg, num_styles=n + 1))
    bigger.load_state_dict(state)
    return bigger, n


def own_pictures(models: ModelSet, style: int, photos: Sequence[Image.Image], *, side: int = 384) -> list[Image.Image]:
    """What the 26-style network paints of `photos` in one of its styles: the target when that style is fine-tuned
    without a painting (the shipped styles have none; a style is what the network paints)."""
    from . import engine

    network = engine.Network("multistyle26", index=style)
    return [engine.stylize(photo, network, models=models, max_side=side).image for photo in photos]


def load_photos(paths: Sequence[Path]) -> list[Image.Image]:
    return [load_image(p, what="photo") for p in paths]


def training_photos() -> list[Path]:
    """The shipped content photos (generator/ml/assets/photos), never the evaluation sheet's."""
    return sorted(p for p in PHOTOS.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
