"""One call for every kind of style: ``stylize(photo, style, ...)``.

How a picture is made:
1. The photo is read (EXIF-rotated, alpha flattened) and scaled to the output size.
2. The network paints once, at the *brush size* (384 px on the long side, divided by
   ``brush``): its strokes keep their size relative to the picture for a 512 px preview and a
   4096 px print. A network asked to paint at print size paints its own texture at its own pixel
   scale instead, a dense crackle of 1-2 px squiggles that no painting has.
3. With a painting's style, the picture's colours are moved onto the painting's palette
   (``imaging.match_palette``), so the photo's content cannot pull them into a cast that is in
   neither. With ``preserve_colors`` the photo's colours are kept instead.
4. The painting is enlarged to the output size with the photo as the guide
   (``imaging.guided_upsample``): the photo's contours come back sharp wherever the painting follows
   them, and no texture is invented. With a painting's style, the painting's own marks finer than
   the paint pass (bristles, canvas) are laid over it, each patch where the painting's light and
   shade match the picture's (``texture.painting_detail``): printed large, the strokes are the
   painting's, not a small picture enlarged.
5. A paint pass too big for the memory budget runs in overlapping tiles with feathered seams;
   every tile reuses the normalisation statistics of the whole picture, so no seam shows.
6. Quality mode then paints the painting's own strokes into it by optimisation (``quality.refine``).
"""

from __future__ import annotations

import functools
import gc
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import cast

import torch
from PIL import Image

from . import loading, presets
from .errors import Cancelled, StyleError
from .imaging import (
    ImageSource,
    Palette,
    fit_long_side,
    guided_upsample,
    keep_colors,
    load_image,
    match_palette,
    resize_long_side,
    resize_tensor,
    to_image,
    to_tensor,
)
from .loading import ModelRef, ModelSet
from .nets.layers import shared_stats
from .options import check_options, check_weight
from .texture import painting_detail

BRUSH_SIDE = 384  # the paint pass at brush 1.0: the arbitrary graph's own size, strokes as its authors intended
PALETTE_SIDE = 512  # a painting's palette is read at this size
# Calibration of a painting's style vector: 3 Adam steps on the photo at 256 px. 6 steps at 384 px
# won 20/20 pairs of the quality benchmark instead of 17/20, at twice the time of a fast picture.
CALIBRATION_SIDE = 256
CALIBRATION_STEPS = 3
CALIBRATION_RATE = 0.04
PREDICT_SIDE = 256  # the style predictor's training size
STATS_SIDE = 1024  # the whole-picture pass that tiles share their statistics with
TILE_OVERLAP = 64
MIN_TILE = 128  # the smallest tile an out-of-memory retry goes down to
# Bytes of activations per painted pixel, measured on the CPU (multi-style net, float32)
BYTES_PER_PIXEL = 700
DEFAULT_CPU_BUDGET = 3 << 30

Progress = Callable[[float, Image.Image | None], None]


@dataclass(frozen=True)
class Network:
    """A style that a network paints by itself: one of the 26 styles, or a single-style network."""

    kind: str  # "multistyle26" | "transformer_net"
    index: int | None = None  # the multi-style network's style number
    slot: str = ""  # which single-style network, as the ModelSet names it


@dataclass(frozen=True)
class Blend:
    """A weighted mix of styles: ``Blend((("starry-night", 0.7), (my_painting, 0.3)))``."""

    parts: tuple[tuple[object, float], ...]


@dataclass
class StylizeResult:
    image: Image.Image
    models: tuple[ModelRef, ...]
    device: str
    seconds: float
    paint_size: tuple[int, int]  # (width, height) the network painted at
    tiles: int


@dataclass
class _Plan:
    """A resolved style: the network that paints it and what conditions that network."""

    network: str  # "multistyle26" | "magenta_transformer" | "transformer_net"
    condition: torch.Tensor | None  # (1, 26) style weights, (1, 100) style vector, or None
    slot: str = ""  # which single-style network
    paintings: list[tuple[Image.Image, float]] = field(default_factory=list)  # palette and quality mode
    models: list[ModelRef] = field(default_factory=list)


def _gives_memory_back(paint):
    """On a GPU, what a job held goes back to the device when it ends: for the next job, and the other
    processes on the card (the caching allocator would keep it otherwise)."""

    @functools.wraps(paint)
    def painting(*args, **kwargs):
        try:
            return paint(*args, **kwargs)
        finally:
            if torch.cuda.is_initialized():
                _release(torch.device("cuda"))

    return painting


@_gives_memory_back
def stylize(
    content: ImageSource,
    style: object,
    *,
    models: ModelSet,
    strength: float = 1.0,
    preserve_colors: bool = False,
    max_side: int = 1024,
    brush: float = 1.0,
    mode: str = "fast",
    device: str = "auto",
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    memory_budget: int | None = None,
    quality_steps: int | None = None,
) -> StylizeResult:
    """Paint `content` in `style` with the networks in `models`; see docs/engine-api.md."""
    started = time.perf_counter()
    check_options(strength=strength, max_side=max_side, brush=brush, mode=mode)
    report = progress or (lambda fraction, preview: None)
    stopped = cancel or (lambda: False)
    dev = loading.resolve_device(device)

    photo = load_image(content, what="photo")
    full = resize_long_side(photo, max_side)
    coarse_side = max(64, min(max_side, round(BRUSH_SIDE / brush)))
    coarse = resize_long_side(photo, coarse_side, multiple=4)
    fast_share = 0.15 if mode == "quality" else 1.0

    with torch.inference_mode(), _precision(dev):
        plan = _plan(style, dev, models)
        if plan.network == "magenta_transformer":
            assert plan.condition is not None  # _plan gives the transformer its style vector
            calibration_photo = resize_long_side(photo, min(coarse_side, CALIBRATION_SIDE), multiple=4)
            plan.condition = _calibrate(plan.condition, calibration_photo, dev, models, stopped=stopped)
        if plan.network == "magenta_transformer" and strength < 1.0:
            # As Magenta does: move the style vector from the photo's own style towards the painting's
            own, ref = style_vector(photo, dev, models)
            assert plan.condition is not None  # calibrated just above
            plan.condition = strength * plan.condition + (1.0 - strength) * own
            plan.models.append(ref)
        report(0.05 * fast_share, None)
        net, ref = models.get_net(plan.network, dev, plan.slot)
        plan.models.append(ref)
        budget = memory_budget or _default_budget(dev)
        out, tiles = _paint(
            net,
            to_tensor(coarse).to(dev),
            plan.condition,
            budget=budget,
            stopped=stopped,
            report=lambda f: report(fast_share * (0.05 + 0.85 * f), None),
        )
    with torch.inference_mode():  # colour and upsampling arithmetic in float32, also on a GPU
        out = out.float()
        if plan.paintings and not preserve_colors:
            out = _in_the_paintings_colours(out, plan.paintings, share=strength)
        target = to_tensor(full).to(dev)
        if full.size != coarse.size:
            out = guided_upsample(out, target)
            if plan.paintings:
                out = _with_the_paintings_marks(out, plan.paintings, paint_side=max(coarse.size), share=strength)
        out = out.clamp(0, 1)

    if mode == "quality":
        out = _refine(
            out,
            target,
            plan,
            dev,
            models,
            steps=quality_steps,
            preserve_colors=preserve_colors,
            strength=strength,
            report=report,
            stopped=stopped,
            lo=fast_share,
        )
    if preserve_colors:
        out = keep_colors(out, target)
    if plan.network != "magenta_transformer" and strength < 1.0:
        out = strength * out + (1.0 - strength) * target  # no "photo's own" style vector here
    image = to_image(out)
    report(1.0, image if mode == "quality" else None)
    return StylizeResult(
        image=image,
        models=tuple(dict.fromkeys(plan.models)),
        device=dev.type,
        seconds=time.perf_counter() - started,
        paint_size=coarse.size,
        tiles=tiles,
    )


@contextmanager
def _precision(dev: torch.device) -> Iterator[None]:
    # Half precision roughly doubles convolution throughput on a GPU; the norm statistics stay
    # in float32 (nets.layers.instance_stats). On the CPU float32 is the fast path.
    ctx = torch.autocast("cuda", dtype=torch.float16) if dev.type == "cuda" else nullcontext()
    with ctx:
        yield


# -- resolving a style ----------------------------------------------------------------------------


def warm_up(models: ModelSet, device: str = "auto") -> None:
    """Load every network in `models` and paint tiny pictures, so a worker's first job runs at full speed.

    Loading is half of a cold start; the other half is the first pass through each code path
    (calibration's first backward pass, kernel set-up).
    """
    dev = loading.resolve_device(device)
    loading.preload(models, dev)
    blank = Image.new("RGB", (128, 96), (128, 110, 90))
    kinds = {kind for kind, _ in models}
    if {"magenta_predictor", "magenta_transformer"} <= kinds:
        painting = next(p for p in presets.PRESETS.values() if p.kind == "painting")
        stylize(blank, painting.painting_path, models=models, max_side=128, device=device)
    if "multistyle26" in kinds:
        stylize(blank, Network("multistyle26", index=0), models=models, max_side=128, device=device)


def _plan(style: object, dev: torch.device, models: ModelSet) -> _Plan:
    parts = _normalise_blend(style)
    if all(isinstance(s, Network) and s.kind == "multistyle26" for s, _ in parts):
        styles = _styles_of(models, dev)
        weights = torch.zeros(1, styles)
        for network, w in parts:
            assert isinstance(network, Network)  # all of them, as checked above
            weights[0, _style_index(network, styles)] += w
        return _Plan("multistyle26", weights.to(dev))
    if len(parts) == 1 and isinstance(parts[0][0], Network):  # a single-style network paints alone
        return _Plan(parts[0][0].kind, None, slot=parts[0][0].slot)
    vector = torch.zeros(1, 100, device=dev)
    paintings: list[tuple[Image.Image, float]] = []
    refs: list[ModelRef] = []
    for spec, w in parts:
        if isinstance(spec, Network):
            v, used = _network_style_vector(spec, dev, models)
            refs += used
        else:
            # anything else is a picture; load_image turns what it cannot read into a StyleError
            image = load_image(cast(ImageSource, spec), what="style image")
            v, ref = style_vector(image, dev, models)
            paintings.append((image, w))
            refs.append(ref)
        vector += w * v
    return _Plan("magenta_transformer", vector, paintings=paintings, models=refs)


def _styles_of(models: ModelSet, dev: torch.device) -> int:
    """How many styles the 26-style network in `models` holds: the shipped 26, and any learned since."""
    models.get_net("multistyle26", dev)  # loaded to paint in any case; its error says what is missing
    return loading.styles_held(models["multistyle26", ""])


def _style_index(network: Network, styles: int) -> int:
    if not (isinstance(network.index, int) and 0 <= network.index < styles):
        raise StyleError(f"The active 26-style network has styles 0 to {styles - 1}, not {network.index!r}.")
    return network.index


def _normalise_blend(style: object) -> list[tuple[object, float]]:
    parts = list(style.parts) if isinstance(style, Blend) else [(style, 1.0)]
    if not parts:
        raise StyleError("A blend needs at least one style.")
    resolved = []
    for spec, weight in parts:
        check_weight(weight)
        resolved.append((_resolve(spec), weight))
    total = sum(w for _, w in resolved)
    if total <= 0:
        raise StyleError("At least one style in a blend needs a weight above zero.")
    return [(s, w / total) for s, w in resolved if w > 0]


PAINTING_NETWORKS = ("multistyle26", "transformer_net")  # the kinds a Network style may name


def _resolve(spec: object) -> object:
    """A shipped preset's slug or a Preset becomes what paints it: a Network or the painting's file."""
    if isinstance(spec, str) and not _looks_like_path(spec):
        spec = presets.get(spec)
    if isinstance(spec, presets.Preset):
        return Network("multistyle26", index=spec.index) if spec.kind == "network" else spec.painting_path
    if isinstance(spec, Network) and spec.kind not in PAINTING_NETWORKS:
        raise StyleError(
            f"A {spec.kind!r} network does not paint by itself; use one of {', '.join(PAINTING_NETWORKS)}."
        )
    return spec


def _looks_like_path(text: str) -> bool:
    return "/" in text or "." in text


def style_vector(image: Image.Image, dev: torch.device, models: ModelSet) -> tuple[torch.Tensor, ModelRef]:
    """The 100-d Magenta style vector of a picture: a centred square at 256 px, as trained."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    square = square.resize((PREDICT_SIDE, PREDICT_SIDE), Image.Resampling.LANCZOS)
    net, ref = models.get_net("magenta_predictor", dev)
    return net(to_tensor(square).to(dev)).float(), ref


# A network style's vector, by (style, the sha256 of both networks, device): a new version of
# either network is a new key, never a stale vector.
_network_vectors: dict[tuple, tuple[torch.Tensor, tuple[ModelRef, ...]]] = {}


def _network_style_vector(
    network: Network, dev: torch.device, models: ModelSet
) -> tuple[torch.Tensor, tuple[ModelRef, ...]]:
    """A network's style as a Magenta vector, so it can blend with any painting.

    A network that paints by itself has no style vector; the predictor reads one off its
    painting of the reference photo.
    """
    net, net_ref = models.get_net(network.kind, dev, network.slot)
    predictor, p_ref = models.get_net("magenta_predictor", dev)
    key = (network, net_ref.sha256, p_ref.sha256, str(dev))
    if key not in _network_vectors:
        reference = load_image(presets.REFERENCE_PHOTO).resize((PREDICT_SIDE, PREDICT_SIDE))
        condition = None
        if network.kind == "multistyle26":
            styles = _styles_of(models, dev)
            condition = torch.zeros(1, styles, device=dev)
            condition[0, _style_index(network, styles)] = 1.0
        painted = to_image(net(to_tensor(reference).to(dev), condition))
        vector, _ = style_vector(painted, dev, models)
        _network_vectors[key] = (vector, (net_ref, p_ref))
    return _network_vectors[key]


def _calibrate(
    target: torch.Tensor, photo: Image.Image, dev: torch.device, models: ModelSet, *, stopped
) -> torch.Tensor:
    """A style vector that makes *this photo* come out in the painting's style.

    The transformer conditioned on a painting's vector paints a photo that, read back by the
    style predictor, sits some way from the painting: the photo's own content pulls it off.
    A few gradient steps on the vector close most of that gap, on a small copy of the photo
    (the style is a statistic of the whole picture; about 0.2 s a step on a 2-core CPU).
    """
    net, _ = models.get_net("magenta_transformer", dev)
    predictor, _ = models.get_net("magenta_predictor", dev)
    x = to_tensor(photo).to(dev).contiguous(memory_format=torch.channels_last)
    target = target.detach().float()
    with torch.inference_mode(False), torch.enable_grad(), torch.autocast(dev.type, enabled=False):
        x, target = x.clone(), target.clone()  # normal tensors: inference tensors can't join autograd
        vector = target.clone().requires_grad_(True)
        opt = torch.optim.Adam([vector], lr=CALIBRATION_RATE)
        for _ in range(CALIBRATION_STEPS):
            if stopped():
                raise Cancelled()
            loss = (predictor(_centre_square(net(x, vector), PREDICT_SIDE)) - target).square().sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return vector.detach()


def _centre_square(x: torch.Tensor, side: int) -> torch.Tensor:
    """(N, C, H, W) -> the centred square, resized to side x side: what the predictor reads."""
    h, w = x.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return resize_tensor(x[:, :, top : top + s, left : left + s], (side, side))


# -- painting -------------------------------------------------------------------------------------


def _default_budget(dev: torch.device) -> int:
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(free * 0.6)
    return DEFAULT_CPU_BUDGET


def _paint(
    net, x: torch.Tensor, condition: torch.Tensor | None, *, budget: int, stopped, report
) -> tuple[torch.Tensor, int]:
    """Run the network over x (1, 3, H, W), in tiles when a single pass would not fit.

    The budget is an estimate; when the device runs out of memory all the same (another process took
    some, or the estimate was off for this network), it paints again in tiles of half the side, down to
    MIN_TILE, before it gives up with a message.
    """
    stats_side = STATS_SIDE
    while True:
        try:
            return _paint_within(
                net, x, condition, budget=budget, stats_side=stats_side, stopped=stopped, report=report
            )
        except (torch.OutOfMemoryError, RuntimeError) as exc:
            if not _out_of_memory(exc):
                raise
        _release(x.device)
        if _tile_side(budget) <= MIN_TILE:
            raise StyleError(
                "This picture is too large for the memory of the machine painting it. "
                "Please choose a smaller output size."
            )
        budget = min(budget, x.shape[-2] * x.shape[-1] * BYTES_PER_PIXEL) // 4  # tiles of half the side
        # the tiles' shared statistics come from one pass over the whole picture: it must fit as well
        stats_side = min(stats_side, max(2 * _tile_side(budget), 2 * MIN_TILE))


def _out_of_memory(exc: BaseException) -> bool:
    """CUDA's OutOfMemoryError, or the CPU allocator's RuntimeError ("not enough memory")."""
    return isinstance(exc, torch.OutOfMemoryError) or "not enough memory" in str(exc)


def _release(dev: torch.device) -> None:
    """Give back what a failed or finished pass held, so the next one (or the next job) can have it."""
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()


def _tile_side(budget: int) -> int:
    return max(MIN_TILE, int(math.sqrt(budget / BYTES_PER_PIXEL)) // 4 * 4)


def _paint_within(
    net, x: torch.Tensor, condition: torch.Tensor | None, *, budget: int, stats_side: int, stopped, report
):
    _, _, h, w = x.shape
    x = x.contiguous(memory_format=torch.channels_last)
    if h * w * BYTES_PER_PIXEL <= budget:
        if stopped():
            raise Cancelled()
        out = net(x, condition)
        report(1.0)
        return out, 1
    tile = _tile_side(budget)
    step = tile - TILE_OVERLAP
    ys = _starts(h, tile, step)
    xs = _starts(w, tile, step)
    small = resize_tensor(x, _fit4(h, w, stats_side))
    out = torch.zeros(1, 3, h, w, device=x.device)
    weight = torch.zeros(1, 1, h, w, device=x.device)
    with shared_stats(net, lambda: net(small, condition)):
        for n, (y0, x0) in enumerate((y, xx) for y in ys for xx in xs):
            if stopped():
                raise Cancelled()
            th, tw = min(tile, h - y0), min(tile, w - x0)
            piece = net(x[:, :, y0 : y0 + th, x0 : x0 + tw], condition).float()
            ramp = _feather(th, tw, top=y0 > 0, left=x0 > 0, bottom=y0 + th < h, right=x0 + tw < w, device=x.device)
            out[:, :, y0 : y0 + th, x0 : x0 + tw] += piece * ramp
            weight[:, :, y0 : y0 + th, x0 : x0 + tw] += ramp
            report((n + 1) / (len(ys) * len(xs)))
    return out / weight, len(ys) * len(xs)


def _starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(s // 4 * 4 for s in starts))


def _fit4(h: int, w: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(h, w))
    return max(4, round(h * scale / 4) * 4), max(4, round(w * scale / 4) * 4)


def _feather(h: int, w: int, *, top: bool, left: bool, bottom: bool, right: bool, device) -> torch.Tensor:
    """Blend weights for a tile: linear ramps across the overlap on the sides that have a neighbour."""

    def ramp(n: int, start: bool, end: bool) -> torch.Tensor:
        r = torch.ones(n, device=device)
        edge = torch.linspace(0.0, 1.0, TILE_OVERLAP + 2, device=device)[1:-1]
        if start:
            r[:TILE_OVERLAP] = edge
        if end:
            r[-TILE_OVERLAP:] = torch.minimum(r[-TILE_OVERLAP:], edge.flip(0))
        return r

    return (ramp(h, top, bottom)[:, None] * ramp(w, left, right)[None, :])[None, None]


def _in_the_paintings_colours(
    out: torch.Tensor, paintings: list[tuple[Image.Image, float]], *, share: float
) -> torch.Tensor:
    """The picture's colours moved onto its paintings' palette (their weighted mix, for a blend).

    Calibration and the photo's own content pull the transformer's colours away from the
    painting's, at times into a green or teal cast that is in neither. `share` is the part of the
    style that is the paintings' (a blend with a network keeps the network's colours for its part).
    """
    palette = Palette.mix(
        [(Palette.of(to_tensor(resize_long_side(image, PALETTE_SIDE)).to(out.device)), w) for image, w in paintings]
    )
    matched = match_palette(out, palette)
    return out + share * sum(w for _, w in paintings) * (matched - out)


def _with_the_paintings_marks(
    out: torch.Tensor, paintings: list[tuple[Image.Image, float]], *, paint_side: int, share: float
) -> torch.Tensor:
    """The picture, enlarged from the paint pass, with the main painting's own marks finer than that pass
    (generator/ml/texture.py); `share` as for the palette."""
    painting = max(paintings, key=lambda p: p[1])[0]
    detail = painting_detail(out, to_tensor(painting).to(out.device), paint_side=paint_side)
    return out + share * sum(w for _, w in paintings) * detail


def _refine(
    out,
    target,
    plan: _Plan,
    dev,
    models: ModelSet,
    *,
    steps,
    preserve_colors: bool,
    strength: float,
    report,
    stopped,
    lo: float,
) -> torch.Tensor:
    from .nets.efficientnet import EfficientNetLite0
    from .quality import QualityConfig, refine

    cfg = QualityConfig()
    features, ref = models.get_net("efficientnet_lite0", dev)
    assert isinstance(features, EfficientNetLite0)  # the kind's network (generator/ml/kinds.py)
    plan.models.append(ref)
    if plan.paintings:
        style_image = max(plan.paintings, key=lambda p: p[1])[0]
        style = to_tensor(resize_long_side(style_image, cfg.top_side)).to(dev)
    else:
        style = out.clone()  # a built-in style's own texture, at the scale it was painted

    def on_progress(fraction: float, current: torch.Tensor) -> None:
        report(lo + (1.0 - lo) * fraction, to_image(current))

    kwargs = {"steps": steps} if steps else {}
    refined = refine(
        content=target.clone(),
        init=out.float().clone(),
        style=style,
        features=features,
        progress=on_progress,
        cancel=stopped,
        **kwargs,
    ).detach()
    if plan.paintings and not preserve_colors:
        with torch.inference_mode():  # the new strokes' colours onto the palette, as in fast mode
            # measured at the finest size quality mode paints: the map mixes CIELAB's planes, and applied to
            # the print's own pixels it turns the painting's fine marks in light and shade into colour speckle
            small = fit_long_side(refined, min(max(refined.shape[-2:]), cfg.top_side))
            moved = _in_the_paintings_colours(small, plan.paintings, share=strength) - small
            refined = (refined + resize_tensor(moved, tuple(refined.shape[-2:]))).clamp(0, 1)
    return refined
