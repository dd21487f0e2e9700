"""Do two versions of the engine paint the same pictures? For refactors that must change no pixel.

    python bench/same_pictures.py paint OUT_DIR            # the fixed cases, painted by this checkout
    python bench/same_pictures.py compare DIR_A DIR_B      # max |diff| per case; exit 1 if any differs

Paint once in each checkout (e.g. a `git worktree` of the commit before, with the same .venv), then compare.
The cases cover every path of the engine: a painting, a network preset, a blend, strength and brush, the
photo's colours, print size (guided upsampling and the painting's marks) and quality mode, on the CPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ASSETS = REPO / "generator" / "ml" / "assets" / "photos"


def cases():
    from generator.ml.engine import Blend

    chelsea, astronaut = ASSETS / "chelsea.png", ASSETS / "astronaut.png"
    return {
        "painting": (chelsea, "starry-night", {}),
        "network": (astronaut, "pop-outline", {}),
        "blend": (chelsea, Blend((("starry-night", 0.6), ("udnie", 0.4))), {}),
        "strength_brush": (astronaut, "the-scream", {"strength": 0.5, "brush": 2.0}),
        "preserve_colours": (chelsea, "woman-with-a-hat", {"preserve_colors": True, "max_side": 768}),
        "print": (astronaut, "shipwreck", {"max_side": 1536}),
        "quality": (chelsea, "udnie", {"mode": "quality", "quality_steps": 6}),
    }


def paint(out: Path, weights: Path) -> None:
    import torch

    from generator.ml.engine import stylize
    from generator.ml.weights import shipped

    torch.manual_seed(0)
    models = shipped(weights)
    out.mkdir(parents=True, exist_ok=True)
    for name, (photo, style, options) in cases().items():
        image = stylize(photo, style, models=models, device="cpu", **{"max_side": 512, **options}).image
        np.save(out / f"{name}.npy", np.asarray(image))
        print(f"{name}: {image.width}x{image.height}", flush=True)


def compare(a: Path, b: Path) -> int:
    differ = 0
    for path in sorted(a.glob("*.npy")):
        if not (b / path.name).exists():
            differ += 1
            print(f"{path.stem:18s} missing from {b}")
            continue
        mine, theirs = np.load(path).astype(int), np.load(b / path.name).astype(int)
        worst = int(np.abs(mine - theirs).max()) if mine.shape == theirs.shape else -1
        differ += worst != 0
        print(f"{path.stem:18s} max |diff| {worst if worst >= 0 else 'sizes differ'}")
    print("SAME" if not differ else f"DIFFERENT: {differ} case(s)")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("paint")
    p.add_argument("out", type=Path)
    p.add_argument("--weights", type=Path, default=REPO / "var" / "cache" / "shipped-weights")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.action == "paint":
        paint(args.out, args.weights)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
