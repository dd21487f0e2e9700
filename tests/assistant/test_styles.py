"""How styles are ranked and how sure the answer says it is (assistant/ml/styles.py): fitted on a person's
choices, the validation split only; without enough of them, the nearest text alone, as before."""

from __future__ import annotations

import json

import pytest
import torch

from assistant.ml import styles


def synthetic(n: int, *, seed: int = 0) -> list[tuple[torch.Tensor, list[int]]]:
    """Ideas over 8 styles where only the fourth feature (movement) says which style suits: the nearest text is
    noise. A fit must learn to lean on the movement."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        x = torch.rand(8, len(styles.FEATURES), generator=g) * 0.1
        right = int(torch.randint(8, (1,), generator=g))
        x[right, 3] += 0.5
        out.append((x, [right]))
    return out


def top1(ranker: styles.StyleRanker, examples) -> float:
    return sum(int(ranker.logits(x).argmax()) in chosen for x, chosen in examples) / len(examples)


def test_a_fit_learns_which_feature_tells_the_suitable_style_and_its_confidence_is_calibrated():
    ranker = styles.fit(synthetic(60))
    held_out = synthetic(200, seed=1)

    assert ranker.fitted_on == 60 and ranker.weights[3] > abs(ranker.weights[0])
    assert top1(ranker, held_out) > 0.9 > top1(styles.NEAREST_ONLY, held_out)
    shares = [torch.softmax(ranker.logits(x), 0) for x, _ in held_out]
    said = torch.stack([ranker.confidence(s.max()) for s in shares])
    right = torch.tensor([float(int(s.argmax()) in c) for s, (_, c) in zip(shares, held_out, strict=True)])
    assert abs(float(said.mean()) - float(right.mean())) < 0.1  # as sure as it is right, on average
    assert bool(((said >= 0) & (said <= 1)).all())


def test_too_few_choices_leave_the_nearest_text_alone():
    assert styles.fit(synthetic(styles.MIN_IDEAS - 1)) is styles.NEAREST_ONLY
    share = torch.tensor([0.7, 0.2, 0.1])
    assert torch.equal(styles.NEAREST_ONLY.confidence(share), share)  # unfitted: the share as it is


def test_only_the_asked_split_is_read(tmp_path):
    path = tmp_path / "choices.jsonl"
    rows = [
        {"idea": "a", "styles": ["x"], "split": "validation"},
        {"idea": "b", "styles": ["y", "z"], "split": "test"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    assert styles.read_choices(path) == [("a", ["x"])]
    assert styles.read_choices(path, "test") == [("b", ["y", "z"])]


@pytest.mark.parametrize("split", ["validation", "test"])
def test_the_shipped_choices_name_only_shipped_styles_and_each_idea_once(split):
    from pathlib import Path

    from generator.ml import presets

    path = Path(__file__).resolve().parents[2] / "assistant" / "data" / "style_choices.jsonl"
    choices = styles.read_choices(path, split)
    assert len(choices) >= 30
    assert {s for _, chosen in choices for s in chosen} <= set(presets.PRESETS)
    everything = styles.read_choices(path, "validation") + styles.read_choices(path, "test")
    assert len({idea for idea, _ in everything}) == len(everything) >= 100
