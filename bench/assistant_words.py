"""What the assistant writes, for every idea of an evaluation set: every item it would show, kept for reading,
and the share of them that rules call junk.

The ideas (assistant/data/eval_ideas.txt, 152 of them: short, long, odd, and some asking for violence or
nudity on purpose) and the pictures (a folder of photos and paintings, e.g. ../shared/data/photos and
../shared/data/styles) are kept apart from anything the assistant is tuned on. Each is answered as the
studio answers it (the shipped models, the writer's packed weights, the filters and the choice among
candidates), and every shown item is judged by rules the generator is not chosen by:

  cut off       a prompt or description that does not end a sentence
  repeat        an item said twice in one answer (titles, prompts, description)
  example       a word of the instruction's worked examples that the idea does not have
  unasked       violence, gore or sexual words that the idea does not have
  empty         a section with nothing in it (counted per answer, not per item)

    python bench/assistant_words.py                          # the 152 ideas (~30 min on 2 cores)
    python bench/assistant_words.py --pictures ../shared/data/photos ../shared/data/styles
    python bench/assistant_words.py --limit 20 --out answers.jsonl
    python bench/assistant_words.py --shard 0/2 --out a.jsonl &  # a process a core, then --shard 1/2 --out b.jsonl
    python bench/assistant_words.py --rejudge a.jsonl         # the rules again over a run's answers

Every answer goes to --out (JSON lines) to be read whole: the figures say how much is junk by these rules,
not whether the rest is worth reading.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IDEAS = ROOT / "assistant" / "data" / "eval_ideas.txt"
# Words an answer should not bring in unless the idea did: whole words ("skyscrapers" is not "rape")
UNASKED = re.compile(
    r"\b(?:kill\w*|murder\w*|blood\w*|gore|gory|corpses?|butcher\w*|slaughter\w*|stab\w*|wound\w*|tortur\w*"
    r"|eat you|naked|nude\w*|sex\w*|erotic\w*|breasts?|rape[ds]?|suicid\w*|weapons?|guns?|rifles?|knife|knives"
    r"|devour\w*)\b",
    re.IGNORECASE,
)
PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def judge(answer: dict, idea: str, telltales: set[str]) -> list[tuple[str, str, str]]:
    """(rule, section, item) for each shown item a rule calls junk, and each empty section."""
    from assistant.ml.prompting import _key, words

    found = []
    said: dict[str, str] = {}
    own = {w.split("'")[0].removesuffix("s") for w in words(idea)}
    for section in ("titles", "expansions", "description"):
        value = answer[section]
        items = [value] if isinstance(value, str) else list(value)
        items = [i for i in items if i]
        if not items:
            found.append(("empty", section, ""))
        for item in items:
            if section != "titles" and not re.search(r"[.!?…][\"”’')]*$", item.strip()):
                found.append(("cut off", section, item))
            key = _key(item)
            if key in said:
                found.append(("repeat", section, item))
            said[key] = section
            stems = {w.split("'")[0].removesuffix("s") for w in words(item)}
            if stems & (telltales - own):
                found.append(("example", section, item))
            asked_for = {m.lower() for m in UNASKED.findall(idea)}
            if any(m.lower() not in asked_for for m in UNASKED.findall(item)):
                found.append(("unasked", section, item))
    return found


def rejudge(path: Path) -> int:
    from assistant.ml import prompting

    telltales = set(prompting.TITLES.telltales | prompting.EXPANSIONS.telltales | prompting.DESCRIPTION.telltales)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    shown = sum(len(r["titles"]) + len(r["expansions"]) + (1 if r["description"] else 0) for r in rows)
    flagged = [(r["idea"], f) for r in rows for f in judge(r, r["idea"], telltales)]
    junk = len({(idea, s, i) for idea, (rule, s, i) in flagged if rule != "empty"})
    print(f"{len(rows)} answers, {shown} items shown, {junk} junk by the rules ({100 * junk / max(1, shown):.1f} %)")
    for idea, (rule, section, item) in flagged:
        print(f"- {rule} ({section}) for {idea[:50]!r}: {item[:120]!r}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pictures", nargs="*", default=[], help="folders of pictures to answer too")
    parser.add_argument("--limit", type=int, default=None, help="only the first N ideas")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "assistant-words.jsonl")
    parser.add_argument("--shard", default="0/1", help="K/N: answer only every N-th, from the K-th (a process a core)")
    parser.add_argument("--rejudge", type=Path, help="judge the answers of an earlier run again, writing nothing")
    args = parser.parse_args()
    if args.rejudge:
        return rejudge(args.rejudge)

    import torch

    from artstudio.serve import WRITER_THREADS
    from assistant.ml import picture, prompting
    from generator.ml import loading, weights

    # bench/assistant.py's load(): the shipped models, the style ranking fitted as the studio fits it
    spec = importlib.util.spec_from_file_location("bench_assistant", ROOT / "bench" / "assistant.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    torch.set_num_threads(WRITER_THREADS)  # as the studio's writer runs
    helper, models = bench.load()
    cpu = loading.resolve_device("cpu")
    writer = loading.load(models[("text_generator", "")], cpu).pack_for_cpu()
    net = None
    if args.pictures:
        shipped = weights.shipped(bench.WEIGHTS, kinds=("efficientnet_lite0",))
        net = loading.load(shipped[("efficientnet_lite0", "")], cpu)
    telltales = set(prompting.TITLES.telltales | prompting.EXPANSIONS.telltales | prompting.DESCRIPTION.telltales)

    asked = [("idea", line.strip()) for line in IDEAS.read_text(encoding="utf-8").splitlines() if line.strip()]
    asked = asked[: args.limit] if args.limit else asked
    for folder in args.pictures:
        asked += [("picture", str(p)) for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in PICTURE_SUFFIXES]

    k, n = (int(x) for x in args.shard.split("/"))
    asked = asked[k::n]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shown = junk = 0
    by_rule: dict[str, int] = {}
    seconds = []
    with open(args.out, "w", encoding="utf-8") as out:
        for kind, what in asked:
            idea = what
            if kind == "picture":
                from PIL import Image

                with Image.open(what) as img:
                    idea = picture.as_idea(picture.describe(img, net))
            analysis = helper.classify(idea)
            if not analysis.english:
                continue

            began = time.perf_counter()
            answer: dict = {"titles": [], "expansions": [], "description": ""}
            for section, items in prompting.write_all(
                writer, idea, analysis.labels(), rank=helper.closeness_to(idea), nearer=helper.nearer
            ):
                answer[section] = items
            seconds.append(time.perf_counter() - began)
            flagged = judge(answer, idea, telltales)
            items = len(answer["titles"]) + len(answer["expansions"]) + (1 if answer["description"] else 0)
            shown += items
            junk += len({(s, i) for rule, s, i in flagged if rule != "empty"})
            for rule, _s, _i in flagged:
                by_rule[rule] = by_rule.get(rule, 0) + 1
            record = {"kind": kind, "asked": what, "idea": idea, "labels": analysis.labels(), **answer}
            out.write(json.dumps({**record, "junk": flagged, "seconds": round(seconds[-1], 1)}) + "\n")
            out.flush()
            print(f"{len(seconds):3d} {seconds[-1]:5.1f}s {len(flagged)} flagged  {idea[:70]}", flush=True)

    print(f"\n## What the assistant wrote for {len(seconds)} ideas and pictures (every answer in {args.out})\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| items shown | {shown} | |")
    print(f"| junk by the rules | {junk} ({100 * junk / max(1, shown):.1f} %) | <= 5 % |")
    for rule in ("cut off", "repeat", "example", "unasked", "empty"):
        print(f"| {rule} | {by_rule.get(rule, 0)} | {'0' if rule in ('example', 'unasked') else ''} |")
    print(f"| seconds per answer, p50 (max) | {statistics.median(seconds):.1f} ({max(seconds):.1f}) | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
