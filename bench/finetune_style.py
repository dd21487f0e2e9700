"""Fine-tune one of the 26 shipped styles to keep more of the photo while staying itself (issue 22, point 4).

The 26 styles have no paintings: a style is what the shipped network paints. So the style's target is its own
pictures of the shipped training photos (their mean Gram matrices, generator.ml.training), and the content
term weighs more than in a new style's training, so the style's scale and shift learn to let more of the photo
through. Only that style's scale and shift change. Judged on the evaluation sheet (photos never used in
training), by measures training never optimises: how much of a photo the style keeps
(generator.ml.compare.keeps_photo, 0..1), structure kept at print size against the shipped network, and how far
the style drifted from itself (Magenta style distance and palette distance between the two networks' pictures of
the same photo). The contact sheet (bench/out/finetune_<style>.png) has both, whole and at 1:1.

    python bench/finetune_style.py --style 3                       # Stained Glass, ~8 minutes on 2 cores
    python bench/finetune_style.py --style 17 --content-weight 4 --steps 800
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.ml import compare, engine, presets, training  # noqa: E402
from generator.ml.files import save_state  # noqa: E402
from generator.ml.loading import ModelSet, Weights, from_file  # noqa: E402
from generator.ml.weights import shipped  # noqa: E402

MODELS = shipped(ROOT / "var" / "cache" / "shipped-weights")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--style", type=int, required=True, help="the style's number, 0-25")
    parser.add_argument("--content-weight", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--side", type=int, default=1024, help="the evaluation sheet's long side")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    name = next((p.name for p in presets.PRESETS.values() if p.index == args.style), f"style {args.style}")
    torch.manual_seed(0)

    effnet = from_file(MODELS[("efficientnet_lite0", "")])
    photos = training.load_photos(training.training_photos())
    style = engine.Network("multistyle26", index=args.style)
    own = training.own_pictures(MODELS, args.style, photos)
    base = training.TrainSettings.defaults("multistyle26")
    settings = training.TrainSettings(**{**base.__dict__, "steps": args.steps, "content_weight": args.content_weight})
    print(f"{name} (style {args.style}): {settings}")
    trainer = training.Trainer(from_file(MODELS[("multistyle26", "")]), own, photos, effnet, settings, style=args.style)
    started = time.perf_counter()

    def report(step: training.Step) -> None:
        if step.step == 1 or step.step % max(1, args.steps // 6) == 0:
            print(f"  step {step.step:5d}  " + "  ".join(f"{k} {v:.3f}" for k, v in step.losses.items()))

    state = trainer.run(progress=report)
    print(f"  {args.steps} steps in {(time.perf_counter() - started) / 60:.1f} min")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tuned.safetensors"
        tuned = ModelSet.of(
            [
                Weights("multistyle26", path, save_state(state, path)),
                *(MODELS[k] for k in MODELS if k[0] != "multistyle26"),
            ]
        )
        before, after = compare.keeps_photo(MODELS, style), compare.keeps_photo(tuned, style)
        cases = compare.cases_for("multistyle26", styles=[(args.style, name)])
        result = compare.compare(
            cases, kind="multistyle26", candidate=tuned, reference=MODELS, judge=MODELS, side=args.side
        )
    mean, change = result.summary()["mean"], result.summary()["changes"]["structure"]
    print(f"  keeps the photo (sheet, 384 px): {before:.3f} -> {after:.3f}")
    print(
        f"  structure at {args.side} px: {mean['reference']['structure']:.3f} -> {mean['candidate']['structure']:.3f}"
        f" ({change['difference']:+.3f}, 95 % interval {change['low']:+.3f}..{change['high']:+.3f}: {change['is']})"
    )
    print(
        f"  drift from itself: Magenta style distance {mean['candidate']['style_drift']:.2f}, "
        f"palette {mean['candidate']['palette_drift']:.1f} ΔE"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    assert result.sheet is not None
    result.sheet.save(args.out / f"finetune_{args.style}.png")
    print(f"  contact sheet: {args.out / f'finetune_{args.style}.png'} (active = shipped, candidate = fine-tuned)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
