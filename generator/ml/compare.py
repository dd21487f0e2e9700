"""Compare a version of a painting network with another (the active one) on a fixed evaluation sheet.

The sheet is photos shipped for this and never used in training (``assets/sheet/photos``: a portrait,
a landscape under a clear sky, a street at night, a skyline at sunset) and, for the arbitrary-style
networks, paintings likewise (``assets/sheet/paintings``). Both versions paint every case with the
studio's own engine, and each picture is judged by measures that training never optimises:

  structure  how much of the photo survives: SSIM of the luminance, and the edges kept (the
             correlation of the luminance's gradient magnitude with the photo's, both seen at
             256 px, where a pattern's own fine edges blur away and the photo's shapes remain)
  style      how near the style is: the distance of Magenta style vectors (a second network,
             Inception-based) and the CIELAB palette distance, to the painting; a network that
             paints its style by itself has no painting, so there the distance is to the other
             version's picture of the same photo ("drift": is the style still itself?)
  fine       the share of fine detail against the painting's (or the photo's) at the same size
  gram       the Gram distance under the perceptual network (EfficientNet-Lite0), which is what
             training minimises: reported beside the others as that, never used in the verdict
  time, memory per picture

The verdict is paired: for each headline measure (structure; style where there is a painting) the
candidate is better or worse only when the 95 % bootstrap interval of its mean paired difference
with the reference lies wholly on one side of zero. Pure PyTorch and PIL: no Django here.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from . import engine, loading
from .errors import Cancelled, StyleError
from .imaging import fit_long_side, load_image, luminance, to_tensor
from .metrics import blotches, fine_share_against, gram_distance, palette_distance, ssim
from .nets.multistyle import MultiStyleConfig

SHEET = Path(__file__).resolve().parent / "assets" / "sheet"
SHEET_PHOTOS = tuple(sorted((SHEET / "photos").glob("*.jpg")))
SHEET_PAINTINGS = tuple(sorted((SHEET / "paintings").glob("*.jpg")))
SIDE = 1024  # the print size at which the shipped styles were seen to erase a face or blot a sky
EDGE_SIDE = 256
CELL = 240  # the contact sheet's thumbnails
CROP = 240  # and its 1:1 crops, from each picture's centre
# The perceptual network paints too: quality mode refines the arbitrary path's picture under it.
COMPARABLE = ("multistyle26", "transformer_net", "magenta_predictor", "magenta_transformer", "efficientnet_lite0")
HEADLINES = ("structure", "style")
BOOTSTRAP = 2000


@dataclass(frozen=True)
class Case:
    """One picture on the sheet: a photo painted in one style."""

    photo: Path
    style: object  # what engine.stylize paints with: an engine.Network or a painting's bytes
    name: str  # the style's name, for the report
    painting: Path | None = None
    mode: str = "fast"  # "quality" for the perceptual network, which paints only there
    against: object | None = None  # what the reference paints with, where not `style` (a trained style against
    # the arbitrary path painting the same painting: bench/train.py)


@dataclass
class Picture:
    image: Image.Image
    seconds: float
    peak_mb: float | None


@dataclass
class Comparison:
    kind: str
    slot: str
    side: int
    cases: list[Case]
    # measure -> one value per case, for "candidate" and "reference" (drift measures: "candidate" only)
    candidate: dict[str, list[float]] = field(default_factory=dict)
    reference: dict[str, list[float]] = field(default_factory=dict)
    sheet: Image.Image | None = None

    def summary(self) -> dict:
        """What the registry keeps as the version's metrics: means, the paired verdicts, per style rows."""
        mean = {side: {m: _mean(v) for m, v in values.items()} for side, values in self.sides()}
        changes = {
            m: paired_change(self.candidate[m], self.reference[m], higher_is_better=m == "structure")
            for m in HEADLINES
            if m in self.candidate and m in self.reference
        }
        styles: dict[str, dict] = {}
        for i, case in enumerate(self.cases):
            row = styles.setdefault(case.name, {"candidate": {}, "reference": {}})
            for side, values in self.sides():
                for m, v in values.items():
                    row[side].setdefault(m, []).append(v[i])
        per_style = {
            name: {side: {m: round(_mean(v), 4) for m, v in row[side].items()} for side in row if row[side]}
            for name, row in styles.items()
        }
        return {
            "kind": self.kind,
            "slot": self.slot,
            "side": self.side,
            "cases": len(self.cases),
            "photos": sorted({c.photo.stem for c in self.cases}),
            "paintings": sorted({c.painting.stem for c in self.cases if c.painting}),
            "mean": {side: {m: round(v, 4) for m, v in values.items()} for side, values in mean.items()},
            "changes": changes,
            "verdict": verdict(changes),
            "styles": per_style,
        }

    def sides(self) -> Iterator[tuple[str, dict[str, list[float]]]]:
        yield "candidate", self.candidate
        if self.reference:
            yield "reference", self.reference


def cases_for(
    kind: str,
    *,
    slot: str = "",
    styles: list[tuple[int, str]] | None = None,
    photos: tuple[Path, ...] = SHEET_PHOTOS,
    paintings: tuple[Path, ...] = SHEET_PAINTINGS,
    painting: Path | None = None,
    against: object | None = None,
) -> list[Case]:
    """Every case the sheet has for a kind: each of the 26 styles (or those named in `styles`, as
    (index, name)) on each photo; a single-style network on each photo; each painting on each photo.
    `painting`: what a network's style was trained from (a training run's), measured against as a painting is.
    `against`: what the reference paints instead of the style (Case.against)."""
    if kind not in COMPARABLE:
        raise StyleError(
            f"Only the networks that paint can be compared on the sheet ({', '.join(COMPARABLE)}), not {kind}."
        )
    if kind == "multistyle26":
        chosen = styles if styles is not None else [(i, f"style {i}") for i in range(MultiStyleConfig().num_styles)]
        return [
            Case(p, engine.Network(kind, index=i), name, painting=painting, against=against)
            for i, name in chosen
            for p in photos
        ]
    if kind == "transformer_net":
        return [Case(p, engine.Network(kind, slot=slot), slot, painting=painting, against=against) for p in photos]
    mode = "quality" if kind == "efficientnet_lite0" else "fast"
    return [Case(p, s.read_bytes(), s.stem, painting=s, mode=mode) for s in paintings for p in photos]


def compare(
    cases: list[Case],
    *,
    kind: str,
    slot: str = "",
    candidate: loading.ModelSet,
    reference: loading.ModelSet | None,
    judge: loading.ModelSet,
    side: int = SIDE,
    device: str = "auto",
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Comparison:
    """Paint every case with both sets of networks and measure each picture.

    `judge` holds the networks the measures read with (the active style predictor and perceptual
    network); they never change with the candidate, so both versions are judged by the same eyes.
    """
    from .nets.efficientnet import EfficientNetLite0

    dev = loading.resolve_device(device)
    report = progress or (lambda fraction: None)
    stopped = cancel or (lambda: False)
    effnet, _ = judge.get_net("efficientnet_lite0", dev)
    assert isinstance(effnet, EfficientNetLite0)
    result = Comparison(kind, slot, side, cases)
    rows: list[tuple[Case, Image.Image, Picture | None, Picture]] = []
    sets = [("candidate", candidate)] + ([("reference", reference)] if reference is not None else [])
    for n, case in enumerate(cases):
        if stopped():
            raise Cancelled()
        photo = load_image(case.photo, what="photo")
        painted = {
            name: _paint(photo, case, models, side, device, reference=name == "reference") for name, models in sets
        }
        target = load_image(case.painting, what="painting") if case.painting else None
        with torch.inference_mode():
            for name, picture in painted.items():
                other = painted.get("reference") if name == "candidate" else None
                values = measure(picture, photo, target, effnet, judge, dev)
                if target is None and other is not None:  # a network's own style: how far it drifted
                    values.update(drift(picture.image, other.image, effnet, judge, dev))
                for m, v in values.items():
                    getattr(result, name).setdefault(m, []).append(v)
        rows.append((case, photo, painted.get("reference"), painted["candidate"]))
        report((n + 1) / len(cases))
    result.sheet = contact_sheet(rows, kind)
    return result


def _paint(
    photo: Image.Image, case: Case, models: loading.ModelSet, side: int, device: str, *, reference: bool = False
) -> Picture:
    style = case.against if reference and case.against is not None else case.style
    with peak_memory(loading.resolve_device(device)) as peak:
        started = time.perf_counter()
        image = engine.stylize(photo, style, models=models, max_side=side, device=device, mode=case.mode).image
        seconds = time.perf_counter() - started
    return Picture(image, seconds, peak())


def measure(
    picture: Picture,
    photo: Image.Image,
    painting: Image.Image | None,
    effnet,
    judge: loading.ModelSet,
    dev: torch.device,
) -> dict[str, float]:
    r = to_tensor(picture.image).to(dev)
    p = to_tensor(photo.resize(picture.image.size, Image.Resampling.LANCZOS)).to(dev)
    kept_ssim, kept_edges = ssim(r, p), edges_kept(r, p)
    values = {
        "structure": structure(kept_ssim, kept_edges),
        "ssim": kept_ssim,
        "edges": kept_edges,
        "blotches": blotches(r, p),
        "seconds": picture.seconds,
    }
    if picture.peak_mb is not None:
        values["peak_mb"] = picture.peak_mb
    if painting is not None:
        s = to_tensor(painting).to(dev)
        values["style"] = _vector_distance(picture.image, painting, judge, dev)
        values["palette"] = palette_distance(r, s)
        values["fine"] = fine_share_against(r, s)
        values["gram"] = gram_distance(r, s, effnet)
    else:
        values["fine"] = fine_share_against(r, p)
    return values


def structure(kept_ssim: float, kept_edges: float) -> float:
    """The structure measure: the mean of the luminance's SSIM and the edges kept. SSIM alone rewards a flat
    picture of the photo's tone (a network blind to the photo scored 0.38 against the shipped one's 0.35); the
    edges alone miss tone. Both near 1 for the photo itself, both low for a pattern laid over it."""
    return (kept_ssim + kept_edges) / 2


def structure_of(picture: Image.Image, photo: Image.Image) -> float:
    r = to_tensor(picture)
    p = to_tensor(photo.resize(picture.size, Image.Resampling.LANCZOS))
    return structure(ssim(r, p), edges_kept(r, p))


def keeps_photo(
    models: loading.ModelSet,
    style: object,
    *,
    photos: tuple[Path, ...] = SHEET_PHOTOS,
    side: int = 384,
    device: str = "auto",
) -> float:
    """How much of a photo a style keeps: 1 for all of it, 0 for no more than any picture shares with any photo.

    The style paints each photo; its structure against its own photo is compared with its structure against
    the sheet's other photos (what a picture shares with a photo it is not of: tone, a horizon, the frame), so
    the figure is the share of the photo's structure kept beyond that: (own - other) / (1 - other).
    """
    shown = [load_image(p, what="photo") for p in photos]
    pictures = [engine.stylize(p, style, models=models, max_side=side, device=device).image for p in shown]
    own = statistics.fmean(structure_of(pic, photo) for pic, photo in zip(pictures, shown, strict=True))
    other = statistics.fmean(
        structure_of(pic, photo) for i, pic in enumerate(pictures) for j, photo in enumerate(shown) if i != j
    )
    return (own - other) / (1 - other)


def drift(mine: Image.Image, theirs: Image.Image, effnet, judge: loading.ModelSet, dev: torch.device) -> dict:
    """How far one picture's style is from another's of the same photo (a network's style kept or lost)."""
    a, b = to_tensor(mine).to(dev), to_tensor(theirs).to(dev)
    return {
        "style_drift": _vector_distance(mine, theirs, judge, dev),
        "palette_drift": palette_distance(a, b),
        "gram_drift": gram_distance(a, b, effnet),
    }


def _vector_distance(a: Image.Image, b: Image.Image, judge: loading.ModelSet, dev: torch.device) -> float:
    va, _ = engine.style_vector(a, dev, judge)
    vb, _ = engine.style_vector(b, dev, judge)
    return float((va - vb).norm())


@torch.no_grad()
def edges_kept(result: torch.Tensor, photo: torch.Tensor, *, side: int = EDGE_SIDE) -> float:
    """Correlation of the luminance gradient magnitudes of `result` and `photo` (same size), seen at `side` px.

    1 when every contour of the photo is where it was and as strong, about 0 when the picture's edges
    have nothing to do with the photo's (a pattern laid over it).
    """
    if result.shape != photo.shape:
        raise ValueError(f"edges_kept needs images of one size, got {tuple(result.shape)} and {tuple(photo.shape)}")
    a, b = (_gradient(luminance(fit_long_side(x.float(), side))) for x in (result, photo))
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return float((a @ b) / (a.norm() * b.norm()).clamp_min(1e-12))


def _gradient(y: torch.Tensor) -> torch.Tensor:
    sobel = y.new_tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]) / 8
    kernels = torch.stack([sobel, sobel.T]).unsqueeze(1)
    g = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), kernels)
    return g.square().sum(dim=1).sqrt()


@contextmanager
def peak_memory(dev: torch.device) -> Iterator[Callable[[], float | None]]:
    """The most memory the block took beyond what was in use at its start, in MiB (None where unknown).

    A GPU's allocator keeps its own peak. On Linux the kernel keeps a process's peak resident size,
    and writing 5 to /proc/self/clear_refs resets it to the current size. On the CPU the figure is the growth of
    the process's resident memory: memory it already held and reuses (freed by an earlier job) is not counted.
    """
    found: list[float | None] = [None]
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        before = torch.cuda.memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        yield lambda: found[0]
        torch.cuda.synchronize(dev)
        found[0] = (torch.cuda.max_memory_allocated(dev) - before) / 2**20
        return
    before_kb = _reset_peak_rss()
    yield lambda: found[0]
    peak_kb = _status_kb("VmHWM")
    if before_kb is not None and peak_kb is not None:
        found[0] = max(0, peak_kb - before_kb) / 1024


def _reset_peak_rss() -> int | None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _status_kb("VmRSS")


def _status_kb(field_name: str) -> int | None:
    try:
        with open(f"/proc/{os.getpid()}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def paired_change(candidate: list[float], reference: list[float], *, higher_is_better: bool, seed: int = 0) -> dict:
    """The candidate's mean paired difference from the reference, its 95 % bootstrap interval, and what it says.

    "better" or "worse" only when the whole interval is on one side of zero; otherwise "same".
    """
    diffs = [c - r for c, r in zip(candidate, reference, strict=True)]
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(diffs, k=len(diffs))) for _ in range(BOOTSTRAP))
    low, high = means[int(0.025 * BOOTSTRAP)], means[int(0.975 * BOOTSTRAP) - 1]
    sign = 1 if higher_is_better else -1
    if sign * low > 0 and sign * high > 0:
        said = "better"
    elif sign * low < 0 and sign * high < 0:
        said = "worse"
    else:
        said = "same"
    return {"difference": round(statistics.fmean(diffs), 4), "low": round(low, 4), "high": round(high, 4), "is": said}


def verdict(changes: dict[str, dict]) -> str:
    """better (wins somewhere, loses nowhere), worse (the reverse), mixed, same, or "" with nothing to compare."""
    said = {c["is"] for c in changes.values()}
    if not said:
        return ""
    if "better" in said:
        return "mixed" if "worse" in said else "better"
    return "worse" if "worse" in said else "same"


def contact_sheet(rows: list[tuple[Case, Image.Image, Picture | None, Picture]], kind: str) -> Image.Image:
    """Per case: photo, painting (if any), reference and candidate, then 1:1 crops of reference and candidate.

    With several styles (the 26-style network) each style shows on one photo, the photos taking turns.
    """
    if kind == "multistyle26" and len({case.name for case, *_ in rows}) > 1:
        photos = list(dict.fromkeys(case.photo for case, *_ in rows))
        shown = [row for n, row in enumerate(rows) if row[0].photo == photos[(n // len(photos)) % len(photos)]]
    else:
        shown = rows
    has_painting = any(case.painting for case, *_ in shown)
    has_reference = any(ref is not None for _, _, ref, _ in shown)
    titles = ["photo"] + (["painting"] if has_painting else []) + (["active"] if has_reference else [])
    titles += ["candidate"] + (["active, 1:1"] if has_reference else []) + ["candidate, 1:1"]
    header = 20
    sheet = Image.new("RGB", (CELL * len(titles), header + (CELL + header) * len(shown)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(titles):
        draw.text((c * CELL + 4, 4), title, fill="black")
    for r, (case, photo, ref, cand) in enumerate(shown):
        top = header + r * (CELL + header)
        draw.text((4, top + 3), f"{case.name} on {case.photo.stem}", fill="black")
        cells: list[Image.Image] = [photo]
        if has_painting:
            cells.append(load_image(case.painting) if case.painting else Image.new("RGB", (1, 1), "white"))
        pictures = ([ref.image] if ref is not None else []) + [cand.image]
        cells += pictures
        thumbs = [_thumb(img) for img in cells]
        crops = [_crop(img) for img in pictures]
        for c, img in enumerate(thumbs + crops):
            sheet.paste(img, (c * CELL + (CELL - img.width) // 2, top + header))
    return sheet


def _thumb(img: Image.Image) -> Image.Image:
    small = img.copy()
    small.thumbnail((CELL - 4, CELL - 4), Image.Resampling.LANCZOS)
    return small


def _crop(img: Image.Image) -> Image.Image:
    left, top = max(0, (img.width - CROP) // 2), max(0, (img.height - CROP) // 2)
    return img.crop((left, top, min(img.width, left + CROP), min(img.height, top + CROP)))


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")
