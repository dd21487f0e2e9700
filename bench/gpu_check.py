"""Every engine check that needs a GPU, in one run, printing figures: ``python bench/gpu_check.py``.

1. Speed and memory on CUDA in half precision (the engine's GPU path): fast mode at each size with
   a built-in style, a painting and a single-style network; ms per picture (median of --reps, after
   a warm-up) and peak GPU memory; the same on the CPU at the first size as the baseline.
2. CPU-GPU parity: the same pictures painted on both devices, mean and max |difference| (0..1).
3. Quality mode at 1024 px on the GPU: seconds.
4. Memory is given back: allocated GPU memory after each job, against before the first.

``--device cpu`` runs the same code on the CPU (a dry run of this script where there is no GPU).
bench/gpu_check.sh runs this, then a job through a real worker (bench/e2e.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.ml import engine  # noqa: E402
from generator.ml.engine import Network  # noqa: E402
from generator.ml.files import save_state  # noqa: E402
from generator.ml.imaging import load_image  # noqa: E402
from generator.ml.loading import ModelSet, Weights  # noqa: E402
from generator.ml.nets.transformer_net import TransformerNet  # noqa: E402
from generator.ml.weights import shipped  # noqa: E402

ASSETS = ROOT / "generator" / "ml" / "assets"
PHOTO = ASSETS / "photos" / "chelsea.png"
PAINTING = ASSETS / "styles" / "starry_night.jpg"


def models_with_a_single_style(folder: Path) -> ModelSet:
    """The shipped networks plus a single-style network (random weights, scaled to paint at 0..255)."""
    torch.manual_seed(0)
    state = TransformerNet().state_dict()
    state["deconv3.conv2d.weight"] *= 300.0
    state["deconv3.conv2d.bias"] += 127.0
    path = folder / "single-style-check.safetensors"
    sha = save_state(state, path)
    base = shipped(folder)
    return ModelSet({**base, ("transformer_net", "check"): Weights("transformer_net", path, sha, "check")})


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(device: str, reps: int, run) -> tuple[float, object]:
    run()  # warm-up: kernels, cuDNN autotuning
    times, out = [], None
    for _ in range(reps):
        sync(device)
        t = time.perf_counter()
        out = run()
        sync(device)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--sides", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quality-side", type=int, default=1024)
    args = parser.parse_args()
    dev = args.device
    if dev == "cuda" and not torch.cuda.is_available():
        print("FAIL: no CUDA device is visible to torch", torch.__version__)
        return 1
    name = torch.cuda.get_device_name(0) if dev == "cuda" else "CPU"
    print(f"torch {torch.__version__}, device {name}")
    models = models_with_a_single_style(ROOT / "var" / "cache" / "shipped-weights")
    photo, painting = load_image(PHOTO), load_image(PAINTING)
    styles = {
        "built-in": "cobalt-strokes",
        "painting": painting,
        "single-style": Network("transformer_net", slot="check"),
    }
    failures = []

    def paint(style, side, device, **kw):
        return engine.stylize(photo, style, models=models, max_side=side, device=device, **kw)

    print(f"\n{'style':14s} {'side':>5s} {dev + ' ms':>9s} {'peak MiB':>9s} {'tiles':>5s}")
    baseline_allocated = torch.cuda.memory_allocated() if dev == "cuda" else 0
    for side in args.sides:
        for label, style in styles.items():
            if dev == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            ms, result = timed(dev, args.reps, lambda s=style, z=side: paint(s, z, dev))
            peak = torch.cuda.max_memory_allocated() / 2**20 if dev == "cuda" else float("nan")
            print(f"{label:14s} {side:5d} {ms:9.0f} {peak:9.0f} {result.tiles:5d}")
            if result.device != dev:
                failures.append(f"{label} at {side} ran on {result.device}, not {dev}")
            if dev == "cuda":
                torch.cuda.empty_cache()
                left = (torch.cuda.memory_allocated() - baseline_allocated) / 2**20
                if left > 512:
                    failures.append(f"{label} at {side}: {left:.0f} MiB still allocated after the job")

    side = args.sides[0]
    print(f"\nparity at {side} px, {dev} against cpu (0..1 units; half precision on the GPU)")
    for label, style in styles.items():
        cpu_ms, on_cpu = timed("cpu", 1, lambda s=style: paint(s, side, "cpu"))
        here = paint(style, side, dev)
        a = np.asarray(on_cpu.image, dtype=np.float32) / 255
        b = np.asarray(here.image, dtype=np.float32) / 255
        diff = np.abs(a - b)
        print(f"{label:14s} mean |diff| {diff.mean():.4f}  max {diff.max():.3f}  (cpu {cpu_ms:.0f} ms)")
        if diff.mean() > 0.02:
            failures.append(f"{label}: the {dev} picture differs from the CPU's by {diff.mean():.3f} on average")

    if dev == "cuda":  # a job too big for the card: the engine paints again in smaller tiles
        torch.cuda.empty_cache()
        _free, total = torch.cuda.mem_get_info()
        cap = (torch.cuda.memory_allocated() + (1 << 30)) / total  # what this process holds now, plus 1 GiB
        torch.cuda.set_per_process_memory_fraction(cap)
        try:
            t = time.perf_counter()
            # the finest brush paints at 1536 px, about 1.6 GB of activations; told it all fits in one pass
            big = paint("cobalt-strokes", 4096, dev, brush=0.25, memory_budget=64 << 30)
            print(
                f"\nout of memory at 4096 px, brush 0.25, with a 1 GiB cap: painted in {big.tiles} tiles "
                f"after retrying, "
                f"{time.perf_counter() - t:.1f} s"
            )
            if big.tiles < 2:
                failures.append("the capped 4096 px job did not fall back to tiles")
        except Exception as exc:  # noqa: BLE001 (a check: report whatever it was)
            failures.append(f"the capped 4096 px job failed instead of tiling: {exc}")
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0)
            torch.cuda.empty_cache()

    t = time.perf_counter()
    quality = paint(painting, args.quality_side, dev, mode="quality")
    print(f"\nquality mode, painting, {args.quality_side} px on {quality.device}: {time.perf_counter() - t:.1f} s")
    print("\n" + ("PASS" if not failures else "FAIL:\n- " + "\n- ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
