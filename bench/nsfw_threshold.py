"""The nudity check's threshold, chosen on a labelled set: precision and recall at each candidate, every score listed.

The set (bench/data/nsfw/, its sources and licences in labels.csv) is public-domain art: nudes (paintings,
drawings, photographed sculpture) and pictures where such a model errs without nudity (bare shoulders, dancers,
flesh-toned still lifes, portraits, old photographs). The studio checks its *paintings*, so each picture is scored
as it is and as the studio would paint it in a few styles (the shipped networks, on the CPU), and the threshold is
read off what the studio scores: the photo a painting was made from and the painting, the higher of the two
(painted, a nude keeps its shapes but loses the skin the network looks for; the first run of this script showed
recall falling from 82 % to 19 % at 0.2). What the check is for decides the method: a flagged picture waits for an
admin, a missed one is public, so the threshold is the highest that still flags at least RECALL of the nudes; its
precision and false-positive rate are what admins pay for it.

    python bench/nsfw_threshold.py                    # the set, as it is and painted in three styles
    python bench/nsfw_threshold.py --styles ''        # as it is only
    python bench/nsfw_threshold.py --set DIR          # another set: DIR/labels.csv with file,label columns

Not covered, and said so in the README: photographs of real people (nude or sexual), which the set cannot
honestly include; open_nsfw was trained on such photographs, so they are where it is strongest.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SET = ROOT / "bench" / "data" / "nsfw"
STYLES = ("pop-outline", "sepia-oil", "shipwreck")  # a network style, a painterly one, a painting preset
CANDIDATES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
RECALL = 0.9


def scores(folder: Path, styles: tuple[str, ...], side: int) -> list[tuple[str, str, str, float]]:
    """(file, label, how it was shown, score) for every picture, as it is and painted in each style."""
    import torch
    from PIL import Image

    from gallery.ml.open_nsfw import preprocess
    from generator.ml import engine, weights
    from generator.ml.kinds import STUDIO_KINDS
    from generator.ml.loading import load

    cache = ROOT / "var" / "cache" / "shipped-weights"
    net = load(weights.shipped(cache, ["open_nsfw"])[("open_nsfw", "")], torch.device("cpu"))
    models = weights.shipped(cache, STUDIO_KINDS)
    rows = list(csv.DictReader((folder / "labels.csv").open(encoding="utf-8")))
    out = []
    with torch.inference_mode():
        for n, row in enumerate(rows, 1):
            picture = Image.open(folder / row["file"]).convert("RGB")
            shown = [("as it is", picture)]
            shown += [
                (style, engine.stylize(picture, style, models=models, max_side=side, device="cpu").image)
                for style in styles
            ]
            for how, image in shown:
                out.append((row["file"], row["label"], how, float(net(preprocess(image)).item())))
            print(f"\r   scored {n}/{len(rows)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return out


def report_at(rows: list[tuple[str, str, str, float]], t: float) -> None:
    positives = sum(1 for r in rows if r[1] == "nude")
    flagged = [r for r in rows if r[3] >= t]
    hits = sum(1 for r in flagged if r[1] == "nude")
    print(
        f"   at {t:.2f}: precision {hits / len(flagged):.0%}, recall {hits / positives:.0%}, "
        f"{len(flagged) - hits} of {len(rows) - positives} without nudity flagged "
        f"({(len(flagged) - hits) / (len(rows) - positives):.0%})"
    )
    missed = sorted({r[0] for r in rows if r[1] == "nude" and r[3] < t})
    wrong = sorted({r[0] for r in flagged if r[1] != "nude"})
    print(f"   nudes it misses: {', '.join(missed) or 'none'}")
    print(f"   pictures without nudity it flags: {', '.join(wrong) or 'none'}")


def report(rows: list[tuple[str, str, str, float]], label: str) -> None:
    positives = sum(1 for r in rows if r[1] == "nude")
    negatives = len(rows) - positives
    print(f"\n{label}: {len(rows)} pictures, {positives} nude, {negatives} without nudity")
    print("   threshold  flagged  precision  recall  false positives")
    for t in CANDIDATES:
        flagged = [r for r in rows if r[3] >= t]
        hits = sum(1 for r in flagged if r[1] == "nude")
        precision = hits / len(flagged) if flagged else 1.0
        print(
            f"   {t:9.2f}  {len(flagged):7d}  {precision:9.0%}  {hits / positives:6.0%}  "
            f"{len(flagged) - hits:4d} of {negatives} ({(len(flagged) - hits) / negatives:.0%})"
        )


def chosen(rows: list[tuple[str, str, str, float]]) -> float:
    """The highest threshold (in hundredths) that flags at least RECALL of the nudes: the score of the nude at
    that rank, rounded down."""
    positives = sorted((r[3] for r in rows if r[1] == "nude"), reverse=True)
    needed = math.ceil(RECALL * len(positives))
    return math.floor(positives[needed - 1] * 100) / 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=SET, help="a folder with labels.csv (file,label: nude or clothed)")
    parser.add_argument("--styles", default=",".join(STYLES), help="presets to paint each picture in, comma-separated")
    parser.add_argument("--side", type=int, default=512, help="the painted pictures' long side")
    args = parser.parse_args()
    styles = tuple(s for s in args.styles.split(",") if s)

    rows = scores(args.set, styles, args.side)
    print("Every score (file, label, shown as, score), the highest first:")
    for file, label, how, score in sorted(rows, key=lambda r: -r[3]):
        print(f"   {score:6.3f}  {label:<7}  {how:<12}  {file}")
    report([r for r in rows if r[2] == "as it is"], "As they are")
    checked = [r for r in rows if r[2] == "as it is"]
    if styles:
        report([r for r in rows if r[2] != "as it is"], f"Painted ({', '.join(styles)}), the painting alone")
        photo = {r[0]: r[3] for r in checked}
        checked = [(f, label, how, max(photo[f], score)) for f, label, how, score in rows if how != "as it is"]
        report(checked, "What the studio checks: the photo and its painting, the higher score")
    threshold = chosen(checked)
    print(f"\nThe highest threshold that flags at least {RECALL:.0%} of the nudes: {threshold:.2f}")
    report_at(checked, threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
