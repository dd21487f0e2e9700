"""Training benchmark (issue 22): how fast a style trains here, and how good a CPU-length run is.

1. Steps per second at 256 px (batch 2) for one style of the 26-style network (its scale and shift only) and for
   a single-style network, each beside the time the same machine takes to paint one 256 px crop with that network
   (so the figure travels: "a step costs N paintings").
2. A run of the CPU default length (generator.ml.training.TrainSettings.defaults) for one painting: one style of
   the 26-style network is trained on it (its scale and shift, from that style's values), with the loss printed.
3. The trained style against the arbitrary-style path painting the same painting, on the evaluation sheet's photos,
   by generator.ml.compare's measures (structure kept, Magenta style distance and palette distance to the
   painting, fine detail; the Gram loss that training minimises beside them), and a contact sheet
   (bench/out/train_sheet.png) with 1:1 crops to look at.

    python bench/train.py                                         # The Great Wave, ~10 minutes on 2 cores
    python bench/train.py --painting ../shared/data/styles/the_kiss.jpg --style 7 --steps 300
    python bench/train.py --speed-only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.ml import compare, engine, training  # noqa: E402
from generator.ml.files import save_state  # noqa: E402
from generator.ml.imaging import load_image  # noqa: E402
from generator.ml.loading import ModelSet, Weights, from_file  # noqa: E402
from generator.ml.nets.transformer_net import TransformerNet  # noqa: E402
from generator.ml.weights import shipped  # noqa: E402

MODELS = shipped(ROOT / "var" / "cache" / "shipped-weights")
DEFAULT_PAINTING = ROOT.parent / "shared" / "data" / "styles" / "great_wave.jpg"
CPU = torch.device("cpu")


def speed(effnet, painting, photos) -> None:
    settings = training.TrainSettings(size=256, batch=2, steps=10**6)
    crop = torch.rand(1, 3, 256, 256)
    for name, make, style in (
        ("26-style network, one style", lambda: from_file(MODELS[("multistyle26", "")]), 0),
        ("single-style network", TransformerNet, None),
    ):
        trainer = training.Trainer(make(), painting, photos, effnet, settings, style=style)
        for _ in range(2):  # warm-up
            trainer.train_step()
        started = time.perf_counter()
        for _ in range(8):
            trainer.train_step()
        step = (time.perf_counter() - started) / 8
        with torch.no_grad():
            trainer.net.eval()
            paints = []
            for _ in range(5):
                t = time.perf_counter()
                trainer.net(crop, trainer.condition)
                paints.append(time.perf_counter() - t)
            trainer.net.train()
        paint = statistics.median(paints)
        print(f"  {name:30s} {1 / step:6.2f} steps/s  (a step = {step / paint:5.1f} paintings of a 256 px crop)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--painting", type=Path, default=DEFAULT_PAINTING)
    parser.add_argument("--style", type=int, default=25, help="which of the 26 styles the painting is trained into")
    parser.add_argument("--steps", type=int, default=None, help="default: the CPU default length")
    parser.add_argument("--side", type=int, default=1024, help="the evaluation sheet's long side")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    if not args.painting.exists():
        print(f"No painting at {args.painting}: pass --painting PATH", file=sys.stderr)
        return 2

    torch.manual_seed(0)
    effnet = from_file(MODELS[("efficientnet_lite0", "")])
    painting = load_image(args.painting, what="painting")
    photos = training.load_photos(training.training_photos())
    print(f"torch threads: {torch.get_num_threads()}; photos: {len(photos)} shipped training photos")
    print("1. speed at 256 px, batch 2")
    speed(effnet, painting, photos)
    if args.speed_only:
        return 0

    settings = training.TrainSettings.defaults("multistyle26", CPU)
    if args.steps:
        settings = training.TrainSettings(**{**settings.__dict__, "steps": args.steps})
    print(f"2. a run: style {args.style} of the 26-style network on {args.painting.name}, {settings}")
    trainer = training.Trainer(
        from_file(MODELS[("multistyle26", "")]), painting, photos, effnet, settings, style=args.style
    )
    started = time.perf_counter()

    def report(step: training.Step) -> None:
        if step.step == 1 or step.step % max(1, settings.steps // 10) == 0:
            losses = "  ".join(f"{k} {v:.4f}" for k, v in step.losses.items())
            print(f"  step {step.step:5d}/{step.total}  {losses}  {step.seconds:6.0f} s")

    state = trainer.run(progress=report)
    took = time.perf_counter() - started
    print(f"  {settings.steps} steps in {took / 60:.1f} min ({settings.steps / took:.2f} steps/s)")

    print(f"3. the trained style against the arbitrary-style path painting {args.painting.name}, at {args.side} px")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trained.safetensors"
        sha = save_state(state, path)
        trained = ModelSet.of(
            [Weights("multistyle26", path, sha), *(MODELS[k] for k in MODELS if k[0] != "multistyle26")]
        )
        cases = [
            compare.Case(
                photo,
                engine.Network("multistyle26", index=args.style),
                args.painting.stem,
                painting=args.painting,
                against=args.painting.read_bytes(),
            )
            for photo in compare.SHEET_PHOTOS
        ]
        result = compare.compare(
            cases, kind="multistyle26", candidate=trained, reference=MODELS, judge=MODELS, side=args.side
        )
    summary = result.summary()
    mean = summary["mean"]
    print(f"  {'measure':10s} {'trained':>10s} {'arbitrary':>10s}")
    for m in ("structure", "ssim", "edges", "style", "palette", "fine", "gram", "seconds"):
        print(f"  {m:10s} {mean['candidate'][m]:10.4f} {mean['reference'][m]:10.4f}")
    for m, change in summary["changes"].items():
        interval = f"[{change['low']:+.4f}, {change['high']:+.4f}]"
        said = f"the trained style is {change['is']}"
        print(f"  {m}: trained minus arbitrary {change['difference']:+.4f} {interval}: {said}")
    print("  (style and palette: lower is nearer the painting; gram is what training minimised, not a judge)")
    args.out.mkdir(parents=True, exist_ok=True)
    assert result.sheet is not None
    result.sheet.save(args.out / "train_sheet.png")
    print(f"  contact sheet: {args.out / 'train_sheet.png'} (active = the arbitrary path, candidate = trained)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
